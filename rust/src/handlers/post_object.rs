//! POST Object: browser form uploads (`multipart/form-data`) with a policy document, signed with
//! SigV4 or SigV2, `${filename}` keys, `success_action_status` and `success_action_redirect`.

use super::operations::BucketTarget;
use super::support::access::BucketGate;
use super::support::form::{self, FormReader};
use super::support::headers;
use super::support::headers::{STORED_HEADERS, USER_META_PREFIX};
use super::support::integrity::UploadIntegrity;
use super::support::policy_request::principal_of;
use super::support::upload::{check_storage_class, insert_etag, limit_size, validate_key};
use super::ForResource;
use super::Req;
use super::{empty_response, Context};
use crate::acl::{Acl, Requester};
use crate::auth::{sigv2, sigv4};
use crate::body::ResponseBody;
use crate::config::Credential;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::{ObjectMetadata, WriteCondition, STORAGE_CLASS_HEADER};
use crate::xml::XmlWriter;
use http::request::Parts;
use http::{HeaderValue, Response, StatusCode};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// More form fields than this is not a browser form.
const MAX_FIELDS: usize = 100;
/// All fields before the file together (each is also bounded by `form::MAX_FIELD`), so one
/// request holds at most this much of them in memory.
const MAX_FIELD_BYTES: usize = 128 * 1024;

/// Fields the policy need not mention.
fn exempt(field: &str) -> bool {
    matches!(
        field,
        "policy" | "x-amz-signature" | "signature" | "awsaccesskeyid" | "file"
    ) || field.starts_with("x-ignore-")
}

fn policy_denied(reason: impl std::fmt::Display) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        format!("Invalid according to Policy: {reason}"),
    )
}

#[derive(Debug, PartialEq)]
enum Condition {
    Eq(String, String),
    StartsWith(String, String),
    ContentLengthRange(u64, u64),
}

struct Policy {
    expiration: SystemTime,
    conditions: Vec<Condition>,
    /// Each condition as written, for error messages.
    sources: Vec<String>,
}

fn field_name(raw: &str) -> String {
    raw.trim_start_matches('$').to_ascii_lowercase()
}

fn parse_policy(encoded: &str) -> S3Result<Policy> {
    let invalid = |why: &str| {
        S3Error::with_message(
            S3ErrorCode::InvalidPolicyDocument,
            format!("Invalid Policy: {why}"),
        )
    };
    let bytes = crate::checksum::base64_decode(encoded)
        .ok_or_else(|| invalid("the policy is not base64"))?;
    let document: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| invalid("the policy is not JSON"))?;
    let expiration = document
        .get("expiration")
        .and_then(|e| e.as_str())
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .ok_or_else(|| invalid("Policy missing expiration or it is not an ISO 8601 date"))?;
    let mut conditions = Vec::new();
    let mut sources = Vec::new();
    for condition in document
        .get("conditions")
        .and_then(|c| c.as_array())
        .ok_or_else(|| invalid("Policy missing conditions"))?
    {
        sources.push(condition.to_string());
        match condition {
            serde_json::Value::Object(map) if map.len() == 1 => {
                let (name, value) = map
                    .iter()
                    .next()
                    .ok_or_else(|| invalid("empty condition"))?;
                let value = value
                    .as_str()
                    .ok_or_else(|| invalid("condition values must be strings"))?;
                conditions.push(Condition::Eq(field_name(name), value.to_string()));
            }
            serde_json::Value::Array(items) if items.len() == 3 => {
                let op = items[0].as_str().unwrap_or("").to_ascii_lowercase();
                if op == "content-length-range" {
                    let (min, max) = (items[1].as_u64(), items[2].as_u64());
                    let (Some(min), Some(max)) = (min, max) else {
                        return Err(invalid("content-length-range needs two numbers"));
                    };
                    conditions.push(Condition::ContentLengthRange(min, max));
                    continue;
                }
                let (Some(name), Some(value)) = (items[1].as_str(), items[2].as_str()) else {
                    return Err(invalid("conditions need a $field and a string"));
                };
                match op.as_str() {
                    "eq" => conditions.push(Condition::Eq(field_name(name), value.to_string())),
                    "starts-with" => {
                        conditions.push(Condition::StartsWith(field_name(name), value.to_string()))
                    }
                    other => return Err(invalid(&format!("unknown condition '{other}'"))),
                }
            }
            _ => {
                return Err(invalid(
                    "a condition is neither an object nor a three-element array",
                ))
            }
        }
    }
    Ok(Policy {
        expiration: expiration.into(),
        conditions,
        sources,
    })
}

