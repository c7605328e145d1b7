//! Configuration: serde mirrors of the TypeScript `ISmarts3Config` (camelCase), with defaults.

pub use crate::acl::Owner;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub auth: AuthConfig,
    pub cors: CorsConfig,
    pub logging: LoggingConfig,
    pub limits: LimitsConfig,
    pub multipart: MultipartConfig,
    pub lifecycle: LifecycleConfig,
    /// Fault rules in force from the start (`setFaults` replaces them at runtime).
    pub faults: Vec<FaultRule>,
    /// Buckets created at start when missing, and again by `reset`.
    pub buckets: Vec<SeedBucket>,
    /// The web console (`server/console/`), off unless enabled.
    pub console: ConsoleConfig,
}

/// The web console listens on a port of its own: the S3 port's paths all belong to buckets and
/// keys, and the console, which needs no signature, stays on loopback when S3 does not.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsoleConfig {
    pub enabled: bool,
    /// 0: any free port (the resolved one is reported).
    pub port: u16,
    pub address: String,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            port: 0,
            address: "127.0.0.1".into(),
        }
    }
}

/// A bucket the server creates, with its settings and files, when it is missing
/// (`server/seed.rs`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedBucket {
    pub name: String,
    #[serde(default)]
    pub versioning: Option<SeedVersioning>,
    /// The bucket's tag set.
    #[serde(default)]
    pub tags: std::collections::BTreeMap<String, String>,
    /// The bucket's CORS rules (none: the server-wide default applies).
    #[serde(default)]
    pub cors: Vec<SeedCorsRule>,
    /// The bucket policy: the document as a JSON object, or as a string of JSON.
    #[serde(default)]
    pub policy: Option<serde_json::Value>,
    /// A local directory whose files become the bucket's objects: the key is the path below
    /// it, `/`-separated; the content type comes from the file's extension.
    #[serde(default)]
    pub directory: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum SeedVersioning {
    Enabled,
    Suspended,
}

/// One CORS rule, as PutBucketCors takes it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedCorsRule {
    #[serde(default)]
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    #[serde(default)]
    pub allowed_headers: Vec<String>,
    #[serde(default)]
    pub expose_headers: Vec<String>,
    #[serde(default)]
    pub max_age_seconds: Option<u64>,
}

