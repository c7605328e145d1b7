//! The per-request pipeline: request id → CORS preflight (OPTIONS) or authenticate → route →
//! authorize + handler → error rendering (draining an unread body) → CORS and common headers.

use super::faults::{InjectedReset, Rule};
use super::response::{add_common_headers, error_response, new_host_id, new_request_id};
use super::{router, ServerState};
use crate::acl::Requester;
use crate::body::{RequestBody, ResponseBody};
use crate::handlers::{self, Context};
use crate::s3_error::S3Result;
use crate::storage::changes::{caused_by, Cause};
use http::request::Parts;
use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How much of an unread request body is read and dropped so the client sees the error
/// (instead of a reset connection) before the connection is closed.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// S3 refuses a request whose header section is larger than this (names, values, `: ` and CRLF).
const MAX_HEADER_SECTION: usize = 8192;

/// Answers one request of the connection on `socket`. Fails only when a fault rule resets the
/// connection, which hyper then drops unanswered.
pub async fn handle(
    request: Request<Incoming>,
    state: Arc<ServerState>,
    socket: RawFd,
) -> Result<Response<ResponseBody>, InjectedReset> {
    let started = Instant::now();
    let request_id = new_request_id();
    let host_id = new_host_id();
    let (mut parts, incoming) = request.into_parts();
    let idle_timeout = Duration::from_millis(state.config.limits.request_timeout_ms.max(1));
    let mut body = RequestBody::new(incoming, idle_timeout);
    let head = parts.method == Method::HEAD;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let bucket = router::target_bucket(
        host,
        parts.uri.path(),
        state.config.server.base_domain.as_deref(),
    );

    let mut routed = Routed {
        operation: super::stats::UNROUTED,
        key: None,
        fault: None,
        requester: None,
    };
    let had_body = !http_body::Body::is_end_stream(&body);
    // `None`: a fault rule resets the connection instead of answering.
    let outcome = if let Err(e) = check_header_section(&parts.headers) {
        Some(Err(e))
    } else if parts.method == Method::OPTIONS {
        routed.operation = super::stats::PREFLIGHT;
        Some(super::preflight::preflight(&parts, &state, bucket.as_deref()).await)
    } else {
        match route(&mut parts, &state, &mut routed) {
            Err(e) => Some(Err(e)),
            Ok((op, ctx)) => run(op, &ctx, &parts, &mut body, &state, &routed, had_body).await,
        }
    };
    let (response, answer) = match outcome {
        None => {
            super::faults::reset_on_close(socket);
            (None, Answer::reset(body.received()))
        }
        Some(result) => {
            let mut error_code = None;
            let mut response = match result {
                Ok(response) => response,
                Err(err) => {
                    error_code = Some(err.code_name().to_string());
                    tracing::debug!(request_id, code = err.code_name(), message = %err.message, "request failed");
                    let mut response =
                        error_response(&err, parts.uri.path(), &request_id, &host_id, head);
                    if !drain_unread_body(&parts, &mut body).await {
                        response
                            .headers_mut()
                            .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
                    }
                    response
                }
            };
            decorate_cors(&mut response, &parts, &state, bucket.as_deref()).await;
            add_common_headers(response.headers_mut(), &request_id, &host_id);
            if let Some(rule) = &routed.fault {
                response =
                    response.map(|b| super::faults::response_body(b, rule, had_body, socket));
            }
            let answer = Answer {
                status: response.status().as_u16(),
                error_code,
                bytes_in: body.received(),
                bytes_out: http_body::Body::size_hint(response.body()).lower(),
            };
            (Some(response), answer)
        }
    };
    let status = answer.status;
    account(
        &state,
        &parts,
        &request_id,
        bucket,
        &mut routed,
        answer,
        started,
    );
    tracing::debug!(
        request_id,
        method = %parts.method,
        uri = %parts.uri,
        status,
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    response.ok_or(InjectedReset)
}

/// Actual requests from a browser get CORS headers (errors too, so scripts can read them).
async fn decorate_cors(
    response: &mut Response<ResponseBody>,
    parts: &Parts,
    state: &ServerState,
    bucket: Option<&str>,
) {
    let origin = parts
        .headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    if let (Some(origin), false) = (origin, parts.method == Method::OPTIONS) {
        if let Some(policy) = super::preflight::policy_for(state, bucket).await {
            if let Some(grant) = policy.evaluate(origin, parts.method.as_str(), &[]) {
                super::preflight::decorate(response.headers_mut(), &grant);
            }
        }
    }
}

fn check_header_section(headers: &http::HeaderMap) -> S3Result<()> {
    let size: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > MAX_HEADER_SECTION {
        return Err(crate::s3_error::S3Error::new(
            crate::s3_error::S3ErrorCode::RequestHeaderSectionTooLarge,
        )
        .detail("MaxSizeAllowed", MAX_HEADER_SECTION.to_string()));
    }
    Ok(())
}

/// How a request was answered: status 0 when a fault rule reset its connection.
struct Answer {
    status: u16,
    error_code: Option<String>,
    bytes_in: u64,
    /// The response body's length.
    bytes_out: u64,
}

impl Answer {
    /// A request a fault rule cut off: no status, nothing sent.
    fn reset(bytes_in: u64) -> Self {
        Self {
            status: 0,
            error_code: None,
            bytes_in,
            bytes_out: 0,
        }
    }
}

/// Counts the request and logs it (the record is built only when the log wants it).
fn account(
    state: &ServerState,
    parts: &Parts,
    request_id: &str,
    bucket: Option<String>,
    routed: &mut Routed,
    answer: Answer,
    started: Instant,
) {
    let operation = routed.operation;
    state
        .stats
        .record(operation, answer.status, answer.bytes_in, answer.bytes_out);
    state
        .requests
        .record(|seq| super::request_log::RequestRecord {
            seq,
            time: std::time::SystemTime::now(),
            request_id: request_id.to_string(),
            method: parts.method.to_string(),
            bucket,
            key: routed.key.take(),
            operation,
            status: answer.status,
            error_code: answer.error_code,
            fault: routed.fault.as_ref().map(|rule| rule.name.clone()),
            bytes_in: answer.bytes_in,
            bytes_out: answer.bytes_out,
            requester: routed.requester.take(),
            duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        });
}

/// What routing learnt of a request, for the counters and the request log, and the fault rule
/// that hit it.
struct Routed {
    operation: &'static str,
    key: Option<String>,
    fault: Option<Arc<Rule>>,
    /// The signer's access key id, gathered only for the request log and change events.
    requester: Option<String>,
}

/// What a fault rule makes of a request before its handler runs.
enum Before {
    Run,
    Fail(crate::s3_error::S3Error),
    Reset,
}

/// Runs a routed request: its fault rule first, then its handler (with the changes it makes
/// attributed to it while somebody listens). `None` when the rule resets the connection.
async fn run(
    op: crate::handlers::operations::S3Op,
    ctx: &Context<'_>,
    parts: &Parts,
    body: &mut RequestBody,
    state: &ServerState,
    routed: &Routed,
    had_body: bool,
) -> Option<S3Result<Response<ResponseBody>>> {
    match before_handler(routed.fault.as_deref(), body, had_body).await {
        Before::Fail(e) => Some(Err(e)),
        Before::Reset => None,
        Before::Run => {
            let work = handlers::dispatch(op, parts, body, ctx);
            Some(if state.store.changes().listened() {
                let cause = Cause {
                    operation: routed.operation,
                    requester: routed.requester.clone(),
                };
                caused_by(cause, work).await
            } else {
                work.await
            })
        }
    }
}

/// Applies a rule's latency, error, request reset and request bandwidth cap.
async fn before_handler(rule: Option<&Rule>, body: &mut RequestBody, has_body: bool) -> Before {
    let Some(rule) = rule else {
        return Before::Run;
    };
    if let Some(latency) = rule.latency() {
        tokio::time::sleep(latency).await;
    }
    if let Some(error) = rule.error() {
        return Before::Fail(error);
    }
    if let Some(rate) = rule.bandwidth() {
        body.pace(rate);
    }
    if let Some(after) = rule.request_reset(has_body) {
        // Take that much of the body (or all of it, if shorter), then cut the connection.
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, body.drain(after)).await;
        return Before::Reset;
    }
    Before::Run
}

