//! What a PUT says about its own body (Content-MD5, flexible checksums in a header or an
//! aws-chunked trailer, the decoded length) and the check of those claims once the body ended.

use super::headers;
use crate::body::RequestBody;
use crate::checksum::{
    base64_decode, base64_encode, BodyDigests, ChecksumAlgorithm, FinishedDigests,
};
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::StoredChecksum;
use crate::xml::{parse_document, Element};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct UploadIntegrity {
    content_md5: Option<Vec<u8>>,
    header_checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
    trailer_algorithm: Option<ChecksumAlgorithm>,
    sdk_algorithm: Option<ChecksumAlgorithm>,
    /// The body uses aws-chunked framing and must be decoded.
    pub aws_chunked: bool,
    /// `x-amz-decoded-content-length`: the payload size of an aws-chunked body.
    pub decoded_length: Option<u64>,
    /// `x-amz-content-sha256` when it is a digest of the payload (not a sentinel).
    content_sha256: Option<Vec<u8>>,
    /// The checksum came from a presigned URL's query, not a header.
    checksum_from_url: bool,
}

fn invalid_header(name: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        format!("Value for {name} header is invalid."),
    )
}

impl UploadIntegrity {
    /// Reads the claims from the headers; `hoisted` names those a presigned URL carried in its
    /// query, so an error can say where a wrong checksum came from.
    pub fn from_request(parts: &Parts, hoisted: &[String]) -> S3Result<Self> {
        Self::from_headers(&parts.headers, hoisted)
    }

    /// POST Object's claims: its `Content-MD5` and `x-amz-checksum-*` form fields, read as the
    /// headers of a PUT (`x-amz-checksum-algorithm` names the checksum to compute).
    pub fn from_form_fields(fields: &BTreeMap<String, String>) -> S3Result<Self> {
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            let header = match name.as_str() {
                "x-amz-checksum-algorithm" => "x-amz-sdk-checksum-algorithm",
                "content-md5" => "content-md5",
                n if ChecksumAlgorithm::from_header_name(n).is_some() => n,
                _ => continue,
            };
            let value = HeaderValue::from_str(value.trim()).map_err(|_| invalid_header(name))?;
            let header =
                HeaderName::from_bytes(header.as_bytes()).map_err(|_| invalid_header(name))?;
            headers.insert(header, value);
        }
        Self::from_headers(&headers, &[])
    }

    fn from_headers(headers: &HeaderMap, hoisted: &[String]) -> S3Result<Self> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let mut integrity = Self::default();
        if let Some(value) = headers.get("content-md5") {
            let digest = value
                .to_str()
                .ok()
                .and_then(base64_decode)
                .filter(|d| d.len() == 16)
                .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidDigest))?;
            integrity.content_md5 = Some(digest);
        }
        for algorithm in ChecksumAlgorithm::ALL {
            let name = algorithm.header_name();
            let Some(value) = get(name) else {
                continue;
            };
            integrity.checksum_from_url = hoisted.iter().any(|h| h == name);
            if integrity.header_checksum.is_some() {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            let digest = base64_decode(value)
                .filter(|d| d.len() == algorithm.digest_len())
                .ok_or_else(|| invalid_header(name))?;
            integrity.header_checksum = Some((algorithm, digest));
        }
        if let Some(name) = get("x-amz-sdk-checksum-algorithm") {
            integrity.sdk_algorithm = Some(
                ChecksumAlgorithm::from_name(name)
                    .ok_or_else(|| invalid_header("x-amz-sdk-checksum-algorithm"))?,
            );
        }
        // Unknown trailer names (newer algorithms) are tolerated: the body is still decoded.
        integrity.trailer_algorithm =
            get("x-amz-trailer").and_then(ChecksumAlgorithm::from_header_name);
        let content_sha256 = get("x-amz-content-sha256").unwrap_or("");
        // As S3: the payload hash alone says whether the body is aws-chunked framed; a
        // Content-Encoding naming aws-chunked on a plain body is only stored (without it).
        integrity.aws_chunked = content_sha256.starts_with("STREAMING-");
        integrity.content_sha256 = Some(content_sha256)
            .filter(|v| v.len() == 64)
            .and_then(|v| hex::decode(v).ok());
        if let Some(value) = get("x-amz-decoded-content-length") {
            integrity.decoded_length = Some(
                value
                    .trim()
                    .parse()
                    .map_err(|_| invalid_header("x-amz-decoded-content-length"))?,
            );
        }
        Ok(integrity)
    }

    /// The flexible checksum to compute while the body streams, if the client named one.
    pub fn algorithm(&self) -> Option<ChecksumAlgorithm> {
        self.header_checksum
            .as_ref()
            .map(|(a, _)| *a)
            .or(self.trailer_algorithm)
            .or(self.sdk_algorithm)
    }

    /// Fresh digests for the payload: MD5, the flexible checksum (`algorithm`), and SHA-256 when
    /// `x-amz-content-sha256` must be checked.
    pub fn digests(&self, algorithm: Option<ChecksumAlgorithm>) -> BodyDigests {
        BodyDigests::new(algorithm).with_sha256(self.content_sha256.is_some())
    }

    /// Checks every claim against what was received; returns the checksum to store.
    pub fn verify(
        &self,
        digests: &FinishedDigests,
        trailers: &[(String, String)],
    ) -> S3Result<Option<StoredChecksum>> {
        if let Some(expected) = self.decoded_length {
            if self.aws_chunked && expected != digests.len {
                return Err(S3Error::with_message(
                    S3ErrorCode::IncompleteBody,
                    format!(
                        "The decoded body has {} bytes, but x-amz-decoded-content-length says {expected}.",
                        digests.len
                    ),
                ));
            }
        }
        if let (Some(expected), Some(actual)) = (&self.content_sha256, &digests.sha256) {
            if expected.as_slice() != actual.as_slice() {
                return Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch)
                    .detail("ClientComputedContentSHA256", hex::encode(expected))
                    .detail("S3ComputedContentSHA256", hex::encode(actual)));
            }
        }
        if let Some(expected) = &self.content_md5 {
            if expected.as_slice() != digests.md5.as_slice() {
                return Err(S3Error::new(S3ErrorCode::BadDigest)
                    .detail("ExpectedDigest", base64_encode(expected))
                    .detail("CalculatedDigest", base64_encode(&digests.md5)));
            }
        }
        let Some((algorithm, computed)) = &digests.checksum else {
            return Ok(None);
        };
        let expected = match &self.header_checksum {
            Some((_, value)) => Some(value.clone()),
            None => match trailers.iter().find(|(n, _)| n == algorithm.header_name()) {
                Some((_, value)) => Some(
                    base64_decode(value)
                        .filter(|d| d.len() == algorithm.digest_len())
                        .ok_or_else(|| invalid_header(algorithm.header_name()))?,
                ),
                None => None,
            },
        };
        if let Some(expected) = expected {
            if &expected != computed {
                let mut message = format!(
                    "The {} you specified did not match the calculated checksum.",
                    algorithm.name()
                );
                if self.checksum_from_url {
                    message.push_str(&format!(
                        " It came from the presigned URL's {} query parameter: the AWS SDK puts the checksum of an empty body there unless the client that presigns is created with requestChecksumCalculation: 'WHEN_REQUIRED' (or the checksum of the real body is given).",
                        algorithm.header_name()
                    ));
                }
                return Err(S3Error::with_message(S3ErrorCode::BadDigest, message));
            }
        }
        Ok(Some(StoredChecksum {
            algorithm: algorithm.name().to_string(),
            value: base64_encode(computed),
            checksum_type: "FULL_OBJECT".to_string(),
        }))
    }
}

