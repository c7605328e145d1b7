//! Every request as one record: the recent ones kept in a bounded ring for `getRequests`
//! (`logging.requestHistory` of them; 0 keeps none), streamed to subscribers (the `request`
//! event) and appended to a JSON-lines file (`logging.requestLogFile`). A record is built only
//! when one of them wants it.

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use tokio::io::AsyncWriteExt;
use tokio::sync::{broadcast, mpsc};

/// Records waiting for the file writer; past this they are dropped (and counted in the file).
const FILE_QUEUE: usize = 16 * 1024;
/// Records a slow event subscriber may fall behind by (then it is told how many it missed).
const FEED_QUEUE: usize = 4096;

/// One request as the server answered it.
#[derive(Debug, Clone)]
pub struct RequestRecord {
    /// Increases by one per request; `getRequests({ since })` returns the later ones.
    pub seq: u64,
    pub time: SystemTime,
    pub request_id: String,
    pub method: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub operation: &'static str,
    pub status: u16,
    pub error_code: Option<String>,
    /// The fault rule that hit the request.
    pub fault: Option<String>,
    /// Request body bytes read.
    pub bytes_in: u64,
    /// Response body bytes answered (its length).
    pub bytes_out: u64,
    /// The signer's access key id (`None`: unsigned, or signatures not checked).
    pub requester: Option<String>,
    pub duration_us: u64,
}

impl RequestRecord {
    /// The record as `getRequests`, the `request` event and the file carry it.
    pub fn to_json(&self) -> Value {
        json!({
            "seq": self.seq,
            "time": crate::xml::iso8601(self.time),
            "requestId": self.request_id,
            "method": self.method,
            "bucket": self.bucket,
            "key": self.key,
            "operation": self.operation,
            "status": self.status,
            "errorCode": self.error_code,
            "fault": self.fault,
            "bytesIn": self.bytes_in,
            "bytesOut": self.bytes_out,
            "requester": self.requester,
            "durationMs": self.duration_us as f64 / 1000.0,
        })
    }
}

pub struct RequestLog {
    capacity: usize,
    /// The next sequence number and the kept records, together.
    ring: Mutex<(u64, VecDeque<Arc<RequestRecord>>)>,
    feed: broadcast::Sender<Arc<RequestRecord>>,
    file: Option<FileSink>,
}

struct FileSink {
    /// Taken (closed) by `close`.
    queue: Mutex<Option<mpsc::Sender<Arc<RequestRecord>>>>,
    dropped: Arc<AtomicU64>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl RequestLog {
    /// Keeps `capacity` records; with `file`, appends every record to it as a JSON line (the
    /// writer task ends when the log is dropped, after writing what was queued).
    pub async fn new(capacity: usize, file: Option<&Path>) -> Result<Self, String> {
        let file = match file {
            Some(path) => Some(FileSink::open(path).await?),
            None => None,
        };
        Ok(Self {
            capacity,
            ring: Mutex::new((1, VecDeque::with_capacity(capacity.min(4096)))),
            feed: broadcast::channel(FEED_QUEUE).0,
            file,
        })
    }

    /// Whether a record would go anywhere (so the pipeline can skip gathering it).
    pub fn wanted(&self) -> bool {
        self.capacity > 0 || self.file.is_some() || self.feed.receiver_count() > 0
    }

    /// Keeps, streams and writes a record (built only when wanted), dropping the oldest kept
    /// one past capacity.
    pub fn record(&self, record: impl FnOnce(u64) -> RequestRecord) {
        if !self.wanted() {
            return;
        }
        let Ok(mut guard) = self.ring.lock() else {
            return;
        };
        let (next, ring) = &mut *guard;
        let record = Arc::new(record(*next));
        *next += 1;
        if self.capacity > 0 {
            if ring.len() == self.capacity {
                ring.pop_front();
            }
            ring.push_back(record.clone());
        }
        // Sent under the lock, so subscribers and the file see records in `seq` order.
        if self.feed.receiver_count() > 0 {
            let _ = self.feed.send(record.clone());
        }
        if let Some(file) = &self.file {
            let queued = file.queue.lock().ok().and_then(|queue| {
                let queue = queue.as_ref()?;
                queue.try_send(record).ok()
            });
            if queued.is_none() {
                file.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Ends the file writer once it has written every queued record (the server is stopping).
    pub async fn close(&self) {
        let Some(file) = &self.file else {
            return;
        };
        drop(file.queue.lock().ok().and_then(|mut queue| queue.take()));
        let writer = file.writer.lock().ok().and_then(|mut writer| writer.take());
        if let Some(writer) = writer {
            let _ = writer.await;
        }
    }

    /// The kept records after `since` (0: all), oldest first.
    pub fn since(&self, since: u64) -> Vec<Arc<RequestRecord>> {
        self.ring
            .lock()
            .map(|guard| guard.1.iter().filter(|r| r.seq > since).cloned().collect())
            .unwrap_or_default()
    }

    /// Every record from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RequestRecord>> {
        self.feed.subscribe()
    }
}

impl FileSink {
    async fn open(path: &Path) -> Result<Self, String> {
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await
            .map_err(|e| format!("logging.requestLogFile {}: {e}", path.display()))?;
        let (queue, mut records) = mpsc::channel::<Arc<RequestRecord>>(FILE_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        let path = path.to_path_buf();
        let writer = tokio::spawn(async move {
            let mut out = tokio::io::BufWriter::new(file);
            while let Some(record) = records.recv().await {
                let mut line = record.to_json().to_string();
                line.push('\n');
                let mut written = out.write_all(line.as_bytes()).await;
                let missed = lost.swap(0, Ordering::Relaxed);
                if missed > 0 && written.is_ok() {
                    let note = json!({ "droppedRecords": missed }).to_string() + "\n";
                    written = out.write_all(note.as_bytes()).await;
                }
                // Flushed whenever the queue is empty, so the file is current between bursts.
                if written.is_ok() && records.is_empty() {
                    written = out.flush().await;
                }
                if let Err(e) = written {
                    tracing::warn!(
                        "request log {}: {e}; no more records go there",
                        path.display()
                    );
                    return;
                }
            }
            let _ = out.flush().await;
        });
        Ok(Self {
            queue: Mutex::new(Some(queue)),
            dropped,
            writer: Mutex::new(Some(writer)),
        })
    }
}
