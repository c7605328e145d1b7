//! The store's changes as IPC events (`objectCreated`, `multipartCompleted`, `objectRemoved`,
//! `bucketCreated`, `bucketRemoved`), forwarded only while the wrapper has subscribed, and
//! `waitForObject`, answered by its own task when the key exists.

use super::{reply, running, Session};
use crate::storage::changes::{Change, Notice};
use crate::storage::FileStore;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// The longest waitForObject: the wrapper's own request timeout is 30 s.
const MAX_WAIT_MS: u64 = 25_000;
const DEFAULT_WAIT_MS: u64 = 5_000;

fn now() -> String {
    crate::xml::iso8601(std::time::SystemTime::now())
}

/// The events one change becomes: what changed, when, and (where known) by which operation and
/// whose request.
fn events_of(notice: &Notice) -> Vec<Value> {
    let cause = notice.cause.as_ref();
    let event = |name: &str, mut data: Value| {
        data["time"] = now().into();
        data["operation"] = cause.map(|c| c.operation).into();
        data["requester"] = cause.and_then(|c| c.requester.clone()).into();
        json!({"event": name, "data": data})
    };
    match &notice.change {
        Change::ObjectCreated {
            bucket,
            key,
            version_id,
            size,
            etag,
        } => vec![event(
            "objectCreated",
            json!({"bucket": bucket, "key": key, "versionId": version_id, "size": size, "etag": etag}),
        )],
        Change::MultipartCompleted {
            bucket,
            key,
            version_id,
            size,
            etag,
        } => {
            let data = json!({"bucket": bucket, "key": key, "versionId": version_id, "size": size, "etag": etag});
            vec![
                event("objectCreated", data.clone()),
                event("multipartCompleted", data),
            ]
        }
        Change::ObjectRemoved {
            bucket,
            key,
            version_id,
        } => vec![event(
            "objectRemoved",
            json!({"bucket": bucket, "key": key, "versionId": version_id}),
        )],
        Change::BucketCreated { bucket } => vec![event("bucketCreated", json!({"bucket": bucket}))],
        Change::BucketRemoved { bucket } => vec![event("bucketRemoved", json!({"bucket": bucket}))],
    }
}

/// Starts forwarding changes as events (idempotent).
pub(super) fn subscribe(session: &mut Session) -> Result<Value, String> {
    if session
        .events
        .as_ref()
        .is_some_and(|task| !task.is_finished())
    {
        return Ok(json!({"subscribed": true}));
    }
    let mut changes = running(session)?.store().changes().subscribe();
    let out = session.out.clone();
    session.events = Some(tokio::spawn(async move {
        loop {
            match changes.recv().await {
                Ok(notice) => {
                    for event in events_of(&notice) {
                        if out.send(event.to_string()).await.is_err() {
                            return;
                        }
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    let lagged = json!({"event": "eventsMissed", "data": {"count": missed}});
                    if out.send(lagged.to_string()).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            }
        }
    }));
    Ok(json!({"subscribed": true}))
}

/// Starts sending every request's record as a `request` event (idempotent).
pub(super) fn subscribe_requests(session: &mut Session) -> Result<Value, String> {
    if (session.request_events.as_ref()).is_some_and(|task| !task.is_finished()) {
        return Ok(json!({"subscribed": true}));
    }
    let mut records = running(session)?.requests().subscribe();
    let out = session.out.clone();
    session.request_events = Some(tokio::spawn(async move {
        loop {
            let event = match records.recv().await {
                Ok(record) => json!({"event": "request", "data": record.to_json()}),
                Err(RecvError::Lagged(missed)) => {
                    json!({"event": "requestsMissed", "data": {"count": missed}})
                }
                Err(RecvError::Closed) => return,
            };
            if out.send(event.to_string()).await.is_err() {
                return;
            }
        }
    }));
    Ok(json!({"subscribed": true}))
}

/// Stops sending request events.
pub(super) fn unsubscribe_requests(session: &mut Session) -> Value {
    if let Some(task) = session.request_events.take() {
        task.abort();
    }
    json!({"subscribed": false})
}

/// Stops forwarding changes.
pub(super) fn unsubscribe(session: &mut Session) -> Value {
    if let Some(task) = session.events.take() {
        task.abort();
    }
    json!({"subscribed": false})
}

/// `waitForObject {bucket, key, timeoutMs}`: answers `id` once the key exists (at once if it
/// already does), or with an error when the time is up. Runs in its own task.
pub(super) fn wait_for_object(session: &Session, id: Value, params: &Value) -> Result<(), String> {
    let text = |name: &str| {
        params
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                format!("waitForObject needs params {{\"bucket\": string, \"key\": string, \"timeoutMs\"?: number}}; {name} is missing")
            })
    };
    let (bucket, key) = (text("bucket")?, text("key")?);
    let timeout_ms = params
        .get("timeoutMs")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_WAIT_MS);
    if timeout_ms > MAX_WAIT_MS {
        return Err(format!("waitForObject waits at most {MAX_WAIT_MS} ms"));
    }
    let server = running(session)?;
    let state = server.shared_state();
    let store = &state.store;
    // Subscribe before looking, so a PUT landing in between is not missed.
    let mut changes = store.changes().subscribe();
    let out = session.out.clone();
    tokio::spawn(async move {
        let store = &state.store;
        let found = tokio::time::timeout(Duration::from_millis(timeout_ms), async {
            loop {
                if let Some(size) = current_size(store, &bucket, &key).await {
                    return size;
                }
                // Wait for a change to the key (or a lag, after which we look again).
                loop {
                    match changes.recv().await.map(|notice| notice.change) {
                        Ok(Change::ObjectCreated {
                            bucket: b, key: k, ..
                        })
                        | Ok(Change::MultipartCompleted {
                            bucket: b, key: k, ..
                        }) if b == bucket && k == key => break,
                        Ok(_) => {}
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => std::future::pending::<()>().await,
                    }
                }
            }
        })
        .await;
        let answer = match found {
            Ok(size) => Ok(json!({"bucket": bucket, "key": key, "size": size})),
            Err(_) => Err(format!(
                "waitForObject: {bucket}/{key} did not appear within {timeout_ms} ms"
            )),
        };
        let _ = out.send(reply(id, answer).to_string()).await;
    });
    Ok(())
}

async fn current_size(store: &FileStore, bucket: &str, key: &str) -> Option<u64> {
    store
        .open_object(bucket, key)
        .await
        .ok()
        .map(|object| object.info.size)
}
