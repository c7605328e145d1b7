//! Admin commands for test suites: listBuckets, deleteBucket (with force), emptyBucket, reset,
//! getStats, getRequests, runLifecycle.

use super::{bucket_param, running, Session};
use serde_json::{json, Value};

/// The buckets, by name, with their creation time.
pub(super) async fn list_buckets(session: &Session) -> Result<Value, String> {
    let buckets = running(session)?
        .store()
        .list_buckets()
        .await
        .map_err(|e| format!("could not list buckets: {e}"))?;
    let buckets: Vec<Value> = buckets
        .iter()
        .map(|b| json!({"name": b.name, "creationDate": crate::xml::iso8601(b.created)}))
        .collect();
    Ok(json!({ "buckets": buckets }))
}

/// Deletes a bucket; with `force`, its objects and uploads too.
pub(super) async fn delete_bucket(session: &Session, params: Value) -> Result<Value, String> {
    let name = bucket_param("deleteBucket", &params)?;
    let force = params
        .get("force")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match running(session)?.store().delete_bucket(name, force).await {
        Ok(()) => Ok(json!({"name": name, "deleted": true})),
        Err(crate::storage::StorageError::BucketNotEmpty) => Err(format!(
            "bucket '{name}' is not empty (BucketNotEmpty); pass force: true to delete its objects too"
        )),
        Err(crate::storage::StorageError::NoSuchBucket) => {
            Err(format!("bucket '{name}' does not exist (NoSuchBucket)"))
        }
        Err(e) => Err(format!("could not delete bucket '{name}': {e}")),
    }
}

/// Removes every object and upload of a bucket; the bucket and its settings stay.
pub(super) async fn empty_bucket(session: &Session, params: Value) -> Result<Value, String> {
    let name = bucket_param("emptyBucket", &params)?;
    match running(session)?.store().empty_bucket(name).await {
        Ok(()) => Ok(json!({"name": name})),
        Err(crate::storage::StorageError::NoSuchBucket) => {
            Err(format!("bucket '{name}' does not exist (NoSuchBucket)"))
        }
        Err(e) => Err(format!("could not empty bucket '{name}': {e}")),
    }
}

/// Every bucket, object and upload gone, the seeded buckets and the configured fault rules
/// back; the server keeps running.
pub(super) async fn reset(session: &Session) -> Result<Value, String> {
    let server = running(session)?;
    server.faults().set(server.config().faults.clone())?;
    let store = server.store();
    let buckets = store
        .list_buckets()
        .await
        .map_err(|e| format!("could not list buckets: {e}"))?;
    let mut removed = 0;
    for bucket in &buckets {
        match store.delete_bucket(&bucket.name, true).await {
            Ok(()) => removed += 1,
            // Deleted meanwhile by a client: gone either way.
            Err(crate::storage::StorageError::NoSuchBucket) => {}
            Err(e) => return Err(format!("could not delete bucket '{}': {e}", bucket.name)),
        }
    }
    store
        .abort_all_uploads()
        .await
        .map_err(|e| format!("could not remove uploads: {e}"))?;
    let seeded = server.seed_buckets().await?;
    Ok(json!({ "bucketsRemoved": removed, "bucketsSeeded": seeded }))
}

/// Requests by operation and status since start, uptime, and objects and bytes per bucket.
pub(super) async fn get_stats(session: &Session) -> Result<Value, String> {
    crate::server::report::stats(&running(session)?.shared_state()).await
}

/// The kept request records after `since` (0 or absent: all), oldest first.
pub(super) fn get_requests(session: &Session, params: &Value) -> Result<Value, String> {
    let since = params.get("since").and_then(Value::as_u64).unwrap_or(0);
    Ok(crate::server::report::requests(
        &running(session)?.shared_state(),
        since,
    ))
}

/// Replaces the fault rules in force: `{"rules": [...]}` (none or `[]`: faults off).
pub(super) fn set_faults(session: &Session, params: Value) -> Result<Value, String> {
    let rules = match params.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(rules) => serde_json::from_value(rules.clone())
            .map_err(|e| format!("invalid fault rules: {e}"))?,
    };
    let server = running(session)?;
    server.faults().set(rules)?;
    Ok(crate::server::report::faults(&server.shared_state()))
}

/// The fault rules in force, with how often each has hit.
pub(super) fn get_faults(session: &Session) -> Result<Value, String> {
    Ok(crate::server::report::faults(
        &running(session)?.shared_state(),
    ))
}

/// Applies every bucket's lifecycle rules now, rather than at the worker's next run.
pub(super) async fn run_lifecycle(session: &Session) -> Result<Value, String> {
    let server = running(session)?;
    let report = server
        .store()
        .apply_lifecycle_everywhere(server.config().lifecycle.day())
        .await
        .map_err(|e| format!("could not apply the lifecycle rules: {e}"))?;
    serde_json::to_value(report).map_err(|e| e.to_string())
}
