//! Typed query parameters: parsed and validated once, when the router builds an operation, with
//! the S3 error a bad value deserves. Handlers receive the typed values, never raw strings.

pub use crate::query::Query;
use crate::s3_error::{S3Error, S3Result};

fn invalid(name: &str, value: &str, message: impl Into<String>) -> S3Error {
    S3Error::invalid_argument(message)
        .detail("ArgumentName", name)
        .detail("ArgumentValue", value)
}

/// A non-negative count parameter (`max-keys`, `max-parts`, …): `default` when absent, at most `cap`.
pub fn parse_count(query: &Query, name: &str, default: usize, cap: usize) -> S3Result<usize> {
    match query.get(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX).min(cap))
            .ok_or_else(|| {
                invalid(
                    name,
                    raw,
                    format!("Provided {name} not an integer or within integer range"),
                )
            }),
    }
}

/// `encoding-type`: absent (or empty), or `url`.
fn url_encoding(query: &Query) -> S3Result<bool> {
    match query.get("encoding-type") {
        None | Some("") => Ok(false),
        Some(e) if e.eq_ignore_ascii_case("url") => Ok(true),
        Some(other) => Err(invalid(
            "encoding-type",
            other,
            "Invalid Encoding Method specified in Request",
        )),
    }
}

/// A part number, 1 to 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartNumber(pub u32);

impl PartNumber {
    pub const MAX: u32 = 10_000;

    /// `partNumber` where it is optional (GetObject, HeadObject).
    pub fn optional(query: &Query) -> S3Result<Option<Self>> {
        let Some(raw) = query.get("partNumber") else {
            return Ok(None);
        };
        raw.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=Self::MAX).contains(n))
            .map(|n| Some(Self(n)))
            .ok_or_else(|| {
                invalid(
                    "partNumber",
                    raw,
                    "Part number must be an integer between 1 and 10000, inclusive",
                )
            })
    }

    /// `partNumber` where it is required (UploadPart, UploadPartCopy).
    pub fn required(query: &Query) -> S3Result<Self> {
        Self::optional(query)?.ok_or_else(|| {
            S3Error::invalid_argument("UploadPart needs a partNumber")
                .detail("ArgumentName", "partNumber")
        })
    }

    /// Zero-based position among an object's parts.
    pub fn index(self) -> usize {
        self.0 as usize - 1
    }
}

/// Parameters of ListObjects (v1), ListObjectsV2 and ListObjectVersions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    pub prefix: String,
    /// `None` when absent or empty.
    pub delimiter: Option<String>,
    /// At most 1000 (larger values are capped, as S3 does).
    pub max_keys: usize,
    /// `encoding-type=url`.
    pub url_encoding: bool,
    /// v1 only.
    pub marker: Option<String>,
    /// v2 only, as sent, empty included (decoded by the handler).
    pub continuation_token: Option<String>,
    /// v2 only.
    pub start_after: Option<String>,
    /// v2 only.
    pub fetch_owner: bool,
    /// ListObjectVersions only.
    pub key_marker: Option<String>,
    /// ListObjectVersions only.
    pub version_id_marker: Option<String>,
}

pub const MAX_LISTED_KEYS: usize = 1000;

impl ListParams {
    pub fn parse(query: &Query) -> S3Result<Self> {
        Ok(Self {
            prefix: query.get("prefix").unwrap_or_default().to_string(),
            delimiter: query.non_empty("delimiter"),
            max_keys: parse_count(query, "max-keys", MAX_LISTED_KEYS, MAX_LISTED_KEYS)?,
            url_encoding: url_encoding(query)?,
            marker: query.non_empty("marker"),
            continuation_token: query.get("continuation-token").map(str::to_string),
            start_after: query.non_empty("start-after"),
            fetch_owner: query.get("fetch-owner") == Some("true"),
            key_marker: query.non_empty("key-marker"),
            version_id_marker: query.non_empty("version-id-marker"),
        })
    }
}

/// Parameters of ListBuckets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketListParams {
    /// 1 to 10,000; 10,000 when absent.
    pub max_buckets: usize,
    pub continuation_token: Option<String>,
    pub prefix: Option<String>,
    pub bucket_region: Option<String>,
}

impl BucketListParams {
    pub const MAX: usize = 10_000;

