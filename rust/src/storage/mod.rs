//! `FileStore`: buckets, keys and byte streams on disk. It never sees HTTP.
//!
//! Layout under the root directory:
//! * `{bucket}/` — one directory per bucket, keys mapped by [`keypath`], each key's versions
//!   recorded as [`record`] describes;
//! * `{bucket}/._S3_bucket.json` — bucket settings (creation date);
//! * `.tmp/` — uploads being written and files being removed (`disposal.rs`); swept at start-up;
//! * `.multipart/{upload_id}/` — multipart parts in flight.
//!
//! Names starting with `.` are never buckets, so internal directories cannot collide with one.

pub mod changes;
mod completions;
mod dir_cache;
mod disposal;
mod durable;
pub mod keypath;
pub mod lifecycle;
mod listing;
mod locks;
mod objects;
pub mod record;
pub mod recovery;
mod settings_cache;
mod temp;
mod uploads;
pub mod versions;

pub use listing::{ListEntry, ListPage, ListQuery, VersionEntry, VersionPage};
pub use uploads::{CompletedPart, UploadInfo};
pub use versions::Versioning;

use crate::acl::{Acl, Owner};
use crate::checksum::FinishedDigests;
use crate::config::Fsync;
use keypath::BUCKET_SETTINGS_FILE;
use locks::KeyLocks;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;
use temp::TempPath;

#[derive(Debug)]
pub enum StorageError {
    NoSuchBucket,
    NoSuchKey,
    /// A version id that names no version of the key.
    NoSuchVersion,
    /// Object lock protects the version (retention or legal hold).
    ObjectLocked,
    /// Object lock headers or settings on a bucket without object lock.
    NoObjectLock,
    /// RestoreObject of a version that is not in an archive storage class.
    NotArchived,
    /// The version asked for (the latest, or one by id) is a delete marker.
    DeleteMarker {
        version_id: String,
        /// Asked for by its id (rather than as the latest version).
        requested: bool,
    },
    NoSuchUpload,
    BucketAlreadyExists,
    BucketNotEmpty,
    /// A conditional write found the current version not as required.
    PreconditionFailed,
    /// CompleteMultipartUpload named a part that was not uploaded or has another ETag/checksum.
    InvalidPart(u32),
    /// CompleteMultipartUpload listed parts out of ascending order.
    InvalidPartOrder,
    /// A part other than the last is smaller than the minimum part size.
    PartTooSmall {
        part: u32,
        size: u64,
        min: u64,
    },
    Io(io::Error),
}

impl From<io::Error> for StorageError {
    fn from(e: io::Error) -> Self {
        StorageError::Io(e)
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoSuchBucket => write!(f, "no such bucket"),
            Self::NoSuchKey => write!(f, "no such key"),
            Self::NoSuchVersion => write!(f, "no such version"),
            Self::ObjectLocked => write!(f, "protected by object lock"),
            Self::NotArchived => write!(f, "not in an archive storage class"),
            Self::NoObjectLock => write!(f, "the bucket has no object lock"),
            Self::DeleteMarker { version_id, .. } => write!(f, "delete marker {version_id}"),
            Self::BucketAlreadyExists => write!(f, "bucket already exists"),
            Self::BucketNotEmpty => write!(f, "bucket not empty"),
            Self::NoSuchUpload => write!(f, "no such multipart upload"),
            Self::PreconditionFailed => write!(f, "precondition failed"),
            Self::InvalidPart(n) => write!(f, "invalid part {n}"),
            Self::InvalidPartOrder => write!(f, "parts not in ascending order"),
            Self::PartTooSmall { part, size, min } => {
                write!(
                    f,
                    "part {part} has {size} bytes, less than the minimum {min}"
                )
            }
            Self::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

pub type StorageResult<T> = Result<T, StorageError>;

/// When a write may replace the current version of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteCondition {
    Always,
    /// Only if no version exists (`If-None-Match: *`).
    IfAbsent,
    /// Only if the current version has this ETag (without quotes); a missing key is NoSuchKey.
    IfMatch(String),
}

/// What is stored about an object besides its bytes, in its version record.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectMetadata {
    /// The full key; needed to list objects whose on-disk name is a hash.
    #[serde(default)]
    pub key: String,
    /// Stored response headers by lower-case name: content-type, cache-control, content-*,
    /// expires, x-amz-meta-*. Values are the header bytes read as Latin-1, so any byte
    /// sequence a client sent comes back unchanged.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The flexible checksum sent with the upload, verified and kept: (algorithm, base64 value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<StoredChecksum>,
    /// Sizes of the parts of an object made by a multipart upload, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<u64>,
    /// The object's tag set.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    /// The object's owner and ACL; `None` for objects from before ACLs were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Acl>,
    /// Object lock: until when this version may not be deleted or overwritten in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retention>,
    /// Object lock: a legal hold keeps the version until it is lifted, whatever the retention.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legal_hold: bool,
    /// RestoreObject: until when (ms since the epoch) an archived version has a readable copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_until_ms: Option<u64>,
}

