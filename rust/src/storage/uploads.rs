//! Multipart uploads in flight: `{root}/.multipart/{upload_id}/` holds `upload.json` (bucket,
//! key, metadata and checksum settings for the final object) and each part as `part-{N}` with its
//! facts in `part-{N}.json`. Everything is on disk, so uploads survive a restart.

use super::{
    is_missing, FileStore, ObjectMetadata, StorageError, StorageResult, StoredChecksum,
    WriteCondition,
};
use crate::checksum::{
    base64_decode, base64_encode, BodyDigests, ChecksumAlgorithm, FinishedDigests,
};
use bytes::Bytes;
use futures_util::Stream;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const UPLOAD_FILE: &str = "upload.json";
/// The lock "bucket" of uploads (their own lock table; the id is the key).
const UPLOAD_LOCK: &str = "upload";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadInfo {
    #[serde(skip)]
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated_ms: u64,
    pub metadata: ObjectMetadata,
    #[serde(default)]
    pub checksum_algorithm: Option<String>,
    /// `COMPOSITE` or `FULL_OBJECT`, when a checksum algorithm was named.
    #[serde(default)]
    pub checksum_type: Option<String>,
}

impl UploadInfo {
    pub fn initiated(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(self.initiated_ms)
    }

    pub fn algorithm(&self) -> Option<ChecksumAlgorithm> {
        self.checksum_algorithm
            .as_deref()
            .and_then(ChecksumAlgorithm::from_name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartInfo {
    pub number: u32,
    /// MD5 hex, without quotes.
    pub etag: String,
    pub size: u64,
    pub last_modified_ms: u64,
    /// The part's flexible checksum (base64), if one was computed.
    #[serde(default)]
    pub checksum: Option<String>,
    /// The part's data file in the upload's directory (`part-{N}` in uploads of earlier builds).
    #[serde(default)]
    pub data: String,
}

impl PartInfo {
    fn data_file(&self) -> String {
        if self.data.is_empty() {
            format!("part-{}", self.number)
        } else {
            self.data.clone()
        }
    }

    pub fn last_modified(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(self.last_modified_ms)
    }
}

/// One entry of a CompleteMultipartUpload request.
#[derive(Debug, Clone)]
pub struct CompletedPart {
    pub number: u32,
    /// Without quotes.
    pub etag: String,
    /// A checksum the client echoed for the part (base64), checked against the stored one.
    pub checksum: Option<String>,
}

#[derive(Clone)]
pub struct CompleteOutcome {
    pub etag: String,
    pub size: u64,
    pub last_modified: SystemTime,
    pub checksum: Option<StoredChecksum>,
    /// The new version's id, when the bucket has versioning enabled.
    pub version_id: Option<String>,
    /// The object's tags (they decide its `x-amz-expiration`, a retry's too).
    pub tags: Vec<super::Tag>,
}

fn json_error(e: serde_json::Error) -> StorageError {
    StorageError::Io(io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The ETag of a multipart object: MD5 of the concatenated binary part MD5s, then `-<count>`.
pub fn multipart_etag(part_etags: &[&str]) -> String {
    let mut md5 = Md5::new();
    for etag in part_etags {
        md5.update(hex::decode(etag).unwrap_or_default());
    }
    format!("{}-{}", hex::encode(md5.finalize()), part_etags.len())
}

impl FileStore {
    fn multipart_root(&self) -> PathBuf {
        self.root.join(".multipart")
    }

    /// The directory of an upload; ids are ours (32 hex digits), anything else cannot exist.
    fn upload_dir(&self, upload_id: &str) -> StorageResult<PathBuf> {
        if upload_id.len() != 32 || !upload_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(StorageError::NoSuchUpload);
        }
        Ok(self.multipart_root().join(upload_id))
    }

    pub async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        metadata: ObjectMetadata,
        checksum_algorithm: Option<ChecksumAlgorithm>,
        checksum_type: Option<String>,
    ) -> StorageResult<UploadInfo> {
        self.existing_bucket_dir(bucket).await?;
        let upload_id = format!("{:032x}", rand::random::<u128>());
        let dir = self.upload_dir(&upload_id)?;
        tokio::fs::create_dir_all(&dir).await?;
        let upload = UploadInfo {
            upload_id,
            bucket: bucket.to_string(),
            key: key.to_string(),
            initiated_ms: super::now_ms(),
            metadata,
            checksum_algorithm: checksum_algorithm.map(|a| a.name().to_string()),
            checksum_type: checksum_algorithm
                .map(|_| checksum_type.unwrap_or_else(|| "COMPOSITE".to_string())),
        };
        let json = serde_json::to_vec_pretty(&upload).map_err(json_error)?;
        self.write_atomically(&dir.join(UPLOAD_FILE), &json).await?;
        Ok(upload)
    }

    async fn read_upload(&self, upload_id: &str) -> StorageResult<UploadInfo> {
        let path = self.upload_dir(upload_id)?.join(UPLOAD_FILE);
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) if is_missing(&e) => return Err(StorageError::NoSuchUpload),
            Err(e) => return Err(e.into()),
        };
        let mut upload: UploadInfo = serde_json::from_slice(&bytes).map_err(json_error)?;
        upload.upload_id = upload_id.to_string();
        Ok(upload)
    }

    /// The upload, if it exists and belongs to this bucket and key.
    pub async fn get_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> StorageResult<UploadInfo> {
        self.existing_bucket_dir(bucket).await?;
        let upload = self.read_upload(upload_id).await?;
        if upload.bucket != bucket || upload.key != key {
            return Err(StorageError::NoSuchUpload);
        }
        Ok(upload)
    }

    /// Streams one part to disk; re-uploading a part number replaces it.
    pub async fn put_part<S, E, V>(
        &self,
        upload: &UploadInfo,
        number: u32,
        digests: BodyDigests,
        body: S,
        verify: V,
    ) -> Result<PartInfo, E>
    where
        S: Stream<Item = Result<Bytes, E>>,
        E: From<StorageError>,
        V: FnOnce(&FinishedDigests) -> Result<Option<StoredChecksum>, E>,
    {
        let dir = self.upload_dir(&upload.upload_id)?;
        let (data_tmp, digests) = self.receive(body, digests).await?;
        let stored_checksum = verify(&digests)?;
        let part = PartInfo {
            number,
            etag: hex::encode(digests.md5),
            size: digests.len,
            last_modified_ms: super::now_ms(),
            checksum: stored_checksum.map(|c| c.value),
            // Unique, so the rename of the part's record below is its one commit point.
            data: format!("part-{number}.{:016x}", rand::random::<u64>()),
        };
        let json = serde_json::to_vec(&part).map_err(json_error)?;
        let json_tmp = self.temp_path("part");
        let (path, sync) = (json_tmp.path().to_path_buf(), self.sync_records());
        super::blocking(move || Ok(super::durable::write_new(&path, &json, sync)?)).await?;

        let _guard = self
            .upload_locks
            .write(UPLOAD_LOCK, &upload.upload_id)
            .await;
        // Completed or aborted meanwhile: the part has nowhere to go.
        if !tokio::fs::try_exists(dir.join(UPLOAD_FILE))
            .await
            .map_err(StorageError::from)?
        {
            return Err(StorageError::NoSuchUpload.into());
        }
        let record = dir.join(format!("part-{number}.json"));
        let replaced = read_part(&record).await.ok();
        tokio::fs::rename(data_tmp.path(), dir.join(&part.data))
            .await
            .map_err(StorageError::from)?;
        data_tmp.disarm();
        tokio::fs::rename(json_tmp.path(), &record)
            .await
            .map_err(StorageError::from)?;
        json_tmp.disarm();
        if self.sync_records() {
            let dir = dir.clone();
            super::blocking(move || Ok(super::durable::sync_dir(&dir, true)?)).await?;
        }
        if let Some(old) = replaced {
            let _ = tokio::fs::remove_file(dir.join(old.data_file())).await;
        }
        Ok(part)
    }

    /// The upload's parts, by ascending part number.
    pub async fn list_parts(&self, upload: &UploadInfo) -> StorageResult<Vec<PartInfo>> {
        let dir = self.upload_dir(&upload.upload_id)?;
        read_parts(&dir).await
    }

    /// Assembles the listed parts into the object, atomically, then removes the upload.
    pub async fn complete_upload(
        &self,
        upload: &UploadInfo,
        requested: &[CompletedPart],
        min_part_size: u64,
        condition: &WriteCondition,
    ) -> StorageResult<CompleteOutcome> {
        let dir = self.upload_dir(&upload.upload_id)?;
        let _guard = self
            .upload_locks
            .write(UPLOAD_LOCK, &upload.upload_id)
            .await;
        if !tokio::fs::try_exists(dir.join(UPLOAD_FILE)).await? {
            // Completed meanwhile (a retry racing the first attempt)?
            return self.completed_before(
                &upload.upload_id,
                &upload.bucket,
                &upload.key,
                requested,
            );
        }
        let stored = read_parts(&dir).await?;
        let chosen = validate_parts(&stored, requested, min_part_size)?;

        let algorithm = upload.algorithm();
        let full_object = upload.checksum_type.as_deref() == Some("FULL_OBJECT");
        let etag = multipart_etag(&chosen.iter().map(|p| p.etag.as_str()).collect::<Vec<_>>());
        let tmp = self.temp_path("assembly");
        let part_paths: Vec<PathBuf> = chosen.iter().map(|p| dir.join(p.data_file())).collect();
        let target = tmp.path().to_path_buf();
        let hash_with = algorithm.filter(|_| full_object);
        let sync = self.fsync != crate::config::Fsync::None;
        let full_checksum =
            tokio::task::spawn_blocking(move || assemble(&part_paths, &target, hash_with, sync))
                .await
                .map_err(|e| io::Error::other(e.to_string()))??;

        let checksum = match (algorithm, full_checksum) {
            (Some(a), Some(digest)) => Some(StoredChecksum {
                algorithm: a.name().to_string(),
                value: base64_encode(&digest),
                checksum_type: "FULL_OBJECT".to_string(),
            }),
            (Some(a), None) => composite_checksum(a, &chosen),
            (None, _) => None,
        };
        let mut metadata = upload.metadata.clone();
        metadata.checksum = checksum.clone();
        metadata.parts = chosen.iter().map(|p| p.size).collect();
        let version = super::objects::NewVersion {
            data: tmp,
            etag: etag.clone(),
            size: chosen.iter().map(|p| p.size).sum(),
            metadata,
        };
        let committed = self
            .install_object(&upload.bucket, &upload.key, version, condition)
            .await?;
        self.changes
            .publish(|| super::changes::Change::MultipartCompleted {
                bucket: upload.bucket.clone(),
                key: upload.key.clone(),
                version_id: Some(committed.version_id.clone())
                    .filter(|v| v != super::record::NULL_VERSION),
                size: chosen.iter().map(|p| p.size).sum(),
                etag: etag.clone(),
            });
        let outcome = CompleteOutcome {
            etag,
            size: committed.size,
            last_modified: committed.last_modified(),
            checksum,
            version_id: Some(committed.version_id).filter(|v| v != super::record::NULL_VERSION),
            tags: upload.metadata.tags.clone(),
        };
        self.completions.remember(
            &upload.upload_id,
            &upload.bucket,
            &upload.key,
            requested,
            &outcome,
        );
        tokio::fs::remove_dir_all(&dir).await?;
        Ok(outcome)
    }

    /// The answer of a completion of `upload` with the same parts, made in the last minutes:
    /// S3 answers a retried CompleteMultipartUpload as it answered the first.
    pub fn completed_before(
        &self,
        upload_id: &str,
        bucket: &str,
        key: &str,
        requested: &[CompletedPart],
    ) -> StorageResult<CompleteOutcome> {
        self.completions
            .find(upload_id, bucket, key, requested)
            .ok_or(StorageError::NoSuchUpload)
    }

    pub async fn abort_upload(&self, upload: &UploadInfo) -> StorageResult<()> {
        let dir = self.upload_dir(&upload.upload_id)?;
        let _guard = self
            .upload_locks
            .write(UPLOAD_LOCK, &upload.upload_id)
            .await;
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => Ok(()),
            Err(e) if is_missing(&e) => Err(StorageError::NoSuchUpload),
            Err(e) => Err(e.into()),
        }
    }

