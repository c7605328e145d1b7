//! Authorization: with `auth.enabled`, may this requester run this operation? Owners may do
//! everything with what they own; everybody else needs an ACL grant (AllUsers for anonymous
//! requests, AuthenticatedUsers for any signed one). With auth off everything is allowed.

use super::copy_source;
use crate::acl::{Acl, Permission, Requester};
use crate::handlers::Context;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::StorageError;
use http::request::Parts;

/// What an operation needs of the requester, declared beside it in the operation table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Any signed request.
    Signed,
    /// Only the bucket's owner.
    BucketOwner,
    /// A permission on the bucket.
    Bucket(Permission),
    /// A permission on the object (a missing object needs READ on the bucket to be told so).
    Object(Permission),
    /// WRITE on the target bucket and READ on the object named by `x-amz-copy-source`.
    CopyInto,
    /// Checked by the handler: a form upload's signer is known only once the form is read.
    InHandler,
}

fn denied() -> S3Error {
    S3Error::new(S3ErrorCode::AccessDenied)
}

/// The bucket's effective ACL; `None` if there is no bucket (the handler will say so).
async fn bucket_acl(ctx: &Context<'_>, bucket: &str) -> S3Result<Option<Acl>> {
    match ctx.bucket_acl(bucket).await {
        Ok(acl) => Ok(Some(acl)),
        Err(e) if e.code == S3ErrorCode::NoSuchBucket => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a request is about: a bucket, and an object (a version of it) when `key` is not empty.
pub struct Resource<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_id: Option<&'a str>,
}

/// `permission` on the object version the request names (the latest when it names none): each
/// version has its own ACL.
async fn check_object(
    ctx: &Context<'_>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    permission: Permission,
) -> S3Result<()> {
    let requester = &ctx.requester;
    match ctx.store.open_version(bucket, key, version_id).await {
        Ok(object) => {
            let acl = super::acl_wire::object_acl(ctx, bucket, object.info.metadata.acl).await?;
            if acl.allows(requester, permission) {
                Ok(())
            } else {
                Err(denied())
            }
        }
        // As S3: who may list the bucket learns the key is missing; others get AccessDenied.
        Err(
            StorageError::NoSuchKey
            | StorageError::NoSuchVersion
            | StorageError::DeleteMarker { .. },
        ) => match bucket_acl(ctx, bucket).await? {
            Some(acl) if acl.allows(requester, Permission::Read) => Ok(()),
            Some(_) => Err(denied()),
            None => Ok(()),
        },
        Err(StorageError::NoSuchBucket) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Refuses the request unless the requester meets `need` for `bucket` (and `key`). Missing
/// buckets and keys are left to the handler (which answers NoSuchBucket / NoSuchKey).
pub async fn authorize(
    need: Need,
    resource: Resource<'_>,
    parts: &Parts,
    ctx: &Context<'_>,
) -> S3Result<()> {
    let Resource {
        bucket,
        key,
        version_id,
    } = resource;
    if !ctx.config.auth.enabled {
        return Ok(());
    }
    match need {
        Need::Signed => {
            if ctx.requester == Requester::Anonymous {
                return Err(denied());
            }
            Ok(())
        }
        Need::InHandler => Ok(()),
        Need::BucketOwner => check_bucket(ctx, parts, bucket, None).await,
        Need::Bucket(permission) => check_bucket(ctx, parts, bucket, Some(permission)).await,
        Need::Object(permission) => check_object(ctx, bucket, key, version_id, permission).await,
        Need::CopyInto => {
            check_bucket(ctx, parts, bucket, Some(Permission::Write)).await?;
            let source = copy_source::parse(parts)?;
            let version = source.version_id.as_deref();
            check_object(ctx, &source.bucket, &source.key, version, Permission::Read).await
        }
    }
}

/// `permission` on the bucket (`None`: only its owner), and the expected owner if one is named.
async fn check_bucket(
    ctx: &Context<'_>,
    parts: &Parts,
    bucket: &str,
    permission: Option<Permission>,
) -> S3Result<()> {
    let Some(acl) = bucket_acl(ctx, bucket).await? else {
        return Ok(());
    };
    if let Some(expected) = parts.headers.get("x-amz-expected-bucket-owner") {
        if expected.as_bytes() != acl.owner.id.as_bytes() {
            return Err(denied());
        }
    }
    let requester = &ctx.requester;
    let allowed = match permission {
        Some(p) => acl.allows(requester, p),
        None => matches!(requester, Requester::User(o) if o.id == acl.owner.id),
    };
    if allowed {
        Ok(())
    } else {
        Err(denied())
    }
}
