//! Seeded buckets (config `buckets`): each missing one is created with its versioning, tags,
//! CORS rules, policy and the files of a local directory, at start and again by `reset`. A bucket that
//! exists already is left as it is.

use crate::acl::{Acl, Owner};
use crate::config::{SeedBucket, SeedVersioning};
use crate::storage::{FileStore, ObjectMetadata, StorageError, Tag, WriteCondition};
use futures_util::TryStreamExt;
use std::path::{Path, PathBuf};

/// How many bytes each read of a seed file takes.
const READ_CHUNK: usize = 256 * 1024;

/// Creates every missing seeded bucket; returns how many were created. Errors name the bucket.
pub async fn seed_buckets(
    store: &FileStore,
    seeds: &[SeedBucket],
    owner: &Owner,
) -> Result<usize, String> {
    let mut created = 0;
    for seed in seeds {
        let fail = |e: String| format!("seeded bucket '{}': {e}", seed.name);
        if seed_bucket(store, seed, owner).await.map_err(fail)? {
            created += 1;
        }
    }
    Ok(created)
}

/// Checks every seed before anything is created, so a bad config starts nothing.
pub fn check_seeds(seeds: &[SeedBucket]) -> Result<(), String> {
    for (i, seed) in seeds.iter().enumerate() {
        let fail = |e: String| format!("seeded bucket '{}': {e}", seed.name);
        crate::bucket_name::validate(&seed.name).map_err(fail)?;
        if seeds[..i].iter().any(|s| s.name == seed.name) {
            return Err(fail("named twice".into()));
        }
        crate::handlers::validate_tags(&tags_of(seed), 50).map_err(|e| fail(e.message))?;
        if !seed.cors.is_empty() {
            crate::cors::check_rules(&cors_of(seed)).map_err(|e| {
                fail(match e {
                    crate::cors::ConfigurationError::Malformed => {
                        "cors: each rule needs allowedOrigins and allowedMethods, at most 100 rules"
                            .into()
                    }
                    crate::cors::ConfigurationError::Invalid(message) => format!("cors: {message}"),
                })
            })?;
        }
        if let Some(document) = policy_of(seed) {
            crate::policy::Policy::parse(document.as_bytes(), &seed.name)
                .map_err(|why| fail(format!("policy: {why}")))?;
        }
        if let Some(directory) = &seed.directory {
            if !directory.is_dir() {
                return Err(fail(format!("{} is not a directory", directory.display())));
            }
        }
    }
    Ok(())
}

