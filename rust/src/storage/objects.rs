//! Objects: writing, reading, changing and deleting a key's versions.
//!
//! A key's current version is its head record (`record.rs`); committing a version is one rename
//! of that record, after its data file was moved into place under a name of its own. Readers
//! take the key's read lock while they read the record and open the data file it names, so they
//! never see a record whose data was removed; the open handle keeps the bytes after that.

use super::disposal::Disposal;
use super::durable;
use super::keypath::{self, ObjectPaths, SEGMENT_NAME_FILE};
use super::record::{self, VersionRecord, NULL_VERSION};
use super::temp::{unique_path, TempPath};
use super::versions::{self, Versioning};
use super::{
    blocking, changes, file_work, is_missing, is_not_a_directory, DeleteCondition, DeleteOutcome,
    FileStore, ObjectInfo, ObjectLockSettings, ObjectMetadata, OpenObject, PutOutcome,
    RetentionMode, StorageError, StorageResult, StoredChecksum, WriteCondition,
};
use crate::checksum::{BodyDigests, FinishedDigests};
use crate::config::Fsync;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::io;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A finished upload waiting to become a version: its temp file and what we know about it.
pub(super) struct NewVersion {
    pub data: TempPath,
    pub etag: String,
    pub size: u64,
    pub metadata: ObjectMetadata,
}

impl FileStore {
    /// Streams `body` into a new version of `bucket/key`.
    ///
    /// Bytes go to a temp file while `digests` (MD5 and whatever else the caller wants) are fed.
    /// When the body ends, `verify` sees the digests; only if it accepts them, and `condition`
    /// holds, does the new version replace the old one. Any error leaves the old one as it was.
    #[allow(clippy::too_many_arguments)]
    pub async fn put_object<S, E, V>(
        &self,
        bucket: &str,
        key: &str,
        mut metadata: ObjectMetadata,
        digests: BodyDigests,
        condition: &WriteCondition,
        body: S,
        verify: V,
    ) -> Result<PutOutcome, E>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: From<StorageError>,
        V: FnOnce(&FinishedDigests) -> Result<Option<StoredChecksum>, E>,
    {
        self.existing_bucket_dir(bucket).await?;
        let (data, digests) = self.receive(body, digests).await?;
        metadata.checksum = verify(&digests)?;
        let etag = hex::encode(digests.md5);
        let version = NewVersion {
            data,
            etag: etag.clone(),
            size: digests.len,
            metadata,
        };
        let committed = self.install_object(bucket, key, version, condition).await?;
        self.changes.publish(|| changes::Change::ObjectCreated {
            bucket: bucket.to_string(),
            key: key.to_string(),
            version_id: Some(committed.version_id.clone()).filter(|v| v != NULL_VERSION),
            size: digests.len,
            etag: etag.clone(),
        });
        Ok(PutOutcome {
            etag,
            last_modified: committed.last_modified(),
            version_id: Some(committed.version_id).filter(|v| v != NULL_VERSION),
            digests,
        })
    }

