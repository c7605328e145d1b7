//! What the server reports of itself, as JSON: the admin commands (`management/admin.rs`) and
//! the web console (`console/`) answer with the same shapes.

use super::ServerState;
use crate::storage::StorageError;
use serde_json::{json, Value};

/// Requests by operation and status since start, bytes in and out, uptime, and objects and
/// bytes per bucket (counted now, by listing).
pub async fn stats(state: &ServerState) -> Result<Value, String> {
    let mut report = counters(state);
    report["buckets"] = Value::Array(buckets(state).await?);
    Ok(report)
}

/// The request counters and uptime alone: no listing, cheap enough to poll.
pub fn counters(state: &ServerState) -> Value {
    let counts = state.stats.requests();
    let requests: Vec<Value> = (counts.iter())
        .map(|r| {
            json!({
                "operation": r.operation,
                "status": r.status,
                "count": r.counts.requests,
                "bytesIn": r.counts.bytes_in,
                "bytesOut": r.counts.bytes_out,
            })
        })
        .collect();
    let (bytes_in, bytes_out) = counts.iter().fold((0u64, 0u64), |(i, o), r| {
        (
            i.saturating_add(r.counts.bytes_in),
            o.saturating_add(r.counts.bytes_out),
        )
    });
    json!({
        "uptimeMs": u64::try_from(state.stats.uptime().as_millis()).unwrap_or(u64::MAX),
        "requests": requests,
        "bytesIn": bytes_in,
        "bytesOut": bytes_out,
    })
}

/// Every bucket with its creation time, object count and size.
pub async fn buckets(state: &ServerState) -> Result<Vec<Value>, String> {
    let store = &state.store;
    let listed = store
        .list_buckets()
        .await
        .map_err(|e| format!("could not list buckets: {e}"))?;
    let mut buckets = Vec::with_capacity(listed.len());
    for bucket in listed {
        let usage = match store.bucket_usage(&bucket.name).await {
            Ok(usage) => usage,
            // Deleted meanwhile: it has nothing.
            Err(StorageError::NoSuchBucket) => continue,
            Err(e) => return Err(format!("could not list bucket '{}': {e}", bucket.name)),
        };
        buckets.push(json!({
            "name": bucket.name,
            "creationDate": crate::xml::iso8601(bucket.created),
            "objects": usage.objects,
            "bytes": usage.bytes,
        }));
    }
    Ok(buckets)
}

/// The kept request records after `since` (0: all), oldest first.
pub fn requests(state: &ServerState, since: u64) -> Value {
    let requests: Vec<Value> = (state.requests.since(since).iter())
        .map(|r| r.to_json())
        .collect();
    json!({ "requests": requests })
}

/// The fault rules in force, with how often each has hit.
pub fn faults(state: &ServerState) -> Value {
    json!({ "rules": state.faults.report() })
}
