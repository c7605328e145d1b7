//! Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
//! ListMultipartUploads.

use super::lifecycle_ops::{insert_abort_date, insert_expiration, CurrentObject};
use super::operations::{BucketTarget, ObjectTarget, UploadTarget};
use super::params::{PartListParams, PartNumber, UploadListParams};
use super::support::copy_source;
use super::support::headers;
use super::support::integrity::UploadIntegrity;
use super::support::upload::{
    insert_upload_headers, require_length, trailer_fields, upload_payload, validate_key,
    validate_storage_class, write_condition,
};
use super::tagging;
use super::ForResource;
use super::Req;
use super::{empty_response, xml_response, Context};
use crate::acl::Owner;
use crate::body::ResponseBody;
use crate::checksum::{base64_encode, BodyDigests, ChecksumAlgorithm};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::{CompletedPart, ObjectMetadata, StorageError, StoredChecksum, UploadInfo};
use crate::xml::{iso8601, parse_document, XmlWriter};
use futures_util::TryStreamExt;
use http::{Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// S3's largest part, and the most parts an upload may have.
const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// A Complete document lists at most 10,000 parts of ~200 bytes each.
const MAX_COMPLETE_BODY: usize = 4 * 1024 * 1024;

fn no_such_upload(upload_id: &str) -> S3Error {
    S3Error::new(S3ErrorCode::NoSuchUpload).detail("UploadId", upload_id)
}

/// A storage failure about an upload: NoSuchUpload names the upload id, others the key.
fn upload_error(target: &UploadTarget, e: StorageError) -> S3Error {
    match S3Error::from(e) {
        e if e.code == S3ErrorCode::NoSuchUpload => no_such_upload(&target.upload_id),
        e => e.for_resource(&target.bucket, Some(&target.key)),
    }
}

async fn find_upload(ctx: &Context<'_>, target: &UploadTarget) -> S3Result<UploadInfo> {
    ctx.store
        .get_upload(&target.bucket, &target.key, &target.upload_id)
        .await
        .map_err(|e| upload_error(target, e))
}

pub async fn create(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let parts = req.parts;
    validate_key(key)?;
    validate_storage_class(parts)?;
    let stored = headers::stored_headers(parts, ctx.config.limits.max_metadata_size)?;
    let tags = tagging::from_header(parts)?;
    let algorithm = super::support::integrity::requested_algorithm(parts)?;
    let checksum_type =
        match headers::get(parts, "x-amz-checksum-type").map(str::to_ascii_uppercase) {
            None => None,
            Some(t) if t == "COMPOSITE" || t == "FULL_OBJECT" => Some(t),
            Some(_) => {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "Value for x-amz-checksum-type header is invalid.",
                ))
            }
        };
    if checksum_type.as_deref() == Some("FULL_OBJECT")
        && matches!(
            algorithm,
            Some(ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256)
        )
    {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The FULL_OBJECT checksum type cannot be used with the SHA1 or SHA256 checksum algorithm.",
        ));
    }
    let mut metadata = ObjectMetadata {
        headers: stored,
        tags,
        acl: Some(super::support::acl_wire::for_new_object(ctx, bucket, parts).await?),
        ..Default::default()
    };
    super::object_lock::from_headers(parts, &mut metadata)?;
    let upload = ctx
        .store
        .create_upload(bucket, key, metadata, algorithm, checksum_type)
        .await
        .for_key(bucket, key)?;

    let mut w = XmlWriter::new();
    w.root("InitiateMultipartUploadResult")
        .element("Bucket", bucket)
        .element("Key", key)
        .element("UploadId", &upload.upload_id)
        .close("InitiateMultipartUploadResult");
    let mut response = xml_response(w.finish());
    if let (Some(algorithm), Some(kind)) = (&upload.checksum_algorithm, &upload.checksum_type) {
        headers::insert(
            response.headers_mut(),
            "x-amz-checksum-algorithm",
            algorithm,
        );
        headers::insert(response.headers_mut(), "x-amz-checksum-type", kind);
    }
    insert_abort_date(ctx, response.headers_mut(), &upload).await;
    Ok(response)
}

