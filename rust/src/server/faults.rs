//! Fault injection for testing clients: rules (from the config or `setFaults`) that make
//! matching requests wait, fail with a chosen S3 error, crawl, or lose their connection.
//! While no rule is set a request pays one atomic load.

use crate::body::{Pace, ResponseBody};
use crate::config::{FaultBody, FaultRule};
use crate::s3_error::S3Error;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{ready, Context, Poll};
use std::time::Duration;

/// Longest latency a rule may add; longer is a mistake in the rule, not a test.
const MAX_LATENCY_MS: u64 = 3_600_000;

/// A rule in force, with what it has done so far.
pub struct Rule {
    pub spec: FaultRule,
    pub name: String,
    hit_count: AtomicU64,
    /// Hits left, for a rule with a `count`.
    remaining: Option<AtomicU64>,
}

impl Rule {
    pub fn latency(&self) -> Option<Duration> {
        self.spec.latency_ms.map(Duration::from_millis)
    }

    pub fn error(&self) -> Option<S3Error> {
        let error = self.spec.error.as_ref()?;
        let status = error
            .status
            .and_then(|s| http::StatusCode::from_u16(s).ok());
        let mut s3_error = S3Error::of_code(&error.code, status);
        if let Some(message) = &error.message {
            s3_error.message = message.clone();
        }
        Some(s3_error)
    }

    pub fn bandwidth(&self) -> Option<u64> {
        self.spec.bandwidth_bytes_per_second
    }

    /// After how many bytes of the request body the connection is reset, when this rule resets
    /// requests (`has_body`: whether the request carries one).
    pub fn request_reset(&self, has_body: bool) -> Option<u64> {
        self.reset_of(FaultBody::Request, has_body)
    }

    fn response_reset(&self, has_body: bool) -> Option<u64> {
        self.reset_of(FaultBody::Response, has_body)
    }

    /// The reset's byte count if it cuts `body`: the one named, else the request's when it has
    /// one and the response's when not.
    fn reset_of(&self, body: FaultBody, has_body: bool) -> Option<u64> {
        let reset = self.spec.reset.as_ref()?;
        let cut = reset.body.unwrap_or(if has_body {
            FaultBody::Request
        } else {
            FaultBody::Response
        });
        (cut == body).then_some(reset.after_bytes)
    }

    /// Whether this rule hits a request of `operation` on `bucket`/`key` now, counting the hit.
    fn strikes(&self, operation: &str, bucket: Option<&str>, key: Option<&str>) -> bool {
        let spec = &self.spec;
        let matches = (spec.operations.is_empty()
            || spec.operations.iter().any(|o| o == operation))
            && spec.bucket.as_deref().is_none_or(|b| bucket == Some(b))
            && spec
                .key_prefix
                .as_deref()
                .is_none_or(|p| key.is_some_and(|k| k.starts_with(p)));
        if !matches || spec.probability.is_some_and(|p| rand::random::<f64>() >= p) {
            return false;
        }
        let spent = self.remaining.as_ref().is_some_and(|remaining| {
            remaining
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                .is_err()
        });
        if !spent {
            self.hit_count.fetch_add(1, Ordering::Relaxed);
        }
        !spent
    }

    /// The rule as `getFaults` reports it.
    pub fn report(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.spec).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.retain(|_, v| !v.is_null());
            map.insert("name".into(), self.name.clone().into());
            map.insert("hits".into(), self.hit_count.load(Ordering::Relaxed).into());
            if let Some(remaining) = &self.remaining {
                map.insert("remaining".into(), remaining.load(Ordering::Relaxed).into());
            }
        }
        value
    }
}

#[derive(Default)]
pub struct Faults {
    active: AtomicBool,
    rules: RwLock<Arc<[Arc<Rule>]>>,
}

impl Faults {
    /// Replaces the rules in force (none: faults off), after checking every one.
    pub fn set(&self, specs: Vec<FaultRule>) -> Result<(), String> {
        let rules: Vec<Arc<Rule>> = specs
            .into_iter()
            .enumerate()
            .map(|(i, spec)| {
                let name = spec
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("rule-{}", i + 1));
                check(&spec).map_err(|e| format!("fault rule '{name}': {e}"))?;
                Ok(Arc::new(Rule {
                    remaining: spec.count.map(AtomicU64::new),
                    spec,
                    name,
                    hit_count: AtomicU64::new(0),
                }))
            })
            .collect::<Result<_, String>>()?;
        let mut guard = self.rules.write().map_err(|_| "fault rules unavailable")?;
        self.active.store(!rules.is_empty(), Ordering::Release);
        *guard = rules.into();
        Ok(())
    }

    /// The first rule that hits this request, if any.
    pub fn hit(
        &self,
        operation: &str,
        bucket: Option<&str>,
        key: Option<&str>,
    ) -> Option<Arc<Rule>> {
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        let rules = self.rules.read().ok()?.clone();
        rules
            .iter()
            .find(|rule| rule.strikes(operation, bucket, key))
            .cloned()
    }

    pub fn report(&self) -> Vec<serde_json::Value> {
        self.rules
            .read()
            .map(|rules| rules.iter().map(|r| r.report()).collect())
            .unwrap_or_default()
    }
}

