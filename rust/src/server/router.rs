//! Turns method + path + query (+ the copy-source header) into one typed [`S3Op`]. Pure: no I/O.

use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::s3_op::{
    BucketListParams, ListParams, Query, ResponseOverrides, S3Op, UploadListParams, UploadTarget,
};
use http::Method;
use percent_encoding::percent_decode_str;

/// Sub-resources of a bucket that name real S3 operations not implemented here.
const BUCKET_SUBRESOURCES: &[(&str, &str)] = &[
    ("accelerate", "BucketAccelerateConfiguration"),
    ("analytics", "BucketAnalyticsConfiguration"),
    ("encryption", "BucketEncryption"),
    (
        "intelligent-tiering",
        "BucketIntelligentTieringConfiguration",
    ),
    ("inventory", "BucketInventoryConfiguration"),
    ("lifecycle", "BucketLifecycleConfiguration"),
    ("logging", "BucketLogging"),
    ("metrics", "BucketMetricsConfiguration"),
    ("notification", "BucketNotificationConfiguration"),
    ("object-lock", "ObjectLockConfiguration"),
    ("ownershipControls", "BucketOwnershipControls"),
    ("policy", "BucketPolicy"),
    ("policyStatus", "BucketPolicyStatus"),
    ("publicAccessBlock", "PublicAccessBlock"),
    ("replication", "BucketReplication"),
    ("requestPayment", "BucketRequestPayment"),
    ("website", "BucketWebsite"),
];

/// Sub-resources of an object that name real S3 operations not implemented here.
const OBJECT_SUBRESOURCES: &[(&str, &str)] = &[
    ("legal-hold", "ObjectLegalHold"),
    ("restore", "RestoreObject"),
    ("retention", "ObjectRetention"),
    ("select", "SelectObjectContent"),
    ("torrent", "GetObjectTorrent"),
];

/// Parses a raw query string: `a=1&b&c=x%20y`; `+` means space, as in form encoding.
pub fn parse_query(raw: Option<&str>) -> S3Result<Query> {
    let mut pairs = Vec::new();
    for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        pairs.push((
            decode_query_component(name)?,
            decode_query_component(value)?,
        ));
    }
    Ok(Query(pairs))
}

fn decode_query_component(text: &str) -> S3Result<String> {
    let text = text.replace('+', " ");
    percent_decode_str(&text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))
}

/// Decodes the path once (UTF-8); `+` stays a literal plus.
fn decode_path_component(text: &str) -> S3Result<String> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))
}

fn not_implemented(method: &Method, what: &str) -> S3Error {
    S3Error::not_implemented(&format!("{what} ({method})"))
}

fn method_not_allowed(method: &Method, resource: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::MethodNotAllowed,
        format!(
            "The specified method is not allowed against this resource: {method} on {resource}"
        ),
    )
    .detail("Method", method.as_str())
    .detail("ResourceType", resource)
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

/// Routes a path-style request (`/`, `/{bucket}`, `/{bucket}/{key}`).
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
    if raw_bucket.is_empty() {
        return match *method {
            Method::GET => Ok(S3Op::ListBuckets {
                params: BucketListParams::from_query(query),
            }),
            _ => Err(method_not_allowed(method, "SERVICE")),
        };
    }
    let bucket = decode_path_component(raw_bucket)?;
    match raw_key.filter(|k| !k.is_empty()) {
        None => route_bucket(method, bucket, query),
        Some(raw_key) => {
            let key = decode_path_component(raw_key)?;
            route_object(method, bucket, key, query, has_copy_source)
        }
    }
}

