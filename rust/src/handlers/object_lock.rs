//! Object lock: a bucket's ObjectLockConfiguration, a version's retention and legal hold, and
//! the `x-amz-object-lock-*` headers of uploads and reads.

use super::operations::{BucketTarget, ObjectTarget};
use super::support::headers;
use super::support::integrity;
use super::ForResource;
use super::Req;
use super::{empty_response, xml_response, Context};
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::{
    DefaultRetention, ObjectLockSettings, ObjectMetadata, Retention, RetentionMode, StorageError,
};
use crate::xml::{iso8601, Element, XmlWriter};
use http::request::Parts;
use http::{HeaderMap, Response, StatusCode};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Object lock documents are a few short elements.
const MAX_BODY: usize = 16 * 1024;

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

/// Whether a request proves its body's integrity: a Content-MD5 or a flexible checksum, in a
/// header or announced for the aws-chunked trailer.
fn has_digest(parts: &Parts) -> bool {
    parts.headers.contains_key("content-md5")
        || parts.headers.contains_key("x-amz-sdk-checksum-algorithm")
        || (parts.headers.keys()).any(|name| name.as_str().starts_with("x-amz-checksum-"))
        || headers::get(parts, "x-amz-trailer").is_some_and(|t| t.contains("x-amz-checksum-"))
}

fn digest_required() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "Content-MD5 OR x-amz-checksum- HTTP header is required for this request",
    )
}

/// S3 stores an object with object lock parameters only when its integrity is provable.
pub fn require_digest_for_lock(parts: &Parts, metadata: &ObjectMetadata) -> S3Result<()> {
    let locking = metadata.retention.is_some() || metadata.legal_hold;
    if locking && !has_digest(parts) {
        return Err(digest_required());
    }
    Ok(())
}

/// Reads an object lock document. S3 requires its integrity to be provable, which
/// `verify_small_body` then checks.
async fn read_document(req: &mut Req<'_>, root: &str) -> S3Result<Element> {
    if !has_digest(req.parts) {
        return Err(digest_required());
    }
    integrity::read_document(req.parts, req.body, MAX_BODY, root).await
}

fn time_of(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
}

/// A retain-until date (ISO 8601) in milliseconds; it must lie in the future.
fn retain_until(text: &str) -> S3Result<u64> {
    let parsed = chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|_| {
        S3Error::invalid_argument("The retain until date is not a valid ISO 8601 date")
    })?;
    let ms = u64::try_from(parsed.timestamp_millis()).unwrap_or(0);
    if ms <= crate::storage::now_ms() {
        return Err(S3Error::invalid_argument(
            "The retain until date must be in the future!",
        ));
    }
    Ok(ms)
}

/// The object lock an upload asks for with `x-amz-object-lock-mode`,
/// `x-amz-object-lock-retain-until-date` and `x-amz-object-lock-legal-hold`.
pub fn from_headers(parts: &Parts, metadata: &mut ObjectMetadata) -> S3Result<()> {
    lock_from(|name| headers::get(parts, name), metadata)
}

/// The same from POST Object's form fields of those names.
pub fn from_form_fields(
    fields: &BTreeMap<String, String>,
    metadata: &mut ObjectMetadata,
) -> S3Result<()> {
    lock_from(|name| fields.get(name).map(|v| v.trim()), metadata)
}

fn lock_from<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    metadata: &mut ObjectMetadata,
) -> S3Result<()> {
    let mode = get("x-amz-object-lock-mode");
    let until = get("x-amz-object-lock-retain-until-date");
    metadata.retention = match (mode, until) {
        (None, None) => None,
        (Some(mode), Some(until)) => Some(Retention {
            mode: RetentionMode::parse(mode).ok_or_else(|| {
                S3Error::invalid_argument("Unknown wormMode directive.")
                    .detail("ArgumentName", "x-amz-object-lock-mode")
            })?,
            retain_until_ms: retain_until(until)?,
        }),
        _ => return Err(S3Error::invalid_argument(
            "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
        )),
    };
    metadata.legal_hold = match get("x-amz-object-lock-legal-hold") {
        None | Some("OFF") => false,
        Some("ON") => true,
        Some(other) => {
            return Err(
                S3Error::invalid_argument("Legal Hold must be either of 'ON' or 'OFF'")
                    .detail("ArgumentValue", other),
            )
        }
    };
    Ok(())
}

/// The object lock headers of a GET or HEAD.
pub fn insert_headers(h: &mut HeaderMap, metadata: &ObjectMetadata) {
    if let Some(retention) = &metadata.retention {
        headers::insert(h, "x-amz-object-lock-mode", retention.mode.as_str());
        headers::insert(
            h,
            "x-amz-object-lock-retain-until-date",
            &iso8601(time_of(retention.retain_until_ms)),
        );
    }
    if metadata.legal_hold {
        headers::insert(h, "x-amz-object-lock-legal-hold", "ON");
    }
}

/// `x-amz-bypass-governance-retention: true`.
pub fn bypass_governance(parts: &Parts) -> bool {
    headers::get(parts, "x-amz-bypass-governance-retention")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

pub async fn get_configuration(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let lock = ctx
        .store
        .bucket_object_lock(bucket)
        .await
        .for_bucket(bucket)?
        .ok_or_else(|| S3Error::new(S3ErrorCode::ObjectLockConfigurationNotFoundError))?;
    let mut w = XmlWriter::new();
    w.root("ObjectLockConfiguration")
        .element("ObjectLockEnabled", "Enabled");
    if let Some(default) = &lock.default_retention {
        w.open("Rule")
            .open("DefaultRetention")
            .element("Mode", default.mode.as_str())
            .optional("Days", default.days.map(|d| d.to_string()).as_deref())
            .optional("Years", default.years.map(|y| y.to_string()).as_deref())
            .close("DefaultRetention")
            .close("Rule");
    }
    w.close("ObjectLockConfiguration");
    Ok(xml_response(w.finish()))
}

/// A default retention period: a positive whole number.
fn period(text: Option<&str>) -> S3Result<Option<u32>> {
    let Some(text) = text else { return Ok(None) };
    match text.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(S3Error::invalid_argument(
            "Default retention period must be a positive integer value",
        )),
    }
}