/// A rule that makes matching requests misbehave on purpose, so clients' retry logic can be
/// tested (`server/faults.rs` applies it). Rules are tried in order; the first that matches
/// and fires applies.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// Shown in the request log and by `getFaults`; `rule-{n}` when not given.
    pub name: Option<String>,
    /// The operations it applies to, by their AWS names (`PutObject`, `UploadPart`); all when
    /// empty.
    pub operations: Vec<String>,
    pub bucket: Option<String>,
    pub key_prefix: Option<String>,
    /// The chance that a matching request is hit, 0 to 1 (1 when not given).
    pub probability: Option<f64>,
    /// Only the next `count` hits, then the rule is spent.
    pub count: Option<u64>,
    /// Added before the request is handled.
    pub latency_ms: Option<u64>,
    /// Answered instead of handling the request.
    pub error: Option<FaultError>,
    /// The request and response bodies go no faster than this.
    pub bandwidth_bytes_per_second: Option<u64>,
    /// The connection is reset after this many bytes of a body.
    pub reset: Option<FaultReset>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultError {
    /// An S3 error code (`SlowDown`, `InternalError`, `ServiceUnavailable`, …) or any other.
    pub code: String,
    /// Needed for a code the server does not know; overrides a known code's status.
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultReset {
    pub after_bytes: u64,
    /// Which body: the request's when it has one, else the response's, when not given.
    #[serde(default)]
    pub body: Option<FaultBody>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultBody {
    Request,
    Response,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LifecycleConfig {
    /// How long a lifecycle "day" is, in seconds (tests shorten it to watch rules act).
    pub day_length_seconds: f64,
}

impl Default for LifecycleConfig {
    fn default() -> Self {
        Self {
            day_length_seconds: 86_400.0,
        }
    }
}

impl LifecycleConfig {
    pub fn day(&self) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(self.day_length_seconds)
            .unwrap_or(std::time::Duration::MAX)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ServerConfig {
    /// 0 = any free port; the port actually bound is reported back.
    pub port: u16,
    pub address: String,
    pub region: String,
    pub silent: bool,
    /// Virtual-hosted-style requests (`Host: {bucket}.{baseDomain}`) are recognised for this
    /// domain, besides `localhost`.
    pub base_domain: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            port: 3000,
            address: "127.0.0.1".into(),
            region: "us-east-1".into(),
            silent: false,
            base_domain: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StorageConfig {
    pub directory: PathBuf,
    pub clean_slate: bool,
    pub fsync: Fsync,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            directory: PathBuf::from(".nogit/bucketsDir"),
            clean_slate: false,
            fsync: Fsync::None,
        }
    }
}

/// What is forced to the disk before a write is acknowledged. The commit order alone keeps
/// every key whole through a crash of the server process (the kernel still holds what was
/// written); fsync is about the machine losing power or the kernel crashing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fsync {
    /// Nothing: as fast as the page cache (what every other local S3 does).
    #[default]
    None,
    /// Each version's data file, before the record that names it is committed.
    Data,
    /// Also the records and the directories they are renamed into: an acknowledged write
    /// survives a power cut.
    Full,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthConfig {
    /// Signature verification; off by default, like s3rver. Any credentials are then accepted.
    pub enabled: bool,
    /// The users; an empty list means the default pair (as absent does).
    #[serde(deserialize_with = "credentials_or_default")]
    pub credentials: Vec<Credential>,
}

fn credentials_or_default<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Credential>, D::Error> {
    let credentials = Vec::<Credential>::deserialize(deserializer)?;
    Ok(if credentials.is_empty() {
        vec![Credential::default()]
    } else {
        credentials
    })
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            credentials: vec![Credential::default()],
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// The user's canonical id (64 hex digits in S3); derived from the access key if not given.
    #[serde(default)]
    pub canonical_user_id: Option<String>,
    /// The user's display name; the lower-cased access key if not given.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The 12-digit account bucket policies name the user by; derived from the access key if
    /// not given.
    #[serde(default)]
    pub account_id: Option<String>,
}

impl Default for Credential {
    /// The credentials smarts3 v2 (s3rver) handed out.
    fn default() -> Self {
        Self {
            access_key_id: "S3RVER".into(),
            secret_access_key: "S3RVER".into(),
            canonical_user_id: None,
            display_name: None,
            account_id: None,
        }
    }
}

impl Credential {
    /// The account this user belongs to, as bucket policies name it.
    pub fn account_id(&self) -> String {
        if let Some(id) = &self.account_id {
            return id.clone();
        }
        let digest = Sha256::digest(format!("smarts3-account:{}", self.access_key_id).as_bytes());
        let mut number = [0u8; 8];
        number.copy_from_slice(&digest[..8]);
        format!("{:012}", u64::from_be_bytes(number) % 1_000_000_000_000)
    }

    /// The user this credential pair belongs to.
    pub fn owner(&self) -> Owner {
        let derived = || {
            hex::encode(Sha256::digest(
                format!("smarts3-owner:{}", self.access_key_id).as_bytes(),
            ))
        };
        Owner {
            id: self.canonical_user_id.clone().unwrap_or_else(derived),
            display_name: self
                .display_name
                .clone()
                .unwrap_or_else(|| self.access_key_id.to_lowercase()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CorsConfig {
    /// The server-wide default rule for buckets without CORS rules of their own (and for
    /// ListBuckets). On by default and permissive, so browsers work out of the box.
    pub enabled: bool,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub exposed_headers: Vec<String>,
    pub max_age: Option<u64>,
    pub allow_credentials: bool,
}

impl Default for CorsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            allowed_origins: Vec::new(),
            allowed_methods: Vec::new(),
            allowed_headers: Vec::new(),
            exposed_headers: Vec::new(),
            max_age: None,
            allow_credentials: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LoggingConfig {
    pub level: String,
    /// `text` or `json`.
    pub format: String,
    /// How many recent requests `getRequests` can return (0 keeps none).
    pub request_history: usize,
    /// Every request is appended to this file as a JSON line.
    pub request_log_file: Option<PathBuf>,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: "text".into(),
            request_history: 1000,
            request_log_file: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LimitsConfig {
    /// Largest single PUT body, in bytes (S3: 5 GiB).
    pub max_object_size: u64,
    /// Largest total of user metadata (`x-amz-meta-*` names and values), in bytes (S3: 2 KB).
    pub max_metadata_size: usize,
    /// How long a client may pause while sending a body before the request is cut off
    /// (RequestTimeout).
    pub request_timeout_ms: u64,
    /// How long a client may take to send a request's headers (and a kept-alive connection may
    /// sit idle) before the connection is closed; short, so idle or half-sent connections cannot
    /// hold the server's connection slots.
    pub header_timeout_ms: u64,
    /// Most connections served at once; more wait in the listen queue until one closes.
    /// Also capped by the process's open-file limit, so the accept loop never runs out of files.
    pub max_connections: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_object_size: 5 * 1024 * 1024 * 1024,
            max_metadata_size: 2048,
            request_timeout_ms: 300_000,
            header_timeout_ms: 20_000,
            max_connections: 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MultipartConfig {
    /// Uploads initiated longer ago are removed by the background sweep.
    pub expiration_days: f64,
    /// How often the sweep runs.
    pub cleanup_interval_minutes: f64,
    /// Smallest size of every part but the last (S3: 5 MiB); test suites may lower it.
    pub min_part_size: u64,
}

impl Default for MultipartConfig {
    fn default() -> Self {
        Self {
            expiration_days: 7.0,
            cleanup_interval_minutes: 60.0,
            min_part_size: 5 * 1024 * 1024,
        }
    }
}

impl Config {
    /// Checks what serde cannot; the message is written for the user who wrote the config.
    pub fn validate(&self) -> Result<(), String> {
        if self.server.address.trim().is_empty() {
            return Err("server.address must not be empty".into());
        }
        if self.server.region.trim().is_empty() {
            return Err("server.region must not be empty".into());
        }
        if self.storage.directory.as_os_str().is_empty() {
            return Err("storage.directory must not be empty".into());
        }
        if self.auth.credentials.is_empty() {
            return Err("auth.credentials must hold at least one credential pair".into());
        }
        if self
            .auth
            .credentials
            .iter()
            .any(|c| c.access_key_id.is_empty())
        {
            return Err("auth.credentials: accessKeyId must not be empty".into());
        }
        let bad_account = |id: &String| id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit());
        if self
            .auth
            .credentials
            .iter()
            .any(|c| c.account_id.as_ref().is_some_and(bad_account))
        {
            return Err("auth.credentials: accountId must be 12 digits".into());
        }
        if self.limits.max_connections == 0 || self.limits.header_timeout_ms == 0 {
            return Err("limits.maxConnections and limits.headerTimeoutMs must be > 0".into());
        }
        let days = self.multipart.expiration_days;
        let minutes = self.multipart.cleanup_interval_minutes;
        if !days.is_finite() || days < 0.0 || !minutes.is_finite() || minutes <= 0.0 {
            return Err(
                "multipart.expirationDays must be >= 0 and multipart.cleanupIntervalMinutes > 0"
                    .into(),
            );
        }
        let day = self.lifecycle.day_length_seconds;
        if !day.is_finite() || day <= 0.0 {
            return Err("lifecycle.dayLengthSeconds must be a number > 0".into());
        }
        if self.console.enabled && self.console.address.trim().is_empty() {
            return Err("console.address must not be empty".into());
        }
        if !matches!(self.logging.format.as_str(), "text" | "json") {
            return Err(format!(
                "logging.format must be 'text' or 'json', not '{}'",
                self.logging.format
            ));
        }
        Ok(())
    }

    /// The owner reported when signatures are not checked (and of buckets made before owners
    /// were recorded): the first configured user.
    pub fn default_owner(&self) -> Owner {
        self.auth
            .credentials
            .first()
            .cloned()
            .unwrap_or_default()
            .owner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_and_defaults() {
        let c: Config = serde_json::from_str(
            r#"{"server":{"port":0},"storage":{"directory":"/tmp/x","cleanSlate":true},"limits":{"maxObjectSize":10}}"#,
        )
        .unwrap();
        assert_eq!(c.server.port, 0);
        assert_eq!(c.server.address, "127.0.0.1");
        assert_eq!(c.server.region, "us-east-1");
        assert!(c.storage.clean_slate);
        assert_eq!(c.limits.max_object_size, 10);
        assert_eq!(c.limits.max_metadata_size, 2048);
        assert_eq!(c.auth.credentials[0].access_key_id, "S3RVER");
        assert!(c.validate().is_ok());
        let owner = c.default_owner();
        assert_eq!(owner.id.len(), 64);
    }

    #[test]
    fn an_empty_credential_list_means_the_default_pair() {
        let c: Config =
            serde_json::from_str(r#"{"auth":{"enabled":true,"credentials":[]}}"#).unwrap();
        assert_eq!(c.auth.credentials.len(), 1);
        assert_eq!(c.auth.credentials[0].secret_access_key, "S3RVER");
        let c: Config = serde_json::from_str(
            r#"{"auth":{"credentials":[{"accessKeyId":"a","secretAccessKey":"b"}]}}"#,
        )
        .unwrap();
        assert_eq!(c.auth.credentials[0].access_key_id, "a");
    }
}
