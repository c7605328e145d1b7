//! The benchmark's load generator: S3 requests signed like an SDK's (SigV4 headers), many in
//! flight on keep-alive connections, bounded in count and time, loopback only. Each command
//! prints one JSON line of results; `bench/run.ts` starts the servers and reads them.
//!
//! Build: `cargo build --release --example loadgen` (in rust/). Run `loadgen --help`.

mod http;
mod sign;
mod workload;

use clap::{Parser, Subcommand};
use http::Endpoint;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "loadgen", about = "S3 load generator for smarts3's benchmark")]
struct Cli {
    /// host:port of the server; only loopback addresses are accepted.
    #[arg(long)]
    endpoint: String,
    #[arg(long, default_value = "bench")]
    bucket: String,
    #[arg(long, default_value = "AKIAIOSFODNN7EXAMPLE")]
    access_key: String,
    #[arg(long, default_value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")]
    secret_key: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Stop after this many seconds even when operations remain.
    #[arg(long, default_value_t = 10.0)]
    max_seconds: f64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// CreateBucket.
    CreateBucket,
    /// Small-object requests: `count` operations over keys `{prefix}{i}`, `concurrency` in flight.
    Small {
        #[arg(long)]
        op: workload::SmallOp,
        #[command(flatten)]
        run: SmallRun,
        /// How many keys exist (GET, HEAD and the mixed run pick among them); defaults to count.
        #[arg(long)]
        keys: Option<u64>,
        /// Spread keys over this many folders: `{prefix}{i % fanout}/{i}` (0 = flat).
        #[arg(long, default_value_t = 0)]
        fanout: u64,
    },
    /// Large objects, one stream each: PUT or GET `{prefix}{i}` for i < streams.
    Large {
        #[arg(long)]
        op: workload::LargeOp,
        #[arg(long, default_value_t = 256 << 20)]
        size: u64,
        #[arg(long, default_value_t = 1)]
        streams: usize,
        #[arg(long, default_value = "large/")]
        prefix: String,
    },
    /// One multipart upload of `size` bytes in `part_size` parts, `concurrency` parts in flight.
    Multipart {
        #[arg(long, default_value_t = 1 << 30)]
        size: u64,
        #[arg(long, default_value_t = 16 << 20)]
        part_size: u64,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        #[arg(long, default_value = "multipart/object")]
        key: String,
    },
    /// ListObjectsV2 through every page (1000 keys each) under `prefix`.
    List {
        #[arg(long, default_value = "")]
        prefix: String,
        #[arg(long)]
        delimiter: Option<String>,
    },
    /// The mixed run: 70 % GET, 20 % PUT (overwrites), 10 % LIST (first page) over `keys` keys.
    Mixed {
        #[command(flatten)]
        run: SmallRun,
        #[arg(long)]
        keys: u64,
    },
    /// The machine's single-stream MD5 rate over `size` bytes (the md-5 crate the server uses).
    Md5 {
        #[arg(long, default_value_t = 256 << 20)]
        size: u64,
    },
}

/// What the small-object runs (`small`, `mixed`) share.
#[derive(clap::Args)]
struct SmallRun {
    #[arg(long, default_value_t = 4096)]
    size: usize,
    #[arg(long, default_value_t = 1000)]
    count: u64,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value = "small/")]
    prefix: String,
}

impl SmallRun {
    fn plan(self, bucket: String, keys: u64, fanout: u64, limit: Duration) -> workload::Plan {
        workload::Plan {
            bucket,
            prefix: self.prefix,
            fanout,
            size: self.size,
            count: self.count,
            concurrency: self.concurrency,
            keys: keys.max(1),
            limit,
        }
    }
}

fn loopback_only(endpoint: &str) -> Result<(), String> {
    let host = endpoint.rsplit_once(':').map_or(endpoint, |(h, _)| h);
    if host == "127.0.0.1" || host == "localhost" || host == "[::1]" {
        Ok(())
    } else {
        Err(format!("{endpoint}: the benchmark only talks to loopback"))
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(message) = loopback_only(&cli.endpoint) {
        eprintln!("loadgen: {message}");
        std::process::exit(2);
    }
    let endpoint = Endpoint {
        host: cli.endpoint.clone(),
        access_key: cli.access_key.clone(),
        secret_key: cli.secret_key.clone(),
        region: cli.region.clone(),
    };
    let limit = Duration::from_secs_f64(cli.max_seconds);
    let bucket = cli.bucket.clone();
    let result = match cli.command {
        Command::CreateBucket => workload::create_bucket(&endpoint, &bucket).await,
        Command::Small {
            op,
            run,
            keys,
            fanout,
        } => {
            let keys = keys.unwrap_or(run.count);
            let plan = run.plan(bucket, keys, fanout, limit);
            Ok(workload::small(&endpoint, op, plan).await)
        }
        Command::Mixed { run, keys } => {
            Ok(workload::mixed(&endpoint, run.plan(bucket, keys, 0, limit)).await)
        }
        Command::Large {
            op,
            size,
            streams,
            prefix,
        } => Ok(workload::large(&endpoint, op, &bucket, &prefix, size, streams, limit).await),
        Command::Multipart {
            size,
            part_size,
            concurrency,
            key,
        } => {
            workload::multipart(
                &endpoint,
                &bucket,
                &key,
                size,
                part_size,
                concurrency,
                limit,
            )
            .await
        }
        Command::List { prefix, delimiter } => {
            workload::list(&endpoint, &bucket, &prefix, delimiter.as_deref(), limit).await
        }
        Command::Md5 { size } => Ok(workload::md5_rate(size)),
    };
    match result {
        Ok(report) => println!("{}", report.into_json()),
        Err(message) => {
            eprintln!("loadgen: {message}");
            std::process::exit(1);
        }
    }
}
