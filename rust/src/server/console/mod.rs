//! The web console: three static files built into the binary and a small JSON API, on a port of
//! its own (`console` in the config). Its S3 calls (`/s3/<bucket>/<key>?…`) go through the S3
//! pipeline as the server's owner, so the page sees exactly what clients see, and what it does
//! is logged and evented like any request (requester `console`).
//!
//! The console checks no signature, so it keeps other web sites out: it answers only Host
//! headers that are IP literals or `localhost` (a DNS-rebinding page names its own domain), and
//! a request that changes anything must carry `x-smarts3-console`, a header no other origin can
//! send without a CORS preflight, which the console never grants.

use super::faults::InjectedReset;
use super::{pipeline, report, ConnectionLimits, ServerState};
use crate::body::{self, ResponseBody};
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The header a changing request must carry (any value).
const CSRF_HEADER: &str = "x-smarts3-console";

/// The page's files: (path, content type, content).
const ASSETS: &[(&str, &str, &str)] = &[
    ("/", "text/html; charset=utf-8", include_str!("index.html")),
    (
        "/console.js",
        "text/javascript; charset=utf-8",
        include_str!("console.js"),
    ),
    (
        "/console.css",
        "text/css; charset=utf-8",
        include_str!("console.css"),
    ),
];

/// The page may load only its own files and talk only to its own origin.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; \
     base-uri 'none'";

/// A console serving in the background.
pub struct RunningConsole {
    pub local_addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningConsole {
    /// The page's address (a wildcard address is reached through loopback).
    pub fn url(&self) -> String {
        let mut addr = self.local_addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        format!("http://{addr}/")
    }

    pub(super) async fn stop(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// What every console request needs.
struct Console {
    state: Arc<ServerState>,
    /// The S3 listener's address, the Host of the requests passed on (path-style).
    s3_addr: SocketAddr,
}

/// Binds the console's address and serves it beside the S3 listener at `s3_addr`.
pub(super) async fn start(
    state: Arc<ServerState>,
    s3_addr: SocketAddr,
    limits: &ConnectionLimits,
) -> Result<RunningConsole, String> {
    let settings = &state.config.console;
    let addr = format!("{}:{}", settings.address, settings.port);
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("the console cannot listen on {addr}: {e}"))?;
    let local_addr = listener.local_addr().map_err(|e| e.to_string())?;
    let console = Arc::new(Console { state, s3_addr });
    let handler = move |req, socket| handle(req, console.clone(), socket);
    let (shutdown, shutdown_rx) = oneshot::channel();
    let limits = ConnectionLimits {
        max_connections: limits.max_connections.min(64),
        ..*limits
    };
    let task = tokio::spawn(super::serve(listener, handler, shutdown_rx, limits));
    tracing::info!("web console on http://{local_addr}/");
    Ok(RunningConsole {
        local_addr,
        shutdown,
        task,
    })
}

async fn handle(
    req: Request<Incoming>,
    console: Arc<Console>,
    socket: RawFd,
) -> Result<Response<ResponseBody>, InjectedReset> {
    if !host_allowed(req.headers()) {
        return Ok(text(
            StatusCode::FORBIDDEN,
            "The smarts3 console answers only to localhost and IP addresses.",
        ));
    }
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD);
    if changes && !req.headers().contains_key(CSRF_HEADER) {
        // Also every CORS preflight: no other origin may script the console.
        return Ok(text(
            StatusCode::FORBIDDEN,
            "Changing requests must come from the console page.",
        ));
    }
    let path = req.uri().path();
    if path == "/s3" || path.starts_with("/s3/") {
        return pass_to_s3(req, &console, socket).await;
    }
    if changes {
        return Ok(text(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed."));
    }
    let answer = match path {
        "/api/info" => Ok(info(&console)),
        "/api/buckets" => report::buckets(&console.state)
            .await
            .map(|buckets| json!({ "buckets": buckets })),
        "/api/live" => Ok(live(&console.state, since(req.uri().query()))),
        _ => return Ok(asset(path)),
    };
    Ok(match answer {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(message) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({ "error": message }),
        ),
    })
}

/// Whether the Host header names this machine by address or as `localhost`, not by a domain.
fn host_allowed(headers: &http::HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        // A bracketed IPv6 literal keeps its colons inside the brackets.
        Some((name, port)) if !port.contains(']') => name,
        _ => host,
    };
    let name = name.to_ascii_lowercase();
    let unbracketed = name.trim_start_matches('[').trim_end_matches(']');
    name == "localhost"
        || name.ends_with(".localhost")
        || unbracketed.parse::<std::net::IpAddr>().is_ok()
}

/// `/s3/<rest>` becomes the S3 request `/<rest>`, made as the owner (`pipeline::FromConsole`).
async fn pass_to_s3(
    req: Request<Incoming>,
    console: &Console,
    socket: RawFd,
) -> Result<Response<ResponseBody>, InjectedReset> {
    let (mut parts, body) = req.into_parts();
    let rest = match parts.uri.path().strip_prefix("/s3") {
        Some("") | None => "/",
        Some(rest) => rest,
    };
    let target = match parts.uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_string(),
    };
    parts.uri = match target.parse() {
        Ok(uri) => uri,
        Err(_) => return Ok(text(StatusCode::BAD_REQUEST, "Invalid path.")),
    };
    // The page is same-origin: no CORS to apply, no credentials of its own to check.
    for name in [
        header::ORIGIN,
        header::REFERER,
        header::COOKIE,
        header::AUTHORIZATION,
    ] {
        parts.headers.remove(name);
    }
    if let Ok(host) = HeaderValue::from_str(&console.s3_addr.to_string()) {
        parts.headers.insert(header::HOST, host);
    }
    parts.extensions.insert(pipeline::FromConsole);
    let request = Request::from_parts(parts, body);
    let mut response = pipeline::handle(request, console.state.clone(), socket).await?;
    // An object opened in the console's origin must not run as the console.
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

/// What the page shows in its header.
fn info(console: &Console) -> Value {
    let config = &console.state.config;
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "endpoint": format!("http://{}", console.s3_addr),
        "region": config.server.region,
        "authEnabled": config.auth.enabled,
        "directory": console.state.store.root().to_string_lossy(),
        "requestHistory": config.logging.request_history,
    })
}

