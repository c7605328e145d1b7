//! Start-up care of the layout: upgrading objects of earlier v6 builds to version records, and
//! removing what an interrupted run left behind.
//!
//! A crash can never make a key read wrong (the record's rename is the only commit), but it can
//! leave garbage: a data file moved into place whose record was never renamed, or the data of a
//! replaced version not yet removed. The check runs when the store was not closed cleanly (the
//! `.clean` marker is missing) or was written by a build before records (`.layout` missing), and
//! walks every bucket once, one directory at a time.

use super::keypath::{
    data_stem, ObjectPaths, LEGACY_MD5_SUFFIX, LEGACY_METADATA_SUFFIX, LEGACY_OBJECT_SUFFIX,
    RECORD_SUFFIX, VERSIONS_DIR,
};
use super::objects::ensure_dirs;
use super::record::{self, VersionRecord, NULL_VERSION};
use super::temp::unique_path;
use super::{is_missing, ObjectMetadata};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// Written when the store closes cleanly; removed when it opens.
pub const CLEAN_FILE: &str = ".clean";
/// Written once the tree holds only version records (its content: the layout's number).
pub const LAYOUT_FILE: &str = ".layout";
const LAYOUT: &str = "records-1";

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Objects of the earlier layout given a record.
    pub upgraded: usize,
    /// Unreferenced data files and leftover legacy files removed.
    pub removed: usize,
    /// Legacy objects left as they were because they could not be read.
    pub skipped: usize,
}

/// Whether the tree must be checked before serving, and forgets the clean marker (a crash from
/// now on must be noticed at the next start).
pub fn needs_check(root: &Path) -> io::Result<bool> {
    let layout_current = match fs::read_to_string(root.join(LAYOUT_FILE)) {
        Ok(text) => text.trim() == LAYOUT,
        Err(e) if is_missing(&e) => false,
        Err(e) => return Err(e),
    };
    let clean = match fs::remove_file(root.join(CLEAN_FILE)) {
        Ok(()) => true,
        Err(e) if is_missing(&e) => false,
        Err(e) => return Err(e),
    };
    Ok(!layout_current || !clean)
}

pub fn mark_layout(root: &Path) -> io::Result<()> {
    fs::write(root.join(LAYOUT_FILE), LAYOUT)
}

pub fn mark_clean(root: &Path) -> io::Result<()> {
    fs::write(root.join(CLEAN_FILE), b"")
}

/// Checks every bucket under `root` (buckets are its non-hidden directories).
pub fn check_tree(root: &Path, tmp: &Path) -> io::Result<CheckReport> {
    let mut report = CheckReport::default();
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') || !entry.file_type()?.is_dir() {
            continue;
        }
        let mut dirs = vec![entry.path()];
        while let Some(dir) = dirs.pop() {
            check_dir(&dir, tmp, &mut report, &mut dirs)?;
        }
    }
    Ok(report)
}

/// What one directory holds, by stem.
#[derive(Default)]
struct Stems {
    records: BTreeSet<String>,
    data: BTreeMap<String, Vec<String>>,
    legacy: BTreeSet<String>,
    legacy_leftovers: Vec<String>,
}

