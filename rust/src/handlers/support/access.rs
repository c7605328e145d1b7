//! Authorization: with `auth.enabled`, may this requester run this operation? An explicit Deny
//! in the bucket policy refuses; otherwise owners may do everything with what they own, and
//! everybody else needs an Allow in the bucket policy or an ACL grant (AllUsers for anonymous
//! requests, AuthenticatedUsers for any signed one). With auth off everything is allowed.

use super::copy_source;
use super::policy_request::{self, arn, iam_action, RequestFacts};
use crate::acl::{Acl, Permission, Requester};
use crate::handlers::Context;
use crate::policy::{actions, Decision, Policy, Principal};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::{ObjectOwnership, PublicAccessBlock, StorageError, Tag};
use http::request::Parts;
use std::sync::Arc;

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
    /// A permission on the bucket, or a bucket policy that may allow some of the keys the
    /// handler then checks one by one ([`BucketGate::allows_key`]).
    EachKey(Permission),
    /// Checked by the handler: a form upload's signer is known only once the form is read.
    InHandler,
}

/// Only the bucket owner manages the policy: even a Deny cannot lock them out, and anybody
/// else is refused (with MethodNotAllowed if the policy allows them, as S3 does).
const POLICY_ACTIONS: &[&str] = &[
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:GetBucketPolicyStatus",
];

fn denied() -> S3Error {
    S3Error::new(S3ErrorCode::AccessDenied)
}

/// What a request is about: a bucket, an object (a version of it) when `key` is not empty, and
/// the IAM action it is authorized as.
pub struct Resource<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub version_id: Option<&'a str>,
    pub action: &'static str,
}

/// A bucket's ACL, policy and public access block: what decides requests on it.
pub struct BucketGate {
    bucket: String,
    pub acl: Acl,
    policy: Option<Arc<Policy>>,
    block: PublicAccessBlock,
    /// BucketOwnerEnforced: ACLs count for nothing, the bucket owner owns every object.
    acls_disabled: bool,
    /// The owner's account, when `RestrictPublicBuckets` needs it.
    owner_account: Option<String>,
}

