//! Directories' children in key order, kept between listings, so that a page of a big directory
//! does not read the whole directory again (a directory comes in hash order: see `listing`).
//!
//! - What is kept: per directory, the key text (and the on-disk name, where it differs from the
//!   text) of each entry, sorted. Never object data or metadata: a listing reads those from the
//!   records it selects, so a record rewritten in place is seen at once.
//! - When it is trusted: only while the directory's device, inode and mtime are those it had
//!   when it was read, and only if that mtime was old enough then. Creating, removing or
//!   renaming an entry changes the directory's mtime, but a change within the same timestamp
//!   tick as the one before it would not, so a directory changed less than a tick before it was
//!   read is not kept. A tick is a kernel clock tick (at most 10 ms) where mtimes have fractions
//!   of a second, and up to 2 s where they have none (FAT, some NFS servers): `quiet`. Nothing
//!   but the directory itself is consulted: this holds for writers in other processes too.
//! - Bounded: at most `BUDGET` bytes for all directories, least recently used out first; a
//!   directory bigger than that is not kept at all, and listings read it a window at a time.
//! - Only directories of more than `MIN_ENTRIES` entries are kept: reading a small one is as
//!   cheap as checking a cached copy.

use super::keypath::RECORD_SUFFIX;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How old a directory's mtime must be, when it is read, for the read to be kept: ten times
/// the longest tick of the timestamps (see the module's comment).
const QUIET_FINE: Duration = Duration::from_millis(100);
const QUIET_COARSE: Duration = Duration::from_secs(2);
/// The most bytes all kept directories take together.
const BUDGET: usize = 16 << 20;
const MIN_ENTRIES: usize = 512;
/// A key is at most 1024 bytes, so its text fits 15 bits; the top bit marks a directory.
const DIR_BIT: u16 = 1 << 15;

/// What identifies one state of a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    mtime: SystemTime,
}

impl Stamp {
    fn of(dir: &Path) -> io::Result<Self> {
        let meta = std::fs::metadata(dir)?;
        Ok(Self {
            dev: meta.dev(),
            ino: meta.ino(),
            mtime: meta.modified()?,
        })
    }

    /// The stamp of `dir`, or None when it does not exist (as listings see it: a path through
    /// a file is no directory either).
    fn of_existing(dir: &Path) -> io::Result<Option<Self>> {
        match Self::of(dir) {
            Ok(stamp) => Ok(Some(stamp)),
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.kind() == io::ErrorKind::NotADirectory =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn quiet(&self) -> bool {
        let fine = self
            .mtime
            .duration_since(SystemTime::UNIX_EPOCH)
            .is_ok_and(|t| t.subsec_nanos() != 0);
        let quiet = if fine { QUIET_FINE } else { QUIET_COARSE };
        SystemTime::now()
            .duration_since(self.mtime)
            .is_ok_and(|age| age >= quiet)
    }
}

/// One entry: its text (and, when `name_len` > 0, its on-disk name right after) in the arena.
#[derive(Debug, Clone, Copy)]
struct Entry {
    start: u32,
    text_len_and_dir: u16,
    name_len: u16,
}

impl Entry {
    fn is_dir(&self) -> bool {
        self.text_len_and_dir & DIR_BIT != 0
    }

    fn text_end(&self) -> usize {
        self.start as usize + usize::from(self.text_len_and_dir & !DIR_BIT)
    }

    fn text<'a>(&self, arena: &'a str) -> &'a str {
        &arena[self.start as usize..self.text_end()]
    }
}

/// A directory's entries sorted by their key text below the directory's own prefix (a
/// directory's text ends in `/`).
#[derive(Debug)]
pub struct SortedDir {
    stamp: Stamp,
    arena: String,
    entries: Vec<Entry>,
}

/// One entry of a `SortedDir`.
pub struct SortedEntry<'a> {
    /// The key text below the directory's prefix.
    pub text: &'a str,
    pub is_dir: bool,
    /// The on-disk name.
    pub name: std::borrow::Cow<'a, str>,
}

impl SortedDir {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether any entry is a key (not a directory).
    pub fn has_key(&self) -> bool {
        self.entries.iter().any(|e| !e.is_dir())
    }

    pub fn get(&self, index: usize) -> Option<SortedEntry<'_>> {
        let entry = self.entries.get(index)?;
        let text = entry.text(&self.arena);
        let text_end = entry.text_end();
        let is_dir = entry.is_dir();
        let name = match entry.name_len {
            0 if is_dir => text.strip_suffix('/').unwrap_or(text).into(),
            0 => format!("{text}{RECORD_SUFFIX}").into(),
            len => self.arena[text_end..text_end + usize::from(len)].into(),
        };
        Some(SortedEntry { text, is_dir, name })
    }

    /// The index of the first entry for which `before` is false (entries are sorted by text).
    pub fn partition_point(&self, mut before: impl FnMut(&str) -> bool) -> usize {
        self.entries
            .partition_point(|entry| before(entry.text(&self.arena)))
    }

    fn bytes(&self) -> usize {
        self.arena.capacity() + self.entries.capacity() * std::mem::size_of::<Entry>()
    }
}

