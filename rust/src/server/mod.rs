//! The HTTP server: bind outside, serve inside, drain with a deadline.

pub mod console;
pub mod faults;
mod pipeline;
mod preflight;
pub mod report;
pub mod request_log;
mod response;
pub mod router;
mod seed;
pub mod stats;

use crate::body::ResponseBody;
use crate::config::{Config, Owner};
use crate::storage::FileStore;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
use tokio::task::JoinHandle;

/// How long `stop` lets in-flight requests finish before cutting them off.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

pub struct ServerState {
    pub store: FileStore,
    pub config: Config,
    pub owner: Owner,
    pub stats: stats::Stats,
    pub requests: request_log::RequestLog,
    pub faults: faults::Faults,
    /// Bucket policies as parsed (handlers look them up by bucket and text).
    pub policies: crate::handlers::support::policy_cache::PolicyCache,
}

/// A server accepting connections in the background.
pub struct RunningServer {
    pub local_addr: SocketAddr,
    pub directory: std::path::PathBuf,
    /// The web console, when enabled.
    pub console: Option<console::RunningConsole>,
    state: Arc<ServerState>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
    sweeper: JoinHandle<()>,
    lifecycle: JoinHandle<()>,
}

impl RunningServer {
    /// Opens the storage, binds the configured address and starts serving. Errors are written
    /// for users.
    pub async fn start(config: Config) -> Result<Self, String> {
        config.validate()?;
        let addr = format!("{}:{}", config.server.address, config.server.port);
        let listener = TcpListener::bind(&addr).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                format!(
                    "port {} on {} is already in use",
                    config.server.port, config.server.address
                )
            } else {
                format!("cannot listen on {addr}: {e}")
            }
        })?;
        Self::start_on(listener, config).await
    }

    /// Opens the storage (upgrading a v2 data directory once) and serves on an already-bound
    /// listener, so callers (tests, embedders) choose how to bind.
    pub async fn start_on(listener: TcpListener, config: Config) -> Result<Self, String> {
        config.validate()?;
        seed::check_seeds(&config.buckets)?;
        let store = open_store(&config).await?;
        let local_addr = listener.local_addr().map_err(|e| e.to_string())?;
        let directory = store.root().to_path_buf();
        let owner = config.default_owner();
        seed::seed_buckets(&store, &config.buckets, &owner).await?;
        let limits = ConnectionLimits {
            header_timeout: Duration::from_millis(config.limits.header_timeout_ms),
            max_connections: connection_cap(config.limits.max_connections),
        };
        let requests = request_log::RequestLog::new(
            config.logging.request_history,
            config.logging.request_log_file.as_deref(),
        )
        .await?;
        let faults = faults::Faults::default();
        faults.set(config.faults.clone())?;
        let state = Arc::new(ServerState {
            store,
            config,
            owner,
            stats: stats::Stats::new(),
            requests,
            faults,
            policies: Default::default(),
        });
        let console = match state.config.console.enabled {
            true => Some(console::start(state.clone(), local_addr, &limits).await?),
            false => None,
        };
        let (shutdown, shutdown_rx) = oneshot::channel();
        let handler = {
            let state = state.clone();
            move |req, socket| pipeline::handle(req, state.clone(), socket)
        };
        let task = tokio::spawn(serve(listener, handler, shutdown_rx, limits));
        let sweeper = tokio::spawn(sweep_expired_uploads(state.clone()));
        let lifecycle = tokio::spawn(apply_lifecycle_rules(state.clone()));
        tracing::info!(
            "listening on http://{local_addr}, storage in {}",
            directory.display()
        );
        Ok(Self {
            local_addr,
            directory,
            console,
            state,
            shutdown,
            task,
            sweeper,
            lifecycle,
        })
    }

    /// The configuration in force, defaults filled in.
    pub fn config(&self) -> &Config {
        &self.state.config
    }

    pub fn store(&self) -> &FileStore {
        &self.state.store
    }

    /// The state requests share, for work that outlives a borrow of the server (waitForObject).
    pub fn shared_state(&self) -> Arc<ServerState> {
        self.state.clone()
    }

    pub fn requests(&self) -> &request_log::RequestLog {
        &self.state.requests
    }

    pub fn stats(&self) -> &stats::Stats {
        &self.state.stats
    }

    pub fn faults(&self) -> &faults::Faults {
        &self.state.faults
    }

    /// Creates the config's seeded buckets that are missing; returns how many.
    pub async fn seed_buckets(&self) -> Result<usize, String> {
        seed::seed_buckets(
            &self.state.store,
            &self.state.config.buckets,
            &self.state.owner,
        )
        .await
    }

    pub fn default_owner(&self) -> Owner {
        self.state.owner.clone()
    }

    /// Stops accepting, lets in-flight requests finish (within the deadline), then returns.
    pub async fn stop(self) {
        self.sweeper.abort();
        self.lifecycle.abort();
        let _ = self.shutdown.send(());
        if let Some(console) = self.console {
            console.stop().await;
        }
        let _ = self.task.await;
        self.state.requests.close().await;
        self.state.store.finish_removals().await;
        self.state.store.mark_clean().await;
    }
}

