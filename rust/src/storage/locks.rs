//! Striped per-key reader/writer locks.
//!
//! A PUT holds the write lock only around the renames that swap in a new version; a GET holds the
//! read lock only while it opens the data file and reads the metadata and MD5 files. So a reader
//! never pairs new metadata with old data (or the reverse), and nobody waits on a body transfer.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

const STRIPES: usize = 256;

pub struct KeyLocks {
    stripes: Vec<RwLock<()>>,
}

impl KeyLocks {
    pub fn new() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| RwLock::new(())).collect(),
        }
    }

    fn stripe(&self, bucket: &str, key: &str) -> &RwLock<()> {
        let mut hasher = DefaultHasher::new();
        bucket.hash(&mut hasher);
        key.hash(&mut hasher);
        &self.stripes[(hasher.finish() as usize) % STRIPES]
    }

    pub async fn read(&self, bucket: &str, key: &str) -> RwLockReadGuard<'_, ()> {
        self.stripe(bucket, key).read().await
    }

    pub async fn write(&self, bucket: &str, key: &str) -> RwLockWriteGuard<'_, ()> {
        self.stripe(bucket, key).write().await
    }
}
