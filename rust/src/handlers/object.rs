//! Object operations: PutObject, GetObject, HeadObject, DeleteObject.

use super::lifecycle_ops::{insert_expiration, CurrentObject};
use super::operations::ObjectTarget;
use super::params::{PartNumber, ResponseOverrides};
use super::support::conditions;
use super::support::headers::{self, STORED_HEADERS, USER_META_PREFIX};
use super::support::integrity::UploadIntegrity;
use super::support::range::{self, RangeOutcome};
use super::support::upload::{
    insert_etag, insert_read_version, insert_upload_headers, insert_version_id, require_length,
    trailer_fields, upload_payload, validate_key, validate_storage_class, write_condition,
};
use super::tagging;
use super::ForResource;
use super::Req;
use super::{empty_response, Context};
use crate::body::ResponseBody;
use crate::checksum::ChecksumAlgorithm;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::{ObjectInfo, ObjectMetadata, STORAGE_CLASS_HEADER};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

pub async fn put(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let parts = req.parts;
    let body = &mut *req.body;
    validate_key(key)?;
    require_length(parts)?;
    validate_storage_class(parts)?;
    let integrity = UploadIntegrity::from_request(parts, &ctx.hoisted)?;
    let stored = headers::stored_headers(parts, ctx.config.limits.max_metadata_size)?;
    let tags = tagging::from_header(parts)?;
    let condition = write_condition(parts)?;
    // Fail before the client sends a byte (and before `100 Continue`) when the bucket is missing.
    ctx.require_bucket(bucket).await?;
    let (payload, trailers) = upload_payload(
        ctx,
        parts,
        body,
        &integrity,
        ctx.config.limits.max_object_size,
    )?;
    let mut metadata = ObjectMetadata {
        headers: stored,
        tags: tags.clone(),
        acl: Some(super::support::acl_wire::for_new_object(ctx, bucket, parts).await?),
        ..Default::default()
    };
    super::object_lock::from_headers(parts, &mut metadata)?;
    super::object_lock::require_digest_for_lock(parts, &metadata)?;
    let outcome = ctx
        .store
        .put_object(
            bucket,
            key,
            metadata,
            integrity.digests(integrity.algorithm()),
            &condition,
            payload,
            |digests| integrity.verify(digests, &trailer_fields(&trailers)),
        )
        .await
        .for_key(bucket, key)?;

    let mut response = empty_response(StatusCode::OK);
    let checksum = (outcome.digests.checksum.as_ref())
        .map(|(algorithm, digest)| (*algorithm, crate::checksum::base64_encode(digest)));
    insert_upload_headers(
        response.headers_mut(),
        &outcome.etag,
        checksum.as_ref().map(|(a, v)| (*a, v.as_str())),
    );
    insert_version_id(response.headers_mut(), outcome.version_id.as_deref());
    let written = CurrentObject {
        bucket,
        key,
        size: outcome.digests.len,
        tags: &tags,
        last_modified: outcome.last_modified,
    };
    insert_expiration(ctx, response.headers_mut(), written).await;
    Ok(response)
}

/// The headers GET and HEAD share: validators, stored headers, user metadata, overrides.
fn object_headers(h: &mut HeaderMap, info: &ObjectInfo, overrides: &ResponseOverrides) {
    insert_etag(h, &info.etag);
    headers::insert(
        h,
        "last-modified",
        &httpdate::fmt_http_date(info.last_modified),
    );
    h.insert(
        http::header::ACCEPT_RANGES,
        HeaderValue::from_static("bytes"),
    );
    for (name, value) in &info.metadata.headers {
        if STORED_HEADERS.contains(&name.as_str())
            || name.starts_with(USER_META_PREFIX)
            || name == STORAGE_CLASS_HEADER
        {
            headers::insert(h, name, value);
        }
    }
    if !h.contains_key(http::header::CONTENT_TYPE) {
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("binary/octet-stream"),
        );
    }
    for (name, value) in &overrides.0 {
        headers::insert(h, name, value);
    }
}

/// The byte span a GET serves: the whole object, a `Range`, or one part (`?partNumber=`).
struct Span {
    status: StatusCode,
    start: u64,
    len: u64,
    /// `x-amz-mp-parts-count`, when a part of a multipart object was asked for.
    parts_count: Option<usize>,
}

fn resolve_span(
    parts: &Parts,
    info: &ObjectInfo,
    part_number: Option<PartNumber>,
) -> S3Result<Span> {
    let size = info.size;
    let range_header = headers::get(parts, "range").filter(|r| !r.trim().is_empty());
    if let Some(part_number) = part_number {
        let number = part_number.0 as usize;
        if range_header.is_some() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        let part_sizes = &info.metadata.parts;
        // A single-part object has exactly one part: the whole object.
        let (start, len, parts_count) = if part_sizes.is_empty() {
            if number != 1 {
                return Err(S3Error::new(S3ErrorCode::InvalidPartNumber)
                    .detail("PartNumberRequested", number.to_string())
                    .detail("ActualPartCount", "1"));
            }
            (0, size, None)
        } else {
            let len = *part_sizes.get(number - 1).ok_or_else(|| {
                S3Error::new(S3ErrorCode::InvalidPartNumber)
                    .detail("PartNumberRequested", number.to_string())
                    .detail("ActualPartCount", part_sizes.len().to_string())
            })?;
            (
                part_sizes[..number - 1].iter().sum(),
                len,
                Some(part_sizes.len()),
            )
        };
        return Ok(Span {
            status: StatusCode::PARTIAL_CONTENT,
            start,
            len,
            parts_count,
        });
    }
    match range::resolve(range_header, size) {
        RangeOutcome::Full => Ok(Span {
            status: StatusCode::OK,
            start: 0,
            len: size,
            parts_count: None,
        }),
        RangeOutcome::Partial { start, end } => Ok(Span {
            status: StatusCode::PARTIAL_CONTENT,
            start,
            len: end - start + 1,
            parts_count: None,
        }),
        RangeOutcome::Unsatisfiable => Err(S3Error::new(S3ErrorCode::InvalidRange)
            .detail("RangeRequested", range_header.unwrap_or_default())
            .detail("ActualObjectSize", size.to_string())
            .header("content-range", format!("bytes */{size}"))),
    }
}

