//! The S3 server behind @push.rocks/smarts3, as a library: the `rusts3` binary (`main.rs`) and
//! the integration tests in `rust/tests/` both drive it through [`server::RunningServer`].
//!
//! Layers, each importing only those below it:
//! `management` → `server` → `handlers` / `auth` → `query` / `s3_error` → `codec` → `storage` →
//! `acl` / `policy` / `xml` / `checksum` / `config` / `crypto`. `upgrade_v2` is a start-up step beside
//! `server`. `tests/layers.rs` keeps storage free of HTTP, S3 errors, XML and CORS.

pub mod acl;
pub mod auth;
pub mod body;
pub mod bucket_name;
pub mod checksum;
pub mod codec;
pub mod config;
pub mod cors;
pub mod crypto;
pub mod handlers;
pub mod logging;
pub mod management;
pub mod policy;
pub mod query;
pub mod s3_error;
pub mod server;
pub mod storage;
pub mod upgrade_v2;
pub mod xml;
