//! The workloads: a pool of workers, each with its own connection, takes operation numbers
//! from a shared counter until the count or the time limit runs out, and records each latency.

use crate::http::{Client, Endpoint, Payload, Reply};
use bytes::Bytes;
use md5::{Digest, Md5};
use rand::RngCore;
use serde_json::{json, Map, Value};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SmallOp {
    Put,
    Get,
    Head,
    Delete,
}

impl SmallOp {
    /// The HTTP method, and the name its latencies are reported under.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            SmallOp::Put => ("PUT", "put"),
            SmallOp::Get => ("GET", "get"),
            SmallOp::Head => ("HEAD", "head"),
            SmallOp::Delete => ("DELETE", "delete"),
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum LargeOp {
    Put,
    Get,
}

pub struct Plan {
    pub bucket: String,
    pub prefix: String,
    pub fanout: u64,
    pub size: usize,
    pub count: u64,
    pub concurrency: usize,
    pub keys: u64,
    pub limit: Duration,
}

/// What one run measured: operations done, bytes moved, and latencies by operation class.
pub struct Report {
    ops: u64,
    seconds: f64,
    bytes: u64,
    /// Keys or common prefixes listed (listings only).
    items: u64,
    errors: u64,
    first_error: Option<String>,
    latencies: Vec<(&'static str, Vec<u32>)>,
}

fn percentile(sorted: &[u32], fraction: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn latency_summary(samples: &mut [u32]) -> Value {
    samples.sort_unstable();
    json!({
        "count": samples.len(),
        "p50Us": percentile(samples, 0.50),
        "p99Us": percentile(samples, 0.99),
    })
}

impl Report {
    pub fn into_json(mut self) -> String {
        let seconds = self.seconds.max(1e-9);
        let mut all: Vec<u32> = self
            .latencies
            .iter()
            .flat_map(|(_, samples)| samples.iter().copied())
            .collect();
        let mut classes = Map::new();
        for (class, samples) in &mut self.latencies {
            classes.insert(class.to_string(), latency_summary(samples));
        }
        let overall = latency_summary(&mut all);
        json!({
            "ops": self.ops,
            "seconds": self.seconds,
            "opsPerSec": self.ops as f64 / seconds,
            "mibPerSec": self.bytes as f64 / seconds / 1048576.0,
            "itemsPerSec": self.items as f64 / seconds,
            "items": self.items,
            "bytes": self.bytes,
            "errors": self.errors,
            "firstError": self.first_error,
            "p50Us": overall["p50Us"],
            "p99Us": overall["p99Us"],
            "classes": classes,
        })
        .to_string()
    }
}

/// What one operation reports back: its class (an index into the run's class names), the
/// bytes it moved, or why it failed.
type Outcome = (usize, Result<u64, String>);

/// Runs operations 0..count on `concurrency` workers; `op` gets a worker's client and the
/// operation's number and hands the client back with the outcome.
async fn run_workers<F, Fut>(
    endpoint: &Endpoint,
    concurrency: usize,
    count: u64,
    limit: Duration,
    classes: &[&'static str],
    op: F,
) -> Report
where
    F: Fn(Client, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = (Client, Outcome)> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + limit;
    let class_count = classes.len();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (next, op, endpoint) = (next.clone(), op.clone(), endpoint.clone());
        workers.push(tokio::spawn(async move {
            let mut client = Client::new(&endpoint);
            let mut latencies = vec![Vec::new(); class_count];
            let (mut bytes, mut errors, mut first_error) = (0u64, 0u64, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || Instant::now() >= deadline {
                    break;
                }
                let begun = Instant::now();
                let (returned, (class, result)) = op(client, i).await;
                client = returned;
                let micros = begun.elapsed().as_micros().min(u32::MAX as u128) as u32;
                match result {
                    Ok(moved) => {
                        bytes += moved;
                        latencies[class].push(micros);
                    }
                    Err(message) => {
                        errors += 1;
                        first_error.get_or_insert(message);
                    }
                }
            }
            (latencies, bytes, errors, first_error)
        }));
    }
    let mut report = Report {
        ops: 0,
        seconds: 0.0,
        bytes: 0,
        items: 0,
        errors: 0,
        first_error: None,
        latencies: classes.iter().map(|c| (*c, Vec::new())).collect(),
    };
    for worker in workers {
        match worker.await {
            Ok((latencies, bytes, errors, first_error)) => {
                for (slot, samples) in report.latencies.iter_mut().zip(latencies) {
                    report.ops += samples.len() as u64;
                    slot.1.extend(samples);
                }
                report.bytes += bytes;
                report.errors += errors;
                if report.first_error.is_none() {
                    report.first_error = first_error;
                }
            }
            Err(e) => {
                report.errors += 1;
                report.first_error.get_or_insert(format!("worker: {e}"));
            }
        }
    }
    report.seconds = started.elapsed().as_secs_f64();
    report
}

fn random_bytes(len: usize) -> Bytes {
    let mut data = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut data);
    Bytes::from(data)
}

/// Success is any 2xx; anything else fails with the status and the start of the answer.
fn expect_success(reply: Result<Reply, String>) -> Result<Reply, String> {
    let reply = reply?;
    if (200..300).contains(&reply.status) {
        Ok(reply)
    } else {
        let excerpt: String = reply.text.chars().take(200).collect();
        Err(format!("status {}: {excerpt}", reply.status))
    }
}

fn object_path(bucket: &str, prefix: &str, i: u64) -> String {
    format!("/{bucket}/{prefix}{i:08}")
}

/// Keys spread over `fanout` folders (`{prefix}{folder:04}/{i}`), or flat when it is 0.
fn spread_path(bucket: &str, prefix: &str, fanout: u64, i: u64) -> String {
    match fanout {
        0 => object_path(bucket, prefix, i),
        _ => format!("/{bucket}/{prefix}{:04}/{i:08}", i % fanout),
    }
}

pub async fn create_bucket(endpoint: &Endpoint, bucket: &str) -> Result<Report, String> {
    let started = Instant::now();
    let mut client = Client::new(endpoint);
    expect_success(
        client
            .send("PUT", &format!("/{bucket}"), &[], &Payload::empty(), false)
            .await,
    )?;
    Ok(single(started, 0))
}

fn single(started: Instant, bytes: u64) -> Report {
    let micros = started.elapsed().as_micros().min(u32::MAX as u128) as u32;
    Report {
        ops: 1,
        seconds: started.elapsed().as_secs_f64(),
        bytes,
        items: 0,
        errors: 0,
        first_error: None,
        latencies: vec![("all", vec![micros])],
    }
}

pub async fn small(endpoint: &Endpoint, op: SmallOp, plan: Plan) -> Report {
    let body = Payload::signed(random_bytes(plan.size));
    let empty = Payload::empty();
    let (bucket, prefix, keys) = (Arc::new(plan.bucket), Arc::new(plan.prefix), plan.keys);
    let fanout = plan.fanout;
    let (method, class) = op.names();
    run_workers(
        endpoint,
        plan.concurrency,
        plan.count,
        plan.limit,
        &[class],
        move |mut client, i| {
            let (bucket, prefix, body, empty) =
                (bucket.clone(), prefix.clone(), body.clone(), empty.clone());
            async move {
                // PUT writes key i; the others pick among the keys that exist.
                let (payload, key) = match op {
                    SmallOp::Put => (&body, i),
                    SmallOp::Get | SmallOp::Head | SmallOp::Delete => (&empty, i % keys),
                };
                let path = spread_path(&bucket, &prefix, fanout, key);
                let reply = client.send(method, &path, &[], payload, false).await;
                // Bytes moved either way: the body sent (PUT) or received (GET).
                let outcome = expect_success(reply).map(|r| payload.len + r.bytes);
                (client, (0, outcome))
            }
        },
    )
    .await
}

fn list_query(
    prefix: &str,
    delimiter: Option<&str>,
    token: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut query = vec![
        ("list-type", "2".to_string()),
        ("max-keys", "1000".to_string()),
        ("prefix", prefix.to_string()),
    ];
    if let Some(delimiter) = delimiter {
        query.push(("delimiter", delimiter.to_string()));
    }
    if let Some(token) = token {
        query.push(("continuation-token", token.to_string()));
    }
    query
}

pub async fn mixed(endpoint: &Endpoint, plan: Plan) -> Report {
    let body = Payload::signed(random_bytes(plan.size));
    let empty = Payload::empty();
    let (bucket, prefix, keys) = (Arc::new(plan.bucket), Arc::new(plan.prefix), plan.keys);
    run_workers(
        endpoint,
        plan.concurrency,
        plan.count,
        plan.limit,
        &["get", "put", "list"],
        move |mut client, i| {
            let (bucket, prefix, body, empty) =
                (bucket.clone(), prefix.clone(), body.clone(), empty.clone());
            async move {
                // Spread the classes evenly: of every ten operations 7 GET, 2 PUT, 1 LIST.
                let (class, reply) = match i % 10 {
                    0..=6 => {
                        let path = object_path(&bucket, &prefix, (i * 7919) % keys);
                        (0, client.send("GET", &path, &[], &empty, false).await)
                    }
                    7 | 8 => {
                        let path = object_path(&bucket, &prefix, (i * 104729) % keys);
                        (1, client.send("PUT", &path, &[], &body, false).await)
                    }
                    _ => {
                        let query = list_query(&prefix, None, None);
                        (
                            2,
                            client
                                .send("GET", &format!("/{bucket}"), &query, &empty, false)
                                .await,
                        )
                    }
                };
                let outcome = expect_success(reply).map(|r| r.bytes);
                (client, (class, outcome))
            }
        },
    )
    .await
}

pub async fn large(
    endpoint: &Endpoint,
    op: LargeOp,
    bucket: &str,
    prefix: &str,
    size: u64,
    streams: usize,
    limit: Duration,
) -> Report {
    let body = Payload::streamed(random_bytes(1 << 20), size);
    let empty = Payload::empty();
    let (bucket, prefix) = (Arc::new(bucket.to_string()), Arc::new(prefix.to_string()));
    let class = match op {
        LargeOp::Put => "put",
        LargeOp::Get => "get",
    };
    run_workers(
        endpoint,
        streams,
        streams as u64,
        limit,
        &[class],
        move |mut client, i| {
            let (bucket, prefix, body, empty) =
                (bucket.clone(), prefix.clone(), body.clone(), empty.clone());
            async move {
                let path = object_path(&bucket, &prefix, i);
                let outcome = match op {
                    LargeOp::Put => {
                        expect_success(client.send("PUT", &path, &[], &body, false).await)
                            .map(|_| body.len)
                    }
                    LargeOp::Get => {
                        expect_success(client.send("GET", &path, &[], &empty, false).await)
                            .and_then(|r| {
                                if r.bytes == size {
                                    Ok(r.bytes)
                                } else {
                                    Err(format!("GET returned {} of {size} bytes", r.bytes))
                                }
                            })
                    }
                };
                (client, (0, outcome))
            }
        },
    )
    .await
}

/// The text between the first `<tag>` and its `</tag>`, with XML's five entities decoded.
fn element(text: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = text.find(&open)? + open.len();
    let end = start + text[start..].find(&format!("</{tag}>"))?;
    Some(
        text[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

pub async fn multipart(
    endpoint: &Endpoint,
    bucket: &str,
    key: &str,
    size: u64,
    part_size: u64,
    concurrency: usize,
    limit: Duration,
) -> Result<Report, String> {
    let started = Instant::now();
    let path = Arc::new(format!("/{bucket}/{key}"));
    let mut client = Client::new(endpoint);
    let created = expect_success(
        client
            .send(
                "POST",
                &path,
                &[("uploads", String::new())],
                &Payload::empty(),
                true,
            )
            .await,
    )?;
    let upload_id =
        Arc::new(element(&created.text, "UploadId").ok_or("no UploadId in the answer")?);
    let part_size = part_size.max(1);
    let parts = size.div_ceil(part_size);
    let etags = Arc::new(Mutex::new(vec![String::new(); parts as usize]));
    let chunk = random_bytes(1 << 20);
    let mut report = {
        let (path, upload_id, etags) = (path.clone(), upload_id.clone(), etags.clone());
        run_workers(
            endpoint,
            concurrency,
            parts,
            limit,
            &["part"],
            move |mut client, i| {
                let (path, upload_id, etags, chunk) = (
                    path.clone(),
                    upload_id.clone(),
                    etags.clone(),
                    chunk.clone(),
                );
                async move {
                    let len = part_size.min(size - i * part_size);
                    let query = [
                        ("partNumber", (i + 1).to_string()),
                        ("uploadId", upload_id.to_string()),
                    ];
                    let body = Payload::streamed(chunk, len);
                    let outcome =
                        expect_success(client.send("PUT", &path, &query, &body, false).await)
                            .and_then(|reply| {
                                let etag = reply.etag.ok_or("part answer without ETag")?;
                                if let Ok(mut etags) = etags.lock() {
                                    etags[i as usize] = etag;
                                }
                                Ok(len)
                            });
                    (client, (0, outcome))
                }
            },
        )
        .await
    };
    if report.errors > 0 || report.ops < parts {
        return Err(format!(
            "{} of {parts} parts uploaded: {}",
            report.ops,
            report.first_error.unwrap_or_default()
        ));
    }
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (i, etag) in etags
        .lock()
        .map_err(|_| "etags poisoned")?
        .iter()
        .enumerate()
    {
        xml.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>",
            i + 1,
            etag.replace('"', "&quot;")
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    let completed = expect_success(
        client
            .send(
                "POST",
                &path,
                &[("uploadId", upload_id.to_string())],
                &Payload::signed(Bytes::from(xml)),
                true,
            )
            .await,
    )?;
    if completed.text.contains("<Error>") {
        return Err(format!("completion failed: {}", completed.text));
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

pub async fn list(
    endpoint: &Endpoint,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    limit: Duration,
) -> Result<Report, String> {
    let started = Instant::now();
    let deadline = started + limit;
    let mut client = Client::new(endpoint);
    let mut token: Option<String> = None;
    let (mut pages, mut items, mut bytes) = (Vec::new(), 0u64, 0u64);
    loop {
        let begun = Instant::now();
        let query = list_query(prefix, delimiter, token.as_deref());
        let page = expect_success(
            client
                .send(
                    "GET",
                    &format!("/{bucket}"),
                    &query,
                    &Payload::empty(),
                    true,
                )
                .await,
        )?;
        pages.push(begun.elapsed().as_micros().min(u32::MAX as u128) as u32);
        bytes += page.bytes;
        items += (page.text.matches("<Key>").count()
            + page.text.matches("<CommonPrefixes>").count()) as u64;
        token = element(&page.text, "NextContinuationToken");
        let truncated = element(&page.text, "IsTruncated").is_some_and(|t| t == "true");
        if !truncated || token.is_none() || Instant::now() >= deadline {
            break;
        }
    }
    Ok(Report {
        ops: pages.len() as u64,
        seconds: started.elapsed().as_secs_f64(),
        bytes,
        items,
        errors: 0,
        first_error: None,
        latencies: vec![("page", pages)],
    })
}

pub fn md5_rate(size: u64) -> Report {
    let chunk = random_bytes(1 << 20);
    let started = Instant::now();
    let mut hasher = Md5::new();
    let mut left = size;
    while left > 0 {
        let take = left.min(chunk.len() as u64) as usize;
        hasher.update(&chunk[..take]);
        left -= take as u64;
    }
    std::hint::black_box(hasher.finalize());
    single(started, size)
}
