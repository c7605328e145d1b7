//! ListObjects (v1), ListObjectsV2 and ListObjectVersions.

use super::operations::BucketTarget;
use super::params::ListParams;
use super::ForResource;
use super::Req;
use super::{xml_response, Context};
use crate::acl::Owner;
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3Result};
use crate::storage::{ListEntry, ListPage, ListQuery, VersionEntry};
use crate::xml::{iso8601, XmlWriter};
use base64::Engine;
use http::Response;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What `encoding-type=url` leaves unencoded: RFC 3986 unreserved characters and `/`.
pub(super) const URL_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// A key or prefix as it goes into listing XML: URL-encoded when the client asked for it.
pub(super) fn encode_if(url_encoding: bool, value: &str) -> String {
    if url_encoding {
        utf8_percent_encode(value, URL_ENCODE_SET).to_string()
    } else {
        value.to_string()
    }
}

/// What every listing version does with its (already validated) parameters.
impl ListParams {
    /// A key or prefix as it goes into the XML: URL-encoded when the client asked for it.
    fn text(&self, value: &str) -> String {
        encode_if(self.url_encoding, value)
    }

    async fn page(
        &self,
        ctx: &Context<'_>,
        bucket: &str,
        marker: Option<String>,
        with_owner: bool,
    ) -> S3Result<ListPage> {
        let query = ListQuery {
            prefix: self.prefix.clone(),
            delimiter: self.delimiter.clone(),
            marker: marker.filter(|m| !m.is_empty()),
            max_keys: self.max_keys,
            with_owner,
        };
        ctx.store
            .list_objects(bucket, query)
            .await
            .for_bucket(bucket)
    }

    /// MaxKeys, Delimiter, EncodingType and IsTruncated, as every listing answers them.
    fn write_page_facts(&self, w: &mut XmlWriter, is_truncated: bool) {
        w.element("MaxKeys", &self.max_keys.to_string())
            .optional(
                "Delimiter",
                self.delimiter.as_deref().map(|d| self.text(d)).as_deref(),
            )
            .optional("EncodingType", self.url_encoding.then_some("url"))
            .element("IsTruncated", &is_truncated.to_string());
    }

    /// `fallback_owner`: `Some` to write Owner elements, the owner of objects that recorded none.
    fn write_entries(&self, w: &mut XmlWriter, page: &ListPage, fallback_owner: Option<&Owner>) {
        for entry in &page.entries {
            if let ListEntry::Object {
                key,
                size,
                last_modified,
                etag,
                owner,
                storage_class,
            } = entry
            {
                w.open("Contents").element("Key", &self.text(key));
                write_object_facts(w, *last_modified, etag, *size, storage_class);
                if let Some(fallback) = fallback_owner {
                    write_owner(w, owner.as_ref().unwrap_or(fallback));
                }
                w.close("Contents");
            }
        }
        self.write_prefixes(w, page);
    }

    fn write_prefixes(&self, w: &mut XmlWriter, page: &ListPage) {
        for entry in &page.entries {
            if let ListEntry::CommonPrefix(prefix) = entry {
                w.open("CommonPrefixes")
                    .element("Prefix", &self.text(prefix))
                    .close("CommonPrefixes");
            }
        }
    }
}

/// LastModified, ETag, Size and StorageClass of a listed object (Contents and Version alike).
fn write_object_facts(
    w: &mut XmlWriter,
    last_modified: std::time::SystemTime,
    etag: &str,
    size: u64,
    storage_class: &str,
) {
    w.element("LastModified", &iso8601(last_modified))
        .element("ETag", &format!("\"{etag}\""))
        .element("Size", &size.to_string())
        .element("StorageClass", storage_class);
}

fn write_owner(w: &mut XmlWriter, owner: &Owner) {
    w.open("Owner")
        .element("ID", &owner.id)
        .element("DisplayName", &owner.display_name)
        .close("Owner");
}

/// Continuation tokens are opaque to clients: base64url of where the next page starts after.
pub(super) fn encode_token(marker: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(marker.as_bytes())
}

pub(super) fn decode_token(token: &str) -> S3Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::invalid_argument("The continuation token provided is incorrect")
                .detail("ArgumentName", "continuation-token")
        })
}

