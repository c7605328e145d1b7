//! Decoder for `aws-chunked` request bodies (`Content-Encoding: aws-chunked`).
//!
//! Framing: `<hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n` repeated, then a zero-size chunk,
//! optional trailer lines `name:value\r\n`, and an empty line. Payload bytes are passed on
//! without copying; trailers (e.g. `x-amz-checksum-crc32`) are collected for the handler to check
//! once the body has ended. With signing on (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`
//! under `auth.enabled`), each chunk's signature is checked against the chain that starts at the
//! request's seed signature, and so is the trailer's; a mismatch fails the body, so nothing is
//! stored. Bytes are passed on as they arrive and the check happens when the chunk ends: a bad
//! chunk fails the upload before anything is committed, without buffering whole chunks.

use crate::crypto as sigv4;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Longest chunk-size (with extensions) or trailer line accepted; real ones are under 200 bytes.
const MAX_LINE: usize = 8 * 1024;
/// Most trailer fields and trailer bytes a body may carry; real ones send one or two checksums.
const MAX_TRAILERS: usize = 16;
const MAX_TRAILER_BYTES: usize = 16 * 1024;

/// Trailer fields of a decoded body: lower-case name and trimmed value.
pub type Trailers = Arc<Mutex<Vec<(String, String)>>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    ChunkHeader,
    ChunkData(u64),
    ChunkEnd,
    Trailer,
    Done,
}

/// What chunk signatures are checked against.
#[derive(Debug, Clone)]
pub struct ChunkSigning {
    pub key: Vec<u8>,
    pub amz_date: String,
    pub scope: String,
    /// The signature of the request's headers: the first link of the chain.
    pub seed_signature: String,
}

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

pub struct ChunkedDecoder {
    state: State,
    line: BytesMut,
    trailers: Vec<(String, String)>,
    signing: Option<ChunkSigning>,
    /// The signature of the previous chunk (the seed before the first).
    previous_signature: String,
    /// The signature the current chunk's header declared.
    declared_signature: Option<String>,
    chunk_hash: Sha256,
    trailer_signature: Option<String>,
    /// Bytes of trailer lines seen so far.
    trailer_bytes: usize,
}

/// Why an aws-chunked body was refused. `s3_error` maps each to the S3 error a client sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkedError {
    /// A chunk's or the trailer's signature is missing or wrong (`"chunk"` / `"trailer"`).
    SignatureMismatch(&'static str),
    /// The framing is not valid aws-chunked.
    Malformed(&'static str),
    /// The body ended before its final chunk.
    Incomplete,
    /// More trailer fields or bytes than any client sends.
    TrailerTooLarge,
}

impl std::fmt::Display for ChunkedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignatureMismatch(what) => write!(
                f,
                "The {what} signature we calculated does not match the signature you provided."
            ),
            Self::Malformed(detail) => write!(f, "Malformed aws-chunked request body: {detail}"),
            Self::Incomplete => {
                f.write_str("The aws-chunked request body ended before its final chunk.")
            }
            Self::TrailerTooLarge => write!(
                f,
                "The request trailer is too large: at most {MAX_TRAILERS} fields and {MAX_TRAILER_BYTES} bytes are accepted."
            ),
        }
    }
}

impl std::error::Error for ChunkedError {}

fn signature_mismatch(what: &'static str) -> ChunkedError {
    ChunkedError::SignatureMismatch(what)
}

fn malformed(detail: &'static str) -> ChunkedError {
    ChunkedError::Malformed(detail)
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new(None)
    }
}

impl ChunkedDecoder {
    pub fn new(signing: Option<ChunkSigning>) -> Self {
        Self {
            state: State::ChunkHeader,
            line: BytesMut::new(),
            trailers: Vec::new(),
            previous_signature: signing
                .as_ref()
                .map(|s| s.seed_signature.clone())
                .unwrap_or_default(),
            signing,
            declared_signature: None,
            chunk_hash: Sha256::new(),
            trailer_signature: None,
            trailer_bytes: 0,
        }
    }