fn check_dir(
    dir: &Path,
    tmp: &Path,
    report: &mut CheckReport,
    subdirs: &mut Vec<std::path::PathBuf>,
) -> io::Result<()> {
    let mut stems = Stems::default();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if entry.file_type()?.is_dir() {
            if name == VERSIONS_DIR {
                for stem in fs::read_dir(entry.path())? {
                    if let Ok(stem) = stem?.file_name().into_string() {
                        let paths = ObjectPaths::for_stem(dir, &stem);
                        report.removed += remove_uncommitted_versions(&paths)?;
                    }
                }
            } else {
                subdirs.push(entry.path());
            }
        } else if let Some(stem) = name.strip_suffix(RECORD_SUFFIX) {
            stems.records.insert(stem.to_string());
        } else if let Some(stem) = data_stem(&name) {
            stems.data.entry(stem.to_string()).or_default().push(name);
        } else if let Some(stem) = name.strip_suffix(LEGACY_OBJECT_SUFFIX) {
            stems.legacy.insert(stem.to_string());
        } else if name.ends_with(LEGACY_MD5_SUFFIX) || name.ends_with(LEGACY_METADATA_SUFFIX) {
            stems.legacy_leftovers.push(name);
        }
    }

    for stem in &stems.legacy {
        let paths = ObjectPaths::for_stem(dir, stem);
        if stems.records.contains(stem) {
            continue;
        }
        match upgrade_legacy(&paths, tmp) {
            Ok(()) => {
                stems.records.insert(stem.clone());
                report.upgraded += 1;
            }
            Err(e) => {
                tracing::warn!(
                    "left {} as it was: cannot upgrade it: {e}",
                    paths.legacy_data().display()
                );
                report.skipped += 1;
            }
        }
    }
    // The ETag and metadata files of the earlier layout, once their object has a record (or
    // when their data is gone: the earlier layout read that as a missing key).
    for name in &stems.legacy_leftovers {
        let stem = name
            .strip_suffix(LEGACY_MD5_SUFFIX)
            .or_else(|| name.strip_suffix(LEGACY_METADATA_SUFFIX))
            .unwrap_or(name);
        if stems.records.contains(stem) || !stems.legacy.contains(stem) {
            remove(&dir.join(name), report)?;
        }
    }

    for stem in stems.data.keys().chain(stems.legacy.iter()) {
        let paths = ObjectPaths::for_stem(dir, stem);
        // An unreadable record keeps all of its stem's data: we cannot tell which file it names.
        let Some(referenced) = referenced_data(&paths)? else {
            continue;
        };
        let mut unreferenced: Vec<String> = stems.data.get(stem).cloned().unwrap_or_default();
        // Legacy data without a record was left for a later start (it could not be upgraded).
        if stems.legacy.contains(stem) && stems.records.contains(stem) {
            unreferenced.push(format!("{stem}{LEGACY_OBJECT_SUFFIX}"));
        }
        for name in unreferenced.iter().filter(|n| !referenced.contains(*n)) {
            remove(&dir.join(name), report)?;
        }
    }
    Ok(())
}

/// Resolves what a crash left between the steps of a change to a key's versions: removes the
/// noncurrent records that were never committed (one with the head's version id, or newer
/// than the head; every reader already ignores them), and moves a committed staged record
/// over the one it replaces. Data only removed records named then goes with the data check.
fn remove_uncommitted_versions(paths: &ObjectPaths) -> io::Result<usize> {
    // An unreadable head leaves its versions as they are: we cannot tell what counts.
    let Ok(head) = record::read(&paths.record()) else {
        return Ok(0);
    };
    let mut removed = 0;
    let mut staged = Vec::new();
    for entry in fs::read_dir(paths.versions_dir())? {
        let path = entry?.path();
        let Ok(Some(noncurrent)) = record::read(&path) else {
            continue;
        };
        if super::versions::uncommitted(head.as_ref(), &noncurrent) {
            fs::remove_file(&path)?;
            removed += 1;
        } else if path
            .to_string_lossy()
            .ends_with(super::versions::STAGED_SUFFIX)
        {
            staged.push(noncurrent.version_id);
        }
    }
    for id in staged {
        super::versions::replace_with_staged(paths, &id)?;
        removed += 1;
    }
    Ok(removed)
}

