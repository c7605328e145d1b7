//! kill -9 at random instants while clients PUT, overwrite, copy, complete multipart uploads,
//! delete objects, delete buckets, and write, mark and remove versions in a versioned bucket; then restart on the same directory and check that every
//! key reads as one whole version (body, ETag, metadata together), that nothing acknowledged is
//! missing, and that listings agree with GET.
//!
//! The kill hits the real binary (`rusts3 serve`), so it lands between any two system calls of a
//! commit. A round is bounded in time; the seed is printed so a failure can be replayed.

mod support;

use bytes::Bytes;
use md5::{Digest, Md5};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::process::{strace_available, Server};
use support::{send_to, Reply};

const ROUNDS: usize = 10;
const BUCKET: &str = "crash";
const PLAIN_KEYS: [&str; 4] = ["k0", "k1", "dir/k2", "dir/deeper/k3"];

/// Renames and unlinks are the steps of a commit. Under strace each one is followed by a pause,
/// which widens the gaps between steps so that a kill at a random instant almost always lands
/// inside a commit, between two of its steps.
fn widened_gaps() -> Vec<String> {
    let calls = "rename,renameat,renameat2,unlink,unlinkat";
    vec![
        "-e".into(),
        format!("trace={calls}"),
        "-e".into(),
        format!("inject={calls}:delay_exit=3000"),
        "-o".into(),
        "/dev/null".into(),
    ]
}

/// What a key holds: absent, or the version written as generation `n` (of `source`, for copies).
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Absent,
    Version(u64),
    CopyOfSomeVersion,
}

/// Per key: the state last acknowledged, and the one being attempted when the kill came.
#[derive(Debug, Clone)]
struct Expect {
    acked: State,
    attempted: State,
}

type Ledger = Arc<Mutex<BTreeMap<String, Expect>>>;

/// A version's body: deterministic from key and generation, of varying size.
fn body_of(key: &str, generation: u64) -> Vec<u8> {
    let size = 1 + (generation.wrapping_mul(2_654_435_761) % (384 * 1024)) as usize;
    let mut body = format!("{key} {generation}\n").into_bytes();
    let fill = b'a' + (generation % 26) as u8;
    body.resize(size.max(body.len()), fill);
    body
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

fn multipart_etag(parts: &[&[u8]]) -> String {
    let mut all = Vec::new();
    for part in parts {
        all.extend_from_slice(&Md5::digest(part));
    }
    format!("{}-{}", hex::encode(Md5::digest(&all)), parts.len())
}

/// Splits a multipart body into its two parts, as the writer uploaded it.
fn multipart_parts(body: &[u8]) -> (&[u8], &[u8]) {
    body.split_at(body.len() / 2)
}

fn set(ledger: &Ledger, key: &str, update: impl FnOnce(&mut Expect)) {
    let mut map = ledger.lock().unwrap();
    let entry = map.entry(key.to_string()).or_insert(Expect {
        acked: State::Absent,
        attempted: State::Absent,
    });
    update(entry);
}

async fn put(addr: SocketAddr, key: &str, generation: u64) -> Result<Reply, String> {
    let gen = generation.to_string();
    let content_type = format!("text/gen-{generation}");
    send_to(
        addr,
        "PUT",
        &format!("/{BUCKET}/{key}"),
        &[("x-amz-meta-gen", &gen), ("content-type", &content_type)],
        Bytes::from(body_of(key, generation)),
    )
    .await
}

fn ok(reply: Result<Reply, String>) -> bool {
    reply.is_ok_and(|r| r.status.is_success())
}

/// One writer per key, so each key's operations are sequential and the ledger is exact.
async fn plain_writer(addr: SocketAddr, key: &'static str, ledger: Ledger, first: u64) {
    for generation in first.. {
        let deleting = key == "k1" && generation % 3 == 0;
        let next = if deleting {
            State::Absent
        } else {
            State::Version(generation)
        };
        set(&ledger, key, |e| e.attempted = next.clone());
        let done = if deleting {
            ok(send_to(
                addr,
                "DELETE",
                &format!("/{BUCKET}/{key}"),
                &[],
                Bytes::new(),
            )
            .await)
        } else {
            ok(put(addr, key, generation).await)
        };
        if !done {
            return;
        }
        set(&ledger, key, |e| e.acked = next);
    }
}

async fn multipart_writer(addr: SocketAddr, ledger: Ledger, first: u64) {
    let key = "mp";
    for generation in first.. {
        set(&ledger, key, |e| e.attempted = State::Version(generation));
        let gen = generation.to_string();
        let created = send_to(
            addr,
            "POST",
            &format!("/{BUCKET}/{key}?uploads"),
            &[("x-amz-meta-gen", &gen)],
            Bytes::new(),
        )
        .await;
        let Ok(created) = created else { return };
        let text = created.text();
        let Some(upload_id) = between(&text, "<UploadId>", "</UploadId>") else {
            return;
        };
        let body = body_of(key, generation);
        let (one, two) = multipart_parts(&body);
        let mut etags = Vec::new();
        for (number, part) in [(1, one), (2, two)] {
            let reply = send_to(
                addr,
                "PUT",
                &format!("/{BUCKET}/{key}?partNumber={number}&uploadId={upload_id}"),
                &[],
                Bytes::copy_from_slice(part),
            )
            .await;
            let Ok(reply) = reply else { return };
            let Some(etag) = reply.header("etag").map(str::to_string) else {
                return;
            };
            etags.push(etag);
        }
        let complete = format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
            etags[0], etags[1]
        );
        let done = send_to(
            addr,
            "POST",
            &format!("/{BUCKET}/{key}?uploadId={upload_id}"),
            &[],
            Bytes::from(complete),
        )
        .await;
        if !ok(done) {
            return;
        }
        set(&ledger, key, |e| e.acked = State::Version(generation));
    }
}

