//! Objects: writing, reading, changing and deleting a key's versions.
//!
//! A key's current version is its head record (`record.rs`); committing a version is one rename
//! of that record, after its data file was moved into place under a name of its own. Readers
//! take the key's read lock while they read the record and open the data file it names, so they
//! never see a record whose data was removed; the open handle keeps the bytes after that.

use super::keypath::{self, ObjectPaths, SEGMENT_NAME_FILE};
use super::record::{self, VersionRecord, NULL_VERSION};
use super::temp::TempPath;
use super::{
    blocking, changes, is_missing, is_not_a_directory, FileStore, ObjectInfo, ObjectMetadata,
    OpenObject, PutOutcome, StorageError, StorageResult, StoredChecksum, WriteCondition,
};
use crate::checksum::{BodyDigests, FinishedDigests};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tokio::io::AsyncWriteExt;

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
            size: digests.len,
            etag: etag.clone(),
        });
        Ok(PutOutcome {
            etag,
            last_modified: committed.last_modified(),
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
        let mut file = tokio::fs::File::create(tmp.path())
            .await
            .map_err(StorageError::from)?;
        futures_util::pin_mut!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            digests.update(&chunk);
            file.write_all(&chunk).await.map_err(StorageError::from)?;
        }
        file.flush().await.map_err(StorageError::from)?;
        Ok((tmp, digests.finish()))
    }

    /// Makes a finished upload the current version of `bucket/key` if `condition` holds for the
    /// version it replaces, and returns its record. All file work is one hop to the blocking
    /// pool, under the key's lock.
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
        let _bucket = self.bucket_locks.read(bucket, "").await;
        let _guard = self.locks.write(bucket, key).await;
        blocking(move || {
            let current = record::read(&paths.record())?;
            check_condition(&condition, current.as_ref())?;
            let data_name = paths.new_data_name();
            let new = VersionRecord {
                version_id: NULL_VERSION.to_string(),
                delete_marker: false,
                data: data_name.clone(),
                etag: version.etag,
                size: version.size,
                modified_ns: next_modified_ns(current.as_ref()),
                metadata: version.metadata,
            };
            write_file(record_tmp.path(), &new.to_json()?)?;
            let data_target = paths.dir.join(&data_name);
            commit(
                &bucket_dir,
                &paths,
                &[
                    (&version.data, &data_target),
                    (&record_tmp, &paths.record()),
                ],
                &tmp_dir,
            )?;
            version.data.disarm();
            record_tmp.disarm();
            if let Some(old) = current {
                remove_data(&paths, &old);
            }
            Ok(new)
        })
        .await
    }

    /// Changes an object's stored metadata (e.g. its tags) without touching its data or ETag.
    pub async fn update_metadata(
        &self,
        bucket: &str,
        key: &str,
        change: impl FnOnce(&mut ObjectMetadata) + Send + 'static,
    ) -> StorageResult<()> {
        let bucket_dir = self.existing_bucket_dir(bucket).await?;
        let paths = ObjectPaths::for_key(&bucket_dir, key);
        let record_tmp = self.temp_path("record");
        let key = key.to_string();
        let _bucket = self.bucket_locks.read(bucket, "").await;
        let _guard = self.locks.write(bucket, &key).await;
        blocking(move || {
            let mut current = record::read(&paths.record())?
                .filter(|r| !r.delete_marker)
                .ok_or(StorageError::NoSuchKey)?;
            change(&mut current.metadata);
            current.metadata.key = key;
            write_file(record_tmp.path(), &current.to_json()?)?;
            std::fs::rename(record_tmp.path(), paths.record())?;
            record_tmp.disarm();
            Ok(())
        })
        .await
    }

    /// Opens an object for reading: its record and the data file it names, under the key's
    /// lock, so both belong to the same version.
    pub async fn open_object(&self, bucket: &str, key: &str) -> StorageResult<OpenObject> {
        let bucket_dir = self.existing_bucket_dir(bucket).await?;
        let paths = ObjectPaths::for_key(&bucket_dir, key);
        let _guard = self.locks.read(bucket, key).await;
        let (record, file) = blocking(move || {
            let record = record::read(&paths.record())?
                .filter(|r| !r.delete_marker)
                .ok_or(StorageError::NoSuchKey)?;
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
            file: tokio::fs::File::from_std(file),
        })
    }

    /// Deletes an object; a missing one is not an error (S3 answers 204 either way).
    pub async fn delete_object(&self, bucket: &str, key: &str) -> StorageResult<()> {
        let bucket_dir = self.existing_bucket_dir(bucket).await?;
        let paths = ObjectPaths::for_key(&bucket_dir, key);
        let prune_from = paths.dir.clone();
        let removed = {
            let _bucket = self.bucket_locks.read(bucket, "").await;
            let _guard = self.locks.write(bucket, key).await;
            blocking(move || {
                let Some(current) = record::read(&paths.record())? else {
                    return Ok(false);
                };
                match std::fs::remove_file(paths.record()) {
                    Ok(()) => {}
                    Err(e) if is_missing(&e) => return Ok(false),
                    Err(e) => return Err(e.into()),
                }
                remove_data(&paths, &current);
                Ok(!current.delete_marker)
            })
            .await?
        };
        if removed {
            self.changes.publish(|| changes::Change::ObjectRemoved {
                bucket: bucket.to_string(),
                key: key.to_string(),
            });
        }
        prune_empty_dirs(&bucket_dir, &prune_from).await;
        Ok(())
    }
}

/// A version's modification time: now, but always after the version it follows, so a key's
/// versions stay in order even when the clock steps back.
fn next_modified_ns(current: Option<&VersionRecord>) -> u64 {
    let now = record::nanos_since_epoch(SystemTime::now());
    match current {
        Some(c) if c.modified_ns >= now => c.modified_ns.saturating_add(1),
        _ => now,
    }
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
fn remove_data(paths: &ObjectPaths, old: &VersionRecord) {
    if let Some(path) = paths.data_file(&old.data) {
        if let Err(e) = std::fs::remove_file(&path) {
            if !is_missing(&e) {
                tracing::warn!("removing {}: {e}", path.display());
            }
        }
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)
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
) -> StorageResult<()> {
    let mut done = 0;
    let mut attempts = 0;
    let result = loop {
        if let Err(e) = ensure_dirs(bucket_dir, paths, tmp_dir) {
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
) -> StorageResult<()> {
    if !bucket_dir.is_dir() {
        return Err(StorageError::NoSuchBucket);
    }
    for (dir, hashed_segment) in &paths.dirs {
        match std::fs::create_dir(dir) {
            Ok(()) => {
                if let Some(segment) = hashed_segment {
                    let tmp = TempPath::new(
                        tmp_dir.join(format!("file-{:032x}", rand::random::<u128>())),
                    );
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
        if hashed || tokio::fs::remove_dir(&current).await.is_err() {
            return;
        }
        if !current.pop() {
            return;
        }
    }
}
