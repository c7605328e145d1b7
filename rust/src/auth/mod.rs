//! Request authentication, as Amazon S3 judges it when `auth.enabled` is on: SigV4 in the
//! `Authorization` header or presigned query, SigV2 header or query, and the signing context of
//! streaming (aws-chunked) bodies. With auth off every request is accepted, as s3rver did.

pub mod sigv2;
pub mod sigv4;

use crate::codec::aws_chunked::ChunkSigning;
use crate::config::{AuthConfig, Credential};
use crate::query::Query;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use http::HeaderMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// S3 refuses requests signed more than 15 minutes away from its clock.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// Presigned URLs live at most seven days.
const MAX_PRESIGNED_EXPIRY: u64 = 7 * 24 * 3600;

/// Who signed a request, and what its streaming body must be checked against.
#[derive(Debug, Clone, Default)]
pub struct Authenticated {
    /// The signer's access key id; `None` with auth off.
    pub access_key_id: Option<String>,
    pub chunk_signing: Option<ChunkSigning>,
    /// An unsigned form POST: its policy signature is in the body, checked by POST Object, and
    /// any other operation must refuse it.
    pub form_post: bool,
    /// The query's `x-amz-*` parameters stand for headers: a SigV4 presigned URL signs them (and
    /// with auth off nothing is checked). SigV2 signs no such parameter, so they are ignored there.
    pub query_headers_trusted: bool,
}

/// What authentication looks at.
pub struct RequestToAuthenticate<'a> {
    pub method: &'a str,
    /// The path exactly as received.
    pub raw_path: &'a str,
    pub raw_query: Option<&'a str>,
    pub query: &'a Query,
    pub headers: &'a HeaderMap,
    /// The bucket named by a virtual-hosted-style Host header.
    pub vhost_bucket: Option<&'a str>,
}

pub fn authenticate(
    request: &RequestToAuthenticate<'_>,
    config: &AuthConfig,
    now: SystemTime,
) -> S3Result<Authenticated> {
    if !config.enabled {
        return Ok(Authenticated {
            query_headers_trusted: true,
            ..Default::default()
        });
    }
    let verifier = Verifier {
        request,
        config,
        now,
    };
    match request
        .headers
        .get(http::header::AUTHORIZATION)
        .map(|v| v.to_str())
    {
        Some(Ok(value)) if value.starts_with(sigv4::ALGORITHM) => verifier.sigv4_header(value),
        Some(Ok(value)) if value.starts_with("AWS ") => verifier.sigv2_header(value),
        Some(_) => Err(S3Error::invalid_argument("Unsupported Authorization Type")
            .detail("ArgumentName", "Authorization")),
        None if request.query.has("X-Amz-Algorithm") || request.query.has("X-Amz-Signature") => {
            verifier.sigv4_query()
        }
        None if request.query.has("AWSAccessKeyId") || request.query.has("Signature") => {
            verifier.sigv2_query()
        }
        None if request.method == "POST" && is_form(request.headers) => Ok(Authenticated {
            form_post: true,
            ..Default::default()
        }),
        // Anonymous: authorization decides (ACLs may grant AllUsers).
        None => Ok(Authenticated::default()),
    }
}

struct Verifier<'a> {
    request: &'a RequestToAuthenticate<'a>,
    config: &'a AuthConfig,
    now: SystemTime,
}

fn header_malformed(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::AuthorizationHeaderMalformed, message)
}

fn query_error(message: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::AuthorizationQueryParametersError, message)
}

/// A `Date` / SigV2 `x-amz-date` value: HTTP's IMF-fixdate (and its obsolete forms), RFC 2822
/// with a numeric zone (`Tue, 27 Mar 2007 19:36:42 +0000`, as AWS's SigV2 examples write it),
/// or SigV4's `20130524T000000Z`. A year past 9999 is no date (and HTTP dates cannot show it).
fn parse_request_date(text: &str) -> Option<SystemTime> {
    /// 10000-01-01T00:00:00Z.
    const YEAR_10000: Duration = Duration::from_secs(253_402_300_800);
    let text = text.trim();
    httpdate::parse_http_date(text)
        .ok()
        .or_else(|| {
            let parsed = chrono::DateTime::parse_from_rfc2822(text).ok()?;
            let seconds = u64::try_from(parsed.timestamp()).ok()?;
            Some(UNIX_EPOCH + Duration::from_secs(seconds))
        })
        .or_else(|| parse_amz_date(text))
        .filter(|time| *time < UNIX_EPOCH + YEAR_10000)
}

