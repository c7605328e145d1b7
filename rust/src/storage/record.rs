//! The version record: the one file whose rename commits a version of a key.
//!
//! A record holds everything about one version except its bytes: version id, ETag, size, time,
//! metadata, and the name of its data file. Data files are written once under a unique name and
//! never changed, so renaming a record into place switches body, ETag and metadata together; a
//! crash at any instant leaves the old record or the new one, each naming a whole data file.

use super::ObjectMetadata;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// The version id of an object written while versioning was off (or suspended).
pub const NULL_VERSION: &str = "null";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionRecord {
    pub version_id: String,
    /// A delete marker has no data, ETag or size.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
    /// The data file's name, in the directory of the key's head record.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data: String,
    /// The ETag without quotes (`hex` or `hex-N`).
    #[serde(default)]
    pub etag: String,
    #[serde(default)]
    pub size: u64,
    /// Nanoseconds since the Unix epoch; strictly increasing among a key's versions.
    pub modified_ns: u64,
    pub metadata: ObjectMetadata,
}

impl VersionRecord {
    pub fn last_modified(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_nanos(self.modified_ns)
    }

    pub fn last_modified_ms(&self) -> u64 {
        self.modified_ns / 1_000_000
    }

    pub fn to_json(&self) -> io::Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| io::Error::other(e.to_string()))
    }
}

pub fn nanos_since_epoch(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Reads a record; `None` when there is none (a missing file or a missing directory).
pub fn read(path: &Path) -> io::Result<Option<VersionRecord>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if super::is_missing(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The current version of `key` in the bucket directory and the path of its data file, read
/// without locks (for start-up steps and tests; requests go through `FileStore`).
pub fn current(
    bucket_dir: &Path,
    key: &str,
) -> io::Result<Option<(VersionRecord, std::path::PathBuf)>> {
    let paths = super::keypath::ObjectPaths::for_key(bucket_dir, key);
    Ok(read(&paths.record())?.and_then(|record| {
        let data = paths.data_file(&record.data)?;
        Some((record, data))
    }))
}
