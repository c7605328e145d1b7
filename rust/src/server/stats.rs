//! Request counters for `getStats`: how many requests each operation got, by status. One short
//! lock per request; nothing else is kept.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a request was, for counting: its operation's AWS name, or what stood in for one.
pub const PREFLIGHT: &str = "Preflight";
pub const UNROUTED: &str = "Unrouted";

pub struct Stats {
    started: Instant,
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
}

/// One row of the request counts.
pub struct RequestCount {
    pub operation: &'static str,
    pub status: u16,
    pub count: u64,
}

impl Stats {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            requests: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn record(&self, operation: &'static str, status: u16) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((operation, status)).or_default() += 1;
        }
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// The counts so far, by operation name then status.
    pub fn requests(&self) -> Vec<RequestCount> {
        self.requests
            .lock()
            .map(|requests| {
                requests
                    .iter()
                    .map(|(&(operation, status), &count)| RequestCount {
                        operation,
                        status,
                        count,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Default for Stats {
    fn default() -> Self {
        Self::new()
    }
}