    /// Every upload in flight, for one bucket or all, by key and then initiation time.
    pub async fn list_uploads(&self, bucket: Option<&str>) -> StorageResult<Vec<UploadInfo>> {
        let mut uploads = Vec::new();
        let mut entries = match tokio::fs::read_dir(self.multipart_root()).await {
            Ok(e) => e,
            Err(e) if is_missing(&e) => return Ok(uploads),
            Err(e) => return Err(e.into()),
        };
        while let Some(entry) = entries.next_entry().await? {
            let Ok(id) = entry.file_name().into_string() else {
                continue;
            };
            // A half-created or concurrently removed upload is simply not listed.
            let Ok(upload) = self.read_upload(&id).await else {
                continue;
            };
            if bucket.is_none_or(|b| b == upload.bucket) {
                uploads.push(upload);
            }
        }
        uploads.sort_by(|a, b| {
            (a.key.as_str(), a.initiated_ms, a.upload_id.as_str()).cmp(&(
                b.key.as_str(),
                b.initiated_ms,
                b.upload_id.as_str(),
            ))
        });
        Ok(uploads)
    }

    /// Aborts every upload of a bucket (the bucket is being deleted).
    pub(super) async fn abort_bucket_uploads(&self, bucket: &str) -> StorageResult<()> {
        self.abort_uploads(Some(bucket)).await
    }