/// The stored header that holds an object's storage class (absent: STANDARD).
pub const STORAGE_CLASS_HEADER: &str = "x-amz-storage-class";

impl ObjectMetadata {
    /// S3's storage class of the object: what it was written (or transitioned) with.
    pub fn storage_class(&self) -> &str {
        self.headers
            .get(STORAGE_CLASS_HEADER)
            .map_or("STANDARD", String::as_str)
    }

    /// GLACIER and DEEP_ARCHIVE versions are read only through a restored copy.
    pub fn is_archived(&self) -> bool {
        matches!(self.storage_class(), "GLACIER" | "DEEP_ARCHIVE")
    }

    /// Until when the restored copy of an archived version lasts, while it does.
    pub fn restored_until(&self, now_ms: u64) -> Option<u64> {
        self.restored_until_ms
            .filter(|until| self.is_archived() && *until > now_ms)
    }

    /// Whether GetObject and copies may read the bytes now.
    pub fn readable(&self, now_ms: u64) -> bool {
        !self.is_archived() || self.restored_until(now_ms).is_some()
    }
}

/// An object lock retention of one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    pub mode: RetentionMode,
    /// Milliseconds since the Unix epoch.
    pub retain_until_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RetentionMode {
    /// Whoever may bypass governance retention (`x-amz-bypass-governance-retention`) may
    /// shorten it or delete the version.
    Governance,
    /// Nobody may shorten it or delete the version before the date.
    Compliance,
}

impl RetentionMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Governance => "GOVERNANCE",
            Self::Compliance => "COMPLIANCE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "GOVERNANCE" => Some(Self::Governance),
            "COMPLIANCE" => Some(Self::Compliance),
            _ => None,
        }
    }
}

impl Retention {
    pub fn active(&self, now_ms: u64) -> bool {
        self.retain_until_ms > now_ms
    }
}

/// A bucket's object lock configuration (present once object lock is enabled).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectLockSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_retention: Option<DefaultRetention>,
}

/// The retention new versions get when their upload names none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultRetention {
    pub mode: RetentionMode,
    /// Exactly one of days and years.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub years: Option<u32>,
}

impl DefaultRetention {
    /// The retention of a version written at `now_ms`.
    pub fn applied(&self, now_ms: u64) -> Retention {
        let days = u64::from(self.days.unwrap_or(0)) + u64::from(self.years.unwrap_or(0)) * 365;
        Retention {
            mode: self.mode,
            retain_until_ms: now_ms.saturating_add(days.saturating_mul(86_400_000)),
        }
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// One `CORSRule` of a bucket (or the server-wide default), as stored; `cors` matches requests
/// against it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<u64>,
}

/// One tag of an object's or a bucket's tag set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredChecksum {
    pub algorithm: String,
    /// Base64 digest; for a composite multipart checksum, `<base64>-<parts>`.
    pub value: String,
    /// `FULL_OBJECT` or `COMPOSITE`.
    #[serde(default = "full_object")]
    pub checksum_type: String,
}

fn full_object() -> String {
    "FULL_OBJECT".to_string()
}