/// Authenticates and routes a request; `routed` learns its operation and the fault rule that
/// hits it, if any.
fn route<'s>(
    parts: &mut Parts,
    state: &'s ServerState,
    routed: &mut Routed,
) -> S3Result<(crate::handlers::operations::S3Op, Context<'s>)> {
    let query = crate::query::Query::parse(parts.uri.query())?;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let base_domain = state.config.server.base_domain.as_deref();
    let vhost_bucket = host.and_then(|h| router::bucket_from_host(h, base_domain));
    let from_console = parts.extensions.get::<FromConsole>().is_some();
    let auth = if from_console {
        console_auth(state)
    } else {
        crate::auth::authenticate(
            &crate::auth::RequestToAuthenticate {
                method: parts.method.as_str(),
                raw_path: parts.uri.path(),
                raw_query: parts.uri.query(),
                query: &query,
                headers: &parts.headers,
                vhost_bucket: vhost_bucket.as_deref(),
            },
            &state.config.auth,
            std::time::SystemTime::now(),
        )?
    };
    tracing::trace!(access_key = ?auth.access_key_id, "authenticated");
    if state.requests.wanted() || state.store.changes().listened() {
        routed.requester = match from_console {
            true => Some(CONSOLE_REQUESTER.to_string()),
            false => auth.access_key_id.clone(),
        };
    }
    let hoisted = if auth.query_headers_trusted {
        hoist_query_headers(&mut parts.headers, &query)?
    } else {
        Vec::new()
    };
    let has_copy_source = parts.headers.contains_key("x-amz-copy-source");
    let requester = requester(state, &auth);
    let ctx = Context {
        store: &state.store,
        config: &state.config,
        default_owner: state.owner.clone(),
        requester,
        auth,
        hoisted,
        policies: &state.policies,
    };
    // A virtual-hosted-style request becomes its path-style twin.
    let path = match vhost_bucket {
        Some(bucket) => format!("/{bucket}{}", parts.uri.path()),
        None => parts.uri.path().to_string(),
    };
    let op = router::route(&parts.method, &path, &query, has_copy_source)?;
    tracing::trace!(operation = op.name(), "routed");
    routed.operation = op.name();
    routed.key = op.key().map(str::to_string);
    if ctx.auth.form_post && !matches!(op, crate::handlers::operations::S3Op::PostObject { .. }) {
        return Err(crate::s3_error::S3Error::new(
            crate::s3_error::S3ErrorCode::AccessDenied,
        ));
    }
    // Faults are for the clients under test, not for the person looking at the store.
    if !from_console {
        routed.fault = state.faults.hit(op.name(), op.bucket(), op.key());
    }
    Ok((op, ctx))
}

