//! Turns method + host + path + query (+ the copy-source header) into one typed [`S3Op`]: decodes
//! the path and virtual host here, and lets the operation table pick and build the operation.
//! Pure: no I/O.

use crate::handlers::operations::{self, RouteInput, S3Op};
use crate::query::Query;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use http::Method;
use percent_encoding::percent_decode_str;

/// Decodes the path once (UTF-8); `+` stays a literal plus.
fn decode_path_component(text: &str) -> S3Result<String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))
}

/// The bucket named by a virtual-hosted-style `Host` (`{bucket}.localhost[:port]` or
/// `{bucket}.{base_domain}`); `None` for path-style hosts such as `localhost` or an IP address.
pub fn bucket_from_host(host: &str, base_domain: Option<&str>) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    // Strip the port, but not from a bare IPv6 address.
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host.as_str(),
    };
    let name = name.trim_end_matches('.');
    ["localhost"]
        .into_iter()
        .chain(base_domain.map(|d| d.trim().trim_matches('.')))
        .filter(|base| !base.is_empty())
        .find_map(|base| {
            name.strip_suffix(base)
                .and_then(|rest| rest.strip_suffix('.'))
                .filter(|bucket| !bucket.is_empty())
                .map(str::to_string)
        })
}

/// The bucket a request addresses, path-style or virtual-hosted-style (for CORS, before routing).
pub fn target_bucket(
    host: Option<&str>,
    raw_path: &str,
    base_domain: Option<&str>,
) -> Option<String> {
    if let Some(bucket) = host.and_then(|h| bucket_from_host(h, base_domain)) {
        return Some(bucket);
    }
    let first = raw_path.trim_start_matches('/').split('/').next()?;
    decode_path_component(first).ok().filter(|b| !b.is_empty())
}

