//! S3 Object Ownership: PutBucketOwnershipControls, GetBucketOwnershipControls and
//! DeleteBucketOwnershipControls. (Applied by `support::acl_wire` to the ACLs requests set and
//! to who owns a new object, and by `support::access` to decisions.)

use super::operations::BucketTarget;
use super::support::acl_wire::owner_only;
use super::support::integrity::read_document;
use super::{empty_response, xml_response, Context, ForResource, Req};
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::ObjectOwnership;
use crate::xml::{Element, XmlWriter};
use http::{Response, StatusCode};

const MAX_BODY: usize = 8 * 1024;
const ROOT: &str = "OwnershipControls";

/// The rule of an `OwnershipControls` document: exactly one, naming a known setting.
fn rule(root: &Element) -> S3Result<ObjectOwnership> {
    let malformed = || S3Error::new(S3ErrorCode::MalformedXML);
    match root.children.as_slice() {
        [rule] if rule.name == "Rule" => rule
            .child_text("ObjectOwnership")
            .and_then(ObjectOwnership::from_name)
            .ok_or_else(malformed),
        _ => Err(malformed()),
    }
}

pub async fn put(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.require_bucket(bucket).await?;
    let ownership = rule(&read_document(req.parts, req.body, MAX_BODY, ROOT).await?)?;
    // ACLs can be turned off only while the bucket's own ACL grants nobody else anything.
    if ownership == ObjectOwnership::BucketOwnerEnforced
        && !owner_only(&ctx.bucket_acl(bucket).await?)
    {
        return Err(S3Error::new(
            S3ErrorCode::InvalidBucketAclWithObjectOwnership,
        ));
    }
    ctx.store
        .set_bucket_ownership(bucket, Some(ownership))
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn get(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let access = ctx.store.bucket_access(bucket).await.for_bucket(bucket)?;
    let ownership = access.ownership.ok_or_else(|| {
        S3Error::new(S3ErrorCode::OwnershipControlsNotFoundError).detail("BucketName", bucket)
    })?;
    let mut w = XmlWriter::new();
    w.root(ROOT)
        .open("Rule")
        .element("ObjectOwnership", ownership.name())
        .close("Rule")
        .close(ROOT);
    Ok(xml_response(w.finish()))
}

pub async fn delete(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.store
        .set_bucket_ownership(bucket, None)
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &[u8]) -> S3Result<ObjectOwnership> {
        rule(&crate::handlers::support::integrity::document_root(
            body, ROOT,
        )?)
    }

    #[test]
    fn parses_one_rule() {
        let document = b"<OwnershipControls xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>";
        assert_eq!(
            parse(document).unwrap(),
            ObjectOwnership::BucketOwnerEnforced
        );
        assert!(parse(b"<OwnershipControls><Rule><ObjectOwnership>Nobody</ObjectOwnership></Rule></OwnershipControls>").is_err());
        assert!(parse(b"<OwnershipControls/>").is_err());
    }
}
