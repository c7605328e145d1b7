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

    /// Opens an element with attributes (values escaped).
    pub fn open_with(&mut self, tag: &str, attributes: &[(&str, &str)]) -> &mut Self {
        let _ = write!(self.buf, "<{tag}");
        for (name, value) in attributes {
            let _ = write!(self.buf, " {name}=\"");
            escape_into(&mut self.buf, value);
            self.buf.push('"');
        }
        self.buf.push('>');
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

/// Escapes markup characters, and control characters (but tab and newline, which XML text
/// carries as they are) as character references, as S3 does.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' => out.push(c),
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

/// A parsed request document: element names without namespace prefixes, text unescaped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of a direct child, if present.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

/// Deepest nesting accepted in a request document; S3's are at most a few levels deep.
const MAX_DEPTH: usize = 32;

/// Parses a request body into an element tree; `Err` for anything not well-formed.
/// A request document that is not well-formed XML (each caller names its own S3 error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotWellFormed;

pub fn parse_document(body: &[u8]) -> Result<Element, NotWellFormed> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let named = |name: &[u8]| String::from_utf8(name.to_vec()).map_err(|_| NotWellFormed);
    loop {
        match reader.read_event().map_err(|_| NotWellFormed)? {
            Event::Start(e) => {
                if root.is_some() || stack.len() >= MAX_DEPTH {
                    return Err(NotWellFormed);
                }
                stack.push(Element {
                    name: named(e.local_name().as_ref())?,
                    ..Default::default()
                });
            }
            Event::Empty(e) => {
                let element = Element {
                    name: named(e.local_name().as_ref())?,
                    ..Default::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None if root.is_none() => root = Some(element),
                    None => return Err(NotWellFormed),
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or(NotWellFormed)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                let text = t.unescape().map_err(|_| NotWellFormed)?;
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&text),
                    None if text.trim().is_empty() => {}
                    None => return Err(NotWellFormed),
                }
            }
            Event::CData(c) => {
                let text = String::from_utf8(c.into_inner().to_vec()).map_err(|_| NotWellFormed)?;
                stack.last_mut().ok_or(NotWellFormed)?.text.push_str(&text);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(NotWellFormed);
    }
    root.ok_or(NotWellFormed)
}

/// The `LocationConstraint` of a `CreateBucketConfiguration` body; `Ok(None)` for an empty body.
pub fn parse_create_bucket_configuration(body: &[u8]) -> Result<Option<String>, NotWellFormed> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let root = parse_document(body)?;
    if root.name != "CreateBucketConfiguration" {
        return Err(NotWellFormed);
    }
    Ok(root
        .child_text("LocationConstraint")
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string))
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

    #[test]
    fn documents() {
        let doc = parse_document(
            br#"<?xml version="1.0"?><CompleteMultipartUpload xmlns="x"><Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag><![CDATA["d"]]></ETag></Part></CompleteMultipartUpload>"#,
        )
        .unwrap();
        assert_eq!(doc.name, "CompleteMultipartUpload");
        let parts: Vec<_> = doc.children_named("Part").collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].child_text("ETag"), Some("\"abc\""));
        assert_eq!(parts[1].child_text("ETag"), Some("\"d\""));
        assert!(parse_document(b"<a></b>").is_err());
        assert!(parse_document(b"<a/><b/>").is_err());
        assert!(parse_document(b"").is_err());
        assert!(parse_document(&b"<a>".repeat(100)).is_err());
    }
}
