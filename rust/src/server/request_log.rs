//! The recent requests, kept in a bounded ring for `getRequests`, so a failing test can print
//! what the server saw. `logging.requestHistory` sets how many (0 keeps none).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

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
    pub duration_us: u64,
}

pub struct RequestLog {
    capacity: usize,
    /// The next sequence number and the kept records, together.
    ring: Mutex<(u64, VecDeque<RequestRecord>)>,
}

impl RequestLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ring: Mutex::new((1, VecDeque::with_capacity(capacity.min(4096)))),
        }
    }

    /// Keeps a record (built only when records are kept), dropping the oldest past capacity.
    pub fn record(&self, record: impl FnOnce(u64) -> RequestRecord) {
        if self.capacity == 0 {
            return;
        }
        if let Ok(mut guard) = self.ring.lock() {
            let (next, ring) = &mut *guard;
            let seq = *next;
            *next += 1;
            if ring.len() == self.capacity {
                ring.pop_front();
            }
            ring.push_back(record(seq));
        }
    }

    /// The kept records after `since` (0: all), oldest first.
    pub fn since(&self, since: u64) -> Vec<RequestRecord> {
        self.ring
            .lock()
            .map(|guard| guard.1.iter().filter(|r| r.seq > since).cloned().collect())
            .unwrap_or_default()
    }
}