async fn copy_writer(addr: SocketAddr, ledger: Ledger) {
    let key = "copy";
    loop {
        set(&ledger, key, |e| e.attempted = State::CopyOfSomeVersion);
        let source = format!("/{BUCKET}/k0");
        let reply = send_to(
            addr,
            "PUT",
            &format!("/{BUCKET}/{key}"),
            &[("x-amz-copy-source", &source)],
            Bytes::new(),
        )
        .await;
        match reply {
            Ok(r) if r.status.is_success() => {
                set(&ledger, key, |e| e.acked = State::CopyOfSomeVersion)
            }
            // k0 not written yet: try again.
            Ok(r) if r.status.as_u16() == 404 => {}
            _ => return,
        }
    }
}

/// The versions of one key in a versioned bucket: every acknowledged version must survive
/// unless a permanent delete of it was acknowledged (or in flight at the kill).
#[derive(Debug, Default)]
struct VersionLedger {
    kept: Vec<String>,
    removing: Option<String>,
}

const VERSIONED: &str = "crash-versioned";

async fn versioned_writer(addr: SocketAddr, ledger: Arc<Mutex<VersionLedger>>, first: u64) {
    let target = format!("/{VERSIONED}/v");
    for generation in first.. {
        let reply = match generation % 4 {
            // A delete marker on top.
            3 => send_to(addr, "DELETE", &target, &[], Bytes::new()).await,
            // A permanent delete of the oldest version.
            2 => {
                let oldest = ledger.lock().unwrap().kept.first().cloned();
                let Some(oldest) = oldest else { continue };
                ledger.lock().unwrap().removing = Some(oldest.clone());
                let reply = send_to(
                    addr,
                    "DELETE",
                    &format!("{target}?versionId={oldest}"),
                    &[],
                    Bytes::new(),
                )
                .await;
                if !ok(reply) {
                    return;
                }
                let mut l = ledger.lock().unwrap();
                l.kept.retain(|k| *k != oldest);
                l.removing = None;
                continue;
            }
            _ => {
                let gen = generation.to_string();
                send_to(
                    addr,
                    "PUT",
                    &target,
                    &[("x-amz-meta-gen", &gen)],
                    Bytes::from(body_of("v", generation)),
                )
                .await
            }
        };
        let Ok(reply) = reply else { return };
        if !reply.status.is_success() {
            return;
        }
        if generation % 4 != 3 {
            if let Some(id) = reply.header("x-amz-version-id") {
                ledger.lock().unwrap().kept.push(id.to_string());
            }
        }
    }
}

