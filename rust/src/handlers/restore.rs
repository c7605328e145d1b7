//! Archived objects: a GLACIER or DEEP_ARCHIVE version is read (GET, copies) only through a
//! copy that RestoreObject makes for the days it asks; HEAD always answers, with
//! `x-amz-restore` while a copy lasts. S3 takes hours to restore; here the copy is there at
//! once, and its days are lifecycle days (`lifecycle.dayLengthSeconds`), so a test can watch
//! it expire.

use super::lifecycle_ops::http_date;
use super::operations::ObjectTarget;
use super::support::headers;
use super::support::integrity::read_document;
use super::{empty_response, Context, ForResource, Req};
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::{now_ms, ObjectMetadata, StorageError};
use crate::xml::Element;
use http::{HeaderMap, Response, StatusCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const MAX_BODY: usize = 64 * 1024;

/// GET and copies of an archived version without a restored copy are refused, as S3 does.
pub fn require_readable(metadata: &ObjectMetadata) -> S3Result<()> {
    if metadata.readable(now_ms()) {
        return Ok(());
    }
    Err(S3Error::new(S3ErrorCode::InvalidObjectState)
        .detail("StorageClass", metadata.storage_class()))
}

/// `x-amz-restore` on HEAD and GET while a restored copy lasts.
pub fn insert_restore_header(h: &mut HeaderMap, metadata: &ObjectMetadata) {
    let until = metadata.restored_until(now_ms()).and_then(http_date);
    if let Some(date) = until {
        let value = format!("ongoing-request=\"false\", expiry-date=\"{date}\"");
        headers::insert(h, "x-amz-restore", &value);
    }
}

/// RestoreObject: 202 when it makes the copy, 200 when one was there (its days start again).
pub async fn restore_object(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let (bucket, key) = (target.bucket.as_str(), target.key.as_str());
    let request = read_document(req.parts, req.body, MAX_BODY, "RestoreRequest").await?;
    let days = requested_days(&request)?;
    let now = now_ms();
    let until = crate::storage::lifecycle::restore_expiry(now, days, ctx.config.lifecycle.day());
    let had_copy = Arc::new(AtomicBool::new(false));
    let seen = had_copy.clone();
    ctx.store
        .update_metadata(bucket, key, target.version_id.as_deref(), move |m| {
            if !m.is_archived() {
                return Err(StorageError::NotArchived);
            }
            seen.store(m.restored_until(now).is_some(), Ordering::Relaxed);
            m.restored_until_ms = Some(until);
            Ok(())
        })
        .await
        .for_key(bucket, key)?;
    Ok(empty_response(if had_copy.load(Ordering::Relaxed) {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    }))
}

/// The days of a `RestoreRequest`; a SELECT request is not implemented.
fn requested_days(root: &Element) -> S3Result<u32> {
    if root.child("Type").is_some() || root.child("SelectParameters").is_some() {
        return Err(S3Error::not_implemented("RestoreObject of type SELECT"));
    }
    let tier = root
        .child("GlacierJobParameters")
        .and_then(|p| p.child_text("Tier"))
        .or_else(|| root.child_text("Tier"));
    if tier.is_some_and(|t| !matches!(t.trim(), "Expedited" | "Standard" | "Bulk")) {
        return Err(S3Error::new(S3ErrorCode::MalformedXML));
    }
    root.child_text("Days")
        .and_then(|d| d.trim().parse::<u32>().ok())
        .filter(|d| *d >= 1)
        .ok_or_else(|| S3Error::invalid_argument("Days must be a positive integer"))
}