    /// Checks the chunk that just ended against its declared signature, and moves the chain on.
    fn verify_chunk(&mut self) -> Result<(), ChunkedError> {
        let Some(signing) = &self.signing else {
            return Ok(());
        };
        let declared = self
            .declared_signature
            .take()
            .ok_or_else(|| signature_mismatch("chunk"))?;
        let data_hash = hex::encode(std::mem::take(&mut self.chunk_hash).finalize());
        let to_sign = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{data_hash}",
            signing.amz_date, signing.scope, self.previous_signature
        );
        if !sigv4::signature_matches(&signing.key, to_sign.as_bytes(), &declared) {
            return Err(signature_mismatch("chunk"));
        }
        self.previous_signature = declared;
        Ok(())
    }

    /// Checks the trailer's signature (signed streaming with a trailer).
    fn verify_trailer(&mut self) -> Result<(), ChunkedError> {
        let Some(signing) = &self.signing else {
            return Ok(());
        };
        if self.trailers.is_empty() && self.trailer_signature.is_none() {
            return Ok(());
        }
        let declared = self
            .trailer_signature
            .take()
            .ok_or_else(|| signature_mismatch("trailer"))?;
        let canonical: String = self
            .trailers
            .iter()
            .map(|(name, value)| format!("{name}:{value}\n"))
            .collect();
        let to_sign = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{}\n{}",
            signing.amz_date,
            signing.scope,
            self.previous_signature,
            sigv4::sha256_hex(canonical.as_bytes())
        );
        if !sigv4::signature_matches(&signing.key, to_sign.as_bytes(), &declared) {
            return Err(signature_mismatch("trailer"));
        }
        Ok(())
    }

    /// Consumes framed input, appending decoded payload slices to `out`.
    pub fn feed(&mut self, mut input: Bytes, out: &mut Vec<Bytes>) -> Result<(), ChunkedError> {
        while !input.is_empty() {
            match self.state {
                State::ChunkData(remaining) => {
                    let n = remaining.min(input.len() as u64) as usize;
                    let data = input.split_to(n);
                    if self.signing.is_some() {
                        self.chunk_hash.update(&data);
                    }
                    out.push(data);
                    let left = remaining - n as u64;
                    self.state = if left == 0 {
                        State::ChunkEnd
                    } else {
                        State::ChunkData(left)
                    };
                }
                State::Done => return Err(malformed("data after the final chunk")),
                _ => match input.iter().position(|&b| b == b'\n') {
                    Some(pos) => {
                        if self.line.len() + pos > MAX_LINE {
                            return Err(malformed("line too long"));
                        }
                        self.line.extend_from_slice(&input.split_to(pos + 1));
                        let line = std::mem::take(&mut self.line);
                        self.handle_line(&line)?;
                    }
                    None => {
                        // Checked before buffering: a line is never held beyond the bound.
                        if self.line.len() + input.len() > MAX_LINE {
                            return Err(malformed("line too long"));
                        }
                        self.line.extend_from_slice(&input);
                        input.clear();
                    }
                },
            }
        }
        Ok(())
    }

    fn handle_line(&mut self, line: &[u8]) -> Result<(), ChunkedError> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|_| malformed("non-UTF-8 framing"))?;
        match self.state {
            State::ChunkHeader => {
                let mut fields = text.split(';');
                let size_text = fields.next().unwrap_or("").trim();
                let size = u64::from_str_radix(size_text, 16)
                    .map_err(|_| malformed("invalid chunk size"))?;
                self.declared_signature = fields
                    .find_map(|f| f.trim().strip_prefix("chunk-signature="))
                    .map(str::to_string);
                if size == 0 {
                    // The final chunk signs the empty data.
                    self.verify_chunk()?;
                    self.state = State::Trailer;
                } else {
                    self.state = State::ChunkData(size);
                }
            }
            State::ChunkEnd => {
                if !text.is_empty() {
                    return Err(malformed("chunk data longer than its declared size"));
                }
                self.verify_chunk()?;
                self.state = State::ChunkHeader;
            }
            State::Trailer => {
                if text.is_empty() {
                    self.verify_trailer()?;
                    self.state = State::Done;
                } else if let Some(signature) = text.strip_prefix("x-amz-trailer-signature:") {
                    self.trailer_signature = Some(signature.trim().to_string());
                } else {
                    let (name, value) = text
                        .split_once(':')
                        .ok_or_else(|| malformed("invalid trailer line"))?;
                    self.trailer_bytes += text.len();
                    if self.trailers.len() >= MAX_TRAILERS || self.trailer_bytes > MAX_TRAILER_BYTES
                    {
                        return Err(ChunkedError::TrailerTooLarge);
                    }
                    self.trailers
                        .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                }
            }
            State::ChunkData(_) | State::Done => {}
        }
        Ok(())
    }

    /// Called at the end of input: the body must have ended with its final chunk.
    pub fn finish(self) -> Result<Vec<(String, String)>, ChunkedError> {
        match self.state {
            State::Done => Ok(self.trailers),
            // Some clients end right after the zero chunk's line without the closing CRLF.
            State::Trailer if self.line.is_empty() && self.signing.is_none() => Ok(self.trailers),
            _ => Err(ChunkedError::Incomplete),
        }
    }
}

