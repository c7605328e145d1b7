//! Put/Get/DeleteBucketLifecycleConfiguration: the rules as S3 validates and answers them
//! (storage applies them; see `storage::lifecycle`).

use super::operations::BucketTarget;
use super::support::integrity::verify_small_body;
use super::ForResource;
use super::Req;
use super::{empty_response, xml_response, Context};
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::lifecycle::{
    Expiration, LifecycleRule, NoncurrentExpiration, RuleFilter, Transition,
};
use crate::storage::Tag;
use crate::xml::{iso8601, parse_document, Element, XmlWriter};
use http::{Response, StatusCode};
use percent_encoding::utf8_percent_encode;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};

/// 1000 rules of a few hundred bytes.
const MAX_BODY: usize = 1024 * 1024;
const MAX_RULES: usize = 1000;

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

fn invalid(message: &str) -> S3Error {
    S3Error::invalid_argument(message)
}

fn invalid_request(message: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidRequest, message)
}

/// A count of days: a positive whole number.
fn days(element: &Element, name: &str, action: &str) -> S3Result<Option<u32>> {
    match element.child_text(name) {
        None => Ok(None),
        Some(text) => match text.trim().parse::<u32>() {
            Ok(n) if n > 0 => Ok(Some(n)),
            _ => Err(invalid(&format!(
                "'{name}' for {action} action must be a positive integer"
            ))),
        },
    }
}

/// An expiration or transition date: ISO 8601, at midnight UTC.
fn midnight(element: &Element) -> S3Result<Option<u64>> {
    let Some(text) = element.child_text("Date") else {
        return Ok(None);
    };
    let parsed = chrono::DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_| invalid("Invalid date, the Date must be in ISO 8601 format"))?;
    let ms = u64::try_from(parsed.timestamp_millis()).map_err(|_| invalid("Invalid date"))?;
    if ms % 86_400_000 != 0 {
        return Err(invalid("'Date' must be at midnight GMT"));
    }
    Ok(Some(ms))
}

fn tag(element: &Element) -> S3Result<Tag> {
    Ok(Tag {
        key: element.child_text("Key").ok_or_else(malformed)?.to_string(),
        value: element.child_text("Value").unwrap_or_default().to_string(),
    })
}

fn size(element: &Element, name: &str) -> S3Result<Option<u64>> {
    match element.child_text(name) {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| invalid(&format!("'{name}' must be a non-negative integer"))),
    }
}

/// `<Filter>` (one condition, or `<And>` of several) or the legacy top-level `<Prefix>`.
fn filter(rule: &Element) -> S3Result<RuleFilter> {
    let Some(filter) = rule.child("Filter") else {
        return Ok(RuleFilter {
            prefix: rule.child_text("Prefix").unwrap_or_default().to_string(),
            legacy_prefix: rule.child("Prefix").is_some(),
            ..Default::default()
        });
    };
    if rule.child("Prefix").is_some() {
        return Err(malformed());
    }
    let and = filter.child("And");
    let from = and.unwrap_or(filter);
    let parsed = RuleFilter {
        prefix: from.child_text("Prefix").unwrap_or_default().to_string(),
        tags: from
            .children_named("Tag")
            .map(tag)
            .collect::<S3Result<_>>()?,
        size_greater_than: size(from, "ObjectSizeGreaterThan")?,
        size_less_than: size(from, "ObjectSizeLessThan")?,
        and: and.is_some(),
        legacy_prefix: false,
    };
    let conditions = usize::from(from.child("Prefix").is_some())
        + parsed.tags.len()
        + usize::from(parsed.size_greater_than.is_some())
        + usize::from(parsed.size_less_than.is_some());
    // Outside `<And>` a filter holds at most one condition.
    if and.is_none() && conditions > 1 {
        return Err(malformed());
    }
    Ok(parsed)
}

/// The storage classes a lifecycle rule may move objects to.
const TRANSITION_CLASSES: [&str; 6] = [
    "GLACIER",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];

fn transition(element: &Element, days_name: &str, action: &str) -> S3Result<Transition> {
    let days = days(element, days_name, action)?;
    let storage_class = element
        .child_text("StorageClass")
        .map(str::trim)
        .filter(|c| TRANSITION_CLASSES.contains(c))
        .ok_or_else(malformed)?;
    // S3 keeps objects at least 30 days in STANDARD before the infrequent-access classes.
    if matches!(storage_class, "STANDARD_IA" | "ONEZONE_IA") && days.is_some_and(|d| d < 30) {
        return Err(invalid(&format!(
            "'{days_name}' in {action} action must be greater than or equal to 30 for storageClass '{storage_class}'"
        )));
    }
    Ok(Transition {
        days,
        date_ms: midnight(element)?,
        storage_class: storage_class.to_string(),
    })
}

