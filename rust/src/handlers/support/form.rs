//! A streaming `multipart/form-data` reader for POST Object: small fields are read whole (with a
//! bound), the file part streams through a window no larger than the boundary.

use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

/// Longest header block of one part, and longest non-file field value.
const MAX_PART_HEADERS: usize = 16 * 1024;
pub const MAX_FIELD: usize = 64 * 1024;

fn malformed(detail: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::MalformedPOSTRequest,
        format!("The body of your POST request is not well-formed multipart/form-data: {detail}."),
    )
}

/// The boundary of a `multipart/form-data; boundary=…` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (name, value) = p.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// The headers of one part that matter here.
#[derive(Debug, Clone, Default)]
pub struct PartInfo {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

fn disposition_param(value: &str, param: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (name, v) = p.trim().split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case(param)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

fn parse_part_headers(block: &[u8]) -> S3Result<PartInfo> {
    let text = String::from_utf8_lossy(block);
    let mut info = PartInfo::default();
    let mut has_name = false;
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(malformed("a part header has no colon"));
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => {
                if let Some(n) = disposition_param(value, "name") {
                    info.name = n;
                    has_name = true;
                }
                info.filename = disposition_param(value, "filename");
            }
            "content-type" => info.content_type = Some(value.trim().to_string()),
            _ => {}
        }
    }
    if !has_name {
        return Err(malformed("a part has no name"));
    }
    Ok(info)
}

/// Reads a form part by part. After `next_part`, read the part with `read_value` or `file_stream`.
pub struct FormReader<S> {
    input: S,
    buffer: BytesMut,
    /// `\r\n--boundary`: what ends every part's data.
    delimiter: Vec<u8>,
    finished: bool,
    input_done: bool,
}

