//! The operation table: every S3 operation this server answers, declared once with how it is
//! routed, its typed parameters, the permission it needs and its handler. Adding an operation
//! means one entry here and its handler function (see `support/op_table.rs` for the syntax).

use super::params::{
    BucketListParams, ListParams, PartListParams, PartNumber, Query, ResponseOverrides,
    UploadListParams,
};
use super::support::access::Need;
use super::support::op_table::operations;
use super::{
    acl_ops, attributes, bucket, copy, cors_ops, delete, lifecycle_ops, list, multipart, object,
    object_lock, ownership_ops, policy_ops, post_object, public_access_ops, restore, service,
    tagging, Context, Req,
};
use crate::acl::Permission::{Read, ReadAcp, Write, WriteAcp};
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use http::{Method, Response};

operations! {
    query = q;

    ListBuckets: GET ServiceTarget [] {
        params: BucketListParams = BucketListParams::parse(q)?,
    } needs Need::Signed => service::list_buckets;

    GetBucketLocation: GET BucketTarget ["location"] {} needs Need::BucketOwner => bucket::location;
    DeleteObjects: POST BucketTarget ["delete"] {}
        needs Need::EachKey(Write) => delete::delete_objects;
    GetBucketTagging: GET BucketTarget ["tagging"] {} needs Need::BucketOwner => tagging::get_bucket;
    PutBucketTagging: PUT BucketTarget ["tagging"] {} needs Need::BucketOwner => tagging::put_bucket;
    DeleteBucketTagging: DELETE BucketTarget ["tagging"] {}
        needs Need::BucketOwner => tagging::delete_bucket;
    GetBucketAcl: GET BucketTarget ["acl"] {} needs Need::Bucket(ReadAcp) => acl_ops::get_bucket;
    PutBucketAcl: PUT BucketTarget ["acl"] {} needs Need::Bucket(WriteAcp) => acl_ops::put_bucket;
    GetBucketCors: GET BucketTarget ["cors"] {} needs Need::BucketOwner => cors_ops::get;
    PutBucketCors: PUT BucketTarget ["cors"] {} needs Need::BucketOwner => cors_ops::put;
    DeleteBucketCors: DELETE BucketTarget ["cors"] {} needs Need::BucketOwner => cors_ops::delete;
    GetBucketRequestPayment: GET BucketTarget ["requestPayment"] {}
        needs Need::BucketOwner => bucket::get_request_payment;
    GetBucketVersioning: GET BucketTarget ["versioning"] {}
        needs Need::BucketOwner => bucket::get_versioning;
    PutBucketVersioning: PUT BucketTarget ["versioning"] {}
        needs Need::BucketOwner => bucket::put_versioning;
    GetBucketLifecycleConfiguration: GET BucketTarget ["lifecycle"] {}
        needs Need::BucketOwner => lifecycle_ops::get;
    PutBucketLifecycleConfiguration: PUT BucketTarget ["lifecycle"] {}
        needs Need::BucketOwner => lifecycle_ops::put;
    DeleteBucketLifecycle: DELETE BucketTarget ["lifecycle"] {}
        needs Need::BucketOwner => lifecycle_ops::delete;
    GetBucketPolicy: GET BucketTarget ["policy"] {} needs Need::BucketOwner => policy_ops::get;
    PutBucketPolicy: PUT BucketTarget ["policy"] {} needs Need::BucketOwner => policy_ops::put;
    DeleteBucketPolicy: DELETE BucketTarget ["policy"] {}
        needs Need::BucketOwner => policy_ops::delete;
    GetBucketPolicyStatus: GET BucketTarget ["policyStatus"] {}
        needs Need::BucketOwner => policy_ops::status;
    GetBucketOwnershipControls: GET BucketTarget ["ownershipControls"] {}
        needs Need::BucketOwner => ownership_ops::get;
    PutBucketOwnershipControls: PUT BucketTarget ["ownershipControls"] {}
        needs Need::BucketOwner => ownership_ops::put;
    DeleteBucketOwnershipControls: DELETE BucketTarget ["ownershipControls"] {}
        needs Need::BucketOwner => ownership_ops::delete;
    GetPublicAccessBlock: GET BucketTarget ["publicAccessBlock"] {}
        needs Need::BucketOwner => public_access_ops::get;
    PutPublicAccessBlock: PUT BucketTarget ["publicAccessBlock"] {}
        needs Need::BucketOwner => public_access_ops::put;
    DeletePublicAccessBlock: DELETE BucketTarget ["publicAccessBlock"] {}
        needs Need::BucketOwner => public_access_ops::delete;
    GetObjectLockConfiguration: GET BucketTarget ["object-lock"] {}
        needs Need::BucketOwner => object_lock::get_configuration;
    PutObjectLockConfiguration: PUT BucketTarget ["object-lock"] {}
        needs Need::BucketOwner => object_lock::put_configuration;
    ListObjectVersions: GET BucketTarget ["versions"] {
        params: ListParams = ListParams::parse(q)?,
    } needs Need::Bucket(Read) => list::list_versions;
    ListMultipartUploads: GET BucketTarget ["uploads"] {
        params: UploadListParams = UploadListParams::parse(q)?,
    } needs Need::Bucket(Read) => multipart::list_uploads;
    CreateBucket: PUT BucketTarget [] {} needs Need::Signed => bucket::create;
    HeadBucket: HEAD BucketTarget [] {} needs Need::Bucket(Read) => bucket::head;
    DeleteBucket: DELETE BucketTarget [] {} needs Need::BucketOwner => bucket::delete;
    ListObjectsV2: GET BucketTarget [] when list_type_2 {
        params: ListParams = ListParams::parse(q)?,
    } needs Need::Bucket(Read) => list::list_v2;
    ListObjects: GET BucketTarget [] {
        params: ListParams = ListParams::parse(q)?,
    } needs Need::Bucket(Read) => list::list_v1;
    /// A browser form upload (`POST /{bucket}` with multipart/form-data).
    PostObject: POST BucketTarget [] {} needs Need::InHandler => post_object::post_object;

    GetObjectTagging: GET ObjectTarget ["tagging"] {}
        needs Need::Object(Read) => tagging::get_object;
    PutObjectTagging: PUT ObjectTarget ["tagging"] {}
        needs Need::Object(WriteAcp) => tagging::put_object;
    DeleteObjectTagging: DELETE ObjectTarget ["tagging"] {}
        needs Need::Object(WriteAcp) => tagging::delete_object;
    GetObjectAcl: GET ObjectTarget ["acl"] {} needs Need::Object(ReadAcp) => acl_ops::get_object;
    PutObjectAcl: PUT ObjectTarget ["acl"] {} needs Need::Object(WriteAcp) => acl_ops::put_object;
    GetObjectRetention: GET ObjectTarget ["retention"] {}
        needs Need::Object(Read) => object_lock::get_retention;
    PutObjectRetention: PUT ObjectTarget ["retention"] {}
        needs Need::Bucket(Write) => object_lock::put_retention;
    GetObjectLegalHold: GET ObjectTarget ["legal-hold"] {}
        needs Need::Object(Read) => object_lock::get_legal_hold;
    PutObjectLegalHold: PUT ObjectTarget ["legal-hold"] {}
        needs Need::Bucket(Write) => object_lock::put_legal_hold;
    GetObjectAttributes: GET ObjectTarget ["attributes"] {}
        needs Need::Object(Read) => attributes::get_object_attributes;
    RestoreObject: POST ObjectTarget ["restore"] {}
        needs Need::Bucket(Write) => restore::restore_object;
    CreateMultipartUpload: POST ObjectTarget ["uploads"] {}
        needs Need::Bucket(Write) => multipart::create;
    UploadPartCopy: PUT UploadTarget ["uploadId"] when copy_source {
        part_number: PartNumber = PartNumber::required(q)?,
    } needs Need::CopyInto => multipart::upload_part_copy;
    UploadPart: PUT UploadTarget ["uploadId"] {
        part_number: PartNumber = PartNumber::required(q)?,
    } needs Need::Bucket(Write) => multipart::upload_part;
    CompleteMultipartUpload: POST UploadTarget ["uploadId"] {}
        needs Need::Bucket(Write) => multipart::complete;
    AbortMultipartUpload: DELETE UploadTarget ["uploadId"] {}
        needs Need::Bucket(Write) => multipart::abort;
    ListParts: GET UploadTarget ["uploadId"] {
        params: PartListParams = PartListParams::parse(q)?,
    } needs Need::Bucket(Write) => multipart::list_parts;
    CopyObject: PUT ObjectTarget [] when copy_source {} needs Need::CopyInto => copy::copy_object;
    PutObject: PUT ObjectTarget [] {} needs Need::Bucket(Write) => object::put;
    GetObject: GET ObjectTarget [] {
        overrides: ResponseOverrides = ResponseOverrides::from_query(q),
        part_number: Option<PartNumber> = PartNumber::optional(q)?,
    } needs Need::Object(Read) => object::get;
    HeadObject: HEAD ObjectTarget [] {
        overrides: ResponseOverrides = ResponseOverrides::from_query(q),
        part_number: Option<PartNumber> = PartNumber::optional(q)?,
    } needs Need::Object(Read) => object::head;
    DeleteObject: DELETE ObjectTarget [] {} needs Need::Bucket(Write) => object::delete;
}

