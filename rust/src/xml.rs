//! S3 XML: a small writer for response documents and parsers for request documents.

use quick_xml::events::Event;
use std::fmt::Write as _;
use std::time::SystemTime;

pub const S3_NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Builds an XML document element by element, escaping all text.
pub struct XmlWriter {
    buf: String,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    pub fn new() -> Self {
        Self {
            buf: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        }
    }

    /// Opens the document's root element in the S3 namespace.
    pub fn root(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.buf, "<{tag} xmlns=\"{S3_NAMESPACE}\">");
        self
    }

    pub fn open(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.buf, "<{tag}>");
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        let _ = write!(self.buf, "</{tag}>");
        self
    }

    pub fn element(&mut self, tag: &str, text: &str) -> &mut Self {
        let _ = write!(self.buf, "<{tag}>");
        escape_into(&mut self.buf, text);
        let _ = write!(self.buf, "</{tag}>");
        self
    }

    /// Escaped text inside the element opened last.
    pub fn element_text(&mut self, text: &str) -> &mut Self {
        escape_into(&mut self.buf, text);
        self
    }

    /// An element whose text is present only sometimes; writes nothing for `None`.
    pub fn optional(&mut self, tag: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.element(tag, text);
        }
        self
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

/// Escapes markup characters, and control characters as character references (as S3 does).
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "&#x{:X};", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// RFC 3339 with milliseconds, as S3 writes timestamps in XML (`2026-11-21T04:46:35.000Z`).
pub fn iso8601(time: SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = time.into();
    dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The `LocationConstraint` of a `CreateBucketConfiguration` body; `Ok(None)` for an empty body.
pub fn parse_create_bucket_configuration(body: &[u8]) -> Result<Option<String>, ()> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut path: Vec<String> = Vec::new();
    let mut location = None;
    let mut saw_root = false;
    loop {
        match reader.read_event().map_err(|_| ())? {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if path.is_empty() {
                    if name != "CreateBucketConfiguration" {
                        return Err(());
                    }
                    saw_root = true;
                }
                path.push(name);
            }
            Event::Empty(e) if path.is_empty() => {
                return if e.local_name().as_ref() == b"CreateBucketConfiguration" {
                    Ok(None)
                } else {
                    Err(())
                };
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) if path.len() == 2 && path[1] == "LocationConstraint" => {
                let text = t.unescape().map_err(|_| ())?;
                location = Some(text.trim().to_string());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root || !path.is_empty() {
        return Err(());
    }
    Ok(location.filter(|l| !l.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_escapes_text() {
        let mut w = XmlWriter::new();
        w.root("R").element("Key", "a<b>&\"c'\u{1}").close("R");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Key>a&lt;b&gt;&amp;&quot;c&apos;&#x1;</Key></R>"
        );
    }

    #[test]
    fn iso8601_has_milliseconds() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_236_395_123);
        assert_eq!(iso8601(t), "2026-11-21T04:46:35.123Z");
    }

    #[test]
    fn create_bucket_configuration() {
        assert_eq!(parse_create_bucket_configuration(b""), Ok(None));
        assert_eq!(
            parse_create_bucket_configuration(
                br#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"#
            ),
            Ok(Some("eu-west-1".into()))
        );
        assert_eq!(
            parse_create_bucket_configuration(b"<CreateBucketConfiguration/>"),
            Ok(None)
        );
        assert!(parse_create_bucket_configuration(b"<Nope/>").is_err());
        assert!(parse_create_bucket_configuration(b"<CreateBucketConfiguration>").is_err());
        assert!(parse_create_bucket_configuration(b"garbage").is_err());
    }
}