impl<S> FormReader<S>
where
    S: Stream<Item = S3Result<Bytes>> + Unpin,
{
    pub fn new(input: S, boundary: &str) -> Self {
        // The body starts with `--boundary`; prefixing CRLF lets every boundary look alike.
        let mut buffer = BytesMut::new();
        buffer.extend_from_slice(b"\r\n");
        Self {
            input,
            buffer,
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            finished: false,
            input_done: false,
        }
    }

    /// Pulls more input into the buffer; false at the end of input.
    async fn fill(&mut self) -> S3Result<bool> {
        if self.input_done {
            return Ok(false);
        }
        match self.input.next().await {
            Some(chunk) => {
                self.buffer.extend_from_slice(&chunk?);
                Ok(true)
            }
            None => {
                self.input_done = true;
                Ok(false)
            }
        }
    }

    /// Where `needle` starts in the buffer, searching only what is new since `scanned` bytes
    /// were searched without a match: a body arriving in tiny pieces costs linear time, not
    /// quadratic.
    fn find_from(&self, needle: &[u8], scanned: usize) -> Option<usize> {
        let start = scanned.saturating_sub(needle.len() - 1);
        let rest = self.buffer.get(start..)?;
        rest.windows(needle.len())
            .position(|w| w == needle)
            .map(|at| start + at)
    }

    /// Moves past the next delimiter; then reads the part's headers. `None` after the last part.
    pub async fn next_part(&mut self) -> S3Result<Option<PartInfo>> {
        if self.finished {
            return Ok(None);
        }
        // Skip whatever is left of the previous part (or the preamble) up to the delimiter.
        let delimiter = self.delimiter.clone();
        let mut scanned = 0;
        loop {
            if let Some(at) = self.find_from(&delimiter, scanned) {
                self.buffer.advance(at + delimiter.len());
                break;
            }
            let keep = self.buffer.len().saturating_sub(delimiter.len());
            self.buffer.advance(keep);
            scanned = self.buffer.len();
            if !self.fill().await? {
                return Err(malformed("the closing boundary is missing"));
            }
        }
        // `--` closes the form; CRLF starts a part.
        while self.buffer.len() < 2 {
            if !self.fill().await? {
                return Err(malformed("the form ends inside a boundary"));
            }
        }
        if self.buffer.starts_with(b"--") {
            self.finished = true;
            return Ok(None);
        }
        if !self.buffer.starts_with(b"\r\n") {
            return Err(malformed("a boundary is not followed by a line break"));
        }
        self.buffer.advance(2);
        let mut scanned = 0;
        loop {
            if let Some(end) = self.find_from(b"\r\n\r\n", scanned) {
                let headers = self.buffer.split_to(end + 4);
                return parse_part_headers(&headers[..end]).map(Some);
            }
            if self.buffer.len() > MAX_PART_HEADERS {
                return Err(malformed("the headers of a part are too long"));
            }
            scanned = self.buffer.len();
            if !self.fill().await? {
                return Err(malformed("the form ends inside part headers"));
            }
        }
    }

    /// The whole value of a (small) field.
    pub async fn read_value(&mut self) -> S3Result<Vec<u8>> {
        let delimiter = self.delimiter.clone();
        let mut scanned = 0;
        loop {
            if let Some(at) = self.find_from(&delimiter, scanned) {
                return Ok(self.buffer[..at].to_vec());
            }
            if self.buffer.len() > MAX_FIELD {
                return Err(S3Error::with_message(
                    S3ErrorCode::MaxPostPreDataLengthExceeded,
                    "Your POST request fields preceding the upload file were too large.",
                ));
            }
            scanned = self.buffer.len();
            if !self.fill().await? {
                return Err(malformed("the form ends inside a field"));
            }
        }
    }

    /// The current part's data as a stream, ending at the next delimiter.
    pub fn file_stream(&mut self) -> impl Stream<Item = S3Result<Bytes>> + '_ {
        futures_util::stream::unfold((self, false), |(reader, done)| async move {
            if done {
                return None;
            }
            let delimiter = reader.delimiter.clone();
            let mut scanned = 0;
            loop {
                if let Some(at) = reader.find_from(&delimiter, scanned) {
                    let data = reader.buffer.split_to(at).freeze();
                    return Some((Ok(data), (reader, true)));
                }
                // Everything but a possible start of the delimiter can go out now.
                let safe = reader.buffer.len().saturating_sub(delimiter.len() - 1);
                if safe >= 64 * 1024 || (safe > 0 && reader.input_done) {
                    let data = reader.buffer.split_to(safe).freeze();
                    return Some((Ok(data), (reader, false)));
                }
                scanned = reader.buffer.len();
                match reader.fill().await {
                    Ok(true) => {}
                    Ok(false) => {
                        return Some((
                            Err(malformed("the form ends inside the file")),
                            (reader, true),
                        ))
                    }
                    Err(e) => return Some((Err(e), (reader, true))),
                }
            }
        })
        .filter(|chunk| std::future::ready(!matches!(chunk, Ok(b) if b.is_empty())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(
        body: &'static [u8],
        piece: usize,
    ) -> FormReader<impl Stream<Item = S3Result<Bytes>> + Unpin> {
        let chunks: Vec<S3Result<Bytes>> = body
            .chunks(piece)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        FormReader::new(futures_util::stream::iter(chunks), "XyZ")
    }

    const BODY: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--Xy not a boundary\r\nworld\r\n--XyZ--\r\n";

    #[tokio::test]
    async fn reads_fields_and_streams_the_file_at_any_split() {
        for piece in [1, 2, 3, 7, 1000] {
            let mut form = reader(BODY, piece);
            let key = form.next_part().await.unwrap().unwrap();
            assert_eq!(key.name, "key");
            assert_eq!(form.read_value().await.unwrap(), b"uploads/${filename}");
            let file = form.next_part().await.unwrap().unwrap();
            assert_eq!(file.filename.as_deref(), Some("a.txt"));
            assert_eq!(file.content_type.as_deref(), Some("text/plain"));
            let data: Vec<Bytes> = form.file_stream().map(|c| c.unwrap()).collect().await;
            assert_eq!(
                data.concat(),
                b"hello\r\n--Xy not a boundary\r\nworld".to_vec(),
                "piece {piece}"
            );
            assert!(form.next_part().await.unwrap().is_none());
        }
    }

    #[tokio::test]
    async fn truncated_forms_fail() {
        let mut form = reader(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nhalf a fi",
            4,
        );
        form.next_part().await.unwrap().unwrap();
        let results: Vec<_> = form.file_stream().collect().await;
        assert!(results.last().unwrap().is_err());
    }

    #[test]
    fn boundaries() {
        assert_eq!(
            boundary("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            boundary("multipart/form-data; charset=x; boundary=\"q q\"").as_deref(),
            Some("q q")
        );
        assert_eq!(boundary("application/json; boundary=abc"), None);
    }
}
