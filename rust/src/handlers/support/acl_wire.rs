//! ACLs on the wire: `x-amz-acl` and `x-amz-grant-*` headers, `AccessControlPolicy` documents,
//! and the effective ACL of an object.

use super::headers;
use super::integrity::verify_small_body;
use crate::acl::{Acl, Grant, Grantee, Group, Owner, Permission, CANNED};
use crate::body::RequestBody;
use crate::handlers::{Context, ForResource};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::ObjectOwnership;
use crate::xml::{parse_document, XmlWriter};
use http::request::Parts;

const MAX_BODY: usize = 64 * 1024;
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

fn malformed_acl() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::MalformedACLError,
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// One `x-amz-grant-*` value: `id="…", uri="…"`.
fn parse_grantees(value: &str) -> S3Result<Vec<Grantee>> {
    let mut grantees = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (kind, raw) = item
            .split_once('=')
            .ok_or_else(|| S3Error::invalid_argument(format!("Invalid grant: {item}")))?;
        let target = raw.trim().trim_matches('"');
        match kind.trim().to_ascii_lowercase().as_str() {
            "id" => grantees.push(Grantee::User {
                id: target.to_string(),
                display_name: None,
            }),
            "uri" => grantees.push(Grantee::Group(Group::from_uri(target).ok_or_else(
                || S3Error::invalid_argument(format!("Invalid group uri: {target}")),
            )?)),
            "emailaddress" => {
                return Err(S3Error::with_message(
                    S3ErrorCode::UnresolvableGrantByEmailAddress,
                    "The email address you provided does not match any account on record.",
                ))
            }
            other => {
                return Err(S3Error::invalid_argument(format!(
                    "Invalid grantee type: {other}"
                )))
            }
        }
    }
    Ok(grantees)
}

/// The ACL a request's headers ask for (`x-amz-acl` or `x-amz-grant-*`); `None` if neither.
pub fn from_headers(
    parts: &Parts,
    owner: &Owner,
    bucket_owner: Option<&Owner>,
) -> S3Result<Option<Acl>> {
    let canned = headers::get(parts, "x-amz-acl");
    let grant_headers: Vec<(Permission, &str)> = Permission::ALL
        .into_iter()
        .filter_map(|p| headers::get(parts, p.header()).map(|v| (p, v)))
        .collect();
    match (canned, grant_headers.is_empty()) {
        (Some(_), false) => Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Specifying both Canned ACLs and Header Grants is not allowed",
        )),
        (Some(name), true) => Acl::canned(name, owner.clone(), bucket_owner)
            .map(Some)
            .ok_or_else(|| {
                S3Error::invalid_argument(format!(
                    "The canned ACL '{name}' is not one of {}",
                    CANNED.join(", ")
                ))
                .detail("ArgumentName", "x-amz-acl")
                .detail("ArgumentValue", name)
            }),
        (None, true) => Ok(None),
        (None, false) => {
            let mut grants = Vec::new();
            for (permission, value) in grant_headers {
                for grantee in parse_grantees(value)? {
                    grants.push(Grant {
                        grantee,
                        permission,
                    });
                }
            }
            Ok(Some(Acl {
                owner: owner.clone(),
                grants,
            }))
        }
    }
}

/// The ACL of an object the requester is about to create: from its headers, else private.
pub async fn for_new_object(ctx: &Context<'_>, bucket: &str, parts: &Parts) -> S3Result<Acl> {
    let writer = ctx.acting_owner();
    let canned = headers::get(parts, "x-amz-acl").map(str::trim);
    // Only the bucket-owner-* canned ACLs name the bucket's owner: read it just for them.
    let bucket_owner = match canned.is_some_and(|a| a.starts_with("bucket-owner-")) {
        true => Some(ctx.bucket_owner(bucket).await?),
        false => None,
    };
    let requested = from_headers(parts, &writer, bucket_owner.as_ref())?;
    new_object_acl(ctx, bucket, writer, canned, requested, bucket_owner).await
}