impl Policy {
    /// Checks the form fields (the file's length is checked as it streams).
    fn check_fields(
        &self,
        fields: &BTreeMap<String, String>,
        bucket: &str,
        now: SystemTime,
    ) -> S3Result<Option<(u64, u64)>> {
        if now > self.expiration {
            return Err(policy_denied("Policy expired."));
        }
        let value = |name: &str| -> String {
            if name == "bucket" {
                bucket.to_string()
            } else {
                fields.get(name).cloned().unwrap_or_default()
            }
        };
        let mut length_range = None;
        for (condition, source) in self.conditions.iter().zip(&self.sources) {
            let holds = match condition {
                Condition::Eq(name, expected) => value(name) == *expected,
                // Content-Type may list several types; each must start with the prefix.
                Condition::StartsWith(name, prefix) if name == "content-type" => value(name)
                    .split(',')
                    .all(|t| t.trim().starts_with(prefix.as_str())),
                Condition::StartsWith(name, prefix) => value(name).starts_with(prefix.as_str()),
                Condition::ContentLengthRange(min, max) => {
                    length_range = Some((*min, *max));
                    true
                }
            };
            if !holds {
                return Err(policy_denied(format!("Policy Condition failed: {source}")));
            }
        }
        let covered = |field: &str| {
            self.conditions.iter().any(|c| match c {
                Condition::Eq(n, _) | Condition::StartsWith(n, _) => n == field,
                Condition::ContentLengthRange(..) => false,
            })
        };
        if let Some(extra) = fields.keys().find(|f| !exempt(f) && !covered(f)) {
            return Err(policy_denied(format!("Extra input fields: {extra}")));
        }
        Ok(length_range)
    }
}

/// With auth on: the user whose valid SigV4 or SigV2 signature the policy carries, or `None` for
/// an unsigned form (allowed only into a bucket that lets everyone write).
fn verify_signature<'c>(
    ctx: &Context<'c>,
    fields: &BTreeMap<String, String>,
    policy: &str,
) -> S3Result<Option<&'c Credential>> {
    let credential_of = |key: &str| {
        ctx.config
            .auth
            .credentials
            .iter()
            .find(|c| c.access_key_id == key)
            .ok_or_else(|| {
                S3Error::new(S3ErrorCode::InvalidAccessKeyId).detail("AWSAccessKeyId", key)
            })
    };
    if let Some(signature) = fields.get("x-amz-signature") {
        if fields.get("x-amz-algorithm").map(String::as_str) != Some(sigv4::ALGORITHM) {
            return Err(S3Error::invalid_argument(
                "POST requires x-amz-algorithm AWS4-HMAC-SHA256",
            )
            .detail("ArgumentName", "x-amz-algorithm"));
        }
        let credential = fields
            .get("x-amz-credential")
            .and_then(|c| sigv4::Credential::parse(c))
            .ok_or_else(|| {
                S3Error::invalid_argument("POST requires a valid x-amz-credential")
                    .detail("ArgumentName", "x-amz-credential")
            })?;
        let user = credential_of(&credential.access_key_id)?;
        let key = sigv4::signing_key(
            &user.secret_access_key,
            &credential.date,
            &credential.region,
            &credential.service,
        );
        if !sigv4::signature_matches(&key, policy.as_bytes(), signature) {
            return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
                .detail("AWSAccessKeyId", credential.access_key_id));
        }
        return Ok(Some(user));
    }
    if let (Some(access_key), Some(signature)) =
        (fields.get("awsaccesskeyid"), fields.get("signature"))
    {
        let user = credential_of(access_key)?;
        if !sigv2::signature_matches(&user.secret_access_key, policy, signature) {
            return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
                .detail("AWSAccessKeyId", access_key.as_str()));
        }
        return Ok(Some(user));
    }
    // A policy is only worth its signature: one without is a malformed form, not anonymous.
    if !policy.is_empty() {
        let missing = if fields.contains_key("x-amz-credential") {
            "X-Amz-Signature"
        } else if fields.contains_key("awsaccesskeyid") {
            "Signature"
        } else {
            "AWSAccessKeyId"
        };
        return Err(S3Error::invalid_argument(format!(
            "Bucket POST must contain a field named '{missing}'.  If it is specified, please check the order of the fields."
        ))
        .detail("ArgumentName", missing)
        .detail("ArgumentValue", ""));
    }
    Ok(None)
}

