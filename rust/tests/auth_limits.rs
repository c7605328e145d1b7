//! Authentication against hostile numbers and payload types, over real HTTP with auth on.

mod support;

use bytes::Bytes;
use hyper::HeaderMap;
use rusts3::auth::sigv4;
use support::TestServer;

async fn auth_server() -> TestServer {
    TestServer::start_with(|config| config.auth.enabled = true).await
}

/// `Authorization` and friends for a SigV4 header-signed request with the default credentials.
fn sign_v4(
    s: &TestServer,
    method: &str,
    path: &str,
    payload_hash: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let host = s.server.as_ref().expect("running").local_addr.to_string();
    let now: chrono::DateTime<chrono::Utc> = std::time::SystemTime::now().into();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let day = &amz_date[..8];
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), host),
        ("x-amz-content-sha256".into(), payload_hash.into()),
        ("x-amz-date".into(), amz_date.clone()),
    ];
    headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    let mut map = HeaderMap::new();
    for (name, value) in &headers {
        map.insert(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
            value.parse().expect("value"),
        );
    }
    let mut signed: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    signed.sort();
    let canonical = sigv4::canonical_request(&sigv4::CanonicalInput {
        method,
        raw_path: path,
        raw_query: None,
        skip_query: None,
        headers: &map,
        signed_headers: &signed,
        payload_hash,
    });
    let scope = format!("{day}/us-east-1/s3/aws4_request");
    let to_sign = sigv4::string_to_sign(&amz_date, &scope, &canonical);
    let key = sigv4::signing_key("S3RVER", day, "us-east-1", "s3");
    let signature = hex::encode(sigv4::hmac(&key, to_sign.as_bytes()));
    headers.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential=S3RVER/{scope}, SignedHeaders={}, Signature={signature}",
            signed.join(";")
        ),
    ));
    headers.retain(|(n, _)| n != "host");
    headers
}

#[tokio::test]
async fn a_sigv2_expiry_beyond_any_clock_is_an_answer_not_a_panic() {
    let s = auth_server().await;
    let target = "/any-bucket/k?AWSAccessKeyId=S3RVER&Expires=18446744073709551615&Signature=AAAA";
    s.get(target)
        .await
        .assert_error(403, "SignatureDoesNotMatch");
    // The server is still there.
    s.get("/any-bucket/k?AWSAccessKeyId=S3RVER&Expires=1&Signature=AAAA")
        .await
        .assert_error(403, "AccessDenied");
    s.stop().await;
}

#[tokio::test]
async fn a_date_past_the_year_9999_is_an_answer_not_a_panic() {
    // Found by the fuzzer: RFC 2822 parses year 52026, and formatting it for the skew error
    // panicked. Such a date is no valid request date.
    let s = auth_server().await;
    for date in [
        "Thu, 01 Jan 52026 00:00:00 +0000",
        "Fri, 31 Dec 99999 23:59:59 +0000",
    ] {
        let reply = s
            .send(
                "GET",
                "/any-bucket/k",
                &[("date", date), ("authorization", "AWS S3RVER:c2lnbmF0dXJl")],
                Bytes::new(),
            )
            .await;
        reply.assert_error(403, "AccessDenied");
        assert!(reply.text().contains("valid Date"), "{}", reply.text());
    }
    s.stop().await;
}

#[tokio::test]
async fn sigv4a_signed_chunks_are_refused_until_they_can_be_checked() {
    let s = auth_server().await;
    let create = sign_v4(&s, "PUT", "/sigv4a", &sigv4::sha256_hex(b""), &[]);
    let create: Vec<(&str, &str)> = create
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        s.send("PUT", "/sigv4a", &create, Bytes::new())
            .await
            .status
            .as_u16(),
        200
    );

    let zeros = "0".repeat(144);
    let body = format!("5;chunk-signature={zeros}\r\nforge\r\n0;chunk-signature={zeros}\r\n\r\n");
    let length = body.len().to_string();
    let headers = sign_v4(
        &s,
        "PUT",
        "/sigv4a/k",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        &[
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "5"),
            ("content-length", &length),
        ],
    );
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    s.send("PUT", "/sigv4a/k", &headers, body)
        .await
        .assert_error(501, "NotImplemented");
    let head = sign_v4(&s, "GET", "/sigv4a/k", &sigv4::sha256_hex(b""), &[]);
    let head: Vec<(&str, &str)> = head.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    s.send("GET", "/sigv4a/k", &head, Bytes::new())
        .await
        .assert_error(404, "NoSuchKey");
    s.stop().await;
}
