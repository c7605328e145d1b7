//! A request as bucket policies see it: the IAM action of each operation, the requester as a
//! policy principal, and the values of the condition keys.

use crate::config::Credential;
use crate::handlers::{ClientAddress, Context};
use crate::policy::{Principal, RequestValues};
use crate::query::Query;
use crate::storage::Tag;
use http::request::Parts;

/// The IAM action an operation is authorized as (`versioned`: it names a version id).
pub fn iam_action(operation: &str, versioned: bool) -> &'static str {
    let pick = |plain, version| if versioned { version } else { plain };
    match operation {
        "ListBuckets" => "s3:ListAllMyBuckets",
        "CreateBucket" => "s3:CreateBucket",
        "DeleteBucket" => "s3:DeleteBucket",
        "HeadBucket" | "ListObjects" | "ListObjectsV2" => "s3:ListBucket",
        "ListObjectVersions" => "s3:ListBucketVersions",
        "ListMultipartUploads" => "s3:ListBucketMultipartUploads",
        "GetBucketLocation" => "s3:GetBucketLocation",
        "GetBucketTagging" => "s3:GetBucketTagging",
        "PutBucketTagging" | "DeleteBucketTagging" => "s3:PutBucketTagging",
        "GetBucketAcl" => "s3:GetBucketAcl",
        "PutBucketAcl" => "s3:PutBucketAcl",
        "GetBucketCors" => "s3:GetBucketCORS",
        "PutBucketCors" | "DeleteBucketCors" => "s3:PutBucketCORS",
        "GetBucketRequestPayment" => "s3:GetBucketRequestPayment",
        "GetBucketVersioning" => "s3:GetBucketVersioning",
        "PutBucketVersioning" => "s3:PutBucketVersioning",
        "GetBucketLifecycleConfiguration" => "s3:GetLifecycleConfiguration",
        "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => {
            "s3:PutLifecycleConfiguration"
        }
        "GetObjectLockConfiguration" => "s3:GetBucketObjectLockConfiguration",
        "PutObjectLockConfiguration" => "s3:PutBucketObjectLockConfiguration",
        "GetBucketPolicy" => "s3:GetBucketPolicy",
        "PutBucketPolicy" => "s3:PutBucketPolicy",
        "DeleteBucketPolicy" => "s3:DeleteBucketPolicy",
        "GetBucketPolicyStatus" => "s3:GetBucketPolicyStatus",
        "GetPublicAccessBlock" => "s3:GetBucketPublicAccessBlock",
        "GetBucketOwnershipControls" => "s3:GetBucketOwnershipControls",
        "PutBucketOwnershipControls" => "s3:PutBucketOwnershipControls",
        "DeleteBucketOwnershipControls" => "s3:DeleteBucketOwnershipControls",
        "PutPublicAccessBlock" | "DeletePublicAccessBlock" => "s3:PutBucketPublicAccessBlock",
        "GetObject" | "HeadObject" => pick("s3:GetObject", "s3:GetObjectVersion"),
        "GetObjectAcl" => pick("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
        "PutObjectAcl" => pick("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
        "GetObjectTagging" => pick("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
        "PutObjectTagging" => pick("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
        "DeleteObjectTagging" => pick("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
        "GetObjectAttributes" => pick("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
        "DeleteObject" | "DeleteObjects" => pick("s3:DeleteObject", "s3:DeleteObjectVersion"),
        "GetObjectRetention" => "s3:GetObjectRetention",
        "PutObjectRetention" => "s3:PutObjectRetention",
        "GetObjectLegalHold" => "s3:GetObjectLegalHold",
        "PutObjectLegalHold" => "s3:PutObjectLegalHold",
        "RestoreObject" => "s3:RestoreObject",
        "AbortMultipartUpload" => "s3:AbortMultipartUpload",
        "ListParts" => "s3:ListMultipartUploadParts",
        // Copies read their source as GetObject besides.
        "PutObject"
        | "CopyObject"
        | "PostObject"
        | "CreateMultipartUpload"
        | "UploadPart"
        | "UploadPartCopy"
        | "CompleteMultipartUpload" => "s3:PutObject",
        // No action of its own: only `s3:*` statements apply (the test below names it).
        _ => "s3:*",
    }
}

/// The signed-in requester as a policy principal; `None` when anonymous.
pub fn principal(ctx: &Context<'_>) -> Option<Principal> {
    let key = ctx.auth.access_key_id.as_deref()?;
    let credential = ctx
        .config
        .auth
        .credentials
        .iter()
        .find(|c| c.access_key_id == key)?;
    Some(principal_of(credential))
}

/// The account of the configured user with canonical id `owner_id`.
pub fn account_of(ctx: &Context<'_>, owner_id: &str) -> Option<String> {
    let credentials = ctx.config.auth.credentials.iter();
    credentials
        .into_iter()
        .find(|c| c.owner().id == owner_id)
        .map(Credential::account_id)
}

/// The user of `credential` as a policy principal.
pub fn principal_of(credential: &Credential) -> Principal {
    let owner = credential.owner();
    Principal {
        canonical_id: owner.id,
        account_id: credential.account_id(),
        user_name: owner.display_name,
    }
}

/// The resource ARN of `bucket` (and `key`, for actions on objects).
pub fn arn(bucket: &str, key: Option<&str>) -> String {
    match key {
        Some(key) => format!("arn:aws:s3:::{bucket}/{key}"),
        None => format!("arn:aws:s3:::{bucket}"),
    }
}

/// The condition-key values of one request, worked out only when a condition asks.
pub struct RequestFacts<'a> {
    pub parts: &'a Parts,
    pub principal: Option<&'a Principal>,
    /// The tags of the object the request is about, once it has been opened.
    pub object_tags: Option<&'a [Tag]>,
}

fn header(parts: &Parts, name: &str) -> Option<String> {
    let value = parts.headers.get(name)?.to_str().ok()?;
    Some(value.to_string())
}

impl RequestFacts<'_> {
    fn query(&self, name: &str) -> Option<String> {
        let query = Query::parse(self.parts.uri.query()).ok()?;
        query.get(name).map(str::to_string)
    }

    fn signature(&self) -> Option<(&'static str, &'static str)> {
        self.principal?;
        if let Some(authorization) = header(self.parts, "authorization") {
            let version = match authorization.starts_with("AWS4-") {
                true => "AWS4-HMAC-SHA256",
                false => "AWS",
            };
            return Some(("REST-HEADER", version));
        }
        match self.query("X-Amz-Algorithm") {
            Some(_) => Some(("REST-QUERY-STRING", "AWS4-HMAC-SHA256")),
            None if self.query("Signature").is_some() => Some(("REST-QUERY-STRING", "AWS")),
            None => Some(("POST", "AWS4-HMAC-SHA256")),
        }
    }

    /// The tags the request sets (`x-amz-tagging`).
    fn request_tags(&self) -> Option<Vec<(String, String)>> {
        let value = header(self.parts, "x-amz-tagging")?;
        Query::parse(Some(&value)).ok().map(|q| q.0)
    }
}

impl RequestValues for RequestFacts<'_> {
    fn values(&self, key: &str) -> Option<Vec<String>> {
        let one = |value: Option<String>| value.map(|v| vec![v]);
        let principal = self.principal;
        if let Some(tag) = key.strip_prefix("s3:existingobjecttag/") {
            let tags = self.object_tags?;
            return one(tags.iter().find(|t| t.key == tag).map(|t| t.value.clone()));
        }
        if let Some(tag) = key.strip_prefix("s3:requestobjecttag/") {
            let tags = self.request_tags()?;
            return one(tags.into_iter().find(|(k, _)| k == tag).map(|(_, v)| v));
        }
        match key {
            "aws:securetransport" => one(Some("false".into())),
            "aws:sourceip" => one(self
                .parts
                .extensions
                .get::<ClientAddress>()
                .map(|a| a.0.to_string())),
            "aws:currenttime" => one(Some(
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            )),
            "aws:epochtime" => one(Some(chrono::Utc::now().timestamp().to_string())),
            "aws:useragent" => one(header(self.parts, "user-agent")),
            "aws:referer" => one(header(self.parts, "referer")),
            "aws:principaltype" => one(Some(
                match principal {
                    Some(_) => "User",
                    None => "Anonymous",
                }
                .into(),
            )),
            "aws:principalaccount" => one(principal.map(|p| p.account_id.clone())),
            "aws:username" => one(principal.map(|p| p.user_name.clone())),
            "aws:userid" => one(principal.map(|p| p.canonical_id.clone())),
            "aws:principalarn" => {
                one(principal
                    .map(|p| format!("arn:aws:iam::{}:user/{}", p.account_id, p.user_name)))
            }
            "s3:prefix" => one(self.query("prefix")),
            "s3:delimiter" => one(self.query("delimiter")),
            "s3:max-keys" => one(self.query("max-keys")),
            "s3:versionid" => one(self.query("versionId")),
            "s3:authtype" => one(self.signature().map(|(kind, _)| kind.to_string())),
            "s3:signatureversion" => one(self.signature().map(|(_, version)| version.to_string())),
            "s3:requestobjecttagkeys" => self
                .request_tags()
                .map(|tags| tags.into_iter().map(|(k, _)| k).collect()),
            _ => match key.strip_prefix("s3:") {
                Some(name) if name.starts_with("x-amz-") => one(header(self.parts, name)),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::operations::OPERATION_NAMES;
    use crate::policy::actions::{kind_of, Kind};

    #[test]
    fn every_operation_is_a_known_action_on_the_right_resource() {
        for name in OPERATION_NAMES {
            for versioned in [false, true] {
                let action = iam_action(name, versioned);
                assert!(kind_of(action).is_some(), "{name}: {action}");
            }
        }
        assert_eq!(
            kind_of(iam_action("ListObjectsV2", false)),
            Some(Kind::Bucket)
        );
        assert_eq!(iam_action("HeadObject", true), "s3:GetObjectVersion");
        assert_eq!(iam_action("UploadPart", false), "s3:PutObject");
    }
}