/// The data files named by a stem's records; `None` when one of them cannot be read.
fn referenced_data(paths: &ObjectPaths) -> io::Result<Option<BTreeSet<String>>> {
    let mut names = BTreeSet::new();
    let mut records = vec![paths.record()];
    match fs::read_dir(paths.versions_dir()) {
        Ok(entries) => {
            for entry in entries {
                records.push(entry?.path());
            }
        }
        Err(e) if is_missing(&e) => {}
        Err(e) => return Err(e),
    }
    for path in records {
        match record::read(&path) {
            Ok(Some(r)) => {
                names.insert(r.data);
            }
            Ok(None) => {}
            Err(e) if e.kind() == io::ErrorKind::InvalidData => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(names))
}

fn remove(path: &Path, report: &mut CheckReport) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {
            report.removed += 1;
            Ok(())
        }
        Err(e) if is_missing(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Gives an object of the earlier layout (data, `.md5` and `.metadata.json` files) a record that
/// names its data file where it lies. The record's rename is the whole upgrade; the old ETag and
/// metadata files are removed afterwards.
fn upgrade_legacy(paths: &ObjectPaths, tmp: &Path) -> io::Result<()> {
    let data = paths.legacy_data();
    let stat = fs::metadata(&data)?;
    let metadata: ObjectMetadata = match fs::read(paths.legacy_metadata()) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
        Err(e) if is_missing(&e) => ObjectMetadata::default(),
        Err(e) => return Err(e),
    };
    if metadata.key.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "its metadata does not name its key",
        ));
    }
    let etag = match fs::read_to_string(paths.legacy_md5()) {
        Ok(text) if !text.trim().is_empty() => text.trim().to_string(),
        Ok(_) => file_md5(&data)?,
        Err(e) if is_missing(&e) => file_md5(&data)?,
        Err(e) => return Err(e),
    };
    let record = VersionRecord {
        version_id: NULL_VERSION.to_string(),
        delete_marker: false,
        data: format!("{}{LEGACY_OBJECT_SUFFIX}", paths.stem),
        etag,
        size: stat.len(),
        modified_ns: record::nanos_since_epoch(stat.modified()?),
        metadata,
    };
    write_record(paths, &record, tmp)?;
    for leftover in [paths.legacy_md5(), paths.legacy_metadata()] {
        match fs::remove_file(leftover) {
            Ok(()) => {}
            Err(e) if is_missing(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn write_record(paths: &ObjectPaths, record: &VersionRecord, tmp: &Path) -> io::Result<()> {
    let aside = unique_path(tmp, "record");
    fs::write(&aside, record.to_json()?)?;
    fs::rename(&aside, paths.record()).inspect_err(|_| {
        let _ = fs::remove_file(&aside);
    })
}

/// Makes `file` the current (`null`) version of `bucket_dir`/`key`, for the v2 upgrade: the
/// file is hard-linked under a fresh data name, so the source stays whole until the record is
/// committed; the caller removes the source afterwards. A version it replaces is removed.
pub fn adopt_file(
    bucket_dir: &Path,
    key: &str,
    file: &Path,
    etag: String,
    mut metadata: ObjectMetadata,
    tmp: &Path,
) -> io::Result<()> {
    let paths = ObjectPaths::for_key(bucket_dir, key);
    ensure_dirs(bucket_dir, &paths, tmp, false).map_err(|e| match e {
        super::StorageError::Io(e) => e,
        other => io::Error::other(other.to_string()),
    })?;
    let previous = record::read(&paths.record()).ok().flatten();
    let data = paths.new_data_name();
    let target = paths.dir.join(&data);
    fs::hard_link(file, &target)?;
    let stat = fs::metadata(&target)?;
    metadata.key = key.to_string();
    let record = VersionRecord {
        version_id: NULL_VERSION.to_string(),
        delete_marker: false,
        data,
        etag,
        size: stat.len(),
        modified_ns: record::nanos_since_epoch(stat.modified()?),
        metadata,
    };
    if let Err(e) = write_record(&paths, &record, tmp) {
        let _ = fs::remove_file(&target);
        return Err(e);
    }
    if let Some(old) = previous.and_then(|p| paths.data_file(&p.data)) {
        let _ = fs::remove_file(old);
    }
    Ok(())
}

/// The MD5 of a file, hex, read in fixed-size pieces.
pub fn file_md5(path: &Path) -> io::Result<String> {
    use md5::{Digest, Md5};
    let mut file = fs::File::open(path)?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::keypath::ObjectPaths;

    fn write(path: &Path, content: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn legacy_object(bucket: &Path, key: &str, body: &[u8], md5: Option<&str>) -> ObjectPaths {
        let paths = ObjectPaths::for_key(bucket, key);
        write(&paths.legacy_data(), body);
        if let Some(md5) = md5 {
            write(&paths.legacy_md5(), md5.as_bytes());
        }
        let meta = ObjectMetadata {
            key: key.to_string(),
            headers: [("content-type".to_string(), "text/plain".to_string())].into(),
            ..Default::default()
        };
        write(
            &paths.legacy_metadata(),
            &serde_json::to_vec(&meta).unwrap(),
        );
        paths
    }

    #[test]
    fn objects_of_the_earlier_layout_get_records_once() {
        let root = tempfile::tempdir().unwrap();
        let tmp = root.path().join(".tmp");
        fs::create_dir_all(&tmp).unwrap();
        let b = root.path().join("b");
        let a = legacy_object(&b, "a", b"alpha", Some("stored-etag"));
        let nested = legacy_object(&b, "x/y/z", b"nested", None);
        // Metadata without data: the earlier layout read it as a missing key.
        write(&ObjectPaths::for_key(&b, "gone").legacy_metadata(), b"{}");

        assert!(needs_check(root.path()).unwrap());
        let report = check_tree(root.path(), &tmp).unwrap();
        assert_eq!((report.upgraded, report.skipped), (2, 0));
        let (record, data) = record::current(&b, "a").unwrap().unwrap();
        assert_eq!(fs::read(data).unwrap(), b"alpha");
        assert_eq!(record.etag, "stored-etag");
        assert_eq!(record.size, 5);
        assert_eq!(record.metadata.headers["content-type"], "text/plain");
        let (record, _) = record::current(&b, "x/y/z").unwrap().unwrap();
        assert_eq!(
            record.etag,
            hex::encode(<md5::Md5 as md5::Digest>::digest(b"nested"))
        );
        for leftover in [
            a.legacy_md5(),
            a.legacy_metadata(),
            nested.legacy_metadata(),
            ObjectPaths::for_key(&b, "gone").legacy_metadata(),
        ] {
            assert!(!leftover.exists(), "{} removed", leftover.display());
        }
        mark_layout(root.path()).unwrap();
        mark_clean(root.path()).unwrap();
        assert!(
            !needs_check(root.path()).unwrap(),
            "a clean, upgraded store"
        );
        assert!(
            needs_check(root.path()).unwrap(),
            "opened and not closed since"
        );
        assert_eq!(
            check_tree(root.path(), &tmp).unwrap(),
            CheckReport::default()
        );
    }

    #[test]
    fn data_no_record_names_is_removed_and_named_data_kept() {
        let root = tempfile::tempdir().unwrap();
        let tmp = root.path().join(".tmp");
        fs::create_dir_all(&tmp).unwrap();
        let b = root.path().join("b");
        fs::create_dir_all(&b).unwrap();
        let source = tmp.join("source");
        fs::write(&source, b"current").unwrap();
        adopt_file(
            &b,
            "k",
            &source,
            "e".into(),
            ObjectMetadata::default(),
            &tmp,
        )
        .unwrap();
        let paths = ObjectPaths::for_key(&b, "k");
        // A crash after a data file moved in but before its record was renamed, and one after
        // an overwrite committed but before the old data was removed.
        let uncommitted = paths.dir.join(paths.new_data_name());
        let replaced = paths.dir.join(paths.new_data_name());
        fs::write(&uncommitted, b"never committed").unwrap();
        fs::write(&replaced, b"old version").unwrap();
        let orphan = ObjectPaths::for_key(&b, "never/was");
        let orphan_data = orphan.dir.join(orphan.new_data_name());
        write(&orphan_data, b"no record at all");

        let report = check_tree(root.path(), &tmp).unwrap();
        assert_eq!(report.removed, 3);
        assert!(!uncommitted.exists() && !replaced.exists() && !orphan_data.exists());
        let (record, data) = record::current(&b, "k").unwrap().unwrap();
        assert_eq!(fs::read(data).unwrap(), b"current");
        assert_eq!(record.metadata.key, "k");
    }

    #[test]
    fn noncurrent_records_a_crash_left_uncommitted_are_removed_with_their_data() {
        let root = tempfile::tempdir().unwrap();
        let tmp = root.path().join(".tmp");
        fs::create_dir_all(&tmp).unwrap();
        let b = root.path().join("b");
        let paths = ObjectPaths::for_key(&b, "k");
        fs::create_dir_all(paths.versions_dir()).unwrap();
        let version = |id: &str, modified_ns: u64| {
            let data = paths.new_data_name();
            fs::write(paths.dir.join(&data), id).unwrap();
            VersionRecord {
                version_id: id.to_string(),
                delete_marker: false,
                data,
                etag: String::new(),
                size: id.len() as u64,
                modified_ns,
                metadata: ObjectMetadata::default(),
            }
        };
        let keep = |r: &VersionRecord| {
            let path = paths.versions_dir().join(format!("{}.json", r.version_id));
            fs::write(path, r.to_json().unwrap()).unwrap();
        };
        let head = version(&"a".repeat(32), 20);
        fs::write(paths.record(), head.to_json().unwrap()).unwrap();
        let older = version(&"b".repeat(32), 10);
        let newer = version(&"c".repeat(32), 30);
        keep(&older);
        keep(&newer);
        keep(&head);
        check_tree(root.path(), &tmp).unwrap();
        let left: Vec<_> = fs::read_dir(paths.versions_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec![format!("{}.json", older.version_id)]);
        assert!(paths.dir.join(&older.data).exists());
        assert!(paths.dir.join(&head.data).exists());
        assert!(
            !paths.dir.join(&newer.data).exists(),
            "only an uncommitted record named it"
        );
    }

    #[test]
    fn a_committed_staged_marker_replaces_the_record_it_was_staged_for() {
        let root = tempfile::tempdir().unwrap();
        let tmp = root.path().join(".tmp");
        fs::create_dir_all(&tmp).unwrap();
        let b = root.path().join("b");
        let paths = ObjectPaths::for_key(&b, "k");
        fs::create_dir_all(paths.versions_dir()).unwrap();
        // What a crash leaves after a suspended bucket's DELETE unlinked the head (its
        // commit) and before the staged `null` marker moved over the old `null` record.
        let old_data = paths.new_data_name();
        fs::write(paths.dir.join(&old_data), b"old null").unwrap();
        let record = |delete_marker: bool, data: &str, modified_ns: u64| VersionRecord {
            version_id: NULL_VERSION.to_string(),
            delete_marker,
            data: data.to_string(),
            etag: String::new(),
            size: 0,
            modified_ns,
            metadata: ObjectMetadata::default(),
        };
        let versions = paths.versions_dir();
        let old = record(false, &old_data, 10);
        fs::write(versions.join("null.json"), old.to_json().unwrap()).unwrap();
        let marker = record(true, "", 30);
        let staged = versions.join(format!("null{}", crate::storage::versions::STAGED_SUFFIX));
        fs::write(&staged, marker.to_json().unwrap()).unwrap();
        let found = crate::storage::versions::find(&paths, NULL_VERSION).unwrap();
        assert!(
            found.unwrap().delete_marker,
            "readers already see the marker"
        );
        let counted = crate::storage::versions::noncurrent(&paths, None).unwrap();
        assert_eq!(counted.len(), 1);

        check_tree(root.path(), &tmp).unwrap();
        assert!(!staged.exists());
        let settled = record::read(&versions.join("null.json")).unwrap().unwrap();
        assert!(settled.delete_marker);
        assert!(
            !paths.dir.join(&old_data).exists(),
            "the old null's data went"
        );
    }

    #[test]
    fn an_unreadable_record_keeps_its_data() {
        let root = tempfile::tempdir().unwrap();
        let tmp = root.path().join(".tmp");
        fs::create_dir_all(&tmp).unwrap();
        let b = root.path().join("b");
        let paths = ObjectPaths::for_key(&b, "k");
        write(&paths.record(), b"{damaged");
        let data = paths.dir.join(paths.new_data_name());
        fs::write(&data, b"maybe named").unwrap();
        check_tree(root.path(), &tmp).unwrap();
        assert!(data.exists());
    }
}
