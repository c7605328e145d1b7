//! What every upload shares (PutObject, UploadPart, PostObject, CopyObject, UploadPartCopy):
//! key and header checks, the payload stream (aws-chunked decoded, size-limited), write
//! conditions, and the ETag + checksum headers of the answer.

use super::headers;
use super::integrity::UploadIntegrity;
use crate::body::RequestBody;
use crate::checksum::ChecksumAlgorithm;
use crate::codec::aws_chunked::{self as chunked, Trailers};
use crate::handlers::Context;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::WriteCondition;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::request::Parts;
use http::HeaderMap;
use std::pin::Pin;

/// S3's limit on key length, in UTF-8 bytes.
const MAX_KEY_BYTES: usize = 1024;

pub fn validate_key(key: &str) -> S3Result<()> {
    if key.len() > MAX_KEY_BYTES {
        return Err(S3Error::new(S3ErrorCode::KeyTooLongError)
            .detail("Size", key.len().to_string())
            .detail("MaxSizeAllowed", MAX_KEY_BYTES.to_string()));
    }
    Ok(())
}

pub fn entity_too_large(size: u64, max: u64) -> S3Error {
    S3Error::new(S3ErrorCode::EntityTooLarge)
        .detail("ProposedSize", size.to_string())
        .detail("MaxSizeAllowed", max.to_string())
}

/// Fails the stream as soon as more than `max` payload bytes went by.
pub fn limit_size<'a>(
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

pub type Payload<'a> = Pin<Box<dyn Stream<Item = S3Result<Bytes>> + Send + 'a>>;

/// The payload of an upload (PutObject, UploadPart): aws-chunked framing decoded, at most `max`
/// bytes. Trailers of a chunked body land in the returned slot when the body has ended.
pub fn upload_payload<'a>(
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
pub fn trailer_fields(trailers: &Trailers) -> Vec<(String, String)> {
    trailers.lock().map(|t| t.clone()).unwrap_or_default()
}

/// An upload must say how long it is: `Content-Length`, or chunked transfer encoding (which
/// S3 refuses but today's SDKs send for streams of unknown length; accepted on purpose).
pub fn require_length(parts: &Parts) -> S3Result<()> {
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

/// Any S3 storage class is accepted (and kept: the object reports it); others are not.
pub fn validate_storage_class(parts: &Parts) -> S3Result<()> {
    check_storage_class(headers::get(parts, "x-amz-storage-class"))
}

/// The same for a storage class named elsewhere (POST Object's form field).
pub fn check_storage_class(class: Option<&str>) -> S3Result<()> {
    match class {
        Some(class) if !STORAGE_CLASSES.contains(&class.trim()) => {
            Err(S3Error::new(S3ErrorCode::InvalidStorageClass)
                .detail("StorageClassRequested", class))
        }
        _ => Ok(()),
    }
}

/// `If-None-Match: *` / `If-Match: <etag>` on a write. Other If-None-Match values are not
/// something S3 supports on writes.
pub fn write_condition(parts: &Parts) -> S3Result<WriteCondition> {
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

/// `ETag: "<etag>"`.
pub fn insert_etag(h: &mut HeaderMap, etag: &str) {
    headers::insert(h, "etag", &format!("\"{etag}\""));
}

/// `x-amz-version-id`, for a version of a versioned bucket.
pub fn insert_version_id(h: &mut HeaderMap, version_id: Option<&str>) {
    if let Some(id) = version_id {
        headers::insert(h, "x-amz-version-id", id);
    }
}

/// `x-amz-version-id` of a version that was read: whenever it has an id of its own (or one was
/// asked for, `null` included).
pub fn insert_read_version(h: &mut HeaderMap, requested: Option<&str>, version_id: &str) {
    if requested.is_some() || version_id != crate::storage::record::NULL_VERSION {
        headers::insert(h, "x-amz-version-id", version_id);
    }
}

/// The answer headers of a stored upload: its ETag and, if one was computed, its checksum.
pub fn insert_upload_headers(
    h: &mut HeaderMap,
    etag: &str,
    checksum: Option<(ChecksumAlgorithm, &str)>,
) {
    insert_etag(h, etag);
    if let Some((algorithm, value)) = checksum {
        headers::insert(h, algorithm.header_name(), value);
    }
}
