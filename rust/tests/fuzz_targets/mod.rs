//! The fuzz targets' bodies, shared by the libFuzzer binaries in `rust/fuzz/` (coverage-guided,
//! run by hand) and by `tests/fuzz.rs` (the stable fallback: replays the kept corpus and mutates
//! it for a bounded time in `cargo test`). Each takes arbitrary bytes, must never panic, and
//! asserts the invariants its parser promises.

use bytes::Bytes;
use rusts3::codec::aws_chunked::{ChunkSigning, ChunkedDecoder};
use rusts3::config::AuthConfig;
use rusts3::handlers::support::{form, range};
use rusts3::query::Query;
use rusts3::server::router;
use rusts3::storage::keypath::{self, ObjectPaths, SegmentName};
use std::path::{Component, Path};

/// A target: arbitrary bytes in, a panic when an invariant breaks.
pub type Target = fn(&[u8]);

/// Every target, by the name of its corpus directory and libFuzzer binary.
pub const TARGETS: &[(&str, Target)] = &[
    ("router", router_target),
    ("auth", auth_target),
    ("aws_chunked", aws_chunked_target),
    ("xml", xml_target),
    ("keypath", keypath_target),
    ("form", form_target),
    ("range", range_target),
];

/// Splits input into `n` fields at `\n` (the last takes the rest), so one input drives several
/// arguments.
fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |&b| b == b'\n').collect();
    out.resize(n, b"");
    out
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Method, path, query and whether a copy source is present, through query parsing, routing and
/// the virtual-host split.
pub fn router_target(data: &[u8]) {
    let f = fields(data, 4);
    let method = http::Method::from_bytes(f[0]).unwrap_or(http::Method::GET);
    let path = text(f[1]);
    let raw_query = text(f[2]);
    let Ok(query) = Query::parse(Some(&raw_query)) else {
        return;
    };
    let _ = router::route(&method, &path, &query, f[3].first() == Some(&b'c'));
    let _ = router::bucket_from_host(&path, Some(&raw_query));
    let _ = router::target_bucket(Some(&raw_query), &path, None);
}

/// A request with auth on: method, path, query, then `name: value` header lines.
pub fn auth_target(data: &[u8]) {
    let f = fields(data, 4);
    let method = text(f[0]);
    let raw_path = text(f[1]);
    let raw_query = text(f[2]);
    let Ok(query) = Query::parse(Some(&raw_query)) else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    for line in f[3].split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(&line[..colon]),
            http::HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    let config = AuthConfig {
        enabled: true,
        ..AuthConfig::default()
    };
    let request = rusts3::auth::RequestToAuthenticate {
        method: &method,
        raw_path: &raw_path,
        raw_query: Some(&raw_query),
        query: &query,
        headers: &headers,
        vhost_bucket: None,
    };
    let _ = rusts3::auth::authenticate(&request, &config, std::time::SystemTime::now());
    if let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        let _ = rusts3::auth::sigv4::AuthorizationHeader::parse(value);
        let _ = rusts3::auth::sigv2::parse_header(value);
    }
}

/// An aws-chunked body fed in pieces (the first byte picks the piece size), unsigned and signed:
/// the payload out is never larger than the body in.
pub fn aws_chunked_target(data: &[u8]) {
    let Some((&piece, body)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece % 64) + 1;
    for signing in [
        None,
        Some(ChunkSigning {
            key: vec![7; 32],
            amz_date: "20260101T000000Z".into(),
            scope: "20260101/us-east-1/s3/aws4_request".into(),
            seed_signature: "0".repeat(64),
        }),
    ] {
        let mut decoder = ChunkedDecoder::new(signing);
        let mut out = Vec::new();
        let fed = body
            .chunks(piece)
            .try_for_each(|chunk| decoder.feed(Bytes::copy_from_slice(chunk), &mut out));
        let payload: usize = out.iter().map(Bytes::len).sum();
        assert!(
            payload <= body.len(),
            "{payload} bytes out of {}",
            body.len()
        );
        if fed.is_ok() {
            let _ = decoder.finish();
        }
    }
}