/// Sub-resources of a bucket that name real S3 operations not implemented here.
const UNIMPLEMENTED_BUCKET: &[(&str, &str)] = &[
    ("accelerate", "BucketAccelerateConfiguration"),
    ("analytics", "BucketAnalyticsConfiguration"),
    ("encryption", "BucketEncryption"),
    (
        "intelligent-tiering",
        "BucketIntelligentTieringConfiguration",
    ),
    ("inventory", "BucketInventoryConfiguration"),
    ("logging", "BucketLogging"),
    ("metrics", "BucketMetricsConfiguration"),
    ("notification", "BucketNotificationConfiguration"),
    ("replication", "BucketReplication"),
    ("website", "BucketWebsite"),
];

/// Sub-resources of an object that name real S3 operations not implemented here.
const UNIMPLEMENTED_OBJECT: &[(&str, &str)] = &[
    ("select", "SelectObjectContent"),
    ("torrent", "GetObjectTorrent"),
];

/// What a path addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Service,
    Bucket,
    Object,
}

impl ResourceKind {
    /// The `ResourceType` S3 names in MethodNotAllowed.
    fn resource_type(self) -> &'static str {
        match self {
            Self::Service => "SERVICE",
            Self::Bucket => "BUCKET",
            Self::Object => "OBJECT",
        }
    }
}

