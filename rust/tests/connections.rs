//! Connection hardening: half-sent headers are dropped after the header timeout, and past the
//! connection limit new clients wait their turn instead of exhausting the server's files.

mod support;

use std::time::{Duration, Instant};
use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn idle_half_header_connections_cannot_starve_well_behaved_clients() {
    let s = TestServer::start_with(|config| {
        config.limits.max_connections = 8;
        config.limits.header_timeout_ms = 300;
    })
    .await;
    s.create_bucket("steady").await;
    let addr = s.server.as_ref().expect("running").local_addr;

    // Twice the limit of clients that start a request and never finish its headers.
    let mut attackers = Vec::new();
    for _ in 0..16 {
        let mut socket = TcpStream::connect(addr).await.expect("connect");
        socket
            .write_all(b"GET /steady HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("write");
        attackers.push(socket);
    }
    // A normal client is still served: at once while slots are free, else once the header
    // timeout has freed them (the request helper fails the test after 20 s).
    let started = Instant::now();
    let reply = s.get("/steady?list-type=2").await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    assert!(started.elapsed() < Duration::from_secs(10));

    // Every half-sent request is cut off by the header timeout.
    for mut socket in attackers {
        let mut buf = [0u8; 512];
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a half-sent request was held open");
    }
    assert_eq!(s.get("/steady?list-type=2").await.status.as_u16(), 200);
    s.stop().await;
}
