//! An in-process server on 127.0.0.1:0 in a temp directory, and a minimal HTTP/1.1 client for it.
#![allow(dead_code)] // each test file uses its own part of this

pub mod process;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{HeaderMap, Request, StatusCode};
use rusts3::config::Config;
use rusts3::server::RunningServer;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// Every request of a test is bounded: a hang fails the test instead of stalling `cargo test`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

pub struct TestServer {
    pub server: Option<RunningServer>,
    pub dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `<Code>` of an S3 error document.
    pub fn error_code(&self) -> Option<String> {
        let text = self.text();
        let start = text.find("<Code>")? + "<Code>".len();
        let end = text[start..].find("</Code>")? + start;
        Some(text[start..end].to_string())
    }

    /// Asserts an S3 error: status and code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status of {}", self.text());
        assert_eq!(
            self.error_code().as_deref(),
            Some(code),
            "in {}",
            self.text()
        );
    }
}

impl TestServer {
    /// A server with the default config (auth off) on a fresh directory.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::default();
        config.storage.directory = dir.path().to_path_buf();
        adjust(&mut config);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let server = RunningServer::start_on(listener, config)
            .await
            .expect("server starts");
        Self {
            server: Some(server),
            dir,
        }
    }

    fn running(&self) -> &RunningServer {
        self.server.as_ref().expect("server is running")
    }

    /// Sends one request on a new connection. `target` is the path and query.
    pub async fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        send_to(
            self.running().local_addr,
            method,
            target,
            headers,
            body.into(),
        )
        .await
        .expect("the request was answered in time")
    }

    pub async fn get(&self, target: &str) -> Reply {
        self.send("GET", target, &[], Bytes::new()).await
    }

    pub async fn put(&self, target: &str, body: impl Into<Bytes>) -> Reply {
        self.send("PUT", target, &[], body).await
    }

    pub async fn create_bucket(&self, bucket: &str) {
        let reply = self.put(&format!("/{bucket}"), Bytes::new()).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "create {bucket}: {}",
            reply.text()
        );
    }

    pub async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }
}

/// Sends one request on a new connection to `addr`; an error when the connection fails or no
/// answer comes within the request timeout (a server killed mid-request, for instance).
pub async fn send_to(
    addr: std::net::SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Result<Reply, String> {
    let exchange = async {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(target)
            .header("host", addr.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| "no answer in time".to_string())?
}

/// Every file below `dir`, however deep (none when it does not exist).
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_below(&path));
        } else {
            found.push(path);
        }
    }
    found
}
