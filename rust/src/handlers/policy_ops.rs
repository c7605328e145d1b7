//! The bucket policy API: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy and
//! GetBucketPolicyStatus. (Policies are applied to requests by `support::access`.)

use super::operations::BucketTarget;
use super::support::integrity::verify_small_body;
use super::{empty_response, xml_response, Context, ForResource, Req};
use crate::body::ResponseBody;
use crate::policy::{Policy, MAX_SIZE};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::xml::XmlWriter;
use http::{HeaderValue, Response, StatusCode};

fn malformed(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedPolicy, message)
}

pub async fn put(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.require_bucket(bucket).await?;
    let document = req
        .body
        .read_small(MAX_SIZE)
        .await
        .map_err(|e| match e.code {
            S3ErrorCode::MalformedXML => {
                malformed("Policy exceeds the maximum allowed document size.")
            }
            _ => e,
        })?;
    verify_small_body(req.parts, &document)?;
    let policy = Policy::parse(&document, bucket).map_err(malformed)?;
    let access = ctx.store.bucket_access(bucket).await.for_bucket(bucket)?;
    if policy.is_public()
        && access
            .public_access_block
            .is_some_and(|b| b.block_public_policy)
    {
        return Err(S3Error::new(S3ErrorCode::AccessDenied));
    }
    // Parsed as JSON, so it is UTF-8.
    let text = String::from_utf8_lossy(&document).into_owned();
    ctx.store
        .set_bucket_policy(bucket, Some(text))
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

/// The bucket's policy document; NoSuchBucketPolicy when it has none.
async fn stored(ctx: &Context<'_>, bucket: &str) -> S3Result<String> {
    let access = ctx.store.bucket_access(bucket).await.for_bucket(bucket)?;
    access
        .policy
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchBucketPolicy).detail("BucketName", bucket))
}

pub async fn get(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let document = stored(ctx, &target.bucket).await?;
    let mut response = Response::new(crate::body::full(document));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

pub async fn delete(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.store
        .set_bucket_policy(bucket, None)
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn status(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let document = stored(ctx, bucket).await?;
    let policy = Policy::parse(document.as_bytes(), bucket)
        .map_err(|why| S3Error::with_message(S3ErrorCode::InternalError, why))?;
    let mut w = XmlWriter::new();
    w.root("PolicyStatus")
        .element(
            "IsPublic",
            if policy.is_public() { "true" } else { "false" },
        )
        .close("PolicyStatus");
    Ok(xml_response(w.finish()))
}