fn rule(element: &Element) -> S3Result<LifecycleRule> {
    let id = match element.child_text("ID") {
        Some(id) if id.len() > 255 => {
            return Err(invalid("ID length should not exceed allowed limit of 255"))
        }
        Some(id) => id.to_string(),
        None => format!("{:032x}", rand::random::<u128>()),
    };
    let enabled = match element.child_text("Status").map(str::trim) {
        Some("Enabled") => true,
        Some("Disabled") => false,
        _ => return Err(malformed()),
    };
    let filter = filter(element)?;
    let expiration = match element.child("Expiration") {
        None => None,
        Some(e) => {
            let marker = match e.child_text("ExpiredObjectDeleteMarker").map(str::trim) {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => return Err(malformed()),
            };
            let parsed = Expiration {
                days: days(e, "Days", "Expiration")?,
                date_ms: midnight(e)?,
                expired_object_delete_marker: marker,
            };
            let given = usize::from(parsed.days.is_some())
                + usize::from(parsed.date_ms.is_some())
                + usize::from(marker);
            if given != 1 {
                return Err(malformed());
            }
            if marker && !filter.tags.is_empty() {
                return Err(invalid_request(
                    "ExpiredObjectDeleteMarker cannot be specified with object tags",
                ));
            }
            Some(parsed)
        }
    };
    let noncurrent_expiration = match element.child("NoncurrentVersionExpiration") {
        None => None,
        Some(n) => {
            let noncurrent_days = days(n, "NoncurrentDays", "NoncurrentVersionExpiration")?;
            if noncurrent_days.is_none() {
                return Err(malformed());
            }
            Some(NoncurrentExpiration {
                noncurrent_days,
                newer_noncurrent_versions: days(
                    n,
                    "NewerNoncurrentVersions",
                    "NoncurrentVersionExpiration",
                )?,
            })
        }
    };
    let abort_incomplete_days = match element.child("AbortIncompleteMultipartUpload") {
        None => None,
        Some(a) => {
            if !filter.tags.is_empty() {
                return Err(invalid_request(
                    "Tag-based filter cannot be used with AbortIncompleteMultipartUpload action",
                ));
            }
            Some(
                days(a, "DaysAfterInitiation", "AbortIncompleteMultipartUpload")?
                    .ok_or_else(malformed)?,
            )
        }
    };
    let transitions = element
        .children_named("Transition")
        .map(|t| transition(t, "Days", "Transition"))
        .collect::<S3Result<Vec<_>>>()?;
    let noncurrent_transitions = element
        .children_named("NoncurrentVersionTransition")
        .map(|t| transition(t, "NoncurrentDays", "NoncurrentVersionTransition"))
        .collect::<S3Result<Vec<_>>>()?;
    let parsed = LifecycleRule {
        id,
        enabled,
        filter,
        expiration,
        noncurrent_expiration,
        abort_incomplete_days,
        transitions,
        noncurrent_transitions,
    };
    let has_action = parsed.expiration.is_some()
        || parsed.noncurrent_expiration.is_some()
        || parsed.abort_incomplete_days.is_some()
        || !parsed.transitions.is_empty()
        || !parsed.noncurrent_transitions.is_empty();
    if !has_action {
        return Err(invalid_request(
            "At least one action needs to be specified in a rule",
        ));
    }
    Ok(parsed)
}

fn parse(document: &[u8]) -> S3Result<Vec<LifecycleRule>> {
    let root = parse_document(document)
        .ok()
        .filter(|r| r.name == "LifecycleConfiguration")
        .ok_or_else(malformed)?;
    let rules = root
        .children_named("Rule")
        .map(rule)
        .collect::<S3Result<Vec<_>>>()?;
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(malformed());
    }
    let mut ids = HashSet::new();
    if !rules.iter().all(|r| ids.insert(r.id.as_str())) {
        return Err(invalid(
            "Rule ID must be unique. Found same ID for more than one rule",
        ));
    }
    Ok(rules)
}

