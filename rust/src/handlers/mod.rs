//! S3 operations, one file per family. Handlers speak S3 and call `storage`; they never build
//! paths and never read the URL (the router already turned it into an [`S3Op`]).

mod access;
mod acl;
mod attributes;
mod bucket;
mod conditions;
mod copy;
mod copy_source;
mod cors;
mod delete;
mod form;
mod headers;
mod integrity;
mod list;
mod multipart;
mod object;
mod post_object;
pub mod range;
mod service;
mod tagging;

use crate::acl::{Owner, Requester};
use crate::body::{RequestBody, ResponseBody};
use crate::config::Config;
use crate::s3_error::S3Result;
use crate::s3_op::S3Op;
use crate::storage::FileStore;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};

/// What every handler may use besides the request itself.
pub struct Context<'a> {
    pub store: &'a FileStore,
    pub config: &'a Config,
    /// The first configured user: owner of everything when signatures are not checked, and of
    /// buckets from before owners were recorded.
    pub default_owner: Owner,
    /// Who is asking (with auth off: the default owner).
    pub requester: Requester,
    pub auth: crate::auth::Authenticated,
    /// `x-amz-*` headers a presigned URL carries as query parameters (lower-case names).
    pub hoisted: Vec<(String, String)>,
}

pub async fn dispatch(
    op: S3Op,
    parts: &Parts,
    body: &mut RequestBody,
    ctx: &Context<'_>,
) -> S3Result<Response<ResponseBody>> {
    access::authorize(&op, parts, ctx).await?;
    match op {
        S3Op::ListBuckets { params } => service::list_buckets(ctx, &params).await,
        S3Op::CreateBucket { bucket } => bucket::create(ctx, &bucket, parts, body).await,
        S3Op::HeadBucket { bucket } => bucket::head(ctx, &bucket).await,
        S3Op::DeleteBucket { bucket } => bucket::delete(ctx, &bucket).await,
        S3Op::GetBucketLocation { bucket } => bucket::location(ctx, &bucket).await,
        S3Op::ListObjects { bucket, params } => list::list_v1(ctx, &bucket, &params).await,
        S3Op::ListObjectsV2 { bucket, params } => list::list_v2(ctx, &bucket, &params).await,
        S3Op::PutObject { bucket, key } => object::put(ctx, &bucket, &key, parts, body).await,
        S3Op::GetObject {
            bucket,
            key,
            overrides,
            part_number,
        } => {
            object::get(
                ctx,
                &bucket,
                &key,
                parts,
                &overrides,
                part_number.as_deref(),
                false,
            )
            .await
        }
        S3Op::HeadObject {
            bucket,
            key,
            overrides,
            part_number,
        } => {
            object::get(
                ctx,
                &bucket,
                &key,
                parts,
                &overrides,
                part_number.as_deref(),
                true,
            )
            .await
        }
        S3Op::CopyObject { bucket, key } => copy::copy_object(ctx, &bucket, &key, parts).await,
        S3Op::DeleteObjects { bucket } => delete::delete_objects(ctx, &bucket, parts, body).await,
        S3Op::GetObjectAttributes { bucket, key } => {
            attributes::get_object_attributes(ctx, &bucket, &key, parts).await
        }
        S3Op::GetObjectTagging { bucket, key } => tagging::get_object(ctx, &bucket, &key).await,
        S3Op::PutObjectTagging { bucket, key } => {
            tagging::put_object(ctx, &bucket, &key, parts, body).await
        }
        S3Op::DeleteObjectTagging { bucket, key } => {
            tagging::delete_object(ctx, &bucket, &key).await
        }
        S3Op::GetBucketTagging { bucket } => tagging::get_bucket(ctx, &bucket).await,
        S3Op::PutBucketTagging { bucket } => tagging::put_bucket(ctx, &bucket, parts, body).await,
        S3Op::DeleteBucketTagging { bucket } => tagging::delete_bucket(ctx, &bucket).await,
        S3Op::GetBucketVersioning { bucket } => bucket::get_versioning(ctx, &bucket).await,
        S3Op::PutBucketVersioning { bucket } => bucket::put_versioning(ctx, &bucket).await,
        S3Op::ListObjectVersions { bucket, params } => {
            list::list_versions(ctx, &bucket, &params).await
        }
        S3Op::DeleteObject { bucket, key } => object::delete(ctx, &bucket, &key).await,
        S3Op::CreateMultipartUpload { bucket, key } => {
            multipart::create(ctx, &bucket, &key, parts).await
        }
        S3Op::UploadPart {
            target,
            part_number,
        } => multipart::upload_part(ctx, &target, &part_number, parts, body).await,
        S3Op::UploadPartCopy {
            target,
            part_number,
        } => multipart::upload_part_copy(ctx, &target, &part_number, parts).await,
        S3Op::CompleteMultipartUpload { target } => {
            multipart::complete(ctx, &target, parts, body).await
        }
        S3Op::AbortMultipartUpload { target } => multipart::abort(ctx, &target).await,
        S3Op::ListParts {
            target,
            max_parts,
            part_number_marker,
        } => {
            multipart::list_parts(
                ctx,
                &target,
                max_parts.as_deref(),
                part_number_marker.as_deref(),
            )
            .await
        }
        S3Op::GetBucketAcl { bucket } => acl::get_bucket(ctx, &bucket).await,
        S3Op::PutBucketAcl { bucket } => acl::put_bucket(ctx, &bucket, parts, body).await,
        S3Op::GetObjectAcl { bucket, key } => acl::get_object(ctx, &bucket, &key).await,
        S3Op::PutObjectAcl { bucket, key } => {
            acl::put_object(ctx, &bucket, &key, parts, body).await
        }
        S3Op::GetBucketCors { bucket } => cors::get(ctx, &bucket).await,
        S3Op::PutBucketCors { bucket } => cors::put(ctx, &bucket, parts, body).await,
        S3Op::DeleteBucketCors { bucket } => cors::delete(ctx, &bucket).await,
        S3Op::PostObject { bucket } => post_object::post_object(ctx, &bucket, parts, body).await,
        S3Op::ListMultipartUploads { bucket, params } => {
            multipart::list_uploads(ctx, &bucket, &params).await
        }
    }
}

