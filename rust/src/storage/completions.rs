//! Recently completed multipart uploads, so a retried CompleteMultipartUpload (its answer was
//! lost, the client sends it again) gets the same 200 answer instead of NoSuchUpload, as S3
//! gives it. Kept in memory, bounded in count and age: a retry comes within seconds, and one
//! after a restart gets NoSuchUpload.

use super::uploads::{CompleteOutcome, CompletedPart};
use md5::{Digest, Md5};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many completions are remembered, and for how long.
const CAPACITY: usize = 1024;
const RETENTION: Duration = Duration::from_secs(15 * 60);

struct Completion {
    upload_id: String,
    bucket: String,
    key: String,
    /// Of the part list that completed it: a retry must name the same parts.
    parts_fingerprint: [u8; 16],
    outcome: CompleteOutcome,
    at: Instant,
}

#[derive(Default)]
pub struct RecentCompletions {
    recent: Mutex<VecDeque<Completion>>,
}

fn fingerprint(parts: &[CompletedPart]) -> [u8; 16] {
    let mut md5 = Md5::new();
    for part in parts {
        md5.update(part.number.to_be_bytes());
        md5.update(part.etag.as_bytes());
        md5.update([0]);
    }
    md5.finalize().into()
}

impl RecentCompletions {
    pub fn remember(
        &self,
        upload_id: &str,
        bucket: &str,
        key: &str,
        parts: &[CompletedPart],
        outcome: &CompleteOutcome,
    ) {
        let Ok(mut recent) = self.recent.lock() else {
            return;
        };
        if recent.len() == CAPACITY {
            recent.pop_front();
        }
        recent.push_back(Completion {
            upload_id: upload_id.to_string(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            parts_fingerprint: fingerprint(parts),
            outcome: outcome.clone(),
            at: Instant::now(),
        });
    }

    /// The answer of an earlier completion of this upload with the same parts.
    pub fn find(
        &self,
        upload_id: &str,
        bucket: &str,
        key: &str,
        parts: &[CompletedPart],
    ) -> Option<CompleteOutcome> {
        let mut recent = self.recent.lock().ok()?;
        while recent.front().is_some_and(|c| c.at.elapsed() > RETENTION) {
            recent.pop_front();
        }
        let wanted = fingerprint(parts);
        recent
            .iter()
            .find(|c| {
                c.upload_id == upload_id
                    && c.bucket == bucket
                    && c.key == key
                    && c.parts_fingerprint == wanted
            })
            .map(|c| c.outcome.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: u32, etag: &str) -> CompletedPart {
        CompletedPart {
            number,
            etag: etag.to_string(),
            checksum: None,
        }
    }

    #[test]
    fn finds_only_the_same_upload_with_the_same_parts() {
        let completions = RecentCompletions::default();
        let parts = [part(1, "aa"), part(2, "bb")];
        let outcome = CompleteOutcome {
            etag: "e-2".into(),
            size: 1,
            last_modified: std::time::SystemTime::UNIX_EPOCH,
            checksum: None,
            version_id: None,
            tags: Vec::new(),
        };
        completions.remember("u1", "b", "k", &parts, &outcome);
        assert_eq!(
            completions.find("u1", "b", "k", &parts).unwrap().etag,
            "e-2"
        );
        assert!(completions.find("u2", "b", "k", &parts).is_none());
        assert!(completions.find("u1", "b", "other", &parts).is_none());
        assert!(completions.find("u1", "b", "k", &parts[..1]).is_none());
        assert!(completions
            .find("u1", "b", "k", &[part(1, "aa"), part(2, "bc")])
            .is_none());
    }

    #[test]
    fn is_bounded() {
        let completions = RecentCompletions::default();
        let outcome = CompleteOutcome {
            etag: "e".into(),
            size: 1,
            last_modified: std::time::SystemTime::UNIX_EPOCH,
            checksum: None,
            version_id: None,
            tags: Vec::new(),
        };
        for i in 0..CAPACITY + 10 {
            completions.remember(&i.to_string(), "b", "k", &[], &outcome);
        }
        assert_eq!(completions.recent.lock().unwrap().len(), CAPACITY);
        assert!(completions.find("0", "b", "k", &[]).is_none());
        assert!(completions
            .find(&(CAPACITY + 9).to_string(), "b", "k", &[])
            .is_some());
    }
}
