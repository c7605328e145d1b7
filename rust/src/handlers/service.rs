//! Service-level operations: ListBuckets.

use super::list::{decode_token, encode_token};
use super::operations::ServiceTarget;
use super::params::BucketListParams;
use super::Req;
use super::{xml_response, Context};
use crate::body::ResponseBody;
use crate::s3_error::S3Result;
use crate::xml::{iso8601, XmlWriter};
use http::Response;

pub async fn list_buckets(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    _target: &ServiceTarget,
    params: BucketListParams,
) -> S3Result<Response<ResponseBody>> {
    let max = params.max_buckets;
    let after = match params.continuation_token.as_deref() {
        Some(token) => Some(decode_token(token)?),
        None => None,
    };
    let prefix = params.prefix.as_deref().unwrap_or("");
    let region = ctx.config.server.region.as_str();
    let region_of =
        |b: &crate::storage::BucketInfo| b.region.clone().unwrap_or_else(|| region.to_string());

    let buckets = ctx.store.list_buckets().await?;
    let me = ctx.acting_owner();
    // With auth on, everyone sees only their own buckets.
    let mine = |b: &&crate::storage::BucketInfo| {
        !ctx.config.auth.enabled || b.owner.as_ref().unwrap_or(&ctx.default_owner).id == me.id
    };
    let matching: Vec<_> = buckets
        .iter()
        .filter(mine)
        .filter(|b| {
            params
                .bucket_region
                .as_deref()
                .is_none_or(|r| r == region_of(b))
        })
        .filter(|b| b.name.starts_with(prefix))
        .filter(|b| after.as_deref().is_none_or(|a| b.name.as_str() > a))
        .collect();
    let page = &matching[..matching.len().min(max)];
    let truncated = matching.len() > page.len();

    let mut w = XmlWriter::new();
    w.root("ListAllMyBucketsResult").open("Buckets");
    for bucket in page {
        w.open("Bucket")
            .element("Name", &bucket.name)
            .element("CreationDate", &iso8601(bucket.created))
            .element("BucketRegion", &region_of(bucket))
            .close("Bucket");
    }
    w.close("Buckets")
        .open("Owner")
        .element("ID", &me.id)
        .element("DisplayName", &me.display_name)
        .close("Owner");
    if truncated {
        if let Some(last) = page.last() {
            w.element("ContinuationToken", &encode_token(&last.name));
        }
    }
    w.optional("Prefix", params.prefix.as_deref())
        .close("ListAllMyBucketsResult");
    Ok(xml_response(w.finish()))
}
