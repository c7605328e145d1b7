//! Striped per-key reader/writer locks.
//!
//! A PUT holds the write lock only around the renames that swap in a new version; a GET holds the
//! read lock only while it opens the data file and reads the metadata and MD5 files. So a reader
//! never pairs new metadata with old data (or the reverse), and nobody waits on a body transfer.
//!
//! The locks are not re-entrant and stripes are shared by unrelated keys, so one task must never
//! hold two locks of the same `KeyLocks`: whatever nests (CompleteMultipartUpload holds its
//! upload's lock while installing the object) uses separate tables.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

const STRIPES: usize = 256;

pub struct KeyLocks {
    stripes: Vec<RwLock<()>>,
}

impl KeyLocks {
    pub fn new() -> Self {
        Self::with_stripes(STRIPES)
    }

    pub fn with_stripes(count: usize) -> Self {
        Self {
            stripes: (0..count.max(1)).map(|_| RwLock::new(())).collect(),
        }
    }

    fn stripe(&self, bucket: &str, key: &str) -> &RwLock<()> {
        let mut hasher = DefaultHasher::new();
        bucket.hash(&mut hasher);
        key.hash(&mut hasher);
        &self.stripes[(hasher.finish() as usize) % self.stripes.len()]
    }

    pub async fn read(&self, bucket: &str, key: &str) -> RwLockReadGuard<'_, ()> {
        self.stripe(bucket, key).read().await
    }

    pub async fn write(&self, bucket: &str, key: &str) -> RwLockWriteGuard<'_, ()> {
        self.stripe(bucket, key).write().await
    }
}