/// Every version listed reads whole by its id; nothing acknowledged is missing.
async fn verify_versions(addr: SocketAddr, ledger: &Arc<Mutex<VersionLedger>>, seed: u64) {
    let listing = send_to(
        addr,
        "GET",
        &format!("/{VERSIONED}?versions"),
        &[],
        Bytes::new(),
    )
    .await
    .expect("list versions");
    assert_eq!(
        listing.status.as_u16(),
        200,
        "seed {seed}: {}",
        listing.text()
    );
    let text = listing.text();
    let mut listed = Vec::new();
    for entry in text.split("<Version>").skip(1) {
        listed.push(
            between(entry, "<VersionId>", "</VersionId>")
                .expect("id")
                .to_string(),
        );
    }
    for id in &listed {
        let reply = send_to(
            addr,
            "GET",
            &format!("/{VERSIONED}/v?versionId={id}"),
            &[],
            Bytes::new(),
        )
        .await
        .expect("get version");
        assert_eq!(
            reply.status.as_u16(),
            200,
            "seed {seed}: version {id}: {}",
            reply.text()
        );
        let generation: u64 = reply
            .header("x-amz-meta-gen")
            .and_then(|g| g.parse().ok())
            .unwrap_or_else(|| panic!("seed {seed}: version {id} has no generation"));
        assert_eq!(
            reply.body.as_ref(),
            body_of("v", generation),
            "seed {seed}: version {id} torn"
        );
        let etag = reply.header("etag").unwrap_or_default().trim_matches('"');
        assert_eq!(
            etag,
            md5_hex(&reply.body),
            "seed {seed}: version {id}'s ETag"
        );
    }
    let mut l = ledger.lock().unwrap();
    for id in &l.kept {
        let in_flight = l.removing.as_deref() == Some(id.as_str());
        assert!(
            in_flight || listed.contains(id),
            "seed {seed}: acknowledged version {id} is missing from {listed:?}"
        );
    }
    // Versions whose PUT was in flight may have landed: from now on they count as kept.
    l.kept = listed;
    l.removing = None;
}