/// A form as read up to its file part: the fields (lower-case names) and the object key.
struct Form<S> {
    fields: BTreeMap<String, String>,
    key: String,
    /// Positioned at the file part's data.
    reader: FormReader<S>,
}

/// The request body a form is read from.
trait FormInput: futures_util::Stream<Item = S3Result<bytes::Bytes>> + Unpin + Send {}
impl<S: futures_util::Stream<Item = S3Result<bytes::Bytes>> + Unpin + Send> FormInput for S {}

/// Who uploads, and what the policy allows: the new object's ACL and its size range.
struct Grant {
    acl: Acl,
    min_size: u64,
    max_size: u64,
}

pub async fn post_object(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let parts = req.parts;
    let boundary = headers::get(parts, "content-type")
        .and_then(form::boundary)
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::PreconditionFailed,
                "Bucket POST must be of the enclosure-type multipart/form-data",
            )
            .detail(
                "Condition",
                "Bucket POST must be of the enclosure-type multipart/form-data",
            )
        })?;
    ctx.require_bucket(bucket).await?;
    let form = read_form(FormReader::new(req.body.stream(), &boundary)).await?;
    let grant = authorize(ctx, parts, bucket, &form.key, &form.fields).await?;
    let etag = store(
        ctx,
        bucket,
        form.key.clone(),
        &form.fields,
        form.reader,
        grant,
    )
    .await?;
    Ok(respond(parts, bucket, &form.key, &form.fields, &etag))
}

/// Reads the fields before the file part and works out the key (`${filename}` filled in).
async fn read_form<S: FormInput>(mut reader: FormReader<S>) -> S3Result<Form<S>> {
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    let mut field_bytes = 0usize;
    let file = loop {
        let Some(part) = reader.next_part().await? else {
            return Err(S3Error::invalid_argument(
                "POST requires exactly one file upload per request.",
            )
            .detail("ArgumentName", "file"));
        };
        if part.name.eq_ignore_ascii_case("file") {
            break part;
        }
        if fields.len() >= MAX_FIELDS {
            return Err(S3Error::with_message(
                S3ErrorCode::MaxPostPreDataLengthExceeded,
                "Your POST request has too many fields.",
            ));
        }
        let value = reader.read_value().await?;
        field_bytes += part.name.len() + value.len();
        if field_bytes > MAX_FIELD_BYTES {
            return Err(S3Error::with_message(
                S3ErrorCode::MaxPostPreDataLengthExceeded,
                "Your POST request fields preceding the upload file were too large.",
            ));
        }
        fields.insert(
            part.name.to_ascii_lowercase(),
            String::from_utf8_lossy(&value).into_owned(),
        );
    };
    let key_template = fields
        .get("key")
        .ok_or_else(|| S3Error::invalid_argument("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.").detail("ArgumentName", "key"))?;
    let key = key_template.replace("${filename}", file.filename.as_deref().unwrap_or(""));
    validate_key(&key)?;
    if key.is_empty() {
        return Err(
            S3Error::invalid_argument("User key must have a length greater than 0.")
                .detail("ArgumentName", "key"),
        );
    }
    Ok(Form {
        fields,
        key,
        reader,
    })
}

