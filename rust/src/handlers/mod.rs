//! S3 operations, one file per family. Handlers speak S3 and call `storage`; they never build
//! paths and never read the URL (the router already turned it into an [`S3Op`]).

mod acl_ops;
mod attributes;
mod bucket;
mod copy;
mod cors_ops;
mod delete;
mod lifecycle_ops;
mod list;
mod multipart;
mod object;
mod object_lock;
pub mod operations;
mod ownership_ops;
pub mod params;
mod policy_ops;
mod post_object;
mod public_access_ops;
mod restore;
mod service;
pub mod support;
mod tagging;

pub use tagging::validate as validate_tags;

use crate::acl::{Owner, Requester};
use crate::body::{RequestBody, ResponseBody};
use crate::config::Config;
use crate::s3_error::{S3Error, S3Result};
use crate::storage::FileStore;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use operations::S3Op;

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
    /// The `x-amz-*` headers that came as query parameters of a presigned URL (lower-case
    /// names); they are in the request's headers too.
    pub hoisted: Vec<String>,
    /// Bucket policies as parsed, shared by all requests.
    pub policies: &'a support::policy_cache::PolicyCache,
}

/// The address a request came from, as the server's accept loop saw it (a request extension;
/// bucket policies test it as `aws:SourceIp`).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);

/// The request as a handler sees it: headers and the (not yet read) body.
pub struct Req<'a> {
    pub parts: &'a Parts,
    pub body: &'a mut RequestBody,
}

/// Authorizes the operation for the requester, then runs its handler.
pub async fn dispatch(
    op: S3Op,
    parts: &Parts,
    body: &mut RequestBody,
    ctx: &Context<'_>,
) -> S3Result<Response<ResponseBody>> {
    support::access::authorize(
        op.need(),
        support::access::Resource {
            bucket: op.bucket().unwrap_or_default(),
            key: op.key().unwrap_or_default(),
            version_id: op.version_id(),
            action: support::policy_request::iam_action(op.name(), op.version_id().is_some()),
        },
        parts,
        ctx,
    )
    .await?;
    operations::run(op, ctx, &mut Req { parts, body }).await
}

/// Storage (or upload) results in S3 terms: the one conversion, plus the `BucketName` / `Key`
/// details S3 names in not-found errors.
pub trait ForResource<T> {
    fn for_bucket(self, bucket: &str) -> S3Result<T>;
    fn for_key(self, bucket: &str, key: &str) -> S3Result<T>;
}

impl<T, E: Into<S3Error>> ForResource<T> for Result<T, E> {
    fn for_bucket(self, bucket: &str) -> S3Result<T> {
        self.map_err(|e| e.into().for_resource(bucket, None))
    }

    fn for_key(self, bucket: &str, key: &str) -> S3Result<T> {
        self.map_err(|e| e.into().for_resource(bucket, Some(key)))
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
            Err(S3Error::no_such_bucket(bucket))
        }
    }

    /// Opens an object (the latest version, or the one with `version_id`); a missing bucket,
    /// key or version is the S3 error naming it.
    pub async fn open_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> S3Result<crate::storage::OpenObject> {
        self.store
            .open_version(bucket, key, version_id)
            .await
            .for_key(bucket, key)
    }

    /// A bucket's owner (the default owner for buckets from before owners were recorded).
    pub async fn bucket_owner(&self, bucket: &str) -> S3Result<Owner> {
        Ok(self.bucket_acl(bucket).await?.owner)
    }

    /// A bucket's effective ACL: as set, or private to its owner.
    pub async fn bucket_acl(&self, bucket: &str) -> S3Result<crate::acl::Acl> {
        let access = self.store.bucket_access(bucket).await.for_bucket(bucket)?;
        let owner = access.owner.unwrap_or_else(|| self.default_owner.clone());
        Ok(access
            .acl
            .unwrap_or_else(|| crate::acl::Acl::private(owner)))
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
