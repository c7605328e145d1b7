//! Bucket policies: the JSON document S3 accepts in PutBucketPolicy, checked as S3 checks it
//! (MalformedPolicy names what is wrong), and evaluated for a request: an explicit Deny wins,
//! then an Allow; no statement that applies leaves the decision to the ACLs.

pub mod actions;
pub mod condition;
pub mod glob;
mod variables;

use actions::Kind;
use condition::Condition;
pub use condition::RequestValues;
use serde_json::Value;

/// S3 refuses bucket policies larger than this.
pub const MAX_SIZE: usize = 20 * 1024;

/// Who signed a request, as policies name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub canonical_id: String,
    /// The 12-digit account the user belongs to.
    pub account_id: String,
    pub user_name: String,
}

/// What a policy decides for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// An explicit Deny applies.
    Deny,
    /// An Allow applies and no Deny does.
    Allow,
    /// No statement applies.
    NotApplicable,
}

/// A request as a policy sees it.
pub struct Request<'a> {
    /// `s3:GetObject`
    pub action: &'a str,
    /// `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`
    pub resource: &'a str,
    /// `None`: an anonymous request.
    pub principal: Option<&'a Principal>,
    pub values: &'a dyn RequestValues,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PrincipalId {
    Everyone,
    Account(String),
    User {
        account: String,
        name: String,
    },
    Canonical(String),
    /// A role, service or federated user: valid in a policy, never a requester here.
    Other,
}

impl PrincipalId {
    fn names(&self, principal: Option<&Principal>) -> bool {
        match (self, principal) {
            (Self::Everyone, _) => true,
            (_, None) => false,
            (Self::Account(account), Some(p)) => *account == p.account_id,
            (Self::User { account, name }, Some(p)) => {
                *account == p.account_id && *name == p.user_name
            }
            (Self::Canonical(id), Some(p)) => *id == p.canonical_id,
            (Self::Other, _) => false,
        }
    }
}

/// A list that a statement either names (`Action`) or excludes (`NotAction`).
#[derive(Debug, Clone)]
struct Listed<T> {
    items: Vec<T>,
    negated: bool,
}

#[derive(Debug, Clone)]
struct Statement {
    deny: bool,
    principals: Listed<PrincipalId>,
    actions: Listed<String>,
    resources: Listed<String>,
    conditions: Vec<Condition>,
}

/// A parsed, checked bucket policy.
#[derive(Debug, Clone)]
pub struct Policy {
    statements: Vec<Statement>,
    /// Version 2012-10-17: `${…}` in resources and condition values are policy variables.
    variables: bool,
}

fn malformed(message: &str) -> String {
    message.to_string()
}

/// A string or a list of strings (an empty list is refused like a missing field).
fn strings(value: &Value, field: &str) -> Result<Vec<String>, String> {
    let items = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{field} must be a string or a list of strings"))?,
        _ => return Err(format!("{field} must be a string or a list of strings")),
    };
    if items.is_empty() {
        return Err(format!("Missing required field {field}"));
    }
    Ok(items)
}

/// `Action` / `NotAction` (and the like): exactly one of the two.
fn either<'v>(
    statement: &'v serde_json::Map<String, Value>,
    field: &str,
) -> Result<(&'v Value, bool), String> {
    let not = format!("Not{field}");
    match (statement.get(field), statement.get(&not)) {
        (Some(value), None) => Ok((value, false)),
        (None, Some(value)) => Ok((value, true)),
        (None, None) => Err(format!("Missing required field {field}")),
        (Some(_), Some(_)) => Err(format!("A statement cannot have both {field} and {not}")),
    }
}

fn aws_principal(value: &str) -> Option<PrincipalId> {
    let is_account = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit());
    if value == "*" {
        return Some(PrincipalId::Everyone);
    }
    if is_account(value) {
        return Some(PrincipalId::Account(value.to_string()));
    }
    let rest = value.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    if !is_account(account) {
        return None;
    }
    let account = account.to_string();
    match resource.split_once('/') {
        None if resource == "root" => Some(PrincipalId::Account(account)),
        Some(("user", path)) if !path.is_empty() => Some(PrincipalId::User {
            account,
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
        }),
        Some(("role" | "assumed-role" | "federated-user", path)) if !path.is_empty() => {
            Some(PrincipalId::Other)
        }
        _ => None,
    }
}

