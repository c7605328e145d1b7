//! A temp file path that deletes its file when dropped, unless it was committed.

use std::path::{Path, PathBuf};

/// A fresh name in the temp directory `tmp`: `{kind}-` and 32 random hex digits.
pub fn unique_path(tmp: &Path, kind: &str) -> PathBuf {
    tmp.join(format!("{kind}-{:032x}", rand::random::<u128>()))
}

pub struct TempPath(Option<PathBuf>);

impl TempPath {
    pub fn new(path: PathBuf) -> Self {
        Self(Some(path))
    }

    pub fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    /// The file was renamed into place: nothing to clean up.
    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // Best effort: the start-up sweep of `.tmp/` catches anything left behind.
            let _ = std::fs::remove_file(path);
        }
    }
}