/// Checks the policy's signature (with auth on) and conditions and the uploader's WRITE on the
/// bucket; returns the object's ACL and the allowed size range.
async fn authorize(
    ctx: &Context<'_>,
    parts: &Parts,
    bucket: &str,
    key: &str,
    fields: &BTreeMap<String, String>,
) -> S3Result<Grant> {
    let policy = fields.get("policy");
    let bucket_owner = ctx.bucket_owner(bucket).await?;
    let uploader = if ctx.config.auth.enabled {
        let signer = verify_signature(ctx, fields, policy.map_or("", String::as_str))?;
        let requester = signer.map_or(Requester::Anonymous, |c| Requester::User(c.owner()));
        let gate = BucketGate::load(ctx, bucket)
            .await?
            .ok_or_else(|| S3Error::no_such_bucket(bucket))?;
        let principal = signer.map(principal_of);
        let sets_acl = fields.contains_key("acl");
        gate.check_upload(parts, principal.as_ref(), &requester, key, sets_acl)?;
        requester.owner()
    } else {
        ctx.acting_owner()
    };
    let canned = fields.get("acl").map(|name| name.trim());
    let requested = match canned {
        Some(name) => Some(
            Acl::canned(name, uploader.clone(), Some(&bucket_owner)).ok_or_else(|| {
                S3Error::invalid_argument(format!("Invalid canned ACL: {name}"))
                    .detail("ArgumentName", "acl")
            })?,
        ),
        None => None,
    };
    let acl = super::support::acl_wire::new_object_acl(
        ctx,
        bucket,
        uploader,
        canned,
        requested,
        Some(bucket_owner),
    )
    .await?;
    let length_range = match policy {
        Some(encoded) => parse_policy(encoded)?.check_fields(fields, bucket, SystemTime::now())?,
        None => None,
    };
    let (min_size, max_size) = length_range.unwrap_or((0, u64::MAX));
    Ok(Grant {
        acl,
        min_size,
        max_size: max_size.min(ctx.config.limits.max_object_size),
    })
}