/// The on-disk record of a bucket's settings (`{bucket}/._S3_bucket.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BucketSettings {
    /// Milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// The bucket's tag set; `None` when none was ever set (GetBucketTagging → NoSuchTagSet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    /// The bucket's CORS rules; `None` when none were set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<Vec<CorsRule>>,
    /// Who created the bucket; `None` for buckets from before owners were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// The bucket's ACL; `None` means private to its owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Acl>,
    /// The LocationConstraint it was created with; `None`: the server's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `Enabled` or `Suspended`; `None` for a bucket that was never versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<String>,
    /// Present once object lock is enabled (it never goes away).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_lock: Option<ObjectLockSettings>,
    /// The bucket's lifecycle rules; `None` when none were set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle: Option<Vec<lifecycle::LifecycleRule>>,
    /// The bucket policy, the JSON document as it was put; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The bucket's public access block; `None` when none was set (nothing is blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access_block: Option<PublicAccessBlock>,
    /// The bucket's object ownership control; `None` when none was set (ObjectWriter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<ObjectOwnership>,
}

/// S3 Object Ownership: who owns what others write into a bucket, and whether ACLs count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectOwnership {
    /// ACLs are disabled: the bucket owner owns every object; only policies grant access.
    BucketOwnerEnforced,
    /// The bucket owner owns objects written with the `bucket-owner-full-control` ACL.
    BucketOwnerPreferred,
    /// The writer owns what it writes (S3's rule before 2023, and the default here).
    ObjectWriter,
}

impl ObjectOwnership {
    pub fn name(self) -> &'static str {
        match self {
            Self::BucketOwnerEnforced => "BucketOwnerEnforced",
            Self::BucketOwnerPreferred => "BucketOwnerPreferred",
            Self::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::BucketOwnerEnforced,
            Self::BucketOwnerPreferred,
            Self::ObjectWriter,
        ]
        .into_iter()
        .find(|o| o.name() == name.trim())
    }
}

/// S3's public access block of a bucket: which public ACLs and policies it refuses or ignores.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl BucketSettings {
    pub fn versioning(&self) -> Versioning {
        match self.versioning.as_deref() {
            Some("Enabled") => Versioning::Enabled,
            Some("Suspended") => Versioning::Suspended,
            _ => Versioning::Off,
        }
    }
}

/// Who owns a bucket and who may do what with it.
#[derive(Debug, Clone, Default)]
pub struct BucketAccess {
    pub owner: Option<Owner>,
    pub acl: Option<Acl>,
    /// The bucket policy document, if there is one.
    pub policy: Option<String>,
    pub public_access_block: Option<PublicAccessBlock>,
    pub ownership: Option<ObjectOwnership>,
}

/// Lock namespace for bucket settings (no bucket name can contain NUL).
const BUCKET_SETTINGS_LOCK: &str = "\0bucket-settings";

/// An object's stat-like facts, as needed by HEAD, GET and listings.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub size: u64,
    pub last_modified: SystemTime,
    /// The ETag without quotes (`hex` or `hex-N`).
    pub etag: String,
    /// `null` unless the version was written while versioning was enabled.
    pub version_id: String,
    pub metadata: ObjectMetadata,
}

/// Preconditions of a DeleteObject, on the key's current version (S3's conditional deletes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteCondition {
    /// `If-Match`: an ETag (without quotes) or `*`. A key without a current version (absent, or
    /// behind a delete marker) is then NoSuchKey.
    pub if_match: Option<String>,
    /// `x-amz-if-match-last-modified-time`, whole seconds since the Unix epoch.
    pub modified_secs: Option<u64>,
    /// `x-amz-if-match-size`.
    pub size: Option<u64>,
    /// `x-amz-bypass-governance-retention: true`: GOVERNANCE retention does not protect.
    pub bypass_governance: bool,
    /// Who deletes: the owner of a delete marker the delete makes (`None`: the bucket's owner,
    /// as for markers a lifecycle rule makes).
    pub deleter: Option<crate::acl::Owner>,
}

/// The result of a DeleteObject.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteOutcome {
    /// The version removed, or the delete marker made (none in an unversioned bucket).
    pub version_id: Option<String>,
    /// A delete marker was made, or the version removed was one.
    pub delete_marker: bool,
}

/// An object opened for reading: the facts plus a handle whose contents cannot change under us
/// (data files are never rewritten; a later overwrite writes a new one).
pub struct OpenObject {
    pub info: ObjectInfo,
    pub file: std::fs::File,
}

pub struct BucketInfo {
    pub name: String,
    pub created: SystemTime,
    pub owner: Option<Owner>,
    /// The LocationConstraint it was created with; `None`: the server's region.
    pub region: Option<String>,
}

