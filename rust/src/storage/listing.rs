//! Listing keys in S3 order (UTF-8 byte order) straight from the directory tree.
//!
//! Every directory entry stands for one whole key segment, so visiting a directory's entries sorted
//! by the key text they stand for (`a` < `a.b` < `a/` subtree < `b`) yields keys in global order.
//! That lets a page start at the listing's prefix directory, skip subtrees that lie entirely before
//! the marker, and fold a subtree into one common prefix without walking it.

use super::dir_cache::{DirCache, SortedDir};
use super::keypath::{
    self, decode_segment, SegmentName, RECORD_SUFFIX, SEGMENT_NAME_FILE, VERSIONS_DIR,
};
use super::record::{self, VersionRecord};
use super::versions;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Exclusive start: a key or a common prefix returned earlier, or `start-after`.
    pub marker: Option<String>,
    pub max_keys: usize,
    /// Also read each object's owner (from its metadata).
    pub with_owner: bool,
}

#[derive(Debug, Clone)]
pub enum ListEntry {
    Object {
        key: String,
        size: u64,
        last_modified: SystemTime,
        etag: String,
        /// With `ListQuery::with_owner`, the object's recorded owner.
        owner: Option<crate::acl::Owner>,
        storage_class: String,
    },
    CommonPrefix(String),
}

impl ListEntry {
    /// The text a continuation resumes after.
    pub fn marker(&self) -> &str {
        match self {
            ListEntry::Object { key, .. } => key,
            ListEntry::CommonPrefix(p) => p,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub entries: Vec<ListEntry>,
    pub is_truncated: bool,
}

/// One directory entry, named by the key text it stands for.
struct Child {
    /// For an object: its key. For a directory: the prefix all keys below it share (ends in `/`).
    text: String,
    is_dir: bool,
    path: PathBuf,
}

/// A directory entry as a scan meets it, before anything is allocated for it.
struct Candidate<'a> {
    text: &'a str,
    is_dir: bool,
    dir: &'a Path,
    /// The on-disk name of the entry (for a key with only noncurrent versions, of its record).
    name: &'a str,
}

impl Candidate<'_> {
    fn path(&self) -> PathBuf {
        self.dir.join(self.name)
    }

    fn to_child(&self) -> Child {
        Child {
            text: self.text.to_string(),
            is_dir: self.is_dir,
            path: self.path(),
        }
    }
}

enum Step {
    Descend,
    Skip,
    Stop,
}