/// Streams the file part into the object; returns its ETag.
async fn store<S: FormInput>(
    ctx: &Context<'_>,
    bucket: &str,
    key: String,
    fields: &BTreeMap<String, String>,
    mut reader: FormReader<S>,
    grant: Grant,
) -> S3Result<String> {
    let mut stored: BTreeMap<String, String> = fields
        .iter()
        .filter(|(name, _)| {
            STORED_HEADERS.contains(&name.as_str()) || name.starts_with(USER_META_PREFIX)
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let storage_class = fields.get(STORAGE_CLASS_HEADER).map(String::as_str);
    check_storage_class(storage_class)?;
    headers::set_storage_class(&mut stored, storage_class);
    stored
        .entry("content-type".to_string())
        .or_insert_with(|| "binary/octet-stream".to_string());
    let tags = match fields.get("tagging") {
        Some(document) => super::tagging::from_form_field(document)?,
        None => Vec::new(),
    };
    let mut metadata = ObjectMetadata {
        headers: stored,
        acl: Some(grant.acl),
        tags,
        ..Default::default()
    };
    super::object_lock::from_form_fields(fields, &mut metadata)?;
    let min = grant.min_size;
    let integrity = UploadIntegrity::from_form_fields(fields)?;
    let outcome = ctx
        .store
        .put_object(
            bucket,
            &key,
            metadata,
            integrity.digests(integrity.algorithm()),
            &WriteCondition::Always,
            limit_size(reader.file_stream(), grant.max_size),
            |digests| {
                if digests.len < min {
                    return Err(S3Error::with_message(
                        S3ErrorCode::EntityTooSmall,
                        "Your proposed upload is smaller than the minimum allowed size",
                    )
                    .detail("MinSizeAllowed", min.to_string()));
                }
                integrity.verify(digests, &[])
            },
        )
        .await
        .for_key(bucket, &key)?;
    Ok(outcome.etag)
}

/// The answer the form asked for: a redirect, 200, 201 with a document, or 204.
fn respond(
    parts: &http::request::Parts,
    bucket: &str,
    key: &str,
    fields: &BTreeMap<String, String>,
    etag: &str,
) -> Response<ResponseBody> {
    let encode =
        |v: &str| percent_encoding::utf8_percent_encode(v, super::list::URL_ENCODE_SET).to_string();
    let location = format!(
        "http://{}/{bucket}/{}",
        headers::get(parts, "host").unwrap_or("localhost"),
        encode(key)
    );
    let redirect = fields
        .get("success_action_redirect")
        .or_else(|| fields.get("redirect"));
    if let Some(target) = redirect.filter(|r| r.starts_with("http://") || r.starts_with("https://"))
    {
        let separator = if target.contains('?') { '&' } else { '?' };
        let url = format!(
            "{target}{separator}bucket={}&key={}&etag={}",
            encode(bucket),
            encode(key),
            encode(&format!("\"{etag}\""))
        );
        let mut response = empty_response(StatusCode::SEE_OTHER);
        if let Ok(value) = HeaderValue::from_str(&url) {
            response.headers_mut().insert(http::header::LOCATION, value);
        }
        insert_etag(response.headers_mut(), etag);
        return response;
    }
    let mut response = match fields.get("success_action_status").map(String::as_str) {
        Some("200") => empty_response(StatusCode::OK),
        Some("201") => {
            let mut w = XmlWriter::new();
            w.open("PostResponse")
                .element("Location", &location)
                .element("Bucket", bucket)
                .element("Key", key)
                .element("ETag", &format!("\"{etag}\""))
                .close("PostResponse");
            let mut r = super::xml_response(w.finish());
            *r.status_mut() = StatusCode::CREATED;
            r
        }
        _ => empty_response(StatusCode::NO_CONTENT),
    };
    insert_etag(response.headers_mut(), etag);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn encode(json: &str) -> String {
        crate::checksum::base64_encode(json.as_bytes())
    }

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn policy_conditions() {
        let policy = parse_policy(&encode(
            r#"{"expiration":"2030-01-01T00:00:00.000Z","conditions":[{"bucket":"b"},["starts-with","$key","uploads/"],{"acl":"public-read"},["content-length-range",1,1024],["starts-with","$Content-Type","image/"]]}"#,
        ))
        .unwrap();
        let now = SystemTime::now();
        let ok = fields(&[
            ("key", "uploads/a.png"),
            ("acl", "public-read"),
            ("content-type", "image/png"),
            ("policy", "x"),
        ]);
        assert_eq!(policy.check_fields(&ok, "b", now).unwrap(), Some((1, 1024)));
        let wrong_prefix = fields(&[
            ("key", "other/a.png"),
            ("acl", "public-read"),
            ("content-type", "image/png"),
        ]);
        assert!(policy
            .check_fields(&wrong_prefix, "b", now)
            .unwrap_err()
            .message
            .contains("starts-with"));
        assert!(policy.check_fields(&ok, "other-bucket", now).is_err());
        let extra = fields(&[
            ("key", "uploads/a"),
            ("acl", "public-read"),
            ("content-type", "image/png"),
            ("x-amz-meta-foo", "1"),
        ]);
        assert!(policy
            .check_fields(&extra, "b", now)
            .unwrap_err()
            .message
            .contains("Extra input fields: x-amz-meta-foo"));
        let ignored = fields(&[
            ("key", "uploads/a"),
            ("acl", "public-read"),
            ("content-type", "image/png"),
            ("x-ignore-me", "1"),
        ]);
        assert!(policy.check_fields(&ignored, "b", now).is_ok());
        let later = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        assert!(policy
            .check_fields(&ok, "b", later)
            .unwrap_err()
            .message
            .contains("Policy expired"));
    }

    #[test]
    fn invalid_policies() {
        assert!(parse_policy("not base64!").is_err());
        assert!(parse_policy(&encode("{}")).is_err());
        assert!(parse_policy(&encode(
            r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["frob","$key","x"]]}"#
        ))
        .is_err());
    }
}
