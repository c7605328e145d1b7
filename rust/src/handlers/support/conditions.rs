//! Conditional requests (RFC 7232 as S3 applies it): If-Match, If-None-Match, If-Modified-Since,
//! If-Unmodified-Since on GET/HEAD, and their `x-amz-copy-source-if-*` twins on copies.

use crate::s3_error::{S3Error, S3ErrorCode};
use http::request::Parts;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a failed condition means for the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// 304, for If-None-Match / If-Modified-Since on GET and HEAD.
    NotModified,
    /// 412, naming the header that did not hold.
    Precondition(&'static str),
}

/// The four conditional headers, under whatever names a request uses for them.
struct Names {
    if_match: &'static str,
    if_none_match: &'static str,
    if_modified_since: &'static str,
    if_unmodified_since: &'static str,
}

const REQUEST: Names = Names {
    if_match: "if-match",
    if_none_match: "if-none-match",
    if_modified_since: "if-modified-since",
    if_unmodified_since: "if-unmodified-since",
};

const COPY_SOURCE: Names = Names {
    if_match: "x-amz-copy-source-if-match",
    if_none_match: "x-amz-copy-source-if-none-match",
    if_modified_since: "x-amz-copy-source-if-modified-since",
    if_unmodified_since: "x-amz-copy-source-if-unmodified-since",
};

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t == etag)
}

/// Whole seconds: HTTP dates cannot say more, so comparisons happen at that resolution.
fn seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

fn header_date(parts: &Parts, name: &str) -> Option<u64> {
    let value = parts.headers.get(name)?.to_str().ok()?;
    httpdate::parse_http_date(value.trim()).ok().map(seconds)
}

fn evaluate(
    parts: &Parts,
    names: &Names,
    etag: &str,
    last_modified: SystemTime,
) -> Result<(), Failed> {
    let modified = seconds(last_modified);
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    // If-Match wins over If-Unmodified-Since; If-None-Match wins over If-Modified-Since.
    match header(names.if_match) {
        Some(list) if !etag_matches(list, etag) => return Err(Failed::Precondition("If-Match")),
        Some(_) => {}
        None => {
            if header_date(parts, names.if_unmodified_since).is_some_and(|since| modified > since) {
                return Err(Failed::Precondition("If-Unmodified-Since"));
            }
        }
    }
    match header(names.if_none_match) {
        Some(list) if etag_matches(list, etag) => Err(Failed::NotModified),
        Some(_) => Ok(()),
        None => {
            if header_date(parts, names.if_modified_since).is_some_and(|since| modified <= since) {
                Err(Failed::NotModified)
            } else {
                Ok(())
            }
        }
    }
}

/// GET/HEAD conditions on the object itself.
pub fn check_request(parts: &Parts, etag: &str, last_modified: SystemTime) -> Result<(), Failed> {
    evaluate(parts, &REQUEST, etag, last_modified)
}

/// `x-amz-copy-source-if-*` on the copy source: every failure is a 412.
pub fn check_copy_source(
    parts: &Parts,
    etag: &str,
    last_modified: SystemTime,
) -> Result<(), S3Error> {
    evaluate(parts, &COPY_SOURCE, etag, last_modified).map_err(|failed| {
        let condition = match failed {
            Failed::Precondition(header) => {
                format!("x-amz-copy-source-{}", header.to_ascii_lowercase())
            }
            Failed::NotModified => {
                "x-amz-copy-source-If-None-Match or -If-Modified-Since".to_string()
            }
        };
        S3Error::new(S3ErrorCode::PreconditionFailed).detail("Condition", condition)
    })
}

/// A timestamp as S3 takes it in a header (an HTTP date) or in XML (ISO 8601), in whole seconds.
pub fn timestamp_seconds(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(time) = httpdate::parse_http_date(value) {
        return Some(seconds(time));
    }
    let parsed = chrono::DateTime::parse_from_rfc3339(value).ok()?;
    u64::try_from(parsed.timestamp()).ok()
}

/// The conditions of a conditional delete, from `If-Match`, `x-amz-if-match-last-modified-time`
/// and `x-amz-if-match-size` (or the same fields of a DeleteObjects entry).
pub fn delete_condition(
    if_match: Option<&str>,
    modified: Option<&str>,
    size: Option<&str>,
) -> Result<crate::storage::DeleteCondition, S3Error> {
    let bad = |name: &str, value: &str| {
        S3Error::invalid_argument(format!("Invalid {name}"))
            .detail("ArgumentName", name)
            .detail("ArgumentValue", value)
    };
    let modified_secs = match modified {
        Some(v) => {
            Some(timestamp_seconds(v).ok_or_else(|| bad("x-amz-if-match-last-modified-time", v))?)
        }
        None => None,
    };
    let size = match size {
        Some(v) => Some(
            v.trim()
                .parse::<u64>()
                .map_err(|_| bad("x-amz-if-match-size", v))?,
        ),
        None => None,
    };
    Ok(crate::storage::DeleteCondition {
        if_match: if_match.map(|m| m.trim().trim_matches('"').to_string()),
        modified_secs,
        size,
        bypass_governance: false,
        deleter: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder();
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn precedence_and_matching() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_500);
        let before = "Tue, 14 Nov 2023 22:13:19 GMT"; // t - 1 s
        let same = "Tue, 14 Nov 2023 22:13:20 GMT"; // t, at second resolution
        let check = |h: &[(&str, &str)]| check_request(&parts(h), "abc", t);
        assert_eq!(check(&[]), Ok(()));
        assert_eq!(check(&[("if-match", "\"abc\"")]), Ok(()));
        assert_eq!(check(&[("if-match", "\"x\", \"abc\"")]), Ok(()));
        assert_eq!(check(&[("if-match", "*")]), Ok(()));
        assert_eq!(
            check(&[("if-match", "\"x\"")]),
            Err(Failed::Precondition("If-Match"))
        );
        assert_eq!(
            check(&[("if-none-match", "\"abc\"")]),
            Err(Failed::NotModified)
        );
        assert_eq!(check(&[("if-none-match", "\"x\"")]), Ok(()));
        assert_eq!(
            check(&[("if-modified-since", same)]),
            Err(Failed::NotModified)
        );
        assert_eq!(check(&[("if-modified-since", before)]), Ok(()));
        assert_eq!(
            check(&[("if-unmodified-since", before)]),
            Err(Failed::Precondition("If-Unmodified-Since"))
        );
        assert_eq!(check(&[("if-unmodified-since", same)]), Ok(()));
        // If-Match true beats If-Unmodified-Since false; If-None-Match false beats If-Modified-Since.
        assert_eq!(
            check(&[("if-match", "\"abc\""), ("if-unmodified-since", before)]),
            Ok(())
        );
        assert_eq!(
            check(&[("if-none-match", "\"x\""), ("if-modified-since", same)]),
            Ok(())
        );
        assert_eq!(check(&[("if-modified-since", "not a date")]), Ok(()));
    }

    #[test]
    fn copy_source_failures_are_412() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let p = parts(&[("x-amz-copy-source-if-none-match", "\"abc\"")]);
        assert_eq!(
            check_copy_source(&p, "abc", t).unwrap_err().code,
            S3ErrorCode::PreconditionFailed
        );
        let p = parts(&[("x-amz-copy-source-if-match", "\"abc\"")]);
        assert!(check_copy_source(&p, "abc", t).is_ok());
    }
}
