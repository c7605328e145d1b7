//! Service-level operations: ListBuckets.

use super::list::{decode_token, encode_token};
use super::{xml_response, Context};
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3Result};
use crate::s3_op::BucketListParams;
use crate::xml::{iso8601, XmlWriter};
use http::Response;

const MAX_BUCKETS: usize = 10_000;

pub async fn list_buckets(
    ctx: &Context<'_>,
    params: &BucketListParams,
) -> S3Result<Response<ResponseBody>> {
    let max = match params.max_buckets.as_deref() {
        None => MAX_BUCKETS,
        Some(raw) => raw
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_BUCKETS).contains(n))
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Argument max-buckets must be an integer between 1 and 10000",
                )
                .detail("ArgumentName", "max-buckets")
                .detail("ArgumentValue", raw)
            })?,
    };
    let after = match params
        .continuation_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        Some(token) => Some(decode_token(token)?),
        None => None,
    };
    let prefix = params.prefix.as_deref().unwrap_or("");
    let region = ctx.config.server.region.as_str();
    let in_region = params.bucket_region.as_deref().is_none_or(|r| r == region);

    let buckets = ctx.store.list_buckets().await?;
    let me = ctx.acting_owner();
    // With auth on, everyone sees only their own buckets.
    let mine = |b: &&crate::storage::BucketInfo| {
        !ctx.config.auth.enabled || b.owner.as_ref().unwrap_or(&ctx.default_owner).id == me.id
    };
    let matching: Vec<_> = buckets
        .iter()
        .filter(mine)
        .filter(|b| in_region && b.name.starts_with(prefix))
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
            .element("BucketRegion", region)
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