    pub fn parse(query: &Query) -> S3Result<Self> {
        let max_buckets = match query.get("max-buckets") {
            None => Self::MAX,
            Some(raw) => raw
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=Self::MAX).contains(n))
                .ok_or_else(|| {
                    invalid(
                        "max-buckets",
                        raw,
                        "Argument max-buckets must be an integer between 1 and 10000",
                    )
                })?,
        };
        Ok(Self {
            max_buckets,
            continuation_token: query.non_empty("continuation-token"),
            prefix: query.get("prefix").map(str::to_string),
            bucket_region: query.get("bucket-region").map(str::to_string),
        })
    }
}

/// Parameters of ListMultipartUploads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadListParams {
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: String,
    /// Only together with a key marker.
    pub upload_id_marker: Option<String>,
    pub max_uploads: usize,
    pub url_encoding: bool,
}

pub const MAX_LISTED_UPLOADS: usize = 1000;

impl UploadListParams {
    pub fn parse(query: &Query) -> S3Result<Self> {
        let key_marker = query.get("key-marker").unwrap_or_default().to_string();
        Ok(Self {
            prefix: query.get("prefix").unwrap_or_default().to_string(),
            delimiter: query.non_empty("delimiter"),
            upload_id_marker: query
                .get("upload-id-marker")
                .filter(|_| !key_marker.is_empty())
                .map(str::to_string),
            key_marker,
            max_uploads: parse_count(query, "max-uploads", MAX_LISTED_UPLOADS, MAX_LISTED_UPLOADS)?,
            url_encoding: url_encoding(query)?,
        })
    }
}

/// Parameters of ListParts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartListParams {
    pub max_parts: usize,
    /// List the parts after this number.
    pub part_number_marker: u64,
}

pub const MAX_LISTED_PARTS: usize = 1000;

impl PartListParams {
    pub fn parse(query: &Query) -> S3Result<Self> {
        Ok(Self {
            max_parts: parse_count(query, "max-parts", MAX_LISTED_PARTS, MAX_LISTED_PARTS)?,
            part_number_marker: parse_count(query, "part-number-marker", 0, usize::MAX)? as u64,
        })
    }
}

/// Response header overrides of a GET (`response-content-type=…` etc.).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseOverrides(pub Vec<(&'static str, String)>);

impl ResponseOverrides {
    const PARAMS: [(&'static str, &'static str); 6] = [
        ("response-content-type", "content-type"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
    ];

    pub fn from_query(query: &Query) -> Self {
        Self(
            Self::PARAMS
                .iter()
                .filter_map(|(param, header)| query.get(param).map(|v| (*header, v.to_string())))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Query {
        Query(
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn counts_and_part_numbers() {
        let q = query(&[("max-keys", "5000"), ("partNumber", "7")]);
        assert_eq!(parse_count(&q, "max-keys", 1000, 1000).unwrap(), 1000);
        assert_eq!(parse_count(&q, "absent", 3, 1000).unwrap(), 3);
        assert_eq!(PartNumber::optional(&q).unwrap(), Some(PartNumber(7)));
        for bad in ["0", "10001", "-1", "x", ""] {
            assert!(
                PartNumber::required(&query(&[("partNumber", bad)])).is_err(),
                "{bad}"
            );
        }
        for bad in ["-1", "x", ""] {
            assert!(parse_count(&query(&[("max-keys", bad)]), "max-keys", 1, 1).is_err());
        }
        assert!(PartNumber::required(&Query::default()).is_err());
        assert_eq!(PartNumber::optional(&Query::default()).unwrap(), None);
    }

    #[test]
    fn listing_parameters() {
        let p = ListParams::parse(&query(&[
            ("delimiter", ""),
            ("encoding-type", "URL"),
            ("prefix", "a/"),
        ]))
        .unwrap();
        assert_eq!(p.delimiter, None);
        assert!(p.url_encoding);
        assert_eq!(p.prefix, "a/");
        assert_eq!(p.max_keys, MAX_LISTED_KEYS);
        assert!(ListParams::parse(&query(&[("encoding-type", "base64")])).is_err());
        assert!(BucketListParams::parse(&query(&[("max-buckets", "0")])).is_err());
        let u = UploadListParams::parse(&query(&[("upload-id-marker", "u")])).unwrap();
        assert_eq!(
            u.upload_id_marker, None,
            "an upload-id marker needs a key marker"
        );
    }
}
