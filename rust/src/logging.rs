//! Logging to stderr only (stdout belongs to IPC). Set up once, from the first config seen.

use crate::config::Config;
use std::sync::Once;
use tracing_subscriber::EnvFilter;

static INIT: Once = Once::new();

/// Installs the global subscriber: `RUSTS3_LOG` (an env-filter string) wins over the config;
/// `server.silent` turns logging off.
pub fn init(config: &Config) {
    INIT.call_once(|| {
        let level = if config.server.silent {
            "off".to_string()
        } else {
            config.logging.level.clone()
        };
        let filter = std::env::var("RUSTS3_LOG")
            .ok()
            .and_then(|f| EnvFilter::try_new(f).ok())
            .or_else(|| EnvFilter::try_new(format!("rusts3={level}")).ok())
            .unwrap_or_else(|| EnvFilter::new("rusts3=info"));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false);
        let result = if config.logging.format == "json" {
            builder.json().try_init()
        } else {
            builder.try_init()
        };
        if let Err(e) = result {
            eprintln!("rusts3: logging could not be set up: {e}");
        }
    });
}