/// Refuses a rule that cannot mean what its writer wanted.
fn check(spec: &FaultRule) -> Result<(), String> {
    if let Some(unknown) = spec
        .operations
        .iter()
        .find(|o| !crate::handlers::operations::OPERATION_NAMES.contains(&o.as_str()))
    {
        return Err(format!(
            "'{unknown}' is not an S3 operation this server knows"
        ));
    }
    if spec
        .probability
        .is_some_and(|p| !(p.is_finite() && (0.0..=1.0).contains(&p)))
    {
        return Err("probability must be between 0 and 1".into());
    }
    if spec.count == Some(0) {
        return Err("count must be at least 1".into());
    }
    if spec.latency_ms.is_some_and(|ms| ms > MAX_LATENCY_MS) {
        return Err(format!("latencyMs must be at most {MAX_LATENCY_MS}"));
    }
    if spec.bandwidth_bytes_per_second == Some(0) {
        return Err("bandwidthBytesPerSecond must be at least 1".into());
    }
    if spec.error.is_some() && spec.reset.is_some() {
        return Err("a rule either answers an error or resets the connection, not both".into());
    }
    if spec.latency_ms.is_none()
        && spec.error.is_none()
        && spec.bandwidth_bytes_per_second.is_none()
        && spec.reset.is_none()
    {
        return Err("give latencyMs, error, bandwidthBytesPerSecond or reset".into());
    }
    if let Some(error) = &spec.error {
        if error.code.is_empty() || !error.code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err("error.code must be letters and digits".into());
        }
        if let Some(status) = error.status {
            if !(400..=599).contains(&status) {
                return Err("error.status must be an HTTP error status (400 to 599)".into());
            }
        } else if crate::s3_error::S3ErrorCode::from_name(&error.code).is_none() {
            return Err(format!(
                "'{}' is not an S3 error code this server knows; give error.status",
                error.code
            ));
        }
    }
    Ok(())
}

/// Makes the connection's close a reset (RST) instead of an orderly FIN.
pub fn reset_on_close(socket: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `socket` is the connection's socket, open for as long as its requests and
    // response bodies are polled; setsockopt only reads the struct passed by pointer.
    unsafe {
        libc::setsockopt(
            socket,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// The error a reset answers to hyper, which then drops the connection without an answer.
#[derive(Debug)]
pub struct InjectedReset;

impl std::fmt::Display for InjectedReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by a fault rule")
    }
}

impl std::error::Error for InjectedReset {}

/// The response body under a rule's bandwidth cap and response reset (unchanged without them).
pub fn response_body(
    body: ResponseBody,
    rule: &Rule,
    request_had_body: bool,
    socket: RawFd,
) -> ResponseBody {
    let reset_after = rule.response_reset(request_had_body);
    if rule.bandwidth().is_none() && reset_after.is_none() {
        return body;
    }
    FaultyBody {
        inner: body,
        pace: Pace::new(rule.bandwidth().unwrap_or(u64::MAX)),
        reset_after,
        socket,
    }
    .boxed()
}

struct FaultyBody {
    inner: ResponseBody,
    /// Holds the inner body's last frame (no cap: `u64::MAX`, pieces of 64 KiB).
    pace: Pace,
    reset_after: Option<u64>,
    socket: RawFd,
}

impl Body for FaultyBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = &mut *self;
        while this.pace.is_empty() {
            match ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => this.pace.hold(data),
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                other => return Poll::Ready(other),
            }
        }
        let max = match this.reset_after {
            Some(0) => {
                reset_on_close(this.socket);
                return Poll::Ready(Some(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    InjectedReset,
                ))));
            }
            Some(left) => usize::try_from(left).unwrap_or(usize::MAX),
            None => usize::MAX,
        };
        let piece = ready!(this.pace.poll_piece(cx, max)).unwrap_or_default();
        if let Some(left) = &mut this.reset_after {
            *left -= piece.len() as u64;
        }
        Poll::Ready(Some(Ok(Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.pace.is_empty() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        crate::body::size_hint_plus(self.inner.size_hint(), self.pace.held())
    }
}
