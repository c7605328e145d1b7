//! Bucket settings as last read or written, so a request does not read `._S3_bucket.json`
//! (and stat the bucket) each time it needs the owner, ACL, policy or versioning. Every change
//! goes through the store, which updates the cache after writing the file; a generation
//! counter keeps a read that raced a change from caching what it read before.

use super::BucketSettings;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default)]
pub struct SettingsCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    buckets: HashMap<String, Arc<BucketSettings>>,
    /// Bumped by every change; a read caches only if none happened since it began.
    generation: u64,
}

impl SettingsCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the map whole: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached settings of `bucket`, if any.
    pub fn get(&self, bucket: &str) -> Option<Arc<BucketSettings>> {
        self.lock().buckets.get(bucket).cloned()
    }

    /// The generation to hand back to [`Self::offer`] after reading the file.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Caches settings read from the file, unless a change happened since `generation`.
    pub fn offer(&self, bucket: &str, settings: Arc<BucketSettings>, generation: u64) {
        let mut inner = self.lock();
        if inner.generation == generation {
            inner.buckets.insert(bucket.to_string(), settings);
        }
    }

    /// After the file was written: the settings now in force.
    pub fn store(&self, bucket: &str, settings: BucketSettings) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.buckets.insert(bucket.to_string(), Arc::new(settings));
    }

    /// After the bucket was created or removed.
    pub fn forget(&self, bucket: &str) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.buckets.remove(bucket);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_a_change_is_not_cached() {
        let cache = SettingsCache::default();
        let before = cache.generation();
        cache.store(
            "b",
            BucketSettings {
                created_ms: 2,
                ..Default::default()
            },
        );
        cache.forget("b");
        cache.offer(
            "b",
            Arc::new(BucketSettings {
                created_ms: 1,
                ..Default::default()
            }),
            before,
        );
        assert!(cache.get("b").is_none());
        let now = cache.generation();
        cache.offer(
            "b",
            Arc::new(BucketSettings {
                created_ms: 3,
                ..Default::default()
            }),
            now,
        );
        assert_eq!(cache.get("b").map(|s| s.created_ms), Some(3));
    }
}
