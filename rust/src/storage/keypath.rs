//! The reversible mapping between S3 keys and paths inside a bucket's directory.
//!
//! A key's `/`-separated segments become directories; the last segment (the "stem") names the
//! key's files: its head record `{stem}._S3_key.json`, its data files `{stem}._S3_d{16 hex}`, and
//! its noncurrent version records in `._S3_versions/{stem}/`. Most segments are used verbatim. A segment
//! that could not be a file name, or could collide with one of ours, is escaped:
//!
//! * empty (`a//b`, `dir/`), `.`, `..`, containing NUL or the marker `._S3_` →
//!   `._S3_e` + percent-encoding of the segment (ASCII only, so it is portable);
//! * too long for a file name even after that → `._S3_h` + SHA-256 of the segment; the real segment
//!   is kept in a `._S3_segment` file inside such a directory, or in the object's metadata.
//!
//! Verbatim segments never contain `._S3_`, escaped ones always start with it, so the mapping is
//! injective, and no key can produce a path outside the bucket or one of our internal files.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// The head record of a key: its current version (see `record`).
pub const RECORD_SUFFIX: &str = "._S3_key.json";
/// Between a stem and the random hex of one of its data files.
const DATA_INFIX: &str = "._S3_d";
const DATA_RANDOM_LEN: usize = 16;
/// In every directory that has them: one directory per stem holding noncurrent version records.
pub const VERSIONS_DIR: &str = "._S3_versions";
/// The layout before version records (earlier v6 builds): data, ETag and metadata files. Read
/// only by the start-up upgrade; the names also bound how long a stem may be.
pub const LEGACY_OBJECT_SUFFIX: &str = "._S3_object";
pub const LEGACY_MD5_SUFFIX: &str = "._S3_object.md5";
pub const LEGACY_METADATA_SUFFIX: &str = "._S3_object.metadata.json";
/// Inside a hashed directory: the directory's real segment.
pub const SEGMENT_NAME_FILE: &str = "._S3_segment";
/// Bucket-level settings, at the top of the bucket directory; no key can produce this name.
pub const BUCKET_SETTINGS_FILE: &str = "._S3_bucket.json";

const MARKER: &str = "._S3_";
const ESCAPED_PREFIX: &str = "._S3_e";
const HASHED_PREFIX: &str = "._S3_h";
const MAX_NAME: usize = 255;
/// The longest suffix a stem ever had; kept so keys map to the names earlier builds gave them.
const MAX_STEM: usize = MAX_NAME - LEGACY_METADATA_SUFFIX.len();

/// Bytes kept as they are inside an escaped segment; everything else is `%XX`.
const ESCAPE_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// How one segment is named on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentName<'a> {
    /// The on-disk name is fully decodable (borrowed when it needed no decoding).
    Decoded(Cow<'a, str>),
    /// The on-disk name is a hash; the real segment must be looked up.
    Hashed,
}

/// Encodes one key segment into its on-disk name, given the room a name may take.
fn encode_segment(segment: &str, max_len: usize) -> (String, bool) {
    let needs_escape = segment.is_empty()
        || segment == "."
        || segment == ".."
        || segment.contains(MARKER)
        || segment.contains('\0');
    if !needs_escape && segment.len() <= max_len {
        return (segment.to_string(), false);
    }
    if needs_escape {
        let escaped = format!(
            "{ESCAPED_PREFIX}{}",
            utf8_percent_encode(segment, ESCAPE_SET)
        );
        if escaped.len() <= max_len {
            return (escaped, false);
        }
    }
    let hash = hex::encode(Sha256::digest(segment.as_bytes()));
    (format!("{HASHED_PREFIX}{hash}"), true)
}

/// Decodes an on-disk name (directory name or object stem) back into its segment.
pub fn decode_segment(name: &str) -> Option<SegmentName<'_>> {
    if let Some(rest) = name.strip_prefix(ESCAPED_PREFIX) {
        let decoded = percent_decode_str(rest).decode_utf8().ok()?;
        return Some(SegmentName::Decoded(decoded));
    }
    if name.starts_with(HASHED_PREFIX) {
        return Some(SegmentName::Hashed);
    }
    if name.contains(MARKER) {
        // One of our internal files or a foreign name: never a key segment.
        return None;
    }
    Some(SegmentName::Decoded(Cow::Borrowed(name)))
}

