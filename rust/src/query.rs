//! A request's query string, decoded once: parameter names and values in request order.

use crate::s3_error::{S3Error, S3ErrorCode, S3Result};
use percent_encoding::percent_decode_str;

/// Decoded query parameters, in request order. Names are case-sensitive, as in S3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    /// A parameter's value, `None` when absent or empty.
    pub fn non_empty(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).map(str::to_string)
    }

    /// Parses a raw query string: `a=1&b&c=x%20y`; `+` means space, as in form encoding.
    pub fn parse(raw: Option<&str>) -> S3Result<Self> {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((
                decode_query_component(name)?,
                decode_query_component(value)?,
            ));
        }
        Ok(Self(pairs))
    }
}

fn decode_query_component(text: &str) -> S3Result<String> {
    let text = text.replace('+', " ");
    percent_decode_str(&text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding() {
        let q = Query::parse(Some("prefix=a+b%2Bc&uploads&x=")).unwrap();
        assert_eq!(q.get("prefix"), Some("a b+c"));
        assert!(q.has("uploads"));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.non_empty("x"), None);
        assert!(Query::parse(Some("k=%FF")).is_err());
    }
}
