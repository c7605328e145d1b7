//! Concurrency stress: many clients write, read (whole and ranged), copy, delete, list and
//! complete multipart uploads on the same few keys at once, while buckets are created, filled and
//! deleted under concurrent PUTs. Every body names its own writer, length and fill, so a reader
//! can tell one complete version from a mix of two; every read must match its ETag and metadata.
//! No request may answer 5xx or go unanswered (the client's 20 s bound catches a deadlock), and no
//! PUT that got 200 may vanish with a deleted bucket. Bounded: a few seconds of load.

mod support;

use bytes::Bytes;
use md5::{Digest, Md5};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{send_to, Reply, TestServer};

const KEYS: usize = 6;
const LOAD: Duration = Duration::from_secs(3);
/// Per worker, whatever the time: a fast machine still stops.
const MAX_OPS: usize = 3000;

const WHOLE: usize = 0;
const RANGED: usize = 1;
const BUCKETS_DELETED: usize = 2;

type Failures = Arc<Mutex<Vec<String>>>;

/// A self-describing body: `{id}:{len}\n` then `len` bytes of a fill derived from the id.
fn body_of(id: &str, len: usize) -> Vec<u8> {
    let mut body = format!("{id}:{len}\n").into_bytes();
    let seed = fill_seed(id);
    body.extend((0..len).map(|i| fill_byte(seed, i)));
    body
}

fn fill_seed(id: &str) -> u8 {
    id.bytes()
        .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(b))
}

