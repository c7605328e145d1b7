//! AWS Signature Version 4 for S3: canonical request, string to sign, signing key, and the
//! parsing of the `Authorization` header and of presigned query parameters.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// RFC 3986 unreserved characters stay; everything else is `%XX` (upper-case hex).
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub use crate::crypto::{hmac, sha256_hex, signature_matches};

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, b"aws4_request")
}

/// The credential scope: `date/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Credential {
    /// Parses `AKID/20130524/us-east-1/s3/aws4_request`.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().rsplitn(5, '/');
        let terminator = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let date = parts.next()?;
        let access_key_id = parts.next()?;
        let valid_date = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
        if terminator != "aws4_request" || !valid_date || access_key_id.is_empty() {
            return None;
        }
        Some(Self {
            access_key_id: access_key_id.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
        })
    }

    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    pub credential: Credential,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl AuthorizationHeader {
    pub fn parse(value: &str) -> Result<Self, String> {
        let rest = value
            .trim()
            .strip_prefix(ALGORITHM)
            .ok_or("the authorization header does not use AWS4-HMAC-SHA256")?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for field in rest.split(',') {
            let field = field.trim();
            if let Some(v) = field.strip_prefix("Credential=") {
                credential = Some(v);
            } else if let Some(v) = field.strip_prefix("SignedHeaders=") {
                signed_headers = Some(v);
            } else if let Some(v) = field.strip_prefix("Signature=") {
                signature = Some(v);
            }
        }
        let credential = credential.ok_or("the authorization header has no Credential")?;
        let credential = Credential::parse(credential).ok_or_else(|| {
            format!("the Credential '{credential}' is not of the form <key>/<YYYYMMDD>/<region>/<service>/aws4_request")
        })?;
        let signed_headers =
            signed_headers.ok_or("the authorization header has no SignedHeaders")?;
        let signature = signature.ok_or("the authorization header has no Signature")?;
        Ok(Self {
            credential,
            signed_headers: signed_headers
                .split(';')
                .map(|h| h.trim().to_ascii_lowercase())
                .collect(),
            signature: signature.trim().to_string(),
        })
    }
}