fn route_bucket(method: &Method, bucket: String, query: &Query) -> S3Result<S3Op> {
    if query.has("location") {
        return match *method {
            Method::GET => Ok(S3Op::GetBucketLocation { bucket }),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if query.has("delete") {
        return match *method {
            Method::POST => Ok(S3Op::DeleteObjects { bucket }),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if query.has("tagging") {
        return match *method {
            Method::GET => Ok(S3Op::GetBucketTagging { bucket }),
            Method::PUT => Ok(S3Op::PutBucketTagging { bucket }),
            Method::DELETE => Ok(S3Op::DeleteBucketTagging { bucket }),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if query.has("acl") {
        return match *method {
            Method::GET => Ok(S3Op::GetBucketAcl { bucket }),
            Method::PUT => Ok(S3Op::PutBucketAcl { bucket }),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if query.has("cors") {
        return match *method {
            Method::GET => Ok(S3Op::GetBucketCors { bucket }),
            Method::PUT => Ok(S3Op::PutBucketCors { bucket }),
            Method::DELETE => Ok(S3Op::DeleteBucketCors { bucket }),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if query.has("versioning") {
        return match *method {
            Method::GET => Ok(S3Op::GetBucketVersioning { bucket }),
            Method::PUT => Ok(S3Op::PutBucketVersioning { bucket }),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if query.has("versions") {
        return match *method {
            Method::GET => Ok(S3Op::ListObjectVersions {
                bucket,
                params: ListParams::from_query(query),
            }),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if query.has("uploads") {
        return match *method {
            Method::GET => Ok(S3Op::ListMultipartUploads {
                bucket,
                params: UploadListParams::from_query(query),
            }),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if let Some((_, name)) = BUCKET_SUBRESOURCES.iter().find(|(sub, _)| query.has(sub)) {
        return Err(not_implemented(method, name));
    }
    match *method {
        Method::PUT => Ok(S3Op::CreateBucket { bucket }),
        Method::HEAD => Ok(S3Op::HeadBucket { bucket }),
        Method::DELETE => Ok(S3Op::DeleteBucket { bucket }),
        Method::GET => {
            let params = ListParams::from_query(query);
            if query.get("list-type") == Some("2") {
                Ok(S3Op::ListObjectsV2 { bucket, params })
            } else {
                Ok(S3Op::ListObjects { bucket, params })
            }
        }
        Method::POST => Ok(S3Op::PostObject { bucket }),
        _ => Err(method_not_allowed(method, "BUCKET")),
    }
}

fn route_object(
    method: &Method,
    bucket: String,
    key: String,
    query: &Query,
    has_copy_source: bool,
) -> S3Result<S3Op> {
    if let Some((_, name)) = OBJECT_SUBRESOURCES.iter().find(|(sub, _)| query.has(sub)) {
        return Err(not_implemented(method, name));
    }
    // Buckets are never versioned here: the only version of an object is "null".
    if query.get("versionId").is_some_and(|v| v != "null") {
        return Err(S3Error::invalid_argument("Invalid version id specified")
            .detail("ArgumentName", "versionId")
            .detail("ArgumentValue", query.get("versionId").unwrap_or_default()));
    }
    if query.has("tagging") {
        return match *method {
            Method::GET => Ok(S3Op::GetObjectTagging { bucket, key }),
            Method::PUT => Ok(S3Op::PutObjectTagging { bucket, key }),
            Method::DELETE => Ok(S3Op::DeleteObjectTagging { bucket, key }),
            _ => Err(method_not_allowed(method, "OBJECT")),
        };
    }
    if query.has("acl") {
        return match *method {
            Method::GET => Ok(S3Op::GetObjectAcl { bucket, key }),
            Method::PUT => Ok(S3Op::PutObjectAcl { bucket, key }),
            _ => Err(method_not_allowed(method, "OBJECT")),
        };
    }
    if query.has("attributes") {
        return match *method {
            Method::GET => Ok(S3Op::GetObjectAttributes { bucket, key }),
            _ => Err(method_not_allowed(method, "OBJECT")),
        };
    }
    if query.has("uploads") {
        return match *method {
            Method::POST => Ok(S3Op::CreateMultipartUpload { bucket, key }),
            _ => Err(method_not_allowed(method, "OBJECT")),
        };
    }
    if let Some(upload_id) = query.get("uploadId") {
        let target = UploadTarget {
            bucket,
            key,
            upload_id: upload_id.to_string(),
        };
        return match (method.clone(), query.get("partNumber")) {
            (Method::PUT, Some(part)) if has_copy_source => Ok(S3Op::UploadPartCopy {
                target,
                part_number: part.to_string(),
            }),
            (Method::PUT, Some(part)) => Ok(S3Op::UploadPart {
                target,
                part_number: part.to_string(),
            }),
            (Method::PUT, None) => Err(S3Error::invalid_argument("UploadPart needs a partNumber")
                .detail("ArgumentName", "partNumber")),
            (Method::POST, _) => Ok(S3Op::CompleteMultipartUpload { target }),
            (Method::DELETE, _) => Ok(S3Op::AbortMultipartUpload { target }),
            (Method::GET, _) => Ok(S3Op::ListParts {
                target,
                max_parts: query.get("max-parts").map(str::to_string),
                part_number_marker: query.get("part-number-marker").map(str::to_string),
            }),
            _ => Err(method_not_allowed(method, "OBJECT")),
        };
    }
    match *method {
        Method::PUT if has_copy_source => Ok(S3Op::CopyObject { bucket, key }),
        Method::PUT => Ok(S3Op::PutObject { bucket, key }),
        Method::GET => Ok(S3Op::GetObject {
            bucket,
            key,
            overrides: ResponseOverrides::from_query(query),
            part_number: query.get("partNumber").map(str::to_string),
        }),
        Method::HEAD => Ok(S3Op::HeadObject {
            bucket,
            key,
            overrides: ResponseOverrides::from_query(query),
            part_number: query.get("partNumber").map(str::to_string),
        }),
        Method::DELETE => Ok(S3Op::DeleteObject { bucket, key }),
        _ => Err(method_not_allowed(method, "OBJECT")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: Method, target: &str) -> S3Result<S3Op> {
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (target, None),
        };
        route(&method, path, &parse_query(query)?, false)
    }

    fn obj(bucket: &str, key: &str) -> (String, String) {
        (bucket.to_string(), key.to_string())
    }

    #[test]
    fn routing_table() {
        let list_buckets = S3Op::ListBuckets {
            params: Default::default(),
        };
        assert_eq!(op(Method::GET, "/").unwrap(), list_buckets);
        assert_eq!(op(Method::GET, "/?x-id=ListBuckets").unwrap(), list_buckets);
        assert!(
            matches!(op(Method::GET, "/?max-buckets=2&prefix=p").unwrap(),
            S3Op::ListBuckets { params } if params.max_buckets.as_deref() == Some("2"))
        );
        for target in ["/b", "/b/"] {
            assert_eq!(
                op(Method::PUT, target).unwrap(),
                S3Op::CreateBucket { bucket: "b".into() }
            );
            assert_eq!(
                op(Method::HEAD, target).unwrap(),
                S3Op::HeadBucket { bucket: "b".into() }
            );
            assert_eq!(
                op(Method::DELETE, target).unwrap(),
                S3Op::DeleteBucket { bucket: "b".into() }
            );
        }
        assert_eq!(
            op(Method::GET, "/b?location").unwrap(),
            S3Op::GetBucketLocation { bucket: "b".into() }
        );
        assert!(
            matches!(op(Method::GET, "/b/?delimiter=%2F&list-type=2&prefix=").unwrap(),
            S3Op::ListObjectsV2 { params, .. } if params.delimiter.as_deref() == Some("/") && params.prefix.as_deref() == Some(""))
        );
        assert!(
            matches!(op(Method::GET, "/b?marker=x").unwrap(), S3Op::ListObjects { params, .. } if params.marker.as_deref() == Some("x"))
        );
        let (b, k) = obj("b", "dir/a b+c%d ü.txt");
        assert_eq!(
            op(
                Method::PUT,
                "/b/dir/a%20b+c%25d%20%C3%BC.txt?x-id=PutObject"
            )
            .unwrap(),
            S3Op::PutObject { bucket: b, key: k }
        );
        assert_eq!(
            op(Method::DELETE, "/b/x//y/").unwrap(),
            S3Op::DeleteObject {
                bucket: "b".into(),
                key: "x//y/".into()
            }
        );
        assert!(
            matches!(op(Method::GET, "/b/k?response-content-type=text%2Fplain").unwrap(),
            S3Op::GetObject { overrides, .. } if overrides.0 == vec![("content-type", "text/plain".to_string())])
        );
        assert_eq!(
            op(Method::HEAD, "/b/..%2F..%2Fescape").unwrap(),
            S3Op::HeadObject {
                bucket: "b".into(),
                key: "../../escape".into(),
                overrides: Default::default(),
                part_number: None,
            }
        );
        let (b, k) = obj("b", "k");
        assert_eq!(
            route(&Method::PUT, "/b/k", &Query::default(), true).unwrap(),
            S3Op::CopyObject {
                bucket: b.clone(),
                key: k.clone()
            }
        );
        assert_eq!(
            op(Method::POST, "/b?delete=").unwrap(),
            S3Op::DeleteObjects { bucket: b.clone() }
        );
        assert_eq!(
            op(Method::PUT, "/b/k?tagging").unwrap(),
            S3Op::PutObjectTagging {
                bucket: b.clone(),
                key: k.clone()
            }
        );
        assert_eq!(
            op(Method::DELETE, "/b?tagging").unwrap(),
            S3Op::DeleteBucketTagging { bucket: b.clone() }
        );
        assert_eq!(
            op(Method::GET, "/b?versioning").unwrap(),
            S3Op::GetBucketVersioning { bucket: b.clone() }
        );
        assert!(
            matches!(op(Method::GET, "/b?versions&key-marker=x").unwrap(),
            S3Op::ListObjectVersions { params, .. } if params.key_marker.as_deref() == Some("x"))
        );
        assert_eq!(
            op(Method::GET, "/b/k?attributes").unwrap(),
            S3Op::GetObjectAttributes {
                bucket: b.clone(),
                key: k.clone()
            }
        );
        assert_eq!(
            op(Method::DELETE, "/b/k?versionId=null").unwrap(),
            S3Op::DeleteObject { bucket: b, key: k }
        );
        assert!(matches!(op(Method::GET, "/b/k?partNumber=2").unwrap(),
            S3Op::GetObject { part_number: Some(n), .. } if n == "2"));
    }

    #[test]
    fn multipart_routes() {
        let target = UploadTarget {
            bucket: "b".into(),
            key: "k".into(),
            upload_id: "U1".into(),
        };
        assert_eq!(
            op(Method::POST, "/b/k?uploads=").unwrap(),
            S3Op::CreateMultipartUpload {
                bucket: "b".into(),
                key: "k".into()
            }
        );
        assert_eq!(
            op(Method::PUT, "/b/k?partNumber=1&uploadId=U1&x-id=UploadPart").unwrap(),
            S3Op::UploadPart {
                target: target.clone(),
                part_number: "1".into()
            }
        );
        assert_eq!(
            route(
                &Method::PUT,
                "/b/k",
                &parse_query(Some("partNumber=2&uploadId=U1")).unwrap(),
                true
            )
            .unwrap(),
            S3Op::UploadPartCopy {
                target: target.clone(),
                part_number: "2".into()
            }
        );
        assert_eq!(
            op(Method::POST, "/b/k?uploadId=U1").unwrap(),
            S3Op::CompleteMultipartUpload {
                target: target.clone()
            }
        );
        assert_eq!(
            op(Method::DELETE, "/b/k?uploadId=U1").unwrap(),
            S3Op::AbortMultipartUpload {
                target: target.clone()
            }
        );
        assert!(
            matches!(op(Method::GET, "/b/k?uploadId=U1&max-parts=2").unwrap(), S3Op::ListParts { max_parts: Some(m), .. } if m == "2")
        );
        assert!(
            matches!(op(Method::GET, "/b?uploads&prefix=p").unwrap(), S3Op::ListMultipartUploads { params, .. } if params.prefix.as_deref() == Some("p"))
        );
    }

    #[test]
    fn unsupported_and_invalid() {
        assert_eq!(
            op(Method::PUT, "/b?policy").unwrap_err().code,
            S3ErrorCode::NotImplemented
        );
        assert_eq!(
            op(Method::GET, "/b/k?versionId=3HL4kqtJlcpXroDTDmJ")
                .unwrap_err()
                .code,
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            op(Method::GET, "/b/k?uploads").unwrap_err().code,
            S3ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            op(Method::PUT, "/b/k?retention").unwrap_err().code,
            S3ErrorCode::NotImplemented
        );
        assert_eq!(
            op(Method::PATCH, "/b/k").unwrap_err().code,
            S3ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            op(Method::DELETE, "/").unwrap_err().code,
            S3ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            op(Method::GET, "/b/%FF").unwrap_err().code,
            S3ErrorCode::InvalidURI
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

    #[test]
    fn query_decoding() {
        let q = parse_query(Some("prefix=a+b%2Bc&uploads&x=")).unwrap();
        assert_eq!(q.get("prefix"), Some("a b+c"));
        assert!(q.has("uploads"));
        assert_eq!(q.get("x"), Some(""));
    }
}
