//! CORS on the wire: answering preflight `OPTIONS` requests and adding the CORS headers to
//! actual responses, from the bucket's rules or else the server-wide default.

use super::ServerState;
use crate::body::{self, ResponseBody};
use crate::cors::{CorsPolicy, Grant};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

/// The rules that apply to a request on `bucket` (or to the service, for `None`).
pub async fn policy_for(state: &ServerState, bucket: Option<&str>) -> Option<CorsPolicy> {
    if let Some(bucket) = bucket {
        if let Ok(Some(rules)) = state.store.bucket_cors(bucket).await {
            return Some(CorsPolicy::bucket(rules));
        }
    }
    CorsPolicy::server_default(&state.config.cors)
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// What S3 sends on preflights and actual requests alike.
const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// The headers of a matched rule that preflights and actual responses share (S3 sends the
/// rule's methods and max age on actual responses too).
fn common(headers: &mut HeaderMap, grant: &Grant) {
    set(headers, "access-control-allow-origin", &grant.allow_origin);
    set(
        headers,
        "access-control-allow-methods",
        &grant.allow_methods.join(", "),
    );
    if let Some(max_age) = grant.max_age_seconds {
        set(headers, "access-control-max-age", &max_age.to_string());
    }
    if grant.allow_credentials {
        set(headers, "access-control-allow-credentials", "true");
    }
    if !grant.expose_headers.is_empty() {
        set(
            headers,
            "access-control-expose-headers",
            &grant.expose_headers.join(", "),
        );
    }
}

/// Adds the CORS headers of a matched rule to an actual (non-preflight) response.
pub fn decorate(headers: &mut HeaderMap, grant: &Grant) {
    common(headers, grant);
    set(headers, "vary", VARY);
}

/// Answers `OPTIONS`: 200 with the rule's permissions, 403 CORSResponse, or 400 when the request
/// is not a preflight.
pub async fn preflight(
    parts: &Parts,
    state: &ServerState,
    bucket: Option<&str>,
) -> S3Result<Response<ResponseBody>> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(origin), Some(method)) = (header("origin"), header("access-control-request-method"))
    else {
        return Err(S3Error::with_message(
            S3ErrorCode::BadRequest,
            "Insufficient information. Origin request header needed.",
        ));
    };
    let requested: Vec<String> = header("access-control-request-headers")
        .map(|h| {
            h.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let policy = policy_for(state, bucket).await.ok_or_else(|| {
        S3Error::with_message(
            S3ErrorCode::CORSResponse,
            "CORS is not enabled for this bucket.",
        )
    })?;
    let grant = policy.evaluate(origin, method, &requested).ok_or_else(|| {
        S3Error::with_message(
            S3ErrorCode::CORSResponse,
            "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
        )
        .detail("Method", method)
        .detail("ResourceType", if bucket.is_some() { "BUCKET" } else { "SERVICE" })
    })?;
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::OK;
    let h = response.headers_mut();
    common(h, &grant);
    if !requested.is_empty() {
        set(h, "access-control-allow-headers", &requested.join(", "));
    }
    set(h, "vary", VARY);
    Ok(response)
}
