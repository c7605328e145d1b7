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
    requests: Mutex<BTreeMap<(&'static str, u16), Counts>>,
}

#[derive(Default, Clone, Copy)]
pub struct Counts {
    pub requests: u64,
    /// Request body bytes received.
    pub bytes_in: u64,
    /// Response body bytes answered.
    pub bytes_out: u64,
}

/// One row of the request counts.
pub struct RequestCount {
    pub operation: &'static str,
    pub status: u16,
    pub counts: Counts,
}

impl Stats {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            requests: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn record(&self, operation: &'static str, status: u16, bytes_in: u64, bytes_out: u64) {
        if let Ok(mut requests) = self.requests.lock() {
            let counts = requests.entry((operation, status)).or_default();
            counts.requests += 1;
            counts.bytes_in = counts.bytes_in.saturating_add(bytes_in);
            counts.bytes_out = counts.bytes_out.saturating_add(bytes_out);
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
                    .map(|(&(operation, status), &counts)| RequestCount {
                        operation,
                        status,
                        counts,
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
