//! Object and bucket tagging: the `?tagging` sub-resource, the `x-amz-tagging` header, and
//! S3's limits on tag sets.

use super::operations::{BucketTarget, ObjectTarget};
use super::support::headers;
use super::support::integrity::verify_small_body;
use super::ForResource;
use super::Req;
use super::{empty_response, xml_response, Context};
use crate::body::{RequestBody, ResponseBody};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::Tag;
use crate::xml::{parse_document, XmlWriter};
use http::request::Parts;
use http::{Response, StatusCode};

pub const MAX_OBJECT_TAGS: usize = 10;
const MAX_BUCKET_TAGS: usize = 50;
const MAX_KEY_CHARS: usize = 128;
const MAX_VALUE_CHARS: usize = 256;
const MAX_TAGGING_BODY: usize = 64 * 1024;

fn invalid_tag(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidTag, message)
}

/// Letters, digits, white space and `_ . : / = + - @`, as S3 allows in tags.
fn allowed(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c))
}

/// Checks a tag set against S3's rules.
pub fn validate(tags: &[Tag], max_tags: usize) -> S3Result<()> {
    if tags.len() > max_tags {
        return Err(invalid_tag(format!(
            "Object tags cannot be greater than {max_tags}"
        )));
    }
    for (i, tag) in tags.iter().enumerate() {
        let key_chars = tag.key.chars().count();
        if key_chars == 0 || key_chars > MAX_KEY_CHARS || !allowed(&tag.key) {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if tag.value.chars().count() > MAX_VALUE_CHARS || !allowed(&tag.value) {
            return Err(invalid_tag("The TagValue you have provided is invalid"));
        }
        if tag.key.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid_tag("Your TagKey cannot be prefixed with aws:"));
        }
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    Ok(())
}

/// The `x-amz-tagging` header (`k1=v1&k2=v2`, URL-encoded), validated; empty when absent.
pub fn from_header(parts: &Parts) -> S3Result<Vec<Tag>> {
    let Some(value) = headers::get(parts, "x-amz-tagging") else {
        return Ok(Vec::new());
    };
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(&text.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| invalid_tag("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."))
    };
    let mut tags = Vec::new();
    for pair in value.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        tags.push(Tag {
            key: decode(key)?,
            value: decode(value)?,
        });
    }
    validate(&tags, MAX_OBJECT_TAGS)?;
    Ok(tags)
}

/// POST Object's `tagging` form field: a `Tagging` document, validated as PutObjectTagging's.
pub fn from_form_field(document: &str) -> S3Result<Vec<Tag>> {
    parse_tagging(document.as_bytes(), MAX_OBJECT_TAGS)
}

fn parse_tagging(body: &[u8], max_tags: usize) -> S3Result<Vec<Tag>> {
    let malformed = || S3Error::new(S3ErrorCode::MalformedXML);
    let root = parse_document(body).map_err(|_| malformed())?;
    if root.name != "Tagging" {
        return Err(malformed());
    }
    let tag_set = root.child("TagSet").ok_or_else(malformed)?;
    let mut tags = Vec::new();
    for tag in tag_set.children_named("Tag") {
        tags.push(Tag {
            key: tag.child_text("Key").ok_or_else(malformed)?.to_string(),
            value: tag.child_text("Value").unwrap_or_default().to_string(),
        });
    }
    validate(&tags, max_tags)?;
    Ok(tags)
}

/// A `Tagging` document, its tags in key order (as S3 returns them).
fn tagging_document(tags: &[Tag]) -> String {
    let mut sorted: Vec<&Tag> = tags.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut w = XmlWriter::new();
    w.root("Tagging").open("TagSet");
    for tag in sorted {
        w.open("Tag")
            .element("Key", &tag.key)
            .element("Value", &tag.value)
            .close("Tag");
    }
    w.close("TagSet").close("Tagging");
    w.finish()
}

async fn read_tagging(
    parts: &Parts,
    body: &mut RequestBody,
    max_tags: usize,
) -> S3Result<Vec<Tag>> {
    let document = body.read_small(MAX_TAGGING_BODY).await?;
    verify_small_body(parts, &document)?;
    parse_tagging(&document, max_tags)
}

pub async fn get_object(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let object = ctx
        .open_object(bucket, key, target.version_id.as_deref())
        .await?;
    let mut response = xml_response(tagging_document(&object.info.metadata.tags));
    super::support::upload::insert_read_version(
        response.headers_mut(),
        target.version_id.as_deref(),
        &object.info.version_id,
    );
    Ok(response)
}

pub async fn put_object(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let parts = req.parts;
    let body = &mut *req.body;
    let tags = read_tagging(parts, body, MAX_OBJECT_TAGS).await?;
    ctx.store
        .update_metadata(bucket, key, target.version_id.as_deref(), |m| {
            m.tags = tags;
            Ok(())
        })
        .await
        .for_key(bucket, key)?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn delete_object(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    ctx.store
        .update_metadata(bucket, key, target.version_id.as_deref(), |m| {
            m.tags.clear();
            Ok(())
        })
        .await
        .for_key(bucket, key)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn get_bucket(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let tags = ctx.store.bucket_tags(bucket).await.for_bucket(bucket)?;
    match tags {
        Some(tags) => Ok(xml_response(tagging_document(&tags))),
        None => Err(S3Error::new(S3ErrorCode::NoSuchTagSet).detail("BucketName", bucket)),
    }
}

pub async fn put_bucket(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let parts = req.parts;
    let body = &mut *req.body;
    ctx.require_bucket(bucket).await?;
    let tags = read_tagging(parts, body, MAX_BUCKET_TAGS).await?;
    ctx.store
        .set_bucket_tags(bucket, Some(tags))
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn delete_bucket(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    ctx.store
        .set_bucket_tags(bucket, None)
        .await
        .for_bucket(bucket)?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn limits() {
        assert!(validate(&[tag("a", ""), tag("b c", "x+y=z @/:.-_")], 10).is_ok());
        let eleven: Vec<Tag> = (0..11).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(validate(&eleven, 10).is_err());
        assert!(validate(&eleven, 50).is_ok());
        assert!(validate(&[tag("", "v")], 10).is_err());
        assert!(validate(&[tag(&"k".repeat(129), "v")], 10).is_err());
        assert!(validate(&[tag("k", &"v".repeat(257))], 10).is_err());
        assert!(validate(&[tag("aws:x", "v")], 10).is_err());
        assert!(validate(&[tag("a", "1"), tag("a", "2")], 10).is_err());
        assert!(validate(&[tag("a", "semi;colon")], 10).is_err());
    }

    #[test]
    fn tagging_documents() {
        let doc = br#"<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag></TagSet></Tagging>"#;
        assert_eq!(
            parse_tagging(doc, 10).unwrap(),
            vec![tag("a", "1"), tag("b", "")]
        );
        assert!(parse_tagging(b"<Tagging/>", 10).is_err());
        assert!(parse_tagging(b"<Other><TagSet/></Other>", 10).is_err());
        let round = parse_tagging(tagging_document(&[tag("k", "v & w")]).as_bytes(), 10);
        assert!(round.is_err(), "& is not an allowed tag character");
        let round = parse_tagging(tagging_document(&[tag("k", "v")]).as_bytes(), 10).unwrap();
        assert_eq!(round, vec![tag("k", "v")]);
    }
}