pub async fn put(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.require_bucket(bucket).await?;
    let document = req.body.read_small(MAX_BODY).await?;
    verify_small_body(req.parts, &document)?;
    let rules = parse(&document)?;
    ctx.store
        .set_bucket_lifecycle(bucket, Some(rules))
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn delete(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.store
        .set_bucket_lifecycle(bucket, None)
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

fn date(ms: u64) -> String {
    iso8601(SystemTime::UNIX_EPOCH + Duration::from_millis(ms))
}

fn write_filter(w: &mut XmlWriter, f: &RuleFilter) {
    if f.legacy_prefix {
        w.element("Prefix", &f.prefix);
        return;
    }
    w.open("Filter");
    if f.and {
        w.open("And");
    }
    if f.and
        || !f.prefix.is_empty()
        || (f.tags.is_empty() && f.size_greater_than.is_none() && f.size_less_than.is_none())
    {
        w.element("Prefix", &f.prefix);
    }
    for t in &f.tags {
        w.open("Tag")
            .element("Key", &t.key)
            .element("Value", &t.value)
            .close("Tag");
    }
    w.optional(
        "ObjectSizeGreaterThan",
        f.size_greater_than.map(|s| s.to_string()).as_deref(),
    )
    .optional(
        "ObjectSizeLessThan",
        f.size_less_than.map(|s| s.to_string()).as_deref(),
    );
    if f.and {
        w.close("And");
    }
    w.close("Filter");
}

fn write_transition(w: &mut XmlWriter, name: &str, days_name: &str, t: &Transition) {
    w.open(name)
        .optional(days_name, t.days.map(|d| d.to_string()).as_deref())
        .optional("Date", t.date_ms.map(date).as_deref())
        .element("StorageClass", &t.storage_class)
        .close(name);
}

pub async fn get(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let rules = ctx
        .store
        .bucket_lifecycle(bucket)
        .await
        .for_bucket(bucket)?
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::NoSuchLifecycleConfiguration).detail("BucketName", bucket)
        })?;
    let mut w = XmlWriter::new();
    w.root("LifecycleConfiguration");
    for r in &rules {
        w.open("Rule").element("ID", &r.id);
        write_filter(&mut w, &r.filter);
        w.element("Status", if r.enabled { "Enabled" } else { "Disabled" });
        for t in &r.transitions {
            write_transition(&mut w, "Transition", "Days", t);
        }
        if let Some(e) = &r.expiration {
            w.open("Expiration")
                .optional("Days", e.days.map(|d| d.to_string()).as_deref())
                .optional("Date", e.date_ms.map(date).as_deref())
                .optional(
                    "ExpiredObjectDeleteMarker",
                    e.expired_object_delete_marker.then_some("true"),
                )
                .close("Expiration");
        }
        for t in &r.noncurrent_transitions {
            write_transition(&mut w, "NoncurrentVersionTransition", "NoncurrentDays", t);
        }
        if let Some(n) = &r.noncurrent_expiration {
            w.open("NoncurrentVersionExpiration")
                .optional(
                    "NoncurrentDays",
                    n.noncurrent_days.map(|d| d.to_string()).as_deref(),
                )
                .optional(
                    "NewerNoncurrentVersions",
                    n.newer_noncurrent_versions
                        .map(|d| d.to_string())
                        .as_deref(),
                )
                .close("NoncurrentVersionExpiration");
        }
        if let Some(days) = r.abort_incomplete_days {
            w.open("AbortIncompleteMultipartUpload")
                .element("DaysAfterInitiation", &days.to_string())
                .close("AbortIncompleteMultipartUpload");
        }
        w.close("Rule");
    }
    w.close("LifecycleConfiguration");
    Ok(xml_response(w.finish()))
}

/// The last instant an HTTP date can name: 9999-12-31T23:59:59Z.
const LAST_HTTP_DATE_MS: u64 = 253_402_300_799_000;

/// A time in ms since the epoch as an HTTP date; `None` past the year 9999 (a rule of many
/// million days), which the format cannot write.
pub(super) fn http_date(ms: u64) -> Option<String> {
    (ms <= LAST_HTTP_DATE_MS)
        .then(|| httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_millis(ms)))
}

/// The object a write or read answers for, as its lifecycle rules see it.
pub struct CurrentObject<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub size: u64,
    pub tags: &'a [Tag],
    pub last_modified: SystemTime,
}

/// `x-amz-expiration`, when a rule of the bucket will expire this current version. The header
/// only announces; a failure to read the rules leaves it out rather than fail the request.
pub async fn insert_expiration(
    ctx: &Context<'_>,
    h: &mut http::HeaderMap,
    object: CurrentObject<'_>,
) {
    let Ok(rules) = ctx.store.enabled_lifecycle_rules(object.bucket).await else {
        return;
    };
    let written_ms = crate::storage::record::nanos_since_epoch(object.last_modified) / 1_000_000;
    let day = ctx.config.lifecycle.day();
    if let Some((at, rule)) = crate::storage::lifecycle::expiry(
        &rules,
        object.key,
        object.size,
        object.tags,
        written_ms,
        day,
    ) {
        if let Some(date) = http_date(at) {
            // S3 URL-encodes the id, which keeps a quote in it from ending the value.
            let rule = utf8_percent_encode(rule, super::list::URL_ENCODE_SET);
            let value = format!("expiry-date=\"{date}\", rule-id=\"{rule}\"");
            super::support::headers::insert(h, "x-amz-expiration", &value);
        }
    }
}

/// `x-amz-abort-date` and `x-amz-abort-rule-id`, when a rule will abort this upload.
pub async fn insert_abort_date(
    ctx: &Context<'_>,
    h: &mut http::HeaderMap,
    upload: &crate::storage::UploadInfo,
) {
    let Ok(rules) = ctx.store.enabled_lifecycle_rules(&upload.bucket).await else {
        return;
    };
    let day = ctx.config.lifecycle.day();
    if let Some((at, rule)) =
        crate::storage::lifecycle::abort_date(&rules, &upload.key, upload.initiated_ms, day)
    {
        if let Some(date) = http_date(at) {
            super::support::headers::insert(h, "x-amz-abort-date", &date);
            super::support::headers::insert(h, "x-amz-abort-rule-id", rule);
        }
    }
}