pub async fn list_v2(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
    params: ListParams,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let token = params.continuation_token.as_deref();
    let start_after = params.start_after.as_deref();
    // An empty token is echoed (as S3 does) but resumes nothing.
    let marker = match token.filter(|t| !t.is_empty()) {
        Some(token) => Some(decode_token(token)?),
        None => start_after.map(str::to_string),
    };
    let fetch_owner = params.fetch_owner;
    let page = params.page(ctx, bucket, marker, fetch_owner).await?;

    let mut w = XmlWriter::new();
    w.root("ListBucketResult")
        .element("Name", bucket)
        .element("Prefix", &params.text(&params.prefix))
        .optional("ContinuationToken", token);
    if page.is_truncated {
        if let Some(last) = page.entries.last() {
            w.element("NextContinuationToken", &encode_token(last.marker()));
        }
    }
    w.optional("StartAfter", start_after.map(|s| params.text(s)).as_deref())
        .element("KeyCount", &page.entries.len().to_string());
    params.write_page_facts(&mut w, page.is_truncated);
    let fallback = if fetch_owner {
        Some(ctx.bucket_owner(bucket).await?)
    } else {
        None
    };
    params.write_entries(&mut w, &page, fallback.as_ref());
    w.close("ListBucketResult");
    Ok(xml_response(w.finish()))
}

pub async fn list_v1(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
    params: ListParams,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let marker = params.marker.clone().unwrap_or_default();
    let page = params.page(ctx, bucket, Some(marker.clone()), true).await?;

    let mut w = XmlWriter::new();
    w.root("ListBucketResult")
        .element("Name", bucket)
        .element("Prefix", &params.text(&params.prefix))
        .element("Marker", &params.text(&marker));
    // S3 sets NextMarker only with a delimiter; clients otherwise resume after the last key.
    if page.is_truncated && params.delimiter.is_some() {
        if let Some(last) = page.entries.last() {
            w.element("NextMarker", &params.text(last.marker()));
        }
    }
    params.write_page_facts(&mut w, page.is_truncated);
    let fallback = ctx.bucket_owner(bucket).await?;
    params.write_entries(&mut w, &page, Some(&fallback));
    w.close("ListBucketResult");
    Ok(xml_response(w.finish()))
}

/// ListObjectVersions: versions and delete markers by key, newest first (in a bucket that was
/// never versioned, every object is its one version, `null`, and the latest).
pub async fn list_versions(
    ctx: &Context<'_>,
    _req: &mut Req<'_>,
    target: &BucketTarget,
    params: ListParams,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key_marker = params.key_marker.clone().unwrap_or_default();
    let version_marker = params.version_id_marker.clone();
    if let Some(version) = &version_marker {
        if key_marker.is_empty() {
            return Err(S3Error::invalid_argument(
                "A version-id marker cannot be specified without a key marker.",
            )
            .detail("ArgumentName", "version-id-marker"));
        }
        if !crate::storage::versions::is_valid_id(version) {
            return Err(S3Error::invalid_argument("Invalid version id specified")
                .detail("ArgumentName", "version-id-marker")
                .detail("ArgumentValue", version));
        }
    }
    let query = ListQuery {
        prefix: params.prefix.clone(),
        delimiter: params.delimiter.clone(),
        marker: Some(key_marker.clone()).filter(|m| !m.is_empty()),
        max_keys: params.max_keys,
        with_owner: true,
    };
    let page = ctx
        .store
        .list_object_versions(bucket, query, version_marker.clone())
        .await
        .for_bucket(bucket)?;

    let mut w = XmlWriter::new();
    w.root("ListVersionsResult")
        .element("Name", bucket)
        .element("Prefix", &params.text(&params.prefix))
        .element("KeyMarker", &params.text(&key_marker))
        .element("VersionIdMarker", version_marker.as_deref().unwrap_or(""));
    if page.is_truncated {
        match page.entries.last() {
            Some(VersionEntry::Version { key, record, .. }) => {
                w.element("NextKeyMarker", &params.text(key))
                    .element("NextVersionIdMarker", &record.version_id);
            }
            Some(VersionEntry::CommonPrefix(prefix)) => {
                w.element("NextKeyMarker", &params.text(prefix));
            }
            None => {}
        }
    }
    params.write_page_facts(&mut w, page.is_truncated);
    let fallback = ctx.bucket_owner(bucket).await?;
    for entry in &page.entries {
        let VersionEntry::Version {
            key,
            record,
            is_latest,
        } = entry
        else {
            continue;
        };
        let element = if record.delete_marker {
            "DeleteMarker"
        } else {
            "Version"
        };
        w.open(element)
            .element("Key", &params.text(key))
            .element("VersionId", &record.version_id)
            .element("IsLatest", &is_latest.to_string());
        if record.delete_marker {
            w.element("LastModified", &iso8601(record.last_modified()));
        } else {
            write_object_facts(
                &mut w,
                record.last_modified(),
                &record.etag,
                record.size,
                record.metadata.storage_class(),
            );
        }
        let owner = record.metadata.acl.as_ref().map(|acl| &acl.owner);
        write_owner(&mut w, owner.unwrap_or(&fallback));
        w.close(element);
    }
    for entry in &page.entries {
        if let VersionEntry::CommonPrefix(prefix) = entry {
            w.open("CommonPrefixes")
                .element("Prefix", &params.text(prefix))
                .close("CommonPrefixes");
        }
    }
    w.close("ListVersionsResult");
    Ok(xml_response(w.finish()))
}
