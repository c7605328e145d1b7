//! The bucket CORS API: PutBucketCors, GetBucketCors, DeleteBucketCors. (Rules are applied to
//! requests by the server pipeline.)

use super::integrity::verify_small_body;
use super::{empty_response, xml_response, Context};
use crate::body::{RequestBody, ResponseBody};
use crate::cors::{CorsRule, METHODS};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::xml::{parse_document, XmlWriter};
use http::request::Parts;
use http::{Response, StatusCode};

const MAX_RULES: usize = 100;
const MAX_BODY: usize = 64 * 1024;

fn invalid(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidRequest, message)
}

fn parse_rules(body: &[u8]) -> S3Result<Vec<CorsRule>> {
    let malformed = || S3Error::new(S3ErrorCode::MalformedXML);
    let root = parse_document(body).map_err(|()| malformed())?;
    if root.name != "CORSConfiguration" {
        return Err(malformed());
    }
    let texts = |rule: &crate::xml::Element, name: &str| -> Vec<String> {
        rule.children_named(name)
            .map(|e| e.text.trim().to_string())
            .collect()
    };
    let mut rules = Vec::new();
    for rule in root.children_named("CORSRule") {
        let parsed = CorsRule {
            id: rule.child_text("ID").map(|s| s.trim().to_string()),
            allowed_origins: texts(rule, "AllowedOrigin"),
            allowed_methods: texts(rule, "AllowedMethod"),
            allowed_headers: texts(rule, "AllowedHeader"),
            expose_headers: texts(rule, "ExposeHeader"),
            max_age_seconds: match rule.child_text("MaxAgeSeconds") {
                Some(v) => Some(v.trim().parse().map_err(|_| malformed())?),
                None => None,
            },
        };
        if parsed.allowed_origins.is_empty() || parsed.allowed_methods.is_empty() {
            return Err(malformed());
        }
        if let Some(method) = parsed
            .allowed_methods
            .iter()
            .find(|m| !METHODS.contains(&m.as_str()))
        {
            return Err(invalid(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {method}"
            )));
        }
        for (kind, values) in [
            ("AllowedOrigin", &parsed.allowed_origins),
            ("AllowedHeader", &parsed.allowed_headers),
        ] {
            if let Some(value) = values.iter().find(|v| v.matches('*').count() > 1) {
                return Err(invalid(format!(
                    "{kind} \"{value}\" can not have more than one wildcard."
                )));
            }
        }
        rules.push(parsed);
    }
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(malformed());
    }
    Ok(rules)
}

pub async fn put(
    ctx: &Context<'_>,
    bucket: &str,
    parts: &Parts,
    body: &mut RequestBody,
) -> S3Result<Response<ResponseBody>> {
    if !ctx.store.bucket_exists(bucket).await? {
        return Err(S3Error::no_such_bucket(bucket));
    }
    let document = body.read_small(MAX_BODY).await?;
    verify_small_body(parts, &document)?;
    let rules = parse_rules(&document)?;
    ctx.store
        .set_bucket_cors(bucket, Some(rules))
        .await
        .map_err(|e| S3Error::from(e).for_resource(bucket, None))?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn get(ctx: &Context<'_>, bucket: &str) -> S3Result<Response<ResponseBody>> {
    let rules = ctx
        .store
        .bucket_cors(bucket)
        .await
        .map_err(|e| S3Error::from(e).for_resource(bucket, None))?
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

pub async fn delete(ctx: &Context<'_>, bucket: &str) -> S3Result<Response<ResponseBody>> {
    ctx.store
        .set_bucket_cors(bucket, None)
        .await
        .map_err(|e| S3Error::from(e).for_resource(bucket, None))?;
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
