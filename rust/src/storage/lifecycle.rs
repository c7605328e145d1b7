//! Lifecycle rules as a bucket keeps them, and applying them: expiring current versions,
//! removing noncurrent versions and lone delete markers, aborting old multipart uploads, and
//! transitions (which change a version's storage class; the bytes stay where they are).
//!
//! A lifecycle "day" is a configurable length (`lifecycle.dayLengthSeconds`) so that tests can
//! watch rules act in seconds. Versions protected by object lock are left alone, as S3 does.

use super::listing::{self, ListQuery, VersionEntry};
use super::record::VersionRecord;
use super::{now_ms, DeleteCondition, FileStore, StorageError, StorageResult, Tag};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// `FileStore::lifecycle_in_use`: not looked at yet, no bucket had rules, some bucket has.
pub(super) const UNKNOWN: u8 = 0;
const NO_RULES: u8 = 1;
const RULES_SEEN: u8 = 2;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    pub id: String,
    pub enabled: bool,
    #[serde(default)]
    pub filter: RuleFilter,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<Expiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_expiration: Option<NoncurrentExpiration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abort_incomplete_days: Option<u32>,
    /// A current version takes the storage class of the last transition whose time came.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitions: Vec<Transition>,
    /// The same for noncurrent versions, counted from when they became noncurrent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub noncurrent_transitions: Vec<Transition>,
}

/// Which objects a rule applies to: all of these must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFilter {
    #[serde(default)]
    pub prefix: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_greater_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_less_than: Option<u64>,
    /// Written as `<And>` (kept so the rule reads back as it was written).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub and: bool,
    /// Written as the top-level `<Prefix>` of older clients rather than in a `<Filter>`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legacy_prefix: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// Milliseconds since the Unix epoch (a midnight UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expired_object_delete_marker: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentExpiration {
    pub noncurrent_days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newer_noncurrent_versions: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_ms: Option<u64>,
    pub storage_class: String,
}

/// What one run of the rules did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LifecycleReport {
    /// Current versions expired (removed, or hidden behind a delete marker).
    pub expired: usize,
    /// Noncurrent versions and lone delete markers removed for good.
    pub versions_removed: usize,
    pub uploads_aborted: usize,
    /// Versions whose storage class a transition changed.
    pub transitioned: usize,
}

impl LifecycleReport {
    pub fn add(&mut self, other: LifecycleReport) {
        self.expired += other.expired;
        self.versions_removed += other.versions_removed;
        self.uploads_aborted += other.uploads_aborted;
        self.transitioned += other.transitioned;
    }
}

impl RuleFilter {
    fn matches(&self, key: &str, version: &VersionRecord) -> bool {
        self.matches_object(key, version.size, &version.metadata.tags)
    }

    fn matches_object(&self, key: &str, size: u64, tags: &[Tag]) -> bool {
        key.starts_with(&self.prefix)
            && self.tags.iter().all(|t| tags.contains(t))
            && self.size_greater_than.is_none_or(|s| size > s)
            && self.size_less_than.is_none_or(|s| size < s)
    }
}

/// When an enabled rule will expire the current version of `key` (written at
/// `last_modified_ms`), in ms since the epoch, and that rule's id: what S3's `x-amz-expiration`
/// header tells. The earliest such rule wins.
pub fn expiry<'a>(
    rules: &'a [LifecycleRule],
    key: &str,
    size: u64,
    tags: &[Tag],
    last_modified_ms: u64,
    day: Duration,
) -> Option<(u64, &'a str)> {
    let clock = Clock::new(day);
    rules
        .iter()
        .filter(|r| r.enabled && r.filter.matches_object(key, size, tags))
        .filter_map(|r| {
            let expiration = r.expiration.as_ref()?;
            let at = clock.due_by(expiration.days, expiration.date_ms, last_modified_ms)?;
            Some((at, r.id.as_str()))
        })
        .min_by_key(|(at, _)| *at)
}

/// When an enabled rule will abort an upload of `key` initiated at `initiated_ms`, and that
/// rule's id: what S3's `x-amz-abort-date` and `x-amz-abort-rule-id` tell.
pub fn abort_date<'a>(
    rules: &'a [LifecycleRule],
    key: &str,
    initiated_ms: u64,
    day: Duration,
) -> Option<(u64, &'a str)> {
    let clock = Clock::new(day);
    rules
        .iter()
        .filter(|r| r.enabled && key.starts_with(&r.filter.prefix))
        .filter_map(|r| {
            Some((
                clock.due(initiated_ms, r.abort_incomplete_days?),
                r.id.as_str(),
            ))
        })
        .min_by_key(|(at, _)| *at)
}