/// Creates, fills, empties and deletes buckets; each must exist whole or not at all.
async fn bucket_churn(addr: SocketAddr, round: usize) {
    for n in 0.. {
        let bucket = format!("churn-{round}-{n}");
        let steps = [
            ("PUT", format!("/{bucket}")),
            ("PUT", format!("/{bucket}/x")),
            ("DELETE", format!("/{bucket}/x")),
            ("DELETE", format!("/{bucket}")),
        ];
        for (method, target) in steps {
            if !ok(send_to(addr, method, &target, &[], Bytes::from_static(b"x")).await) {
                return;
            }
        }
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// Checks one key after a restart; returns its ETag and what it holds when it exists.
async fn verify_key(
    addr: SocketAddr,
    key: &str,
    expect: &Expect,
    seed: u64,
) -> Option<(String, State)> {
    let reply = send_to(addr, "GET", &format!("/{BUCKET}/{key}"), &[], Bytes::new())
        .await
        .unwrap_or_else(|e| panic!("seed {seed}: GET {key}: {e}"));
    let status = reply.status.as_u16();
    let context = format!("seed {seed}, key {key}, expected {expect:?}");
    if status == 404 {
        assert!(
            expect.acked == State::Absent || expect.attempted == State::Absent,
            "{context}: an acknowledged version is missing"
        );
        return None;
    }
    assert_eq!(status, 200, "{context}: {}", reply.text());
    let body = &reply.body;
    let first_line = body.split(|b| *b == b'\n').next().unwrap_or_default();
    let first_line = String::from_utf8_lossy(first_line).into_owned();
    let (body_key, generation) = first_line
        .split_once(' ')
        .unwrap_or_else(|| panic!("{context}: not one of our bodies: {first_line:?}"));
    let generation: u64 = generation.parse().expect("generation");
    assert_eq!(
        body.as_ref(),
        body_of(body_key, generation),
        "{context}: a torn body"
    );
    let meta = reply.header("x-amz-meta-gen").map(str::to_string);
    assert_eq!(
        meta,
        Some(generation.to_string()),
        "{context}: metadata of another version"
    );
    let etag = reply
        .header("etag")
        .unwrap_or_default()
        .trim_matches('"')
        .to_string();
    let expected_etag = if key == "mp" {
        let (one, two) = multipart_parts(body);
        multipart_etag(&[one, two])
    } else {
        md5_hex(body)
    };
    assert_eq!(
        etag, expected_etag,
        "{context}: the ETag of another version"
    );
    if key != "mp" {
        assert_eq!(
            reply.header("content-type"),
            Some(format!("text/gen-{generation}").as_str()),
            "{context}: the content type of another version"
        );
    }
    if key == "copy" {
        assert_eq!(body_key, "k0", "{context}");
        return Some((etag, State::CopyOfSomeVersion));
    }
    assert_eq!(body_key, key, "{context}");
    let found = State::Version(generation);
    assert!(
        expect.acked == found || expect.attempted == found,
        "{context}: found generation {generation}, neither acknowledged nor in flight"
    );
    Some((etag, found))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_at_any_instant_leaves_every_key_whole() {
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test seed: {seed} (CRASH_SEED={seed} replays the kill times)");
    let mut rng = seed;
    let mut next_random = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let work = tempfile::tempdir().expect("temp dir");
    let store = work.path().join("store");
    let config = work.path().join("config.json");
    std::fs::write(&config, br#"{"multipart":{"minPartSize":1}}"#).expect("config");

    let traced = strace_available();
    if !traced {
        eprintln!("strace is not installed: kills land at random instants, not widened gaps");
    }
    let ledger: Ledger = Arc::new(Mutex::new(BTreeMap::new()));
    let versioned = Arc::new(Mutex::new(VersionLedger::default()));
    let started = Instant::now();
    for round in 0..ROUNDS {
        let server = Server::start(&store, &config, traced.then(widened_gaps));
        let addr = server.addr;
        if round == 0 {
            let reply = send_to(addr, "PUT", &format!("/{BUCKET}"), &[], Bytes::new()).await;
            assert!(ok(reply), "create the bucket");
            let reply = send_to(addr, "PUT", &format!("/{VERSIONED}"), &[], Bytes::new()).await;
            assert!(ok(reply), "create the versioned bucket");
            let enable =
                "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
            let reply = send_to(
                addr,
                "PUT",
                &format!("/{VERSIONED}?versioning"),
                &[],
                Bytes::from_static(enable.as_bytes()),
            )
            .await;
            assert!(ok(reply), "enable versioning");
        } else {
            verify(addr, &ledger, seed).await;
            verify_versions(addr, &versioned, seed).await;
        }
        let first = (round as u64 + 1) * 1_000_000;
        let mut tasks = Vec::new();
        for key in PLAIN_KEYS {
            tasks.push(tokio::spawn(plain_writer(addr, key, ledger.clone(), first)));
        }
        tasks.push(tokio::spawn(multipart_writer(addr, ledger.clone(), first)));
        tasks.push(tokio::spawn(copy_writer(addr, ledger.clone())));
        tasks.push(tokio::spawn(bucket_churn(addr, round)));
        tasks.push(tokio::spawn(versioned_writer(
            addr,
            versioned.clone(),
            first,
        )));
        let kill_after = Duration::from_millis(40 + next_random() % 260);
        tokio::time::sleep(kill_after).await;
        let killed = tokio::task::spawn_blocking(move || server.kill());
        killed.await.expect("kill");
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), task).await;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the crash test ran too long"
        );
    }
    let server = Server::start(&store, &config, None);
    verify(server.addr, &ledger, seed).await;
    verify_versions(server.addr, &versioned, seed).await;
    server.kill();
    let leftovers: Vec<_> = std::fs::read_dir(store.join(".tmp"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "temp files swept: {leftovers:?}");
}

async fn verify(addr: SocketAddr, ledger: &Ledger, seed: u64) {
    let expected = ledger.lock().unwrap().clone();
    let mut found = BTreeMap::new();
    let mut now = BTreeMap::new();
    for (key, expect) in &expected {
        let state = match verify_key(addr, key, expect, seed).await {
            Some((etag, state)) => {
                found.insert(key.clone(), etag);
                state
            }
            None => State::Absent,
        };
        // The next round starts from what is there now.
        let settled = Expect {
            acked: state.clone(),
            attempted: state,
        };
        now.insert(key.clone(), settled);
    }
    *ledger.lock().unwrap() = now;
    let listing = send_to(
        addr,
        "GET",
        &format!("/{BUCKET}?list-type=2"),
        &[],
        Bytes::new(),
    )
    .await
    .expect("list");
    let text = listing.text();
    let mut listed = BTreeMap::new();
    for entry in text.split("<Contents>").skip(1) {
        let key = between(entry, "<Key>", "</Key>").expect("key").to_string();
        let etag = between(entry, "<ETag>", "</ETag>")
            .expect("etag")
            .replace("&quot;", "")
            .replace('"', "");
        listed.insert(key, etag);
    }
    assert_eq!(listed, found, "seed {seed}: the listing agrees with GET");
    let buckets = send_to(addr, "GET", "/", &[], Bytes::new())
        .await
        .expect("list buckets");
    for entry in buckets.text().split("<Name>").skip(1) {
        let name = entry.split("</Name>").next().unwrap_or_default();
        let listed = send_to(addr, "GET", &format!("/{name}?location"), &[], Bytes::new())
            .await
            .expect("location");
        assert_eq!(
            listed.status.as_u16(),
            200,
            "seed {seed}: bucket {name} is whole: {}",
            listed.text()
        );
    }
}

const SUSPENDED: &str = "crash-suspended";

async fn set_versioning(addr: SocketAddr, bucket: &str, status: &str) -> bool {
    let body =
        format!("<VersioningConfiguration><Status>{status}</Status></VersioningConfiguration>");
    let reply = send_to(
        addr,
        "PUT",
        &format!("/{bucket}?versioning"),
        &[],
        Bytes::from(body),
    )
    .await;
    ok(reply)
}

/// Over and over: a version on top (versioning enabled), then a DELETE with versioning
/// suspended, whose `null` delete marker replaces the noncurrent `null` version under it.
async fn suspended_deleter(addr: SocketAddr, first: u64) {
    let target = format!("/{SUSPENDED}/s");
    for generation in first.. {
        if !set_versioning(addr, SUSPENDED, "Enabled").await {
            return;
        }
        let gen = generation.to_string();
        let body = Bytes::from(body_of("s", generation));
        if !ok(send_to(addr, "PUT", &target, &[("x-amz-meta-gen", &gen)], body).await) {
            return;
        }
        if !set_versioning(addr, SUSPENDED, "Suspended").await {
            return;
        }
        if !ok(send_to(addr, "DELETE", &target, &[], Bytes::new()).await) {
            return;
        }
    }
}

/// The key always has exactly one `null` version, an object read whole or a delete marker,
/// and every version listed reads whole.
async fn verify_null_version(addr: SocketAddr, seed: u64) {
    let listing = send_to(
        addr,
        "GET",
        &format!("/{SUSPENDED}?versions"),
        &[],
        Bytes::new(),
    )
    .await
    .expect("list versions");
    let text = listing.text();
    assert_eq!(listing.status.as_u16(), 200, "seed {seed}: {text}");
    let nulls = text.matches("<VersionId>null</VersionId>").count();
    assert_eq!(nulls, 1, "seed {seed}: one null version in {text}");
    let reply = send_to(
        addr,
        "GET",
        &format!("/{SUSPENDED}/s?versionId=null"),
        &[],
        Bytes::new(),
    )
    .await
    .expect("get the null version");
    match reply.status.as_u16() {
        405 => assert_eq!(reply.header("x-amz-delete-marker"), Some("true")),
        200 => {
            let generation: u64 = reply
                .header("x-amz-meta-gen")
                .and_then(|g| g.parse().ok())
                .unwrap_or_else(|| panic!("seed {seed}: the null version has no generation"));
            assert_eq!(reply.body.as_ref(), body_of("s", generation), "seed {seed}");
        }
        status => panic!(
            "seed {seed}: the null version answers {status}: {}",
            reply.text()
        ),
    }
    for entry in text.split("<Version>").skip(1) {
        let id = between(entry, "<VersionId>", "</VersionId>").expect("id");
        let reply = send_to(
            addr,
            "GET",
            &format!("/{SUSPENDED}/s?versionId={id}"),
            &[],
            Bytes::new(),
        )
        .await
        .expect("get version");
        assert_eq!(reply.status.as_u16(), 200, "seed {seed}: version {id}");
    }
}

/// The one change with two records to replace: a DELETE on a suspended bucket whose latest
/// version is not `null`. Unlinks are held back under strace so that most kills land just
/// before one, inside the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_inside_a_suspended_delete_keeps_one_null_version() {
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test seed: {seed} (CRASH_SEED={seed} replays the kill times)");
    let work = tempfile::tempdir().expect("temp dir");
    let store = work.path().join("store");
    let config = work.path().join("config.json");
    std::fs::write(&config, b"{}").expect("config");
    let traced = strace_available();
    let held_unlinks = || {
        let mut args = widened_gaps();
        args.extend([
            "-e".into(),
            "inject=unlink,unlinkat:delay_enter=40000".into(),
        ]);
        args
    };
    for round in 0..8u64 {
        let server = Server::start(&store, &config, traced.then(held_unlinks));
        let addr = server.addr;
        if round == 0 {
            let reply = send_to(addr, "PUT", &format!("/{SUSPENDED}"), &[], Bytes::new()).await;
            assert!(ok(reply), "create the bucket");
            assert!(set_versioning(addr, SUSPENDED, "Suspended").await);
            let body = Bytes::from(body_of("s", 0));
            let target = format!("/{SUSPENDED}/s");
            let reply = send_to(addr, "PUT", &target, &[("x-amz-meta-gen", "0")], body).await;
            assert!(ok(reply), "the first null version");
        } else {
            verify_null_version(addr, seed).await;
        }
        let writer = tokio::spawn(suspended_deleter(addr, (round + 1) * 1_000_000));
        let kill_after = 60 + seed.wrapping_mul(round + 1) % 240;
        tokio::time::sleep(Duration::from_millis(kill_after)).await;
        tokio::task::spawn_blocking(move || server.kill())
            .await
            .expect("kill");
        let _ = tokio::time::timeout(Duration::from_secs(30), writer).await;
    }
    let server = Server::start(&store, &config, None);
    verify_null_version(server.addr, seed).await;
    server.kill();
}
