//! Request and response bodies as handlers see them: a request body that remembers whether it
//! was read (so the pipeline can drain it before an early error), and boxed response bodies that
//! are either small buffers or a file streamed in large chunks.

use crate::s3_error::{S3Error, S3ErrorCode};
use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{combinators::BoxBody, BodyExt, BodyStream, Empty, Full, StreamBody};
use hyper::body::Incoming;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncReadExt;

pub type ResponseBody = BoxBody<Bytes, std::io::Error>;

/// Read size for streaming files out: large enough to keep syscalls and task hops rare.
const FILE_CHUNK: usize = 256 * 1024;

pub fn empty() -> ResponseBody {
    Empty::new().map_err(|never| match never {}).boxed()
}

pub fn full(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// Streams `len` bytes of `file` from its current position.
pub fn file(file: tokio::fs::File, len: u64) -> ResponseBody {
    let reader = tokio_util::io::ReaderStream::with_capacity(file.take(len), FILE_CHUNK);
    BodyExt::boxed(StreamBody::new(reader.map_ok(Frame::data)))
}

/// The request body, wrapped so the pipeline knows whether a handler started reading it.
pub struct RequestBody {
    inner: Incoming,
    touched: bool,
}

impl RequestBody {
    pub fn new(inner: Incoming) -> Self {
        Self {
            inner,
            touched: false,
        }
    }

    pub fn was_read(&self) -> bool {
        self.touched
    }

    /// The payload as a stream of byte chunks; transport errors become `IncompleteBody`.
    pub fn stream(&mut self) -> impl Stream<Item = Result<Bytes, S3Error>> + Send + Unpin + '_ {
        BodyStream::new(self).filter_map(|frame| {
            std::future::ready(match frame {
                Ok(frame) => frame.into_data().ok().map(Ok),
                Err(e) => Some(Err(S3Error::with_message(
                    S3ErrorCode::IncompleteBody,
                    format!("The request body could not be read completely: {e}"),
                ))),
            })
        })
    }

    /// Reads a small body (an XML document) whole, refusing more than `limit` bytes.
    pub async fn read_small(&mut self, limit: usize) -> Result<Vec<u8>, S3Error> {
        let mut out = Vec::new();
        let mut stream = self.stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if out.len() + chunk.len() > limit {
                return Err(S3Error::with_message(
                    S3ErrorCode::MalformedXML,
                    format!("The request body is larger than the {limit} bytes allowed for this operation."),
                ));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// Reads and discards what is left, up to `limit` bytes; true if the body ended.
    pub async fn drain(&mut self, limit: u64) -> bool {
        let mut seen = 0u64;
        let mut stream = self.stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => {
                    seen += chunk.len() as u64;
                    if seen > limit {
                        return false;
                    }
                }
                Err(_) => return false,
            }
        }
        true
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        self.touched = true;
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