/// When a copy restored now for `days` lifecycle days expires (at midnight UTC after them, with
/// real days, as S3 rounds it).
pub fn restore_expiry(now_ms: u64, days: u32, day: Duration) -> u64 {
    Clock::new(day).due(now_ms, days)
}

/// The rules whose filter takes this version of `key`.
fn applying<'a>(
    rules: &'a [LifecycleRule],
    key: &'a str,
    version: &'a VersionRecord,
) -> impl Iterator<Item = &'a LifecycleRule> + 'a {
    rules.iter().filter(move |r| r.filter.matches(key, version))
}

/// The storage class the transitions of the applying rules give a version now: that of the
/// transition whose time came last (`since_ms`: when the clock of these transitions started).
fn transitioned_class<'a>(
    transitions: impl Iterator<Item = &'a Transition>,
    since_ms: u64,
    clock: &Clock,
) -> Option<&'a str> {
    transitions
        .filter_map(|t| {
            let due_ms = clock.due_by(t.days, t.date_ms, since_ms)?;
            (clock.now_ms >= due_ms).then_some((due_ms, t.storage_class.as_str()))
        })
        .max_by_key(|(due_ms, _)| *due_ms)
        .map(|(_, class)| class)
}

/// Ages in lifecycle days.
struct Clock {
    now_ms: u64,
    day_ms: u64,
}

/// A real day: S3 rounds what falls due to the next midnight UTC.
const REAL_DAY_MS: u64 = 86_400_000;

impl Clock {
    fn new(day: Duration) -> Self {
        Clock {
            now_ms: now_ms(),
            day_ms: u64::try_from(day.as_millis()).unwrap_or(u64::MAX).max(1),
        }
    }

    /// When `days` lifecycle days after `since_ms` have passed: with real days, at the next
    /// midnight UTC after that, as S3 counts; with the shorter days of tests, exactly then.
    fn due(&self, since_ms: u64, days: u32) -> u64 {
        let due = since_ms.saturating_add(self.day_ms.saturating_mul(u64::from(days)));
        if self.day_ms == REAL_DAY_MS {
            due.div_ceil(REAL_DAY_MS).saturating_mul(REAL_DAY_MS)
        } else {
            due
        }
    }

    /// When an action given by `days` (counted from `since_ms`) or by a date falls due; days
    /// win if a rule names both. `None` when it names neither.
    fn due_by(&self, days: Option<u32>, date_ms: Option<u64>, since_ms: u64) -> Option<u64> {
        match (days, date_ms) {
            (Some(days), _) => Some(self.due(since_ms, days)),
            (None, date) => date,
        }
    }

    /// Whether `days` lifecycle days have passed since `since_ms`.
    fn passed(&self, since_ms: u64, days: u32) -> bool {
        self.now_ms >= self.due(since_ms, days)
    }
}

impl FileStore {
    /// Applies a bucket's enabled lifecycle rules now; `day` is the length of a lifecycle day.
    pub async fn apply_lifecycle(
        &self,
        bucket: &str,
        day: Duration,
    ) -> StorageResult<LifecycleReport> {
        let dir = self.existing_bucket_dir(bucket).await?;
        let rules: Vec<LifecycleRule> = (self.bucket_settings(bucket).await?.lifecycle.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.enabled)
            .collect();
        let mut report = LifecycleReport::default();
        if rules.is_empty() {
            return Ok(report);
        }
        let clock = Clock::new(day);
        // One page of versions at a time; a key's versions may continue on the next page.
        let mut query = ListQuery {
            max_keys: 1000,
            ..Default::default()
        };
        let mut version_marker: Option<String> = None;
        let mut group: Vec<VersionRecord> = Vec::new();
        let mut group_key = String::new();
        loop {
            let (bucket_dir, page_query, marker) =
                (dir.clone(), query.clone(), version_marker.clone());
            let page = super::blocking(move || {
                Ok(listing::list_versions_page(
                    &bucket_dir,
                    &page_query,
                    marker.as_deref(),
                )?)
            })
            .await?;
            let mut last = None;
            for entry in page.entries {
                let VersionEntry::Version { key, record, .. } = entry else {
                    continue;
                };
                last = Some((key.clone(), record.version_id.clone()));
                if key != group_key && !group.is_empty() {
                    let versions = std::mem::take(&mut group);
                    report.add(
                        self.apply_to_key(bucket, &group_key, &versions, &rules, &clock)
                            .await?,
                    );
                }
                group_key = key;
                group.push(*record);
            }
            match (page.is_truncated, last) {
                (true, Some((key, id))) => {
                    query.marker = Some(key);
                    version_marker = Some(id);
                }
                _ => break,
            }
        }
        if !group.is_empty() {
            report.add(
                self.apply_to_key(bucket, &group_key, &group, &rules, &clock)
                    .await?,
            );
        }
        report.uploads_aborted = self.abort_old_uploads(bucket, &rules, &clock).await?;
        Ok(report)
    }

