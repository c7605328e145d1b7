//! Each handler family's error answers, through real HTTP against an in-process server: the
//! S3 code and status, the details S3 adds, and no body on HEAD.

mod support;

use bytes::Bytes;
use support::TestServer;

#[tokio::test]
async fn routing_answers_method_not_allowed_and_not_implemented() {
    let s = TestServer::start().await;
    s.create_bucket("route").await;
    s.send("PATCH", "/route/k", &[], Bytes::new())
        .await
        .assert_error(405, "MethodNotAllowed");
    s.send("DELETE", "/", &[], Bytes::new())
        .await
        .assert_error(405, "MethodNotAllowed");
    s.get("/route/k?uploads")
        .await
        .assert_error(405, "MethodNotAllowed");
    s.put("/route?website", "<WebsiteConfiguration/>")
        .await
        .assert_error(501, "NotImplemented");
    s.put("/route?policy", "{}")
        .await
        .assert_error(400, "MalformedPolicy");
    s.get("/route/%FF").await.assert_error(400, "InvalidURI");
    s.get("/route/k?versionId=3HL4kqtJlcpXroDTDmJ")
        .await
        .assert_error(400, "InvalidArgument");
    s.stop().await;
}

#[tokio::test]
async fn bucket_errors() {
    let s = TestServer::start().await;
    s.put("/Not_A_Bucket", Bytes::new())
        .await
        .assert_error(400, "InvalidBucketName");
    let missing = s.get("/nobucket").await;
    missing.assert_error(404, "NoSuchBucket");
    assert!(missing.text().contains("<BucketName>nobucket</BucketName>"));
    let head = s.send("HEAD", "/nobucket", &[], Bytes::new()).await;
    assert_eq!(head.status.as_u16(), 404);
    assert!(head.body.is_empty(), "HEAD errors have no body");

    s.create_bucket("full").await;
    assert_eq!(s.put("/full/k", "x").await.status.as_u16(), 200);
    s.send("DELETE", "/full", &[], Bytes::new())
        .await
        .assert_error(409, "BucketNotEmpty");
    s.get("/full?tagging")
        .await
        .assert_error(404, "NoSuchTagSet");
    s.get("/full?cors")
        .await
        .assert_error(404, "NoSuchCORSConfiguration");
    s.put("/full?tagging", "<Tagging><TagSet>")
        .await
        .assert_error(400, "MalformedXML");
    s.put("/full?acl", "<AccessControlPolicy>")
        .await
        .assert_error(400, "MalformedACLError");
    s.stop().await;
}

#[tokio::test]
async fn object_errors() {
    let s = TestServer::start().await;
    s.create_bucket("obj").await;
    let missing = s.get("/obj/nope.txt").await;
    missing.assert_error(404, "NoSuchKey");
    assert!(missing.text().contains("<Key>nope.txt</Key>"));
    let head = s.send("HEAD", "/obj/nope.txt", &[], Bytes::new()).await;
    assert_eq!(head.status.as_u16(), 404);
    assert!(head.body.is_empty());

    assert_eq!(s.put("/obj/ten", "0123456789").await.status.as_u16(), 200);
    let range = s
        .send("GET", "/obj/ten", &[("range", "bytes=20-30")], Bytes::new())
        .await;
    range.assert_error(416, "InvalidRange");
    assert_eq!(range.header("content-range"), Some("bytes */10"));
    let wrong_md5 = s
        .send(
            "PUT",
            "/obj/ten",
            &[("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")],
            "other",
        )
        .await;
    wrong_md5.assert_error(400, "BadDigest");
    s.send("PUT", "/obj/ten", &[("content-md5", "not base64")], "other")
        .await
        .assert_error(400, "InvalidDigest");
    s.send(
        "GET",
        "/obj/ten",
        &[("if-match", "\"nomatch\"")],
        Bytes::new(),
    )
    .await
    .assert_error(412, "PreconditionFailed");
    let not_modified = s
        .send("GET", "/obj/ten", &[("if-none-match", "*")], Bytes::new())
        .await;
    assert_eq!(not_modified.status.as_u16(), 304);
    s.send("PUT", "/obj/ten", &[("if-none-match", "*")], "again")
        .await
        .assert_error(412, "PreconditionFailed");
    assert_eq!(
        s.get("/obj/ten").await.text(),
        "0123456789",
        "failed writes change nothing"
    );
    s.get("/obj/ten?partNumber=0")
        .await
        .assert_error(400, "InvalidArgument");
    s.stop().await;
}

