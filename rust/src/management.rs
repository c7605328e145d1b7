//! `--management` mode: smartrust's JSON-lines IPC on stdin/stdout.
//!
//! In: `{"id","method","params"}` per line. Out: `{"id","success","result"|"error"}` and
//! `{"event","data"}`, one per line, and nothing else on stdout. A `ready` event comes first.
//! When stdin closes (the parent is gone) the server stops and the process exits.

use crate::config::Config;
use crate::server::RunningServer;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Largest command line accepted; configs are small.
const MAX_LINE: usize = 1024 * 1024;

struct Session {
    server: Option<RunningServer>,
}

pub async fn run() {
    let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
    // One writer, so lines never interleave; flushed after every line.
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(line) = out_rx.recv().await {
            if stdout.write_all(line.as_bytes()).await.is_err()
                || stdout.write_all(b"\n").await.is_err()
                || stdout.flush().await.is_err()
            {
                break;
            }
        }
    });
    let send = |value: Value| {
        let _ = out.send(value.to_string());
    };
    send(
        json!({"event": "ready", "data": {"version": env!("CARGO_PKG_VERSION"), "pid": std::process::id()}}),
    );

    let mut session = Session { server: None };
    let mut stdin = BufReader::new(tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        match read_bounded_line(&mut stdin, &mut line).await {
            None => break,
            Some(true) => {}
            Some(false) => {
                send(json!({"id": null, "success": false, "error": "command line too long"}));
                // Skip the rest of the oversized line, a bounded piece at a time.
                loop {
                    match read_bounded_line(&mut stdin, &mut line).await {
                        None => break,
                        Some(true) => break,
                        Some(false) => {}
                    }
                }
                continue;
            }
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            send(json!({"id": null, "success": false, "error": "malformed command (not UTF-8)"}));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        send(handle_line(&mut session, text.trim()).await);
    }

    if let Some(server) = session.server.take() {
        server.stop().await;
    }
    drop(out);
    let _ = writer.await;
}

/// Reads at most `MAX_LINE` bytes up to a newline into `line`: `Some(true)` for a whole line,
/// `Some(false)` for a piece of a longer one, `None` when stdin is closed.
async fn read_bounded_line(
    stdin: &mut BufReader<tokio::io::Stdin>,
    line: &mut Vec<u8>,
) -> Option<bool> {
    line.clear();
    match stdin.take(MAX_LINE as u64).read_until(b'\n', line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.ends_with(b"\n") || line.len() < MAX_LINE),
    }
}

async fn handle_line(session: &mut Session, line: &str) -> Value {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            return json!({"id": null, "success": false, "error": format!("malformed command (not JSON): {e}")})
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return json!({"id": id, "success": false, "error": "malformed command: missing \"method\""});
    };
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    match dispatch(session, method, params).await {
        Ok(result) => json!({"id": id, "success": true, "result": result}),
        Err(error) => json!({"id": id, "success": false, "error": error}),
    }
}

async fn dispatch(session: &mut Session, method: &str, params: Value) -> Result<Value, String> {
    match method {
        "start" => start(session, params).await,
        "stop" => {
            if let Some(server) = session.server.take() {
                server.stop().await;
            }
            Ok(json!({}))
        }
        "createBucket" => create_bucket(session, params).await,
        "listBuckets" => list_buckets(session).await,
        "deleteBucket" => delete_bucket(session, params).await,
        "emptyBucket" => empty_bucket(session, params).await,
        "reset" => reset(session).await,
        "getStats" => get_stats(session).await,
        other => Err(format!("unknown method '{other}'")),
    }
}

async fn start(session: &mut Session, params: Value) -> Result<Value, String> {
    if session.server.is_some() {
        return Err("the server is already running; stop it first".into());
    }
    // `{"config": {...}}`, or the config itself.
    let config_value = match params {
        Value::Object(mut map) if map.contains_key("config") => {
            map.remove("config").unwrap_or(Value::Null)
        }
        Value::Null => json!({}),
        other => other,
    };
    let config: Config =
        serde_json::from_value(config_value).map_err(|e| format!("invalid config: {e}"))?;
    crate::logging::init(&config);
    let server = RunningServer::start(config).await?;
    let result = started(&server);
    session.server = Some(server);
    Ok(result)
}