/// Wraps a framed body stream into a stream of payload bytes. Trailers land in `trailers` when
/// the body has been read to its end. The input's errors pass through; the decoder's become `E`.
pub fn decode<S, E>(
    input: S,
    trailers: Trailers,
    signing: Option<ChunkSigning>,
) -> impl Stream<Item = Result<Bytes, E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: From<ChunkedError>,
{
    struct St<S> {
        input: S,
        decoder: Option<ChunkedDecoder>,
        ready: VecDeque<Bytes>,
        trailers: Trailers,
    }
    let state = St {
        input,
        decoder: Some(ChunkedDecoder::new(signing)),
        ready: VecDeque::new(),
        trailers,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(bytes) = st.ready.pop_front() {
                return Some((Ok(bytes), st));
            }
            let decoder = st.decoder.as_mut()?;
            match st.input.next().await {
                Some(Ok(bytes)) => {
                    let mut out = Vec::new();
                    if let Err(e) = decoder.feed(bytes, &mut out) {
                        st.decoder = None;
                        return Some((Err(e.into()), st));
                    }
                    st.ready.extend(out.into_iter().filter(|b| !b.is_empty()));
                }
                Some(Err(e)) => {
                    st.decoder = None;
                    return Some((Err(e), st));
                }
                None => {
                    let decoder = st.decoder.take()?;
                    match decoder.finish() {
                        Ok(fields) => {
                            if let Ok(mut slot) = st.trailers.lock() {
                                *slot = fields;
                            }
                            return None;
                        }
                        Err(e) => return Some((Err(e.into()), st)),
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Decoded = Result<(Vec<u8>, Vec<(String, String)>), ChunkedError>;

    fn decode_all(pieces: &[&[u8]]) -> Decoded {
        decode_signed(pieces, None)
    }

    fn decode_signed(pieces: &[&[u8]], signing: Option<ChunkSigning>) -> Decoded {
        let mut d = ChunkedDecoder::new(signing);
        let mut out = Vec::new();
        for p in pieces {
            d.feed(Bytes::copy_from_slice(p), &mut out)?;
        }
        let trailers = d.finish()?;
        Ok((out.concat(), trailers))
    }

    #[test]
    fn unsigned_with_trailer_as_the_js_sdk_sends_it() {
        let body = b"6\r\nhello \r\n5\r\nworld\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let (data, trailers) = decode_all(&[body]).unwrap();
        assert_eq!(data, b"hello world");
        assert_eq!(
            trailers,
            vec![("x-amz-checksum-crc32".into(), "DUoRhQ==".into())]
        );
        // The same body split at every possible point decodes the same.
        for cut in 0..body.len() {
            let (data2, t2) = decode_all(&[&body[..cut], &body[cut..]]).unwrap();
            assert_eq!(data2, b"hello world");
            assert_eq!(t2, trailers);
        }
    }

    #[test]
    fn signed_chunks() {
        let sig = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
        let body = format!("5;chunk-signature={sig}\r\nhello\r\n0;chunk-signature={sig}\r\n\r\n");
        let (data, trailers) = decode_all(&[body.as_bytes()]).unwrap();
        assert_eq!(data, b"hello");
        assert!(trailers.is_empty());
    }

    #[test]
    fn truncated_and_malformed_bodies_fail() {
        let e = decode_all(&[b"5\r\nhel"]).unwrap_err();
        assert_eq!(e, ChunkedError::Incomplete);
        let e = decode_all(&[b"5\r\nhello\r\n"]).unwrap_err();
        assert_eq!(e, ChunkedError::Incomplete);
        assert!(decode_all(&[b"zz\r\nhello\r\n0\r\n\r\n"]).is_err());
        assert!(decode_all(&[b"3\r\nhello\r\n0\r\n\r\n"]).is_err());
        assert!(decode_all(&[b"0\r\n\r\nextra"]).is_err());
    }

    fn example_signing() -> ChunkSigning {
        use crate::auth::sigv4::tests::SECRET;
        ChunkSigning {
            key: crate::auth::sigv4::signing_key(SECRET, "20130524", "us-east-1", "s3"),
            amz_date: "20130524T000000Z".into(),
            scope: "20130524/us-east-1/s3/aws4_request".into(),
            seed_signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
                .into(),
        }
    }

    /// The chunked PUT example of Amazon's "Transferring Payload in Multiple Chunks" page:
    /// 65536 + 1024 bytes of 'a', then the final chunk.
    fn example_body(first_signature: &str) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(format!("10000;chunk-signature={first_signature}\r\n").as_bytes());
        body.extend_from_slice(&[b'a'; 65536]);
        body.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
        body.extend_from_slice(&[b'a'; 1024]);
        body.extend_from_slice(b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
        body
    }

    #[test]
    fn aws_example_seed_signature() {
        use crate::auth::sigv4::{canonical_request, string_to_sign, CanonicalInput};
        let mut h = http::HeaderMap::new();
        for (n, v) in [
            ("content-encoding", "aws-chunked"),
            ("content-length", "66824"),
            ("host", "s3.amazonaws.com"),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-decoded-content-length", "66560"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ] {
            h.insert(n, v.parse().unwrap());
        }
        let names: Vec<String> = h.keys().map(|k| k.to_string()).collect();
        let canonical = canonical_request(&CanonicalInput {
            method: "PUT",
            raw_path: "/examplebucket/chunkObject.txt",
            raw_query: None,
            skip_query: None,
            headers: &h,
            signed_headers: &names,
            payload_hash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        });
        let signing = example_signing();
        let to_sign = string_to_sign(&signing.amz_date, &signing.scope, &canonical);
        assert!(sigv4::signature_matches(
            &signing.key,
            to_sign.as_bytes(),
            &signing.seed_signature
        ));
    }

    #[test]
    fn aws_example_chunk_signatures() {
        let body = example_body("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
        let (data, _) = decode_signed(&[&body], Some(example_signing())).unwrap();
        assert_eq!(data, vec![b'a'; 66560]);
        // Split anywhere, the chain still verifies.
        let (data, _) = decode_signed(
            &[&body[..100], &body[100..65600], &body[65600..]],
            Some(example_signing()),
        )
        .unwrap();
        assert_eq!(data.len(), 66560);
    }

    #[test]
    fn a_bad_chunk_signature_fails() {
        let body = example_body("0000000000000000000000000000000000000000000000000000000000000000");
        let error = decode_signed(&[&body], Some(example_signing())).unwrap_err();
        assert!(matches!(error, ChunkedError::SignatureMismatch(_)));
        let mut tampered =
            example_body("ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
        tampered[200] = b'b';
        let error = decode_signed(&[&tampered], Some(example_signing())).unwrap_err();
        assert!(matches!(error, ChunkedError::SignatureMismatch(_)));
        let unsigned = b"5\r\nhello\r\n0\r\n\r\n";
        assert!(decode_signed(&[unsigned], Some(example_signing())).is_err());
    }

    #[test]
    fn signed_trailer() {
        let signing = example_signing();
        // Build a one-chunk body with a trailer and sign it as a client would.
        let sign = |to_sign: String| hex::encode(sigv4::hmac(&signing.key, to_sign.as_bytes()));
        let chunk_sig = sign(format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{}",
            signing.amz_date,
            signing.scope,
            signing.seed_signature,
            sigv4::sha256_hex(b"hello")
        ));
        let final_sig = sign(format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{chunk_sig}\n{EMPTY_SHA256}\n{EMPTY_SHA256}",
            signing.amz_date, signing.scope
        ));
        let trailer_sig = sign(format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{final_sig}\n{}",
            signing.amz_date,
            signing.scope,
            sigv4::sha256_hex(b"x-amz-checksum-crc32:NhCmhg==\n")
        ));
        let body = format!(
            "5;chunk-signature={chunk_sig}\r\nhello\r\n0;chunk-signature={final_sig}\r\nx-amz-checksum-crc32:NhCmhg==\r\nx-amz-trailer-signature:{trailer_sig}\r\n\r\n"
        );
        let (data, trailers) = decode_signed(&[body.as_bytes()], Some(signing.clone())).unwrap();
        assert_eq!(data, b"hello");
        assert_eq!(
            trailers,
            vec![("x-amz-checksum-crc32".into(), "NhCmhg==".into())]
        );
        let forged = body.replace("NhCmhg==", "AAAAAA==");
        assert_eq!(
            decode_signed(&[forged.as_bytes()], Some(signing)).unwrap_err(),
            ChunkedError::SignatureMismatch("trailer")
        );
    }

    #[test]
    fn trailers_and_lines_are_bounded() {
        let mut many = b"1\r\nx\r\n0\r\n".to_vec();
        for i in 0..MAX_TRAILERS + 1 {
            many.extend_from_slice(format!("x-amz-meta-{i}:v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(
            decode_all(&[&many]).unwrap_err(),
            ChunkedError::TrailerTooLarge
        );

        let mut big = b"1\r\nx\r\n0\r\n".to_vec();
        for _ in 0..4 {
            big.extend_from_slice(
                format!("x-amz-checksum-crc32:{}\r\n", "A".repeat(5000)).as_bytes(),
            );
        }
        assert_eq!(
            decode_all(&[&big]).unwrap_err(),
            ChunkedError::TrailerTooLarge
        );

        // A chunk-size line with endless extensions fails once it passes the bound, whole or in
        // pieces, without being buffered beyond it.
        let long = format!("5;{}\r\nhello\r\n0\r\n\r\n", "e=1;".repeat(MAX_LINE));
        assert!(matches!(
            decode_all(&[long.as_bytes()]).unwrap_err(),
            ChunkedError::Malformed(_)
        ));
        let pieces: Vec<&[u8]> = long.as_bytes().chunks(1000).collect();
        assert!(matches!(
            decode_all(&pieces).unwrap_err(),
            ChunkedError::Malformed(_)
        ));
        // Two ordinary trailers still pass.
        let ok = b"1\r\nx\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\nx-amz-meta-a:b\r\n\r\n";
        assert_eq!(decode_all(&[ok]).unwrap().1.len(), 2);
    }
}