impl BucketGate {
    /// The bucket's gate; `None` if there is no bucket (the handler will say so).
    pub async fn load(ctx: &Context<'_>, bucket: &str) -> S3Result<Option<Self>> {
        let access = match ctx.store.bucket_access(bucket).await {
            Ok(access) => access,
            Err(StorageError::NoSuchBucket) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let owner = access.owner.unwrap_or_else(|| ctx.default_owner.clone());
        let policy = match access.policy {
            Some(document) => Some(ctx.policies.get(bucket, &document).map_err(|why| {
                S3Error::with_message(
                    S3ErrorCode::InternalError,
                    format!("the stored bucket policy no longer parses: {why}"),
                )
            })?),
            None => None,
        };
        let block = access.public_access_block.unwrap_or_default();
        let owner_account = match block.restrict_public_buckets {
            true => policy_request::account_of(ctx, &owner.id),
            false => None,
        };
        Ok(Some(Self {
            bucket: bucket.to_string(),
            acl: access.acl.unwrap_or_else(|| Acl::private(owner)),
            policy,
            block,
            acls_disabled: access.ownership == Some(ObjectOwnership::BucketOwnerEnforced),
            owner_account,
        }))
    }

    /// Whether `acl` (the bucket's or an object's) grants `permission`, its public grants left
    /// out under `IgnorePublicAcls`; with ACLs disabled, only the bucket's owner is granted.
    pub fn acl_allows(&self, acl: &Acl, requester: &Requester, permission: Permission) -> bool {
        if self.acls_disabled {
            return matches!(requester, Requester::User(o) if o.id == self.acl.owner.id);
        }
        if self.block.ignore_public_acls && acl.is_public() {
            return acl.without_public_grants().allows(requester, permission);
        }
        acl.allows(requester, permission)
    }

    /// [`Self::acl_allows`] for the bucket's own ACL.
    pub fn bucket_allows(&self, requester: &Requester, permission: Permission) -> bool {
        self.acl_allows(&self.acl, requester, permission)
    }

    /// What the bucket policy says about `action` on the bucket, or on `key` for actions on
    /// objects, for the request's signer.
    fn decide(
        &self,
        ctx: &Context<'_>,
        parts: &Parts,
        action: &str,
        key: &str,
        object_tags: Option<&[Tag]>,
    ) -> Decision {
        let principal = self.principal(ctx);
        self.decide_for(parts, principal.as_ref(), action, key, object_tags)
    }

    /// The request's signer as the policy names principals; looked up only when there is a
    /// policy (without one nothing asks).
    fn principal(&self, ctx: &Context<'_>) -> Option<Principal> {
        self.policy.as_ref()?;
        policy_request::principal(ctx)
    }

    /// An upload of `key` by `requester` (`principal` for the policy): s3:PutObject, and
    /// s3:PutObjectAcl as well when it sets the new object's ACL, as on S3 (what lets a bucket
    /// ACL's WRITE grant upload lets it set the upload's ACL).
    pub fn check_upload(
        &self,
        parts: &Parts,
        principal: Option<&Principal>,
        requester: &Requester,
        key: &str,
        sets_acl: bool,
    ) -> S3Result<()> {
        let granted = self.bucket_allows(requester, Permission::Write);
        combine(
            self.decide_for(parts, principal, "s3:PutObject", key, None),
            granted,
        )?;
        if sets_acl {
            let decision = self.decide_for(parts, principal, "s3:PutObjectAcl", key, None);
            combine(decision, granted)?;
        }
        Ok(())
    }

    /// [`Self::decide`] for a given principal (`None`: anonymous).
    pub fn decide_for(
        &self,
        parts: &Parts,
        principal: Option<&Principal>,
        action: &str,
        key: &str,
        object_tags: Option<&[Tag]>,
    ) -> Decision {
        let Some(policy) = &self.policy else {
            return Decision::NotApplicable;
        };
        let on_object = actions::kind_of(action) == Some(actions::Kind::Object);
        let resource = arn(&self.bucket, on_object.then_some(key));
        let decision = policy.evaluate(&crate::policy::Request {
            action,
            resource: &resource,
            principal,
            values: &RequestFacts {
                parts,
                principal,
                object_tags,
            },
        });
        // RestrictPublicBuckets: a public policy allows only the owner's own account.
        let outsider = match (principal, &self.owner_account) {
            (Some(p), Some(owner)) => p.account_id != *owner,
            _ => true,
        };
        if decision == Decision::Allow
            && self.block.restrict_public_buckets
            && outsider
            && policy.is_public()
        {
            return Decision::NotApplicable;
        }
        decision
    }

    /// Whether the requester may run `action` on `key` with `permission` granted by the ACL
    /// (for handlers that act on many keys, DeleteObjects).
    pub fn allows_key(
        &self,
        ctx: &Context<'_>,
        parts: &Parts,
        permission: Permission,
        action: &str,
        key: &str,
    ) -> bool {
        if !ctx.config.auth.enabled {
            return true;
        }
        let granted = self.bucket_allows(&ctx.requester, permission);
        combine(self.decide(ctx, parts, action, key, None), granted).is_ok()
    }
}

/// A policy decision with what the ACL (or ownership) grants.
fn combine(decision: Decision, granted: bool) -> S3Result<()> {
    match decision {
        Decision::Deny => Err(denied()),
        Decision::Allow => Ok(()),
        Decision::NotApplicable if granted => Ok(()),
        Decision::NotApplicable => Err(denied()),
    }
}

/// `permission` on the object version the request names (the latest when it names none): each
/// version has its own ACL.
async fn check_object(
    ctx: &Context<'_>,
    parts: &Parts,
    resource: &Resource<'_>,
    permission: Permission,
) -> S3Result<()> {
    let Resource {
        bucket,
        key,
        version_id,
        action,
    } = *resource;
    let Some(gate) = BucketGate::load(ctx, bucket).await? else {
        return Ok(());
    };
    let requester = &ctx.requester;
    match ctx.store.open_version(bucket, key, version_id).await {
        Ok(object) => {
            let metadata = object.info.metadata;
            let acl = (metadata.acl).unwrap_or_else(|| Acl::private(gate.acl.owner.clone()));
            let decision = gate.decide(ctx, parts, action, key, Some(&metadata.tags));
            combine(decision, gate.acl_allows(&acl, requester, permission))
        }
        // As S3: who may list the bucket learns the key is missing; others get AccessDenied.
        Err(
            StorageError::NoSuchKey
            | StorageError::NoSuchVersion
            | StorageError::DeleteMarker { .. },
        ) => {
            if gate.decide(ctx, parts, action, key, None) == Decision::Deny {
                return Err(denied());
            }
            let may_list = gate.bucket_allows(requester, Permission::Read);
            combine(gate.decide(ctx, parts, "s3:ListBucket", "", None), may_list)
        }
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
        Need::BucketOwner => check_bucket(ctx, parts, &resource, None).await,
        Need::Bucket(permission) => check_bucket(ctx, parts, &resource, Some(permission)).await,
        Need::EachKey(permission) => {
            let Some(gate) = BucketGate::load(ctx, resource.bucket).await? else {
                return Ok(());
            };
            expect_owner(&gate, parts)?;
            // With a policy, some keys may be allowed: the handler asks for each.
            let granted = gate.policy.is_some() || gate.bucket_allows(&ctx.requester, permission);
            combine(Decision::NotApplicable, granted)
        }
        Need::Object(permission) => check_object(ctx, parts, &resource, permission).await,
        Need::CopyInto => {
            check_bucket(ctx, parts, &resource, Some(Permission::Write)).await?;
            let source = copy_source::parse(parts)?;
            let version = source.version_id.as_deref();
            let source = Resource {
                bucket: &source.bucket,
                key: &source.key,
                version_id: version,
                action: iam_action("GetObject", version.is_some()),
            };
            check_object(ctx, parts, &source, Permission::Read).await
        }
    }
}

/// AccessDenied unless the bucket's owner is the one `x-amz-expected-bucket-owner` names.
fn expect_owner(gate: &BucketGate, parts: &Parts) -> S3Result<()> {
    match parts.headers.get("x-amz-expected-bucket-owner") {
        Some(expected) if expected.as_bytes() != gate.acl.owner.id.as_bytes() => Err(denied()),
        _ => Ok(()),
    }
}

/// `permission` on the bucket (`None`: only its owner), and the expected owner if one is named.
async fn check_bucket(
    ctx: &Context<'_>,
    parts: &Parts,
    resource: &Resource<'_>,
    permission: Option<Permission>,
) -> S3Result<()> {
    let Some(gate) = BucketGate::load(ctx, resource.bucket).await? else {
        return Ok(());
    };
    expect_owner(&gate, parts)?;
    let requester = &ctx.requester;
    if resource.action == "s3:PutObject" {
        let principal = gate.principal(ctx);
        return gate.check_upload(
            parts,
            principal.as_ref(),
            requester,
            resource.key,
            sets_acl(parts),
        );
    }
    let owner = &gate.acl.owner;
    let is_owner = matches!(requester, Requester::User(o) if o.id == owner.id);
    let decision = gate.decide(ctx, parts, resource.action, resource.key, None);
    if POLICY_ACTIONS.contains(&resource.action) {
        return match (is_owner, decision) {
            (true, _) => Ok(()),
            (false, Decision::Allow) => Err(S3Error::new(S3ErrorCode::MethodNotAllowed)),
            (false, _) => Err(denied()),
        };
    }
    let granted = match permission {
        Some(p) => gate.bucket_allows(requester, p),
        None => is_owner,
    };
    combine(decision, granted)
}

/// Whether the request gives the object it writes an ACL (`x-amz-acl`, `x-amz-grant-*`).
fn sets_acl(parts: &Parts) -> bool {
    parts
        .headers
        .keys()
        .any(|name| name == "x-amz-acl" || name.as_str().starts_with("x-amz-grant-"))
}