    /// Streams a body into a new temp file, feeding `digests` on the way.
    pub(super) async fn receive<S, E>(
        &self,
        body: S,
        mut digests: BodyDigests,
    ) -> Result<(TempPath, FinishedDigests), E>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: From<StorageError>,
    {
        let tmp = self.temp_path("data");
        // Writes go to the page cache on the calling thread (see `file_work`); only the fsync,
        // which waits for the disk, hops to the blocking pool.
        let mut file = std::fs::File::create(tmp.path()).map_err(StorageError::from)?;
        futures_util::pin_mut!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            digests.update(&chunk);
            file.write_all(&chunk).map_err(StorageError::from)?;
        }
        if self.fsync != Fsync::None {
            blocking(move || Ok(file.sync_all()?)).await?;
        }
        Ok((tmp, digests.finish()))
    }

    /// Makes a finished upload the current version of `bucket/key` if `condition` holds for the
    /// version it replaces, and returns its record. All file work is done in one piece under
    /// the key's lock (on the blocking pool only when it fsyncs). With versioning, the version
    /// it replaces is kept as a noncurrent one (except a `null` version in a suspended bucket,
    /// which is replaced).
    pub(super) async fn install_object(
        &self,
        bucket: &str,
        key: &str,
        mut version: NewVersion,
        condition: &WriteCondition,
    ) -> StorageResult<VersionRecord> {
        let bucket_dir = self.bucket_dir(bucket)?;
        let paths = ObjectPaths::for_key(&bucket_dir, key);
        version.metadata.key = key.to_string();
        let record_tmp = self.temp_path("record");
        let condition = condition.clone();
        let tmp_dir = self.tmp.clone();
        let disposal = self.disposal.clone();
        let _bucket = self.bucket_locks.read(bucket, "").await;
        let settings = self.bucket_settings(bucket).await?;
        let versioning = settings.versioning();
        apply_object_lock(&mut version.metadata, settings.object_lock.as_ref())?;
        let sync = self.sync_records();
        let _guard = self.locks.write(bucket, key).await;
        file_work(sync, move || {
            let current = record::read(&paths.record())?;
            check_condition(&condition, current.as_ref())?;
            let data_name = paths.new_data_name();
            let new = VersionRecord {
                version_id: match versioning {
                    Versioning::Enabled => versions::new_id(),
                    _ => NULL_VERSION.to_string(),
                },
                delete_marker: false,
                data: data_name.clone(),
                etag: version.etag,
                size: version.size,
                modified_ns: next_modified_ns(&paths, current.as_ref())?,
                metadata: version.metadata,
            };
            if let Some(kept) = current.as_ref().filter(|c| keeps(versioning, c)) {
                versions::keep(&paths, kept, &tmp_dir, sync)?;
            }
            let replaced = current.filter(|c| !keeps(versioning, c));
            durable::write_new(record_tmp.path(), &new.to_json()?, sync)?;
            let data_target = paths.dir.join(&data_name);
            commit(
                &bucket_dir,
                &paths,
                &[
                    (&version.data, &data_target),
                    (&record_tmp, &paths.record()),
                ],
                &tmp_dir,
                sync,
            )?;
            version.data.disarm();
            record_tmp.disarm();
            if let Some(old) = replaced {
                remove_data(&disposal, &paths, &old);
            }
            if versioning == Versioning::Suspended {
                forget_noncurrent(&disposal, &paths, NULL_VERSION)?;
            }
            settle(&paths, sync)?;
            Ok(new)
        })
        .await
    }

    /// Changes the stored metadata (e.g. the tags) of an object's latest version, or of the one
    /// with `version_id`, without touching its data or ETag: one rename of its record.
    pub async fn update_metadata(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        change: impl FnOnce(&mut ObjectMetadata) -> StorageResult<()> + Send + 'static,
    ) -> StorageResult<()> {
        let bucket_dir = self.existing_bucket_dir(bucket).await?;
        let paths = ObjectPaths::for_key(&bucket_dir, key);
        let record_tmp = self.temp_path("record");
        let key = key.to_string();
        let version_id = version_id.map(str::to_string);
        let tmp_dir = self.tmp.clone();
        let sync = self.sync_records();
        let _bucket = self.bucket_locks.read(bucket, "").await;
        let _guard = self.locks.write(bucket, &key).await;
        file_work(sync, move || {
            let mut found = find_version(&paths, version_id.as_deref())?;
            if found.delete_marker {
                return Err(StorageError::DeleteMarker {
                    version_id: found.version_id,
                    requested: version_id.is_some(),
                });
            }
            change(&mut found.metadata)?;
            found.metadata.key = key;
            let is_head = record::read(&paths.record())?
                .is_some_and(|head| head.version_id == found.version_id);
            if !is_head {
                versions::keep(&paths, &found, &tmp_dir, sync)?;
                return Ok(settle(&paths, sync)?);
            }
            durable::write_new(record_tmp.path(), &found.to_json()?, sync)?;
            std::fs::rename(record_tmp.path(), paths.record())?;
            record_tmp.disarm();
            Ok(durable::sync_dir(&paths.dir, sync)?)
        })
        .await
    }

    /// Opens the current version of an object for reading.
    pub async fn open_object(&self, bucket: &str, key: &str) -> StorageResult<OpenObject> {
        self.open_version(bucket, key, None).await
    }

    /// Opens an object (its latest version, or the one with `version_id`) for reading: its
    /// record and the data file it names, under the key's lock, so both belong to the same
    /// version.
    pub async fn open_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> StorageResult<OpenObject> {
        let bucket_dir = self.existing_bucket_dir(bucket).await?;
        let paths = ObjectPaths::for_key(&bucket_dir, key);
        let version_id = version_id.map(str::to_string);
        let _guard = self.locks.read(bucket, key).await;
        let (record, file) = file_work(false, move || {
            let record = find_version(&paths, version_id.as_deref())?;
            if record.delete_marker {
                return Err(StorageError::DeleteMarker {
                    version_id: record.version_id,
                    requested: version_id.is_some(),
                });
            }
            let file = open_data(&paths, &record)?;
            Ok((record, file))
        })
        .await?;
        Ok(OpenObject {
            info: ObjectInfo {
                size: record.size,
                last_modified: record.last_modified(),
                etag: record.etag,
                version_id: record.version_id,
                metadata: record.metadata,
            },
            file,
        })
    }

    /// Deletes an object as S3 does: without a version id, an unversioned bucket removes it
    /// (a missing one is not an error) and a versioned one puts a delete marker on top; with
    /// one, that version is removed for good and the next newest becomes the latest.
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        condition: &DeleteCondition,
    ) -> StorageResult<DeleteOutcome> {
        let bucket_dir = self.existing_bucket_dir(bucket).await?;
        let paths = ObjectPaths::for_key(&bucket_dir, key);
        let prune_from = paths.dir.clone();
        let version_id = version_id.map(str::to_string);
        let tmp_dir = self.tmp.clone();
        let condition = condition.clone();
        let disposal = self.disposal.clone();
        let (outcome, object_gone) = {
            let _bucket = self.bucket_locks.read(bucket, "").await;
            let versioning = self.bucket_settings(bucket).await?.versioning();
            let sync = self.sync_records();
            let _guard = self.locks.write(bucket, key).await;
            file_work(sync, move || {
                check_delete_condition(&paths, &condition)?;
                let done = match version_id {
                    Some(id) => {
                        remove_version(&disposal, &paths, &id, condition.bypass_governance)?
                    }
                    None if versioning == Versioning::Off => remove_unversioned(&disposal, &paths)?,
                    None => put_delete_marker(
                        &disposal,
                        &paths,
                        versioning,
                        condition.deleter.clone(),
                        &tmp_dir,
                        sync,
                    )?,
                };
                settle(&paths, sync)?;
                Ok(done)
            })
            .await?
        };
        if object_gone {
            self.changes.publish(|| changes::Change::ObjectRemoved {
                bucket: bucket.to_string(),
                key: key.to_string(),
                version_id: outcome.version_id.clone(),
            });
        }
        prune_empty_dirs(&bucket_dir, &prune_from).await;
        Ok(outcome)
    }
}