fn parse_principals(value: &Value) -> Result<Vec<PrincipalId>, String> {
    let invalid = || malformed("Invalid principal in policy");
    if value.as_str() == Some("*") {
        return Ok(vec![PrincipalId::Everyone]);
    }
    let map = value.as_object().ok_or_else(invalid)?;
    let mut principals = Vec::new();
    for (kind, ids) in map {
        for id in strings(ids, "Principal").map_err(|_| invalid())? {
            principals.push(match kind.as_str() {
                "AWS" => aws_principal(&id).ok_or_else(invalid)?,
                "CanonicalUser" if !id.is_empty() && id != "*" => PrincipalId::Canonical(id),
                "Service" | "Federated" if !id.is_empty() => PrincipalId::Other,
                _ => return Err(invalid()),
            });
        }
    }
    if principals.is_empty() {
        return Err(invalid());
    }
    Ok(principals)
}

/// The resource kinds a `Resource` pattern can name, after checking it is in `bucket`.
fn resource_kinds(pattern: &str, bucket: &str) -> Result<Vec<Kind>, String> {
    if pattern == "*" {
        return Ok(vec![Kind::Bucket, Kind::Object]);
    }
    let invalid = || malformed("Policy has invalid resource");
    let path = pattern.strip_prefix("arn:aws:s3:::").ok_or_else(invalid)?;
    let (bucket_part, key_part) = match path.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (path, None),
    };
    if !glob::matches(bucket_part, bucket, false) {
        return Err(invalid());
    }
    let mut kinds = Vec::new();
    if key_part.is_none() {
        kinds.push(Kind::Bucket);
    }
    // `arn:aws:s3:::bucket*` reaches the bucket's objects too.
    if key_part.is_some() || bucket_part.ends_with('*') {
        kinds.push(Kind::Object);
    }
    Ok(kinds)
}

fn parse_statement(value: &Value, bucket: &str) -> Result<(Option<String>, Statement), String> {
    let statement = value
        .as_object()
        .ok_or_else(|| malformed("Statement must be an object or a list of objects"))?;
    let sid = match statement.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(_) => return Err(malformed("Sid must be a string")),
    };
    let deny = match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow") => false,
        Some("Deny") => true,
        Some(other) => return Err(format!("Invalid effect: {other}")),
        None => return Err(malformed("Missing required field Effect")),
    };
    let (value, negated) = either(statement, "Principal")?;
    let principals = Listed {
        items: parse_principals(value)?,
        negated,
    };
    let (value, negated) = either(statement, "Action")?;
    let actions = Listed {
        items: strings(value, "Action")?,
        negated,
    };
    let (value, negated) = either(statement, "Resource")?;
    let resources = Listed {
        items: strings(value, "Resource")?,
        negated,
    };
    let mut resource_kinds_named = Vec::new();
    for pattern in &resources.items {
        resource_kinds_named.extend(resource_kinds(pattern, bucket)?);
    }
    for pattern in &actions.items {
        let kinds = actions::kinds_named(pattern);
        if kinds.is_empty() {
            return Err(malformed("Policy has invalid action"));
        }
        let applies = kinds.iter().any(|k| resource_kinds_named.contains(k));
        if !actions.negated && !resources.negated && !applies {
            return Err(malformed(
                "Action does not apply to any resource(s) in statement",
            ));
        }
    }
    let conditions = match statement.get("Condition") {
        Some(block) => condition::parse_block(block)?,
        None => Vec::new(),
    };
    for field in statement.keys() {
        let known = [
            "Sid",
            "Effect",
            "Principal",
            "NotPrincipal",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
        ];
        if !known.contains(&field.as_str()) {
            return Err(format!("Unknown field {field}"));
        }
    }
    Ok((
        sid,
        Statement {
            deny,
            principals,
            actions,
            resources,
            conditions,
        },
    ))
}