pub async fn upload_part(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &UploadTarget,
    part_number: PartNumber,
) -> S3Result<Response<ResponseBody>> {
    let parts = req.parts;
    let body = &mut *req.body;
    let number = part_number.0;
    require_length(parts)?;
    let integrity = UploadIntegrity::from_request(parts, &ctx.hoisted)?;
    let upload = find_upload(ctx, target).await?;
    let max = MAX_PART_SIZE.min(ctx.config.limits.max_object_size);
    let (payload, trailers) = upload_payload(ctx, parts, body, &integrity, max)?;
    // Parts carry the upload's checksum even when the client sends none, so Complete can build
    // the composite checksum.
    let algorithm = integrity.algorithm().or(upload.algorithm());
    let part = ctx
        .store
        .put_part(
            &upload,
            number,
            integrity.digests(algorithm),
            payload,
            |digests| integrity.verify(digests, &trailer_fields(&trailers)),
        )
        .await
        .for_key(&target.bucket, &target.key)?;

    let mut response = empty_response(StatusCode::OK);
    let checksum = algorithm.zip(part.checksum.as_deref());
    insert_upload_headers(response.headers_mut(), &part.etag, checksum);
    insert_abort_date(ctx, response.headers_mut(), &upload).await;
    Ok(response)
}

pub async fn upload_part_copy(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &UploadTarget,
    part_number: PartNumber,
) -> S3Result<Response<ResponseBody>> {
    let parts = req.parts;
    let number = part_number.0;
    let source = copy_source::parse(parts)?;
    let upload = find_upload(ctx, target).await?;
    let object = ctx
        .open_object(&source.bucket, &source.key, source.version_id.as_deref())
        .await?;
    super::restore::require_readable(&object.info.metadata)?;
    let (start, len) = copy_source::range(parts, object.info.size)?;
    if len > MAX_PART_SIZE {
        return Err(S3Error::new(S3ErrorCode::EntityTooLarge));
    }
    let mut file = tokio::fs::File::from_std(object.file);
    file.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(|e| S3Error::internal(format!("seek: {e}")))?;
    let bytes = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024)
        .map_err(|e| S3Error::internal(format!("reading the copy source: {e}")));
    let algorithm = upload.algorithm();
    let part = ctx
        .store
        .put_part(
            &upload,
            number,
            BodyDigests::new(algorithm),
            bytes,
            |digests| {
                Ok(digests.checksum.as_ref().map(|(a, value)| StoredChecksum {
                    algorithm: a.name().to_string(),
                    value: base64_encode(value),
                    checksum_type: "FULL_OBJECT".to_string(),
                }))
            },
        )
        .await
        .for_key(&target.bucket, &target.key)?;

    let mut w = XmlWriter::new();
    w.root("CopyPartResult")
        .element("ETag", &format!("\"{}\"", part.etag))
        .element("LastModified", &iso8601(part.last_modified()));
    if let (Some(algorithm), Some(value)) = (algorithm, &part.checksum) {
        w.element(&format!("Checksum{}", algorithm.name()), value);
    }
    w.close("CopyPartResult");
    Ok(xml_response(w.finish()))
}

/// The part list of a CompleteMultipartUpload document.
fn parse_complete(body: &[u8]) -> S3Result<Vec<CompletedPart>> {
    let malformed = || S3Error::new(S3ErrorCode::MalformedXML);
    let root = parse_document(body).map_err(|_| malformed())?;
    if root.name != "CompleteMultipartUpload" {
        return Err(malformed());
    }
    let mut parts = Vec::new();
    for part in root.children_named("Part") {
        let number = part
            .child_text("PartNumber")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or_else(malformed)?;
        let etag = part.child_text("ETag").ok_or_else(malformed)?;
        let checksum = ChecksumAlgorithm::ALL
            .iter()
            .find_map(|a| part.child_text(&format!("Checksum{}", a.name())))
            .map(str::to_string);
        parts.push(CompletedPart {
            number,
            etag: etag.trim().replace('"', ""),
            checksum,
        });
    }
    if parts.is_empty() {
        return Err(malformed());
    }
    Ok(parts)
}

