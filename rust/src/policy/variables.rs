//! Policy variables (`${aws:username}`) in resources and condition values, as policies of
//! version 2012-10-17 have them: each is replaced by the request's value of that condition key.
//! `${$}` is a `$`; `${*}` and `${?}`, a literal `*` and `?` in IAM, act as wildcards here.

use super::condition::{normalize_key, RequestValues};
use std::borrow::Cow;

/// `text` with its variables filled in; `None` when a variable has no value in this request
/// (the resource or value then matches nothing), or when a value would act as a wildcard.
pub fn substitute<'t>(text: &'t str, values: &dyn RequestValues) -> Option<Cow<'t, str>> {
    if !text.contains("${") {
        return Some(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Some(Cow::Owned(out));
        };
        let name = after[..end].trim();
        match name {
            "*" | "?" | "$" => out.push_str(name),
            _ => {
                let value = values.values(&normalize_key(name))?.into_iter().next()?;
                if value.contains(['*', '?']) {
                    return None;
                }
                out.push_str(&value);
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Alice;

    impl RequestValues for Alice {
        fn values(&self, key: &str) -> Option<Vec<String>> {
            (key == "aws:username").then(|| vec!["alice".to_string()])
        }
    }

    #[test]
    fn fills_in_what_the_request_has() {
        let filled = substitute("arn:aws:s3:::b/home/${aws:username}/*", &Alice);
        assert_eq!(filled.as_deref(), Some("arn:aws:s3:::b/home/alice/*"));
        assert_eq!(substitute("${aws:userid}", &Alice), None);
        assert_eq!(substitute("plain", &Alice).as_deref(), Some("plain"));
        assert_eq!(substitute("a${$}b", &Alice).as_deref(), Some("a$b"));
    }
}
