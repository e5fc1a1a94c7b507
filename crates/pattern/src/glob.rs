//! String values with `*` wildcards, compiled once into literal segments so that matching
//! allocates nothing.

/// A string pattern: literal text with `*` standing for any run of characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Glob {
    /// The literal pieces between the stars; with no star, the one exact string.
    segments: Vec<String>,
    /// Whether the text contained any `*`.
    has_star: bool,
}

impl Glob {
    /// Compiles `text`, where every `*` is a wildcard.
    pub fn new(text: &str) -> Glob {
        Glob {
            segments: text.split('*').map(str::to_string).collect(),
            has_star: text.contains('*'),
        }
    }

    /// A pattern matching exactly `text`, stars and all: a `*` in it is a character, not a
    /// wildcard (no filter pattern text can write that; see [`crate::FilterPattern::and_exact`]).
    pub fn literal(text: &str) -> Glob {
        Glob {
            segments: vec![text.to_string()],
            has_star: false,
        }
    }

    /// The text as written (stars included); for a [`Glob::literal`], the literal text.
    pub fn text(&self) -> String {
        self.segments.join("*")
    }

    /// `Some(s)` when this pattern is the exact string `s` (no wildcard).
    pub fn exact(&self) -> Option<&str> {
        if self.has_star {
            None
        } else {
            self.segments.first().map(String::as_str)
        }
    }

    /// Whether the pattern is only stars (`*`, `**`): it matches every string, and in a JSON
    /// condition every number too (see the crate docs).
    pub fn is_any(&self) -> bool {
        self.has_star && self.segments.iter().all(String::is_empty)
    }

    /// The literal segments between wildcards.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Whether `s` matches. With stars: the first segment is a prefix, the last a suffix, and
    /// the middle ones occur in order in between (leftmost occurrences suffice).
    pub fn matches(&self, s: &str) -> bool {
        if !self.has_star {
            return self.segments.first().is_some_and(|e| e == s);
        }
        let (first, rest) = match self.segments.split_first() {
            Some(x) => x,
            None => return true,
        };
        let (last, middle) = match rest.split_last() {
            Some(x) => x,
            None => return true,
        };
        if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) {
            return false;
        }
        if !s.ends_with(last.as_str()) {
            return false;
        }
        let mut hay = &s[first.len()..s.len() - last.len()];
        for seg in middle {
            match hay.find(seg.as_str()) {
                Some(i) => hay = &hay[i + seg.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;

    #[test]
    fn table() {
        let rows: &[(&str, &str, bool)] = &[
            ("CreateTrail", "CreateTrail", true),
            ("CreateTrail", "createtrail", false),
            ("CreateTrail", "CreateTrails", false),
            ("*Trail", "CreateTrail", true),
            ("*Trail", "Trail", true),
            ("*Trail", "TrailX", false),
            ("Create*", "Create", true),
            ("Create*", "CreateTrail", true),
            ("Create*", "Creat", false),
            ("*Trail*", "DescribeTrails", true),
            ("*Trail*", "Trai", false),
            ("*", "", true),
            ("**", "x", true),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("123.123.*", "123.123.4.5", true),
            ("a*b*c", "abbc", true),
            ("a*b*c", "acb", false),
            ("a*bc*bc", "abcbc", true),
            ("", "", true),
            ("", "x", false),
        ];
        for (pat, s, want) in rows {
            assert_eq!(Glob::new(pat).matches(s), *want, "{pat} vs {s}");
        }
    }

    #[test]
    fn exact_and_text() {
        assert_eq!(Glob::new("abc").exact(), Some("abc"));
        assert_eq!(Glob::new("a*").exact(), None);
        assert_eq!(Glob::new("*a*b").text(), "*a*b");
        let lit = Glob::literal("a*b");
        assert_eq!(lit.exact(), Some("a*b"));
        assert!(lit.matches("a*b") && !lit.matches("axb") && !lit.is_any());
        assert!(Glob::new("*").is_any() && Glob::new("**").is_any());
        assert!(!Glob::new("").is_any() && !Glob::new("*a").is_any());
    }
}
