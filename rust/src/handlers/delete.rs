//! DeleteObjects: up to 1000 keys in one request, each answered on its own.

use super::operations::BucketTarget;
use super::support::access::BucketGate;
use super::support::conditions::delete_condition;
use super::support::integrity::verify_small_body;
use super::support::policy_request::iam_action;
use super::Req;
use super::{xml_response, Context};
use crate::acl::Permission;
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use crate::storage::DeleteCondition;
use crate::xml::{parse_document, XmlWriter};
use http::Response;

const MAX_KEYS: usize = 1000;
/// 1000 keys of up to 1024 bytes, escaped, plus markup.
const MAX_BODY: usize = 8 * 1024 * 1024;

struct Requested {
    key: String,
    version_id: Option<String>,
    /// `ETag`, `LastModifiedTime` and `Size`: a conditional delete of this key.
    condition: S3Result<DeleteCondition>,
}

fn parse(body: &[u8]) -> S3Result<(bool, Vec<Requested>)> {
    let malformed = || S3Error::new(S3ErrorCode::MalformedXML);
    let root = parse_document(body).map_err(|_| malformed())?;
    if root.name != "Delete" {
        return Err(malformed());
    }
    let quiet = root
        .child_text("Quiet")
        .is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let mut objects = Vec::new();
    for object in root.children_named("Object") {
        objects.push(Requested {
            key: object.child_text("Key").ok_or_else(malformed)?.to_string(),
            version_id: object.child_text("VersionId").map(|v| v.trim().to_string()),
            condition: delete_condition(
                object.child_text("ETag"),
                object.child_text("LastModifiedTime"),
                object.child_text("Size"),
            ),
        });
    }
    if objects.is_empty() || objects.len() > MAX_KEYS {
        return Err(malformed());
    }
    Ok((quiet, objects))
}

pub async fn delete_objects(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &BucketTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let parts = req.parts;
    let body = &mut *req.body;
    ctx.require_bucket(bucket).await?;
    let document = body.read_small(MAX_BODY).await?;
    verify_small_body(parts, &document)?;
    let (quiet, objects) = parse(&document)?;
    let bypass_governance = super::object_lock::bypass_governance(parts);
    // Each key is authorized on its own: a bucket policy may allow or deny some of them.
    let gate = match ctx.config.auth.enabled {
        true => BucketGate::load(ctx, bucket).await?,
        false => None,
    };
    let allowed = |key: &str, version: Option<&str>| {
        let action = iam_action("DeleteObject", version.is_some());
        gate.as_ref()
            .is_none_or(|gate| gate.allows_key(ctx, parts, Permission::Write, action, key))
    };

    let mut w = XmlWriter::new();
    w.root("DeleteResult");
    for object in &objects {
        let result = match object.version_id.as_deref() {
            Some(v) if !crate::storage::versions::is_valid_id(v) => {
                Err(S3Error::invalid_argument("Invalid version id specified"))
            }
            _ if object.key.is_empty() || object.key.len() > 1024 => {
                Err(S3Error::new(S3ErrorCode::KeyTooLongError))
            }
            version if !allowed(&object.key, version) => {
                Err(S3Error::new(S3ErrorCode::AccessDenied))
            }
            version => match &object.condition {
                Err(e) => Err(e.clone()),
                Ok(condition) => {
                    let condition = DeleteCondition {
                        bypass_governance,
                        deleter: Some(ctx.requester.owner()),
                        ..condition.clone()
                    };
                    ctx.store
                        .delete_object(bucket, &object.key, version, &condition)
                        .await
                        .map_err(S3Error::from)
                }
            },
        };
        match result {
            Ok(_) if quiet => {}
            Ok(outcome) => {
                w.open("Deleted")
                    .element("Key", &object.key)
                    .optional("VersionId", object.version_id.as_deref());
                if outcome.delete_marker {
                    w.element("DeleteMarker", "true");
                    // A marker made now (no version asked for), or the marker removed.
                    w.optional("DeleteMarkerVersionId", outcome.version_id.as_deref());
                }
                w.close("Deleted");
            }
            Err(e) => {
                w.open("Error")
                    .element("Key", &object.key)
                    .optional("VersionId", object.version_id.as_deref())
                    .element("Code", e.code.as_str())
                    .element("Message", &e.message)
                    .close("Error");
            }
        }
    }
    w.close("DeleteResult");
    Ok(xml_response(w.finish()))
}