/// The result of a successful PUT.
#[derive(Debug, Clone)]
pub struct PutOutcome {
    pub etag: String,
    /// The new version's id, when the bucket has versioning enabled.
    pub version_id: Option<String>,
    pub last_modified: SystemTime,
    pub digests: FinishedDigests,
}

pub struct FileStore {
    root: PathBuf,
    tmp: PathBuf,
    /// Object keys and bucket settings.
    locks: KeyLocks,
    /// Multipart uploads; separate because Complete holds one while installing the object.
    upload_locks: KeyLocks,
    /// The answers of recent CompleteMultipartUploads, for clients that retry one.
    completions: completions::RecentCompletions,
    /// Whether any bucket has lifecycle rules (`lifecycle::UNKNOWN` until looked at), so reads
    /// need not open bucket settings for headers no rule will produce.
    lifecycle_in_use: std::sync::atomic::AtomicU8,
    /// One per bucket (key ""): whatever writes into a bucket holds it shared; creating and
    /// deleting the bucket hold it exclusively, so a bucket is never deleted under a commit.
    /// Taken before any lock of `locks`; never held while taking an upload lock.
    bucket_locks: KeyLocks,
    changes: changes::ChangeFeed,
    /// What is fsynced before a write is acknowledged.
    fsync: Fsync,
    /// Big directories' entries in key order, for listings.
    dir_cache: Arc<dir_cache::DirCache>,
    /// Bucket settings as last read or written.
    settings_cache: settings_cache::SettingsCache,
    /// Removes files no record names any more without waiting for the disk.
    disposal: disposal::Disposal,
}

impl FileStore {
    /// Opens (creating if needed) a store at `root`, sweeping leftovers of interrupted uploads.
    pub async fn open(root: &Path, clean_slate: bool) -> io::Result<Self> {
        if clean_slate && tokio::fs::try_exists(root).await? {
            let mut entries = tokio::fs::read_dir(root).await?;
            while let Some(entry) = entries.next_entry().await? {
                let path = entry.path();
                if entry.file_type().await?.is_dir() {
                    tokio::fs::remove_dir_all(&path).await?;
                } else {
                    tokio::fs::remove_file(&path).await?;
                }
            }
        }
        tokio::fs::create_dir_all(root).await?;
        let root = tokio::fs::canonicalize(root).await?;
        let tmp = root.join(".tmp");
        if tokio::fs::try_exists(&tmp).await? {
            tokio::fs::remove_dir_all(&tmp).await?;
        }
        tokio::fs::create_dir_all(&tmp).await?;
        // Prove the directory is writable now, not at the first upload.
        let probe = tmp.join("write-probe");
        tokio::fs::write(&probe, b"").await?;
        tokio::fs::remove_file(&probe).await?;
        let (check_root, check_tmp) = (root.clone(), tmp.clone());
        tokio::task::spawn_blocking(move || check_layout(&check_root, &check_tmp))
            .await
            .map_err(|e| io::Error::other(e.to_string()))??;
        Ok(Self {
            disposal: disposal::Disposal::new(tmp.clone()),
            root,
            tmp,
            locks: KeyLocks::new(),
            upload_locks: KeyLocks::new(),
            completions: Default::default(),
            lifecycle_in_use: std::sync::atomic::AtomicU8::new(lifecycle::UNKNOWN),
            bucket_locks: KeyLocks::new(),
            changes: changes::ChangeFeed::new(),
            fsync: Fsync::None,
            dir_cache: Default::default(),
            settings_cache: Default::default(),
        })
    }

    /// Sets what is fsynced before a write is acknowledged (`storage.fsync`).
    pub fn with_fsync(mut self, fsync: Fsync) -> Self {
        self.fsync = fsync;
        self
    }

    /// Whether records and directories are synced (`full`).
    fn sync_records(&self) -> bool {
        self.fsync == Fsync::Full
    }

    /// Records that the store was closed cleanly (nothing is being written any more), so the
    /// next start can skip the check for leftovers of a crash.
    /// Waits until the files removed in the background are gone (see `disposal`).
    pub async fn finish_removals(&self) {
        self.disposal
            .finish(std::time::Duration::from_secs(5))
            .await;
    }

