//! CORS rules and how S3 matches them: origins with one `*` wildcard, methods, requested headers
//! (case-insensitive, wildcards), first matching rule wins.

use crate::config::CorsConfig;

pub use crate::storage::CorsRule;

/// The methods CORS rules may name.
pub const METHODS: [&str; 5] = ["GET", "PUT", "POST", "DELETE", "HEAD"];

/// Headers browsers may read from every response when the server-wide default applies.
const DEFAULT_EXPOSED: [&str; 12] = [
    "ETag",
    "x-amz-request-id",
    "x-amz-id-2",
    "x-amz-version-id",
    "x-amz-delete-marker",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
    "Content-Range",
    "Content-Length",
];

const MAX_RULES: usize = 100;

/// Why a `CORSConfiguration` document was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ConfigurationError {
    /// Not the XML S3 expects (MalformedXML).
    Malformed,
    /// Well-formed but not allowed (InvalidRequest), with S3's message.
    Invalid(String),
}

/// Parses and checks a `CORSConfiguration` document (PutBucketCors, legacy `._S3rver_cors.xml`).
pub fn parse_configuration(body: &[u8]) -> Result<Vec<CorsRule>, ConfigurationError> {
    use ConfigurationError::Malformed;
    let root = crate::xml::parse_document(body).map_err(|_| Malformed)?;
    if root.name != "CORSConfiguration" {
        return Err(Malformed);
    }
    let texts = |rule: &crate::xml::Element, name: &str| -> Vec<String> {
        rule.children_named(name)
            .map(|e| e.text.trim().to_string())
            .collect()
    };
    let mut rules = Vec::new();
    for rule in root.children_named("CORSRule") {
        let parsed = CorsRule {
            id: rule.child_text("ID").map(|s| s.trim().to_string()),
            allowed_origins: texts(rule, "AllowedOrigin"),
            allowed_methods: texts(rule, "AllowedMethod"),
            allowed_headers: texts(rule, "AllowedHeader"),
            expose_headers: texts(rule, "ExposeHeader"),
            max_age_seconds: match rule.child_text("MaxAgeSeconds") {
                Some(v) => Some(v.trim().parse().map_err(|_| Malformed)?),
                None => None,
            },
        };
        rules.push(parsed);
    }
    check_rules(&rules)?;
    Ok(rules)
}

/// Checks rules as PutBucketCors does (a document's or a seeded bucket's).
pub fn check_rules(rules: &[CorsRule]) -> Result<(), ConfigurationError> {
    use ConfigurationError::{Invalid, Malformed};
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(Malformed);
    }
    for rule in rules {
        if rule.allowed_origins.is_empty() || rule.allowed_methods.is_empty() {
            return Err(Malformed);
        }
        if let Some(method) = rule
            .allowed_methods
            .iter()
            .find(|m| !METHODS.contains(&m.as_str()))
        {
            return Err(Invalid(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {method}"
            )));
        }
        for (kind, values) in [
            ("AllowedOrigin", &rule.allowed_origins),
            ("AllowedHeader", &rule.allowed_headers),
        ] {
            if let Some(value) = values.iter().find(|v| v.matches('*').count() > 1) {
                return Err(Invalid(format!(
                    "{kind} \"{value}\" can not have more than one wildcard."
                )));
            }
        }
    }
    Ok(())
}

/// Matches `text` against a pattern with at most one `*` (case-sensitive for origins).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, suffix)) => {
            text.len() >= prefix.len() + suffix.len()
                && text.starts_with(prefix)
                && text.ends_with(suffix)
        }
    }
}

/// What to answer when a rule matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// `Access-Control-Allow-Origin`: `*` for an all-origins rule without credentials, else the origin.
    pub allow_origin: String,
    pub allow_credentials: bool,
    pub allow_methods: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<u64>,
}

/// A set of rules with the credentials policy that goes with them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    pub rules: Vec<CorsRule>,
    /// Bucket rules (S3) always allow credentials for a matched non-`*` origin; the server-wide
    /// default does so only when configured.
    pub credentials_for_wildcard: bool,
    pub credentials: bool,
}

impl CorsPolicy {
    /// A bucket's own rules, with S3's answers.
    pub fn bucket(rules: Vec<CorsRule>) -> Self {
        Self {
            rules,
            credentials_for_wildcard: false,
            credentials: true,
        }
    }