/// `x-amz-checksum-algorithm` (CreateMultipartUpload, CopyObject): the checksum to keep.
pub fn requested_algorithm(parts: &Parts) -> S3Result<Option<ChecksumAlgorithm>> {
    match headers::get(parts, "x-amz-checksum-algorithm") {
        Some(name) => ChecksumAlgorithm::from_name(name).map(Some).ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Checksum algorithm provided is unsupported.",
            )
        }),
        None => Ok(None),
    }
}

/// Checks Content-MD5 and a flexible checksum header against a small body read whole (XML
/// documents of DeleteObjects, tagging, …).
pub fn verify_small_body(parts: &Parts, body: &[u8]) -> S3Result<()> {
    let integrity = UploadIntegrity::from_request(parts, &[])?;
    let mut digests = integrity.digests(integrity.header_checksum.as_ref().map(|(a, _)| *a));
    digests.update(body);
    integrity.verify(&digests.finish(), &[]).map(|_| ())
}

/// A small XML request document (at most `max` bytes) read whole, checked against its
/// Content-MD5 or checksum; one that is not XML with the root element `root` is MalformedXML.
pub async fn read_document(
    parts: &Parts,
    body: &mut RequestBody,
    max: usize,
    root: &str,
) -> S3Result<Element> {
    let document = body.read_small(max).await?;
    verify_small_body(parts, &document)?;
    document_root(&document, root)
}

/// A request document's root element, which must be `root`; anything else is MalformedXML.
pub fn document_root(document: &[u8], root: &str) -> S3Result<Element> {
    parse_document(document)
        .ok()
        .filter(|e| e.name == root)
        .ok_or_else(|| S3Error::new(S3ErrorCode::MalformedXML))
}