/// Decodes one raw query component for canonicalization (`+` is a space, as everywhere here).
fn decode_component(text: &str) -> String {
    let spaced = text.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// The canonical query string: every parameter (but `skip`) URI-encoded, sorted by name then value.
pub fn canonical_query(raw_query: Option<&str>, skip: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(name), decode_component(value))
        })
        .filter(|(name, _)| Some(name.as_str()) != skip)
        .map(|(name, value)| {
            (
                utf8_percent_encode(&name, URI_ENCODE).to_string(),
                utf8_percent_encode(&value, URI_ENCODE).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `name:value` with the value trimmed and inner runs of spaces collapsed.
fn canonical_header_value(values: &[&[u8]]) -> String {
    values
        .iter()
        .map(|v| {
            let text = String::from_utf8_lossy(v);
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Everything the canonical request is made of.
pub struct CanonicalInput<'a> {
    pub method: &'a str,
    /// The path exactly as received (S3 neither normalizes nor double-encodes it).
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    /// A query parameter left out (`X-Amz-Signature` for presigned URLs).
    pub skip_query: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
    pub signed_headers: &'a [String],
    pub payload_hash: &'a str,
}

pub fn canonical_request(input: &CanonicalInput<'_>) -> String {
    let mut headers = String::new();
    for name in input.signed_headers {
        let values: Vec<&[u8]> = input
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&canonical_header_value(&values));
        headers.push('\n');
    }
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        if input.raw_path.is_empty() {
            "/"
        } else {
            input.raw_path
        },
        canonical_query(input.raw_query, input.skip_query),
        headers,
        input.signed_headers.join(";"),
        input.payload_hash
    )
}

pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
    pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (n, v) in pairs {
            map.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    /// Signs like a client would, for the vectors below.
    fn sign(input: &CanonicalInput<'_>, amz_date: &str) -> String {
        let key = signing_key(SECRET, &amz_date[..8], "us-east-1", "s3");
        let scope = format!("{}/us-east-1/s3/aws4_request", &amz_date[..8]);
        hex::encode(hmac(
            &key,
            string_to_sign(amz_date, &scope, &canonical_request(input)).as_bytes(),
        ))
    }

    fn signed(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    // The examples of Amazon's "Signature Calculations for the Authorization Header:
    // Transferring Payload in a Single Chunk" (AWS Signature Version 4), S3 API reference.
    #[test]
    fn aws_example_get_object() {
        let h = headers(&[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        let names = signed(&["host", "range", "x-amz-content-sha256", "x-amz-date"]);
        let input = CanonicalInput {
            method: "GET",
            raw_path: "/test.txt",
            raw_query: None,
            skip_query: None,
            headers: &h,
            signed_headers: &names,
            payload_hash: EMPTY_SHA256,
        };
        assert_eq!(
            sign(&input, "20130524T000000Z"),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn aws_example_put_object() {
        let payload_hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
        let h = headers(&[
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", payload_hash),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ]);
        let names = signed(&[
            "date",
            "host",
            "x-amz-content-sha256",
            "x-amz-date",
            "x-amz-storage-class",
        ]);
        let input = CanonicalInput {
            method: "PUT",
            raw_path: "/test%24file.text",
            raw_query: None,
            skip_query: None,
            headers: &h,
            signed_headers: &names,
            payload_hash,
        };
        assert_eq!(
            sign(&input, "20130524T000000Z"),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

    #[test]
    fn aws_example_get_bucket_lifecycle_and_list_objects() {
        let h = headers(&[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        let names = signed(&["host", "x-amz-content-sha256", "x-amz-date"]);
        let mut input = CanonicalInput {
            method: "GET",
            raw_path: "/",
            raw_query: Some("lifecycle"),
            skip_query: None,
            headers: &h,
            signed_headers: &names,
            payload_hash: EMPTY_SHA256,
        };
        assert_eq!(
            sign(&input, "20130524T000000Z"),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        );
        input.raw_query = Some("max-keys=2&prefix=J");
        assert_eq!(
            sign(&input, "20130524T000000Z"),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    // "Authenticating Requests: Using Query Parameters", example presigned GET.
    #[test]
    fn aws_example_presigned_url() {
        let h = headers(&[("host", "examplebucket.s3.amazonaws.com")]);
        let names = signed(&["host"]);
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        let input = CanonicalInput {
            method: "GET",
            raw_path: "/test.txt",
            raw_query: Some(query),
            skip_query: Some("X-Amz-Signature"),
            headers: &h,
            signed_headers: &names,
            payload_hash: "UNSIGNED-PAYLOAD",
        };
        assert_eq!(
            sign(&input, "20130524T000000Z"),
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn parses_authorization_headers() {
        let parsed = AuthorizationHeader::parse(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
        )
        .unwrap();
        assert_eq!(parsed.credential.access_key_id, ACCESS_KEY);
        assert_eq!(
            parsed.credential.scope(),
            "20130524/us-east-1/s3/aws4_request"
        );
        assert_eq!(parsed.signed_headers, vec!["host", "range", "x-amz-date"]);
        assert!(AuthorizationHeader::parse(
            "AWS4-HMAC-SHA256 Credential=x/y, SignedHeaders=host, Signature=a"
        )
        .is_err());
        assert!(AuthorizationHeader::parse("AWS AKID:sig").is_err());
        assert!(
            AuthorizationHeader::parse("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=a").is_err()
        );
    }

    #[test]
    fn constant_time_comparison() {
        let key = b"key";
        let good = hex::encode(hmac(key, b"data"));
        assert!(signature_matches(key, b"data", &good));
        assert!(!signature_matches(key, b"data", &good.replace('a', "b")));
        assert!(!signature_matches(key, b"data", "not hex"));
    }
}