pub async fn get(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
    overrides: ResponseOverrides,
    part_number: Option<PartNumber>,
) -> S3Result<Response<ResponseBody>> {
    serve(ctx, req.parts, target, &overrides, part_number, false).await
}

/// HeadObject: GetObject's answer without its body.
pub async fn head(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
    overrides: ResponseOverrides,
    part_number: Option<PartNumber>,
) -> S3Result<Response<ResponseBody>> {
    serve(ctx, req.parts, target, &overrides, part_number, true).await
}

async fn serve(
    ctx: &Context<'_>,
    parts: &Parts,
    target: &ObjectTarget,
    overrides: &ResponseOverrides,
    part_number: Option<PartNumber>,
    head_only: bool,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let object = ctx
        .open_object(bucket, key, target.version_id.as_deref())
        .await?;
    let info = &object.info;
    if !head_only {
        super::restore::require_readable(&info.metadata)?;
    }
    match conditions::check_request(parts, &info.etag, info.last_modified) {
        Ok(()) => {}
        Err(conditions::Failed::NotModified) => {
            let mut response = empty_response(StatusCode::NOT_MODIFIED);
            insert_etag(response.headers_mut(), &info.etag);
            headers::insert(
                response.headers_mut(),
                "last-modified",
                &httpdate::fmt_http_date(info.last_modified),
            );
            return Ok(response);
        }
        Err(conditions::Failed::Precondition(header)) => {
            return Err(S3Error::new(S3ErrorCode::PreconditionFailed).detail("Condition", header))
        }
    }
    let span = resolve_span(parts, info, part_number)?;
    let size = info.size;

    let mut file = object.file;
    if span.start > 0 && !head_only {
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(span.start))
            .map_err(|e| S3Error::internal(format!("seek: {e}")))?;
    }
    let mut response = Response::new(if head_only {
        crate::body::empty()
    } else {
        crate::body::file(file, span.len)
    });
    *response.status_mut() = span.status;
    let h = response.headers_mut();
    object_headers(h, info, overrides);
    if target.version_id.is_none() {
        let current = CurrentObject {
            bucket,
            key,
            size: info.size,
            tags: &info.metadata.tags,
            last_modified: info.last_modified,
        };
        insert_expiration(ctx, h, current).await;
    }
    insert_read_version(h, target.version_id.as_deref(), &info.version_id);
    super::object_lock::insert_headers(h, &info.metadata);
    super::restore::insert_restore_header(h, &info.metadata);
    h.insert(http::header::CONTENT_LENGTH, HeaderValue::from(span.len));
    if span.status == StatusCode::PARTIAL_CONTENT {
        let last = (span.start + span.len).max(1) - 1;
        headers::insert(
            h,
            "content-range",
            &format!("bytes {}-{last}/{size}", span.start),
        );
    }
    if let Some(count) = span.parts_count {
        headers::insert(h, "x-amz-mp-parts-count", &count.to_string());
    }
    if !info.metadata.tags.is_empty() {
        headers::insert(
            h,
            "x-amz-tagging-count",
            &info.metadata.tags.len().to_string(),
        );
    }
    // A whole-object checksum only for the whole object, and only when asked for (the SDKs
    // verify what they get, and a range never matches the whole object's checksum).
    let checksum_mode = headers::get(parts, "x-amz-checksum-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"));
    if checksum_mode && span.status == StatusCode::OK {
        if let Some(stored) = &info.metadata.checksum {
            if let Some(algorithm) = ChecksumAlgorithm::from_name(&stored.algorithm) {
                headers::insert(h, algorithm.header_name(), &stored.value);
                headers::insert(h, "x-amz-checksum-type", &stored.checksum_type);
            }
        }
    }
    Ok(response)
}

pub async fn delete(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let parts = req.parts;
    validate_key(key)?;
    let mut condition = conditions::delete_condition(
        headers::get(parts, "if-match"),
        headers::get(parts, "x-amz-if-match-last-modified-time"),
        headers::get(parts, "x-amz-if-match-size"),
    )?;
    condition.bypass_governance = super::object_lock::bypass_governance(parts);
    condition.deleter = Some(ctx.requester.owner());
    let outcome = ctx
        .store
        .delete_object(bucket, key, target.version_id.as_deref(), &condition)
        .await
        .for_key(bucket, key)?;
    let mut response = empty_response(StatusCode::NO_CONTENT);
    insert_version_id(response.headers_mut(), outcome.version_id.as_deref());
    if outcome.delete_marker {
        headers::insert(response.headers_mut(), "x-amz-delete-marker", "true");
    }
    Ok(response)
}
