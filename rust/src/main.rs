//! rusts3: the S3 server behind @push.rocks/smarts3.
//!
//! `rusts3 --management` speaks JSON lines with the Node wrapper; `rusts3 serve` runs standalone.
//! The server itself is the `rusts3` library (`lib.rs`); this binary only parses the command line.

use clap::{Parser, Subcommand};
use rusts3::config::{Config, Credential};
use rusts3::{logging, management, server};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "rusts3", version, about = "A fast, faithful local S3 server")]
struct Cli {
    /// Speak smartrust's JSON-lines protocol on stdin/stdout (used by the Node wrapper).
    #[arg(long)]
    management: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run a server until Ctrl-C / SIGTERM.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// A JSON config file (the same shape as the TypeScript ISmarts3Config); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Port to listen on (0 = any free port).
    #[arg(long)]
    port: Option<u16>,
    /// Address to listen on.
    #[arg(long)]
    address: Option<String>,
    /// Storage directory.
    #[arg(long)]
    directory: Option<PathBuf>,
    /// Region reported to clients.
    #[arg(long)]
    region: Option<String>,
    /// Access key id of the credential pair to hand out.
    #[arg(long, requires = "secret_access_key")]
    access_key_id: Option<String>,
    /// Secret access key of the credential pair to hand out.
    #[arg(long, requires = "access_key_id")]
    secret_access_key: Option<String>,
    /// Empty the storage directory before starting.
    #[arg(long)]
    clean_slate: bool,
    /// Log level: error, warn, info, debug, trace.
    #[arg(long)]
    log_level: Option<String>,
    /// Serve the web console on this port of 127.0.0.1 (0 = any free port).
    #[arg(long, value_name = "PORT")]
    console: Option<u16>,
}

impl ServeArgs {
    fn into_config(self) -> Result<Config, String> {
        let mut config = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
                serde_json::from_str(&text)
                    .map_err(|e| format!("invalid config file {}: {e}", path.display()))?
            }
            None => Config::default(),
        };
        if let Some(port) = self.port {
            config.server.port = port;
        }
        if let Some(address) = self.address {
            config.server.address = address;
        }
        if let Some(directory) = self.directory {
            config.storage.directory = directory;
        }
        if let Some(region) = self.region {
            config.server.region = region;
        }
        if let (Some(access_key_id), Some(secret_access_key)) =
            (self.access_key_id, self.secret_access_key)
        {
            config.auth.credentials = vec![Credential {
                access_key_id,
                secret_access_key,
                canonical_user_id: None,
                display_name: None,
                account_id: None,
            }];
        }
        if self.clean_slate {
            config.storage.clean_slate = true;
        }
        if let Some(level) = self.log_level {
            config.logging.level = level;
        }
        if let Some(port) = self.console {
            config.console.enabled = true;
            config.console.port = port;
        }
        Ok(config)
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let config = args.into_config()?;
    logging::init(&config);
    let server = server::RunningServer::start(config).await?;
    let config = server.config();
    let credential = config.auth.credentials.first().cloned().unwrap_or_default();
    let region = &config.server.region;
    // The one thing serve prints to stdout: how to reach it.
    println!("smarts3 (rusts3 {}) is running", env!("CARGO_PKG_VERSION"));
    println!("  endpoint:          http://{}", server.local_addr);
    println!("  region:            {region}");
    println!("  accessKeyId:       {}", credential.access_key_id);
    println!("  secretAccessKey:   {}", credential.secret_access_key);
    println!("  storage directory: {}", server.directory.display());
    if let Some(console) = &server.console {
        println!("  web console:       {}", console.url());
    }
    wait_for_termination().await;
    tracing::info!("shutting down");
    server.stop().await;
    Ok(())
}

async fn wait_for_termination() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn main() {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rusts3: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = runtime.block_on(async move {
        match (cli.management, cli.command) {
            (true, _) => {
                management::run().await;
                0
            }
            (false, Some(Command::Serve(args))) => match serve(args).await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("rusts3: {e}");
                    1
                }
            },
            (false, None) => {
                eprintln!("rusts3: use `rusts3 serve` to run a server or `--management` for IPC; see --help");
                2
            }
        }
    });
    // Connections cut off at the shutdown deadline must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}