impl Policy {
    /// Parses and checks a policy for `bucket`; the error is MalformedPolicy's message.
    pub fn parse(document: &[u8], bucket: &str) -> Result<Self, String> {
        if document.len() > MAX_SIZE {
            return Err(malformed(
                "Policy exceeds the maximum allowed document size.",
            ));
        }
        let value: Value = serde_json::from_slice(document)
            .map_err(|_| malformed("This policy contains invalid Json"))?;
        let root = value
            .as_object()
            .ok_or_else(|| malformed("This policy contains invalid Json"))?;
        let variables = match root.get("Version") {
            None => false,
            Some(Value::String(v)) if v == "2012-10-17" => true,
            Some(Value::String(v)) if v == "2008-10-17" => false,
            Some(_) => return Err(malformed("The policy must contain a valid version string")),
        };
        if let Some(field) = root
            .keys()
            .find(|k| !["Version", "Id", "Statement"].contains(&k.as_str()))
        {
            return Err(format!("Unknown field {field}"));
        }
        let list = match root.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items.clone(),
            Some(one @ Value::Object(_)) => vec![one.clone()],
            _ => return Err(malformed("Missing required field Statement")),
        };
        let mut sids = Vec::new();
        let mut statements = Vec::new();
        for item in &list {
            let (sid, statement) = parse_statement(item, bucket)?;
            if let Some(sid) = sid.filter(|s| !s.is_empty()) {
                if sids.contains(&sid) {
                    return Err(malformed(
                        "Statement IDs (SID) in a single policy must be unique.",
                    ));
                }
                sids.push(sid);
            }
            statements.push(statement);
        }
        Ok(Self {
            statements,
            variables,
        })
    }

    /// What the policy decides for `request`.
    pub fn evaluate(&self, request: &Request<'_>) -> Decision {
        let mut decision = Decision::NotApplicable;
        for statement in &self.statements {
            if !statement.applies(request, self.variables) {
                continue;
            }
            if statement.deny {
                return Decision::Deny;
            }
            decision = Decision::Allow;
        }
        decision
    }

    /// Whether the policy grants anything to everyone without a condition that pins the
    /// requester down (what GetBucketPolicyStatus calls public).
    pub fn is_public(&self) -> bool {
        const PINNING: &[&str] = &[
            "aws:sourceip",
            "aws:sourcearn",
            "aws:sourcevpc",
            "aws:sourcevpce",
            "aws:sourceaccount",
            "aws:sourceowner",
            "aws:principalorgid",
            "aws:principalaccount",
            "aws:principalarn",
            "aws:userid",
            "s3:dataaccesspointarn",
            "s3:dataaccesspointaccount",
        ];
        self.statements.iter().any(|s| {
            let everyone =
                s.principals.negated || s.principals.items.contains(&PrincipalId::Everyone);
            !s.deny && everyone && !s.conditions.iter().any(|c| PINNING.contains(&c.key()))
        })
    }
}

