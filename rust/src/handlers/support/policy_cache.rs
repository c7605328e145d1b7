//! Parsed bucket policies, kept per bucket for as long as its policy text stays the same:
//! checking and parsing a policy costs far more than evaluating it, and requests to a bucket
//! with a policy would otherwise parse it each time.

use crate::policy::Policy;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// More buckets with a policy than this and the cache starts over (it never grows unbounded).
const MAX_ENTRIES: usize = 1024;

#[derive(Default)]
pub struct PolicyCache {
    entries: Mutex<HashMap<String, (String, Arc<Policy>)>>,
}

impl PolicyCache {
    /// The parsed form of `document`, the policy of `bucket`; the error is why it does not parse.
    pub fn get(&self, bucket: &str, document: &str) -> Result<Arc<Policy>, String> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((text, policy)) = entries.get(bucket) {
            if text == document {
                return Ok(policy.clone());
            }
        }
        let policy = Arc::new(Policy::parse(document.as_bytes(), bucket)?);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(bucket.to_string(), (document.to_string(), policy.clone()));
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_policy_is_parsed_again() {
        let cache = PolicyCache::default();
        let public = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;
        let first = cache.get("b", public).unwrap();
        assert!(Arc::ptr_eq(&first, &cache.get("b", public).unwrap()));
        assert!(first.is_public());
        let private = public.replace("\"*\"", "{\"AWS\":\"111122223333\"}");
        assert!(!cache.get("b", &private).unwrap().is_public());
        assert!(cache.get("b", "not json").is_err());
    }
}
