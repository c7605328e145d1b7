//! One keep-alive HTTP/1.1 connection per worker, as an SDK's pool holds them, sending signed S3
//! requests whose bodies are generated as they are sent (a 1 GiB PUT holds one chunk in memory).

use crate::sign::{canonical_query, encode_path, Signer, UNSIGNED};
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::client::conn::http1::{handshake, SendRequest};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::net::TcpStream;

/// Where the server is and who signs for it.
#[derive(Clone)]
pub struct Endpoint {
    pub host: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
}

/// A request body of `len` bytes made by repeating `chunk`; `hash` is its SHA-256 when signed.
#[derive(Clone)]
pub struct Payload {
    pub chunk: Bytes,
    pub len: u64,
    pub hash: Option<String>,
}

impl Payload {
    pub fn empty() -> Self {
        Payload {
            chunk: Bytes::new(),
            len: 0,
            hash: Some(rusts3::crypto::sha256_hex(b"")),
        }
    }

    /// A small body sent whole and signed with its hash, as SDKs sign PutObject bodies.
    pub fn signed(bytes: Bytes) -> Self {
        let hash = rusts3::crypto::sha256_hex(&bytes);
        Payload {
            len: bytes.len() as u64,
            chunk: bytes,
            hash: Some(hash),
        }
    }

    /// A large body of `chunk` repeated up to `len` bytes, sent with UNSIGNED-PAYLOAD.
    pub fn streamed(chunk: Bytes, len: u64) -> Self {
        Payload {
            chunk,
            len,
            hash: None,
        }
    }
}

pub struct RepeatBody {
    chunk: Bytes,
    remaining: u64,
}

impl Body for RepeatBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 || self.chunk.is_empty() {
            return Poll::Ready(None);
        }
        let take = self.remaining.min(self.chunk.len() as u64) as usize;
        self.remaining -= take as u64;
        Poll::Ready(Some(Ok(Frame::data(self.chunk.slice(..take)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

pub struct Reply {
    pub status: u16,
    pub bytes: u64,
    pub etag: Option<String>,
    /// The body, when the caller asked to keep it (listings and multipart answers).
    pub text: String,
}

pub struct Client {
    endpoint: Endpoint,
    signer: Signer,
    sender: Option<SendRequest<RepeatBody>>,
}

/// Kept response bodies are small XML answers; anything larger is counted, not kept.
const KEEP_LIMIT: usize = 16 << 20;

impl Client {
    pub fn new(endpoint: &Endpoint) -> Self {
        Client {
            signer: Signer::new(&endpoint.access_key, &endpoint.secret_key, &endpoint.region),
            endpoint: endpoint.clone(),
            sender: None,
        }
    }

    async fn connection(&mut self) -> Result<&mut SendRequest<RepeatBody>, String> {
        let reusable = matches!(&self.sender, Some(s) if !s.is_closed());
        if !reusable {
            let stream = TcpStream::connect(&self.endpoint.host)
                .await
                .map_err(|e| format!("connect {}: {e}", self.endpoint.host))?;
            let _ = stream.set_nodelay(true);
            let (sender, connection) = handshake(TokioIo::new(stream))
                .await
                .map_err(|e| format!("handshake: {e}"))?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            self.sender = Some(sender);
        }
        self.sender
            .as_mut()
            .ok_or_else(|| "no connection".to_string())
    }

    /// Sends one signed request; `path` is `/bucket/key` unencoded.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        query: &[(&str, String)],
        payload: &Payload,
        keep_body: bool,
    ) -> Result<Reply, String> {
        let path = encode_path(path);
        let query = canonical_query(query);
        let hash = payload.hash.as_deref().unwrap_or(UNSIGNED);
        let signed = self
            .signer
            .sign(method, &self.endpoint.host, &path, &query, hash);
        let uri = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        let request = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", &self.endpoint.host)
            .header("x-amz-date", signed.amz_date)
            .header("x-amz-content-sha256", hash)
            .header("authorization", signed.authorization)
            .header("content-length", payload.len)
            .body(RepeatBody {
                chunk: payload.chunk.clone(),
                remaining: payload.len,
            })
            .map_err(|e| format!("request: {e}"))?;
        let sender = self.connection().await?;
        sender.ready().await.map_err(|e| format!("ready: {e}"))?;
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(e) => {
                self.sender = None;
                return Err(format!("send: {e}"));
            }
        };
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = response.into_body();
        let mut bytes = 0u64;
        let mut kept = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| format!("body: {e}"))?;
            if let Ok(data) = frame.into_data() {
                bytes += data.len() as u64;
                if (keep_body || status >= 300) && kept.len() + data.len() <= KEEP_LIMIT {
                    kept.extend_from_slice(&data);
                }
            }
        }
        Ok(Reply {
            status,
            bytes,
            etag,
            text: String::from_utf8_lossy(&kept).into_owned(),
        })
    }
}
