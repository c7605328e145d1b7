//! Decoder for `aws-chunked` request bodies (`Content-Encoding: aws-chunked`).
//!
//! Framing: `<hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n` repeated, then a zero-size chunk,
//! optional trailer lines `name:value\r\n`, and an empty line. Payload bytes are passed on
//! without copying; trailers (e.g. `x-amz-checksum-crc32`) are collected for the handler to check
//! once the body has ended. Signature verification of chunks is the auth issue's; here
//! signatures are parsed and ignored.

use crate::s3_error::{S3Error, S3ErrorCode};
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Longest header or trailer line accepted; real ones are under 200 bytes.
const MAX_LINE: usize = 8 * 1024;

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

pub struct ChunkedDecoder {
    state: State,
    line: BytesMut,
    trailers: Vec<(String, String)>,
}

fn malformed(detail: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        format!("Malformed aws-chunked request body: {detail}"),
    )
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    pub fn new() -> Self {
        Self {
            state: State::ChunkHeader,
            line: BytesMut::new(),
            trailers: Vec::new(),
        }
    }

    /// Consumes framed input, appending decoded payload slices to `out`.
    pub fn feed(&mut self, mut input: Bytes, out: &mut Vec<Bytes>) -> Result<(), S3Error> {
        while !input.is_empty() {
            match self.state {
                State::ChunkData(remaining) => {
                    let n = remaining.min(input.len() as u64) as usize;
                    out.push(input.split_to(n));
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
                        self.line.extend_from_slice(&input.split_to(pos + 1));
                        let line = std::mem::take(&mut self.line);
                        self.handle_line(&line)?;
                    }
                    None => {
                        self.line.extend_from_slice(&input);
                        input.clear();
                    }
                },
            }
            if self.line.len() > MAX_LINE {
                return Err(malformed("line too long"));
            }
        }
        Ok(())
    }

    fn handle_line(&mut self, line: &[u8]) -> Result<(), S3Error> {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let text = std::str::from_utf8(line).map_err(|_| malformed("non-UTF-8 framing"))?;
        match self.state {
            State::ChunkHeader => {
                let size_text = text.split(';').next().unwrap_or("").trim();
                let size = u64::from_str_radix(size_text, 16)
                    .map_err(|_| malformed("invalid chunk size"))?;
                self.state = if size == 0 {
                    State::Trailer
                } else {
                    State::ChunkData(size)
                };
            }
            State::ChunkEnd => {
                if !text.is_empty() {
                    return Err(malformed("chunk data longer than its declared size"));
                }
                self.state = State::ChunkHeader;
            }
            State::Trailer => {
                if text.is_empty() {
                    self.state = State::Done;
                } else {
                    let (name, value) = text
                        .split_once(':')
                        .ok_or_else(|| malformed("invalid trailer line"))?;
                    self.trailers
                        .push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
                }
            }
            State::ChunkData(_) | State::Done => {}
        }
        Ok(())
    }

    /// Called at the end of input: the body must have ended with its final chunk.
    pub fn finish(self) -> Result<Vec<(String, String)>, S3Error> {
        match self.state {
            State::Done => Ok(self.trailers),
            // Some clients end right after the zero chunk's line without the closing CRLF.
            State::Trailer if self.line.is_empty() => Ok(self.trailers),
            _ => Err(S3Error::with_message(
                S3ErrorCode::IncompleteBody,
                "The aws-chunked request body ended before its final chunk.",
            )),
        }
    }
}

/// Wraps a framed body stream into a stream of payload bytes. Trailers land in `trailers` when
/// the body has been read to its end.
pub fn decode<S, E>(input: S, trailers: Trailers) -> impl Stream<Item = Result<Bytes, S3Error>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<S3Error>,
{
    struct St<S> {
        input: S,
        decoder: Option<ChunkedDecoder>,
        ready: VecDeque<Bytes>,
        trailers: Trailers,
    }
    let state = St {
        input,
        decoder: Some(ChunkedDecoder::new()),
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
                        return Some((Err(e), st));
                    }
                    st.ready.extend(out.into_iter().filter(|b| !b.is_empty()));
                }
                Some(Err(e)) => {
                    st.decoder = None;
                    return Some((Err(e.into()), st));
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
                        Err(e) => return Some((Err(e), st)),
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(pieces: &[&[u8]]) -> Result<(Vec<u8>, Vec<(String, String)>), S3Error> {
        let mut d = ChunkedDecoder::new();
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
        assert_eq!(e.code, S3ErrorCode::IncompleteBody);
        let e = decode_all(&[b"5\r\nhello\r\n"]).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::IncompleteBody);
        assert!(decode_all(&[b"zz\r\nhello\r\n0\r\n\r\n"]).is_err());
        assert!(decode_all(&[b"3\r\nhello\r\n0\r\n\r\n"]).is_err());
        assert!(decode_all(&[b"0\r\n\r\nextra"]).is_err());
    }
}
