//! Hostile input over raw TCP: traversal in keys, bucket names, upload and version ids and copy
//! sources (encoded, double-encoded, backslash, NUL, over-long, Unicode lookalikes); lying,
//! malformed and absurd Content-Length; broken HTTP and aws-chunked framing; truncated and stalled
//! bodies; huge, deep and entity-laden XML; oversized headers; absurd numbers in every parameter
//! that takes one. Each gets an answer below 500 (S3's error where S3 has one), never a panic, a
//! hang or a file outside the storage root, and the server goes on serving.

mod support;

use bytes::Bytes;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server whose root is `{temp}/store`, so anything written beside it is an escape.
async fn server() -> (TestServer, tempfile::TempDir) {
    let outer = tempfile::tempdir().expect("temp dir");
    let store = outer.path().join("store");
    std::fs::create_dir(&store).expect("store");
    let s = TestServer::start_with(move |config| {
        config.storage.directory = store;
        config.limits.request_timeout_ms = 500;
    })
    .await;
    (s, outer)
}

fn addr(s: &TestServer) -> SocketAddr {
    s.server.as_ref().expect("running").local_addr
}

/// What came back for raw request bytes: everything the server sent until it closed the
/// connection or fell silent for two seconds (empty when it only closed).
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    raw_then(addr, request, Duration::ZERO, b"").await
}

