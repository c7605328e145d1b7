//! The per-request pipeline: request id → CORS preflight (OPTIONS) or authenticate → route →
//! authorize + handler → error rendering (draining an unread body) → CORS and common headers.

use super::response::{add_common_headers, error_response, new_host_id, new_request_id};
use super::{router, ServerState};
use crate::acl::Requester;
use crate::body::{RequestBody, ResponseBody};
use crate::handlers::{self, Context};
use crate::s3_error::S3Result;
use http::request::Parts;
use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How much of an unread request body is read and dropped so the client sees the error
/// (instead of a reset connection) before the connection is closed.
const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// S3 refuses a request whose header section is larger than this (names, values, `: ` and CRLF).
const MAX_HEADER_SECTION: usize = 8192;

pub async fn handle(
    request: Request<Incoming>,
    state: Arc<ServerState>,
) -> Result<Response<ResponseBody>, Infallible> {
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
    };
    let result = if let Err(e) = check_header_section(&parts.headers) {
        Err(e)
    } else if parts.method == Method::OPTIONS {
        routed.operation = super::stats::PREFLIGHT;
        super::preflight::preflight(&parts, &state, bucket.as_deref()).await
    } else {
        route_and_run(&mut parts, &mut body, &state, &mut routed).await
    };
    let mut error_code = None;
    let mut response = match result {
        Ok(response) => response,
        Err(err) => {
            error_code = Some(err.code.as_str());
            tracing::debug!(request_id, code = err.code.as_str(), message = %err.message, "request failed");
            let mut response = error_response(&err, parts.uri.path(), &request_id, &host_id, head);
            if !drain_unread_body(&parts, &mut body).await {
                response
                    .headers_mut()
                    .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            }
            response
        }
    };
    // Actual requests from a browser get CORS headers (errors too, so scripts can read them).
    let origin = parts
        .headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    if let (Some(origin), false) = (origin, parts.method == Method::OPTIONS) {
        if let Some(policy) = super::preflight::policy_for(&state, bucket.as_deref()).await {
            if let Some(grant) = policy.evaluate(origin, parts.method.as_str(), &[]) {
                super::preflight::decorate(response.headers_mut(), &grant);
            }
        }
    }
    add_common_headers(response.headers_mut(), &request_id, &host_id);
    let status = response.status().as_u16();
    state.stats.record(routed.operation, status);
    state
        .requests
        .record(|seq| super::request_log::RequestRecord {
            seq,
            time: std::time::SystemTime::now(),
            request_id: request_id.clone(),
            method: parts.method.to_string(),
            bucket: bucket.clone(),
            key: routed.key.take(),
            operation: routed.operation,
            status,
            error_code,
            duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        });
    tracing::debug!(
        request_id,
        method = %parts.method,
        uri = %parts.uri,
        status = response.status().as_u16(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    Ok(response)
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

/// What routing learnt of a request, for the counters and the request log.
struct Routed {
    operation: &'static str,
    key: Option<String>,
}

/// Authenticates, routes and runs a request; `routed` learns its operation once it is routed.
async fn route_and_run(
    parts: &mut Parts,
    body: &mut RequestBody,
    state: &ServerState,
    routed: &mut Routed,
) -> S3Result<Response<ResponseBody>> {
    let query = crate::query::Query::parse(parts.uri.query())?;
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let base_domain = state.config.server.base_domain.as_deref();
    let vhost_bucket = host.and_then(|h| router::bucket_from_host(h, base_domain));
    let auth = crate::auth::authenticate(
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
    )?;
    tracing::trace!(access_key = ?auth.access_key_id, "authenticated");
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
    handlers::dispatch(op, parts, body, &ctx).await
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
