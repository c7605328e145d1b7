//! `x-amz-copy-source` (CopyObject, UploadPartCopy) and `x-amz-copy-source-range`.

use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use http::request::Parts;
use percent_encoding::percent_decode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    pub bucket: String,
    pub key: String,
    /// `?versionId=`: copy that version rather than the latest.
    pub version_id: Option<String>,
}

fn invalid(message: &str) -> S3Error {
    S3Error::invalid_argument(message).detail("ArgumentName", "x-amz-copy-source")
}

/// Parses `bucket/key`, `/bucket/key`, either URL-encoded or raw, with an optional `?versionId=`.
/// Bytes that are not UTF-8 after decoding are read as Latin-1 (what Node sends for `ü`).
pub fn parse(parts: &Parts) -> S3Result<CopySource> {
    let raw = parts
        .headers
        .get("x-amz-copy-source")
        .map(|v| v.as_bytes())
        .ok_or_else(|| {
            invalid("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
        })?;
    // A raw `?` starts the query; an encoded one (%3F) belongs to the key.
    let (path, query) = match raw.iter().position(|&b| b == b'?') {
        Some(i) => (&raw[..i], Some(&raw[i + 1..])),
        None => (raw, None),
    };
    let mut version_id = None;
    if let Some(query) = query {
        let query = String::from_utf8_lossy(query);
        if let Some(version) = query.split('&').find_map(|p| p.strip_prefix("versionId=")) {
            if !crate::storage::versions::is_valid_id(version) {
                return Err(S3Error::invalid_argument("Invalid version id specified")
                    .detail("ArgumentName", "versionId"));
            }
            version_id = Some(version.to_string());
        }
    }
    let decoded: Vec<u8> = percent_decode(path).collect();
    let text = match String::from_utf8(decoded) {
        Ok(text) => text,
        Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
    };
    let text = text.strip_prefix('/').unwrap_or(&text);
    match text.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok(CopySource {
            bucket: bucket.to_string(),
            key: key.to_string(),
            version_id,
        }),
        _ => Err(invalid(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )),
    }
}

/// `x-amz-copy-source-range: bytes=first-last` against a source of `size` bytes: the start and
/// length to copy. Absent → the whole object.
pub fn range(parts: &Parts, size: u64) -> S3Result<(u64, u64)> {
    let Some(value) = parts.headers.get("x-amz-copy-source-range") else {
        return Ok((0, size));
    };
    let malformed = || {
        S3Error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
        .detail("ArgumentName", "x-amz-copy-source-range")
    };
    let text = value.to_str().map_err(|_| malformed())?.trim();
    let (first, last) = text
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(malformed)?;
    let first: u64 = first.trim().parse().map_err(|_| malformed())?;
    let last: u64 = last.trim().parse().map_err(|_| malformed())?;
    if first > last {
        return Err(malformed());
    }
    if last >= size {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRange,
            format!("Range specified is not valid for source object of size: {size}"),
        ));
    }
    Ok((first, last - first + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(copy_source: &[u8], range: Option<&str>) -> Parts {
        let mut builder = http::Request::builder().header("x-amz-copy-source", copy_source);
        if let Some(r) = range {
            builder = builder.header("x-amz-copy-source-range", r);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn source(bucket: &str, key: &str) -> CopySource {
        CopySource {
            bucket: bucket.into(),
            key: key.into(),
            version_id: None,
        }
    }

    #[test]
    fn copy_source_forms() {
        assert_eq!(
            parse(&parts(b"b/dir/a b+c.txt", None)).unwrap(),
            source("b", "dir/a b+c.txt")
        );
        assert_eq!(parse(&parts(b"/b/k", None)).unwrap(), source("b", "k"));
        assert_eq!(
            parse(&parts(b"b%2Fdir%2Fa%20b%2Bc.txt", None)).unwrap(),
            source("b", "dir/a b+c.txt")
        );
        assert_eq!(
            parse(&parts(b"b/k?versionId=null", None))
                .unwrap()
                .version_id
                .as_deref(),
            Some("null")
        );
        assert_eq!(
            parse(&parts(b"b/what%3F", None)).unwrap(),
            source("b", "what?")
        );
        assert_eq!(
            parse(&parts(b"b/\xfc.txt", None)).unwrap(),
            source("b", "ü.txt")
        );
        assert!(parse(&parts(b"b/k?versionId=abc", None)).is_err());
        assert!(parse(&parts(b"bucket-only", None)).is_err());
        assert!(parse(&parts(b"/b/", None)).is_err());
    }

    #[test]
    fn copy_ranges() {
        let p = |r| parts(b"b/k", Some(r));
        assert_eq!(range(&parts(b"b/k", None), 10).unwrap(), (0, 10));
        assert_eq!(range(&p("bytes=0-9"), 10).unwrap(), (0, 10));
        assert_eq!(range(&p("bytes=2-4"), 10).unwrap(), (2, 3));
        assert_eq!(
            range(&p("bytes=5-10"), 10).unwrap_err().code,
            S3ErrorCode::InvalidRange
        );
        assert_eq!(
            range(&p("bytes=5-"), 10).unwrap_err().code,
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            range(&p("bytes=4-2"), 10).unwrap_err().code,
            S3ErrorCode::InvalidArgument
        );
    }
}