/// Any document through the XML reader and the CreateBucketConfiguration parser.
pub fn xml_target(data: &[u8]) {
    let _ = rusts3::xml::parse_document(data);
    let _ = rusts3::xml::parse_create_bucket_configuration(data);
}

/// A key's paths stay below the bucket, every name fits a file system, verbatim and escaped
/// names decode back to their segment, and two different keys never share a record.
pub fn keypath_target(data: &[u8]) {
    let f = fields(data, 2);
    let (Ok(key), Ok(other)) = (std::str::from_utf8(f[0]), std::str::from_utf8(f[1])) else {
        return;
    };
    let bucket = Path::new("/store/bucket");
    let paths = ObjectPaths::for_key(bucket, key);
    let record = paths.record();
    let below = record
        .strip_prefix(bucket)
        .expect("the record is below the bucket");
    for component in below.components() {
        let Component::Normal(name) = component else {
            panic!("{key:?} maps to {record:?}");
        };
        assert!(name.len() <= 255, "{key:?}: a name of {} bytes", name.len());
        assert!(
            !name.as_encoded_bytes().contains(&0),
            "{key:?}: NUL in a name"
        );
    }
    let segments: Vec<&str> = key.split('/').collect();
    let names: Vec<String> = below
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), segments.len(), "{key:?} -> {record:?}");
    for (segment, name) in segments.iter().zip(&names[..names.len() - 1]) {
        match keypath::decode_segment(name) {
            Some(SegmentName::Decoded(decoded)) => assert_eq!(&decoded, segment),
            Some(SegmentName::Hashed) => assert!(keypath::is_hashed_dir_name(name)),
            None => panic!("{key:?}: directory {name:?} does not decode"),
        }
    }
    if key != other {
        assert_ne!(
            record,
            ObjectPaths::for_key(bucket, other).record(),
            "{key:?} and {other:?} share a record"
        );
    }
}

/// A POST form: the first line is the boundary, the rest the body, read in pieces by the
/// streaming form reader; a file part's bytes are never more than the body's.
pub fn form_target(data: &[u8]) {
    let f = fields(data, 2);
    let boundary = text(f[0]);
    if boundary.is_empty() {
        return;
    }
    let body = Bytes::copy_from_slice(f[1]);
    let pieces: Vec<rusts3::s3_error::S3Result<Bytes>> = body
        .chunks(7)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    // One runtime for every input: building one per input would be most of the cost.
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    });
    runtime.block_on(async {
        use futures_util::StreamExt;
        let mut reader = form::FormReader::new(futures_util::stream::iter(pieces), &boundary);
        for _ in 0..64 {
            let Ok(Some(part)) = reader.next_part().await else {
                return;
            };
            if part.filename.is_some() {
                let mut stream = std::pin::pin!(reader.file_stream());
                let mut total = 0;
                while let Some(Ok(chunk)) = stream.next().await {
                    total += chunk.len();
                }
                assert!(total <= body.len());
            } else if reader.read_value().await.is_err() {
                return;
            }
        }
    });
    let _ = form::boundary(&boundary);
}

/// A Range header against an object whose size the first eight bytes give: a partial range is
/// always inside the object.
pub fn range_target(data: &[u8]) {
    let (size, header) = data.split_at(data.len().min(8));
    let mut size_bytes = [0u8; 8];
    size_bytes[..size.len()].copy_from_slice(size);
    let size = u64::from_le_bytes(size_bytes);
    let header = text(header);
    if let range::RangeOutcome::Partial { start, end } = range::resolve(Some(&header), size) {
        assert!(
            start <= end && end < size,
            "{header:?} on {size}: {start}-{end}"
        );
    }
}