/// Marks a request the web console (`console/`) passes on: it is made as the server's owner,
/// with no signature to check. Only the console's own listener sets it; nothing on the wire can.
#[derive(Clone, Copy)]
pub(super) struct FromConsole;

/// The requester the request log and change events name for the console's requests.
pub const CONSOLE_REQUESTER: &str = "console";

/// The console acts as the first configured user, the owner of what it creates.
fn console_auth(state: &ServerState) -> crate::auth::Authenticated {
    let first_key = state.config.auth.credentials.first();
    crate::auth::Authenticated {
        access_key_id: (state.config.auth.enabled)
            .then(|| first_key.map(|c| c.access_key_id.clone()))
            .flatten(),
        query_headers_trusted: true,
        ..Default::default()
    }
}

/// Query parameters of SigV4 presigning itself, which are no headers.
const PRESIGN_PARAMETERS: &[&str] = &[
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-signedheaders",
    "x-amz-signature",
    "x-amz-security-token",
];

/// A presigned URL carries the request's `x-amz-*` headers (metadata, ACL, checksums, the
/// payload hash) as query parameters, and S3 applies them as headers. The signed parameter
/// replaces a header of the same name (which nothing signed, or which was signed as well).
/// Returns the names it set.
fn hoist_query_headers(
    headers: &mut http::HeaderMap,
    query: &crate::query::Query,
) -> S3Result<Vec<String>> {
    let mut hoisted = Vec::new();
    for (name, value) in &query.0 {
        let name = name.to_ascii_lowercase();
        if !name.starts_with("x-amz-") || PRESIGN_PARAMETERS.contains(&name.as_str()) {
            continue;
        }
        let invalid = || {
            crate::s3_error::S3Error::invalid_argument("Invalid query parameter for a header")
                .detail("ArgumentName", name.clone())
        };
        let header = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        headers.insert(header, value);
        hoisted.push(name);
    }
    Ok(hoisted)
}

/// The user behind a request: with auth off, the first configured user (everything is open);
/// with auth on, the signer's user, or anonymous.
fn requester(state: &ServerState, auth: &crate::auth::Authenticated) -> Requester {
    if !state.config.auth.enabled {
        return Requester::User(state.owner.clone());
    }
    auth.access_key_id
        .as_deref()
        .and_then(|key| {
            state
                .config
                .auth
                .credentials
                .iter()
                .find(|c| c.access_key_id == key)
        })
        .map_or(Requester::Anonymous, |c| Requester::User(c.owner()))
}

/// Reads what is left of a request body after an early error, within bounds. Returns whether the
/// connection can stay open. A client that waits for `100 Continue` has sent nothing: leave it.
async fn drain_unread_body(parts: &Parts, body: &mut RequestBody) -> bool {
    use http_body::Body;
    if body.is_end_stream() {
        return true;
    }
    let expects_continue = parts
        .headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue && !body.was_read() {
        return false;
    }
    matches!(
        tokio::time::timeout(DRAIN_TIMEOUT, body.drain(DRAIN_LIMIT)).await,
        Ok(true)
    )
}
