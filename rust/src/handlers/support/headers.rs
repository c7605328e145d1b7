//! Request and response header helpers shared by the object handlers.
//!
//! Stored header values keep the client's exact bytes: they are read as Latin-1 (one char per
//! byte) and written back the same way, so metadata that Node sends as Latin-1 or that curl sends
//! as UTF-8 both come back byte for byte.

use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::STORAGE_CLASS_HEADER;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::collections::BTreeMap;

/// Standard headers S3 stores with an object and returns on GET/HEAD.
pub const STORED_HEADERS: [&str; 7] = [
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
    "x-amz-website-redirect-location",
];

pub const USER_META_PREFIX: &str = "x-amz-meta-";

pub fn get<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn latin1(value: &HeaderValue) -> String {
    value.as_bytes().iter().map(|&b| b as char).collect()
}

/// The header value for a stored string: Latin-1 bytes when every char fits, else UTF-8.
pub fn to_header_value(text: &str) -> Option<HeaderValue> {
    if text.chars().all(|c| (c as u32) <= 0xff) {
        let bytes: Vec<u8> = text.chars().map(|c| c as u8).collect();
        HeaderValue::from_bytes(&bytes).ok()
    } else {
        HeaderValue::from_bytes(text.as_bytes()).ok()
    }
}

pub fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Some(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        to_header_value(value),
    ) {
        headers.insert(name, value);
    }
}

/// Removes the `aws-chunked` token from a Content-Encoding value; `None` if nothing is left.
pub fn strip_aws_chunked(value: &str) -> Option<String> {
    let kept: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

/// Records an object's storage class among its stored headers; STANDARD (or none) is what an
/// object without the header has.
pub fn set_storage_class(stored: &mut BTreeMap<String, String>, class: Option<&str>) {
    stored.remove(STORAGE_CLASS_HEADER);
    if let Some(class) = class.map(str::trim).filter(|c| *c != "STANDARD") {
        stored.insert(STORAGE_CLASS_HEADER.to_string(), class.to_string());
    }
}

/// The headers a PUT stores with the object: standard ones, `x-amz-meta-*` and the storage
/// class.
pub fn stored_headers(
    parts: &Parts,
    max_user_metadata: usize,
) -> S3Result<BTreeMap<String, String>> {
    let mut stored = BTreeMap::new();
    let mut user_metadata_size = 0usize;
    for (name, value) in &parts.headers {
        let name = name.as_str();
        if let Some(user_key) = name.strip_prefix(USER_META_PREFIX) {
            user_metadata_size += user_key.len() + value.len();
            stored.insert(name.to_string(), latin1(value));
        } else if name == STORAGE_CLASS_HEADER {
            set_storage_class(&mut stored, Some(&latin1(value)));
        } else if STORED_HEADERS.contains(&name) {
            let value = latin1(value);
            let value = if name == "content-encoding" {
                match strip_aws_chunked(&value) {
                    Some(v) => v,
                    None => continue,
                }
            } else {
                value
            };
            stored.insert(name.to_string(), value);
        }
    }
    if user_metadata_size > max_user_metadata {
        return Err(S3Error::with_message(
            S3ErrorCode::MetadataTooLarge,
            format!("Your metadata headers exceed the maximum allowed metadata size ({user_metadata_size} > {max_user_metadata} bytes)."),
        )
        .detail("Size", user_metadata_size.to_string())
        .detail("MaxSizeAllowed", max_user_metadata.to_string()));
    }
    stored
        .entry("content-type".to_string())
        .or_insert_with(|| "binary/octet-stream".to_string());
    Ok(stored)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_is_stripped() {
        assert_eq!(strip_aws_chunked("aws-chunked"), None);
        assert_eq!(strip_aws_chunked("aws-chunked, gzip"), Some("gzip".into()));
        assert_eq!(strip_aws_chunked("gzip,aws-chunked"), Some("gzip".into()));
    }

    #[test]
    fn latin1_round_trip() {
        let raw = HeaderValue::from_bytes(&[b'a', 0xfc, 0xc3, 0xbc]).unwrap();
        let text = latin1(&raw);
        assert_eq!(to_header_value(&text).unwrap().as_bytes(), raw.as_bytes());
    }
}