    pub async fn mark_clean(&self) {
        let root = self.root.clone();
        let marked = tokio::task::spawn_blocking(move || recovery::mark_clean(&root)).await;
        if let Ok(Err(e)) = marked {
            tracing::warn!("cannot mark the store as closed cleanly: {e}");
        }
    }

    /// Where uploads are written before they are committed (same file system as the buckets).
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// What changed in the store, as it happens.
    pub fn changes(&self) -> &changes::ChangeFeed {
        &self.changes
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The bucket's directory, if the name could be one (callers validate names fully).
    fn bucket_dir(&self, bucket: &str) -> StorageResult<PathBuf> {
        if bucket.is_empty() || bucket.starts_with('.') || bucket.contains(['/', '\\', '\0']) {
            return Err(StorageError::NoSuchBucket);
        }
        Ok(self.root.join(bucket))
    }

    async fn existing_bucket_dir(&self, bucket: &str) -> StorageResult<PathBuf> {
        let dir = self.bucket_dir(bucket)?;
        // A stat, on the calling thread (see `file_work`).
        match std::fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(dir),
            Ok(_) => Err(StorageError::NoSuchBucket),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StorageError::NoSuchBucket),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn bucket_exists(&self, bucket: &str) -> StorageResult<bool> {
        match self.existing_bucket_dir(bucket).await {
            Ok(_) => Ok(true),
            Err(StorageError::NoSuchBucket) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn list_buckets(&self) -> StorageResult<Vec<BucketInfo>> {
        let mut buckets = Vec::new();
        let mut entries = tokio::fs::read_dir(&self.root).await?;
        while let Some(entry) = entries.next_entry().await? {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') || !entry.file_type().await?.is_dir() {
                continue;
            }
            let created = self.bucket_created(&entry.path()).await;
            let settings = self
                .read_bucket_settings(&entry.path())
                .await
                .unwrap_or_default();
            buckets.push(BucketInfo {
                name,
                created,
                owner: settings.owner,
                region: settings.region,
            });
        }
        buckets.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(buckets)
    }

    async fn bucket_created(&self, dir: &Path) -> SystemTime {
        if let Ok(settings) = self.read_bucket_settings(dir).await {
            if settings.created_ms > 0 {
                return SystemTime::UNIX_EPOCH
                    + std::time::Duration::from_millis(settings.created_ms);
            }
        }
        // A directory made by hand or by an older layout: its own timestamps are the best guess.
        match tokio::fs::metadata(dir).await {
            Ok(m) => m
                .created()
                .or_else(|_| m.modified())
                .unwrap_or(SystemTime::now()),
            Err(_) => SystemTime::now(),
        }
    }

    /// Creates a bucket owned by `owner`, with `acl` (private when `None`).
    pub async fn create_bucket(
        &self,
        bucket: &str,
        owner: Owner,
        acl: Option<Acl>,
        region: Option<String>,
    ) -> StorageResult<()> {
        let dir = self.bucket_dir(bucket)?;
        let _bucket = self.bucket_locks.write(bucket, "").await;
        match tokio::fs::create_dir(&dir).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(StorageError::BucketAlreadyExists)
            }
            Err(e) => return Err(e.into()),
        }
        let created_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let settings = serde_json::to_vec(&BucketSettings {
            created_ms,
            owner: Some(owner),
            acl,
            region,
            ..Default::default()
        })
        .map_err(|e| io::Error::other(e.to_string()))?;
        self.write_atomically(&dir.join(BUCKET_SETTINGS_FILE), &settings)
            .await?;
        self.settings_cache.forget(bucket);
        self.changes.publish(|| changes::Change::BucketCreated {
            bucket: bucket.to_string(),
        });
        Ok(())
    }

    /// Deletes a bucket: refused while it holds objects, unless `force` (then its objects go
    /// with it). Whole or not at all: its directory is renamed away in one step.
    pub async fn delete_bucket(&self, bucket: &str, force: bool) -> StorageResult<()> {
        self.clear_out(bucket, "deleted-bucket", true, move |dir, away| {
            if !force && listing::contains_object(dir)? {
                return Err(StorageError::BucketNotEmpty);
            }
            std::fs::rename(dir, away)?;
            Ok(())
        })
        .await?;
        self.changes.publish(|| changes::Change::BucketRemoved {
            bucket: bucket.to_string(),
        });
        Ok(())
    }

