//! A statement's `Condition` block: operators (with `IfExists` and the `ForAnyValue:` /
//! `ForAllValues:` set qualifiers), keys and values, as IAM evaluates them.

use super::glob;
use serde_json::Value;
use std::borrow::Cow;
use std::net::IpAddr;

/// The values a request has for a condition key (named as [`normalize_key`] leaves it);
/// `None` when it has none.
pub trait RequestValues {
    fn values(&self, key: &str) -> Option<Vec<String>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Compare),
    Date(Compare),
    Bool,
    IpAddress,
    ArnEquals,
    ArnLike,
    BinaryEquals,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

impl Compare {
    fn holds(self, request: f64, policy: f64) -> bool {
        match self {
            Self::Equals => request == policy,
            Self::LessThan => request < policy,
            Self::LessThanEquals => request <= policy,
            Self::GreaterThan => request > policy,
            Self::GreaterThanEquals => request >= policy,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Set {
    /// A single-valued key: positive tests need a match, negated ones need none.
    Single,
    ForAnyValue,
    ForAllValues,
}

/// One key's test of one operator.
#[derive(Debug, Clone)]
pub struct Condition {
    test: Test,
    negated: bool,
    if_exists: bool,
    set: Set,
    key: String,
    values: Vec<String>,
}

/// S3's own condition keys (lower case); `aws:` keys are global and all accepted.
const S3_KEYS: &[&str] = &[
    "s3:accesspointnetworkorigin",
    "s3:authtype",
    "s3:dataaccesspointaccount",
    "s3:dataaccesspointarn",
    "s3:delimiter",
    "s3:locationconstraint",
    "s3:max-keys",
    "s3:object-lock-legal-hold",
    "s3:object-lock-mode",
    "s3:object-lock-remaining-retention-days",
    "s3:object-lock-retain-until-date",
    "s3:prefix",
    "s3:requestobjecttagkeys",
    "s3:resourceaccount",
    "s3:signatureage",
    "s3:signatureversion",
    "s3:tlsversion",
    "s3:versionid",
    "s3:x-amz-acl",
    "s3:x-amz-content-sha256",
    "s3:x-amz-copy-source",
    "s3:x-amz-grant-full-control",
    "s3:x-amz-grant-read",
    "s3:x-amz-grant-read-acp",
    "s3:x-amz-grant-write",
    "s3:x-amz-grant-write-acp",
    "s3:x-amz-metadata-directive",
    "s3:x-amz-object-ownership",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm",
    "s3:x-amz-storage-class",
    "s3:x-amz-website-redirect-location",
];

/// Keys that name a tag after the slash.
const S3_TAG_KEYS: &[&str] = &["s3:existingobjecttag/", "s3:requestobjecttag/"];

/// Condition key names are case-insensitive, the tag key after `.../` is not.
pub fn normalize_key(key: &str) -> String {
    match key.split_once('/') {
        Some((name, tag)) => format!("{}/{tag}", name.to_ascii_lowercase()),
        None => key.to_ascii_lowercase(),
    }
}

fn known_key(key: &str) -> bool {
    key.starts_with("aws:")
        || S3_KEYS.contains(&key)
        || S3_TAG_KEYS
            .iter()
            .any(|prefix| key.len() > prefix.len() && key.starts_with(prefix))
}

fn parse_test(name: &str) -> Option<(Test, bool)> {
    use Compare::*;
    use Test::*;
    Some(match name {
        "StringEquals" => (StringEquals, false),
        "StringNotEquals" => (StringEquals, true),
        "StringEqualsIgnoreCase" => (StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (StringEqualsIgnoreCase, true),
        "StringLike" => (StringLike, false),
        "StringNotLike" => (StringLike, true),
        "NumericEquals" => (Numeric(Equals), false),
        "NumericNotEquals" => (Numeric(Equals), true),
        "NumericLessThan" => (Numeric(LessThan), false),
        "NumericLessThanEquals" => (Numeric(LessThanEquals), false),
        "NumericGreaterThan" => (Numeric(GreaterThan), false),
        "NumericGreaterThanEquals" => (Numeric(GreaterThanEquals), false),
        "DateEquals" => (Date(Equals), false),
        "DateNotEquals" => (Date(Equals), true),
        "DateLessThan" => (Date(LessThan), false),
        "DateLessThanEquals" => (Date(LessThanEquals), false),
        "DateGreaterThan" => (Date(GreaterThan), false),
        "DateGreaterThanEquals" => (Date(GreaterThanEquals), false),
        "Bool" => (Bool, false),
        "IpAddress" => (IpAddress, false),
        "NotIpAddress" => (IpAddress, true),
        "ArnEquals" => (ArnEquals, false),
        "ArnNotEquals" => (ArnEquals, true),
        "ArnLike" => (ArnLike, false),
        "ArnNotLike" => (ArnLike, true),
        "BinaryEquals" => (BinaryEquals, false),
        "Null" => (Null, false),
        _ => return None,
    })
}

fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The conditions of a `Condition` block (all must hold).
pub fn parse_block(block: &Value) -> Result<Vec<Condition>, String> {
    let operators = block
        .as_object()
        .ok_or("Condition must be an object of condition operators")?;
    let mut conditions = Vec::new();
    for (operator, keys) in operators {
        let invalid_operator = || format!("Invalid Condition type : {operator}");
        let (set, name) = match operator.split_once(':') {
            Some(("ForAnyValue", name)) => (Set::ForAnyValue, name),
            Some(("ForAllValues", name)) => (Set::ForAllValues, name),
            Some(_) => return Err(invalid_operator()),
            None => (Set::Single, operator.as_str()),
        };
        let (name, if_exists) = match name.strip_suffix("IfExists") {
            Some(name) => (name, true),
            None => (name, false),
        };
        let (test, negated) = parse_test(name).ok_or_else(invalid_operator)?;
        if test == Test::Null && (if_exists || set != Set::Single) {
            return Err(invalid_operator());
        }
        let keys = keys.as_object().ok_or_else(invalid_operator)?;
        for (key, values) in keys {
            let key = normalize_key(key);
            if !known_key(&key) {
                return Err("Policy has an invalid condition key".into());
            }
            let values = match values {
                Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
                one => scalar(one).map(|v| vec![v]),
            }
            .filter(|values| !values.is_empty())
            .ok_or_else(|| format!("Invalid value for condition key {key}"))?;
            if let Some(bad) = values.iter().find(|v| !valid_value(test, v)) {
                return Err(format!("Invalid value {bad} for condition {operator}"));
            }
            conditions.push(Condition {
                test,
                negated,
                if_exists,
                set,
                key,
                values,
            });
        }
    }
    Ok(conditions)
}

/// Whether a policy value can ever be compared by `test` (refused when the policy is put).
fn valid_value(test: Test, value: &str) -> bool {
    match test {
        Test::Numeric(_) => value.parse::<f64>().is_ok(),
        Test::Date(_) => parse_date(value).is_some(),
        Test::Bool | Test::Null => {
            value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
        }
        Test::IpAddress => parse_cidr(value).is_some(),
        _ => true,
    }
}

/// A date as IAM accepts it: ISO 8601 (with or without a time) or seconds since the epoch.
fn parse_date(value: &str) -> Option<f64> {
    if let Ok(seconds) = value.parse::<f64>() {
        return Some(seconds);
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(time.timestamp_millis() as f64 / 1000.0);
    }
    let day = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp() as f64)
}

/// An address with its prefix length (`10.0.0.0/8`, `::1`, `127.0.0.1`).
fn parse_cidr(value: &str) -> Option<(IpAddr, u32)> {
    let (address, bits) = match value.split_once('/') {
        Some((address, bits)) => (address, Some(bits.parse::<u32>().ok()?)),
        None => (value, None),
    };
    let address: IpAddr = address.parse().ok()?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((address, bits))
}

fn in_cidr(address: &str, cidr: &str) -> bool {
    let (Ok(address), Some((network, bits))) = (address.parse::<IpAddr>(), parse_cidr(cidr)) else {
        return false;
    };
    let (address, network, width) = match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(a) as u128, u32::from(n) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let shift = width - bits;
    shift >= width || (address >> shift) == (network >> shift)
}

impl Condition {
    /// The condition key, lower case.
    pub fn key(&self) -> &str {
        &self.key
    }

    fn matches(&self, request: &str, policy: &str) -> bool {
        match self.test {
            Test::StringEquals | Test::ArnEquals | Test::BinaryEquals => request == policy,
            Test::StringEqualsIgnoreCase => request.to_lowercase() == policy.to_lowercase(),
            Test::StringLike | Test::ArnLike => glob::matches(policy, request, false),
            Test::Numeric(compare) => match (request.parse(), policy.parse()) {
                (Ok(r), Ok(p)) => compare.holds(r, p),
                _ => false,
            },
            Test::Date(compare) => match (parse_date(request), parse_date(policy)) {
                (Some(r), Some(p)) => compare.holds(r, p),
                _ => false,
            },
            Test::Bool => request.eq_ignore_ascii_case(policy),
            Test::IpAddress => in_cidr(request, policy),
            Test::Null => false,
        }
    }

    /// Whether this condition holds for the request (`variables`: fill in `${…}` in the
    /// policy's values first).
    pub fn holds(&self, request: &dyn RequestValues, variables: bool) -> bool {
        let values = request.values(&self.key).filter(|v| !v.is_empty());
        if self.test == Test::Null {
            let wants_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return values.is_none() == wants_absent;
        }
        let Some(values) = values else {
            return self.if_exists || self.negated || self.set == Set::ForAllValues;
        };
        let policy_values: Vec<Cow<str>> = match variables {
            true => (self.values.iter())
                .filter_map(|p| super::variables::substitute(p, request))
                .collect(),
            false => self
                .values
                .iter()
                .map(|p| Cow::Borrowed(p.as_str()))
                .collect(),
        };
        let passes = |value: &String| {
            let matched = policy_values.iter().any(|p| self.matches(value, p));
            matched != self.negated
        };
        match (self.set, self.negated) {
            (Set::ForAllValues, _) | (Set::Single, true) => values.iter().all(passes),
            (Set::ForAnyValue, _) | (Set::Single, false) => values.iter().any(passes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Values(HashMap<&'static str, Vec<&'static str>>);

    impl RequestValues for Values {
        fn values(&self, key: &str) -> Option<Vec<String>> {
            let values = self.0.get(key)?;
            Some(values.iter().map(|v| v.to_string()).collect())
        }
    }

    fn holds(block: &str, values: &[(&'static str, &[&'static str])]) -> bool {
        let block: Value = serde_json::from_str(block).unwrap();
        let request = Values(values.iter().map(|(k, v)| (*k, v.to_vec())).collect());
        parse_block(&block)
            .unwrap()
            .iter()
            .all(|c| c.holds(&request, true))
    }

    #[test]
    fn operators_evaluate_as_iam_does() {
        let ip = r#"{"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "127.0.0.1/32"]}}"#;
        assert!(holds(ip, &[("aws:sourceip", &["127.0.0.1"])]));
        assert!(!holds(ip, &[("aws:sourceip", &["192.168.1.1"])]));
        assert!(!holds(ip, &[]));
        let not_ip = r#"{"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}"#;
        assert!(holds(not_ip, &[("aws:sourceip", &["127.0.0.1"])]));
        assert!(holds(not_ip, &[]));
        let prefix = r#"{"StringLike": {"s3:prefix": ["home/*", ""]}}"#;
        assert!(holds(prefix, &[("s3:prefix", &["home/alice/"])]));
        assert!(!holds(prefix, &[("s3:prefix", &["etc/"])]));
        let if_exists = r#"{"StringEqualsIfExists": {"s3:x-amz-acl": "private"}}"#;
        assert!(holds(if_exists, &[]));
        assert!(!holds(if_exists, &[("s3:x-amz-acl", &["public-read"])]));
        let secure = r#"{"Bool": {"aws:SecureTransport": false}}"#;
        assert!(holds(secure, &[("aws:securetransport", &["false"])]));
        let null = r#"{"Null": {"s3:x-amz-server-side-encryption": "true"}}"#;
        assert!(holds(null, &[]));
        assert!(!holds(
            null,
            &[("s3:x-amz-server-side-encryption", &["AES256"])]
        ));
        let numeric = r#"{"NumericLessThanEquals": {"s3:max-keys": 10}}"#;
        assert!(holds(numeric, &[("s3:max-keys", &["10"])]));
        assert!(!holds(numeric, &[("s3:max-keys", &["11"])]));
        let date = r#"{"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}"#;
        assert!(holds(
            date,
            &[("aws:currenttime", &["2026-12-04T10:00:00Z"])]
        ));
        let all = r#"{"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["a", "b"]}}"#;
        assert!(holds(all, &[("s3:requestobjecttagkeys", &["a"])]));
        assert!(!holds(all, &[("s3:requestobjecttagkeys", &["a", "c"])]));
        let v6 = r#"{"IpAddress": {"aws:SourceIp": "::1"}}"#;
        assert!(holds(v6, &[("aws:sourceip", &["::1"])]));
    }

    #[test]
    fn malformed_blocks_are_refused() {
        for block in [
            r#"{"StringEqualz": {"s3:prefix": "a"}}"#,
            r#"{"StringEquals": {"s3:nonsense": "a"}}"#,
            r#"{"IpAddress": {"aws:SourceIp": "not-an-ip"}}"#,
            r#"{"NumericEquals": {"s3:max-keys": "ten"}}"#,
            r#"{"StringEquals": {"s3:prefix": []}}"#,
            r#"{"NullIfExists": {"s3:prefix": "true"}}"#,
            r#"[]"#,
        ] {
            let block: Value = serde_json::from_str(block).unwrap();
            assert!(parse_block(&block).is_err(), "{block}");
        }
    }
}