impl Statement {
    fn applies(&self, request: &Request<'_>, variables: bool) -> bool {
        let principal = self
            .principals
            .items
            .iter()
            .any(|p| p.names(request.principal));
        let action = self
            .actions
            .items
            .iter()
            .any(|a| glob::matches(a, request.action, true));
        let resource = self.resources.items.iter().any(|r| {
            let pattern = match variables {
                true => variables::substitute(r, request.values),
                false => Some(r.into()),
            };
            pattern.is_some_and(|p| p == "*" || glob::matches(&p, request.resource, false))
        });
        principal != self.principals.negated
            && action != self.actions.negated
            && resource != self.resources.negated
            && self
                .conditions
                .iter()
                .all(|c| c.holds(request.values, variables))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoValues;

    impl RequestValues for NoValues {
        fn values(&self, _key: &str) -> Option<Vec<String>> {
            None
        }
    }

    fn alice() -> Principal {
        Principal {
            canonical_id: "c0ffee".into(),
            account_id: "111122223333".into(),
            user_name: "alice".into(),
        }
    }

    fn decide(policy: &Policy, action: &str, resource: &str, who: Option<&Principal>) -> Decision {
        policy.evaluate(&Request {
            action,
            resource,
            principal: who,
            values: &NoValues,
        })
    }

    const PUBLIC_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"}]}"#;

    #[test]
    fn allow_and_deny() {
        let policy = Policy::parse(PUBLIC_READ.as_bytes(), "site").unwrap();
        assert!(policy.is_public());
        let object = "arn:aws:s3:::site/index.html";
        assert_eq!(
            decide(&policy, "s3:GetObject", object, None),
            Decision::Allow
        );
        assert_eq!(
            decide(&policy, "s3:PutObject", object, None),
            Decision::NotApplicable
        );
        let deny = r#"{"Statement":[
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},
            {"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/keep/*"}]}"#;
        let policy = Policy::parse(deny.as_bytes(), "b").unwrap();
        assert!(!policy.is_public());
        let who = alice();
        assert_eq!(
            decide(
                &policy,
                "s3:DeleteObject",
                "arn:aws:s3:::b/tmp/x",
                Some(&who)
            ),
            Decision::Allow
        );
        assert_eq!(
            decide(
                &policy,
                "s3:DeleteObject",
                "arn:aws:s3:::b/keep/x",
                Some(&who)
            ),
            Decision::Deny
        );
        assert_eq!(
            decide(&policy, "s3:ListBucket", "arn:aws:s3:::b", None),
            Decision::NotApplicable
        );
    }

    #[test]
    fn principals_by_account_canonical_id_and_not_principal() {
        let policy = Policy::parse(
            br#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333"],"CanonicalUser":"beef"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}"#,
            "b",
        )
        .unwrap();
        let mut who = alice();
        assert_eq!(
            decide(&policy, "s3:ListBucket", "arn:aws:s3:::b", Some(&who)),
            Decision::Allow
        );
        who.account_id = "999999999999".into();
        assert_eq!(
            decide(&policy, "s3:ListBucket", "arn:aws:s3:::b", Some(&who)),
            Decision::NotApplicable
        );
        who.canonical_id = "beef".into();
        assert_eq!(
            decide(&policy, "s3:ListBucket", "arn:aws:s3:::b", Some(&who)),
            Decision::Allow
        );
        let not = Policy::parse(
            br#"{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}}"#,
            "b",
        )
        .unwrap();
        assert_eq!(
            decide(&not, "s3:GetObject", "arn:aws:s3:::b/k", None),
            Decision::Deny
        );
        assert_eq!(
            decide(&not, "s3:GetObject", "arn:aws:s3:::b/k", Some(&alice())),
            Decision::NotApplicable
        );
    }

    struct Named(&'static str);

    impl RequestValues for Named {
        fn values(&self, key: &str) -> Option<Vec<String>> {
            (key == "aws:username").then(|| vec![self.0.to_string()])
        }
    }

    #[test]
    fn policy_variables_in_version_2012_10_17() {
        let home = |version: &str| {
            let document = format!(
                r#"{{"Version":"{version}","Statement":{{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/home/${{aws:username}}/*"}}}}"#
            );
            Policy::parse(document.as_bytes(), "b").unwrap()
        };
        let put = |policy: &Policy, name, key: &str| {
            policy.evaluate(&Request {
                action: "s3:PutObject",
                resource: &format!("arn:aws:s3:::b/{key}"),
                principal: None,
                values: &Named(name),
            })
        };
        let policy = home("2012-10-17");
        assert_eq!(put(&policy, "alice", "home/alice/a"), Decision::Allow);
        assert_eq!(put(&policy, "bob", "home/alice/a"), Decision::NotApplicable);
        // Before 2012-10-17 the text is taken as it is.
        let old = home("2008-10-17");
        assert_eq!(put(&old, "alice", "home/alice/a"), Decision::NotApplicable);
        assert_eq!(
            put(&old, "alice", "home/${aws:username}/a"),
            Decision::Allow
        );
    }

    #[test]
    fn malformed_policies_say_why() {
        let cases: &[(&str, &str)] = &[
            ("not json", "This policy contains invalid Json"),
            (
                r#"{"Version":"2012-10-17"}"#,
                "Missing required field Statement",
            ),
            (
                r#"{"Version":"2020-01-01","Statement":[]}"#,
                "The policy must contain a valid version string",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
                "Missing required field Principal",
            ),
            (
                r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
                "Invalid effect: Maybe",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
                "Invalid principal in policy",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::b/*"}]}"#,
                "Policy has invalid action",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}"#,
                "Policy has invalid resource",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b/*"}]}"#,
                "Action does not apply to any resource(s) in statement",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}"#,
                "Missing required field Resource",
            ),
            (
                r#"{"Statement":[{"Sid":"a","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Sid":"a","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
                "Statement IDs (SID) in a single policy must be unique.",
            ),
        ];
        for (document, message) in cases {
            assert_eq!(
                Policy::parse(document.as_bytes(), "b").unwrap_err(),
                *message,
                "{document}"
            );
        }
        assert!(Policy::parse(&vec![b' '; MAX_SIZE + 1], "b").is_err());
    }
}