/// Opens the store and upgrades what smarts3 v2 left in it (once; a second start finds nothing).
async fn open_store(config: &Config) -> Result<FileStore, String> {
    let directory = &config.storage.directory;
    let unusable = |e: std::io::Error| {
        format!(
            "storage directory {} is not usable: {e}",
            directory.display()
        )
    };
    let store = FileStore::open(directory, config.storage.clean_slate)
        .await
        .map_err(unusable)?
        .with_fsync(config.storage.fsync);
    let (root, tmp) = (store.root().to_path_buf(), store.tmp_dir().to_path_buf());
    let report = tokio::task::spawn_blocking(move || crate::upgrade_v2::migrate(&root, &tmp))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| {
            unusable(std::io::Error::new(
                e.kind(),
                format!("migrating the smarts3 v2 (s3rver) data failed: {e}"),
            ))
        })?;
    if report.buckets > 0 {
        tracing::info!(
            "migrated a smarts3 v2 data directory: {} bucket(s), {} object(s), {} aws-chunked body(ies) repaired",
            report.buckets,
            report.objects,
            report.repaired
        );
    }
    Ok(store)
}

/// Removes multipart uploads older than `multipart.expirationDays`, at start and then every
/// `multipart.cleanupIntervalMinutes`.
async fn sweep_expired_uploads(state: Arc<ServerState>) {
    let settings = &state.config.multipart;
    // Validated finite and non-negative; a value too large for a Duration means "never".
    let seconds = |value: f64| Duration::try_from_secs_f64(value).unwrap_or(Duration::MAX);
    let max_age = seconds(settings.expiration_days * 86_400.0);
    let interval = seconds(settings.cleanup_interval_minutes * 60.0);
    loop {
        match state.store.sweep_expired_uploads(max_age).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("removed {n} expired multipart upload(s)"),
            Err(e) => tracing::warn!("multipart sweep failed: {e}"),
        }
        tokio::time::sleep(interval).await;
    }
}

/// Applies the buckets' lifecycle rules every 1/24 of a lifecycle day (at least every second,
/// at most every hour), as S3 runs them in the background.
async fn apply_lifecycle_rules(state: Arc<ServerState>) {
    let day = state.config.lifecycle.day();
    let interval = (day / 24).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    loop {
        tokio::time::sleep(interval).await;
        let cause = crate::storage::changes::Cause {
            operation: "Lifecycle",
            requester: None,
        };
        let applied = state.store.apply_lifecycle_everywhere(day);
        match crate::storage::changes::caused_by(cause, applied).await {
            Ok(report) if report == Default::default() => {}
            Ok(report) => tracing::info!("lifecycle rules applied: {report:?}"),
            Err(e) => tracing::warn!("applying lifecycle rules failed: {e}"),
        }
    }
}

/// How many connections are served at once and how long their headers may take.
#[derive(Clone, Copy)]
struct ConnectionLimits {
    header_timeout: Duration,
    max_connections: usize,
}

/// Files kept free for storage work (temp files, data, metadata) beside the connections.
const FILES_RESERVED: u64 = 64;

/// The configured connection limit, lowered to fit the open-file limit (raised to its hard
/// maximum first, as servers do) so that accept never fails for want of files.
fn connection_cap(configured: usize) -> usize {
    let files = raise_open_file_limit();
    let fit = usize::try_from(files.saturating_sub(FILES_RESERVED)).unwrap_or(usize::MAX);
    let cap = configured.min(fit.max(1));
    if cap < configured {
        tracing::info!(
            "serving at most {cap} connections at once (open-file limit {files}; limits.maxConnections is {configured})"
        );
    }
    cap
}

/// Raises the soft open-file limit to the hard one; returns the limit in force.
#[cfg(unix)]
fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed by pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return u64::MAX;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere
    let current = limit.rlim_cur as u64;
    current
}

#[cfg(not(unix))]
fn raise_open_file_limit() -> u64 {
    u64::MAX
}

/// Serves connections on `listener` with `handler` (called with each request and its
/// connection's socket) until `shutdown`, then drains them within the deadline.
async fn serve<H, F>(
    listener: TcpListener,
    handler: H,
    mut shutdown: oneshot::Receiver<()>,
    limits: ConnectionLimits,
) where
    H: Fn(Request<Incoming>, RawFd) -> F + Clone + Send + 'static,
    F: Future<Output = Result<Response<ResponseBody>, faults::InjectedReset>> + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    // A permit per connection: past the limit, new connections wait in the listen queue.
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        // Typically EMFILE: back off instead of spinning; never fatal.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let handler = handler.clone();
                // Fault rules reset connections through it; it is open while the service is.
                let socket = std::os::fd::AsRawFd::as_raw_fd(&stream);
                let client = crate::handlers::ClientAddress(peer.ip());
                let service = service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(client);
                    handler(req, socket)
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.header_timeout)
                    .keep_alive(true)
                    // A client may shut its write side once the request is sent and still
                    // wait for the answer (without this, the answer raced the close).
                    .half_close(true)
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!("connection ended with an error: {e}");
                    }
                    drop(permit);
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections closed"),
        _ = tokio::time::sleep(SHUTDOWN_DEADLINE) => {
            tracing::warn!("shutdown deadline passed; cutting off remaining connections")
        }
    }
}
