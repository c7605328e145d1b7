//! Authorization: with `auth.enabled`, may this requester run this operation? Owners may do
//! everything with what they own; everybody else needs an ACL grant (AllUsers for anonymous
//! requests, AuthenticatedUsers for any signed one). With auth off everything is allowed.

use super::{copy_source, Context};
use crate::acl::{Acl, Permission, Requester};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::s3_op::S3Op;
use crate::storage::StorageError;
use http::request::Parts;

/// What an operation needs.
enum Need<'a> {
    /// Any signed request.
    Authenticated,
    /// A permission on the bucket (`None` = only its owner).
    Bucket(&'a str, Option<Permission>),
    /// A permission on an object (a missing object needs READ on the bucket to be told so).
    Object(&'a str, &'a str, Permission),
}

fn denied() -> S3Error {
    S3Error::new(S3ErrorCode::AccessDenied)
}

fn needs(op: &S3Op) -> Vec<Need<'_>> {
    use Permission::*;
    match op {
        S3Op::ListBuckets { .. } | S3Op::CreateBucket { .. } => vec![Need::Authenticated],
        S3Op::HeadBucket { bucket }
        | S3Op::ListObjects { bucket, .. }
        | S3Op::ListObjectsV2 { bucket, .. }
        | S3Op::ListObjectVersions { bucket, .. }
        | S3Op::ListMultipartUploads { bucket, .. } => vec![Need::Bucket(bucket, Some(Read))],
        S3Op::PutObject { bucket, .. }
        | S3Op::DeleteObject { bucket, .. }
        | S3Op::DeleteObjects { bucket }
        | S3Op::CreateMultipartUpload { bucket, .. } => vec![Need::Bucket(bucket, Some(Write))],
        // Its identity is the policy's signer, known only once the form is read: the handler checks.
        S3Op::PostObject { .. } => vec![],
        S3Op::UploadPart { target, .. }
        | S3Op::CompleteMultipartUpload { target }
        | S3Op::AbortMultipartUpload { target }
        | S3Op::ListParts { target, .. } => vec![Need::Bucket(&target.bucket, Some(Write))],
        S3Op::GetBucketAcl { bucket } => vec![Need::Bucket(bucket, Some(ReadAcp))],
        S3Op::PutBucketAcl { bucket } => vec![Need::Bucket(bucket, Some(WriteAcp))],
        S3Op::DeleteBucket { bucket }
        | S3Op::GetBucketLocation { bucket }
        | S3Op::GetBucketTagging { bucket }
        | S3Op::PutBucketTagging { bucket }
        | S3Op::DeleteBucketTagging { bucket }
        | S3Op::GetBucketVersioning { bucket }
        | S3Op::PutBucketVersioning { bucket }
        | S3Op::GetBucketCors { bucket }
        | S3Op::PutBucketCors { bucket }
        | S3Op::DeleteBucketCors { bucket } => vec![Need::Bucket(bucket, None)],
        S3Op::GetObject { bucket, key, .. }
        | S3Op::HeadObject { bucket, key, .. }
        | S3Op::GetObjectAttributes { bucket, key }
        | S3Op::GetObjectTagging { bucket, key } => vec![Need::Object(bucket, key, Read)],
        S3Op::GetObjectAcl { bucket, key } => vec![Need::Object(bucket, key, ReadAcp)],
        S3Op::PutObjectAcl { bucket, key }
        | S3Op::PutObjectTagging { bucket, key }
        | S3Op::DeleteObjectTagging { bucket, key } => vec![Need::Object(bucket, key, WriteAcp)],
        // The copy source is checked separately (it comes from a header).
        S3Op::CopyObject { bucket, .. } => vec![Need::Bucket(bucket, Some(Write))],
        S3Op::UploadPartCopy { target, .. } => vec![Need::Bucket(&target.bucket, Some(Write))],
    }
}

/// The bucket's effective ACL; `None` if there is no bucket (the handler will say so).
async fn bucket_acl(ctx: &Context<'_>, bucket: &str) -> S3Result<Option<Acl>> {
    match ctx.bucket_acl(bucket).await {
        Ok(acl) => Ok(Some(acl)),
        Err(e) if e.code == S3ErrorCode::NoSuchBucket => Ok(None),
        Err(e) => Err(e),
    }
}

async fn check_object(
    ctx: &Context<'_>,
    bucket: &str,
    key: &str,
    permission: Permission,
) -> S3Result<()> {
    let requester = &ctx.requester;
    match ctx.store.open_object(bucket, key).await {
        Ok(object) => {
            let acl = super::acl::object_acl(ctx, bucket, object.info.metadata.acl).await?;
            if acl.allows(requester, permission) {
                Ok(())
            } else {
                Err(denied())
            }
        }
        // As S3: who may list the bucket learns the key is missing; others get AccessDenied.
        Err(StorageError::NoSuchKey) => match bucket_acl(ctx, bucket).await? {
            Some(acl) if acl.allows(requester, Permission::Read) => Ok(()),
            Some(_) => Err(denied()),
            None => Ok(()),
        },
        Err(StorageError::NoSuchBucket) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Refuses the request unless the requester may run `op`. Missing buckets and keys are left to
/// the handler (which answers NoSuchBucket / NoSuchKey).
pub async fn authorize(op: &S3Op, parts: &Parts, ctx: &Context<'_>) -> S3Result<()> {
    if !ctx.config.auth.enabled {
        return Ok(());
    }
    let requester = &ctx.requester;
    for need in needs(op) {
        match need {
            Need::Authenticated => {
                if *requester == Requester::Anonymous {
                    return Err(denied());
                }
            }
            Need::Bucket(bucket, permission) => {
                let Some(acl) = bucket_acl(ctx, bucket).await? else {
                    continue;
                };
                if let Some(expected) = parts.headers.get("x-amz-expected-bucket-owner") {
                    if expected.as_bytes() != acl.owner.id.as_bytes() {
                        return Err(denied());
                    }
                }
                let allowed = match permission {
                    Some(p) => acl.allows(requester, p),
                    None => matches!(requester, Requester::User(o) if o.id == acl.owner.id),
                };
                if !allowed {
                    return Err(denied());
                }
            }
            Need::Object(bucket, key, permission) => {
                check_object(ctx, bucket, key, permission).await?
            }
        }
    }
    if matches!(op, S3Op::CopyObject { .. } | S3Op::UploadPartCopy { .. }) {
        let source = copy_source::parse(parts)?;
        check_object(ctx, &source.bucket, &source.key, Permission::Read).await?;
    }
    Ok(())
}