pub async fn complete(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &UploadTarget,
) -> S3Result<Response<ResponseBody>> {
    let parts = req.parts;
    let body = &mut *req.body;
    let condition = write_condition(parts)?;
    let (bucket, key, upload_id) = (&target.bucket, &target.key, &target.upload_id);
    let upload = match ctx.store.get_upload(bucket, key, upload_id).await {
        Ok(upload) => Some(upload),
        // Gone: perhaps completed already, and this is the client's retry.
        Err(StorageError::NoSuchUpload) => None,
        Err(e) => return Err(upload_error(target, e)),
    };
    let document = body.read_small(MAX_COMPLETE_BODY).await?;
    let requested = parse_complete(&document)?;
    let outcome = match upload {
        Some(upload) => {
            ctx.store
                .complete_upload(
                    &upload,
                    &requested,
                    ctx.config.multipart.min_part_size,
                    &condition,
                )
                .await
        }
        None => ctx
            .store
            .completed_before(upload_id, bucket, key, &requested),
    }
    .map_err(|e| upload_error(target, e))?;

    let host = headers::get(parts, "host").unwrap_or("localhost");
    let location = format!(
        "http://{host}/{}/{}",
        target.bucket,
        percent_encoding::utf8_percent_encode(&target.key, super::list::URL_ENCODE_SET)
    );
    let mut w = XmlWriter::new();
    w.root("CompleteMultipartUploadResult")
        .element("Location", &location)
        .element("Bucket", &target.bucket)
        .element("Key", &target.key)
        .element("ETag", &format!("\"{}\"", outcome.etag));
    if let Some(checksum) = &outcome.checksum {
        w.element(&format!("Checksum{}", checksum.algorithm), &checksum.value)
            .element("ChecksumType", &checksum.checksum_type);
    }
    w.close("CompleteMultipartUploadResult");
    let mut response = xml_response(w.finish());
    super::support::upload::insert_version_id(
        response.headers_mut(),
        outcome.version_id.as_deref(),
    );
    let completed = CurrentObject {
        bucket,
        key,
        size: outcome.size,
        tags: &outcome.tags,
        last_modified: outcome.last_modified,
    };
    insert_expiration(ctx, response.headers_mut(), completed).await;
    Ok(response)
}

