//! The bucket CORS API: PutBucketCors, GetBucketCors, DeleteBucketCors. (Rules are applied to
//! requests by the server pipeline.)

use super::operations::BucketTarget;
use super::support::integrity::verify_small_body;
use super::ForResource;
use super::Req;
use super::{empty_response, xml_response, Context};
use crate::body::ResponseBody;
use crate::cors::{ConfigurationError, CorsRule};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::xml::XmlWriter;
use http::{Response, StatusCode};

const MAX_BODY: usize = 64 * 1024;

fn invalid(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidRequest, message)
}

fn parse_rules(body: &[u8]) -> S3Result<Vec<CorsRule>> {
    crate::cors::parse_configuration(body).map_err(|e| match e {
        ConfigurationError::Malformed => S3Error::new(S3ErrorCode::MalformedXML),
        ConfigurationError::Invalid(message) => invalid(message),
    })
}

pub async fn put(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let parts = req.parts;
    let body = &mut *req.body;
    ctx.require_bucket(bucket).await?;
    let document = body.read_small(MAX_BODY).await?;
    verify_small_body(parts, &document)?;
    let rules = parse_rules(&document)?;
    ctx.store
        .set_bucket_cors(bucket, Some(rules))
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
    let rules = ctx
        .store
        .bucket_cors(bucket)
        .await
        .for_bucket(bucket)?
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::NoSuchCORSConfiguration).detail("BucketName", bucket)
        })?;
    let mut w = XmlWriter::new();
    w.root("CORSConfiguration");
    for rule in &rules {
        w.open("CORSRule").optional("ID", rule.id.as_deref());
        for (tag, values) in [
            ("AllowedHeader", &rule.allowed_headers),
            ("AllowedMethod", &rule.allowed_methods),
            ("AllowedOrigin", &rule.allowed_origins),
            ("ExposeHeader", &rule.expose_headers),
        ] {
            for value in values {
                w.element(tag, value);
            }
        }
        w.optional(
            "MaxAgeSeconds",
            rule.max_age_seconds.map(|m| m.to_string()).as_deref(),
        )
        .close("CORSRule");
    }
    w.close("CORSConfiguration");
    Ok(xml_response(w.finish()))
}

pub async fn delete(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.store
        .set_bucket_cors(bucket, None)
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_cors_documents() {
        let rules = parse_rules(
            br#"<CORSConfiguration><CORSRule><ID>r1</ID><AllowedOrigin>http://*.example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>"#,
        )
        .unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].allowed_methods, vec!["PUT", "GET"]);
        assert_eq!(rules[0].max_age_seconds, Some(3000));
        assert_eq!(
            parse_rules(b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>")
                .unwrap_err()
                .code,
            S3ErrorCode::InvalidRequest
        );
        assert!(parse_rules(b"<CORSConfiguration/>").is_err());
        assert!(parse_rules(b"<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>").is_err());
        assert!(parse_rules(b"<CORSConfiguration><CORSRule><AllowedOrigin>http://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>").is_err());
    }
}