/// Whether a write keeps the current version as a noncurrent one.
fn keeps(versioning: Versioning, current: &VersionRecord) -> bool {
    match versioning {
        Versioning::Off => false,
        Versioning::Enabled => true,
        Versioning::Suspended => current.version_id != NULL_VERSION,
    }
}

/// The version a read asks for (the latest when `version_id` is `None`).
fn find_version(paths: &ObjectPaths, version_id: Option<&str>) -> StorageResult<VersionRecord> {
    match version_id {
        Some(id) => versions::find(paths, id)?.ok_or(StorageError::NoSuchVersion),
        None => match record::read(&paths.record())? {
            Some(head) => Ok(head),
            // No head: the latest version, if any, is a delete marker.
            None => versions::noncurrent(paths, None)?
                .into_iter()
                .next()
                .ok_or(StorageError::NoSuchKey),
        },
    }
}

/// Object lock on a new version: what its upload asked for, or the bucket's default
/// retention; asking for any on a bucket without object lock is refused.
fn apply_object_lock(
    metadata: &mut ObjectMetadata,
    lock: Option<&ObjectLockSettings>,
) -> StorageResult<()> {
    let Some(lock) = lock else {
        return match metadata.retention.is_some() || metadata.legal_hold {
            true => Err(StorageError::NoObjectLock),
            false => Ok(()),
        };
    };
    if metadata.retention.is_none() {
        if let Some(default) = &lock.default_retention {
            metadata.retention = Some(default.applied(super::now_ms()));
        }
    }
    Ok(())
}

