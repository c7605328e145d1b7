//! One-time upgrade of a smarts3 v2 (s3rver 3.x) data directory to this layout: a start-up step
//! run by `server` after the store opens, not part of storage.
//!
//! s3rver kept `{key}._S3rver_object`, `{key}._S3rver_object.md5` (optional) and
//! `{key}._S3rver_metadata.json` (optional, a flat map of stored headers), plus
//! `{key}._S3rver_tagging.xml`, a bucket's `._S3rver_cors.xml`, and unfinished uploads in
//! `._S3rver_uploads/`. Each object moves to its `._S3_object` files, its metadata converted; a
//! missing ETag is computed; a body s3rver stored with aws-chunked framing (its bug with today's
//! SDKs) is decoded on the way. Migrated files are removed, so a second start finds nothing to do.

use crate::codec::aws_chunked::ChunkedDecoder;
use crate::storage::keypath::BUCKET_SETTINGS_FILE;
use crate::storage::recovery::{adopt_file, file_md5};
use crate::storage::{BucketSettings, ObjectMetadata, Tag};
use md5::{Digest, Md5};
use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const LEGACY_OBJECT: &str = "._S3rver_object";
const LEGACY_MD5: &str = "._S3rver_object.md5";
const LEGACY_METADATA: &str = "._S3rver_metadata.json";
const LEGACY_TAGGING: &str = "._S3rver_tagging.xml";
const LEGACY_CORS: &str = "._S3rver_cors.xml";
const LEGACY_UPLOADS: &str = "._S3rver_uploads";
/// Header names s3rver stored (its allow-list), besides `x-amz-meta-*`.
const LEGACY_HEADERS: [&str; 8] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "content-type",
    "expires",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub buckets: usize,
    pub objects: usize,
    /// Objects whose body still carried aws-chunked framing and was decoded.
    pub repaired: usize,
    /// Objects left as they were because they could not be read (logged; a later start tries again).
    pub skipped: usize,
}

/// Migrates every v2 object under `root`; buckets are the non-hidden directories.
pub fn migrate(root: &Path, tmp: &Path) -> io::Result<MigrationReport> {
    let mut report = MigrationReport::default();
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.file_type()?.is_dir() {
            continue;
        }
        let bucket_dir = entry.path();
        let mut legacy = Vec::new();
        find_legacy_objects(&bucket_dir, &mut legacy)?;
        let cors = bucket_dir.join(LEGACY_CORS);
        let uploads = bucket_dir.join(LEGACY_UPLOADS);
        if legacy.is_empty() && !cors.exists() && !uploads.exists() {
            continue;
        }
        report.buckets += 1;
        for data in legacy {
            match migrate_object(&bucket_dir, &data, tmp) {
                Ok(repaired) => {
                    report.objects += 1;
                    report.repaired += usize::from(repaired);
                }
                // One unreadable object must not keep the server from starting.
                Err(e) => {
                    tracing::warn!("left {} as it was: cannot migrate it: {e}", data.display());
                    report.skipped += 1;
                }
            }
        }
        migrate_bucket_settings(&bucket_dir, &cors)?;
        if uploads.exists() {
            // s3rver could never complete or abort these; they cannot be resumed here either.
            fs::remove_dir_all(&uploads)?;
        }
    }
    Ok(report)
}

fn find_legacy_objects(dir: &Path, found: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_dir() {
            if name != LEGACY_UPLOADS {
                find_legacy_objects(&path, found)?;
            }
        } else if name.ends_with(LEGACY_OBJECT) {
            found.push(path);
        }
    }
    Ok(())
}

/// The key s3rver stored at `data` (relative path minus the suffix; `/` between segments).
fn legacy_key(bucket_dir: &Path, data: &Path) -> Option<String> {
    let relative = data.strip_prefix(bucket_dir).ok()?;
    let text = relative.to_str()?;
    text.strip_suffix(LEGACY_OBJECT).map(str::to_string)
}

fn sibling(data: &Path, suffix: &str) -> PathBuf {
    let text = data.as_os_str().to_string_lossy();
    PathBuf::from(format!(
        "{}{suffix}",
        text.strip_suffix(LEGACY_OBJECT).unwrap_or(&text)
    ))
}

fn read_legacy_headers(path: &Path) -> io::Result<BTreeMap<String, String>> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(e),
    };
    let map: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(map
        .into_iter()
        .filter_map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            let keep = LEGACY_HEADERS.contains(&name.as_str()) || name.starts_with("x-amz-meta-");
            let value = value.as_str()?.to_string();
            keep.then_some((name, value))
        })
        .collect())
}

