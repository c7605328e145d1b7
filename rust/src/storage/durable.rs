//! Forcing written files and renames to the disk, for `storage.fsync` (see `config::Fsync`).

use std::io::{self, Write};
use std::path::Path;

/// Creates `path` with `bytes`, synced to the disk when `sync`.
pub fn write_new(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    if sync {
        file.sync_all()?;
    }
    Ok(())
}

/// Makes renames into and unlinks from `dir` durable, when `sync`.
pub fn sync_dir(dir: &Path, sync: bool) -> io::Result<()> {
    if sync {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// `sync_dir` of the directory `path` lies in.
pub fn sync_parent(path: &Path, sync: bool) -> io::Result<()> {
    match path.parent() {
        Some(dir) => sync_dir(dir, sync),
        None => Ok(()),
    }
}