/// Where one object's files live.
#[derive(Debug, Clone)]
pub struct ObjectPaths {
    /// The directory holding the object's files.
    pub dir: PathBuf,
    /// The on-disk name of the last segment (without suffix).
    pub stem: String,
    /// Directories below the bucket, in creation order, with the real segment of hashed ones.
    pub dirs: Vec<(PathBuf, Option<String>)>,
}

impl ObjectPaths {
    pub fn for_key(bucket_dir: &Path, key: &str) -> Self {
        let mut segments: Vec<&str> = key.split('/').collect();
        let last = segments.pop().unwrap_or_default();
        let mut dir = bucket_dir.to_path_buf();
        let mut dirs = Vec::with_capacity(segments.len());
        for segment in segments {
            let (name, hashed) = encode_segment(segment, MAX_NAME);
            dir.push(name);
            dirs.push((dir.clone(), hashed.then(|| segment.to_string())));
        }
        let (stem, _) = encode_segment(last, MAX_STEM);
        Self { dir, stem, dirs }
    }

    /// The paths of the key whose stem `stem` lies in `dir` (for walks over the tree; `dirs`
    /// is empty, as nothing needs creating).
    pub fn for_stem(dir: &Path, stem: &str) -> Self {
        Self {
            dir: dir.to_path_buf(),
            stem: stem.to_string(),
            dirs: Vec::new(),
        }
    }

    /// The key's head record.
    pub fn record(&self) -> PathBuf {
        self.dir.join(format!("{}{RECORD_SUFFIX}", self.stem))
    }

    /// A fresh, unique name for a data file of this key.
    pub fn new_data_name(&self) -> String {
        format!("{}{DATA_INFIX}{:016x}", self.stem, rand::random::<u64>())
    }

    /// A data file named by one of this key's records; `None` for a name that is not one of its
    /// data files (a damaged record must not point outside the key's directory).
    pub fn data_file(&self, name: &str) -> Option<PathBuf> {
        let own = data_stem(name) == Some(self.stem.as_str())
            || name == format!("{}{LEGACY_OBJECT_SUFFIX}", self.stem);
        own.then(|| self.dir.join(name))
    }

    /// Where the key's noncurrent version records live.
    pub fn versions_dir(&self) -> PathBuf {
        self.dir.join(VERSIONS_DIR).join(&self.stem)
    }

    pub fn legacy_data(&self) -> PathBuf {
        self.dir
            .join(format!("{}{LEGACY_OBJECT_SUFFIX}", self.stem))
    }

    pub fn legacy_md5(&self) -> PathBuf {
        self.dir.join(format!("{}{LEGACY_MD5_SUFFIX}", self.stem))
    }

    pub fn legacy_metadata(&self) -> PathBuf {
        self.dir
            .join(format!("{}{LEGACY_METADATA_SUFFIX}", self.stem))
    }
}

/// The stem of a data file's name (`{stem}._S3_d{16 hex}`), if it is one.
pub fn data_stem(name: &str) -> Option<&str> {
    let split = name.len().checked_sub(DATA_RANDOM_LEN + DATA_INFIX.len())?;
    let (stem, tail) = name.split_at_checked(split)?;
    let random = tail.strip_prefix(DATA_INFIX)?;
    random
        .bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then_some(stem)
}

/// The directory that holds every key starting with `dir_prefix` (which ends with `/` or is
/// empty), i.e. the directory of the prefix's complete segments.
pub fn dir_for_prefix(bucket_dir: &Path, dir_prefix: &str) -> PathBuf {
    let mut dir = bucket_dir.to_path_buf();
    if let Some(stripped) = dir_prefix.strip_suffix('/') {
        for segment in stripped.split('/') {
            dir.push(encode_segment(segment, MAX_NAME).0);
        }
    }
    dir
}

