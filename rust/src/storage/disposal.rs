//! Removing files that nothing names any more (a replaced version's data, a deleted object's
//! record) without making the request wait for it.
//!
//! On a file system mounted with `discard`, an unlink that frees blocks waits for the device to
//! trim them, on the thread that asked (a runtime thread: small file work runs inline). A
//! rename frees nothing. So a file is renamed into `.tmp/` at once (its directory is then as it
//! will stay, and a rename is as atomic a commit as an unlink) and unlinked there by one
//! worker thread, which a queue feeds: while deletes keep coming it is awake anyway, so a
//! delete costs no thread wake-up (a task on the blocking pool per file did, and that was a
//! fifth of a DELETE's CPU). Files up to 64 KiB are unlinked in place: their trim is short, and
//! cheaper than the detour. At most `MAX_PENDING` unlinks wait at a time; past that the file
//! is unlinked in place, so a flood of deletes queues nothing without bound. Whatever a crash
//! leaves in `.tmp/`, the start-up sweep removes.

use super::temp::unique_path;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

const MAX_PENDING: usize = 1024;
/// Files up to this size (records, small objects' data) are unlinked where they are.
const UNLINK_IN_PLACE_UP_TO: u64 = 64 * 1024;

#[derive(Clone)]
pub struct Disposal {
    tmp: PathBuf,
    pending: Arc<AtomicUsize>,
    /// The worker's queue; `None` if its thread could not be started (files go in place).
    queue: Option<mpsc::Sender<PathBuf>>,
}

impl Disposal {
    /// Disposes into `tmp`, unlinking there on a worker thread of its own, which ends when the
    /// last clone is dropped.
    pub fn new(tmp: PathBuf) -> Self {
        let pending = Arc::<AtomicUsize>::default();
        let (queue, files) = mpsc::channel::<PathBuf>();
        let worker_pending = pending.clone();
        let worker = std::thread::Builder::new()
            .name("rusts3-disposal".into())
            .spawn(move || {
                for file in files {
                    if let Err(e) = std::fs::remove_file(&file) {
                        tracing::warn!("removing {}: {e}", file.display());
                    }
                    worker_pending.fetch_sub(1, Ordering::AcqRel);
                }
            });
        Self {
            tmp,
            pending,
            queue: worker.is_ok().then_some(queue),
        }
    }

    /// Waits (at most `timeout`) until every file handed over so far is unlinked.
    pub async fn finish(&self, timeout: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.pending.load(Ordering::Acquire) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Removes `path` from its directory now and its file soon; a missing file answers
    /// `NotFound` as an unlink would.
    pub fn remove(&self, path: &Path) -> io::Result<()> {
        let Some(queue) = &self.queue else {
            return std::fs::remove_file(path);
        };
        // A small file frees a block or a few, whose trim is short: unlinking it here costs
        // less than the rename into `.tmp/` (a cross-directory rename takes the file system's
        // rename lock) and the worker's unlink after it.
        if std::fs::symlink_metadata(path)?.len() <= UNLINK_IN_PLACE_UP_TO {
            return std::fs::remove_file(path);
        }
        if self.pending.fetch_add(1, Ordering::AcqRel) >= MAX_PENDING {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            return std::fs::remove_file(path);
        }
        let aside = unique_path(&self.tmp, "removed");
        if let Err(e) = std::fs::rename(path, &aside) {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            return Err(e);
        }
        if let Err(mpsc::SendError(aside)) = queue.send(aside) {
            // The worker is gone (it panicked): unlink here.
            self.pending.fetch_sub(1, Ordering::AcqRel);
            return std::fs::remove_file(aside);
        }
        Ok(())
    }
}
