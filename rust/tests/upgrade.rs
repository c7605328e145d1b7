//! The v2 (s3rver) upgrade at start-up, through a real server: an unreadable legacy file is
//! skipped and logged, never a reason not to start.

mod support;

use support::TestServer;

#[tokio::test]
async fn a_corrupt_legacy_metadata_file_does_not_stop_the_server() {
    let s = TestServer::start_with(|config| {
        let bucket = config.storage.directory.join("legacy-bucket");
        std::fs::create_dir_all(&bucket).expect("bucket dir");
        std::fs::write(bucket.join("broken._S3rver_object"), b"kept").expect("write");
        std::fs::write(bucket.join("broken._S3rver_metadata.json"), b"{not json").expect("write");
        std::fs::write(bucket.join("fine._S3rver_object"), b"migrated").expect("write");
    })
    .await;
    assert_eq!(s.get("/legacy-bucket/fine").await.text(), "migrated");
    s.get("/legacy-bucket/broken")
        .await
        .assert_error(404, "NoSuchKey");
    assert!(s
        .dir
        .path()
        .join("legacy-bucket/broken._S3rver_object")
        .exists());
    s.stop().await;
}

/// A directory written by an earlier v6 build (data, `.md5` and `.metadata.json` per object)
/// opens with every object as it was, now as version records.
#[tokio::test]
async fn objects_of_earlier_v6_builds_read_as_they_were() {
    let s = TestServer::start_with(|config| {
        let bucket = config.storage.directory.join("earlier");
        std::fs::create_dir_all(bucket.join("dir")).expect("bucket dir");
        std::fs::write(bucket.join("._S3_bucket.json"), br#"{"created_ms":1}"#).expect("settings");
        for (key, body) in [("top", "top body"), ("dir/nested", "nested body")] {
            let base = bucket.join(format!("{key}._S3_object"));
            std::fs::write(&base, body).expect("data");
            std::fs::write(
                format!("{}.md5", base.display()),
                "0123456789abcdef0123456789abcdef",
            )
            .expect("md5");
            let meta = serde_json::json!({
                "key": key,
                "headers": {
                    "content-type": format!("text/x-{}", key.replace('/', "-")),
                    "x-amz-meta-was": "v6",
                },
            })
            .to_string();
            std::fs::write(format!("{}.metadata.json", base.display()), meta).expect("meta");
        }
    })
    .await;
    for (key, body) in [("top", "top body"), ("dir/nested", "nested body")] {
        let reply = s.get(&format!("/earlier/{key}")).await;
        assert_eq!(reply.text(), body);
        assert_eq!(
            reply.header("etag"),
            Some("\"0123456789abcdef0123456789abcdef\"")
        );
        assert_eq!(
            reply.header("content-type").map(str::to_string),
            Some(format!("text/x-{}", key.replace('/', "-")))
        );
        assert_eq!(reply.header("x-amz-meta-was"), Some("v6"));
    }
    let listing = s.get("/earlier?list-type=2").await.text();
    assert!(listing.contains("<Key>dir/nested</Key>") && listing.contains("<Key>top</Key>"));
    let bucket = s.dir.path().join("earlier");
    assert!(
        !bucket.join("top._S3_object.md5").exists(),
        "the old ETag file is gone"
    );
    assert!(
        bucket.join("top._S3_key.json").exists(),
        "a version record took its place"
    );
    // Overwriting it afterwards works and leaves no old data behind.
    s.put("/earlier/top", "new body").await;
    assert_eq!(s.get("/earlier/top").await.text(), "new body");
    assert!(
        !bucket.join("top._S3_object").exists(),
        "the replaced data file was removed"
    );
    s.stop().await;
}
