//! The wildcards of IAM policies: `*` is any run of characters (none included), `?` exactly one.

/// Whether `text` matches `pattern` (ASCII case folded when `ignore_case`).
pub fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let same = |p: char, t: char| p == t || (ignore_case && p.eq_ignore_ascii_case(&t));
    // Greedy with one backtrack point: the last `*` and where its run ends (linear for one star,
    // at most pattern × text steps in general).
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && (pattern[p] == '?' || same(pattern[p], text[t])) {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_and_question_marks() {
        assert!(matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b.txt", false));
        assert!(matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/", false));
        assert!(!matches("arn:aws:s3:::b/*", "arn:aws:s3:::b", false));
        assert!(matches("*", "", false));
        assert!(matches("a?c", "abc", false));
        assert!(!matches("a?c", "ac", false));
        assert!(matches("*.jpg", "x.y.jpg", false));
        assert!(!matches("*.JPG", "x.jpg", false));
        assert!(matches("s3:get*", "s3:GetObject", true));
        assert!(matches("a*b*c", "aXXbYYbc", false));
        assert!(!matches("a*b*c", "aXXbYYb", false));
        assert!(matches("ü?", "üß", false));
    }
}
