//! `--management` mode: smartrust's JSON-lines IPC on stdin/stdout.
//!
//! In: `{"id","method","params"}` per line. Out: `{"id","success","result"|"error"}` and
//! `{"event","data"}`, one per line, and nothing else on stdout. A `ready` event comes first.
//! When stdin closes (the parent is gone) the server stops and the process exits.

use crate::config::Config;
use crate::server::RunningServer;
use crate::storage::changes::{caused_by, Cause};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Largest command line accepted; configs are small.
const MAX_LINE: usize = 1024 * 1024;
/// Lines waiting for stdout.
const OUT_QUEUE: usize = 1024;

mod admin;
mod events;

struct Session {
    server: Option<RunningServer>,
    /// Where every line to stdout goes (one writer task owns stdout).
    out: mpsc::Sender<String>,
    /// The task forwarding the store's changes as events, while subscribed.
    events: Option<tokio::task::JoinHandle<()>>,
    /// The task sending request records as events, while subscribed.
    request_events: Option<tokio::task::JoinHandle<()>>,
}

fn running(session: &Session) -> Result<&RunningServer, String> {
    session
        .server
        .as_ref()
        .ok_or_else(|| "the server is not running; call start first".to_string())
}

/// The `name` parameter of a bucket command.
fn bucket_param<'a>(method: &str, params: &'a Value) -> Result<&'a str, String> {
    params
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{method} needs params {{\"name\": string}}"))
}

pub async fn run() {
    // Bounded, so a parent that stops reading holds back event tasks (which then skip ahead
    // and say how much they missed) instead of growing memory.
    let (out, mut out_rx) = mpsc::channel::<String>(OUT_QUEUE);
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
        let out = out.clone();
        async move {
            let _ = out.send(value.to_string()).await;
        }
    };
    send(
        json!({"event": "ready", "data": {"version": env!("CARGO_PKG_VERSION"), "pid": std::process::id()}}),
    )
    .await;

    let mut session = Session {
        server: None,
        out: out.clone(),
        events: None,
        request_events: None,
    };
    let mut stdin = BufReader::new(tokio::io::stdin());
    let mut line = Vec::new();
    loop {
        match read_bounded_line(&mut stdin, &mut line).await {
            None => break,
            Some(true) => {}
            Some(false) => {
                send(json!({"id": null, "success": false, "error": "command line too long"})).await;
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
            send(json!({"id": null, "success": false, "error": "malformed command (not UTF-8)"}))
                .await;
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        if let Some(reply) = handle_line(&mut session, text.trim()).await {
            send(reply).await;
        }
    }

    events::unsubscribe(&mut session);
    events::unsubscribe_requests(&mut session);
    if let Some(server) = session.server.take() {
        server.stop().await;
    }
    drop(session);
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

/// Answers one command line; `None` when the answer comes later (waitForObject).
async fn handle_line(session: &mut Session, line: &str) -> Option<Value> {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            return Some(
                json!({"id": null, "success": false, "error": format!("malformed command (not JSON): {e}")}),
            )
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return Some(
            json!({"id": id, "success": false, "error": "malformed command: missing \"method\""}),
        );
    };
    let params = request.get("params").cloned().unwrap_or(Value::Null);
    if method == "waitForObject" {
        // Answered by its own task, so other commands go on meanwhile.
        return match events::wait_for_object(session, id.clone(), &params) {
            Ok(()) => None,
            Err(error) => Some(reply(id, Err(error))),
        };
    }
    Some(reply(id, dispatch(session, method, params).await))
}

/// A response line for the command `id`.
fn reply(id: Value, result: Result<Value, String>) -> Value {
    match result {
        Ok(result) => json!({"id": id, "success": true, "result": result}),
        Err(error) => json!({"id": id, "success": false, "error": error}),
    }
}

async fn dispatch(session: &mut Session, method: &str, params: Value) -> Result<Value, String> {
    match method {
        "start" => start(session, params).await,
        "stop" => {
            events::unsubscribe(session);
            events::unsubscribe_requests(session);
            if let Some(server) = session.server.take() {
                server.stop().await;
            }
            Ok(json!({}))
        }
        "createBucket" => caused_by(admin("createBucket"), create_bucket(session, params)).await,
        "listBuckets" => admin::list_buckets(session).await,
        "deleteBucket" => {
            caused_by(admin("deleteBucket"), admin::delete_bucket(session, params)).await
        }
        "emptyBucket" => {
            caused_by(admin("emptyBucket"), admin::empty_bucket(session, params)).await
        }
        "reset" => caused_by(admin("reset"), admin::reset(session)).await,
        "getStats" => admin::get_stats(session).await,
        "runLifecycle" => caused_by(admin("runLifecycle"), admin::run_lifecycle(session)).await,
        "getRequests" => admin::get_requests(session, &params),
        "setFaults" => admin::set_faults(session, params),
        "clearFaults" => admin::set_faults(session, Value::Null),
        "getFaults" => admin::get_faults(session),
        "subscribeEvents" => events::subscribe(session),
        "unsubscribeEvents" => Ok(events::unsubscribe(session)),
        "subscribeRequests" => events::subscribe_requests(session),
        "unsubscribeRequests" => Ok(events::unsubscribe_requests(session)),
        other => Err(format!("unknown method '{other}'")),
    }
}

/// Changes made by an IPC command are attributed to the command (no requester).
fn admin(command: &'static str) -> Cause {
    Cause {
        operation: command,
        requester: None,
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
        "consoleUrl": server.console.as_ref().map(|c| c.url()),
    })
}

async fn create_bucket(session: &mut Session, params: Value) -> Result<Value, String> {
    let name = bucket_param("createBucket", &params)?;
    crate::bucket_name::validate(name)
        .map_err(|reason| format!("invalid bucket name: {reason}"))?;
    let server = running(session)?;
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
