//! AWS Signature Version 2 for S3: `Authorization: AWS key:signature` and query-string
//! authentication (`AWSAccessKeyId`, `Expires`, `Signature`).

use hmac::{Hmac, Mac};
use sha1::Sha1;

type HmacSha1 = Hmac<Sha1>;

/// Sub-resources that belong to the canonicalized resource, as S3 lists them.
const SUB_RESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
    "ownershipControls",
];

/// `Authorization: AWS <key>:<base64 signature>`.
pub fn parse_header(value: &str) -> Option<(String, String)> {
    let rest = value.trim().strip_prefix("AWS ")?;
    let (key, signature) = rest.trim().split_once(':')?;
    (!key.is_empty() && !signature.is_empty()).then(|| (key.to_string(), signature.to_string()))
}

/// `x-amz-*` headers, lower-cased, sorted, values trimmed and joined with `,`.
fn canonical_amz_headers(headers: &http::HeaderMap) -> String {
    let mut names: Vec<&str> = headers
        .keys()
        .map(|k| k.as_str())
        .filter(|k| k.starts_with("x-amz-"))
        .collect();
    names.sort();
    names.dedup();
    names
        .iter()
        .map(|name| {
            let values: Vec<String> = headers
                .get_all(*name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
                .collect();
            format!("{name}:{}\n", values.join(","))
        })
        .collect()
}

/// The canonicalized resource: `/bucket/key` plus the sub-resources present, sorted.
fn canonical_resource(
    vhost_bucket: Option<&str>,
    raw_path: &str,
    query: &[(String, String)],
) -> String {
    let mut resource = match vhost_bucket {
        Some(bucket) => format!("/{bucket}{raw_path}"),
        None => raw_path.to_string(),
    };
    let mut subs: Vec<&(String, String)> = query
        .iter()
        .filter(|(n, _)| SUB_RESOURCES.contains(&n.as_str()))
        .collect();
    subs.sort_by(|a, b| a.0.cmp(&b.0));
    for (i, (name, value)) in subs.iter().enumerate() {
        resource.push(if i == 0 { '?' } else { '&' });
        resource.push_str(name);
        if !value.is_empty() {
            resource.push('=');
            resource.push_str(value);
        }
    }
    resource
}

pub struct StringToSignInput<'a> {
    pub method: &'a str,
    pub headers: &'a http::HeaderMap,
    /// The Date header's value, `""` when `x-amz-date` is used, or `Expires` for query auth.
    pub date_or_expires: &'a str,
    pub vhost_bucket: Option<&'a str>,
    pub raw_path: &'a str,
    pub query: &'a [(String, String)],
}

pub fn string_to_sign(input: &StringToSignInput<'_>) -> String {
    let header = |name: &str| {
        input
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
            .unwrap_or_default()
    };
    format!(
        "{}\n{}\n{}\n{}\n{}{}",
        input.method,
        header("content-md5"),
        header("content-type"),
        input.date_or_expires,
        canonical_amz_headers(input.headers),
        canonical_resource(input.vhost_bucket, input.raw_path, input.query)
    )
}

/// Compares `base64(HMAC-SHA1(secret, string_to_sign))` with the provided signature in constant time.
pub fn signature_matches(secret: &str, string_to_sign: &str, provided_base64: &str) -> bool {
    let Some(provided) = crate::checksum::base64_decode(provided_base64) else {
        return false;
    };
    let mut mac = HmacSha1::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
    mac.update(string_to_sign.as_bytes());
    mac.verify_slice(&provided).is_ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sign(secret: &str, string_to_sign: &str) -> String {
        let mut mac = HmacSha1::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(string_to_sign.as_bytes());
        crate::checksum::base64_encode(&mac.finalize().into_bytes())
    }

    // The examples of Amazon's "Signing and Authenticating REST Requests" (Signature Version 2).
    #[test]
    fn aws_example_object_get() {
        let mut h = http::HeaderMap::new();
        h.insert("host", "johnsmith.s3.amazonaws.com".parse().unwrap());
        h.insert("date", "Tue, 27 Mar 2007 19:36:42 +0000".parse().unwrap());
        let to_sign = string_to_sign(&StringToSignInput {
            method: "GET",
            headers: &h,
            date_or_expires: "Tue, 27 Mar 2007 19:36:42 +0000",
            vhost_bucket: Some("johnsmith"),
            raw_path: "/photos/puppy.jpg",
            query: &[],
        });
        assert_eq!(
            to_sign,
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg"
        );
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        assert_eq!(sign(secret, &to_sign), "bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
        assert!(signature_matches(
            secret,
            &to_sign,
            "bWq2s1WEIj+Ydj0vQ697zp+IXMU="
        ));
        assert!(!signature_matches(
            secret,
            &to_sign,
            "bWq2s1WEIj+Ydj0vQ697zp+IXMV="
        ));
    }

    #[test]
    fn aws_example_object_put_with_amz_headers_and_sub_resources() {
        let mut h = http::HeaderMap::new();
        h.insert("content-type", "image/jpeg".parse().unwrap());
        h.insert("x-amz-acl", "public-read".parse().unwrap());
        h.insert(
            "x-amz-meta-reviewedby",
            "joe@johnsmith.net".parse().unwrap(),
        );
        h.append(
            "x-amz-meta-reviewedby",
            "jane@johnsmith.net".parse().unwrap(),
        );
        let query = vec![
            ("acl".to_string(), String::new()),
            ("prefix".to_string(), "x".to_string()),
        ];
        let to_sign = string_to_sign(&StringToSignInput {
            method: "PUT",
            headers: &h,
            date_or_expires: "Tue, 27 Mar 2007 21:15:45 +0000",
            vhost_bucket: None,
            raw_path: "/johnsmith/photos/puppy.jpg",
            query: &query,
        });
        assert_eq!(
            to_sign,
            "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\nx-amz-acl:public-read\nx-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/johnsmith/photos/puppy.jpg?acl"
        );
    }

    #[test]
    fn parses_headers() {
        assert_eq!(
            parse_header("AWS AKID:c2ln"),
            Some(("AKID".into(), "c2ln".into()))
        );
        assert_eq!(parse_header("AWS AKID"), None);
        assert_eq!(parse_header("AWS4-HMAC-SHA256 x"), None);
    }
}
