//! Service-level operations: ListBuckets.

use super::{xml_response, Context};
use crate::body::ResponseBody;
use crate::s3_error::S3Result;
use crate::xml::{iso8601, XmlWriter};
use http::Response;

pub async fn list_buckets(ctx: &Context<'_>) -> S3Result<Response<ResponseBody>> {
    let buckets = ctx.store.list_buckets().await?;
    let mut w = XmlWriter::new();
    w.root("ListAllMyBucketsResult")
        .open("Owner")
        .element("ID", &ctx.owner.id)
        .element("DisplayName", &ctx.owner.display_name)
        .close("Owner")
        .open("Buckets");
    for bucket in &buckets {
        w.open("Bucket")
            .element("Name", &bucket.name)
            .element("CreationDate", &iso8601(bucket.created))
            .element("BucketRegion", &ctx.config.server.region)
            .close("Bucket");
    }
    w.close("Buckets").close("ListAllMyBucketsResult");
    Ok(xml_response(w.finish()))
}