/// The requests after `since`, the counters and the fault rules: what the page polls.
fn live(state: &ServerState, since: u64) -> Value {
    let mut value = report::requests(state, since);
    value["counters"] = report::counters(state);
    value["faults"] = Value::Array(state.faults.report());
    value
}

/// The `since` query parameter (0 when absent or not a number).
fn since(query: Option<&str>) -> u64 {
    crate::query::Query::parse(query)
        .ok()
        .and_then(|q| q.get("since")?.parse().ok())
        .unwrap_or(0)
}

fn asset(path: &str) -> Response<ResponseBody> {
    let path = if path == "/index.html" { "/" } else { path };
    let Some((_, content_type, content)) = ASSETS.iter().find(|(p, _, _)| *p == path) else {
        return text(StatusCode::NOT_FOUND, "Not found.");
    };
    let mut response = Response::new(body::full(*content));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_POLICY),
    );
    secure(response)
}

fn json_response(status: StatusCode, value: &Value) -> Response<ResponseBody> {
    let mut response = Response::new(body::full(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    secure(response)
}

fn text(status: StatusCode, message: &'static str) -> Response<ResponseBody> {
    let mut response = Response::new(body::full(message));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    secure(response)
}

/// Headers every console answer carries: never cached, never sniffed, never framed.
fn secure(mut response: Response<ResponseBody>) -> Response<ResponseBody> {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        headers
    }

    #[test]
    fn only_addresses_and_localhost_are_hosts() {
        for host in [
            "127.0.0.1:9001",
            "localhost:9001",
            "LOCALHOST",
            "app.localhost:1",
            "[::1]:9001",
            "[::1]",
            "10.1.2.3:80",
        ] {
            assert!(host_allowed(&with_host(host)), "{host}");
        }
        for host in [
            "evil.example:9001",
            "127.0.0.1.evil.example",
            "localhost.evil:1",
        ] {
            assert!(!host_allowed(&with_host(host)), "{host}");
        }
        assert!(!host_allowed(&http::HeaderMap::new()));
    }

    #[test]
    fn since_reads_the_query() {
        assert_eq!(since(Some("since=42")), 42);
        assert_eq!(since(Some("x=1&since=7")), 7);
        assert_eq!(since(Some("since=-1")), 0);
        assert_eq!(since(None), 0);
    }
}