/// A request as the router has decoded it (path-style; virtual hosts already folded in).
pub struct RouteInput<'a> {
    pub method: Method,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub query: &'a Query,
    pub has_copy_source: bool,
}

impl RouteInput<'_> {
    fn kind(&self) -> ResourceKind {
        match (&self.bucket, &self.key) {
            (None, _) => ResourceKind::Service,
            (Some(_), None) => ResourceKind::Bucket,
            (Some(_), Some(_)) => ResourceKind::Object,
        }
    }

    fn bucket(&self) -> String {
        self.bucket.clone().unwrap_or_default()
    }

    fn key(&self) -> String {
        self.key.clone().unwrap_or_default()
    }
}

/// The service itself (ListBuckets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTarget;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketTarget {
    pub bucket: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectTarget {
    pub bucket: String,
    pub key: String,
    /// `?versionId=`: the version the operation is about (the latest when absent).
    pub version_id: Option<String>,
}

/// One multipart upload of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTarget {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

impl ServiceTarget {
    const KIND: ResourceKind = ResourceKind::Service;
    fn from_input(_: &RouteInput<'_>) -> S3Result<Self> {
        Ok(Self)
    }
    fn bucket(&self) -> Option<&str> {
        None
    }
    fn key(&self) -> Option<&str> {
        None
    }
    fn version_id(&self) -> Option<&str> {
        None
    }
}

