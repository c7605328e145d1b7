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
