//! The reversible mapping between S3 keys and paths inside a bucket's directory.
//!
//! A key's `/`-separated segments become directories; the last segment names the object's files
//! (`{segment}._S3_object`, `.md5`, `.metadata.json`). Most segments are used verbatim. A segment
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
use std::path::{Path, PathBuf};

pub const OBJECT_SUFFIX: &str = "._S3_object";
pub const MD5_SUFFIX: &str = "._S3_object.md5";
pub const METADATA_SUFFIX: &str = "._S3_object.metadata.json";
/// Inside a hashed directory: the directory's real segment.
pub const SEGMENT_NAME_FILE: &str = "._S3_segment";
/// Bucket-level settings, at the top of the bucket directory; no key can produce this name.
pub const BUCKET_SETTINGS_FILE: &str = "._S3_bucket.json";

const MARKER: &str = "._S3_";
const ESCAPED_PREFIX: &str = "._S3_e";
const HASHED_PREFIX: &str = "._S3_h";
const MAX_NAME: usize = 255;
/// The longest suffix we append to an object's last segment.
const MAX_STEM: usize = MAX_NAME - METADATA_SUFFIX.len();

/// Bytes kept as they are inside an escaped segment; everything else is `%XX`.
const ESCAPE_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// How one segment is named on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentName {
    /// The on-disk name is fully decodable.
    Decoded(String),
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
pub fn decode_segment(name: &str) -> Option<SegmentName> {
    if let Some(rest) = name.strip_prefix(ESCAPED_PREFIX) {
        let decoded = percent_decode_str(rest).decode_utf8().ok()?;
        return Some(SegmentName::Decoded(decoded.into_owned()));
    }
    if name.starts_with(HASHED_PREFIX) {
        return Some(SegmentName::Hashed);
    }
    if name.contains(MARKER) {
        // One of our internal files or a foreign name: never a key segment.
        return None;
    }
    Some(SegmentName::Decoded(name.to_string()))
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

    pub fn data(&self) -> PathBuf {
        self.dir.join(format!("{}{OBJECT_SUFFIX}", self.stem))
    }

    pub fn md5(&self) -> PathBuf {
        self.dir.join(format!("{}{MD5_SUFFIX}", self.stem))
    }

    pub fn metadata(&self) -> PathBuf {
        self.dir.join(format!("{}{METADATA_SUFFIX}", self.stem))
    }
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
        p.data()
            .strip_prefix(bucket)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// Decodes a relative data path back into its key (hashed segments resolved by the caller).
    fn decode(rel: &str) -> String {
        let rel = rel.strip_suffix(OBJECT_SUFFIX).unwrap();
        rel.split('/')
            .map(|s| match decode_segment(s).unwrap() {
                SegmentName::Decoded(d) => d,
                SegmentName::Hashed => panic!("hashed"),
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    #[test]
    fn plain_keys_are_verbatim() {
        let b = Path::new("/data/bkt");
        assert_eq!(relative(b, "a"), "a._S3_object");
        assert_eq!(relative(b, "a/b/c.txt"), "a/b/c.txt._S3_object");
        assert_eq!(
            relative(b, "sp ace+plus%.txt"),
            "sp ace+plus%.txt._S3_object"
        );
        assert_eq!(relative(b, "ünï.txt"), "ünï.txt._S3_object");
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
            let data = paths.data();
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
        assert_eq!(decode_segment("a._S3_object.md5"), None);
    }

    #[test]
    fn over_long_segments_are_hashed_and_fit() {
        let b = Path::new("/data/bkt");
        let long = "x".repeat(600);
        let key = format!("{long}/{long}");
        let paths = ObjectPaths::for_key(b, &key);
        for c in paths.metadata().strip_prefix(b).unwrap().components() {
            assert!(c.as_os_str().len() <= 255);
        }
        assert_eq!(paths.dirs.len(), 1);
        assert_eq!(paths.dirs[0].1.as_deref(), Some(long.as_str()));
        assert!(is_hashed_dir_name(&paths.stem));
        // A long segment that fits verbatim stays verbatim.
        let fits = "y".repeat(200);
        assert_eq!(relative(b, &fits), format!("{fits}._S3_object"));
    }

    #[test]
    fn prefix_dirs_match_key_dirs() {
        let b = Path::new("/data/bkt");
        let p = ObjectPaths::for_key(b, "a//b/c");
        assert_eq!(dir_for_prefix(b, "a//b/"), p.dir);
        assert_eq!(dir_for_prefix(b, ""), b.to_path_buf());
    }
}
