//! The store's change feed: every object and bucket that appears or goes, for whoever listens
//! (the management channel's events, waitForObject). Publishing costs one atomic load when
//! nobody listens.

use tokio::sync::broadcast;

/// How many changes a slow listener may fall behind before it misses some (it is told).
const BACKLOG: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A PUT, copy or form upload committed a new version of the key.
    ObjectCreated {
        bucket: String,
        key: String,
        size: u64,
        etag: String,
    },
    /// A multipart upload completed into the key.
    MultipartCompleted {
        bucket: String,
        key: String,
        size: u64,
        etag: String,
    },
    ObjectRemoved {
        bucket: String,
        key: String,
    },
    BucketCreated {
        bucket: String,
    },
    BucketRemoved {
        bucket: String,
    },
}

pub struct ChangeFeed {
    sender: broadcast::Sender<Change>,
}

impl ChangeFeed {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// Sends a change to the listeners; builds it only if there are any.
    pub fn publish(&self, change: impl FnOnce() -> Change) {
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(change());
        }
    }
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}