#[tokio::test]
async fn listing_errors() {
    let s = TestServer::start().await;
    s.create_bucket("list").await;
    s.get("/list?list-type=2&max-keys=-1")
        .await
        .assert_error(400, "InvalidArgument");
    s.get("/list?list-type=2&max-keys=many")
        .await
        .assert_error(400, "InvalidArgument");
    s.get("/list?list-type=2&continuation-token=%21%21")
        .await
        .assert_error(400, "InvalidArgument");
    s.get("/list?encoding-type=base64")
        .await
        .assert_error(400, "InvalidArgument");
    s.stop().await;
}

#[tokio::test]
async fn multipart_errors() {
    let s = TestServer::start().await;
    s.create_bucket("mpu").await;
    s.put("/mpu/k?partNumber=1&uploadId=nope", "x")
        .await
        .assert_error(404, "NoSuchUpload");
    s.send("DELETE", "/mpu/k?uploadId=nope", &[], Bytes::new())
        .await
        .assert_error(404, "NoSuchUpload");
    let created = s.send("POST", "/mpu/k?uploads", &[], Bytes::new()).await;
    assert_eq!(created.status.as_u16(), 200);
    let text = created.text();
    let start = text.find("<UploadId>").expect("an upload id") + "<UploadId>".len();
    let end = text[start..].find("</UploadId>").expect("closed") + start;
    let id = &text[start..end];
    s.put(&format!("/mpu/k?partNumber=0&uploadId={id}"), "x")
        .await
        .assert_error(400, "InvalidArgument");
    s.put(&format!("/mpu/k?partNumber=10001&uploadId={id}"), "x")
        .await
        .assert_error(400, "InvalidArgument");
    s.put(&format!("/mpu/k?uploadId={id}"), "x")
        .await
        .assert_error(400, "InvalidArgument");
    let complete =
        |parts: &str| format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>");
    let part = |n: u32, etag: &str| {
        format!("<Part><PartNumber>{n}</PartNumber><ETag>\"{etag}\"</ETag></Part>")
    };
    s.send(
        "POST",
        &format!("/mpu/k?uploadId={id}"),
        &[],
        complete(&part(1, "00000000000000000000000000000000")),
    )
    .await
    .assert_error(400, "InvalidPart");
    let etag_of = |r: &support::Reply| {
        r.header("etag")
            .unwrap_or_default()
            .trim_matches('"')
            .to_string()
    };
    let one = s
        .put(&format!("/mpu/k?partNumber=1&uploadId={id}"), "one")
        .await;
    let two = s
        .put(&format!("/mpu/k?partNumber=2&uploadId={id}"), "two")
        .await;
    s.send(
        "POST",
        &format!("/mpu/k?uploadId={id}"),
        &[],
        complete(&(part(2, &etag_of(&two)) + &part(1, &etag_of(&one)))),
    )
    .await
    .assert_error(400, "InvalidPartOrder");
    s.send("POST", &format!("/mpu/k?uploadId={id}"), &[], "<Complete")
        .await
        .assert_error(400, "MalformedXML");
    s.get(&format!("/mpu/k?uploadId={id}&max-parts=x"))
        .await
        .assert_error(400, "InvalidArgument");
    s.stop().await;
}

#[tokio::test]
async fn copy_and_tagging_errors() {
    let s = TestServer::start().await;
    s.create_bucket("cpy").await;
    s.send(
        "PUT",
        "/cpy/dst",
        &[("x-amz-copy-source", "/cpy/missing")],
        Bytes::new(),
    )
    .await
    .assert_error(404, "NoSuchKey");
    s.send(
        "PUT",
        "/cpy/dst",
        &[("x-amz-copy-source", "/nobucket/k")],
        Bytes::new(),
    )
    .await
    .assert_error(404, "NoSuchBucket");
    s.send(
        "PUT",
        "/cpy/dst",
        &[("x-amz-copy-source", "nokey")],
        Bytes::new(),
    )
    .await
    .assert_error(400, "InvalidArgument");
    assert_eq!(s.put("/cpy/src", "x").await.status.as_u16(), 200);
    s.send(
        "PUT",
        "/cpy/src",
        &[("x-amz-copy-source", "/cpy/src")],
        Bytes::new(),
    )
    .await
    .assert_error(400, "InvalidRequest");
    s.get("/cpy/missing?tagging")
        .await
        .assert_error(404, "NoSuchKey");
    let too_many: String = (0..11)
        .map(|i| format!("<Tag><Key>k{i}</Key><Value>v</Value></Tag>"))
        .collect();
    let eleven = s
        .put(
            "/cpy/src?tagging",
            format!("<Tagging><TagSet>{too_many}</TagSet></Tagging>"),
        )
        .await;
    assert_eq!(eleven.status.as_u16(), 400);
    assert!(eleven.text().contains("cannot be greater than 10"));
    s.stop().await;
}