/// Creates one seeded bucket if it is missing; false when it existed.
async fn seed_bucket(store: &FileStore, seed: &SeedBucket, owner: &Owner) -> Result<bool, String> {
    let bucket = seed.name.as_str();
    match store.create_bucket(bucket, owner.clone(), None, None).await {
        Ok(()) => {}
        Err(StorageError::BucketAlreadyExists) => return Ok(false),
        Err(e) => return Err(e.to_string()),
    }
    let settings = async {
        if let Some(versioning) = seed.versioning {
            store
                .set_bucket_versioning(bucket, versioning == SeedVersioning::Enabled)
                .await?;
        }
        if !seed.tags.is_empty() {
            store.set_bucket_tags(bucket, Some(tags_of(seed))).await?;
        }
        if !seed.cors.is_empty() {
            store.set_bucket_cors(bucket, Some(cors_of(seed))).await?;
        }
        if let Some(document) = policy_of(seed) {
            store.set_bucket_policy(bucket, Some(document)).await?;
        }
        Ok::<_, StorageError>(())
    };
    settings.await.map_err(|e| e.to_string())?;
    if let Some(directory) = &seed.directory {
        let files = files_below(directory.clone()).await?;
        for (key, path) in &files {
            put_file(store, bucket, key, path, owner)
                .await
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
        tracing::info!("seeded bucket {bucket} with {} file(s)", files.len());
    }
    Ok(true)
}

/// The seed's policy document as text (given as a JSON object or as a string of JSON).
fn policy_of(seed: &SeedBucket) -> Option<String> {
    match seed.policy.as_ref()? {
        serde_json::Value::String(text) => Some(text.clone()),
        document => Some(document.to_string()),
    }
}

fn tags_of(seed: &SeedBucket) -> Vec<Tag> {
    (seed.tags.iter())
        .map(|(key, value)| Tag {
            key: key.clone(),
            value: value.clone(),
        })
        .collect()
}

fn cors_of(seed: &SeedBucket) -> Vec<crate::cors::CorsRule> {
    (seed.cors.iter())
        .map(|rule| crate::cors::CorsRule {
            id: rule.id.clone(),
            allowed_origins: rule.allowed_origins.clone(),
            allowed_methods: rule.allowed_methods.clone(),
            allowed_headers: rule.allowed_headers.clone(),
            expose_headers: rule.expose_headers.clone(),
            max_age_seconds: rule.max_age_seconds,
        })
        .collect()
}

/// Streams one file into the bucket as `key`.
async fn put_file(
    store: &FileStore,
    bucket: &str,
    key: &str,
    path: &Path,
    owner: &Owner,
) -> Result<(), StorageError> {
    crate::handlers::support::upload::validate_key(key)
        .map_err(|e| StorageError::Io(std::io::Error::other(e.message)))?;
    let file = tokio::fs::File::open(path).await?;
    let body =
        tokio_util::io::ReaderStream::with_capacity(file, READ_CHUNK).map_err(StorageError::from);
    let mut metadata = ObjectMetadata {
        acl: Some(Acl::private(owner.clone())),
        ..Default::default()
    };
    if let Some(content_type) = content_type(key) {
        metadata
            .headers
            .insert("content-type".into(), content_type.into());
    }
    store
        .put_object(
            bucket,
            key,
            metadata,
            crate::checksum::BodyDigests::new(None),
            &WriteCondition::Always,
            body,
            |_| Ok(None),
        )
        .await?;
    Ok(())
}

/// Every regular file below `root` (symbolic links followed) as (key, path), sorted by key.
async fn files_below(root: PathBuf) -> Result<Vec<(String, PathBuf)>, String> {
    tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for entry in entries {
                let path = entry.map_err(|e| e.to_string())?.path();
                let meta =
                    std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                if meta.is_dir() {
                    dirs.push(path);
                } else if meta.is_file() {
                    files.push((key_of(&root, &path)?, path));
                }
            }
        }
        files.sort();
        Ok(files)
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The key of a file: its path below `root`, `/`-separated.
fn key_of(root: &Path, path: &Path) -> Result<String, String> {
    let relative = path.strip_prefix(root).map_err(|e| e.to_string())?;
    let segments: Option<Vec<&str>> = relative.iter().map(|s| s.to_str()).collect();
    segments
        .map(|s| s.join("/"))
        .ok_or_else(|| format!("{}: the file name is not UTF-8", path.display()))
}

/// The content type of a file by its extension, for the common web and data formats; `None`
/// leaves S3's default (binary/octet-stream).
fn content_type(key: &str) -> Option<&'static str> {
    let extension = key.rsplit_once('.')?.1.to_ascii_lowercase();
    let found = CONTENT_TYPES.iter().find(|(ext, _)| *ext == extension)?;
    Some(found.1)
}

const CONTENT_TYPES: &[(&str, &str)] = &[
    ("html", "text/html"),
    ("htm", "text/html"),
    ("css", "text/css"),
    ("js", "text/javascript"),
    ("mjs", "text/javascript"),
    ("json", "application/json"),
    ("map", "application/json"),
    ("xml", "application/xml"),
    ("txt", "text/plain"),
    ("md", "text/markdown"),
    ("csv", "text/csv"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("ico", "image/vnd.microsoft.icon"),
    ("pdf", "application/pdf"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tar", "application/x-tar"),
    ("wasm", "application/wasm"),
    ("mp4", "video/mp4"),
    ("webm", "video/webm"),
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("ogg", "audio/ogg"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("parquet", "application/vnd.apache.parquet"),
];

#[cfg(test)]
mod tests {
    use super::content_type;

    #[test]
    fn content_type_comes_from_the_last_extension_in_any_case() {
        assert_eq!(content_type("site/index.HTML"), Some("text/html"));
        assert_eq!(content_type("data.tar.gz"), Some("application/gzip"));
        assert_eq!(content_type("README"), None);
        assert_eq!(content_type("dir.d/blob.unknown"), None);
    }
}
