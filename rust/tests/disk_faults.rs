//! Disk faults: a store on a small tmpfs the test mounts, filled up or remounted read-only while
//! the server runs. Every write that cannot finish answers an S3 error, leaves no partial object
//! or temp file behind, and the server keeps serving what it has; once the disk has room (or is
//! writable) again, the same writes succeed.
//!
//! Mounting needs root (CAP_SYS_ADMIN), which the CI machine has; the test fails, not skips,
//! when the mount is refused.

mod support;

use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::TestServer;

/// A tmpfs of `size` mounted on a fresh temp directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        run(
            "mount",
            &["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"],
            dir.path(),
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn remount(&self, mode: &str) {
        run("mount", &["-o", &format!("remount,{mode}")], self.path());
    }

    /// Fills the disk with one file until fewer than `leave` bytes are free.
    fn fill(&self, leave: u64) -> PathBuf {
        let filler = self
            .path()
            .join(format!("filler-{}", rand::random::<u32>()));
        let free = free_bytes(self.path());
        let size = free.saturating_sub(leave);
        std::fs::write(&filler, vec![0u8; usize::try_from(size).expect("fits")]).expect("fill");
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn run(program: &str, args: &[&str], target: &Path) {
    let output = Command::new(program)
        .args(args)
        .arg(target)
        .output()
        .expect("mount runs");
    assert!(
        output.status.success(),
        "{program} {args:?} was refused (this test needs root): {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_bytes(path: &Path) -> u64 {
    let output = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .expect("df runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .nth(1)
        .and_then(|line| line.trim().parse().ok())
        .expect("df prints the free bytes")
}

/// Files under the store's temp directory (a failed write must not leave one behind).
fn temp_files(store: &Path) -> Vec<PathBuf> {
    support::files_below(&store.join(".tmp"))
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).expect("open tag") + open.len();
    let end = text[start..].find(close).expect("close tag") + start;
    &text[start..end]
}

/// A server whose storage directory is `store` (the disk's subdirectory, so the filler beside
/// it is not in the server's way).
async fn server_on(store: &Path) -> TestServer {
    std::fs::create_dir_all(store).expect("store dir");
    let store = store.to_path_buf();
    TestServer::start_with(move |config| config.storage.directory = store).await
}

/// CopyObject of `from` to `to` (both `/bucket/key`).
async fn copy_object(s: &TestServer, from: &str, to: &str) -> support::Reply {
    s.send("PUT", to, &[("x-amz-copy-source", from)], Bytes::new())
        .await
}

/// S3's InternalError, whose message names the disk's condition (`cause`, as the OS words it).
fn assert_disk_error(reply: &support::Reply, cause: &str, what: &str) {
    assert_eq!(reply.status.as_u16(), 500, "{what}: {}", reply.text());
    assert_eq!(
        reply.error_code().as_deref(),
        Some("InternalError"),
        "{what}"
    );
    assert!(reply.text().contains(cause), "{what}: {}", reply.text());
}

#[tokio::test]
async fn a_full_disk_fails_writes_cleanly_and_they_succeed_once_there_is_room() {
    let disk = SmallDisk::mount("16m");
    let store = disk.path().join("store");
    let s = server_on(&store).await;
    s.create_bucket("full").await;
    let two_mib = Bytes::from(vec![b'x'; 2 << 20]);
    assert_eq!(s.put("/full/source", two_mib.clone()).await.status, 200);
    assert_eq!(s.put("/full/keep", "kept").await.status, 200);
    s.put(
        "/full?tagging",
        "<Tagging><TagSet><Tag><Key>t</Key><Value>1</Value></Tag></TagSet></Tagging>",
    )
    .await;
    let upload = s.send("POST", "/full/mp?uploads", &[], Bytes::new()).await;
    let upload_id = between(&upload.text(), "<UploadId>", "</UploadId>").to_string();
    let part = |n: u32| format!("/full/mp?partNumber={n}&uploadId={upload_id}");
    let one_mib = Bytes::from(vec![b'p'; 1 << 20]);
    let part1 = s.put(&part(1), one_mib.clone()).await;
    assert_eq!(part1.status, 200, "{}", part1.text());
    let part1_etag = part1.header("etag").expect("etag").to_string();

    // Less than a megabyte left.
    let filler = disk.fill(512 << 10);

    assert_disk_error(
        &s.put("/full/big", two_mib.clone()).await,
        "No space left",
        "PUT",
    );
    assert_eq!(s.get("/full/big").await.status, 404, "no partial object");
    let copy = copy_object(&s, "/full/source", "/full/copy").await;
    assert_disk_error(&copy, "No space left", "CopyObject");
    assert_eq!(s.get("/full/copy").await.status, 404);
    assert_disk_error(
        &s.put(&part(2), two_mib.clone()).await,
        "No space left",
        "UploadPart",
    );
    let parts = s.get(&format!("/full/mp?uploadId={upload_id}")).await;
    assert_eq!(parts.status, 200);
    assert!(
        !parts.text().contains("<PartNumber>2</PartNumber>"),
        "{}",
        parts.text()
    );
    let complete_body = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{part1_etag}</ETag></Part></CompleteMultipartUpload>"
    );
    assert_disk_error(
        &s.send(
            "POST",
            &format!("/full/mp?uploadId={upload_id}"),
            &[],
            complete_body.clone(),
        )
        .await,
        "No space left",
        "CompleteMultipartUpload",
    );
    assert_eq!(s.get("/full/mp").await.status, 404);
    assert!(
        temp_files(&store).is_empty(),
        "left behind: {:?}",
        temp_files(&store)
    );

    // Not a byte left: even small records and settings fail whole.
    let rest = disk.fill(0);
    let small = s.put("/full/small", "s").await;
    assert_disk_error(&small, "No space left", "small PUT");
    assert_eq!(s.get("/full/small").await.status, 404);
    assert_disk_error(
        &s.put(
            "/full?tagging",
            "<Tagging><TagSet><Tag><Key>t</Key><Value>2</Value></Tag></TagSet></Tagging>",
        )
        .await,
        "No space left",
        "PutBucketTagging",
    );

    // What was there still reads whole.
    let tags = s.get("/full?tagging").await;
    assert!(tags.text().contains("<Value>1</Value>"), "{}", tags.text());
    let keep = s.get("/full/keep").await;
    assert_eq!(
        (keep.status.as_u16(), keep.body.as_ref()),
        (200, b"kept".as_ref())
    );
    assert_eq!(s.get("/full/source").await.body, two_mib);
    let listing = s.get("/full?list-type=2").await;
    assert_eq!(listing.status, 200);
    assert_eq!(
        listing.text().matches("<Key>").count(),
        2,
        "{}",
        listing.text()
    );

    // With room again, every write that failed succeeds, the upload among them.
    std::fs::remove_file(rest).expect("free");
    std::fs::remove_file(filler).expect("free");
    assert_eq!(s.put("/full/big", two_mib.clone()).await.status, 200);
    assert_eq!(s.get("/full/big").await.body, two_mib);
    let copy = copy_object(&s, "/full/source", "/full/copy").await;
    assert_eq!(copy.status, 200, "{}", copy.text());
    let complete = s
        .send(
            "POST",
            &format!("/full/mp?uploadId={upload_id}"),
            &[],
            complete_body,
        )
        .await;
    assert_eq!(complete.status, 200, "{}", complete.text());
    assert_eq!(s.get("/full/mp").await.body, one_mib);
    assert!(
        temp_files(&store).is_empty(),
        "left behind: {:?}",
        temp_files(&store)
    );
    s.stop().await;
}

#[tokio::test]
async fn a_read_only_disk_fails_writes_and_keeps_serving_reads() {
    let disk = SmallDisk::mount("8m");
    let store = disk.path().join("store");
    let s = server_on(&store).await;
    s.create_bucket("readonly").await;
    assert_eq!(s.put("/readonly/a", "first").await.status, 200);

    disk.remount("ro");
    assert_disk_error(
        &s.put("/readonly/a", "second").await,
        "Read-only file system",
        "overwrite",
    );
    assert_disk_error(
        &s.put("/readonly/b", "new").await,
        "Read-only file system",
        "PUT",
    );
    let copy = copy_object(&s, "/readonly/a", "/readonly/c").await;
    assert_disk_error(&copy, "Read-only file system", "CopyObject");
    assert_disk_error(
        &s.send("POST", "/readonly/m?uploads", &[], Bytes::new())
            .await,
        "Read-only file system",
        "CreateMultipartUpload",
    );
    assert_disk_error(
        &s.send("DELETE", "/readonly/a", &[], Bytes::new()).await,
        "Read-only file system",
        "DeleteObject",
    );
    let a = s.get("/readonly/a").await;
    assert_eq!(
        (a.status.as_u16(), a.body.as_ref()),
        (200, b"first".as_ref())
    );
    assert_eq!(s.get("/readonly/b").await.status, 404);
    let listing = s.get("/readonly?list-type=2").await;
    assert_eq!(
        listing.text().matches("<Key>").count(),
        1,
        "{}",
        listing.text()
    );

    disk.remount("rw");
    assert_eq!(s.put("/readonly/a", "second").await.status, 200);
    assert_eq!(s.get("/readonly/a").await.body.as_ref(), b"second");
    assert_eq!(
        s.send("DELETE", "/readonly/a", &[], Bytes::new())
            .await
            .status,
        204
    );
    s.stop().await;
}
