//! Amazon S3's naming rules for general purpose buckets.

const FORBIDDEN_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
const FORBIDDEN_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Checks a bucket name; the error says which rule it breaks.
pub fn validate(name: &str) -> Result<(), String> {
    if name.len() < 3 || name.len() > 63 {
        return Err(format!(
            "bucket name '{name}' must be between 3 and 63 characters long"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err(format!(
            "bucket name '{name}' may contain only lowercase letters, numbers, dots and hyphens"
        ));
    }
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !alnum(name.as_bytes()[0]) || !alnum(name.as_bytes()[name.len() - 1]) {
        return Err(format!(
            "bucket name '{name}' must begin and end with a letter or number"
        ));
    }
    if name.contains("..") {
        return Err(format!(
            "bucket name '{name}' must not contain two adjacent periods"
        ));
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(format!(
            "bucket name '{name}' must not be formatted as an IP address"
        ));
    }
    if let Some(p) = FORBIDDEN_PREFIXES.iter().find(|p| name.starts_with(*p)) {
        return Err(format!("bucket name '{name}' must not start with '{p}'"));
    }
    if let Some(s) = FORBIDDEN_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Err(format!("bucket name '{name}' must not end with '{s}'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn accepts_valid_names() {
        for name in [
            "abc",
            "my-bucket",
            "my.bucket.1",
            "a".repeat(63).as_str(),
            "1-2",
        ] {
            assert!(validate(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_invalid_names() {
        let long = "a".repeat(64);
        for name in [
            "ab",
            long.as_str(),
            "My-Bucket",
            "my_bucket",
            "-abc",
            "abc-",
            ".abc",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "sthree-x",
            "abc-s3alias",
            "abc--ol-s3",
            "a b c",
            "ünï",
        ] {
            assert!(validate(name).is_err(), "{name}");
        }
    }
}
