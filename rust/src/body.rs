//! Request and response bodies as handlers see them: a request body that remembers whether it
//! was read (so the pipeline can drain it before an early error), and boxed response bodies that
//! are either small buffers or a file streamed in large chunks.

use crate::s3_error::{S3Error, S3ErrorCode};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{combinators::BoxBody, BodyExt, BodyStream, Empty, Full};
use hyper::body::Incoming;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

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
pub fn file(file: std::fs::File, len: u64) -> ResponseBody {
    BodyExt::boxed(FileBody {
        file,
        remaining: len,
    })
}

/// A file sent in `FILE_CHUNK` reads made on the calling thread: the data is nearly always in
/// the page cache, where a read costs less than a hop to the blocking pool (one per chunk, two
/// thread switches each). hyper polls for the next chunk only once the last one is written, so
/// one chunk per response is in memory.
struct FileBody {
    file: std::fs::File,
    remaining: u64,
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        use std::io::Read;
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = self.remaining.min(FILE_CHUNK as u64);
        // `read_to_end` fills spare capacity without zeroing it first.
        let mut chunk = Vec::with_capacity(want as usize);
        let this = &mut *self;
        if let Err(e) = (&mut this.file).take(want).read_to_end(&mut chunk) {
            return Poll::Ready(Some(Err(e)));
        }
        if chunk.is_empty() {
            // Data files never shrink; a short one is damage, not the end of the object.
            return Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the data file is shorter than its record says",
            ))));
        }
        this.remaining -= chunk.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// The request body, wrapped so the pipeline knows whether a handler started reading it, and so
/// a client that stops sending mid-body is cut off after `idle_timeout` instead of holding the
/// request open forever.
pub struct RequestBody {
    inner: Incoming,
    touched: bool,
    idle_timeout: Duration,
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// Why reading a request body failed.
#[derive(Debug)]
pub enum BodyError {
    Transport(hyper::Error),
    /// No bytes arrived within the idle timeout.
    Idle,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "{e}"),
            Self::Idle => write!(f, "no data within the idle timeout"),
        }
    }
}

impl std::error::Error for BodyError {}

impl RequestBody {
    pub fn new(inner: Incoming, idle_timeout: Duration) -> Self {
        Self {
            inner,
            touched: false,
            idle_timeout,
            idle: None,
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
                Err(BodyError::Idle) => Some(Err(S3Error::new(S3ErrorCode::RequestTimeout))),
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
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        self.touched = true;
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                self.idle = None;
                Poll::Ready(frame.map(|f| f.map_err(BodyError::Transport)))
            }
            Poll::Pending => {
                let timeout = self.idle_timeout;
                let idle = self
                    .idle
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match idle.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(BodyError::Idle))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