/// The ACL a new object gets: `requested` (refused if the bucket's settings forbid it) or
/// private to its writer, unless the bucket's object ownership gives the object to the bucket's
/// owner (`bucket_owner`, when the caller has it already).
pub async fn new_object_acl(
    ctx: &Context<'_>,
    bucket: &str,
    writer: Owner,
    canned: Option<&str>,
    requested: Option<Acl>,
    bucket_owner: Option<Owner>,
) -> S3Result<Acl> {
    if let Some(acl) = &requested {
        check_requested(ctx, bucket, acl).await?;
    }
    let ownership = ctx
        .store
        .bucket_ownership(bucket)
        .await
        .for_bucket(bucket)?;
    if bucket_takes_over(ownership, canned) {
        let owner = match bucket_owner {
            Some(owner) => owner,
            None => ctx.bucket_owner(bucket).await?,
        };
        return Ok(Acl::private(owner));
    }
    Ok(requested.unwrap_or_else(|| Acl::private(writer)))
}

/// Whether a new object written with the canned ACL `canned` belongs to the bucket's owner
/// rather than to its writer.
fn bucket_takes_over(ownership: Option<ObjectOwnership>, canned: Option<&str>) -> bool {
    match ownership {
        Some(ObjectOwnership::BucketOwnerEnforced) => true,
        Some(ObjectOwnership::BucketOwnerPreferred) => canned == Some("bucket-owner-full-control"),
        _ => false,
    }
}

/// Whether `acl` grants nothing but full control to its owner (or to `bucket_owner`): what a
/// bucket with ACLs disabled (BucketOwnerEnforced) still accepts.
fn grants_only_owners(acl: &Acl, bucket_owner: &str) -> bool {
    acl.grants.iter().all(|g| {
        g.permission == Permission::FullControl
            && matches!(&g.grantee, Grantee::User { id, .. } if *id == acl.owner.id || id == bucket_owner)
    })
}

/// Whether `acl` grants nothing but its owner's full control.
pub fn owner_only(acl: &Acl) -> bool {
    grants_only_owners(acl, &acl.owner.id)
}

/// Refuses an ACL a request sets, as the bucket's settings demand: AccessControlListNotSupported
/// when ACLs are disabled (BucketOwnerEnforced) unless it grants only the owners full control;
/// AccessDenied for a public ACL (AllUsers or AuthenticatedUsers) under `BlockPublicAcls`.
pub async fn check_requested(ctx: &Context<'_>, bucket: &str, acl: &Acl) -> S3Result<()> {
    let access = ctx.store.bucket_access(bucket).await.for_bucket(bucket)?;
    if access.ownership == Some(ObjectOwnership::BucketOwnerEnforced) {
        let bucket_owner = access.owner.unwrap_or_else(|| ctx.default_owner.clone());
        if !grants_only_owners(acl, &bucket_owner.id) {
            return Err(S3Error::new(S3ErrorCode::AccessControlListNotSupported));
        }
    }
    match access.public_access_block {
        Some(block) if block.block_public_acls && acl.is_public() => {
            Err(S3Error::new(S3ErrorCode::AccessDenied))
        }
        _ => Ok(()),
    }
}

/// An `AccessControlPolicy` document; its owner must be the resource's owner.
fn from_document(body: &[u8], owner: &Owner) -> S3Result<Acl> {
    let root = parse_document(body).map_err(|_| malformed_acl())?;
    if root.name != "AccessControlPolicy" {
        return Err(malformed_acl());
    }
    let owner_id = root
        .child("Owner")
        .and_then(|o| o.child_text("ID"))
        .map(str::trim)
        .ok_or_else(malformed_acl)?;
    if owner_id != owner.id {
        return Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "The owner of an ACL cannot be changed",
        ));
    }
    let list = root.child("AccessControlList").ok_or_else(malformed_acl)?;
    let mut grants = Vec::new();
    for grant in list.children_named("Grant") {
        let grantee = grant.child("Grantee").ok_or_else(malformed_acl)?;
        let grantee = if let Some(id) = grantee.child_text("ID") {
            Grantee::User {
                id: id.trim().to_string(),
                display_name: grantee
                    .child_text("DisplayName")
                    .map(|d| d.trim().to_string()),
            }
        } else if let Some(uri) = grantee.child_text("URI") {
            Grantee::Group(Group::from_uri(uri).ok_or_else(malformed_acl)?)
        } else if grantee.child("EmailAddress").is_some() {
            return Err(S3Error::with_message(
                S3ErrorCode::UnresolvableGrantByEmailAddress,
                "The email address you provided does not match any account on record.",
            ));
        } else {
            return Err(malformed_acl());
        };
        let permission = grant
            .child_text("Permission")
            .and_then(Permission::from_name)
            .ok_or_else(malformed_acl)?;
        grants.push(Grant {
            grantee,
            permission,
        });
    }
    Ok(Acl {
        owner: owner.clone(),
        grants,
    })
}