/// Whether a directory name is one of our hashed names (kept when pruning: it holds its name file).
pub fn is_hashed_dir_name(name: &str) -> bool {
    name.starts_with(HASHED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relative(bucket: &Path, key: &str) -> String {
        let p = ObjectPaths::for_key(bucket, key);
        p.record()
            .strip_prefix(bucket)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// Decodes a relative data path back into its key (hashed segments resolved by the caller).
    fn decode(rel: &str) -> String {
        let rel = rel.strip_suffix(RECORD_SUFFIX).unwrap();
        rel.split('/')
            .map(|s| match decode_segment(s).unwrap() {
                SegmentName::Decoded(d) => d.into_owned(),
                SegmentName::Hashed => panic!("hashed"),
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn plain_keys_are_verbatim() {
        let b = Path::new("/data/bkt");
        assert_eq!(relative(b, "a"), "a._S3_key.json");
        assert_eq!(relative(b, "a/b/c.txt"), "a/b/c.txt._S3_key.json");
        assert_eq!(
            relative(b, "sp ace+plus%.txt"),
            "sp ace+plus%.txt._S3_key.json"
        );
        assert_eq!(relative(b, "ünï.txt"), "ünï.txt._S3_key.json");
    }

    #[test]
    fn hostile_keys_round_trip_and_stay_inside() {
        let b = Path::new("/data/bkt");
        let keys = [
            "..",
            ".",
            "../x",
            "../../escape.txt",
            "a/./b",
            "a/../b",
            "x//y",
            "/leading",
            "dir/",
            "//",
            "",
            "a\0b",
            "k._S3_object",
            "k._S3_object/inner",
            "._S3_segment",
            "._S3_bucket.json",
            "._S3_e",
            "%41",
            "a/%2e%2e/b",
        ];
        let mut seen = std::collections::HashSet::new();
        for key in keys {
            let paths = ObjectPaths::for_key(b, key);
            let data = paths.record();
            assert!(data.starts_with(b), "{key:?} escaped to {data:?}");
            for component in data.strip_prefix(b).unwrap().components() {
                assert!(
                    matches!(component, std::path::Component::Normal(_)),
                    "{key:?} has a non-normal component in {data:?}"
                );
            }
            let rel = relative(b, key);
            assert_eq!(decode(&rel), key, "round trip of {key:?} via {rel:?}");
            assert!(seen.insert(rel), "two keys share a path");
        }
    }

    #[test]
    fn internal_names_never_decode_to_keys() {
        assert_eq!(decode_segment("._S3_segment"), None);
        assert_eq!(decode_segment("._S3_bucket.json"), None);
        assert_eq!(decode_segment(VERSIONS_DIR), None);
        assert_eq!(decode_segment("a._S3_object.md5"), None);
    }

    #[test]
    fn over_long_segments_are_hashed_and_fit() {
        let b = Path::new("/data/bkt");
        let long = "x".repeat(600);
        let key = format!("{long}/{long}");
        let paths = ObjectPaths::for_key(b, &key);
        for c in paths
            .legacy_metadata()
            .strip_prefix(b)
            .unwrap()
            .components()
        {
            assert!(c.as_os_str().len() <= 255);
        }
        assert_eq!(paths.dirs.len(), 1);
        assert_eq!(paths.dirs[0].1.as_deref(), Some(long.as_str()));
        assert!(is_hashed_dir_name(&paths.stem));
        // A long segment that fits verbatim stays verbatim.
        let fits = "y".repeat(200);
        assert_eq!(relative(b, &fits), format!("{fits}._S3_key.json"));
    }

    #[test]
    fn data_files_belong_to_their_stem_only() {
        let b = Path::new("/data/bkt");
        for key in ["a", "..", "dir/", "x._S3_dabc", &"z".repeat(400)] {
            let paths = ObjectPaths::for_key(b, key);
            let name = paths.new_data_name();
            assert!(name.len() <= 255);
            assert_eq!(data_stem(&name), Some(paths.stem.as_str()));
            assert_eq!(paths.data_file(&name), Some(paths.dir.join(&name)));
            assert_ne!(name, paths.new_data_name(), "names are unique");
        }
        let a = ObjectPaths::for_key(b, "a");
        let other = ObjectPaths::for_key(b, "b").new_data_name();
        assert_eq!(a.data_file(&other), None);
        assert_eq!(a.data_file("../../etc/passwd"), None);
        assert_eq!(a.data_file("a._S3_object"), Some(b.join("a._S3_object")));
        assert_eq!(data_stem("a._S3_key.json"), None);
    }

    #[test]
    fn prefix_dirs_match_key_dirs() {
        let b = Path::new("/data/bkt");
        let p = ObjectPaths::for_key(b, "a//b/c");
        assert_eq!(dir_for_prefix(b, "a//b/"), p.dir);
        assert_eq!(dir_for_prefix(b, ""), b.to_path_buf());
    }
}
