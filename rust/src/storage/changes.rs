//! The store's change feed: every object and bucket that appears or goes, for whoever listens
//! (the management channel's events, waitForObject). Publishing costs one atomic load when
//! nobody listens. What caused a change (an operation and who asked) is whatever the caller
//! set with `caused_by` around the work; the store itself knows nothing of requests.

use std::future::Future;
use tokio::sync::broadcast;

/// How many changes a slow listener may fall behind before it misses some (it is told).
const BACKLOG: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A PUT, copy or form upload committed a new version of the key.
    ObjectCreated {
        bucket: String,
        key: String,
        /// `None` for an unversioned (`null`) version.
        version_id: Option<String>,
        size: u64,
        etag: String,
    },
    /// A multipart upload completed into the key.
    MultipartCompleted {
        bucket: String,
        key: String,
        version_id: Option<String>,
        size: u64,
        etag: String,
    },
    /// The key has no current version any more: removed, or hidden behind a delete marker
    /// (whose id `version_id` is).
    ObjectRemoved {
        bucket: String,
        key: String,
        version_id: Option<String>,
    },
    BucketCreated {
        bucket: String,
    },
    BucketRemoved {
        bucket: String,
    },
}

/// A change with what caused it, if the work was run under `caused_by`.
#[derive(Debug, Clone)]
pub struct Notice {
    pub change: Change,
    pub cause: Option<Cause>,
}

/// Who made a change: the operation's name and the requester's access key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub operation: &'static str,
    pub requester: Option<String>,
}

tokio::task_local! {
    static CAUSE: Cause;
}

/// Runs `work` with the changes it publishes attributed to `cause`.
pub async fn caused_by<F: Future>(cause: Cause, work: F) -> F::Output {
    CAUSE.scope(cause, work).await
}

pub struct ChangeFeed {
    sender: broadcast::Sender<Notice>,
}

impl ChangeFeed {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(BACKLOG).0,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.sender.subscribe()
    }

    /// Whether anybody listens (so callers can skip gathering a cause).
    pub fn listened(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    /// Sends a change to the listeners; builds it only if there are any.
    pub fn publish(&self, change: impl FnOnce() -> Change) {
        if self.listened() {
            let cause = CAUSE.try_with(Cause::clone).ok();
            let _ = self.sender.send(Notice {
                change: change(),
                cause,
            });
        }
    }
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self::new()
    }
}