    /// The server-wide default from `config.cors`, if enabled.
    pub fn server_default(config: &CorsConfig) -> Option<Self> {
        if !config.enabled {
            return None;
        }
        let or_default = |list: &Vec<String>, default: &[&str]| {
            if list.is_empty() {
                default.iter().map(|s| s.to_string()).collect()
            } else {
                list.clone()
            }
        };
        Some(Self {
            rules: vec![CorsRule {
                id: Some("smarts3-default".into()),
                allowed_origins: or_default(&config.allowed_origins, &["*"]),
                allowed_methods: or_default(&config.allowed_methods, &METHODS),
                allowed_headers: or_default(&config.allowed_headers, &["*"]),
                expose_headers: or_default(&config.exposed_headers, &DEFAULT_EXPOSED),
                max_age_seconds: config.max_age,
            }],
            credentials_for_wildcard: config.allow_credentials,
            credentials: config.allow_credentials,
        })
    }

    /// The first rule that allows `origin` to use `method` with `request_headers`.
    pub fn evaluate(
        &self,
        origin: &str,
        method: &str,
        request_headers: &[String],
    ) -> Option<Grant> {
        let rule = self.rules.iter().find(|rule| {
            rule.allowed_origins
                .iter()
                .any(|o| wildcard_match(o, origin))
                && rule
                    .allowed_methods
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(method))
                && request_headers.iter().all(|h| {
                    let h = h.to_ascii_lowercase();
                    rule.allowed_headers
                        .iter()
                        .any(|a| wildcard_match(&a.to_ascii_lowercase(), &h))
                })
        })?;
        let all_origins = rule.allowed_origins.iter().any(|o| o == "*");
        let allow_credentials = if all_origins {
            self.credentials_for_wildcard
        } else {
            self.credentials
        };
        Some(Grant {
            allow_origin: if all_origins && !allow_credentials {
                "*".into()
            } else {
                origin.to_string()
            },
            allow_credentials,
            allow_methods: rule
                .allowed_methods
                .iter()
                .map(|m| m.to_ascii_uppercase())
                .collect(),
            expose_headers: rule.expose_headers.clone(),
            max_age_seconds: rule.max_age_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        CorsRule {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
            allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
            expose_headers: vec!["ETag".into()],
            max_age_seconds: Some(60),
            ..Default::default()
        }
    }

    #[test]
    fn s3_matching_rules() {
        let policy = CorsPolicy::bucket(vec![
            rule(
                &["http://*.example.com"],
                &["PUT", "POST"],
                &["x-amz-*", "Content-Type"],
            ),
            rule(&["*"], &["GET"], &[]),
        ]);
        let put = policy
            .evaluate(
                "http://app.example.com",
                "PUT",
                &["X-Amz-Date".into(), "content-type".into()],
            )
            .unwrap();
        assert_eq!(put.allow_origin, "http://app.example.com");
        assert!(put.allow_credentials);
        assert_eq!(put.allow_methods, vec!["PUT", "POST"]);
        assert!(policy
            .evaluate("http://app.example.com", "PUT", &["authorization".into()])
            .is_none());
        assert!(policy.evaluate("http://example.org", "PUT", &[]).is_none());
        // The first matching rule wins; the wildcard rule answers `*` without credentials.
        let get = policy.evaluate("http://anywhere.test", "GET", &[]).unwrap();
        assert_eq!(get.allow_origin, "*");
        assert!(!get.allow_credentials);
        assert!(policy
            .evaluate("http://anywhere.test", "DELETE", &[])
            .is_none());
    }

    #[test]
    fn server_default() {
        assert!(CorsPolicy::server_default(&CorsConfig {
            enabled: false,
            ..Default::default()
        })
        .is_none());
        let permissive = CorsPolicy::server_default(&CorsConfig {
            enabled: true,
            ..Default::default()
        })
        .unwrap();
        let grant = permissive
            .evaluate("http://localhost:5173", "DELETE", &["authorization".into()])
            .unwrap();
        assert_eq!(grant.allow_origin, "*");
        assert!(grant.expose_headers.contains(&"ETag".to_string()));
        let with_credentials = CorsPolicy::server_default(&CorsConfig {
            enabled: true,
            allow_credentials: true,
            ..Default::default()
        })
        .unwrap();
        let grant = with_credentials
            .evaluate("http://localhost:5173", "GET", &[])
            .unwrap();
        assert_eq!(grant.allow_origin, "http://localhost:5173");
        assert!(grant.allow_credentials);
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*", "x"));
        assert!(wildcard_match("http://*.a.com", "http://b.a.com"));
        assert!(!wildcard_match("http://*.a.com", "http://a.com"));
        assert!(wildcard_match("x-amz-*", "x-amz-date"));
        assert!(!wildcard_match("exact", "exactly"));
    }
}
