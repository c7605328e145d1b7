//! Keeps the layers pointing down: storage knows buckets, keys and byte streams, never HTTP, S3
//! errors, XML or CORS; body codecs know framing, never S3 errors or auth. Test code inside a
//! file (`#[cfg(test)]` and below) is not checked.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `(file, line)` of every non-test line under `src/{module}` that mentions a forbidden path.
fn violations(module: &str, forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(module);
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(!files.is_empty(), "no sources under {}", root.display());
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source is UTF-8");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (number, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for name in forbidden {
                if line.contains(name) {
                    found.push(format!("{}:{}: {name}", file.display(), number + 1));
                }
            }
        }
    }
    found
}

#[test]
fn storage_imports_nothing_of_http_errors_xml_or_cors() {
    let found = violations(
        "storage",
        &[
            "http::",
            "hyper",
            "crate::s3_error",
            "crate::xml",
            "crate::cors",
            "crate::auth",
            "crate::codec",
            "crate::handlers",
            "crate::server",
            "crate::upgrade_v2",
        ],
    );
    assert!(found.is_empty(), "storage reaches up: {found:#?}");
}

#[test]
fn codecs_import_nothing_of_errors_auth_or_storage() {
    let found = violations(
        "codec",
        &[
            "crate::s3_error",
            "crate::auth",
            "crate::storage",
            "crate::handlers",
            "crate::server",
        ],
    );
    assert!(found.is_empty(), "a codec reaches up: {found:#?}");
}

#[test]
fn the_checker_sees_a_forbidden_import() {
    // The upgrade step may use XML and CORS; if the checker did not flag it there, it could not
    // flag storage either.
    assert!(!violations("", &["crate::xml"]).is_empty());
}
