//! The one place S3 errors become HTTP responses, and the headers every response carries.

use crate::body::{self, ResponseBody};
use crate::s3_error::S3Error;
use crate::xml::XmlWriter;
use http::{HeaderMap, HeaderName, HeaderValue, Response};

/// Renders an S3 error: XML body (none for HEAD), status, and the error's extra headers.
pub fn error_response(
    err: &S3Error,
    resource: &str,
    request_id: &str,
    host_id: &str,
    head: bool,
) -> Response<ResponseBody> {
    let mut response = if head {
        Response::new(body::empty())
    } else {
        let mut w = XmlWriter::new();
        w.open("Error")
            .element("Code", err.code_name())
            .element("Message", &err.message);
        for (name, value) in &err.details {
            w.element(name, value);
        }
        w.element("Resource", resource)
            .element("RequestId", request_id)
            .element("HostId", host_id)
            .close("Error");
        let mut r = Response::new(body::full(w.finish()));
        r.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        r
    };
    *response.status_mut() = err.status();
    for (name, value) in &err.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// `x-amz-request-id`, `x-amz-id-2` and `Server`, on every response.
pub fn add_common_headers(headers: &mut HeaderMap, request_id: &str, host_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amz-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(host_id) {
        headers.insert("x-amz-id-2", v);
    }
    headers.insert(http::header::SERVER, HeaderValue::from_static("smarts3"));
}

/// A request id as S3 shapes them: 16 upper-case hex characters.
pub fn new_request_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}

/// An extended request id (`x-amz-id-2`): opaque base64.
pub fn new_host_id() -> String {
    crate::checksum::base64_encode(&rand::random::<[u8; 24]>())
}