impl BucketTarget {
    const KIND: ResourceKind = ResourceKind::Bucket;
    fn from_input(input: &RouteInput<'_>) -> S3Result<Self> {
        Ok(Self {
            bucket: input.bucket(),
        })
    }
    fn bucket(&self) -> Option<&str> {
        Some(&self.bucket)
    }
    fn key(&self) -> Option<&str> {
        None
    }
    fn version_id(&self) -> Option<&str> {
        None
    }
}

/// `versionId`: `null` or an id of the shape this server gives versions.
fn version_id(query: &Query) -> S3Result<Option<String>> {
    match query.get("versionId") {
        None => Ok(None),
        Some(v) if crate::storage::versions::is_valid_id(v) => Ok(Some(v.to_string())),
        Some("") => Err(
            S3Error::invalid_argument("Version id cannot be the empty string")
                .detail("ArgumentName", "versionId"),
        ),
        Some(v) => Err(S3Error::invalid_argument("Invalid version id specified")
            .detail("ArgumentName", "versionId")
            .detail("ArgumentValue", v)),
    }
}

impl ObjectTarget {
    const KIND: ResourceKind = ResourceKind::Object;
    fn from_input(input: &RouteInput<'_>) -> S3Result<Self> {
        Ok(Self {
            bucket: input.bucket(),
            key: input.key(),
            version_id: version_id(input.query)?,
        })
    }
    fn bucket(&self) -> Option<&str> {
        Some(&self.bucket)
    }
    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }
    fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }
}

impl UploadTarget {
    const KIND: ResourceKind = ResourceKind::Object;
    fn from_input(input: &RouteInput<'_>) -> S3Result<Self> {
        version_id(input.query)?;
        Ok(Self {
            bucket: input.bucket(),
            key: input.key(),
            upload_id: input.query.get("uploadId").unwrap_or_default().to_string(),
        })
    }
    fn bucket(&self) -> Option<&str> {
        Some(&self.bucket)
    }
    fn key(&self) -> Option<&str> {
        Some(&self.key)
    }
    fn version_id(&self) -> Option<&str> {
        None
    }
}

/// Guard: the request copies from another object (`x-amz-copy-source`).
fn copy_source(input: &RouteInput<'_>) -> bool {
    input.has_copy_source
}

/// Guard: ListObjectsV2 rather than v1.
fn list_type_2(input: &RouteInput<'_>) -> bool {
    input.query.get("list-type") == Some("2")
}

/// The operation a decoded request asks for: by its subresource marker (the first the table
/// knows for this kind of path), method and guards. A known S3 subresource this server does not
/// implement is NotImplemented; anything else unmatched is MethodNotAllowed.
pub fn resolve(input: &RouteInput<'_>) -> S3Result<S3Op> {
    let kind = input.kind();
    let marker = MARKERS
        .iter()
        .filter(|(k, _)| *k == kind)
        .map(|(_, m)| *m)
        .find(|m| input.query.has(m));
    if marker.is_none() {
        let unimplemented = match kind {
            ResourceKind::Bucket => UNIMPLEMENTED_BUCKET,
            ResourceKind::Object => UNIMPLEMENTED_OBJECT,
            ResourceKind::Service => &[],
        };
        if let Some((_, name)) = unimplemented.iter().find(|(sub, _)| input.query.has(sub)) {
            return Err(S3Error::not_implemented(&format!(
                "{name} ({})",
                input.method
            )));
        }
    }
    build(input, marker).unwrap_or_else(|| {
        let resource = kind.resource_type();
        let method = &input.method;
        Err(S3Error::with_message(
            S3ErrorCode::MethodNotAllowed,
            format!(
                "The specified method is not allowed against this resource: {method} on {resource}"
            ),
        )
        .detail("Method", method.as_str())
        .detail("ResourceType", resource))
    })
}