/// Whether object lock keeps a version from being removed: a legal hold, a COMPLIANCE
/// retention not yet over, or a GOVERNANCE one unless the request may bypass it.
pub(super) fn protected(metadata: &ObjectMetadata, bypass_governance: bool) -> bool {
    let retained = metadata.retention.as_ref().is_some_and(|r| {
        r.active(super::now_ms()) && !(bypass_governance && r.mode == RetentionMode::Governance)
    });
    metadata.legal_hold || retained
}

/// S3's conditional deletes: every condition given must hold for the current version; only
/// `If-Match` also requires that there is one.
fn check_delete_condition(paths: &ObjectPaths, condition: &DeleteCondition) -> StorageResult<()> {
    if *condition == DeleteCondition::default() {
        return Ok(());
    }
    let current = record::read(&paths.record())?.filter(|r| !r.delete_marker);
    let Some(current) = current else {
        return match condition.if_match {
            Some(_) => Err(StorageError::NoSuchKey),
            None => Ok(()),
        };
    };
    let etag_holds = (condition.if_match.as_deref()).is_none_or(|m| m == "*" || m == current.etag);
    let size_holds = condition.size.is_none_or(|s| s == current.size);
    let time_holds =
        (condition.modified_secs).is_none_or(|t| t == current.modified_ns / 1_000_000_000);
    if etag_holds && size_holds && time_holds {
        Ok(())
    } else {
        Err(StorageError::PreconditionFailed)
    }
}

/// DeleteObject in an unversioned bucket; `true` in the second place when an object went.
fn remove_unversioned(
    disposal: &Disposal,
    paths: &ObjectPaths,
) -> StorageResult<(DeleteOutcome, bool)> {
    let Some(current) = record::read(&paths.record())? else {
        return Ok((DeleteOutcome::default(), false));
    };
    match disposal.remove(&paths.record()) {
        Ok(()) => {}
        Err(e) if is_missing(&e) => return Ok((DeleteOutcome::default(), false)),
        Err(e) => return Err(e.into()),
    }
    remove_data(disposal, paths, &current);
    Ok((DeleteOutcome::default(), true))
}

/// DeleteObject without a version id in a versioned bucket: the current version becomes
/// noncurrent and a delete marker the latest. The head's unlink is the commit.
fn put_delete_marker(
    disposal: &Disposal,
    paths: &ObjectPaths,
    versioning: Versioning,
    owner: Option<crate::acl::Owner>,
    tmp_dir: &Path,
    sync: bool,
) -> StorageResult<(DeleteOutcome, bool)> {
    let current = record::read(&paths.record())?;
    let marker = VersionRecord {
        version_id: match versioning {
            Versioning::Enabled => versions::new_id(),
            _ => NULL_VERSION.to_string(),
        },
        delete_marker: true,
        data: String::new(),
        etag: String::new(),
        size: 0,
        modified_ns: next_modified_ns(paths, current.as_ref())?,
        metadata: ObjectMetadata {
            key: current
                .as_ref()
                .map(|c| c.metadata.key.clone())
                .unwrap_or_default(),
            acl: owner.map(crate::acl::Acl::private),
            ..Default::default()
        },
    };
    if let Some(kept) = current.as_ref().filter(|c| keeps(versioning, c)) {
        versions::keep(paths, kept, tmp_dir, sync)?;
    }
    // A `null` marker (suspended bucket) replaces a noncurrent `null` version.
    let head_is_null = current
        .as_ref()
        .is_some_and(|c| c.version_id == NULL_VERSION);
    let replaced_null = if marker.version_id == NULL_VERSION && !head_is_null {
        versions::find(paths, NULL_VERSION)?
    } else {
        None
    };
    // With a head to unlink, that unlink is the commit; a marker replacing a `null` record
    // must not replace it before then (see `versions`).
    let staged = current.is_some() && replaced_null.is_some();
    if staged {
        versions::stage(paths, &marker, tmp_dir, sync)?;
    } else {
        versions::keep(paths, &marker, tmp_dir, sync)?;
    }
    if current.is_some() {
        std::fs::remove_file(paths.record())?;
    }
    if staged {
        versions::replace_with_staged(paths, NULL_VERSION)?;
    }
    if let Some(old) = current.as_ref().filter(|c| !keeps(versioning, c)) {
        remove_data(disposal, paths, old);
    }
    if let Some(old) = replaced_null {
        remove_data(disposal, paths, &old);
    }
    let outcome = DeleteOutcome {
        version_id: Some(marker.version_id),
        delete_marker: true,
    };
    Ok((outcome, current.is_some()))
}