/// `first`, a pause, then `rest` (a stalled client), and what came back.
async fn raw_then(addr: SocketAddr, first: &[u8], pause: Duration, rest: &[u8]) -> String {
    let mut socket = TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before all is written; that is fine.
    let _ = socket.write_all(first).await;
    tokio::time::sleep(pause).await;
    let _ = socket.write_all(rest).await;
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status of a raw answer, or 0 for a closed connection.
fn status(answer: &str) -> u16 {
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Sends one request built by `request` and returns what came back.
async fn send_raw(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[&str],
    body: &[u8],
) -> String {
    raw(addr, &request(method, target, headers, body)).await
}

fn request(method: &str, target: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Asserts the answer is a client error (or, with `closed_ok`, a closed connection), never 5xx.
fn assert_refused(answer: &str, what: &str, closed_ok: bool) {
    let code = status(answer);
    assert!(
        (400..500).contains(&code) || (closed_ok && code == 0),
        "{what}: {answer}"
    );
}

fn assert_code(answer: &str, expected: u16, code: &str, what: &str) {
    assert_eq!(status(answer), expected, "{what}: {answer}");
    assert!(
        answer.contains(&format!("<Code>{code}</Code>")),
        "{what}: {answer}"
    );
}

/// Nothing was written beside the storage root, and every file is the server's own or inside
/// the bucket `inside` (any other bucket holds only its settings).
fn assert_contained(outer: &Path) {
    let beside: Vec<_> = std::fs::read_dir(outer)
        .expect("outer")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(beside, ["store"], "written beside the root");
    let store = outer.join("store");
    for file in support::files_below(&store) {
        let relative = file.strip_prefix(&store).expect("below");
        let top = relative.components().next().expect("a component");
        let top = top.as_os_str().to_string_lossy();
        let settings = relative.components().count() == 2
            && file.file_name().is_some_and(|n| n == "._S3_bucket.json");
        assert!(
            top == "inside" || top.starts_with('.') || settings,
            "a file outside the bucket: {}",
            file.display()
        );
    }
}

#[tokio::test]
async fn traversal_in_keys_stays_inside_the_bucket_and_round_trips() {
    let (s, outer) = server().await;
    s.create_bucket("inside").await;
    s.create_bucket("victim").await;
    let a = addr(&s);
    // (raw path after /inside/, the key it must decode to)
    let keys: &[(&str, &str)] = &[
        ("..%2F..%2Fescape", "../../escape"),
        ("%2e%2e/%2e%2e/escape2", "../../escape2"),
        ("%252e%252e%252fescape3", "%2e%2e%2fescape3"),
        ("..%5C..%5Cescape4", "..\\..\\escape4"),
        ("a%00b/%00", "a\0b/\0"),
        ("%2E%2E", ".."),
        ("..%2Fvictim%2Fplanted", "../victim/planted"),
        (
            "%E2%80%A4%E2%80%A4/%EF%BC%8E%EF%BC%8E%EF%BC%8Fx",
            "\u{2024}\u{2024}/\u{ff0e}\u{ff0e}\u{ff0f}x",
        ),
        ("%C0%AE%C0%AE%2F", ""), // overlong UTF-8 for '.': not UTF-8 at all
    ];
    for (raw_key, key) in keys {
        let target = format!("/inside/{raw_key}");
        let body = format!("body of {key:?}");
        let put = raw(
            a,
            &request(
                "PUT",
                &target,
                &[&format!("Content-Length: {}", body.len())],
                body.as_bytes(),
            ),
        )
        .await;
        if key.is_empty() {
            assert_code(&put, 400, "InvalidURI", raw_key);
            continue;
        }
        assert_eq!(status(&put), 200, "{raw_key}: {put}");
        let get = send_raw(a, "GET", &target, &[], b"").await;
        assert!(get.ends_with(&body), "{raw_key}: {get}");
    }
    // A segment too long for a file name, and keys at and past S3's 1024 bytes.
    let long_segment = format!("/inside/{}/x", "s".repeat(600));
    assert_eq!(s.put(&long_segment, "long").await.status, 200);
    assert_eq!(s.get(&long_segment).await.text(), "long");
    let at_limit = format!("/inside/{}", "k".repeat(1024));
    assert_eq!(s.put(&at_limit, "max").await.status, 200);
    let past = format!("/inside/{}", "k".repeat(1025));
    s.put(&past, "no")
        .await
        .assert_error(400, "KeyTooLongError");
    // The planted key is a key of `inside`, not an object of `victim`.
    let victim = s.get("/victim?list-type=2").await.text();
    assert!(!victim.contains("<Key>"), "{victim}");
    assert_contained(outer.path());
    s.stop().await;
}

#[tokio::test]
async fn traversal_in_bucket_names_ids_and_copy_sources_is_refused() {
    let (s, outer) = server().await;
    s.create_bucket("inside").await;
    assert_eq!(s.put("/inside/secret", "secret").await.status, 200);
    let a = addr(&s);
    for bucket in [
        "%2e%2e",
        ".",
        "..%2Fstore",
        "a%2Fb",
        "in%00side",
        "inside%5C..",
        "%2Ftmp",
        "INSIDE",
        "in side",
    ] {
        let put = raw(
            a,
            &request("PUT", &format!("/{bucket}"), &["Content-Length: 0"], b""),
        )
        .await;
        assert_refused(&put, bucket, false);
        let get = send_raw(a, "GET", &format!("/{bucket}/x"), &[], b"").await;
        assert_refused(&get, bucket, false);
    }
    for upload in [
        "..%2F..%2Fx",
        "%2e%2e",
        "../inside",
        "a%00b",
        &"u".repeat(5000),
    ] {
        let part = raw(
            a,
            &request(
                "PUT",
                &format!("/inside/k?partNumber=1&uploadId={upload}"),
                &["Content-Length: 1"],
                b"x",
            ),
        )
        .await;
        assert_code(&part, 404, "NoSuchUpload", upload);
        let list = raw(
            a,
            &request("GET", &format!("/inside/k?uploadId={upload}"), &[], b""),
        )
        .await;
        assert_code(&list, 404, "NoSuchUpload", upload);
    }
    for version in ["..%2F..%2Fx", "%2e%2e", "a%00b", &"v".repeat(5000)] {
        let get = raw(
            a,
            &request(
                "GET",
                &format!("/inside/secret?versionId={version}"),
                &[],
                b"",
            ),
        )
        .await;
        assert_code(&get, 400, "InvalidArgument", version);
    }
    for source in [
        "/inside/../inside/secret",
        "inside/%2e%2e/secret",
        "/../store/inside/secret",
        "/%2e%2e%2Finside/secret",
        "/inside/secret%00",
        "/",
    ] {
        let copy = raw(
            a,
            &request(
                "PUT",
                "/inside/copy",
                &[&format!("x-amz-copy-source: {source}"), "Content-Length: 0"],
                b"",
            ),
        )
        .await;
        assert_refused(&copy, source, false);
    }
    assert_eq!(s.get("/inside/copy").await.status, 404);
    assert_contained(outer.path());
    s.stop().await;
}

#[tokio::test]
async fn lying_malformed_and_absurd_framing_is_refused_and_stores_nothing() {
    let (s, outer) = server().await;
    s.create_bucket("inside").await;
    let a = addr(&s);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "two different lengths",
            request(
                "PUT",
                "/inside/f1",
                &["Content-Length: 3", "Content-Length: 5"],
                b"abcde",
            ),
        ),
        (
            "negative length",
            request("PUT", "/inside/f2", &["Content-Length: -1"], b"x"),
        ),
        (
            "non-numeric length",
            request("PUT", "/inside/f3", &["Content-Length: 12abc"], b"x"),
        ),
        (
            "length past u64",
            request(
                "PUT",
                "/inside/f4",
                &["Content-Length: 184467440737095516160"],
                b"x",
            ),
        ),
        (
            "bad HTTP chunk size",
            request(
                "PUT",
                "/inside/f5",
                &["Transfer-Encoding: chunked"],
                b"zz\r\nhello\r\n0\r\n\r\n",
            ),
        ),
        (
            "HTTP chunk size past u64",
            request(
                "PUT",
                "/inside/f6",
                &["Transfer-Encoding: chunked"],
                b"fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
            ),
        ),
        (
            "chunked and a length",
            request(
                "PUT",
                "/inside/f7",
                &["Transfer-Encoding: chunked", "Content-Length: 3"],
                b"5\r\nhello\r\n",
            ),
        ),
        (
            "unknown transfer coding",
            request("PUT", "/inside/f8", &["Transfer-Encoding: gzip"], b"x"),
        ),
        (
            "request line garbage",
            b"\x00\x01\x02 / HTTP/1.1\r\n\r\n".to_vec(),
        ),
        ("no HTTP version", b"GET /inside\r\n\r\n".to_vec()),
        (
            "a header line without colon",
            request("GET", "/inside", &["NoColonHere"], b""),
        ),
        (
            "NUL in a header value",
            request("GET", "/inside", &["x-amz-meta-a: a\0b"], b""),
        ),
    ];
    for (what, bytes) in &cases {
        assert_refused(&raw(a, bytes).await, what, true);
    }
    // A length larger than any object: refused before a byte is read. One past u64 is hyper's.
    let six_gib = request("PUT", "/inside/f9", &["Content-Length: 6442450944"], b"x");
    assert_code(
        &raw(a, &six_gib).await,
        400,
        "EntityTooLarge",
        "a 6 GiB length",
    );
    let max = request(
        "PUT",
        "/inside/f9",
        &["Content-Length: 18446744073709551615"],
        b"x",
    );
    assert_refused(&raw(a, &max).await, "u64::MAX length", true);
    // A body shorter than its length, then the client closes: nothing stored.
    let mut socket = TcpStream::connect(a).await.expect("connect");
    socket
        .write_all(&request(
            "PUT",
            "/inside/short",
            &["Content-Length: 100"],
            b"only ten b",
        ))
        .await
        .expect("write");
    socket.shutdown().await.expect("half-close");
    let mut answer = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_string(&mut answer)).await;
    assert_refused(&answer, "short body", true);
    // A body that stalls half-way: cut off by the request timeout with RequestTimeout.
    let stalled = raw_then(
        a,
        &request("PUT", "/inside/stalled", &["Content-Length: 10"], b"12345"),
        Duration::from_millis(1500),
        b"67890",
    )
    .await;
    assert_code(&stalled, 400, "RequestTimeout", "stalled body");
    // aws-chunked framing: every kind of broken frame is a 400, and nothing is stored.
    let chunked = [
        "Content-Encoding: aws-chunked",
        "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    ];
    let frames: &[(&str, &str, &[u8])] = &[
        ("size not hex", "5", b"zz\r\nhello\r\n0\r\n\r\n"),
        (
            "size past u64",
            "5",
            b"fffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
        ),
        ("chunk longer than said", "5", b"3\r\nhello\r\n0\r\n\r\n"),
        ("no final chunk", "5", b"5\r\nhello\r\n"),
        ("no CRLF after data", "5", b"5\r\nhelloX0\r\n\r\n"),
        ("decoded length lies", "9", b"5\r\nhello\r\n0\r\n\r\n"),
        (
            "decoded length absurd",
            "99999999999999999999999",
            b"5\r\nhello\r\n0\r\n\r\n",
        ),
        (
            "trailer without colon",
            "5",
            b"5\r\nhello\r\n0\r\nbroken\r\n\r\n",
        ),
    ];
    for (what, decoded, body) in frames {
        let mut headers = chunked.to_vec();
        let decoded = format!("x-amz-decoded-content-length: {decoded}");
        let length = format!("Content-Length: {}", body.len());
        headers.push(&decoded);
        headers.push(&length);
        let answer = send_raw(a, "PUT", "/inside/framed", &headers, body).await;
        assert_refused(&answer, what, false);
    }
    let listing = s.get("/inside?list-type=2").await.text();
    assert!(
        !listing.contains("<Key>"),
        "something was stored: {listing}"
    );
    assert!(
        support::files_below(&outer.path().join("store/.tmp")).is_empty(),
        "temp files left"
    );
    assert_eq!(s.put("/inside/fine", "still serving").await.status, 200);
    s.stop().await;
}

#[tokio::test]
async fn huge_deep_and_entity_xml_and_oversized_headers_are_refused() {
    let (s, _outer) = server().await;
    s.create_bucket("inside").await;
    let a = addr(&s);
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><Tagging><TagSet><Tag><Key>&d;</Key><Value>&d;</Value></Tag></TagSet></Tagging>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><Tagging><TagSet><Tag><Key>k</Key><Value>&x;</Value></Tag></TagSet></Tagging>"#;
    let huge = format!(
        "<Tagging><TagSet>{}</TagSet></Tagging>",
        "<Tag><Key>k</Key><Value>v</Value></Tag>".repeat(100_000)
    );
    for (what, target, body) in [
        ("deep tagging", "/inside?tagging", deep.as_str()),
        ("deep delete", "/inside?delete", deep.as_str()),
        ("entity expansion", "/inside?tagging", laughs),
        ("external entity", "/inside?tagging", external),
        ("huge tagging", "/inside?tagging", huge.as_str()),
    ] {
        let method = if target.ends_with("delete") {
            "POST"
        } else {
            "PUT"
        };
        let reply = s.send(method, target, &[], body.to_string()).await;
        assert!(
            (400..500).contains(&reply.status.as_u16()),
            "{what}: {}",
            reply.text()
        );
        assert!(!reply.text().contains("root:"), "{what} read a file");
    }
    s.get("/inside?tagging")
        .await
        .assert_error(404, "NoSuchTagSet");
    // Past S3's 8 KiB header section: its error, with the limit; just under: served.
    let big = format!("x-amz-meta-big: {}", "b".repeat(9000));
    let refused = send_raw(a, "GET", "/inside", &[&big], b"").await;
    assert_code(
        &refused,
        400,
        "RequestHeaderSectionTooLarge",
        "a 9 kB header",
    );
    assert!(
        refused.contains("<MaxSizeAllowed>8192</MaxSizeAllowed>"),
        "{refused}"
    );
    let fine = format!("x-filler: {}", "f".repeat(7000));
    assert_eq!(
        status(&send_raw(a, "GET", "/inside", &[&fine], b"").await),
        200
    );
    let huge = format!("x-amz-meta-big: {}", "b".repeat(1_000_000));
    assert_refused(
        &send_raw(a, "GET", "/inside", &[&huge], b"").await,
        "a 1 MB header",
        true,
    );
    let many: Vec<String> = (0..1000).map(|i| format!("x-h{i}: v")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_refused(
        &send_raw(a, "GET", "/inside", &many, b"").await,
        "a thousand headers",
        true,
    );
    let long_target = format!("/inside/{}", "t".repeat(100_000));
    assert_refused(
        &send_raw(a, "GET", &long_target, &[], b"").await,
        "a 100 kB target",
        true,
    );
    assert_eq!(s.get("/inside?list-type=2").await.status, 200);
    s.stop().await;
}

#[tokio::test]
async fn absurd_numbers_get_s3_errors_not_panics() {
    let (s, _outer) = server().await;
    s.create_bucket("inside").await;
    assert_eq!(s.put("/inside/k", "0123456789").await.status, 200);
    let upload = s
        .send("POST", "/inside/mp?uploads", &[], Bytes::new())
        .await
        .text();
    let start = upload.find("<UploadId>").expect("id") + "<UploadId>".len();
    let id = &upload[start..upload[start..].find('<').expect("end") + start];
    let big = "99999999999999999999999";
    let queries = [
        format!("/inside?list-type=2&max-keys={big}"),
        "/inside?list-type=2&max-keys=-1".to_string(),
        format!("/inside?max-keys={big}"),
        format!("/inside?uploads&max-uploads={big}"),
        format!("/inside?versions&max-keys={big}"),
        format!("/inside/mp?uploadId={id}&max-parts={big}"),
        format!("/inside/mp?uploadId={id}&part-number-marker={big}"),
        format!("/inside/k?partNumber={big}"),
        "/inside/k?partNumber=0".to_string(),
        "/inside/k?partNumber=-1".to_string(),
        "/inside?list-type=2&continuation-token=%FF%FE".to_string(),
        "/inside?list-type=2&continuation-token=AAAA".to_string(),
        "/inside?list-type=3".to_string(),
        format!("/inside/k?X-Amz-Expires={big}&X-Amz-Algorithm=AWS4-HMAC-SHA256"),
        format!("/inside/k?AWSAccessKeyId=x&Expires={big}&Signature=x"),
    ];
    for target in &queries {
        let reply = s.get(target).await;
        assert!(
            reply.status.as_u16() < 500,
            "{target}: {} {}",
            reply.status,
            reply.text()
        );
    }
    for (what, target) in [
        (
            "partNumber too big",
            format!("/inside/mp?partNumber={big}&uploadId={id}"),
        ),
        (
            "partNumber 10001",
            format!("/inside/mp?partNumber=10001&uploadId={id}"),
        ),
        (
            "partNumber 0",
            format!("/inside/mp?partNumber=0&uploadId={id}"),
        ),
    ] {
        let reply = s.put(&target, "x").await;
        assert!(
            (400..500).contains(&reply.status.as_u16()),
            "{what}: {}",
            reply.text()
        );
    }
    for range in [
        format!("bytes={big}-"),
        format!("bytes=0-{big}"),
        format!("bytes=-{big}"),
        "bytes=5-2".to_string(),
        "bytes=--1".to_string(),
        "bytes=0-1,2-3,4-5".to_string(),
        "bytes=".to_string(),
        "lines=0-1".to_string(),
    ] {
        let reply = s
            .send("GET", "/inside/k", &[("range", &range)], Bytes::new())
            .await;
        assert!(
            [200, 206, 416].contains(&reply.status.as_u16()),
            "Range {range}: {} {}",
            reply.status,
            reply.text()
        );
        if reply.status.as_u16() == 200 {
            assert_eq!(
                reply.body.as_ref(),
                b"0123456789",
                "Range {range} ignored means the whole body"
            );
        }
    }
    for (name, value) in [
        ("x-amz-copy-source-range", format!("bytes=0-{big}")),
        ("x-amz-copy-source-range", "bytes=9-1".to_string()),
        ("x-amz-copy-source-range", format!("bytes={big}-{big}")),
    ] {
        let reply = s
            .send(
                "PUT",
                &format!("/inside/mp?partNumber=1&uploadId={id}"),
                &[("x-amz-copy-source", "/inside/k"), (name, &value)],
                Bytes::new(),
            )
            .await;
        assert!(
            (400..500).contains(&reply.status.as_u16()),
            "{name}: {value}: {}",
            reply.text()
        );
    }
    for (name, value) in [
        ("if-modified-since", "Sat, 01 Jan 99999 00:00:00 GMT"),
        ("if-modified-since", "Thu, 01 Jan 52026 00:00:00 GMT"),
        ("if-unmodified-since", "Fri, 31 Dec 10000 23:59:59 GMT"),
        ("if-unmodified-since", "not a date"),
        (
            "x-amz-object-lock-retain-until-date",
            "9999999-01-01T00:00:00Z",
        ),
        ("x-amz-date", "99991399T999999Z"),
    ] {
        let reply = s
            .send("GET", "/inside/k", &[(name, value)], Bytes::new())
            .await;
        assert!(
            reply.status.as_u16() < 500,
            "{name}: {value}: {}",
            reply.text()
        );
    }
    let lifecycle = format!(
        "<LifecycleConfiguration><Rule><ID>r</ID><Status>Enabled</Status><Filter/><Expiration><Days>{big}</Days></Expiration></Rule></LifecycleConfiguration>"
    );
    let reply = s.put("/inside?lifecycle", lifecycle).await;
    assert!(
        (400..500).contains(&reply.status.as_u16()),
        "lifecycle days: {}",
        reply.text()
    );
    assert_eq!(s.get("/inside/k").await.text(), "0123456789");
    s.stop().await;
}