#[tokio::test]
async fn aws_chunked_bodies_with_endless_trailers_or_lines_get_a_400() {
    let s = TestServer::start().await;
    s.create_bucket("chunky").await;
    let chunked = [
        ("content-encoding", "aws-chunked"),
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("x-amz-decoded-content-length", "5"),
    ];
    // A megabyte of trailer lines: refused as soon as the bound is passed, nothing stored.
    let mut body = b"5\r\nhello\r\n0\r\n".to_vec();
    for i in 0..50_000 {
        body.extend_from_slice(format!("x-amz-meta-{i}:v\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    s.send("PUT", "/chunky/k", &chunked, body)
        .await
        .assert_error(400, "MalformedTrailerError");
    let long_line = format!("5;{}\r\nhello\r\n0\r\n\r\n", "ext=1;".repeat(10_000));
    s.send("PUT", "/chunky/k", &chunked, long_line)
        .await
        .assert_error(400, "InvalidRequest");
    s.get("/chunky/k").await.assert_error(404, "NoSuchKey");
    let fine = s
        .send(
            "PUT",
            "/chunky/k",
            &chunked,
            "5\r\nhello\r\n0\r\nx-amz-meta-a:b\r\n\r\n",
        )
        .await;
    assert_eq!(fine.status.as_u16(), 200, "{}", fine.text());
    assert_eq!(s.get("/chunky/k").await.text(), "hello");
    s.stop().await;
}

#[tokio::test]
async fn a_post_form_may_not_hold_megabytes_of_fields() {
    let s = TestServer::start().await;
    s.create_bucket("forms").await;
    let value = "v".repeat(60 * 1024);
    let mut body = String::new();
    for i in 0..3 {
        body.push_str(&format!(
            "--B\r\nContent-Disposition: form-data; name=\"x-amz-meta-f{i}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str("--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n");
    body.push_str("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n--B--\r\n");
    let form = [("content-type", "multipart/form-data; boundary=B")];
    s.send("POST", "/forms", &form, body)
        .await
        .assert_error(400, "MaxPostPreDataLengthExceeded");
    s.get("/forms/k").await.assert_error(404, "NoSuchKey");
    let small = "--B\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n--B--\r\n";
    assert_eq!(
        s.send("POST", "/forms", &form, small).await.status.as_u16(),
        204
    );
    assert_eq!(s.get("/forms/k").await.text(), "x");
    s.stop().await;
}

#[tokio::test]
async fn multi_delete_attributes_and_acl_errors() {
    let s = TestServer::start().await;
    s.create_bucket("misc").await;
    assert_eq!(s.put("/misc/k", "x").await.status.as_u16(), 200);
    s.send("POST", "/misc?delete", &[], "<Delete><Object>")
        .await
        .assert_error(400, "MalformedXML");
    let too_many: String = (0..1001)
        .map(|i| format!("<Object><Key>k{i}</Key></Object>"))
        .collect();
    s.send(
        "POST",
        "/misc?delete",
        &[],
        format!("<Delete>{too_many}</Delete>"),
    )
    .await
    .assert_error(400, "MalformedXML");
    s.get("/misc/k?attributes")
        .await
        .assert_error(400, "InvalidArgument");
    s.send(
        "GET",
        "/misc/nope?attributes",
        &[("x-amz-object-attributes", "ETag")],
        Bytes::new(),
    )
    .await
    .assert_error(404, "NoSuchKey");
    s.send(
        "PUT",
        "/misc/k?acl",
        &[("x-amz-acl", "public-read")],
        "<AccessControlPolicy/>",
    )
    .await
    .assert_error(400, "UnexpectedContent");
    s.send("PUT", "/misc/k?acl", &[], Bytes::new())
        .await
        .assert_error(400, "MissingSecurityHeader");
    s.send(
        "PUT",
        "/misc/k",
        &[("x-amz-acl", "no-such-canned-acl")],
        "x",
    )
    .await
    .assert_error(400, "InvalidArgument");
    s.stop().await;
}

#[tokio::test]
async fn well_formed_but_wrong_checksums_are_bad_digests() {
    let s = TestServer::start().await;
    s.create_bucket("sums").await;
    let zero32 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let zero8 = "AAAAAAAAAAA=";
    for (header, value) in [
        ("x-amz-checksum-sha256", zero32),
        ("x-amz-checksum-crc64nvme", zero8),
    ] {
        s.send("PUT", "/sums/k", &[(header, value)], "body")
            .await
            .assert_error(400, "BadDigest");
        s.send("PUT", "/sums/k", &[(header, "not base64!")], "body")
            .await
            .assert_error(400, "InvalidRequest");
    }
    s.get("/sums/k").await.assert_error(404, "NoSuchKey");
    s.stop().await;
}
