//! Object operations: PutObject, GetObject, HeadObject, DeleteObject.

use super::headers::{self, STORED_HEADERS, USER_META_PREFIX};
use super::integrity::UploadIntegrity;
use super::range::{self, RangeOutcome};
use super::{conditions, tagging};
use super::{empty_response, Context};
use crate::body::{RequestBody, ResponseBody};
use crate::checksum::ChecksumAlgorithm;
use crate::codec::aws_chunked::{self as chunked, Trailers};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::s3_op::ResponseOverrides;
use crate::storage::{ObjectInfo, ObjectMetadata, WriteCondition};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use std::pin::Pin;
use tokio::io::AsyncSeekExt;

/// S3's limit on key length, in UTF-8 bytes.
const MAX_KEY_BYTES: usize = 1024;

pub(super) fn validate_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::new(S3ErrorCode::KeyTooLongError)
            .detail("Size", key.len().to_string())
            .detail("MaxSizeAllowed", MAX_KEY_BYTES.to_string()));
    }
    Ok(())
}

fn entity_too_large(size: u64, max: u64) -> S3Error {
    S3Error::new(S3ErrorCode::EntityTooLarge)
        .detail("ProposedSize", size.to_string())
        .detail("MaxSizeAllowed", max.to_string())
}

/// Fails the stream as soon as more than `max` payload bytes went by.
fn limit_size<'a>(
    stream: impl Stream<Item = S3Result<Bytes>> + Send + 'a,
    max: u64,
) -> impl Stream<Item = S3Result<Bytes>> + Send + 'a {
    let mut seen = 0u64;
    stream.map(move |chunk| {
        let chunk = chunk?;
        seen += chunk.len() as u64;
        if seen > max {
            return Err(entity_too_large(seen, max));
        }
        Ok(chunk)
    })
}

pub(super) type Payload<'a> = Pin<Box<dyn Stream<Item = S3Result<Bytes>> + Send + 'a>>;

/// The payload of an upload (PutObject, UploadPart): aws-chunked framing decoded, at most `max`
/// bytes. Trailers of a chunked body land in the returned slot when the body has ended.
pub(super) fn upload_payload<'a>(
    ctx: &Context<'_>,
    parts: &Parts,
    body: &'a mut RequestBody,
    integrity: &UploadIntegrity,
    max: u64,
) -> S3Result<(Payload<'a>, Trailers)> {
    let declared = if integrity.aws_chunked {
        integrity.decoded_length
    } else {
        headers::get(parts, "content-length").and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(size) = declared.filter(|s| *s > max) {
        return Err(entity_too_large(size, max));
    }
    let trailers: Trailers = Default::default();
    let raw = body.stream();
    let payload: Payload<'a> = if integrity.aws_chunked {
        let signing = ctx.auth.chunk_signing.clone();
        Box::pin(limit_size(
            chunked::decode(raw, trailers.clone(), signing),
            max,
        ))
    } else {
        Box::pin(limit_size(raw, max))
    };
    Ok((payload, trailers))
}

/// The trailer fields of a finished chunked body.
pub(super) fn trailer_fields(trailers: &Trailers) -> Vec<(String, String)> {
    trailers.lock().map(|t| t.clone()).unwrap_or_default()
}

/// An upload must say how long it is: `Content-Length`, or chunked transfer encoding (which
/// S3 refuses but today's SDKs send for streams of unknown length; accepted on purpose).
pub(super) fn require_length(parts: &Parts) -> S3Result<()> {
    let h = &parts.headers;
    if h.contains_key(http::header::CONTENT_LENGTH)
        || h.contains_key(http::header::TRANSFER_ENCODING)
    {
        Ok(())
    } else {
        Err(S3Error::new(S3ErrorCode::MissingContentLength))
    }
}

const STORAGE_CLASSES: [&str; 11] = [
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
];

/// Any S3 storage class is accepted (and every object is reported as STANDARD); others are not.
pub(super) fn validate_storage_class(parts: &Parts) -> S3Result<()> {
    match headers::get(parts, "x-amz-storage-class") {
        Some(class) if !STORAGE_CLASSES.contains(&class.trim()) => {
            Err(S3Error::new(S3ErrorCode::InvalidStorageClass)
                .detail("StorageClassRequested", class))
        }
        _ => Ok(()),
    }
}

/// `If-None-Match: *` / `If-Match: <etag>` on a write. Other If-None-Match values are not
/// something S3 supports on writes.
pub(super) fn write_condition(parts: &Parts) -> S3Result<WriteCondition> {
    if let Some(value) = headers::get(parts, "if-none-match") {
        return if value.trim() == "*" {
            Ok(WriteCondition::IfAbsent)
        } else {
            Err(S3Error::not_implemented(
                "If-None-Match with a value other than '*' on a write",
            ))
        };
    }
    match headers::get(parts, "if-match") {
        Some(value) => Ok(WriteCondition::IfMatch(value.trim().replace('"', ""))),
        None => Ok(WriteCondition::Always),
    }
}

pub async fn put(
    ctx: &Context<'_>,
    bucket: &str,
    key: &str,
    parts: &Parts,
    body: &mut RequestBody,
) -> S3Result<Response<ResponseBody>> {
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
    let metadata = ObjectMetadata {
        headers: stored,
        tags,
        acl: Some(super::acl::for_new_object(ctx, bucket, parts).await?),
        ..Default::default()
    };
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
        .map_err(|e| e.for_resource(bucket, Some(key)))?;

    let mut response = empty_response(StatusCode::OK);
    let h = response.headers_mut();
    insert_etag(h, &outcome.etag);
    if let Some((algorithm, value)) = &outcome.digests.checksum {
        headers::insert(
            h,
            algorithm.header_name(),
            &crate::checksum::base64_encode(value),
        );
    }
    Ok(response)
}

pub(super) fn insert_etag(h: &mut HeaderMap, etag: &str) {
    headers::insert(h, "etag", &format!("\"{etag}\""));
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
        if STORED_HEADERS.contains(&name.as_str()) || name.starts_with(USER_META_PREFIX) {
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

fn resolve_span(parts: &Parts, info: &ObjectInfo, part_number: Option<&str>) -> S3Result<Span> {
    let size = info.size;
    let range_header = headers::get(parts, "range").filter(|r| !r.trim().is_empty());
    if let Some(raw) = part_number {
        if range_header.is_some() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        let number = raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Part number must be an integer between 1 and 10000, inclusive",
                )
                .detail("ArgumentName", "partNumber")
                .detail("ArgumentValue", raw)
            })?;
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
    bucket: &str,
    key: &str,
    parts: &Parts,
    overrides: &ResponseOverrides,
    part_number: Option<&str>,
    head_only: bool,
) -> S3Result<Response<ResponseBody>> {
    let object = ctx.open_object(bucket, key).await?;
    let info = &object.info;
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
        file.seek(std::io::SeekFrom::Start(span.start))
            .await
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
    bucket: &str,
    key: &str,
) -> S3Result<Response<ResponseBody>> {
    validate_key(key)?;
    ctx.store
        .delete_object(bucket, key)
        .await
        .map_err(|e| S3Error::from(e).for_resource(bucket, Some(key)))?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}