    /// Aborts every unfinished upload (of every bucket).
    pub async fn abort_all_uploads(&self) -> StorageResult<()> {
        self.abort_uploads(None).await
    }

    async fn abort_uploads(&self, bucket: Option<&str>) -> StorageResult<()> {
        for upload in self.list_uploads(bucket).await? {
            match self.abort_upload(&upload).await {
                Ok(()) | Err(StorageError::NoSuchUpload) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Removes uploads initiated longer than `max_age` ago; returns how many.
    pub async fn sweep_expired_uploads(&self, max_age: Duration) -> StorageResult<usize> {
        let cutoff = SystemTime::now()
            .checked_sub(max_age)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let mut removed = 0;
        for upload in self.list_uploads(None).await? {
            if upload.initiated() < cutoff && self.abort_upload(&upload).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

async fn read_parts(dir: &Path) -> StorageResult<Vec<PartInfo>> {
    let mut parts = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(e) => e,
        Err(e) if is_missing(&e) => return Err(StorageError::NoSuchUpload),
        Err(e) => return Err(e.into()),
    };
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with("part-") && name.ends_with(".json") {
            parts.push(read_part(&entry.path()).await?);
        }
    }
    parts.sort_by_key(|p| p.number);
    Ok(parts)
}

async fn read_part(path: &Path) -> StorageResult<PartInfo> {
    let bytes = tokio::fs::read(path).await?;
    serde_json::from_slice::<PartInfo>(&bytes).map_err(json_error)
}

/// Checks a Complete request against the stored parts and returns the chosen ones, in order.
fn validate_parts(
    stored: &[PartInfo],
    requested: &[CompletedPart],
    min_part_size: u64,
) -> StorageResult<Vec<PartInfo>> {
    if requested.windows(2).any(|w| w[0].number >= w[1].number) {
        return Err(StorageError::InvalidPartOrder);
    }
    let mut chosen = Vec::with_capacity(requested.len());
    for wanted in requested {
        let part = stored
            .iter()
            .find(|p| p.number == wanted.number)
            .ok_or(StorageError::InvalidPart(wanted.number))?;
        let checksum_differs = match (&wanted.checksum, &part.checksum) {
            (Some(claimed), Some(actual)) => claimed.trim() != actual,
            (Some(_), None) => true,
            _ => false,
        };
        if part.etag != wanted.etag || checksum_differs {
            return Err(StorageError::InvalidPart(wanted.number));
        }
        chosen.push(part.clone());
    }
    if let Some((_, all_but_last)) = chosen.split_last() {
        if let Some(small) = all_but_last.iter().find(|p| p.size < min_part_size) {
            return Err(StorageError::PartTooSmall {
                part: small.number,
                size: small.size,
                min: min_part_size,
            });
        }
    }
    Ok(chosen)
}

/// S3's composite checksum: the checksum of the concatenated part checksums, then `-<count>`.
/// Only when every part has one.
fn composite_checksum(algorithm: ChecksumAlgorithm, parts: &[PartInfo]) -> Option<StoredChecksum> {
    let mut hasher = algorithm.hasher();
    for part in parts {
        hasher.update(&base64_decode(part.checksum.as_deref()?)?);
    }
    Some(StoredChecksum {
        algorithm: algorithm.name().to_string(),
        value: format!("{}-{}", base64_encode(&hasher.finish()), parts.len()),
        checksum_type: "COMPOSITE".to_string(),
    })
}

/// Concatenates the part files into `target`. Without a checksum to compute, the kernel copies
/// (copy_file_range); with one, bytes pass through a fixed buffer. Memory stays constant.
fn assemble(
    parts: &[PathBuf],
    target: &Path,
    checksum: Option<ChecksumAlgorithm>,
    sync: bool,
) -> io::Result<Option<Vec<u8>>> {
    let mut out = std::fs::File::create(target)?;
    let mut hasher = checksum.map(|a| a.hasher());
    let mut buffer = vec![0u8; if hasher.is_some() { 1024 * 1024 } else { 0 }];
    for path in parts {
        let mut part = std::fs::File::open(path)?;
        match &mut hasher {
            None => {
                io::copy(&mut part, &mut out)?;
            }
            Some(h) => loop {
                let n = part.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                h.update(&buffer[..n]);
                out.write_all(&buffer[..n])?;
            },
        }
    }
    out.flush()?;
    if sync {
        out.sync_all()?;
    }
    Ok(hasher.map(|h| h.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_etag_matches_s3() {
        // [5 MiB of 0x01, "tail"] as uploaded to S3.
        assert_eq!(
            multipart_etag(&[
                "08b46181d7094b5ece88bb389c7499af",
                "7aea2552dfe7eb84b9443b6fc9ba6e01"
            ]),
            "1b5586dcc4c977ad9eb82c917af59a83-2"
        );
    }

    fn part(number: u32, size: u64) -> PartInfo {
        PartInfo {
            number,
            etag: format!("{number:032x}"),
            size,
            last_modified_ms: 0,
            checksum: None,
            data: String::new(),
        }
    }

    fn wanted(number: u32) -> CompletedPart {
        CompletedPart {
            number,
            etag: format!("{number:032x}"),
            checksum: None,
        }
    }

    /// Complete holds its upload's lock while installing the object under the key's lock; with
    /// one stripe per table every lock collides, which must still not deadlock.
    #[tokio::test]
    async fn complete_does_not_deadlock_when_stripes_collide() {
        let root = tempfile::tempdir().unwrap();
        let mut store = FileStore::open(root.path(), false).await.unwrap();
        store.locks = super::super::locks::KeyLocks::with_stripes(1);
        store.upload_locks = super::super::locks::KeyLocks::with_stripes(1);
        let owner = crate::acl::Owner {
            id: "o".into(),
            display_name: "o".into(),
        };
        store.create_bucket("b", owner, None, None).await.unwrap();
        let upload = store
            .create_upload("b", "k", ObjectMetadata::default(), None, None)
            .await
            .unwrap();
        let body = futures_util::stream::iter([Ok::<_, StorageError>(Bytes::from_static(b"part"))]);
        let part = store
            .put_part(&upload, 1, BodyDigests::new(None), body, |_| Ok(None))
            .await
            .unwrap();
        let requested = [CompletedPart {
            number: 1,
            etag: part.etag,
            checksum: None,
        }];
        let done = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            store.complete_upload(&upload, &requested, 1, &WriteCondition::Always),
        )
        .await
        .expect("complete must not deadlock");
        assert!(done.is_ok());
    }

    #[test]
    fn complete_validation() {
        let stored = vec![part(1, 10), part(2, 10), part(3, 1)];
        assert!(validate_parts(&stored, &[wanted(1), wanted(2), wanted(3)], 10).is_ok());
        assert!(validate_parts(&stored, &[wanted(1), wanted(3)], 10).is_ok());
        assert!(matches!(
            validate_parts(&stored, &[wanted(2), wanted(1)], 10),
            Err(StorageError::InvalidPartOrder)
        ));
        assert!(matches!(
            validate_parts(&stored, &[wanted(1), wanted(1)], 10),
            Err(StorageError::InvalidPartOrder)
        ));
        assert!(matches!(
            validate_parts(&stored, &[wanted(4)], 10),
            Err(StorageError::InvalidPart(4))
        ));
        let mut wrong = wanted(1);
        wrong.etag = "0".repeat(32);
        assert!(matches!(
            validate_parts(&stored, &[wrong], 10),
            Err(StorageError::InvalidPart(1))
        ));
        assert!(matches!(
            validate_parts(&stored, &[wanted(1), wanted(2), wanted(3)], 11),
            Err(StorageError::PartTooSmall { part: 1, .. })
        ));
    }
}