/// Offers a directory's entries as key texts, in the directory's own order, to `offer`, until it
/// answers `false`. A missing directory has no entries. With `versions`, keys that have only
/// noncurrent versions (their latest is a delete marker) are children too (a key with both is
/// offered twice); otherwise a key is there when its head record is. Answers whether every
/// entry was offered.
fn scan_children(
    dir: &Path,
    base: &str,
    versions: bool,
    offer: &mut dyn FnMut(Candidate<'_>) -> io::Result<bool>,
) -> io::Result<bool> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory =>
        {
            return Ok(true)
        }
        Err(e) => return Err(e),
    };
    // One buffer for every entry's key text: most entries are rejected on sight.
    let mut text = String::with_capacity(base.len() + 64);
    for entry in entries {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let is_dir = entry.file_type()?.is_dir();
        if is_dir && name == VERSIONS_DIR {
            if versions && !version_only_children(&entry.path(), dir, base, offer)? {
                return Ok(false);
            }
            continue;
        }
        // Decided from the name before any path is made: most entries of a directory are data
        // files, which are skipped here.
        let stem = if is_dir {
            Some(name.as_str())
        } else {
            name.strip_suffix(RECORD_SUFFIX)
        };
        let Some(decoded) = stem.and_then(decode_segment) else {
            continue;
        };
        let segment = match (decoded, is_dir) {
            (SegmentName::Decoded(s), _) => Some(s),
            (SegmentName::Hashed, true) => {
                std::fs::read_to_string(entry.path().join(SEGMENT_NAME_FILE))
                    .ok()
                    .map(Cow::Owned)
            }
            (SegmentName::Hashed, false) => hashed_object_segment(&entry.path()).map(Cow::Owned),
        };
        let Some(segment) = segment.filter(|s| !s.contains('/')) else {
            continue;
        };
        text.clear();
        text.push_str(base);
        text.push_str(&segment);
        if is_dir {
            text.push('/');
        }
        let candidate = Candidate {
            text: &text,
            is_dir,
            dir,
            name: &name,
        };
        if !offer(candidate)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Offers the keys below `{dir}/._S3_versions/`, one directory per stem (see `scan_children`).
fn version_only_children(
    versions_dir: &Path,
    dir: &Path,
    base: &str,
    offer: &mut dyn FnMut(Candidate<'_>) -> io::Result<bool>,
) -> io::Result<bool> {
    for entry in std::fs::read_dir(versions_dir)? {
        let entry = entry?;
        let Ok(stem) = entry.file_name().into_string() else {
            continue;
        };
        let segment = match decode_segment(&stem) {
            Some(SegmentName::Decoded(s)) => Some(s),
            Some(SegmentName::Hashed) => any_record_key(&entry.path()).map(Cow::Owned),
            None => None,
        };
        let Some(segment) = segment.filter(|s| !s.contains('/')) else {
            continue;
        };
        let candidate = Candidate {
            text: &format!("{base}{segment}"),
            is_dir: false,
            dir,
            name: &format!("{stem}{RECORD_SUFFIX}"),
        };
        if !offer(candidate)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The last key segment named by any record in a versions directory of a hashed stem.
fn any_record_key(versions_of_stem: &Path) -> Option<String> {
    for entry in std::fs::read_dir(versions_of_stem).ok()? {
        if let Ok(Some(record)) = record::read(&entry.ok()?.path()) {
            return record.metadata.key.rsplit('/').next().map(str::to_string);
        }
    }
    None
}

/// The last segment of an object stored under a hashed name, from its record.
fn hashed_object_segment(record_path: &Path) -> Option<String> {
    let record = record::read(record_path).ok()??;
    record.metadata.key.rsplit('/').next().map(str::to_string)
}

/// The most children one read of a directory keeps, however far a walk goes into it.
const MAX_WINDOW: usize = 1 << 16;

/// A child ordered by its key text alone, for the window's heap.
struct ByText(Child);

impl PartialEq for ByText {
    fn eq(&self, other: &Self) -> bool {
        self.0.text == other.0.text
    }
}
impl Eq for ByText {}
impl PartialOrd for ByText {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByText {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.text.cmp(&other.0.text)
    }
}

/// One directory's children in key order. From the directory cache when it can answer (see
/// `dir_cache`); otherwise chosen a window at a time. A directory's entries come in hash order,
/// so finding the first few in key order means reading all of them; each read keeps only the
/// `window` smallest after the ones already handed out (in a bounded heap), so a page of a
/// directory of a million keys costs memory for the page, not the directory. The window
/// doubles with each further read: going through all of a directory reads it O(log n) times.
struct Children<'c> {
    dir: PathBuf,
    base: String,
    versions: bool,
    cache: Option<&'c DirCache>,
    /// The cached, sorted entries, and the index of the next one to hand out.
    sorted: Option<(Arc<SortedDir>, usize)>,
    /// Children chosen and not yet handed out, last in key order first.
    ready: Vec<Child>,
    /// The greatest text handed out or chosen so far: the next read starts after it.
    after: Option<String>,
    /// Files before it and directories wholly before it are never wanted (see `subtree_before`).
    floor: String,
    window: usize,
    exhausted: bool,
}

impl<'c> Children<'c> {
    fn new(dir: PathBuf, base: String, walk: &Walk<'_, 'c>) -> Self {
        Self {
            dir,
            base,
            versions: walk.versions,
            cache: walk.cache(),
            sorted: None,
            ready: Vec::new(),
            after: None,
            floor: walk.floor.to_string(),
            window: walk.window.clamp(1, MAX_WINDOW),
            exhausted: false,
        }
    }

    fn wanted(&self, candidate: &Candidate<'_>) -> bool {
        match &self.after {
            Some(after) => candidate.text > after.as_str(),
            None if candidate.is_dir => !subtree_before(candidate.text, &self.floor),
            None => candidate.text >= self.floor.as_str(),
        }
    }

    fn next(&mut self) -> io::Result<Option<Child>> {
        if let Some(cache) = self.cache.take() {
            self.open_sorted(cache)?;
        }
        if let Some((sorted, index)) = &mut self.sorted {
            let Some(entry) = sorted.get(*index) else {
                return Ok(None);
            };
            *index += 1;
            return Ok(Some(Child {
                text: format!("{}{}", self.base, entry.text),
                is_dir: entry.is_dir,
                path: self.dir.join(&*entry.name),
            }));
        }
        if self.ready.is_empty() && !self.exhausted {
            self.read_window()?;
        }
        Ok(self.ready.pop())
    }

    /// Asks the cache for the sorted directory, and finds the first entry the floor wants.
    fn open_sorted(&mut self, cache: &DirCache) -> io::Result<()> {
        let (dir, base) = (&self.dir, self.base.as_str());
        let Some(sorted) = cache.sorted(dir, |builder| {
            scan_children(dir, base, false, &mut |candidate| {
                Ok(builder.push(
                    &candidate.text[base.len()..],
                    candidate.is_dir,
                    candidate.name,
                ))
            })
        })?
        else {
            return Ok(());
        };
        let floor = self.floor.as_str();
        let mut index = sorted.partition_point(|text| cmp_joined(base, text, floor).is_lt());
        // The directory the floor lies in sorts just before the floor itself.
        let floor_inside = |i: usize| {
            sorted.get(i).is_some_and(|e| {
                e.is_dir
                    && floor
                        .strip_prefix(base)
                        .is_some_and(|r| r.starts_with(e.text))
            })
        };
        if index > 0 && floor_inside(index - 1) {
            index -= 1;
        }
        self.sorted = Some((sorted, index));
        Ok(())
    }

    fn read_window(&mut self) -> io::Result<()> {
        let mut heap: BinaryHeap<ByText> = BinaryHeap::with_capacity(self.window.min(1024) + 1);
        let mut wanted = 0usize;
        scan_children(&self.dir, &self.base, self.versions, &mut |candidate| {
            if !self.wanted(&candidate) {
                return Ok(true);
            }
            wanted += 1;
            if heap.len() < self.window {
                heap.push(ByText(candidate.to_child()));
            } else if heap
                .peek()
                .is_some_and(|largest| candidate.text < largest.0.text.as_str())
            {
                heap.pop();
                heap.push(ByText(candidate.to_child()));
            }
            Ok(true)
        })?;
        self.exhausted = wanted <= self.window;
        let mut chosen: Vec<Child> = heap.into_sorted_vec().into_iter().map(|c| c.0).collect();
        // A key with a head record and noncurrent versions appears once.
        chosen.dedup_by(|a, b| a.text == b.text && !a.is_dir && !b.is_dir);
        if let Some(last) = chosen.last() {
            self.after = Some(last.text.clone());
        }
        chosen.reverse();
        self.ready = chosen;
        self.window = (self.window * 2).min(MAX_WINDOW);
        Ok(())
    }
}

/// `base + suffix` compared with `other`, without joining them.
fn cmp_joined(base: &str, suffix: &str, other: &str) -> Ordering {
    let (base, other) = (base.as_bytes(), other.as_bytes());
    let shared = base.len().min(other.len());
    match base[..shared].cmp(&other[..shared]) {
        Ordering::Equal if other.len() < base.len() => Ordering::Greater,
        Ordering::Equal => suffix.as_bytes().cmp(&other[base.len()..]),
        unequal => unequal,
    }
}

/// What one walk of the tree is: the keys it may skip, and where it may look.
struct Walk<'f, 'c> {
    /// Nothing wholly before it is shown to the walk's visitor.
    floor: &'f str,
    /// Whether keys with only noncurrent versions count.
    versions: bool,
    /// How many entries of a directory the visitor is expected to look at.
    window: usize,
    cache: Option<&'c DirCache>,
}

impl<'c> Walk<'_, 'c> {
    /// The directory cache, when it can answer: it knows head records only, so a walk that
    /// counts noncurrent versions reads every directory.
    fn cache(&self) -> Option<&'c DirCache> {
        self.cache.filter(|_| !self.versions)
    }

    /// Depth-first in key order from `start` (whose keys begin with `base`); `visit` decides per
    /// entry whether to descend, skip or stop.
    fn run(
        &self,
        start: &Path,
        base: &str,
        mut visit: impl FnMut(&Child) -> io::Result<Step>,
    ) -> io::Result<()> {
        let mut stack = vec![Children::new(start.to_path_buf(), base.to_string(), self)];
        while let Some(frame) = stack.last_mut() {
            let Some(child) = frame.next()? else {
                stack.pop();
                continue;
            };
            match visit(&child)? {
                Step::Stop => return Ok(()),
                Step::Descend if child.is_dir => {
                    stack.push(Children::new(child.path, child.text, self))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// True when every key below the directory prefix `dir_text` sorts at or before `marker`.
fn subtree_before(dir_text: &str, marker: &str) -> bool {
    dir_text < marker && !marker.starts_with(dir_text)
}

/// Whether any key below `dir` (with `versions`, also a key with only noncurrent versions)
/// sorts after `marker`.
fn has_key_after(
    dir: &Path,
    base: &str,
    marker: &str,
    versions: bool,
    cache: Option<&DirCache>,
) -> io::Result<bool> {
    let walk = Walk {
        floor: marker,
        versions,
        window: 16,
        cache,
    };
    if marker.is_empty() || base > marker {
        // Every key below sorts after the marker: the first one found answers, unsorted.
        // A kept copy of the directory answers without reading it (see `dir_cache`).
        let kept = match walk.cache() {
            Some(cache) => cache.kept(dir)?,
            None => None,
        };
        if kept.is_some_and(|sorted| sorted.has_key()) {
            return Ok(true);
        }
        return has_any_key(dir, base, versions);
    }
    let mut found = false;
    walk.run(dir, base, |child| {
        Ok(if child.is_dir {
            if subtree_before(&child.text, marker) {
                Step::Skip
            } else {
                Step::Descend
            }
        } else if child.text.as_str() > marker {
            found = true;
            Step::Stop
        } else {
            Step::Skip
        })
    })?;
    Ok(found)
}

/// Whether any key is below `dir`, looking no further than the first one found.
fn has_any_key(dir: &Path, base: &str, versions: bool) -> io::Result<bool> {
    let mut found = false;
    scan_children(dir, base, versions, &mut |child| {
        found = !child.is_dir || has_any_key(&child.path(), child.text, versions)?;
        Ok(!found)
    })?;
    Ok(found)
}

/// Whether the bucket directory holds any object, noncurrent version or delete marker at all.
pub fn contains_object(bucket_dir: &Path) -> io::Result<bool> {
    has_key_after(bucket_dir, "", "", true, None)
}

/// The common prefix `text` rolls up into, if the delimiter occurs after the listing prefix.
fn fold<'a>(prefix: &str, text: &'a str, delimiter: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(prefix)?;
    let at = rest.find(delimiter)?;
    Some(&text[..prefix.len() + at + delimiter.len()])
}

/// What a listing walk offers its caller, in key order.
enum Selected<'a> {
    Key { text: &'a str, record: &'a Path },
    Prefix(&'a str),
}

/// Walks the keys and common prefixes a listing shows (prefix, delimiter, marker), in order,
/// offering each to `accept`, which answers `false` when the page is full; then the walk stops
/// and the listing is truncated. With `versions`, keys with only noncurrent versions count,
/// and with `marker_inclusive` the marker key itself is offered (a version-id marker resumes
/// inside it). `window` is about how many entries `accept` will take.
fn select(
    bucket_dir: &Path,
    query: &ListQuery,
    versions: bool,
    marker_inclusive: bool,
    window: usize,
    cache: Option<&DirCache>,
    mut accept: impl FnMut(Selected<'_>) -> io::Result<bool>,
) -> io::Result<bool> {
    let prefix = query.prefix.as_str();
    let marker = query.marker.as_deref().unwrap_or("");
    let delimiter = query.delimiter.as_deref().filter(|d| !d.is_empty());
    let dir_prefix = &prefix[..prefix.rfind('/').map_or(0, |i| i + 1)];
    let start = keypath::dir_for_prefix(bucket_dir, dir_prefix);
    let before_marker = |text: &str| text < marker || (text == marker && !marker_inclusive);
    // Keys starting with the prefix are one run in key order: past it, nothing more is listed.
    let beyond_prefix = |text: &str| text > prefix && !text.starts_with(prefix);
    // What sorts before both the prefix and the marker is never listed.
    let floor = marker.max(prefix);

    let mut truncated = false;
    let mut last_prefix: Option<String> = None;
    let walk = Walk {
        floor,
        versions,
        window,
        cache,
    };
    walk.run(&start, dir_prefix, |child| {
        let text = child.text.as_str();
        if beyond_prefix(text) {
            return Ok(Step::Stop);
        }
        if child.is_dir {
            let on_path = text.starts_with(prefix) || prefix.starts_with(text);
            let already_rolled_up = last_prefix.as_deref().is_some_and(|p| text.starts_with(p));
            if !on_path || subtree_before(text, marker) || already_rolled_up {
                return Ok(Step::Skip);
            }
            let Some(common) = delimiter.and_then(|d| fold(prefix, text, d)) else {
                return Ok(Step::Descend);
            };
            if common == marker || !has_key_after(&child.path, text, marker, versions, cache)? {
                return Ok(Step::Skip);
            }
            if !accept(Selected::Prefix(common))? {
                truncated = true;
                return Ok(Step::Stop);
            }
            last_prefix = Some(common.to_string());
            return Ok(Step::Skip);
        }
        if !text.starts_with(prefix) || before_marker(text) {
            return Ok(Step::Skip);
        }
        let common = delimiter.and_then(|d| fold(prefix, text, d));
        if let Some(common) = common {
            if common == marker || last_prefix.as_deref() == Some(common) {
                return Ok(Step::Skip);
            }
        }
        let offered = match common {
            Some(common) => Selected::Prefix(common),
            None => Selected::Key {
                text,
                record: &child.path,
            },
        };
        if !accept(offered)? {
            truncated = true;
            return Ok(Step::Stop);
        }
        if let Some(common) = common {
            last_prefix = Some(common.to_string());
        }
        Ok(Step::Skip)
    })?;
    Ok(truncated)
}

pub fn list_page(bucket_dir: &Path, query: &ListQuery, cache: &DirCache) -> io::Result<ListPage> {
    let mut page = ListPage::default();
    if query.max_keys == 0 {
        return Ok(page);
    }
    // Collected first, read after: the walk only needs names.
    let mut found: Vec<(String, Option<PathBuf>)> = Vec::new();
    let window = query.max_keys.saturating_add(2);
    page.is_truncated = select(
        bucket_dir,
        query,
        false,
        false,
        window,
        Some(cache),
        |offered| {
            if found.len() == query.max_keys {
                return Ok(false);
            }
            found.push(match offered {
                Selected::Key { text, record } => (text.to_string(), Some(record.to_path_buf())),
                Selected::Prefix(common) => (common.to_string(), None),
            });
            Ok(true)
        },
    )?;

    for (text, record_path) in found {
        let Some(record_path) = record_path else {
            page.entries.push(ListEntry::CommonPrefix(text));
            continue;
        };
        // Gone since the walk saw it (a concurrent delete): not listed.
        let Some(record) = record::read(&record_path)?.filter(|r| !r.delete_marker) else {
            continue;
        };
        page.entries.push(ListEntry::Object {
            key: text,
            size: record.size,
            last_modified: record.last_modified(),
            etag: record.etag,
            storage_class: record.metadata.storage_class().to_string(),
            owner: if query.with_owner {
                record.metadata.acl.map(|acl| acl.owner)
            } else {
                None
            },
        });
    }
    Ok(page)
}

/// One entry of a ListObjectVersions page.
#[derive(Debug, Clone)]
pub enum VersionEntry {
    Version {
        key: String,
        record: Box<VersionRecord>,
        is_latest: bool,
    },
    CommonPrefix(String),
}

#[derive(Debug, Clone, Default)]
pub struct VersionPage {
    pub entries: Vec<VersionEntry>,
    pub is_truncated: bool,
}

/// One page of ListObjectVersions: keys in order, each key's versions newest first. `query`'s
/// marker is the key marker; with `version_marker`, the page resumes inside that key, after
/// that version.
pub fn list_versions_page(
    bucket_dir: &Path,
    query: &ListQuery,
    version_marker: Option<&str>,
) -> io::Result<VersionPage> {
    let mut page = VersionPage::default();
    if query.max_keys == 0 {
        return Ok(page);
    }
    let marker = query.marker.as_deref().unwrap_or("");
    page.is_truncated = select(
        bucket_dir,
        query,
        true,
        version_marker.is_some(),
        query.max_keys.saturating_add(2),
        None,
        |offered| {
            let (text, record) = match offered {
                Selected::Prefix(common) => {
                    if page.entries.len() == query.max_keys {
                        return Ok(false);
                    }
                    page.entries
                        .push(VersionEntry::CommonPrefix(common.to_string()));
                    return Ok(true);
                }
                Selected::Key { text, record } => (text, record),
            };
            let Some((dir, stem)) = record.parent().zip(
                record
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(|n| n.strip_suffix(RECORD_SUFFIX)),
            ) else {
                return Ok(true);
            };
            let all = versions::all(&keypath::ObjectPaths::for_stem(dir, stem))?;
            let skip = match version_marker {
                Some(after) if text == marker => all
                    .iter()
                    .position(|v| v.version_id == after)
                    .map_or(all.len(), |i| i + 1),
                _ => 0,
            };
            for (index, record) in all.into_iter().enumerate().skip(skip) {
                if page.entries.len() == query.max_keys {
                    return Ok(false);
                }
                page.entries.push(VersionEntry::Version {
                    key: text.to_string(),
                    record: Box::new(record),
                    is_latest: index == 0,
                });
            }
            Ok(true)
        },
    )?;
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::keypath::ObjectPaths;

    fn put(bucket: &Path, key: &str) {
        let paths = ObjectPaths::for_key(bucket, key);
        for (dir, hashed) in &paths.dirs {
            if std::fs::create_dir(dir).is_ok() {
                if let Some(seg) = hashed {
                    std::fs::write(dir.join(SEGMENT_NAME_FILE), seg).unwrap();
                }
            }
        }
        let data = paths.new_data_name();
        std::fs::write(paths.dir.join(&data), key).unwrap();
        let record = record::VersionRecord {
            version_id: record::NULL_VERSION.into(),
            delete_marker: false,
            data,
            etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
            size: key.len() as u64,
            modified_ns: 1,
            metadata: crate::storage::ObjectMetadata {
                key: key.to_string(),
                ..Default::default()
            },
        };
        std::fs::write(paths.record(), record.to_json().unwrap()).unwrap();
    }

    fn texts(page: &ListPage) -> Vec<String> {
        page.entries
            .iter()
            .map(|e| e.marker().to_string())
            .collect()
    }

    fn list(
        bucket: &Path,
        prefix: &str,
        delimiter: Option<&str>,
        marker: Option<&str>,
        max: usize,
    ) -> ListPage {
        let query = ListQuery {
            prefix: prefix.into(),
            delimiter: delimiter.map(Into::into),
            marker: marker.map(Into::into),
            max_keys: max,
            with_owner: false,
        };
        CACHE
            .with(|cache| list_page(bucket, &query, cache))
            .unwrap()
    }

    thread_local! {
        /// Each test's own directory cache (each test runs on a thread of its own).
        static CACHE: DirCache = DirCache::default();
    }

    /// Makes a directory look unchanged for a minute, so the cache keeps what it reads of it.
    fn age(dir: &Path) {
        let old = SystemTime::now() - std::time::Duration::from_secs(60);
        std::fs::File::open(dir).unwrap().set_modified(old).unwrap();
    }

    /// Pages through everything, resuming after each page's last entry, as clients do.
    fn list_all(bucket: &Path, prefix: &str, delimiter: Option<&str>, max: usize) -> Vec<String> {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = list(bucket, prefix, delimiter, marker.as_deref(), max);
            all.extend(texts(&page));
            if !page.is_truncated {
                return all;
            }
            marker = page.entries.last().map(|e| e.marker().to_string());
        }
    }

    fn keys() -> Vec<String> {
        let long = "L".repeat(300);
        [
            "a",
            "a.b",
            "a/b",
            "a/c/d",
            "a-b",
            "b",
            "dir/",
            "dir/x",
            "x//y",
            "..",
            "ü",
            "z z+%",
            "photos/2024/jan/1.jpg",
            "photos/2024/feb/2.jpg",
            "photos/2025/x.jpg",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("{long}/end"), format!("long/{long}")])
        .collect()
    }

    #[test]
    fn lists_everything_in_byte_order_at_any_page_size() {
        let tmp = tempfile::tempdir().unwrap();
        let mut expected = keys();
        for k in &expected {
            put(tmp.path(), k);
        }
        expected.sort();
        for max in [1, 2, 3, 7, 1000] {
            assert_eq!(
                list_all(tmp.path(), "", None, max),
                expected,
                "page size {max}"
            );
        }
    }

    #[test]
    fn delimiter_rolls_up_and_pages_count_prefixes() {
        let tmp = tempfile::tempdir().unwrap();
        for k in keys() {
            put(tmp.path(), &k);
        }
        let mut expected: Vec<String> = Vec::new();
        for k in keys() {
            let e = match k.find('/') {
                Some(i) => k[..=i].to_string(),
                None => k,
            };
            if !expected.contains(&e) {
                expected.push(e);
            }
        }
        expected.sort();
        for max in [1, 2, 5, 1000] {
            assert_eq!(
                list_all(tmp.path(), "", Some("/"), max),
                expected,
                "page size {max}"
            );
        }
        assert_eq!(
            list_all(tmp.path(), "photos/", Some("/"), 1),
            vec!["photos/2024/", "photos/2025/"]
        );
        assert_eq!(
            list_all(tmp.path(), "photos/2024/", Some("/"), 1000),
            vec!["photos/2024/feb/", "photos/2024/jan/"]
        );
        assert_eq!(
            list_all(tmp.path(), "a", Some("/"), 1000),
            vec!["a", "a-b", "a.b", "a/"]
        );
        assert_eq!(list_all(tmp.path(), "a/", None, 1000), vec!["a/b", "a/c/d"]);
        assert_eq!(
            list_all(tmp.path(), "nothing/", Some("/"), 1000),
            Vec::<String>::new()
        );
    }

    #[test]
    fn other_delimiters_and_start_after() {
        let tmp = tempfile::tempdir().unwrap();
        for k in ["a-1", "a-2", "a-x/y", "b-1", "c"] {
            put(tmp.path(), k);
        }
        assert_eq!(
            list_all(tmp.path(), "", Some("-"), 1),
            vec!["a-", "b-", "c"]
        );
        assert_eq!(
            list_all(tmp.path(), "", Some("-x/"), 1000),
            vec!["a-1", "a-2", "a-x/", "b-1", "c"]
        );
        let page = list(tmp.path(), "", None, Some("a-2"), 1000);
        assert_eq!(texts(&page), vec!["a-x/y", "b-1", "c"]);
        // A marker inside a rolled-up prefix still shows the prefix while later keys remain.
        let page = list(tmp.path(), "", Some("/"), Some("a-x/a"), 1000);
        assert_eq!(texts(&page), vec!["a-x/", "b-1", "c"]);
    }

    #[test]
    fn a_directory_larger_than_the_window_is_read_in_growing_windows() {
        let tmp = tempfile::tempdir().unwrap();
        let mut expected: Vec<String> = (0..300).map(|i| format!("a-{i}")).collect();
        expected.push("b".into());
        for k in &expected {
            put(tmp.path(), k);
        }
        expected.sort();
        // Every page reads a window of a few keys more than it lists.
        assert_eq!(list_all(tmp.path(), "", None, 7), expected);
        // The 300 keys folded into `a-` are skipped through ever larger windows.
        assert_eq!(list_all(tmp.path(), "", Some("-"), 1), vec!["a-", "b"]);
        assert_eq!(list_all(tmp.path(), "a-2", None, 1000).len(), 111);
    }

    #[test]
    fn a_kept_directory_lists_the_same_and_sees_every_change() {
        let tmp = tempfile::tempdir().unwrap();
        let mut expected: Vec<String> = (0..700).map(|i| format!("k/{i:03}")).collect();
        expected.extend([
            "k/0/x".into(),
            "k/5/".into(),
            "k/a b".into(),
            "k/._S3_x".into(),
        ]);
        for k in &expected {
            put(tmp.path(), k);
        }
        expected.sort();
        let dir = tmp.path().join("k");
        age(&dir);
        for max in [1000, 7] {
            assert_eq!(list_all(tmp.path(), "k/", None, max), expected);
        }
        assert!(CACHE.with(|c| c.holds(&dir)));
        // The kept folder answers for itself in a delimiter listing one level up.
        assert_eq!(list_all(tmp.path(), "", Some("/"), 1000), vec!["k/"]);
        assert_eq!(
            texts(&list(tmp.path(), "k/", None, Some("k/0/"), 3)),
            vec!["k/0/x", "k/000", "k/001"]
        );
        assert_eq!(
            texts(&list(tmp.path(), "k/", None, Some("k/0/a"), 2)),
            vec!["k/0/x", "k/000"]
        );
        assert_eq!(
            texts(&list(tmp.path(), "k/", Some("/"), Some("k/499"), 3)),
            vec!["k/5/", "k/500", "k/501"]
        );
        // A key created later is listed: the directory's mtime changed, so it is read again.
        put(tmp.path(), "k/6999");
        expected.push("k/6999".into());
        expected.sort();
        assert_eq!(list_all(tmp.path(), "k/", None, 1000), expected);
    }

    #[test]
    fn empty_directories_are_invisible() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("ghost/inner")).unwrap();
        put(tmp.path(), "real");
        assert_eq!(list_all(tmp.path(), "", Some("/"), 1000), vec!["real"]);
        assert_eq!(list_all(tmp.path(), "", None, 1000), vec!["real"]);
        assert!(contains_object(tmp.path()).unwrap());
        // A foreign file where a prefix's directory would be: nothing listed, no error.
        std::fs::write(tmp.path().join("foreign"), b"").unwrap();
        assert_eq!(
            list_all(tmp.path(), "foreign/x/", None, 10),
            Vec::<String>::new()
        );
        std::fs::remove_file(ObjectPaths::for_key(tmp.path(), "real").record()).unwrap();
        assert!(!contains_object(tmp.path()).unwrap());
    }
}
