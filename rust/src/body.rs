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
    /// A bandwidth cap (a fault rule's), when one is set.
    pace: Option<Pace>,
    /// Bytes of the body received so far.
    received: u64,
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
            pace: None,
            received: 0,
            idle_timeout,
            idle: None,
        }
    }

    pub fn was_read(&self) -> bool {
        self.touched
    }

    /// Bytes of the body received so far (as sent, before any aws-chunked decoding).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Reads the body no faster than `bytes_per_second` from now on.
    pub fn pace(&mut self, bytes_per_second: u64) {
        self.pace = Some(Pace::new(bytes_per_second));
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
        if let Some(pace) = &mut self.pace {
            if let Some(piece) = std::task::ready!(pace.poll_piece(cx, usize::MAX)) {
                return Poll::Ready(Some(Ok(Frame::data(piece))));
            }
        }
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                self.idle = None;
                if let Some(data) = frame.as_ref().and_then(|f| f.as_ref().ok()?.data_ref()) {
                    self.received += data.len() as u64;
                }
                if let (Some(pace), Some(Ok(frame))) = (&mut self.pace, &frame) {
                    if let Some(data) = frame.data_ref() {
                        pace.hold(data.clone());
                        return self.poll_frame(cx);
                    }
                }
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
        self.pace.as_ref().is_none_or(Pace::is_empty) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let held = self.pace.as_ref().map_or(0, Pace::held);
        size_hint_plus(self.inner.size_hint(), held)
    }
}

/// A body's size hint with `extra` bytes held in front of it.
pub fn size_hint_plus(inner: SizeHint, extra: u64) -> SizeHint {
    let mut hint = SizeHint::new();
    hint.set_lower(inner.lower().saturating_add(extra));
    if let Some(upper) = inner.upper() {
        hint.set_upper(upper.saturating_add(extra));
    }
    hint
}

/// Keeps a body at or under a rate: it holds a frame and hands it on in small pieces, each
/// once the bytes before it fit the rate.
pub struct Pace {
    bytes_per_second: u64,
    started: tokio::time::Instant,
    sent: u64,
    held: Bytes,
    wait: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Pace {
    pub fn new(bytes_per_second: u64) -> Self {
        Self {
            bytes_per_second: bytes_per_second.max(1),
            started: tokio::time::Instant::now(),
            sent: 0,
            held: Bytes::new(),
            wait: None,
        }
    }

    /// Holds a frame's data to hand on; only call once the last one is handed on.
    pub fn hold(&mut self, data: Bytes) {
        self.held = data;
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    pub fn held(&self) -> u64 {
        self.held.len() as u64
    }

    /// The next piece of the held frame (at most `max` bytes) once the rate allows it;
    /// `None` when nothing is held.
    pub fn poll_piece(&mut self, cx: &mut Context<'_>, max: usize) -> Poll<Option<Bytes>> {
        if self.held.is_empty() {
            return Poll::Ready(None);
        }
        std::task::ready!(self.poll_ready(cx));
        // A twentieth of a second's worth at a time (1 byte to 64 KiB): a smooth rate.
        let piece = usize::try_from(self.bytes_per_second / 20)
            .unwrap_or(usize::MAX)
            .clamp(1, 64 * 1024);
        let n = self.held.len().min(piece).min(max);
        self.sent = self.sent.saturating_add(n as u64);
        self.wait = None;
        Poll::Ready(Some(self.held.split_to(n)))
    }

    /// Ready once the bytes sent so far fit the rate.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let due = Duration::try_from_secs_f64(self.sent as f64 / self.bytes_per_second as f64)
            .unwrap_or(Duration::MAX);
        let Some(deadline) = self.started.checked_add(due) else {
            return Poll::Pending; // centuries away: never
        };
        if tokio::time::Instant::now() >= deadline {
            self.wait = None;
            return Poll::Ready(());
        }
        let wait = self
            .wait
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        std::task::ready!(wait.as_mut().poll(cx));
        self.wait = None;
        Poll::Ready(())
    }
}
