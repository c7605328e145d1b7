//! The bucket's public access block: PutPublicAccessBlock, GetPublicAccessBlock and
//! DeletePublicAccessBlock. (Applied by `support::access`, `support::acl_wire` and
//! PutBucketPolicy.)

use super::operations::BucketTarget;
use super::support::integrity::read_document;
use super::{empty_response, xml_response, Context, ForResource, Req};
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::PublicAccessBlock;
use crate::xml::{Element, XmlWriter};
use http::{Response, StatusCode};

const MAX_BODY: usize = 8 * 1024;
const ROOT: &str = "PublicAccessBlockConfiguration";

/// The four settings of a `PublicAccessBlockConfiguration` (a missing one is false).
fn settings(root: &Element) -> S3Result<PublicAccessBlock> {
    let malformed = || S3Error::new(S3ErrorCode::MalformedXML);
    let mut block = PublicAccessBlock::default();
    for setting in &root.children {
        let value = match setting.text.trim() {
            "true" | "TRUE" | "True" => true,
            "false" | "FALSE" | "False" => false,
            _ => return Err(malformed()),
        };
        let field = match setting.name.as_str() {
            "BlockPublicAcls" => &mut block.block_public_acls,
            "IgnorePublicAcls" => &mut block.ignore_public_acls,
            "BlockPublicPolicy" => &mut block.block_public_policy,
            "RestrictPublicBuckets" => &mut block.restrict_public_buckets,
            _ => return Err(malformed()),
        };
        *field = value;
    }
    Ok(block)
}

pub async fn put(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.require_bucket(bucket).await?;
    let block = settings(&read_document(req.parts, req.body, MAX_BODY, ROOT).await?)?;
    ctx.store
        .set_bucket_public_access_block(bucket, Some(block))
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
    let block = access.public_access_block.ok_or_else(|| {
        S3Error::new(S3ErrorCode::NoSuchPublicAccessBlockConfiguration).detail("BucketName", bucket)
    })?;
    let flag = |on: bool| if on { "true" } else { "false" };
    let mut w = XmlWriter::new();
    w.root(ROOT)
        .element("BlockPublicAcls", flag(block.block_public_acls))
        .element("IgnorePublicAcls", flag(block.ignore_public_acls))
        .element("BlockPublicPolicy", flag(block.block_public_policy))
        .element("RestrictPublicBuckets", flag(block.restrict_public_buckets))
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
        .set_bucket_public_access_block(bucket, None)
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &[u8]) -> S3Result<PublicAccessBlock> {
        settings(&crate::handlers::support::integrity::document_root(
            body, ROOT,
        )?)
    }

    #[test]
    fn parses_the_four_settings() {
        let block = parse(b"<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><BlockPublicAcls>true</BlockPublicAcls><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>").unwrap();
        assert!(block.block_public_acls && block.restrict_public_buckets);
        assert!(!block.ignore_public_acls && !block.block_public_policy);
        assert!(parse(b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>").is_err());
        assert!(parse(
            b"<PublicAccessBlockConfiguration><Other>true</Other></PublicAccessBlockConfiguration>"
        )
        .is_err());
        assert!(parse(b"<Wrong/>").is_err());
    }
}