/// Collects one directory's entries for a `SortedDir`, within the budget.
pub struct SortedDirBuilder {
    arena: String,
    entries: Vec<Entry>,
}

impl SortedDirBuilder {
    /// Adds an entry; answers false once the directory is too big to keep.
    pub fn push(&mut self, text: &str, is_dir: bool, name: &str) -> bool {
        let derived = if is_dir {
            text.strip_suffix('/') == Some(name)
        } else {
            name.strip_suffix(RECORD_SUFFIX) == Some(text)
        };
        let stored_name = if derived { "" } else { name };
        let (Ok(start), Ok(text_len), Ok(name_len)) = (
            u32::try_from(self.arena.len()),
            u16::try_from(text.len()),
            u16::try_from(stored_name.len()),
        ) else {
            return false;
        };
        if text_len & DIR_BIT != 0 {
            return false;
        }
        self.arena.push_str(text);
        self.arena.push_str(stored_name);
        self.entries.push(Entry {
            start,
            text_len_and_dir: text_len | if is_dir { DIR_BIT } else { 0 },
            name_len,
        });
        self.arena.len() + self.entries.len() * std::mem::size_of::<Entry>() <= BUDGET
    }
}

#[derive(Default)]
struct Kept {
    dirs: HashMap<PathBuf, (Arc<SortedDir>, u64)>,
    /// Directories by when they were last used, oldest first.
    by_use: BTreeMap<u64, PathBuf>,
    bytes: usize,
    clock: u64,
}

impl Kept {
    fn touch(&mut self, dir: &Path) {
        self.clock += 1;
        let clock = self.clock;
        if let Some((_, used)) = self.dirs.get_mut(dir) {
            self.by_use.remove(used);
            *used = clock;
            self.by_use.insert(clock, dir.to_path_buf());
        }
    }

    fn remove(&mut self, dir: &Path) {
        if let Some((sorted, used)) = self.dirs.remove(dir) {
            self.by_use.remove(&used);
            self.bytes -= sorted.bytes();
        }
    }

    fn insert(&mut self, dir: &Path, sorted: Arc<SortedDir>) {
        self.remove(dir);
        while self.bytes + sorted.bytes() > BUDGET {
            let Some((_, oldest)) = self.by_use.pop_first() else {
                break;
            };
            if let Some((evicted, _)) = self.dirs.remove(&oldest) {
                self.bytes -= evicted.bytes();
            }
        }
        self.clock += 1;
        self.bytes += sorted.bytes();
        self.by_use.insert(self.clock, dir.to_path_buf());
        self.dirs.insert(dir.to_path_buf(), (sorted, self.clock));
    }
}

#[derive(Default)]
pub struct DirCache {
    kept: Mutex<Kept>,
}

impl DirCache {
    /// The directory's sorted entries: the kept ones while the directory is unchanged, else
    /// read now with `fill` (which pushes every entry, and stops when `push` answers false)
    /// when the directory is quiet. None when it is not (or too big): the caller reads it itself.
    pub fn sorted(
        &self,
        dir: &Path,
        fill: impl FnOnce(&mut SortedDirBuilder) -> io::Result<bool>,
    ) -> io::Result<Option<Arc<SortedDir>>> {
        let Some(stamp) = Stamp::of_existing(dir)? else {
            return Ok(None);
        };
        if let Some(sorted) = self.kept_at(dir, stamp) {
            return Ok(Some(sorted));
        }
        if !stamp.quiet() {
            return Ok(None);
        }
        let mut builder = SortedDirBuilder {
            arena: String::new(),
            entries: Vec::new(),
        };
        if !fill(&mut builder)? {
            return Ok(None);
        }
        let SortedDirBuilder {
            mut arena,
            mut entries,
        } = builder;
        entries.sort_unstable_by(|a, b| a.text(&arena).cmp(b.text(&arena)));
        entries.shrink_to_fit();
        arena.shrink_to_fit();
        let sorted = Arc::new(SortedDir {
            stamp,
            arena,
            entries,
        });
        // Kept only if nothing changed while it was read.
        if sorted.len() > MIN_ENTRIES && Stamp::of_existing(dir)? == Some(stamp) {
            self.lock().insert(dir, sorted.clone());
        }
        Ok(Some(sorted))
    }

    /// The kept entries of `dir`, if it is unchanged since they were read; never reads it.
    pub fn kept(&self, dir: &Path) -> io::Result<Option<Arc<SortedDir>>> {
        Ok(Stamp::of_existing(dir)?.and_then(|stamp| self.kept_at(dir, stamp)))
    }

    fn kept_at(&self, dir: &Path, stamp: Stamp) -> Option<Arc<SortedDir>> {
        let mut kept = self.lock();
        match kept.dirs.get(dir) {
            Some((sorted, _)) if sorted.stamp == stamp => {
                let sorted = sorted.clone();
                kept.touch(dir);
                Some(sorted)
            }
            Some(_) => {
                kept.remove(dir);
                None
            }
            None => None,
        }
    }

    /// Whether a sorted copy of `dir` is kept (whether or not it still holds).
    #[cfg(test)]
    pub fn holds(&self, dir: &Path) -> bool {
        self.lock().dirs.contains_key(dir)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // The map stays consistent whatever panicked while holding it.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}