/// Routes a path-style request (`/`, `/{bucket}`, `/{bucket}/{key}`) to its operation, with the
/// query parameters parsed and validated.
pub fn route(
    method: &Method,
    raw_path: &str,
    query: &Query,
    has_copy_source: bool,
) -> S3Result<S3Op> {
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let (raw_bucket, raw_key) = match path.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (path, None),
    };
    let bucket = match raw_bucket {
        "" => None,
        raw => Some(decode_path_component(raw)?),
    };
    let key = match raw_key.filter(|k| !k.is_empty() && bucket.is_some()) {
        Some(raw) => Some(decode_path_component(raw)?),
        None => None,
    };
    operations::resolve(&RouteInput {
        method: method.clone(),
        bucket,
        key,
        query,
        has_copy_source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::operations::{BucketTarget, ObjectTarget, UploadTarget};
    use crate::handlers::params::PartNumber;

    fn op(method: &str, target: &str, copy: bool) -> S3Result<S3Op> {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        route(&method, path, &Query::parse(query)?, copy)
    }

    fn name(method: &str, target: &str, copy: bool) -> String {
        match op(method, target, copy) {
            Ok(op) => op.name().to_string(),
            Err(e) => format!("error {}", e.code.as_str()),
        }
    }

    #[test]
    fn routing_table() {
        let table: &[(&str, &str, bool, &str)] = &[
            ("GET", "/", false, "ListBuckets"),
            ("GET", "/?x-id=ListBuckets", false, "ListBuckets"),
            ("DELETE", "/", false, "error MethodNotAllowed"),
            ("PUT", "/b", false, "CreateBucket"),
            ("PUT", "/b/", false, "CreateBucket"),
            ("HEAD", "/b", false, "HeadBucket"),
            ("DELETE", "/b/", false, "DeleteBucket"),
            ("GET", "/b?location", false, "GetBucketLocation"),
            (
                "GET",
                "/b/?delimiter=%2F&list-type=2&prefix=",
                false,
                "ListObjectsV2",
            ),
            ("GET", "/b?marker=x", false, "ListObjects"),
            ("POST", "/b?delete=", false, "DeleteObjects"),
            ("GET", "/b?delete", false, "error MethodNotAllowed"),
            ("GET", "/b?tagging", false, "GetBucketTagging"),
            ("DELETE", "/b?tagging", false, "DeleteBucketTagging"),
            ("PUT", "/b?acl", false, "PutBucketAcl"),
            ("DELETE", "/b?acl", false, "error MethodNotAllowed"),
            ("PUT", "/b?cors", false, "PutBucketCors"),
            ("GET", "/b?versioning", false, "GetBucketVersioning"),
            (
                "GET",
                "/b?versions&key-marker=x",
                false,
                "ListObjectVersions",
            ),
            ("GET", "/b?uploads&prefix=p", false, "ListMultipartUploads"),
            ("POST", "/b?uploads", false, "error MethodNotAllowed"),
            ("POST", "/b", false, "PostObject"),
            ("PUT", "/b?policy", false, "PutBucketPolicy"),
            ("GET", "/b?policyStatus", false, "GetBucketPolicyStatus"),
            ("PUT", "/b?website", false, "error NotImplemented"),
            ("PATCH", "/b", false, "error MethodNotAllowed"),
            ("PUT", "/b/k?x-id=PutObject", false, "PutObject"),
            ("PUT", "/b/k", true, "CopyObject"),
            ("GET", "/b/k", false, "GetObject"),
            ("HEAD", "/b/k", false, "HeadObject"),
            ("DELETE", "/b/x//y/", false, "DeleteObject"),
            ("DELETE", "/b/k?versionId=null", false, "DeleteObject"),
            (
                "GET",
                "/b/k?versionId=3HL4kqtJlcpXroDTDmJ",
                false,
                "error InvalidArgument",
            ),
            ("PUT", "/b/k?tagging", false, "PutObjectTagging"),
            ("GET", "/b/k?acl", false, "GetObjectAcl"),
            ("GET", "/b/k?attributes", false, "GetObjectAttributes"),
            ("POST", "/b/k?uploads=", false, "CreateMultipartUpload"),
            ("GET", "/b/k?uploads", false, "error MethodNotAllowed"),
            (
                "PUT",
                "/b/k?partNumber=1&uploadId=U1&x-id=UploadPart",
                false,
                "UploadPart",
            ),
            (
                "PUT",
                "/b/k?partNumber=2&uploadId=U1",
                true,
                "UploadPartCopy",
            ),
            ("PUT", "/b/k?uploadId=U1", false, "error InvalidArgument"),
            (
                "PUT",
                "/b/k?partNumber=0&uploadId=U1",
                false,
                "error InvalidArgument",
            ),
            ("POST", "/b/k?uploadId=U1", false, "CompleteMultipartUpload"),
            ("DELETE", "/b/k?uploadId=U1", false, "AbortMultipartUpload"),
            ("GET", "/b/k?uploadId=U1&max-parts=2", false, "ListParts"),
            (
                "GET",
                "/b/k?uploadId=U1&max-parts=x",
                false,
                "error InvalidArgument",
            ),
            ("GET", "/b/k?torrent", false, "error NotImplemented"),
            ("PUT", "/b/k?retention", false, "PutObjectRetention"),
            ("PATCH", "/b/k", false, "error MethodNotAllowed"),
            ("GET", "/b/%FF", false, "error InvalidURI"),
            (
                "GET",
                "/b?list-type=2&max-keys=-1",
                false,
                "error InvalidArgument",
            ),
            (
                "GET",
                "/b/k?partNumber=10001",
                false,
                "error InvalidArgument",
            ),
        ];
        for (method, target, copy, expected) in table {
            assert_eq!(&name(method, target, *copy), expected, "{method} {target}");
        }
    }

    #[test]
    fn operations_carry_their_resource_and_typed_parameters() {
        assert_eq!(
            op("PUT", "/b/dir/a%20b+c%25d%20%C3%BC.txt", false).unwrap(),
            S3Op::PutObject {
                target: ObjectTarget {
                    bucket: "b".into(),
                    key: "dir/a b+c%d ü.txt".into(),
                    version_id: None,
                }
            }
        );
        assert_eq!(
            op("HEAD", "/b/..%2F..%2Fescape", false).unwrap().key(),
            Some("../../escape")
        );
        assert!(
            matches!(op("GET", "/?max-buckets=2&prefix=p", false).unwrap(),
            S3Op::ListBuckets { params, .. } if params.max_buckets == 2 && params.prefix.as_deref() == Some("p"))
        );
        assert!(
            matches!(op("GET", "/b/?delimiter=%2F&list-type=2&max-keys=5000", false).unwrap(),
            S3Op::ListObjectsV2 { params, .. } if params.delimiter.as_deref() == Some("/") && params.max_keys == 1000)
        );
        assert!(
            matches!(op("GET", "/b/k?response-content-type=text%2Fplain&partNumber=2", false).unwrap(),
            S3Op::GetObject { overrides, part_number: Some(PartNumber(2)), .. }
                if overrides.0 == vec![("content-type", "text/plain".to_string())])
        );
        assert_eq!(
            op("PUT", "/b/k?partNumber=2&uploadId=U1", true).unwrap(),
            S3Op::UploadPartCopy {
                target: UploadTarget {
                    bucket: "b".into(),
                    key: "k".into(),
                    upload_id: "U1".into()
                },
                part_number: PartNumber(2),
            }
        );
        assert_eq!(
            op("GET", "/b?location", false).unwrap(),
            S3Op::GetBucketLocation {
                target: BucketTarget { bucket: "b".into() }
            }
        );
    }

    #[test]
    fn virtual_hosts() {
        assert_eq!(
            bucket_from_host("my-bucket.localhost:3000", None).as_deref(),
            Some("my-bucket")
        );
        assert_eq!(
            bucket_from_host("My.Bucket.LOCALHOST", None).as_deref(),
            Some("my.bucket")
        );
        assert_eq!(bucket_from_host("localhost:3000", None), None);
        assert_eq!(bucket_from_host("127.0.0.1:3000", None), None);
        assert_eq!(bucket_from_host("[::1]:3000", None), None);
        assert_eq!(
            bucket_from_host("b.s3.example.test", Some("s3.example.test")).as_deref(),
            Some("b")
        );
        assert_eq!(
            bucket_from_host("s3.example.test", Some("s3.example.test")),
            None
        );
        assert_eq!(
            bucket_from_host("b.other.test", Some("s3.example.test")),
            None
        );
    }
}