/// `20130524T000000Z` → time.
fn parse_amz_date(text: &str) -> Option<SystemTime> {
    let parsed = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y%m%dT%H%M%SZ").ok()?;
    let seconds = u64::try_from(parsed.and_utc().timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

fn amz_date(time: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = time.into();
    dt.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The bytes of a string as S3 shows them in SignatureDoesNotMatch errors (`47 45 54 …`).
fn bytes_as_hex(text: &str) -> String {
    text.bytes()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn skew(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b)
        .or_else(|_| b.duration_since(a))
        .unwrap_or_default()
}

impl Verifier<'_> {
    fn credential(&self, access_key_id: &str) -> S3Result<&Credential> {
        self.config
            .credentials
            .iter()
            .find(|c| c.access_key_id == access_key_id)
            .ok_or_else(|| {
                S3Error::new(S3ErrorCode::InvalidAccessKeyId)
                    .detail("AWSAccessKeyId", access_key_id)
            })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.request.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn check_skew(&self, request_time: SystemTime) -> S3Result<()> {
        if skew(request_time, self.now) > MAX_SKEW {
            return Err(S3Error::new(S3ErrorCode::RequestTimeTooSkewed)
                .detail("RequestTime", httpdate::fmt_http_date(request_time))
                .detail("ServerTime", crate::xml::iso8601(self.now))
                .detail("MaxAllowedSkewMilliseconds", "900000"));
        }
        Ok(())
    }

    fn signature_mismatch(
        &self,
        access_key_id: &str,
        string_to_sign: &str,
        provided: &str,
        canonical: Option<&str>,
    ) -> S3Error {
        let mut error = S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
            .detail("AWSAccessKeyId", access_key_id)
            .detail("StringToSign", string_to_sign)
            .detail("SignatureProvided", provided)
            .detail("StringToSignBytes", bytes_as_hex(string_to_sign));
        if let Some(canonical) = canonical {
            error = error
                .detail("CanonicalRequest", canonical)
                .detail("CanonicalRequestBytes", bytes_as_hex(canonical));
        }
        error
    }

    fn sigv4_header(&self, value: &str) -> S3Result<Authenticated> {
        let auth = sigv4::AuthorizationHeader::parse(value).map_err(header_malformed)?;
        if auth.credential.service != "s3" {
            return Err(header_malformed(format!(
                "The authorization header is malformed; incorrect service '{}'. This endpoint belongs to 's3'.",
                auth.credential.service
            )));
        }
        if !auth.signed_headers.iter().any(|h| h == "host") {
            return Err(header_malformed(
                "The authorization header is malformed; the host header must be signed.",
            ));
        }
        let credential = self.credential(&auth.credential.access_key_id)?;
        // x-amz-date and x-amz-content-sha256 enter the string to sign even when not listed.
        refuse_unsigned_amz_headers(
            self.request.headers,
            &auth.signed_headers,
            &["x-amz-date", "x-amz-content-sha256"],
        )?;
        let (amz_date_text, request_time) = match self.header("x-amz-date") {
            Some(d) => (d.trim().to_string(), parse_amz_date(d)),
            None => match self.header("date").and_then(parse_request_date) {
                Some(t) => (amz_date(t), Some(t)),
                None => (String::new(), None),
            },
        };
        let request_time = request_time.ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "AWS authentication requires a valid Date or x-amz-date header",
            )
        })?;
        if !amz_date_text.starts_with(&auth.credential.date) {
            return Err(header_malformed(
                "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.",
            ));
        }
        self.check_skew(request_time)?;
        let payload_hash = self.header("x-amz-content-sha256").ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Missing required header for this request: x-amz-content-sha256",
            )
        })?;
        validate_payload_hash(payload_hash)?;

        let canonical = sigv4::canonical_request(&sigv4::CanonicalInput {
            method: self.request.method,
            raw_path: self.request.raw_path,
            raw_query: self.request.raw_query,
            skip_query: None,
            headers: self.request.headers,
            signed_headers: &auth.signed_headers,
            payload_hash,
        });
        let scope = auth.credential.scope();
        let to_sign = sigv4::string_to_sign(&amz_date_text, &scope, &canonical);
        let key = sigv4::signing_key(
            &credential.secret_access_key,
            &auth.credential.date,
            &auth.credential.region,
            &auth.credential.service,
        );
        if !sigv4::signature_matches(&key, to_sign.as_bytes(), &auth.signature) {
            return Err(self.signature_mismatch(
                &credential.access_key_id,
                &to_sign,
                &auth.signature,
                Some(&canonical),
            ));
        }
        let chunk_signing =
            chunk_signing(payload_hash, key, amz_date_text, scope, &auth.signature)?;
        Ok(Authenticated {
            access_key_id: Some(credential.access_key_id.clone()),
            chunk_signing,
            ..Default::default()
        })
    }

    fn sigv4_query(&self) -> S3Result<Authenticated> {
        let q = self.request.query;
        let (
            Some(algorithm),
            Some(credential),
            Some(date),
            Some(expires),
            Some(signed),
            Some(signature),
        ) = (
            q.get("X-Amz-Algorithm"),
            q.get("X-Amz-Credential"),
            q.get("X-Amz-Date"),
            q.get("X-Amz-Expires"),
            q.get("X-Amz-SignedHeaders"),
            q.get("X-Amz-Signature"),
        )
        else {
            return Err(query_error(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            ));
        };
        if algorithm != sigv4::ALGORITHM {
            return Err(query_error(
                "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
            ));
        }
        let parsed = sigv4::Credential::parse(credential)
            .ok_or_else(|| query_error(format!("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\". ({credential})")))?;
        let expires: u64 = expires
            .trim()
            .parse()
            .map_err(|_| query_error("X-Amz-Expires should be a number"))?;
        if expires > MAX_PRESIGNED_EXPIRY {
            return Err(query_error(
                "X-Amz-Expires must be less than a week (in seconds) that is 604800",
            ));
        }
        let signed_at = parse_amz_date(date).ok_or_else(|| {
            query_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        })?;
        let secret = self.credential(&parsed.access_key_id)?;
        if !date.starts_with(&parsed.date) {
            return Err(query_error(
                "Invalid credential date. Date is not the same as X-Amz-Date.",
            ));
        }
        if self.now > signed_at + Duration::from_secs(expires) {
            return Err(
                S3Error::with_message(S3ErrorCode::AccessDenied, "Request has expired")
                    .detail("X-Amz-Expires", expires.to_string())
                    .detail(
                        "Expires",
                        crate::xml::iso8601(signed_at + Duration::from_secs(expires)),
                    )
                    .detail("ServerTime", crate::xml::iso8601(self.now)),
            );
        }
        if signed_at > self.now + MAX_SKEW {
            return Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "Request is not valid yet",
            )
            .detail("ServerTime", crate::xml::iso8601(self.now)));
        }
        let signed_headers: Vec<String> = signed
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        // A presigned URL carries its x-amz-* values as signed query parameters; a header added
        // to it must be one of its signed headers (the payload hash is signed either way).
        refuse_unsigned_amz_headers(
            self.request.headers,
            &signed_headers,
            &["x-amz-content-sha256"],
        )?;
        // The SDKs' presigner hoists the header under its own (lower-case) name.
        let payload_hash = q
            .get("X-Amz-Content-Sha256")
            .or_else(|| q.get("x-amz-content-sha256"))
            .or_else(|| self.header("x-amz-content-sha256"))
            .unwrap_or("UNSIGNED-PAYLOAD");
        validate_payload_hash(payload_hash)?;
        let canonical = sigv4::canonical_request(&sigv4::CanonicalInput {
            method: self.request.method,
            raw_path: self.request.raw_path,
            raw_query: self.request.raw_query,
            skip_query: Some("X-Amz-Signature"),
            headers: self.request.headers,
            signed_headers: &signed_headers,
            payload_hash,
        });
        let scope = parsed.scope();
        let to_sign = sigv4::string_to_sign(date.trim(), &scope, &canonical);
        let key = sigv4::signing_key(
            &secret.secret_access_key,
            &parsed.date,
            &parsed.region,
            &parsed.service,
        );
        if !sigv4::signature_matches(&key, to_sign.as_bytes(), signature) {
            return Err(self.signature_mismatch(
                &secret.access_key_id,
                &to_sign,
                signature,
                Some(&canonical),
            ));
        }
        Ok(Authenticated {
            access_key_id: Some(secret.access_key_id.clone()),
            chunk_signing: chunk_signing(
                payload_hash,
                key,
                date.trim().to_string(),
                scope,
                signature,
            )?,
            query_headers_trusted: true,
            ..Default::default()
        })
    }

    /// Checks a SigV2 signature; on a mismatch returns the string to sign, for the error.
    fn sigv2_verify(
        &self,
        secret: &str,
        date_or_expires: &str,
        signature: &str,
    ) -> Result<(), String> {
        let to_sign = |raw_path: &str| {
            sigv2::string_to_sign(&sigv2::StringToSignInput {
                method: self.request.method,
                headers: self.request.headers,
                date_or_expires,
                vhost_bucket: self.request.vhost_bucket,
                raw_path,
                query: &self.request.query.0,
            })
        };
        let exact = to_sign(self.request.raw_path);
        if sigv2::signature_matches(secret, &exact, signature) {
            return Ok(());
        }
        // S3's resource for a bucket is `/bucket/`, and clients (botocore) sign that for a
        // path-style `/bucket` they send without the slash.
        let path = self.request.raw_path;
        let names_only_a_bucket = self.request.vhost_bucket.is_none()
            && path
                .strip_prefix('/')
                .is_some_and(|bucket| !bucket.is_empty() && !bucket.contains('/'));
        if names_only_a_bucket
            && sigv2::signature_matches(secret, &to_sign(&format!("{path}/")), signature)
        {
            return Ok(());
        }
        Err(exact)
    }

    fn sigv2_header(&self, value: &str) -> S3Result<Authenticated> {
        let (access_key_id, signature) = sigv2::parse_header(value).ok_or_else(|| {
            S3Error::invalid_argument(
                "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
            )
        })?;
        let credential = self.credential(&access_key_id)?;
        // With x-amz-date the Date line of the string to sign is empty.
        let (date_line, request_time) = match self.header("x-amz-date") {
            Some(d) => (String::new(), parse_request_date(d)),
            None => {
                let d = self.header("date").unwrap_or("");
                (d.to_string(), parse_request_date(d))
            }
        };
        let request_time = request_time.ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "AWS authentication requires a valid Date or x-amz-date header",
            )
        })?;
        self.check_skew(request_time)?;
        if let Err(to_sign) =
            self.sigv2_verify(&credential.secret_access_key, &date_line, &signature)
        {
            return Err(self.signature_mismatch(
                &credential.access_key_id,
                &to_sign,
                &signature,
                None,
            ));
        }
        Ok(Authenticated {
            access_key_id: Some(credential.access_key_id.clone()),
            ..Default::default()
        })
    }

    fn sigv2_query(&self) -> S3Result<Authenticated> {
        let q = self.request.query;
        let (Some(access_key_id), Some(expires), Some(signature)) = (
            q.get("AWSAccessKeyId"),
            q.get("Expires"),
            q.get("Signature"),
        ) else {
            return Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
            ));
        };
        let credential = self.credential(access_key_id)?;
        let expires_at: u64 = expires.trim().parse().map_err(|_| {
            S3Error::invalid_argument("Expires should be a number of seconds since the epoch")
        })?;
        // Any number of seconds is accepted; one past what a clock can hold never expires.
        let expiry = UNIX_EPOCH.checked_add(Duration::from_secs(expires_at));
        if let Some(expiry) = expiry.filter(|e| self.now > *e) {
            return Err(
                S3Error::with_message(S3ErrorCode::AccessDenied, "Request has expired")
                    .detail("Expires", crate::xml::iso8601(expiry))
                    .detail("ServerTime", crate::xml::iso8601(self.now)),
            );
        }
        if let Err(to_sign) =
            self.sigv2_verify(&credential.secret_access_key, expires.trim(), signature)
        {
            return Err(self.signature_mismatch(
                &credential.access_key_id,
                &to_sign,
                signature,
                None,
            ));
        }
        Ok(Authenticated {
            access_key_id: Some(credential.access_key_id.clone()),
            ..Default::default()
        })
    }
}

