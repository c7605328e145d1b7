//! Get/PutBucketAcl and Get/PutObjectAcl.

use super::operations::{BucketTarget, ObjectTarget};
use super::support::acl_wire::{check_requested, document, object_acl, requested_acl};
use super::ForResource;
use super::Req;
use super::{empty_response, xml_response, Context};
use crate::acl::Acl;
use crate::body::ResponseBody;
use crate::s3_error::S3Result;
use crate::storage::ObjectOwnership;
use http::{Response, StatusCode};

pub async fn get_bucket(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    Ok(xml_response(document(&ctx.bucket_acl(bucket).await?)))
}

pub async fn put_bucket(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let parts = req.parts;
    let body = &mut *req.body;
    let owner = ctx.bucket_owner(bucket).await?;
    let acl = requested_acl(parts, body, &owner, Some(&owner)).await?;
    check_requested(ctx, bucket, &acl).await?;
    ctx.store
        .set_bucket_acl(bucket, acl)
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn get_object(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let object = ctx
        .open_object(bucket, key, target.version_id.as_deref())
        .await?;
    // With ACLs disabled S3 answers the bucket owner's full control for every object.
    let acls_disabled = ctx
        .store
        .bucket_ownership(bucket)
        .await
        .for_bucket(bucket)?
        == Some(ObjectOwnership::BucketOwnerEnforced);
    let acl = match acls_disabled {
        true => Acl::private(ctx.bucket_owner(bucket).await?),
        false => object_acl(ctx, bucket, object.info.metadata.acl).await?,
    };
    Ok(xml_response(document(&acl)))
}

pub async fn put_object(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let parts = req.parts;
    let body = &mut *req.body;
    let object = ctx
        .open_object(bucket, key, target.version_id.as_deref())
        .await?;
    let current = object_acl(ctx, bucket, object.info.metadata.acl).await?;
    let bucket_owner = ctx.bucket_owner(bucket).await?;
    let acl = requested_acl(parts, body, &current.owner, Some(&bucket_owner)).await?;
    check_requested(ctx, bucket, &acl).await?;
    ctx.store
        .update_metadata(bucket, key, target.version_id.as_deref(), |m| {
            m.acl = Some(acl);
            Ok(())
        })
        .await
        .for_key(bucket, key)?;
    Ok(empty_response(StatusCode::OK))
}