/// What `start` answers: the configuration in force, defaults filled in, so the wrapper never
/// repeats a default of its own.
fn started(server: &RunningServer) -> Value {
    let config = server.config();
    let credentials: Vec<Value> = config
        .auth
        .credentials
        .iter()
        .map(|c| json!({"accessKeyId": c.access_key_id, "secretAccessKey": c.secret_access_key}))
        .collect();
    json!({
        "port": server.local_addr.port(),
        "address": server.local_addr.ip().to_string(),
        "directory": server.directory.to_string_lossy(),
        "region": config.server.region,
        "authEnabled": config.auth.enabled,
        "credentials": credentials,
        "pid": std::process::id(),
        "version": env!("CARGO_PKG_VERSION"),
    })
}

fn running(session: &Session) -> Result<&RunningServer, String> {
    session
        .server
        .as_ref()
        .ok_or_else(|| "the server is not running; call start first".to_string())
}

fn bucket_param<'a>(method: &str, params: &'a Value) -> Result<&'a str, String> {
    params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{method} needs params {{\"name\": string}}"))
}

/// The buckets, by name, with their creation time.
async fn list_buckets(session: &Session) -> Result<Value, String> {
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
async fn delete_bucket(session: &Session, params: Value) -> Result<Value, String> {
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
async fn empty_bucket(session: &Session, params: Value) -> Result<Value, String> {
    let name = bucket_param("emptyBucket", &params)?;
    match running(session)?.store().empty_bucket(name).await {
        Ok(()) => Ok(json!({"name": name})),
        Err(crate::storage::StorageError::NoSuchBucket) => {
            Err(format!("bucket '{name}' does not exist (NoSuchBucket)"))
        }
        Err(e) => Err(format!("could not empty bucket '{name}': {e}")),
    }
}

/// Every bucket, object and upload gone; the server keeps running.
async fn reset(session: &Session) -> Result<Value, String> {
    let store = running(session)?.store();
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
    Ok(json!({ "bucketsRemoved": removed }))
}

/// Requests by operation and status since start, uptime, and objects and bytes per bucket
/// (counted now, by listing).
async fn get_stats(session: &Session) -> Result<Value, String> {
    let server = running(session)?;
    let store = server.store();
    let requests: Vec<Value> = server
        .stats()
        .requests()
        .iter()
        .map(|r| json!({"operation": r.operation, "status": r.status, "count": r.count}))
        .collect();
    let mut buckets = Vec::new();
    for bucket in store
        .list_buckets()
        .await
        .map_err(|e| format!("could not list buckets: {e}"))?
    {
        let (mut objects, mut bytes, mut marker) = (0u64, 0u64, None::<String>);
        loop {
            let query = crate::storage::ListQuery {
                prefix: String::new(),
                delimiter: None,
                marker: marker.take(),
                max_keys: 1000,
                with_owner: false,
            };
            let page = match store.list_objects(&bucket.name, query).await {
                Ok(page) => page,
                // Deleted meanwhile: it has nothing.
                Err(crate::storage::StorageError::NoSuchBucket) => break,
                Err(e) => return Err(format!("could not list bucket '{}': {e}", bucket.name)),
            };
            for entry in &page.entries {
                if let crate::storage::ListEntry::Object { size, .. } = entry {
                    objects += 1;
                    bytes = bytes.saturating_add(*size);
                }
            }
            match page.entries.last() {
                Some(last) if page.is_truncated => marker = Some(last.marker().to_string()),
                _ => break,
            }
        }
        buckets.push(json!({"name": bucket.name, "objects": objects, "bytes": bytes}));
    }
    Ok(json!({
        "uptimeMs": u64::try_from(server.stats().uptime().as_millis()).unwrap_or(u64::MAX),
        "requests": requests,
        "buckets": buckets,
    }))
}

async fn create_bucket(session: &mut Session, params: Value) -> Result<Value, String> {
    let name = params
        .get("name")
        .and_then(Value::as_str)
        .ok_or("createBucket needs params {\"name\": string}")?;
    crate::bucket_name::validate(name)
        .map_err(|reason| format!("invalid bucket name: {reason}"))?;
    let server = session
        .server
        .as_ref()
        .ok_or("the server is not running; call start first")?;
    match server
        .store()
        .create_bucket(name, server.default_owner(), None, None)
        .await
    {
        Ok(()) => Ok(json!({"name": name, "created": true})),
        Err(crate::storage::StorageError::BucketAlreadyExists) => {
            Ok(json!({"name": name, "created": false}))
        }
        Err(e) => Err(format!("could not create bucket '{name}': {e}")),
    }
}