impl Context<'_> {
    /// The owner of what this requester creates.
    pub fn acting_owner(&self) -> Owner {
        self.requester.owner()
    }

    /// NoSuchBucket unless the bucket exists (checked before a body is read).
    pub async fn require_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.store.bucket_exists(bucket).await? {
            Ok(())
        } else {
            Err(crate::s3_error::S3Error::no_such_bucket(bucket))
        }
    }

    /// Opens an object; a missing bucket or key is the S3 error naming it.
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> S3Result<crate::storage::OpenObject> {
        self.store
            .open_object(bucket, key)
            .await
            .map_err(|e| crate::s3_error::S3Error::from(e).for_resource(bucket, Some(key)))
    }

    /// A bucket's owner (the default owner for buckets from before owners were recorded).
    pub async fn bucket_owner(&self, bucket: &str) -> S3Result<Owner> {
        Ok(self.bucket_acl(bucket).await?.owner)
    }

    /// A bucket's effective ACL: as set, or private to its owner.
    pub async fn bucket_acl(&self, bucket: &str) -> S3Result<crate::acl::Acl> {
        let access = self
            .store
            .bucket_access(bucket)
            .await
            .map_err(|e| crate::s3_error::S3Error::from(e).for_resource(bucket, None))?;
        let owner = access.owner.unwrap_or_else(|| self.default_owner.clone());
        Ok(access
            .acl
            .unwrap_or_else(|| crate::acl::Acl::private(owner)))
    }
}

/// A non-negative count parameter (`max-keys`, `max-parts`, …): `default` when absent, at most `cap`.
fn parse_count(raw: Option<&str>, name: &str, default: usize, cap: usize) -> S3Result<usize> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (n as usize).min(cap))
            .ok_or_else(|| {
                crate::s3_error::S3Error::invalid_argument(format!(
                    "Provided {name} not an integer or within integer range"
                ))
                .detail("ArgumentName", name)
                .detail("ArgumentValue", raw)
            }),
    }
}

/// A 200 response carrying an S3 XML document.
fn xml_response(xml: String) -> Response<ResponseBody> {
    let mut response = Response::new(crate::body::full(xml));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

fn empty_response(status: StatusCode) -> Response<ResponseBody> {
    let mut response = Response::new(crate::body::empty());
    *response.status_mut() = status;
    response
}
