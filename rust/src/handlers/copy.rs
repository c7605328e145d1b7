//! CopyObject: a server-side copy streamed from the source file, never held in memory.

use super::lifecycle_ops::{insert_expiration, CurrentObject};
use super::operations::ObjectTarget;
use super::support::conditions::check_copy_source;
use super::support::copy_source;
use super::support::headers;
use super::support::upload::{
    insert_version_id, validate_key, validate_storage_class, write_condition,
};
use super::ForResource;
use super::Req;
use super::{tagging, xml_response, Context};
use crate::body::ResponseBody;
use crate::checksum::{base64_encode, BodyDigests, ChecksumAlgorithm};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::{ObjectMetadata, StoredChecksum, STORAGE_CLASS_HEADER};
use crate::xml::{iso8601, XmlWriter};
use futures_util::TryStreamExt;
use http::request::Parts;
use http::Response;

/// `x-amz-metadata-directive` / `x-amz-tagging-directive`: COPY (default) or REPLACE.
fn directive(parts: &Parts, name: &'static str) -> S3Result<bool> {
    match headers::get(parts, name).map(|v| v.trim().to_ascii_uppercase()) {
        None => Ok(false),
        Some(v) if v == "COPY" => Ok(false),
        Some(v) if v == "REPLACE" => Ok(true),
        Some(v) => Err(
            S3Error::invalid_argument(format!("Unknown {name} value: {v}"))
                .detail("ArgumentName", name)
                .detail("ArgumentValue", v),
        ),
    }
}

pub async fn copy_object(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let parts = req.parts;
    validate_key(key)?;
    validate_storage_class(parts)?;
    let source = copy_source::parse(parts)?;
    let replace_metadata = directive(parts, "x-amz-metadata-directive")?;
    let replace_tags = directive(parts, "x-amz-tagging-directive")?;
    let condition = write_condition(parts)?;
    let requested_algorithm = super::support::integrity::requested_algorithm(parts)?;
    ctx.require_bucket(bucket).await?;
    let object = ctx
        .open_object(&source.bucket, &source.key, source.version_id.as_deref())
        .await?;
    let info = &object.info;
    super::restore::require_readable(&info.metadata)?;
    check_copy_source(parts, &info.etag, info.last_modified)?;

    // Copying an older version onto its own key is how S3 restores it.
    let same_object = source.bucket == bucket && source.key == key && source.version_id.is_none();
    let changes_something = replace_metadata
        || replace_tags
        || requested_algorithm.is_some()
        || parts.headers.contains_key("x-amz-storage-class")
        || parts
            .headers
            .contains_key("x-amz-website-redirect-location");
    if same_object && !changes_something {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }

    let mut metadata = ObjectMetadata {
        headers: if replace_metadata {
            headers::stored_headers(parts, ctx.config.limits.max_metadata_size)?
        } else {
            info.metadata.headers.clone()
        },
        tags: if replace_tags {
            tagging::from_header(parts)?
        } else {
            info.metadata.tags.clone()
        },
        // A copy is a new object of the requester's, with the ACL the request names.
        acl: Some(super::support::acl_wire::for_new_object(ctx, bucket, parts).await?),
        ..Default::default()
    };
    metadata.checksum = None;
    // The copy's storage class is the one the request names, else STANDARD (as in S3, never
    // the source's).
    headers::set_storage_class(
        &mut metadata.headers,
        headers::get(parts, STORAGE_CLASS_HEADER),
    );
    // The copy's object lock is what the copy request asks for, never the source's.
    super::object_lock::from_headers(parts, &mut metadata)?;
    // Keep the source's checksum algorithm unless another one was asked for; the copy is one
    // part, so its checksum is a full-object one.
    let algorithm = requested_algorithm.or_else(|| {
        info.metadata
            .checksum
            .as_ref()
            .and_then(|c| ChecksumAlgorithm::from_name(&c.algorithm))
    });
    let tags = metadata.tags.clone();
    let size = info.size;
    let bytes = tokio_util::io::ReaderStream::with_capacity(
        tokio::io::AsyncReadExt::take(tokio::fs::File::from_std(object.file), size),
        256 * 1024,
    )
    .map_err(|e| S3Error::internal(format!("reading the copy source: {e}")));
    let outcome = ctx
        .store
        .put_object(
            bucket,
            key,
            metadata,
            BodyDigests::new(algorithm),
            &condition,
            bytes,
            |digests| {
                if digests.len != size {
                    return Err(S3Error::internal(
                        "the copy source changed size while being copied",
                    ));
                }
                Ok(digests.checksum.as_ref().map(|(a, value)| StoredChecksum {
                    algorithm: a.name().to_string(),
                    value: base64_encode(value),
                    checksum_type: "FULL_OBJECT".to_string(),
                }))
            },
        )
        .await
        .for_key(bucket, key)?;

    let mut w = XmlWriter::new();
    w.root("CopyObjectResult")
        .element("ETag", &format!("\"{}\"", outcome.etag))
        .element("LastModified", &iso8601(outcome.last_modified));
    if let Some((algorithm, value)) = &outcome.digests.checksum {
        w.element(
            &format!("Checksum{}", algorithm.name()),
            &base64_encode(value),
        )
        .element("ChecksumType", "FULL_OBJECT");
    }
    w.close("CopyObjectResult");
    let mut response = xml_response(w.finish());
    let h = response.headers_mut();
    insert_version_id(h, outcome.version_id.as_deref());
    if source.version_id.is_some() || info.version_id != crate::storage::record::NULL_VERSION {
        super::support::headers::insert(h, "x-amz-copy-source-version-id", &info.version_id);
    }
    let copied = CurrentObject {
        bucket,
        key,
        size: outcome.digests.len,
        tags: &tags,
        last_modified: outcome.last_modified,
    };
    insert_expiration(ctx, response.headers_mut(), copied).await;
    Ok(response)
}
