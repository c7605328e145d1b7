//! Noncurrent versions of a key, for buckets with versioning: one record per version in
//! `{dir}/._S3_versions/{stem}/{version_id}.json`; their data files stay beside the head record.
//!
//! The head record is always the newest version of a key whose latest version is an object; a
//! key whose latest version is a delete marker has no head record, the marker being its newest
//! noncurrent record. Each change has one commit step (a rename or an unlink of a head record,
//! or the rename of a noncurrent one); what a crash can leave around it is resolved the same
//! way by every reader: a noncurrent record with the head's version id, or newer than the head,
//! was never committed and does not count; of two records with one version id, the newer counts.
//!
//! That last rule serves the one change that replaces two records: a DELETE in a suspended
//! bucket whose head is not `null` keeps the head and writes a `null` marker that replaces an
//! older noncurrent `null`. The marker is staged as `{id}.next.json` (newer than the head, so
//! it does not count yet), the head's unlink commits it, and `replace_with_staged` then renames
//! it over the old record (recovery does that when a crash came first).

use super::is_missing;
use super::keypath::ObjectPaths;
use super::record::{self, VersionRecord, NULL_VERSION};
use std::io;
use std::path::{Path, PathBuf};

/// A bucket's versioning state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// Never enabled: every object is the `null` version and is replaced in place.
    Off,
    Enabled,
    /// Was enabled: new writes replace the `null` version, older versions are kept.
    Suspended,
}

/// A version id as this server makes them (32 hex digits) or `null`. Anything else names no
/// version, and must never become a file name.
pub fn is_valid_id(id: &str) -> bool {
    id == NULL_VERSION || (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The one rule for what a crash left between the steps of a change (see the module docs): a
/// noncurrent record with the head's version id, or newer than the head, was never committed.
pub fn uncommitted(head: Option<&VersionRecord>, noncurrent: &VersionRecord) -> bool {
    head.is_some_and(|h| {
        h.version_id == noncurrent.version_id || noncurrent.modified_ns > h.modified_ns
    })
}

fn noncurrent_path(paths: &ObjectPaths, id: &str) -> PathBuf {
    paths.versions_dir().join(format!("{id}.json"))
}

/// Where a record waits for the commit that makes it replace `{id}.json` (see the module docs).
fn staged_path(paths: &ObjectPaths, id: &str) -> PathBuf {
    paths.versions_dir().join(format!("{id}{STAGED_SUFFIX}"))
}

pub const STAGED_SUFFIX: &str = ".next.json";

/// A key's noncurrent versions that count (see the module docs), newest first.
pub fn noncurrent(
    paths: &ObjectPaths,
    head: Option<&VersionRecord>,
) -> io::Result<Vec<VersionRecord>> {
    let entries = match std::fs::read_dir(paths.versions_dir()) {
        Ok(entries) => entries,
        Err(e) if is_missing(&e) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut versions = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(record) = record::read(&entry.path())? else {
            continue;
        };
        if !uncommitted(head, &record) {
            versions.push(record);
        }
    }
    versions.sort_by_key(|v| std::cmp::Reverse(v.modified_ns));
    // A staged record and the one it replaces share an id: the newer counts.
    let mut seen = std::collections::HashSet::new();
    versions.retain(|v| seen.insert(v.version_id.clone()));
    Ok(versions)
}

/// Every version of a key, newest (the latest) first.
pub fn all(paths: &ObjectPaths) -> io::Result<Vec<VersionRecord>> {
    let head = record::read(&paths.record())?;
    let mut versions = noncurrent(paths, head.as_ref())?;
    if let Some(head) = head {
        versions.insert(0, head);
    }
    Ok(versions)
}

/// One version by id: the head's or a noncurrent one.
pub fn find(paths: &ObjectPaths, id: &str) -> io::Result<Option<VersionRecord>> {
    if !is_valid_id(id) {
        return Ok(None);
    }
    let head = record::read(&paths.record())?;
    if let Some(head) = head.as_ref().filter(|h| h.version_id == id) {
        return Ok(Some(head.clone()));
    }
    let mut found = None;
    for path in [noncurrent_path(paths, id), staged_path(paths, id)] {
        let Some(record) = record::read(&path)? else {
            continue;
        };
        let newer = found
            .as_ref()
            .is_none_or(|f: &VersionRecord| record.modified_ns > f.modified_ns);
        if !uncommitted(head.as_ref(), &record) && newer {
            found = Some(record);
        }
    }
    Ok(found)
}

/// Writes `record` as a noncurrent version of the key (replacing one with the same id).
/// With `sync`, the record is on the disk before it is renamed in (the directory is synced by
/// the caller once its change is complete).
pub fn keep(
    paths: &ObjectPaths,
    record: &VersionRecord,
    tmp_dir: &Path,
    sync: bool,
) -> io::Result<()> {
    write_record(
        &noncurrent_path(paths, &record.version_id),
        record,
        tmp_dir,
        sync,
    )
}

/// Writes `record` staged, to replace the noncurrent record with its id once the change that
/// makes it count has committed; `replace_with_staged` finishes it.
pub fn stage(
    paths: &ObjectPaths,
    record: &VersionRecord,
    tmp_dir: &Path,
    sync: bool,
) -> io::Result<()> {
    write_record(
        &staged_path(paths, &record.version_id),
        record,
        tmp_dir,
        sync,
    )
}

/// Moves a staged record over the one it replaces (a no-op when none is staged).
pub fn replace_with_staged(paths: &ObjectPaths, id: &str) -> io::Result<()> {
    match std::fs::rename(staged_path(paths, id), noncurrent_path(paths, id)) {
        Err(e) if !is_missing(&e) => Err(e),
        _ => Ok(()),
    }
}

fn write_record(
    target: &Path,
    record: &VersionRecord,
    tmp_dir: &Path,
    sync: bool,
) -> io::Result<()> {
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let aside = super::temp::unique_path(tmp_dir, "version");
    super::durable::write_new(&aside, &record.to_json()?, sync)?;
    std::fs::rename(&aside, target).inspect_err(|_| {
        let _ = std::fs::remove_file(&aside);
    })
}

/// Makes a noncurrent version the head again (its record moves; one rename).
pub fn promote(paths: &ObjectPaths, id: &str) -> io::Result<()> {
    std::fs::rename(noncurrent_path(paths, id), paths.record())?;
    tidy(paths);
    Ok(())
}

/// Removes a noncurrent version's record; `false` when there was none.
pub fn forget(paths: &ObjectPaths, id: &str) -> io::Result<bool> {
    let removed = match std::fs::remove_file(noncurrent_path(paths, id)) {
        Ok(()) => true,
        Err(e) if is_missing(&e) => false,
        Err(e) => return Err(e),
    };
    tidy(paths);
    Ok(removed)
}

/// Removes the key's versions directory, and the directory of all versions beside it, once
/// empty, so that empty key directories can be pruned.
fn tidy(paths: &ObjectPaths) {
    let dir = paths.versions_dir();
    if std::fs::remove_dir(&dir).is_ok() {
        if let Some(parent) = dir.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}