/// S3 refuses a SigV4 request carrying `x-amz-*` headers its signature does not cover: they
/// could otherwise be added to a signed request by anyone holding it (a presigned URL, say).
fn refuse_unsigned_amz_headers(
    headers: &HeaderMap,
    signed: &[String],
    covered_anyway: &[&str],
) -> S3Result<()> {
    let mut unsigned: Vec<&str> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| name.starts_with("x-amz-"))
        .filter(|name| !covered_anyway.contains(name) && !signed.iter().any(|s| s == name))
        .collect();
    if unsigned.is_empty() {
        return Ok(());
    }
    unsigned.sort_unstable();
    unsigned.dedup();
    Err(S3Error::with_message(
        S3ErrorCode::AccessDenied,
        "There were headers present in the request which were not signed",
    )
    .detail("HeadersNotSigned", unsigned.join(", ")))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// How the chunks of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` body are verified: a chain of
/// signatures seeded by the request's own (header or presigned URL alike).
fn chunk_signing(
    payload_hash: &str,
    key: Vec<u8>,
    amz_date: String,
    scope: String,
    seed_signature: &str,
) -> S3Result<Option<ChunkSigning>> {
    if payload_hash.starts_with("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD") {
        // Its chunks carry SigV4a (ECDSA) signatures, which this server cannot check yet:
        // refuse rather than store what nobody verified.
        return Err(S3Error::not_implemented(
            "x-amz-content-sha256: STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD (SigV4a-signed chunks)",
        ));
    }
    Ok(payload_hash
        .starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        .then(|| ChunkSigning {
            key,
            amz_date,
            scope,
            seed_signature: seed_signature.to_string(),
        }))
}

/// `x-amz-content-sha256` is a hex digest or one of the sentinels S3 knows.
fn validate_payload_hash(value: &str) -> S3Result<()> {
    const SENTINELS: [&str; 6] = [
        "UNSIGNED-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    ];
    let is_hex = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex || SENTINELS.contains(&value) {
        Ok(())
    } else {
        Err(S3Error::invalid_argument(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        )
        .detail("ArgumentName", "x-amz-content-sha256")
        .detail("ArgumentValue", value))
    }
}