    /// The rules' actions on one key, whose versions are given newest first.
    async fn apply_to_key(
        &self,
        bucket: &str,
        key: &str,
        versions: &[VersionRecord],
        rules: &[LifecycleRule],
        clock: &Clock,
    ) -> StorageResult<LifecycleReport> {
        let mut report = LifecycleReport::default();
        let Some(latest) = versions.first() else {
            return Ok(report);
        };

        if latest.delete_marker {
            let lone = versions.len() == 1;
            let remove_marker = applying(rules, key, latest).any(|r| {
                r.expiration
                    .as_ref()
                    .is_some_and(|e| e.expired_object_delete_marker)
            });
            if lone && remove_marker && self.remove(bucket, key, Some(&latest.version_id)).await? {
                report.versions_removed += 1;
            }
        } else {
            let expires = applying(rules, key, latest).any(|r| {
                // An Expiration names exactly one of Days and Date (lifecycle_ops checks).
                r.expiration.as_ref().is_some_and(|e| {
                    clock
                        .due_by(e.days, e.date_ms, latest.last_modified_ms())
                        .is_some_and(|due| clock.now_ms >= due)
                })
            });
            if expires && self.remove(bucket, key, None).await? {
                report.expired += 1;
            } else if !expires {
                let transitions = applying(rules, key, latest).flat_map(|r| &r.transitions);
                let class = transitioned_class(transitions, latest.last_modified_ms(), clock);
                report.transitioned +=
                    usize::from(self.transition(bucket, key, latest, class).await?);
            }
        }
        // A version became noncurrent when the next newer one was written.
        for (index, pair) in versions.windows(2).enumerate() {
            let (newer, version) = (&pair[0], &pair[1]);
            let goes = applying(rules, key, version).any(|r| {
                r.noncurrent_expiration.as_ref().is_some_and(|n| {
                    let keep = n.newer_noncurrent_versions.unwrap_or(0) as usize;
                    n.noncurrent_days
                        .is_some_and(|d| clock.passed(newer.last_modified_ms(), d))
                        && index >= keep
                })
            });
            if goes && self.remove(bucket, key, Some(&version.version_id)).await? {
                report.versions_removed += 1;
            } else if !goes && !version.delete_marker {
                let transitions =
                    applying(rules, key, version).flat_map(|r| &r.noncurrent_transitions);
                let class = transitioned_class(transitions, newer.last_modified_ms(), clock);
                report.transitioned +=
                    usize::from(self.transition(bucket, key, version, class).await?);
            }
        }
        Ok(report)
    }