pub fn document(acl: &Acl) -> String {
    let mut w = XmlWriter::new();
    w.root("AccessControlPolicy")
        .open("Owner")
        .element("ID", &acl.owner.id)
        .element("DisplayName", &acl.owner.display_name)
        .close("Owner")
        .open("AccessControlList");
    for grant in &acl.grants {
        w.open("Grant");
        match &grant.grantee {
            Grantee::User { id, display_name } => {
                w.open_with(
                    "Grantee",
                    &[("xmlns:xsi", XSI), ("xsi:type", "CanonicalUser")],
                )
                .element("ID", id)
                .optional("DisplayName", display_name.as_deref());
            }
            Grantee::Group(group) => {
                w.open_with("Grantee", &[("xmlns:xsi", XSI), ("xsi:type", "Group")])
                    .element("URI", group.uri());
            }
        }
        w.close("Grantee")
            .element("Permission", grant.permission.name())
            .close("Grant");
    }
    w.close("AccessControlList").close("AccessControlPolicy");
    w.finish()
}

/// The ACL a PUT ?acl asks for: headers, else the document in the body.
pub async fn requested_acl(
    parts: &Parts,
    body: &mut RequestBody,
    owner: &Owner,
    bucket_owner: Option<&Owner>,
) -> S3Result<Acl> {
    let from_headers = from_headers(parts, owner, bucket_owner)?;
    let document = body.read_small(MAX_BODY).await?;
    match from_headers {
        Some(acl) if document.iter().all(u8::is_ascii_whitespace) => Ok(acl),
        Some(_) => Err(S3Error::with_message(
            S3ErrorCode::UnexpectedContent,
            "This request does not support content",
        )),
        None if document.iter().all(u8::is_ascii_whitespace) => Err(S3Error::with_message(
            S3ErrorCode::MissingSecurityHeader,
            "Your request was missing a required header: x-amz-acl, x-amz-grant-* or an AccessControlPolicy body",
        )),
        None => {
            verify_small_body(parts, &document)?;
            from_document(&document, owner)
        }
    }
}

/// An object's ACL as stored, or private to the bucket's owner for objects from before ACLs.
pub async fn object_acl(ctx: &Context<'_>, bucket: &str, stored: Option<Acl>) -> S3Result<Acl> {
    if let Some(acl) = stored {
        return Ok(acl);
    }
    Ok(Acl::private(ctx.bucket_owner(bucket).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            id: "abc".into(),
            display_name: "alice".into(),
        }
    }

    #[test]
    fn documents_round_trip() {
        let mut acl = Acl::canned("public-read", owner(), None).unwrap();
        acl.grants.push(Grant {
            grantee: Grantee::User {
                id: "bob".into(),
                display_name: None,
            },
            permission: Permission::WriteAcp,
        });
        let xml = document(&acl);
        assert!(xml.contains(r#"<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission>"#));
        assert_eq!(from_document(xml.as_bytes(), &owner()).unwrap(), acl);
        let other = Owner {
            id: "zzz".into(),
            display_name: "z".into(),
        };
        assert_eq!(
            from_document(xml.as_bytes(), &other).unwrap_err().code,
            S3ErrorCode::AccessDenied
        );
        assert_eq!(
            from_document(b"<AccessControlPolicy/>", &owner())
                .unwrap_err()
                .code,
            S3ErrorCode::MalformedACLError
        );
    }

    #[test]
    fn grant_headers() {
        let grantees = parse_grantees(
            r#"id="abc", uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers""#,
        )
        .unwrap();
        assert_eq!(grantees.len(), 2);
        assert!(parse_grantees(r#"emailAddress="a@b.c""#).is_err());
        assert!(parse_grantees(r#"uri="http://example.com/nope""#).is_err());
    }
}