    /// Removes every object and unfinished upload of a bucket; the bucket and its settings stay.
    pub async fn empty_bucket(&self, bucket: &str) -> StorageResult<()> {
        self.clear_out(bucket, "emptied-bucket", false, |dir, away| {
            std::fs::create_dir(away)?;
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                if entry.file_name() != BUCKET_SETTINGS_FILE {
                    std::fs::rename(entry.path(), away.join(entry.file_name()))?;
                }
            }
            Ok(())
        })
        .await
    }

    /// Runs `move_away(bucket dir, graveyard)` under the bucket's exclusive lock, so no commit
    /// lands meanwhile (and, when `removes_bucket`, its cached settings go in the same step),
    /// then removes what it moved, and the bucket's uploads, outside the lock.
    async fn clear_out(
        &self,
        bucket: &str,
        kind: &str,
        removes_bucket: bool,
        move_away: impl FnOnce(&Path, &Path) -> StorageResult<()> + Send + 'static,
    ) -> StorageResult<()> {
        let dir = self.existing_bucket_dir(bucket).await?;
        let graveyard = self.temp_path(kind);
        {
            let _bucket = self.bucket_locks.write(bucket, "").await;
            let away = graveyard.path().to_path_buf();
            blocking(move || {
                // Checked again under the lock: a concurrent delete may have won.
                if !dir.is_dir() {
                    return Err(StorageError::NoSuchBucket);
                }
                move_away(&dir, &away)
            })
            .await?;
            if removes_bucket {
                self.settings_cache.forget(bucket);
            }
        }
        self.bury(bucket, graveyard).await;
        Ok(())
    }

    /// After a bucket's contents were moved to `graveyard`: removes them and the bucket's
    /// uploads, outside the bucket lock (a CompleteMultipartUpload holds its upload's lock while
    /// it waits for the bucket's). The start-up sweep of .tmp removes whatever fails here.
    async fn bury(&self, bucket: &str, graveyard: TempPath) {
        if let Err(e) = self.abort_bucket_uploads(bucket).await {
            tracing::warn!("removing bucket {bucket}'s uploads: {e}");
        }
        if let Err(e) = tokio::fs::remove_dir_all(graveyard.path()).await {
            tracing::warn!("removing bucket {bucket}'s old files: {e}");
        }
        graveyard.disarm();
    }

    async fn write_atomically(&self, target: &Path, bytes: &[u8]) -> io::Result<()> {
        let tmp = self.temp_path("file");
        let (path, target, bytes, sync) = (
            tmp.path().to_path_buf(),
            target.to_path_buf(),
            bytes.to_vec(),
            self.sync_records(),
        );
        tokio::task::spawn_blocking(move || {
            durable::write_new(&path, &bytes, sync)?;
            std::fs::rename(&path, &target)?;
            durable::sync_parent(&target, sync)
        })
        .await
        .map_err(|e| io::Error::other(e.to_string()))??;
        tmp.disarm();
        Ok(())
    }

    fn temp_path(&self, kind: &str) -> TempPath {
        TempPath::new(temp::unique_path(&self.tmp, kind))
    }

    pub(super) async fn read_bucket_settings(&self, dir: &Path) -> StorageResult<BucketSettings> {
        // A small file, read on the calling thread (see `file_work`).
        match std::fs::read(dir.join(BUCKET_SETTINGS_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| StorageError::Io(io::Error::new(io::ErrorKind::InvalidData, e))),
            Err(e) if is_missing(&e) => Ok(BucketSettings::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// A bucket's settings, from the cache or its file; NoSuchBucket if there is no bucket.
    pub(super) async fn bucket_settings(&self, bucket: &str) -> StorageResult<Arc<BucketSettings>> {
        if let Some(settings) = self.settings_cache.get(bucket) {
            return Ok(settings);
        }
        let generation = self.settings_cache.generation();
        let dir = self.existing_bucket_dir(bucket).await?;
        let settings = Arc::new(self.read_bucket_settings(&dir).await?);
        self.settings_cache
            .offer(bucket, settings.clone(), generation);
        Ok(settings)
    }

    pub async fn bucket_tags(&self, bucket: &str) -> StorageResult<Option<Vec<Tag>>> {
        Ok(self.bucket_settings(bucket).await?.tags.clone())
    }

    /// Replaces (or with `None` removes) the bucket's tag set.
    pub async fn set_bucket_tags(&self, bucket: &str, tags: Option<Vec<Tag>>) -> StorageResult<()> {
        self.update_bucket_settings(bucket, |s| s.tags = tags).await
    }

    pub async fn bucket_cors(&self, bucket: &str) -> StorageResult<Option<Vec<CorsRule>>> {
        Ok(self.bucket_settings(bucket).await?.cors.clone())
    }

    /// The LocationConstraint a bucket was created with (`None`: the server's region).
    pub async fn bucket_versioning(&self, bucket: &str) -> StorageResult<Versioning> {
        Ok(self.bucket_settings(bucket).await?.versioning())
    }

    /// Turns versioning on or suspends it (a bucket never goes back to unversioned).
    pub async fn set_bucket_versioning(&self, bucket: &str, enabled: bool) -> StorageResult<()> {
        let status = if enabled { "Enabled" } else { "Suspended" };
        self.update_bucket_settings(bucket, |s| s.versioning = Some(status.to_string()))
            .await
    }

    /// The bucket's object lock configuration; `None` when object lock is not enabled.
    pub async fn bucket_object_lock(
        &self,
        bucket: &str,
    ) -> StorageResult<Option<ObjectLockSettings>> {
        Ok(self.bucket_settings(bucket).await?.object_lock.clone())
    }

    /// Enables object lock (and with it versioning, for good) and sets its configuration.
    pub async fn set_bucket_object_lock(
        &self,
        bucket: &str,
        settings: ObjectLockSettings,
    ) -> StorageResult<()> {
        self.update_bucket_settings(bucket, |s| {
            s.versioning = Some("Enabled".to_string());
            s.object_lock = Some(settings);
        })
        .await
    }

    pub async fn bucket_region(&self, bucket: &str) -> StorageResult<Option<String>> {
        Ok(self.bucket_settings(bucket).await?.region.clone())
    }

    pub async fn bucket_access(&self, bucket: &str) -> StorageResult<BucketAccess> {
        let settings = self.bucket_settings(bucket).await?;
        Ok(BucketAccess {
            owner: settings.owner.clone(),
            acl: settings.acl.clone(),
            policy: settings.policy.clone(),
            public_access_block: settings.public_access_block,
            ownership: settings.ownership,
        })
    }

    /// The bucket's object ownership control (`None`: none set, ObjectWriter).
    pub async fn bucket_ownership(&self, bucket: &str) -> StorageResult<Option<ObjectOwnership>> {
        Ok(self.bucket_settings(bucket).await?.ownership)
    }

    /// Replaces (or with `None` removes) the bucket's object ownership control.
    pub async fn set_bucket_ownership(
        &self,
        bucket: &str,
        ownership: Option<ObjectOwnership>,
    ) -> StorageResult<()> {
        self.update_bucket_settings(bucket, |s| s.ownership = ownership)
            .await
    }

    /// Replaces (or with `None` removes) the bucket's public access block.
    pub async fn set_bucket_public_access_block(
        &self,
        bucket: &str,
        block: Option<PublicAccessBlock>,
    ) -> StorageResult<()> {
        self.update_bucket_settings(bucket, |s| s.public_access_block = block)
            .await
    }

    /// Replaces (or with `None` removes) the bucket policy document.
    pub async fn set_bucket_policy(
        &self,
        bucket: &str,
        policy: Option<String>,
    ) -> StorageResult<()> {
        self.update_bucket_settings(bucket, |s| s.policy = policy)
            .await
    }

    pub async fn set_bucket_acl(&self, bucket: &str, acl: Acl) -> StorageResult<()> {
        self.update_bucket_settings(bucket, |s| {
            s.owner.get_or_insert_with(|| acl.owner.clone());
            s.acl = Some(acl);
        })
        .await
    }

    /// Replaces (or with `None` removes) the bucket's CORS rules.
    pub async fn set_bucket_cors(
        &self,
        bucket: &str,
        rules: Option<Vec<CorsRule>>,
    ) -> StorageResult<()> {
        self.update_bucket_settings(bucket, |s| s.cors = rules)
            .await
    }

    /// Read-modify-write of the bucket settings file, serialized per bucket.
    async fn update_bucket_settings(
        &self,
        bucket: &str,
        change: impl FnOnce(&mut BucketSettings),
    ) -> StorageResult<()> {
        let dir = self.existing_bucket_dir(bucket).await?;
        let _bucket = self.bucket_locks.read(bucket, "").await;
        let _guard = self.locks.write(BUCKET_SETTINGS_LOCK, bucket).await;
        let mut settings = self.read_bucket_settings(&dir).await?;
        if settings.created_ms == 0 {
            settings.created_ms = self
                .bucket_created(&dir)
                .await
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
        }
        change(&mut settings);
        let json = serde_json::to_vec(&settings).map_err(|e| io::Error::other(e.to_string()))?;
        self.write_atomically(&dir.join(BUCKET_SETTINGS_FILE), &json)
            .await?;
        self.settings_cache.store(bucket, settings);
        Ok(())
    }

    /// One page of ListObjectVersions: keys in order, each key's versions newest first.
    pub async fn list_object_versions(
        &self,
        bucket: &str,
        query: ListQuery,
        version_marker: Option<String>,
    ) -> StorageResult<VersionPage> {
        let bucket_dir = self.existing_bucket_dir(bucket).await?;
        blocking(move || {
            listing::list_versions_page(&bucket_dir, &query, version_marker.as_deref())
                .map_err(StorageError::from)
        })
        .await
    }

    /// One page of a listing, in UTF-8 byte order of keys.
    pub async fn list_objects(&self, bucket: &str, query: ListQuery) -> StorageResult<ListPage> {
        let bucket_dir = self.existing_bucket_dir(bucket).await?;
        let cache = self.dir_cache.clone();
        tokio::task::spawn_blocking(move || listing::list_page(&bucket_dir, &query, &cache))
            .await
            .map_err(|e| io::Error::other(e.to_string()))?
            .map_err(StorageError::from)
    }

    /// How many current objects a bucket holds and their total size, counted now by listing it
    /// a page at a time.
    pub async fn bucket_usage(&self, bucket: &str) -> StorageResult<BucketUsage> {
        let mut usage = BucketUsage::default();
        let mut marker = None::<String>;
        loop {
            let query = ListQuery {
                prefix: String::new(),
                delimiter: None,
                marker: marker.take(),
                max_keys: 1000,
                with_owner: false,
            };
            let page = self.list_objects(bucket, query).await?;
            for entry in &page.entries {
                if let ListEntry::Object { size, .. } = entry {
                    usage.objects += 1;
                    usage.bytes = usage.bytes.saturating_add(*size);
                }
            }
            match page.entries.last() {
                Some(last) if page.is_truncated => marker = Some(last.marker().to_string()),
                _ => return Ok(usage),
            }
        }
    }
}

/// A bucket's current objects and their total size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BucketUsage {
    pub objects: u64,
    pub bytes: u64,
}

/// Before serving: upgrades an earlier layout and removes what an unclean stop left behind.
fn check_layout(root: &Path, tmp: &Path) -> io::Result<()> {
    if !recovery::needs_check(root)? {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let report = recovery::check_tree(root, tmp)?;
    if report != recovery::CheckReport::default() {
        tracing::info!(
            "checked the store in {:?}: {} object(s) upgraded to version records, {} leftover file(s) removed, {} object(s) left for a later start",
            started.elapsed(),
            report.upgraded,
            report.removed,
            report.skipped
        );
    }
    if report.skipped == 0 {
        recovery::mark_layout(root)?;
    }
    Ok(())
}

/// Runs a request's short file work (a stat, reading or renaming a small record, opening a
/// file) on the calling thread. On a local file system it takes microseconds, less than the two
/// thread switches of a hop to the blocking pool, which the profile showed as half the server's
/// CPU on 4 KiB requests. Work that waits for the disk (`fsync`) still hops, so that it cannot
/// hold up the runtime's workers.
async fn file_work<T: Send + 'static>(
    waits_for_disk: bool,
    work: impl FnOnce() -> StorageResult<T> + Send + 'static,
) -> StorageResult<T> {
    if waits_for_disk {
        blocking(work).await
    } else {
        work()
    }
}

/// Runs file work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> StorageResult<T> + Send + 'static,
) -> StorageResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StorageError::Io(io::Error::other(e.to_string())))?
}

fn is_missing(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || is_not_a_directory(e)
}

fn is_not_a_directory(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotADirectory
}