/// Removes one version for good. The next newest version becomes the latest: an object is
/// promoted to head (one rename), a delete marker stays where it is.
fn remove_version(
    disposal: &Disposal,
    paths: &ObjectPaths,
    id: &str,
    bypass_governance: bool,
) -> StorageResult<(DeleteOutcome, bool)> {
    let head = record::read(&paths.record())?;
    let Some(target) = versions::find(paths, id)? else {
        // S3 answers 204 for a version that does not exist.
        let outcome = DeleteOutcome {
            version_id: Some(id.to_string()),
            delete_marker: false,
        };
        return Ok((outcome, false));
    };
    if protected(&target.metadata, bypass_governance) {
        return Err(StorageError::ObjectLocked);
    }
    let is_head = head.as_ref().is_some_and(|h| h.version_id == id);
    if is_head {
        let next = versions::noncurrent(paths, head.as_ref())?
            .into_iter()
            .next();
        match next {
            Some(next) if !next.delete_marker => versions::promote(paths, &next.version_id)?,
            _ => std::fs::remove_file(paths.record())?,
        }
    } else {
        let noncurrent = versions::noncurrent(paths, head.as_ref())?;
        let was_latest = head.is_none() && noncurrent.first().is_some_and(|n| n.version_id == id);
        // Removing the marker on top: the object below becomes the head first (the commit;
        // the marker, newer than that head, no longer counts), then the marker goes.
        if let Some(next) = noncurrent.get(1).filter(|n| was_latest && !n.delete_marker) {
            versions::promote(paths, &next.version_id)?;
        }
        versions::forget(paths, id)?;
    }
    remove_data(disposal, paths, &target);
    let outcome = DeleteOutcome {
        version_id: Some(id.to_string()),
        delete_marker: target.delete_marker,
    };
    Ok((outcome, is_head))
}

/// Removes a noncurrent version and its data, if there is one with this id.
fn forget_noncurrent(disposal: &Disposal, paths: &ObjectPaths, id: &str) -> StorageResult<()> {
    let head = record::read(&paths.record())?;
    let old = record::read(&paths.versions_dir().join(format!("{id}.json")))?;
    if versions::forget(paths, id)? {
        if let Some(old) = old.filter(|o| head.as_ref().is_none_or(|h| h.data != o.data)) {
            remove_data(disposal, paths, &old);
        }
    }
    Ok(())
}

/// A version's modification time: now, but always after every version of the key, so its
/// versions stay in order even when the clock steps back.
fn next_modified_ns(paths: &ObjectPaths, current: Option<&VersionRecord>) -> io::Result<u64> {
    let now = record::nanos_since_epoch(SystemTime::now());
    let newest = match current {
        Some(c) => Some(c.modified_ns),
        None => versions::noncurrent(paths, None)?
            .first()
            .map(|v| v.modified_ns),
    };
    Ok(match newest {
        Some(newest) if newest >= now => newest.saturating_add(1),
        _ => now,
    })
}

/// Opens the data file a record names. A record always names an existing file; one that does
/// not is damage, reported as such rather than as a missing key.
fn open_data(paths: &ObjectPaths, record: &VersionRecord) -> StorageResult<std::fs::File> {
    let damaged = |what: &str| {
        StorageError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("the record of {:?} {what}", record.metadata.key),
        ))
    };
    let path = paths
        .data_file(&record.data)
        .ok_or_else(|| damaged("names no data file of its key"))?;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if is_missing(&e) => return Err(damaged("names a missing data file")),
        Err(e) => return Err(e.into()),
    };
    if file.metadata()?.len() != record.size {
        return Err(damaged("names a data file of another size"));
    }
    Ok(file)
}

/// Removes the data file of a version that is no longer referenced. Best effort: a file left
/// behind (a crash, an I/O error) is garbage the start-up check removes.
fn remove_data(disposal: &Disposal, paths: &ObjectPaths, old: &VersionRecord) {
    if let Some(path) = paths.data_file(&old.data) {
        if let Err(e) = disposal.remove(&path) {
            if !is_missing(&e) {
                tracing::warn!("removing {}: {e}", path.display());
            }
        }
    }
}