    /// Gives a version the storage class a transition chose, if it has another; `true` when
    /// it changed. A version deleted meanwhile is left alone.
    async fn transition(
        &self,
        bucket: &str,
        key: &str,
        version: &VersionRecord,
        class: Option<&str>,
    ) -> StorageResult<bool> {
        let Some(class) = class.filter(|c| *c != version.metadata.storage_class()) else {
            return Ok(false);
        };
        let class = class.to_string();
        let changed = self
            .update_metadata(bucket, key, Some(&version.version_id), move |m| {
                m.headers
                    .insert(super::STORAGE_CLASS_HEADER.to_string(), class);
                Ok(())
            })
            .await;
        match changed {
            Ok(()) => Ok(true),
            Err(StorageError::NoSuchKey | StorageError::NoSuchVersion) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes (a version of) a key for a rule; `false` when object lock keeps it.
    async fn remove(&self, bucket: &str, key: &str, version: Option<&str>) -> StorageResult<bool> {
        match self
            .delete_object(bucket, key, version, &DeleteCondition::default())
            .await
        {
            Ok(_) => Ok(true),
            Err(StorageError::ObjectLocked) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn abort_old_uploads(
        &self,
        bucket: &str,
        rules: &[LifecycleRule],
        clock: &Clock,
    ) -> StorageResult<usize> {
        let mut aborted = 0;
        for upload in self.list_uploads(Some(bucket)).await? {
            let initiated = super::record::nanos_since_epoch(upload.initiated()) / 1_000_000;
            let old = rules.iter().any(|r| {
                upload.key.starts_with(&r.filter.prefix)
                    && r.abort_incomplete_days
                        .is_some_and(|d| clock.passed(initiated, d))
            });
            if old {
                match self.abort_upload(&upload).await {
                    Ok(()) => aborted += 1,
                    Err(StorageError::NoSuchUpload) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(aborted)
    }

    /// Applies every bucket's rules now (the `runLifecycle` command and the background worker).
    pub async fn apply_lifecycle_everywhere(
        &self,
        day: Duration,
    ) -> StorageResult<LifecycleReport> {
        let mut report = LifecycleReport::default();
        for bucket in self.list_buckets().await? {
            match self.apply_lifecycle(&bucket.name, day).await {
                Ok(one) => report.add(one),
                // Deleted meanwhile: nothing to apply.
                Err(StorageError::NoSuchBucket) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// Replaces (or with `None` removes) the bucket's lifecycle rules.
    pub async fn set_bucket_lifecycle(
        &self,
        bucket: &str,
        rules: Option<Vec<LifecycleRule>>,
    ) -> StorageResult<()> {
        if rules.as_ref().is_some_and(|r| !r.is_empty()) {
            self.lifecycle_in_use.store(RULES_SEEN, Ordering::SeqCst);
        }
        self.update_bucket_settings(bucket, |s| s.lifecycle = rules)
            .await
    }

    /// A bucket's enabled rules, for the headers that announce what they will do. Until some
    /// bucket has rules this costs no file read (the first call looks at every bucket once).
    pub async fn enabled_lifecycle_rules(&self, bucket: &str) -> StorageResult<Vec<LifecycleRule>> {
        if self.lifecycle_in_use.load(Ordering::SeqCst) == UNKNOWN {
            let mut seen = false;
            for other in self.list_buckets().await? {
                if self
                    .bucket_lifecycle(&other.name)
                    .await
                    .ok()
                    .flatten()
                    .is_some_and(|r| !r.is_empty())
                {
                    seen = true;
                    break;
                }
            }
            // A concurrent set_bucket_lifecycle that already said RULES_SEEN stays.
            let found = if seen { RULES_SEEN } else { NO_RULES };
            let _ = self.lifecycle_in_use.compare_exchange(
                UNKNOWN,
                found,
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
        }
        if self.lifecycle_in_use.load(Ordering::SeqCst) == NO_RULES {
            return Ok(Vec::new());
        }
        let rules = self.bucket_lifecycle(bucket).await?.unwrap_or_default();
        Ok(rules.into_iter().filter(|r| r.enabled).collect())
    }

    pub async fn bucket_lifecycle(
        &self,
        bucket: &str,
    ) -> StorageResult<Option<Vec<LifecycleRule>>> {
        Ok(self.bucket_settings(bucket).await?.lifecycle.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_days_fall_due_at_the_next_midnight_utc_and_test_days_exactly() {
        // S3's example: written 2026-01-01 10:30 UTC, 3 days → due 2026-01-05 00:00 UTC.
        let written = 1_767_263_400_000; // 2026-01-01T10:30:00Z
        let real = Clock::new(Duration::from_secs(86_400));
        assert_eq!(real.due(written, 3), 1_767_571_200_000); // 2026-01-05T00:00:00Z
        let midnight = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        assert_eq!(real.due(midnight, 1), midnight + REAL_DAY_MS);
        let short = Clock::new(Duration::from_millis(200));
        assert_eq!(short.due(written, 3), written + 600);
        // Past what a clock holds: saturates, no overflow.
        assert_eq!(real.due(u64::MAX - 5, 3), u64::MAX);
    }

    #[test]
    fn the_earliest_matching_rule_names_the_expiry() {
        let rule = |id: &str, prefix: &str, days: u32| LifecycleRule {
            id: id.to_string(),
            enabled: true,
            filter: RuleFilter {
                prefix: prefix.to_string(),
                ..Default::default()
            },
            expiration: Some(Expiration {
                days: Some(days),
                ..Default::default()
            }),
            ..Default::default()
        };
        let rules = [
            rule("late", "", 9),
            rule("soon", "logs/", 2),
            rule("other", "tmp/", 1),
        ];
        let day = Duration::from_millis(100);
        assert_eq!(
            expiry(&rules, "logs/a", 1, &[], 1000, day),
            Some((1200, "soon"))
        );
        assert_eq!(
            expiry(&rules, "data/a", 1, &[], 1000, day),
            Some((1900, "late"))
        );
        let mut disabled = rules.clone();
        disabled.iter_mut().for_each(|r| r.enabled = false);
        assert_eq!(expiry(&disabled, "logs/a", 1, &[], 1000, day), None);
    }
}