fn read_legacy_tags(path: &Path) -> Vec<Tag> {
    let Ok(bytes) = fs::read(path) else {
        return Vec::new();
    };
    let Ok(root) = crate::xml::parse_document(&bytes) else {
        return Vec::new();
    };
    root.child("TagSet")
        .map(|set| {
            set.children_named("Tag")
                .filter_map(|t| {
                    Some(Tag {
                        key: t.child_text("Key")?.to_string(),
                        value: t.child_text("Value").unwrap_or_default().to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Copies `from` to `to` through the aws-chunked decoder; returns the decoded MD5.
fn decode_chunked(from: &Path, to: &Path) -> io::Result<[u8; 16]> {
    let mut input = fs::File::open(from)?;
    let mut output = fs::File::create(to)?;
    let mut decoder = ChunkedDecoder::new(None);
    let mut md5 = Md5::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = input.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        let mut out = Vec::new();
        decoder
            .feed(bytes::Bytes::copy_from_slice(&buffer[..n]), &mut out)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        for piece in out {
            md5.update(&piece);
            output.write_all(&piece)?;
        }
    }
    decoder
        .finish()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    output.flush()?;
    Ok(md5.finalize().into())
}

/// Moves one object to the v6 layout; true if its body had to be decoded. The v2 files are
/// removed only after the object's record is committed, so a crash at any point leaves the v2
/// object to be migrated again at the next start (a version committed by the first attempt is
/// then replaced, and its data removed).
fn migrate_object(bucket_dir: &Path, data: &Path, tmp: &Path) -> io::Result<bool> {
    let Some(key) = legacy_key(bucket_dir, data) else {
        return Ok(false);
    };
    let metadata_path = sibling(data, LEGACY_METADATA);
    let md5_path = sibling(data, LEGACY_MD5);
    let tagging_path = sibling(data, LEGACY_TAGGING);
    let mut headers = read_legacy_headers(&metadata_path)?;
    let chunked = headers.get("content-encoding").is_some_and(|e| {
        e.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("aws-chunked"))
    });
    let temp = |what: &str| tmp.join(format!("migrate-{what}-{:032x}", rand::random::<u128>()));
    let (body, etag) = if chunked {
        let decoded = temp("data");
        let md5 = decode_chunked(data, &decoded)?;
        match headers.get("content-encoding").map(|e| {
            e.split(',')
                .map(str::trim)
                .filter(|t| !t.eq_ignore_ascii_case("aws-chunked"))
                .collect::<Vec<_>>()
                .join(", ")
        }) {
            Some(rest) if !rest.is_empty() => headers.insert("content-encoding".into(), rest),
            _ => headers.remove("content-encoding"),
        };
        (decoded, hex::encode(md5))
    } else {
        let etag = match fs::read_to_string(&md5_path) {
            Ok(text) if !text.trim().is_empty() => text.trim().to_string(),
            _ => file_md5(data)?,
        };
        (data.to_path_buf(), etag)
    };
    headers
        .entry("content-type".into())
        .or_insert_with(|| "binary/octet-stream".into());
    let metadata = ObjectMetadata {
        key: key.clone(),
        headers,
        tags: read_legacy_tags(&tagging_path),
        ..Default::default()
    };
    adopt_file(bucket_dir, &key, &body, etag, metadata, tmp)?;
    let mut leftovers = vec![data.to_path_buf(), metadata_path, md5_path, tagging_path];
    if chunked {
        leftovers.push(body);
    }
    for leftover in leftovers {
        match fs::remove_file(leftover) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(chunked)
}

/// Writes the v6 bucket settings (creation time from the directory, CORS from s3rver's XML).
fn migrate_bucket_settings(bucket_dir: &Path, legacy_cors: &Path) -> io::Result<()> {
    let settings_path = bucket_dir.join(BUCKET_SETTINGS_FILE);
    let mut settings: BucketSettings = fs::read(&settings_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    if settings.created_ms == 0 {
        let meta = fs::metadata(bucket_dir)?;
        let created = meta.created().or_else(|_| meta.modified())?;
        settings.created_ms = created
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
    }
    if let Ok(xml) = fs::read(legacy_cors) {
        if let Ok(rules) = crate::cors::parse_configuration(&xml) {
            settings.cors = Some(rules);
        }
        fs::remove_file(legacy_cors)?;
    }
    let json = serde_json::to_vec(&settings).map_err(|e| io::Error::other(e.to_string()))?;
    fs::write(settings_path, json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::record;

    /// The migrated object's record and body.
    fn stored(bucket: &Path, key: &str) -> (record::VersionRecord, Vec<u8>) {
        let (record, data) = record::current(bucket, key).unwrap().expect(key);
        (record, fs::read(data).unwrap())
    }

    fn write(path: &Path, content: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    #[test]
    fn migrates_a_v2_directory_once() {
        let root = tempfile::tempdir().unwrap();
        let tmp = root.path().join(".tmp");
        fs::create_dir_all(&tmp).unwrap();
        let b = root.path().join("legacy");
        write(&b.join("a._S3rver_object"), b"top");
        write(
            &b.join("a._S3rver_object.md5"),
            b"8e6a3b1b9e7e5a3e4a7c1a1a4d3d1b1a",
        );
        write(
            &b.join("a._S3rver_metadata.json"),
            br#"{"content-type":"text/plain","x-amz-meta-foo":"bar","authorization":"dropped"}"#,
        );
        write(&b.join("a/b._S3rver_object"), b"nested");
        write(&b.join("dir/._S3rver_object"), b"dir marker");
        write(
            &b.join("chunky._S3rver_object"),
            b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n",
        );
        write(
            &b.join("chunky._S3rver_metadata.json"),
            br#"{"content-type":"text/plain","content-encoding":"aws-chunked"}"#,
        );
        write(&b.join("tagged._S3rver_object"), b"t");
        write(
            &b.join("tagged._S3rver_tagging.xml"),
            b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>",
        );
        write(&b.join("._S3rver_uploads/abc/1"), b"stale part");
        write(&b.join("._S3rver_cors.xml"), b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>");

        let report = migrate(root.path(), &tmp).unwrap();
        assert_eq!(
            report,
            MigrationReport {
                buckets: 1,
                objects: 5,
                repaired: 1,
                skipped: 0,
            }
        );

        let read_meta = |key: &str| stored(&b, key).0.metadata;
        assert_eq!(stored(&b, "a").1, b"top");
        assert_eq!(stored(&b, "a").0.etag, "8e6a3b1b9e7e5a3e4a7c1a1a4d3d1b1a");
        let a = read_meta("a");
        assert_eq!(
            a.headers.get("x-amz-meta-foo").map(String::as_str),
            Some("bar")
        );
        assert!(!a.headers.contains_key("authorization"));
        assert_eq!(stored(&b, "a/b").1, b"nested");
        // A missing .md5 is computed.
        assert_eq!(
            stored(&b, "a/b").0.etag,
            hex::encode(Md5::digest(b"nested"))
        );
        assert_eq!(stored(&b, "dir/").1, b"dir marker");
        assert_eq!(stored(&b, "chunky").1, b"hello");
        assert!(!read_meta("chunky").headers.contains_key("content-encoding"));
        assert_eq!(
            read_meta("tagged").tags,
            vec![Tag {
                key: "k".into(),
                value: "v".into()
            }]
        );
        assert!(!b.join("._S3rver_uploads").exists());
        let settings: BucketSettings =
            serde_json::from_slice(&fs::read(b.join(BUCKET_SETTINGS_FILE)).unwrap()).unwrap();
        assert_eq!(settings.cors.unwrap()[0].allowed_methods, vec!["GET"]);
        assert!(settings.created_ms > 0);

        // Nothing of the old layout is left, so a second start does nothing.
        let mut left = Vec::new();
        find_legacy_objects(&b, &mut left).unwrap();
        assert!(left.is_empty());
        assert_eq!(
            migrate(root.path(), &tmp).unwrap(),
            MigrationReport::default()
        );
    }

    #[test]
    fn an_unreadable_object_is_left_in_place_and_the_rest_migrates() {
        let root = tempfile::tempdir().unwrap();
        let tmp = root.path().join(".tmp");
        fs::create_dir_all(&tmp).unwrap();
        let b = root.path().join("legacy");
        write(&b.join("broken._S3rver_object"), b"kept");
        write(&b.join("broken._S3rver_metadata.json"), b"{not json");
        write(&b.join("fine._S3rver_object"), b"moved");

        let report = migrate(root.path(), &tmp).unwrap();
        assert_eq!((report.objects, report.skipped), (1, 1));
        assert_eq!(stored(&b, "fine").1, b"moved");
        assert_eq!(fs::read(b.join("broken._S3rver_object")).unwrap(), b"kept");
        assert!(record::current(&b, "broken").unwrap().is_none());
        assert_eq!(fs::read_dir(&tmp).unwrap().count(), 0, "nothing left aside");
        // Every start tries again; it still starts.
        assert_eq!(migrate(root.path(), &tmp).unwrap().skipped, 1);
    }
}