fn fill_byte(seed: u8, i: usize) -> u8 {
    b'a' + (seed as usize + i) as u8 % 26
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// The id a (possibly partial, from offset 0) body describes, if it is consistent so far; the
/// full length it claims.
fn check_body(body: &[u8]) -> Result<(String, usize), String> {
    let newline = body
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("no header line")?;
    let header = std::str::from_utf8(&body[..newline]).map_err(|e| e.to_string())?;
    let (id, len) = header.rsplit_once(':').ok_or("no length")?;
    let len: usize = len.parse().map_err(|_| format!("bad length in {header}"))?;
    let fill = &body[newline + 1..];
    let seed = fill_seed(id);
    if fill.len() > len {
        return Err(format!("{id}: {} bytes of fill, {len} claimed", fill.len()));
    }
    if let Some(i) = (0..fill.len()).find(|&i| fill[i] != fill_byte(seed, i)) {
        return Err(format!("{id}: fill differs at {i}: a mix of versions"));
    }
    Ok((id.to_string(), newline + 1 + len))
}

/// A whole GET: the body is one complete version, and its ETag and `x-amz-meta-id` are that
/// version's.
fn check_whole(reply: &Reply) -> Result<(), String> {
    let (id, total) = check_body(&reply.body)?;
    if reply.body.len() != total {
        return Err(format!("{id}: {} bytes, {total} claimed", reply.body.len()));
    }
    if reply.header("x-amz-meta-id") != Some(id.as_str()) {
        return Err(format!(
            "{id}: metadata says {:?}",
            reply.header("x-amz-meta-id")
        ));
    }
    let etag = reply.header("etag").unwrap_or("").trim_matches('"');
    let expected = if etag.ends_with("-1") {
        // A one-part multipart upload.
        format!("{}-1", md5_hex(&Md5::digest(&reply.body)))
    } else {
        md5_hex(&reply.body)
    };
    if etag != expected {
        return Err(format!("{id}: ETag {etag}, body's {expected}"));
    }
    Ok(())
}

/// A ranged GET of the first bytes: consistent so far, and Content-Range's total is the length
/// the body claims.
fn check_prefix(reply: &Reply) -> Result<(), String> {
    let (id, total) = check_body(&reply.body)?;
    let range = reply.header("content-range").unwrap_or("");
    if !range.ends_with(&format!("/{total}")) {
        return Err(format!("{id}: Content-Range {range}, {total} claimed"));
    }
    Ok(())
}

struct Load {
    addr: SocketAddr,
    failures: Failures,
    /// Whole bodies checked, ranged ones checked, buckets deleted under the intruders.
    counts: [std::sync::atomic::AtomicUsize; 3],
    until: Instant,
}

impl Load {
    fn running(&self, done: usize) -> bool {
        done < MAX_OPS && Instant::now() < self.until
    }

    fn count(&self, which: usize) {
        self.counts[which].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    fn fail(&self, what: String) {
        self.failures.lock().expect("lock").push(what);
    }

    /// Sends one request; a 5xx, a wrong status or no answer in time is a failure.
    async fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
        expected: &[u16],
    ) -> Option<Reply> {
        match send_to(self.addr, method, target, headers, body.into()).await {
            Ok(reply) if expected.contains(&reply.status.as_u16()) => Some(reply),
            Ok(reply) => {
                self.fail(format!(
                    "{method} {target}: {} {}",
                    reply.status,
                    reply.text()
                ));
                None
            }
            Err(e) => {
                self.fail(format!("{method} {target}: {e}"));
                None
            }
        }
    }
}

fn key(n: usize) -> String {
    format!("/hot/k{}", n % KEYS)
}

async fn writer(load: Arc<Load>, writer: usize) {
    let mut n = 0;
    while load.running(n) {
        let id = format!("w{writer}-{n}");
        let body = body_of(&id, rand::random::<usize>() % 64_000);
        load.send(
            "PUT",
            &key(rand::random()),
            &[("x-amz-meta-id", &id)],
            body,
            &[200],
        )
        .await;
        n += 1;
    }
}

async fn reader(load: Arc<Load>) {
    let mut n = 0;
    while load.running(n) {
        let target = key(rand::random());
        let ranged = n % 3 == 0;
        let headers: &[(&str, &str)] = if ranged {
            &[("range", "bytes=0-999")]
        } else {
            &[]
        };
        if let Some(reply) = load
            .send("GET", &target, headers, Bytes::new(), &[200, 206, 404])
            .await
        {
            let checked = match reply.status.as_u16() {
                200 => check_whole(&reply).map(|()| load.count(WHOLE)),
                206 => check_prefix(&reply).map(|()| load.count(RANGED)),
                _ if reply.error_code().as_deref() == Some("NoSuchKey") => Ok(()),
                _ => Err(reply.text()),
            };
            if let Err(e) = checked {
                load.fail(format!("GET {target}: {e}"));
            }
        }
        n += 1;
    }
}

async fn copier(load: Arc<Load>) {
    let mut n = 0;
    while load.running(n) {
        // Never onto itself (S3 refuses a copy that changes nothing).
        let from_n = rand::random::<usize>();
        let (from, to) = (
            key(from_n),
            key(from_n % KEYS + 1 + rand::random::<usize>() % (KEYS - 1)),
        );
        let from = from.trim_start_matches('/').to_string();
        load.send(
            "PUT",
            &to,
            &[("x-amz-copy-source", &from)],
            Bytes::new(),
            &[200, 404],
        )
        .await;
        n += 1;
    }
}

async fn deleter(load: Arc<Load>) {
    let mut n = 0;
    while load.running(n) {
        load.send("DELETE", &key(rand::random()), &[], Bytes::new(), &[204])
            .await;
        tokio::time::sleep(Duration::from_millis(5)).await;
        n += 1;
    }
}

async fn lister(load: Arc<Load>) {
    let mut n = 0;
    while load.running(n) {
        if let Some(reply) = load
            .send("GET", "/hot?list-type=2", &[], Bytes::new(), &[200])
            .await
        {
            let text = reply.text();
            if !text.ends_with("</ListBucketResult>") {
                load.fail(format!("a listing was cut short: {text}"));
            }
        }
        load.send("HEAD", &key(rand::random()), &[], Bytes::new(), &[200, 404])
            .await;
        n += 1;
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// One-part multipart uploads onto the same keys, each completed or aborted.
async fn multipart(load: Arc<Load>) {
    let mut n = 0;
    while load.running(n) {
        let target = key(rand::random());
        let id = format!("m-{n}");
        let Some(created) = load
            .send(
                "POST",
                &format!("{target}?uploads"),
                &[("x-amz-meta-id", &id)],
                Bytes::new(),
                &[200],
            )
            .await
        else {
            break;
        };
        let Some(upload) =
            between(&created.text(), "<UploadId>", "</UploadId>").map(str::to_string)
        else {
            load.fail(format!("no UploadId in {}", created.text()));
            break;
        };
        let body = body_of(&id, rand::random::<usize>() % 100_000);
        let part = load
            .send(
                "PUT",
                &format!("{target}?partNumber=1&uploadId={upload}"),
                &[],
                body,
                &[200],
            )
            .await;
        let etag = part
            .and_then(|p| p.header("etag").map(str::to_string))
            .unwrap_or_default();
        let end = format!("{target}?uploadId={upload}");
        if n % 4 == 3 {
            load.send("DELETE", &end, &[], Bytes::new(), &[204]).await;
        } else {
            let xml = format!(
                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
            );
            load.send("POST", &end, &[], xml, &[200]).await;
        }
        n += 1;
    }
}

/// Keys PUT into the churned bucket that got 200, and those the churner deleted.
#[derive(Default)]
struct ChurnLedger {
    acknowledged: BTreeSet<String>,
    deleted: BTreeSet<String>,
}

/// Creates, tags, empties and deletes the bucket `churn` over and over.
async fn churner(load: Arc<Load>, ledger: Arc<Mutex<ChurnLedger>>) {
    let mut n = 0;
    while load.running(n) {
        load.send("PUT", "/churn", &[], Bytes::new(), &[200]).await;
        loop {
            let Some(reply) = load
                .send("DELETE", "/churn", &[], Bytes::new(), &[204, 409])
                .await
            else {
                return;
            };
            if reply.status.as_u16() == 204 {
                load.count(BUCKETS_DELETED);
                break;
            }
            let Some(listing) = load
                .send("GET", "/churn?list-type=2", &[], Bytes::new(), &[200])
                .await
            else {
                return;
            };
            for key in listing
                .text()
                .split("<Key>")
                .skip(1)
                .filter_map(|k| k.split("</Key>").next())
            {
                if load
                    .send(
                        "DELETE",
                        &format!("/churn/{key}"),
                        &[],
                        Bytes::new(),
                        &[204],
                    )
                    .await
                    .is_some()
                {
                    ledger.lock().expect("lock").deleted.insert(key.to_string());
                }
            }
        }
        n += 1;
    }
}

/// PUTs into `churn` whether or not it exists just now.
async fn intruder(load: Arc<Load>, ledger: Arc<Mutex<ChurnLedger>>) {
    let mut n = 0;
    while load.running(n) {
        let key = format!("i{n}");
        if let Some(reply) = load
            .send("PUT", &format!("/churn/{key}"), &[], "x", &[200, 404])
            .await
        {
            if reply.status.as_u16() == 200 {
                ledger.lock().expect("lock").acknowledged.insert(key);
            } else if reply.error_code().as_deref() != Some("NoSuchBucket") {
                load.fail(format!("PUT into churn: {}", reply.text()));
            }
        }
        // Slower than the churner, so that it gets to delete the bucket now and then.
        tokio::time::sleep(Duration::from_millis(25)).await;
        n += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_clients_on_the_same_keys_see_only_whole_versions() {
    let s = TestServer::start().await;
    s.create_bucket("hot").await;
    let addr = s.server.as_ref().expect("running").local_addr;
    let load = Arc::new(Load {
        addr,
        failures: Failures::default(),
        counts: Default::default(),
        until: Instant::now() + LOAD,
    });
    let ledger = Arc::new(Mutex::new(ChurnLedger::default()));
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..4 {
        tasks.spawn(writer(load.clone(), w));
        tasks.spawn(reader(load.clone()));
    }
    tasks.spawn(copier(load.clone()));
    tasks.spawn(deleter(load.clone()));
    tasks.spawn(lister(load.clone()));
    tasks.spawn(multipart(load.clone()));
    tasks.spawn(churner(load.clone(), ledger.clone()));
    tasks.spawn(intruder(load.clone(), ledger.clone()));
    tasks.spawn(intruder(load.clone(), ledger.clone()));
    while let Some(done) = tasks.join_next().await {
        done.expect("a worker panicked");
    }

    // Quiet now: every key reads whole, and the listing's ETags are GET's.
    let listing = s.get("/hot?list-type=2").await.text();
    for n in 0..KEYS {
        let reply = s.get(&key(n)).await;
        match reply.status.as_u16() {
            404 => assert!(
                !listing.contains(&format!("<Key>k{n}</Key>")),
                "listed but gone: k{n}"
            ),
            200 => {
                check_whole(&reply).unwrap_or_else(|e| load.fail(format!("after: {e}")));
                let etag = reply.header("etag").expect("etag").replace('"', "&quot;");
                assert!(
                    listing.contains(&etag),
                    "k{n}'s ETag {etag} is not listed: {listing}"
                );
            }
            other => load.fail(format!("after: GET k{n} answered {other}")),
        }
    }
    // No acknowledged PUT went with a deleted bucket: the churner deleted it, or it is there.
    let remaining = s.get("/churn?list-type=2").await.text();
    let ChurnLedger {
        acknowledged,
        deleted,
    } = std::mem::take(&mut *ledger.lock().expect("lock"));
    for key in &acknowledged {
        if !deleted.contains(key) && !remaining.contains(&format!("<Key>{key}</Key>")) {
            load.fail(format!(
                "PUT churn/{key} got 200 and was lost with its bucket"
            ));
        }
    }
    let counts = load
        .counts
        .each_ref()
        .map(|c| c.load(std::sync::atomic::Ordering::Relaxed));
    eprintln!(
        "checked {} whole and {} ranged reads; the churned bucket was deleted {} times under {} acknowledged PUTs",
        counts[WHOLE], counts[RANGED], counts[BUCKETS_DELETED], acknowledged.len()
    );
    s.stop().await;
    let failures = std::mem::take(&mut *load.failures.lock().expect("lock"));
    assert!(
        failures.is_empty(),
        "{} failures, first ones: {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    // The load really overlapped: a run that checked next to nothing proves nothing.
    assert!(
        counts.iter().all(|&c| c >= 10),
        "too little load: {counts:?}"
    );
}