/// PutObjectLockConfiguration: enables object lock on a versioned bucket (or changes its
/// default retention).
pub async fn put_configuration(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.require_bucket(bucket).await?;
    let root = read_document(req, "ObjectLockConfiguration").await?;
    if root.child_text("ObjectLockEnabled").map(str::trim) != Some("Enabled") {
        return Err(malformed());
    }
    let default_retention = match root.child("Rule") {
        None => None,
        Some(rule) => {
            let retention = rule.child("DefaultRetention").ok_or_else(malformed)?;
            let mode = retention
                .child_text("Mode")
                .and_then(RetentionMode::parse)
                .ok_or_else(malformed)?;
            let days = period(retention.child_text("Days"))?;
            let years = period(retention.child_text("Years"))?;
            if days.is_some() == years.is_some() {
                return Err(malformed());
            }
            Some(DefaultRetention { mode, days, years })
        }
    };
    let already = ctx
        .store
        .bucket_object_lock(bucket)
        .await
        .for_bucket(bucket)?;
    let versioning = ctx
        .store
        .bucket_versioning(bucket)
        .await
        .for_bucket(bucket)?;
    if already.is_none() && versioning != crate::storage::Versioning::Enabled {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidBucketState,
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
        ));
    }
    ctx.store
        .set_bucket_object_lock(bucket, ObjectLockSettings { default_retention })
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::OK))
}

async fn object_metadata(ctx: &Context<'_>, target: &ObjectTarget) -> S3Result<ObjectMetadata> {
    let object = ctx
        .open_object(&target.bucket, &target.key, target.version_id.as_deref())
        .await?;
    Ok(object.info.metadata)
}

fn no_lock_configuration() -> S3Error {
    S3Error::new(S3ErrorCode::NoSuchObjectLockConfiguration)
}

pub async fn get_retention(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    require_object_lock(ctx, &target.bucket).await?;
    let retention = object_metadata(ctx, target)
        .await?
        .retention
        .ok_or_else(no_lock_configuration)?;
    let mut w = XmlWriter::new();
    w.root("Retention")
        .element("Mode", retention.mode.as_str())
        .element(
            "RetainUntilDate",
            &iso8601(time_of(retention.retain_until_ms)),
        )
        .close("Retention");
    Ok(xml_response(w.finish()))
}

/// PutObjectRetention: a COMPLIANCE retention can only be extended; a GOVERNANCE one shortened,
/// removed or weakened only with `x-amz-bypass-governance-retention`.
pub async fn put_retention(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let (bucket, key) = (target.bucket.as_str(), target.key.as_str());
    require_object_lock(ctx, bucket).await?;
    let bypass = bypass_governance(req.parts);
    let root = read_document(req, "Retention").await?;
    let wanted = match (root.child_text("Mode"), root.child_text("RetainUntilDate")) {
        (None, None) => None,
        (Some(mode), Some(until)) => Some(Retention {
            mode: RetentionMode::parse(mode).ok_or_else(malformed)?,
            retain_until_ms: retain_until(until)?,
        }),
        _ => return Err(malformed()),
    };
    let now = crate::storage::now_ms();
    ctx.store
        .update_metadata(bucket, key, target.version_id.as_deref(), move |m| {
            if let Some(current) = m.retention.as_ref().filter(|r| r.active(now)) {
                let weaker = match &wanted {
                    None => true,
                    Some(w) => {
                        w.retain_until_ms < current.retain_until_ms
                            || (current.mode == RetentionMode::Compliance
                                && w.mode == RetentionMode::Governance)
                    }
                };
                let may_weaken = current.mode == RetentionMode::Governance && bypass;
                if weaker && !may_weaken {
                    return Err(StorageError::ObjectLocked);
                }
            }
            m.retention = wanted;
            Ok(())
        })
        .await
        .for_key(bucket, key)?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn get_legal_hold(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    require_object_lock(ctx, &target.bucket).await?;
    let metadata = object_metadata(ctx, target).await?;
    let mut w = XmlWriter::new();
    w.root("LegalHold")
        .element("Status", if metadata.legal_hold { "ON" } else { "OFF" })
        .close("LegalHold");
    Ok(xml_response(w.finish()))
}

pub async fn put_legal_hold(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let (bucket, key) = (target.bucket.as_str(), target.key.as_str());
    require_object_lock(ctx, bucket).await?;
    let root = read_document(req, "LegalHold").await?;
    let on = match root.child_text("Status").map(str::trim) {
        Some("ON") => true,
        Some("OFF") => false,
        _ => return Err(malformed()),
    };
    ctx.store
        .update_metadata(bucket, key, target.version_id.as_deref(), move |m| {
            m.legal_hold = on;
            Ok(())
        })
        .await
        .for_key(bucket, key)?;
    Ok(empty_response(StatusCode::OK))
}

/// Retention and legal holds exist only in buckets with object lock.
async fn require_object_lock(ctx: &Context<'_>, bucket: &str) -> S3Result<ObjectLockSettings> {
    ctx.store
        .bucket_object_lock(bucket)
        .await
        .for_bucket(bucket)?
        .ok_or_else(|| S3Error::from(StorageError::NoObjectLock))
}
