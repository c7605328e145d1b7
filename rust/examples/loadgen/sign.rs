//! SigV4 header signing as the SDKs do it: host, x-amz-content-sha256 and x-amz-date signed, the
//! signing key derived once per day and kept (the SDKs cache it too).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rusts3::crypto::{hmac, sha256_hex};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The same for a path, where `/` separates segments and stays.
const PATH: &AsciiSet = &QUERY.remove(b'/');

pub const UNSIGNED: &str = "UNSIGNED-PAYLOAD";

pub fn encode_path(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

pub fn encode_query(value: &str) -> String {
    utf8_percent_encode(value, QUERY).to_string()
}

/// `name=value` pairs sorted and encoded, as both the request line and the signature want them.
pub fn canonical_query(pairs: &[(&str, String)]) -> String {
    let mut encoded: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode_query(name), encode_query(value)))
        .collect();
    encoded.sort();
    encoded.join("&")
}

pub struct Signer {
    access_key: String,
    secret_key: String,
    region: String,
    day: String,
    key: Vec<u8>,
}

pub struct Signed {
    pub amz_date: String,
    pub authorization: String,
}

impl Signer {
    pub fn new(access_key: &str, secret_key: &str, region: &str) -> Self {
        Signer {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            region: region.into(),
            day: String::new(),
            key: Vec::new(),
        }
    }

    /// Signs one request; `path` and `query` must already be in their canonical (encoded) form.
    pub fn sign(
        &mut self,
        method: &str,
        host: &str,
        path: &str,
        query: &str,
        payload_hash: &str,
    ) -> Signed {
        let now = chrono::Utc::now();
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let day = &amz_date[..8];
        if self.day != day {
            let date_key = hmac(
                format!("AWS4{}", self.secret_key).as_bytes(),
                day.as_bytes(),
            );
            let region_key = hmac(&date_key, self.region.as_bytes());
            let service_key = hmac(&region_key, b"s3");
            self.key = hmac(&service_key, b"aws4_request");
            self.day = day.to_string();
        }
        let signed_headers = "host;x-amz-content-sha256;x-amz-date";
        let canonical = format!(
            "{method}\n{path}\n{query}\nhost:{host}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{amz_date}\n\n{signed_headers}\n{payload_hash}"
        );
        let scope = format!("{day}/{}/s3/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            sha256_hex(canonical.as_bytes())
        );
        let signature = hex::encode(hmac(&self.key, to_sign.as_bytes()));
        Signed {
            authorization: format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
                self.access_key
            ),
            amz_date,
        }
    }
}