/// With `sync`: makes the renames and unlinks of a change durable (the key's directory and,
/// when it has one, its versions directory).
fn settle(paths: &ObjectPaths, sync: bool) -> io::Result<()> {
    if !sync {
        return Ok(());
    }
    durable::sync_dir(&paths.dir, true)?;
    let versions = paths.versions_dir();
    if versions.is_dir() {
        durable::sync_dir(&versions, true)?;
        durable::sync_parent(&versions, true)?;
    }
    Ok(())
}

/// Evaluates a conditional write against the current version (the caller holds the key's lock).
fn check_condition(
    condition: &WriteCondition,
    current: Option<&VersionRecord>,
) -> StorageResult<()> {
    let current = current.filter(|r| !r.delete_marker);
    match (condition, current) {
        (WriteCondition::Always, _) | (WriteCondition::IfAbsent, None) => Ok(()),
        (WriteCondition::IfAbsent, Some(_)) => Err(StorageError::PreconditionFailed),
        (WriteCondition::IfMatch(_), None) => Err(StorageError::NoSuchKey),
        (WriteCondition::IfMatch(expected), Some(r)) if *expected == r.etag => Ok(()),
        (WriteCondition::IfMatch(_), Some(_)) => Err(StorageError::PreconditionFailed),
    }
}

/// Renames finished temp files into the key's directory in order, creating directories as
/// needed; the last rename is the commit. A concurrent delete may prune a directory we just
/// created, so a rename that finds its directory gone is retried a few times.
fn commit(
    bucket_dir: &Path,
    paths: &ObjectPaths,
    moves: &[(&TempPath, &PathBuf)],
    tmp_dir: &Path,
    sync: bool,
) -> StorageResult<()> {
    let mut done = 0;
    let mut attempts = 0;
    let result = loop {
        if let Err(e) = ensure_dirs(bucket_dir, paths, tmp_dir, sync) {
            break Err(e);
        }
        let step = moves[done..].iter().try_for_each(|(tmp, target)| {
            std::fs::rename(tmp.path(), target)?;
            done += 1;
            Ok::<_, io::Error>(())
        });
        match step {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 5 => attempts += 1,
            Err(e) if is_not_a_directory(&e) => {
                break Err(StorageError::Io(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a path component of this key is not a directory",
                )))
            }
            Err(e) => break Err(e.into()),
        }
    };
    // Not committed: what already moved is unreferenced; take it back out.
    for (_, target) in &moves[..done] {
        let _ = std::fs::remove_file(target);
    }
    result
}

/// Creates the key's directories below the bucket (never the bucket itself: a deleted bucket
/// must stay deleted).
pub(super) fn ensure_dirs(
    bucket_dir: &Path,
    paths: &ObjectPaths,
    tmp_dir: &Path,
    sync: bool,
) -> StorageResult<()> {
    if !bucket_dir.is_dir() {
        return Err(StorageError::NoSuchBucket);
    }
    for (dir, hashed_segment) in &paths.dirs {
        match std::fs::create_dir(dir) {
            Ok(()) => {
                durable::sync_parent(dir, sync)?;
                if let Some(segment) = hashed_segment {
                    let tmp = TempPath::new(unique_path(tmp_dir, "file"));
                    std::fs::write(tmp.path(), segment.as_bytes())?;
                    std::fs::rename(tmp.path(), dir.join(SEGMENT_NAME_FILE))?;
                    tmp.disarm();
                }
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Removes now-empty directories from `dir` up to (not including) the bucket directory.
/// Races with concurrent PUTs are harmless: a non-empty or vanished directory just stops the walk.
pub(super) async fn prune_empty_dirs(bucket_dir: &Path, dir: &Path) {
    let mut current = dir.to_path_buf();
    while current != bucket_dir && current.starts_with(bucket_dir) {
        let hashed = current
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(keypath::is_hashed_dir_name);
        // On the calling thread, like the rest of a request's short file work (`file_work`).
        if hashed || std::fs::remove_dir(&current).is_err() {
            return;
        }
        if !current.pop() {
            return;
        }
    }
}
