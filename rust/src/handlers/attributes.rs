//! GetObjectAttributes: what HEAD says, plus parts and checksums, as one XML document.

use super::operations::ObjectTarget;
use super::support::headers;
use super::Req;
use super::{xml_response, Context};
use crate::body::ResponseBody;
use crate::s3_error::{S3Error, S3Result};
use crate::xml::XmlWriter;
use http::request::Parts;
use http::Response;

const ATTRIBUTES: [&str; 5] = [
    "ETag",
    "Checksum",
    "ObjectParts",
    "StorageClass",
    "ObjectSize",
];

fn header_number(parts: &Parts, name: &'static str, default: usize) -> S3Result<usize> {
    match headers::get(parts, name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|_| {
            S3Error::invalid_argument(format!("Invalid value for {name}"))
                .detail("ArgumentName", name)
                .detail("ArgumentValue", raw)
        }),
    }
}

pub async fn get_object_attributes(
    ctx: &Context<'_>,
    req: &mut Req<'_>,
    target: &ObjectTarget,
) -> S3Result<Response<ResponseBody>> {
    let bucket = target.bucket.as_str();
    let key = target.key.as_str();
    let parts = req.parts;
    let requested: Vec<String> = parts
        .headers
        .get_all("x-amz-object-attributes")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    if requested.is_empty() {
        return Err(S3Error::invalid_argument(
            "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty",
        )
        .detail("ArgumentName", "x-amz-object-attributes"));
    }
    if let Some(unknown) = requested.iter().find(|a| !ATTRIBUTES.contains(&a.as_str())) {
        return Err(S3Error::invalid_argument(format!(
            "Invalid attribute name specified: {unknown}"
        ))
        .detail("ArgumentName", "x-amz-object-attributes")
        .detail("ArgumentValue", unknown.clone()));
    }
    let max_parts = header_number(parts, "x-amz-max-parts", 1000)?.min(1000);
    let marker = header_number(parts, "x-amz-part-number-marker", 0)?;
    let wants = |name: &str| requested.iter().any(|a| a == name);

    let object = ctx
        .open_object(bucket, key, target.version_id.as_deref())
        .await?;
    let info = &object.info;
    let mut w = XmlWriter::new();
    w.root("GetObjectAttributesResponse");
    if wants("ETag") {
        w.element("ETag", &info.etag);
    }
    if wants("Checksum") {
        if let Some(checksum) = &info.metadata.checksum {
            w.open("Checksum")
                .element(&format!("Checksum{}", checksum.algorithm), &checksum.value)
                .element("ChecksumType", &checksum.checksum_type)
                .close("Checksum");
        }
    }
    if wants("ObjectParts") && !info.metadata.parts.is_empty() {
        let sizes = &info.metadata.parts;
        let listed: Vec<(usize, u64)> = sizes
            .iter()
            .enumerate()
            .map(|(i, size)| (i + 1, *size))
            .filter(|(n, _)| *n > marker)
            .take(max_parts)
            .collect();
        let truncated = listed.last().is_some_and(|(n, _)| *n < sizes.len());
        w.open("ObjectParts")
            .element("PartsCount", &sizes.len().to_string())
            .element("PartNumberMarker", &marker.to_string());
        if let Some((last, _)) = listed.last() {
            w.element("NextPartNumberMarker", &last.to_string());
        }
        w.element("MaxParts", &max_parts.to_string())
            .element("IsTruncated", &truncated.to_string());
        for (number, size) in &listed {
            w.open("Part")
                .element("PartNumber", &number.to_string())
                .element("Size", &size.to_string())
                .close("Part");
        }
        w.close("ObjectParts");
    }
    if wants("StorageClass") {
        w.element("StorageClass", info.metadata.storage_class());
    }
    if wants("ObjectSize") {
        w.element("ObjectSize", &info.size.to_string());
    }
    w.close("GetObjectAttributesResponse");
    let mut response = xml_response(w.finish());
    headers::insert(
        response.headers_mut(),
        "last-modified",
        &httpdate::fmt_http_date(info.last_modified),
    );
    Ok(response)
}
