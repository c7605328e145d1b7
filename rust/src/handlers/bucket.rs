//! Bucket operations: CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
//! Get/PutBucketVersioning, GetBucketRequestPayment.

use super::operations::BucketTarget;
use super::ForResource;
use super::Req;
use super::{empty_response, xml_response, Context};
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::{ObjectOwnership, StorageError, Versioning};
use crate::xml::{parse_create_bucket_configuration, XmlWriter};
use http::{HeaderValue, Response, StatusCode};

/// A CreateBucketConfiguration document is tiny; anything bigger is not one.
const MAX_CONFIGURATION_BODY: usize = 64 * 1024;

pub async fn create(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let parts = req.parts;
    let body = &mut *req.body;
    crate::bucket_name::validate(bucket).map_err(|reason| {
        S3Error::with_message(
            S3ErrorCode::InvalidBucketName,
            format!("The specified bucket is not valid: {reason}."),
        )
        .detail("BucketName", bucket)
    })?;
    let document = body.read_small(MAX_CONFIGURATION_BODY).await?;
    let region = parse_create_bucket_configuration(&document)
        .map_err(|_| S3Error::new(S3ErrorCode::MalformedXML))?
        .map(|constraint| location_constraint(&constraint))
        .transpose()?;
    let owner = ctx.acting_owner();
    let acl = super::support::acl_wire::from_headers(parts, &owner, Some(&owner))?;
    let ownership = match super::support::headers::get(parts, "x-amz-object-ownership") {
        None => None,
        Some(name) => Some(ObjectOwnership::from_name(name).ok_or_else(|| {
            S3Error::invalid_argument(format!("Invalid x-amz-object-ownership header: {name}"))
                .detail("ArgumentName", "x-amz-object-ownership")
        })?),
    };
    let acl_disabled = ownership == Some(ObjectOwnership::BucketOwnerEnforced);
    if acl_disabled
        && acl
            .as_ref()
            .is_some_and(|a| !super::support::acl_wire::owner_only(a))
    {
        return Err(S3Error::new(
            S3ErrorCode::InvalidBucketAclWithObjectOwnership,
        ));
    }
    match ctx
        .store
        .create_bucket(bucket, owner.clone(), acl, region)
        .await
    {
        Ok(()) => {}
        Err(StorageError::BucketAlreadyExists) => {
            let existing = ctx.bucket_owner(bucket).await?;
            if existing.id != owner.id {
                return Err(
                    S3Error::new(S3ErrorCode::BucketAlreadyExists).detail("BucketName", bucket)
                );
            }
            // us-east-1 keeps its legacy answer to re-creating your own bucket: success.
            if ctx.config.server.region != "us-east-1" {
                return Err(
                    S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou).detail("BucketName", bucket)
                );
            }
        }
        Err(e) => return Err(S3Error::from(e).for_resource(bucket, None)),
    }
    if ownership.is_some() {
        ctx.store
            .set_bucket_ownership(bucket, ownership)
            .await
            .for_bucket(bucket)?;
    }
    let lock_requested = super::support::headers::get(parts, "x-amz-bucket-object-lock-enabled")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if lock_requested {
        ctx.store
            .set_bucket_object_lock(bucket, Default::default())
            .await
            .for_bucket(bucket)?;
    }
    let mut response = empty_response(StatusCode::OK);
    if let Ok(location) = HeaderValue::from_str(&format!("/{bucket}")) {
        response
            .headers_mut()
            .insert(http::header::LOCATION, location);
    }
    Ok(response)
}

/// A CreateBucketConfiguration's LocationConstraint, kept with the bucket. Any region name is
/// accepted (this server serves them all); us-east-1 is never written as a constraint, and S3
/// refuses it, as it refuses what is not a region name.
fn location_constraint(constraint: &str) -> S3Result<String> {
    let looks_like_region = constraint.len() <= 32
        && constraint
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if constraint == "us-east-1" || !looks_like_region {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidLocationConstraint,
            "The specified location-constraint is not valid",
        )
        .detail("LocationConstraint", constraint));
    }
    Ok(constraint.to_string())
}

/// The region a bucket lives in: its LocationConstraint, else the server's.
async fn bucket_region(ctx: &Context<'_>, bucket: &str) -> S3Result<String> {
    let stored = ctx.store.bucket_region(bucket).await.for_bucket(bucket)?;
    Ok(stored.unwrap_or_else(|| ctx.config.server.region.clone()))
}

pub async fn head(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let region = bucket_region(ctx, bucket).await?;
    let mut response = empty_response(StatusCode::OK);
    if let Ok(region) = HeaderValue::from_str(&region) {
        response.headers_mut().insert("x-amz-bucket-region", region);
    }
    Ok(response)
}

pub async fn delete(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.store
        .delete_bucket(bucket, false)
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn location(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let region = bucket_region(ctx, bucket).await?;
    let mut w = XmlWriter::new();
    // us-east-1 is reported as an empty constraint, as S3 does.
    w.root("LocationConstraint");
    if region != "us-east-1" {
        w.element_text(&region);
    }
    w.close("LocationConstraint");
    Ok(xml_response(w.finish()))
}

/// A bucket that was never versioned answers with an empty configuration (no Status).
pub async fn get_versioning(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let versioning = ctx
        .store
        .bucket_versioning(bucket)
        .await
        .for_bucket(bucket)?;
    let mut w = XmlWriter::new();
    w.root("VersioningConfiguration");
    match versioning {
        Versioning::Off => {}
        Versioning::Enabled => {
            w.element("Status", "Enabled");
        }
        Versioning::Suspended => {
            w.element("Status", "Suspended");
        }
    }
    w.close("VersioningConfiguration");
    Ok(xml_response(w.finish()))
}

/// PutBucketVersioning: `Enabled` or `Suspended` (a bucket never goes back to unversioned).
/// MFA delete needs an MFA device, which a local server has none of: refused.
pub async fn put_versioning(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.require_bucket(bucket).await?;
    let root = super::support::integrity::read_document(
        req.parts,
        req.body,
        MAX_VERSIONING_BODY,
        "VersioningConfiguration",
    )
    .await?;
    let illegal = || S3Error::new(S3ErrorCode::IllegalVersioningConfigurationException);
    match root.child_text("MfaDelete").map(str::trim) {
        None | Some("Disabled") => {}
        Some("Enabled") => {
            return Err(S3Error::not_implemented(
                "MFA delete (this server has no MFA devices)",
            ))
        }
        Some(_) => return Err(illegal()),
    }
    let enabled = match root.child_text("Status").map(str::trim) {
        Some("Enabled") => true,
        Some("Suspended") => false,
        _ => return Err(illegal()),
    };
    let locked = ctx
        .store
        .bucket_object_lock(bucket)
        .await
        .for_bucket(bucket)?;
    if !enabled && locked.is_some() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidBucketState,
            "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.",
        ));
    }
    ctx.store
        .set_bucket_versioning(bucket, enabled)
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::OK))
}

/// A versioning configuration is two short elements.
const MAX_VERSIONING_BODY: usize = 4096;

/// GetBucketRequestPayment: nobody but the owner ever pays here, as for every S3 bucket
/// without Requester Pays.
pub async fn get_request_payment(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    ctx.require_bucket(&target.bucket).await?;
    let mut w = XmlWriter::new();
    w.root("RequestPaymentConfiguration")
        .element("Payer", "BucketOwner")
        .close("RequestPaymentConfiguration");
    Ok(xml_response(w.finish()))
}