pub async fn abort(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &UploadTarget,
) -> S3Result<Response<ResponseBody>> {
    let upload = find_upload(ctx, target).await?;
    ctx.store
        .abort_upload(&upload)
        .await
        .map_err(|_| no_such_upload(&target.upload_id))?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

fn write_owner(w: &mut XmlWriter, tag: &str, owner: &Owner) {
    w.open(tag)
        .element("ID", &owner.id)
        .element("DisplayName", &owner.display_name)
        .close(tag);
}

/// Who started an upload (its object's future owner).
fn initiator(ctx: &Context<'_>, upload: &UploadInfo) -> Owner {
    upload
        .metadata
        .acl
        .as_ref()
        .map_or_else(|| ctx.default_owner.clone(), |acl| acl.owner.clone())
}

pub async fn list_parts(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &UploadTarget,
    params: PartListParams,
) -> S3Result<Response<ResponseBody>> {
    let (max, marker) = (params.max_parts, params.part_number_marker);
    let upload = find_upload(ctx, target).await?;
    let all = ctx
        .store
        .list_parts(&upload)
        .await
        .map_err(|_| no_such_upload(&target.upload_id))?;
    let after: Vec<_> = all.iter().filter(|p| p.number as u64 > marker).collect();
    let page = &after[..after.len().min(max)];
    let truncated = after.len() > page.len();

    let mut w = XmlWriter::new();
    w.root("ListPartsResult")
        .element("Bucket", &target.bucket)
        .element("Key", &target.key)
        .element("UploadId", &target.upload_id)
        .element("PartNumberMarker", &marker.to_string());
    if let Some(last) = page.last() {
        w.element("NextPartNumberMarker", &last.number.to_string());
    }
    w.element("MaxParts", &max.to_string())
        .element("IsTruncated", &truncated.to_string());
    for part in page {
        w.open("Part")
            .element("PartNumber", &part.number.to_string())
            .element("LastModified", &iso8601(part.last_modified()))
            .element("ETag", &format!("\"{}\"", part.etag))
            .element("Size", &part.size.to_string());
        if let (Some(algorithm), Some(value)) = (&upload.checksum_algorithm, &part.checksum) {
            w.element(&format!("Checksum{algorithm}"), value);
        }
        w.close("Part");
    }
    let owner = initiator(ctx, &upload);
    write_owner(&mut w, "Initiator", &owner);
    write_owner(&mut w, "Owner", &owner);
    w.element("StorageClass", upload.metadata.storage_class())
        .optional("ChecksumAlgorithm", upload.checksum_algorithm.as_deref())
        .optional("ChecksumType", upload.checksum_type.as_deref())
        .close("ListPartsResult");
    let mut response = xml_response(w.finish());
    insert_abort_date(ctx, response.headers_mut(), &upload).await;
    Ok(response)
}

pub async fn list_uploads(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
    params: UploadListParams,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let max = params.max_uploads;
    let text = |value: &str| super::list::encode_if(params.url_encoding, value);
    ctx.require_bucket(bucket).await?;
    let UploadListParams {
        prefix,
        delimiter,
        key_marker,
        upload_id_marker: id_marker,
        ..
    } = params.clone();

    let uploads = ctx
        .store
        .list_uploads(Some(bucket))
        .await
        .for_bucket(bucket)?;
    // Resume after the marker: later keys, or the same key with a later upload.
    let start = match &id_marker {
        Some(id) => match uploads
            .iter()
            .position(|u| u.key == key_marker && &u.upload_id == id)
        {
            Some(i) => i + 1,
            None => uploads.partition_point(|u| u.key <= key_marker),
        },
        None => uploads.partition_point(|u| u.key <= key_marker),
    };

    enum Entry<'a> {
        Upload(&'a UploadInfo),
        Prefix(String),
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut truncated = false;
    for upload in uploads[start..]
        .iter()
        .filter(|u| u.key.starts_with(&prefix))
    {
        let common = delimiter.as_deref().and_then(|d| {
            let rest = &upload.key[prefix.len()..];
            rest.find(d)
                .map(|i| upload.key[..prefix.len() + i + d.len()].to_string())
        });
        if let Some(common) = &common {
            let seen = matches!(entries.last(), Some(Entry::Prefix(p)) if p == common);
            if seen || *common == key_marker {
                continue;
            }
        }
        if entries.len() == max {
            truncated = true;
            break;
        }
        entries.push(match common {
            Some(common) => Entry::Prefix(common),
            None => Entry::Upload(upload),
        });
    }

    let mut w = XmlWriter::new();
    w.root("ListMultipartUploadsResult")
        .element("Bucket", bucket)
        .element("KeyMarker", &text(&key_marker))
        .element("UploadIdMarker", id_marker.as_deref().unwrap_or(""));
    if truncated {
        match entries.last() {
            Some(Entry::Upload(u)) => {
                w.element("NextKeyMarker", &text(&u.key))
                    .element("NextUploadIdMarker", &u.upload_id);
            }
            Some(Entry::Prefix(p)) => {
                w.element("NextKeyMarker", &text(p));
            }
            None => {}
        }
    }
    w.optional("Delimiter", delimiter.as_deref().map(text).as_deref())
        .element("Prefix", &text(&prefix))
        .element("MaxUploads", &max.to_string())
        .optional("EncodingType", params.url_encoding.then_some("url"))
        .element("IsTruncated", &truncated.to_string());
    for entry in &entries {
        if let Entry::Upload(upload) = entry {
            w.open("Upload")
                .element("Key", &text(&upload.key))
                .element("UploadId", &upload.upload_id);
            let owner = initiator(ctx, upload);
            write_owner(&mut w, "Initiator", &owner);
            write_owner(&mut w, "Owner", &owner);
            w.element("StorageClass", upload.metadata.storage_class())
                .element("Initiated", &iso8601(upload.initiated()))
                .optional("ChecksumAlgorithm", upload.checksum_algorithm.as_deref())
                .optional("ChecksumType", upload.checksum_type.as_deref())
                .close("Upload");
        }
    }
    for entry in &entries {
        if let Entry::Prefix(prefix) = entry {
            w.open("CommonPrefixes")
                .element("Prefix", &text(prefix))
                .close("CommonPrefixes");
        }
    }
    w.close("ListMultipartUploadsResult");
    Ok(xml_response(w.finish()))
}
