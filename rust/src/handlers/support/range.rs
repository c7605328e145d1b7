//! `Range: bytes=…` as S3 applies it to a GET of one object.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeOutcome {
    /// No usable range: send the whole object with 200.
    Full,
    /// Send bytes `start..=end` with 206.
    Partial { start: u64, end: u64 },
    /// 416 InvalidRange.
    Unsatisfiable,
}

/// Resolves a Range header against an object of `size` bytes. Malformed and multi-range values
/// are ignored (whole object), as S3 does.
pub fn resolve(header: Option<&str>, size: u64) -> RangeOutcome {
    let Some(spec) = header.map(str::trim).and_then(|h| h.strip_prefix("bytes=")) else {
        return RangeOutcome::Full;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeOutcome::Full;
    };
    let parse = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), parse(first), parse(last)) {
        // bytes=-n: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 {
                RangeOutcome::Unsatisfiable
            } else if size == 0 {
                RangeOutcome::Full
            } else {
                RangeOutcome::Partial {
                    start: size.saturating_sub(n),
                    end: size - 1,
                }
            }
        }
        // bytes=a- and bytes=a-b
        (false, Some(start), end) if last.trim().is_empty() || end.is_some() => {
            if end.is_some_and(|e| e < start) {
                return RangeOutcome::Full;
            }
            if start >= size {
                return RangeOutcome::Unsatisfiable;
            }
            let end = end.map_or(size - 1, |e| e.min(size - 1));
            RangeOutcome::Partial { start, end }
        }
        _ => RangeOutcome::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeOutcome::*;

    #[test]
    fn table() {
        let cases: &[(Option<&str>, u64, RangeOutcome)] = &[
            (None, 5, Full),
            (Some(""), 5, Full),
            (Some("bytes=0-0"), 5, Partial { start: 0, end: 0 }),
            (Some("bytes=0-4"), 5, Partial { start: 0, end: 4 }),
            (Some("bytes=1-100"), 5, Partial { start: 1, end: 4 }),
            (Some("bytes=2-"), 5, Partial { start: 2, end: 4 }),
            (Some("bytes=-2"), 5, Partial { start: 3, end: 4 }),
            (Some("bytes=-10"), 5, Partial { start: 0, end: 4 }),
            (Some("bytes=-1"), 1, Partial { start: 0, end: 0 }),
            (Some("bytes=5-"), 5, Unsatisfiable),
            (Some("bytes=5-9"), 5, Unsatisfiable),
            (Some("bytes=-0"), 5, Unsatisfiable),
            (Some("bytes=0-"), 0, Unsatisfiable),
            (Some("bytes=0-0"), 0, Unsatisfiable),
            (Some("bytes=-3"), 0, Full),
            (Some("bytes=3-1"), 5, Full),
            (Some("bytes=0-1,3-4"), 5, Full),
            (Some("bytes=abc"), 5, Full),
            (Some("bytes=a-b"), 5, Full),
            (Some("items=0-1"), 5, Full),
            (Some("bytes=-"), 5, Full),
        ];
        for (header, size, expected) in cases {
            assert_eq!(
                resolve(*header, *size),
                *expected,
                "{header:?} on {size} bytes"
            );
        }
    }
}
