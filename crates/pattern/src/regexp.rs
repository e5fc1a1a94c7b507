//! `%regex%` values: CloudWatch's restricted regex syntax, validated here (so errors point at
//! the offending character) and compiled once with the `regex` crate.
//!
//! AWS, "Filter pattern syntax for metric filters, subscription filters, filter log events, and
//! Live Tail", section "Supported regular expressions (regex) syntax": letters, digits, the
//! symbols `_ # = @ / ; , - :` and the operators `^ $ ? [ ] { } | \ * + .`; no `(` `)`; no
//! multi-byte characters; at most two regexes per JSON or space-delimited pattern.
//!
//! Where the docs are silent we chose: the space character is allowed (the CDK's own
//! `regexValue('$.message', '=', 'bind: address already in use')` example needs it), and a
//! regex matches anywhere in the value unless anchored with `^`/`$` (the docs' `%AUTHORIZED%`
//! example matches "UNAUTHORIZED REQUEST").

use crate::ast::Span;

/// A compiled `%regex%`.
#[derive(Debug, Clone)]
pub struct Regex {
    source: String,
    span: Span,
    compiled: regex::Regex,
}

/// Two regexes are equal when written the same: where each stands in its pattern is not part of
/// what it matches (so that equal conditions of two patterns are one condition to `covers`).
impl PartialEq for Regex {
    fn eq(&self, other: &Regex) -> bool {
        self.source == other.source
    }
}

impl Regex {
    /// Validates and compiles the text between the `%` delimiters. `start` is the byte offset
    /// of that text in the pattern; on error returns the offset of the fault and a message.
    pub(crate) fn new(source: &str, start: usize) -> Result<Regex, (usize, String)> {
        if source.is_empty() {
            return Err((start, "empty regex `%%`".to_string()));
        }
        for (i, c) in source.char_indices() {
            let ok = c.is_ascii_alphanumeric()
                || "_#=@/;,-: ".contains(c)
                || "^$?[]{}|\\*+.".contains(c);
            if !ok {
                let what = if c == '(' || c == ')' {
                    "parentheses are not supported in a CloudWatch regex".to_string()
                } else if !c.is_ascii() {
                    "multi-byte characters are not supported in a CloudWatch regex".to_string()
                } else {
                    format!("character `{c}` is not supported in a CloudWatch regex")
                };
                return Err((start + i, what));
            }
        }
        let compiled = regex::RegexBuilder::new(source)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                (
                    start,
                    format!("invalid regex: {}", first_line(&e.to_string())),
                )
            })?;
        Ok(Regex {
            source: source.to_string(),
            span: Span::new(start.saturating_sub(1), start + source.len() + 1),
            compiled,
        })
    }

    /// The regex text between the `%` delimiters.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Where `%regex%` (delimiters included) is in the pattern.
    pub fn span(&self) -> Span {
        self.span
    }

    /// Relocates the span for a new pattern text (see [`Span::relocated`]).
    pub(crate) fn relocate(&mut self, from: usize, to: usize) {
        self.span = self.span.relocated(from, to);
    }

    /// Whether the regex matches anywhere in `s`.
    pub fn is_match(&self, s: &str) -> bool {
        self.compiled.is_match(s)
    }

    /// A few strings that should match, found by reading the regex naively (each alternative,
    /// minimal repetitions, first member of each class). Only those that really match are
    /// returned; the list may be empty.
    pub(crate) fn witnesses(&self) -> Vec<String> {
        let mut out = Vec::new();
        for alt in split_alternatives(&self.source) {
            let w = naive_witness(alt);
            if self.is_match(&w) && !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

/// Splits at top-level `|` (outside classes, not escaped).
fn split_alternatives(src: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_class, mut escaped) = (0, false, false);
    for (i, c) in src.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' => in_class = true,
            ']' => in_class = false,
            '|' if !in_class => {
                parts.push(&src[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&src[start..]);
    parts
}

/// Builds one string from a branch without alternatives: literals as written, `.` as `a`,
/// a class as its first member, `*`/`?`/`{0…}` drop the previous item, `+`/`{n…}` keep it.
fn naive_witness(branch: &str) -> String {
    let chars: Vec<char> = branch.chars().collect();
    let mut items: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '^' | '$' => {}
            '.' => items.push("a".into()),
            '\\' => {
                let e = chars.get(i).copied().unwrap_or('\\');
                i += 1;
                items.push(
                    match e {
                        'd' => "0",
                        'w' => "a",
                        's' => " ",
                        'D' | 'W' | 'S' => "-",
                        _ => "",
                    }
                    .to_string(),
                );
                if items.last().is_some_and(String::is_empty) {
                    items.pop();
                    items.push(e.to_string());
                }
            }
            '[' => {
                let negated = chars.get(i) == Some(&'^');
                if negated {
                    i += 1;
                }
                let first = chars.get(i).copied();
                i += 1;
                while i < chars.len() && chars[i] != ']' {
                    i += 1;
                }
                i += 1;
                let pick = if negated { Some('~') } else { first };
                items.push(pick.map(String::from).unwrap_or_default());
            }
            '*' | '?' => {
                items.pop();
            }
            '+' => {}
            '{' => {
                let mut num = String::new();
                while i < chars.len() && chars[i] != '}' {
                    num.push(chars[i]);
                    i += 1;
                }
                i += 1;
                let min: usize = num
                    .split(',')
                    .next()
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or(1);
                if let Some(last) = items.pop() {
                    items.push(last.repeat(min.min(64)));
                }
            }
            _ => items.push(c.to_string()),
        }
    }
    items.concat()
}

#[cfg(test)]
mod tests {
    use super::Regex;

    #[test]
    fn accepts_the_documented_syntax() {
        for src in [
            "AUTHORIZED",
            "^ERROR$",
            "colou?r",
            "gray|grey",
            "10\\.10\\.0\\.1",
            "[a-z]+",
            "a{2,3}",
            "user_name@host#1=2;3,4-5/6:7",
        ] {
            assert!(Regex::new(src, 1).is_ok(), "{src}");
        }
    }

    #[test]
    fn rejects_with_offsets() {
        let rows: &[(&str, usize)] = &[
            ("something!", 10),
            ("(ab)", 1),
            ("a(b", 2),
            ("é", 1),
            ("", 1),
            ("a{", 1),
            ("[a", 1),
        ];
        for (src, off) in rows {
            let e = Regex::new(src, 1).unwrap_err();
            assert_eq!(e.0, *off, "{src}: {}", e.1);
        }
    }

    #[test]
    fn equal_when_written_the_same_wherever_they_stand() {
        assert_eq!(Regex::new("^x", 1).unwrap(), Regex::new("^x", 30).unwrap());
        assert_ne!(Regex::new("^x", 1).unwrap(), Regex::new("^y", 1).unwrap());
        assert_ne!(
            Regex::new("^x", 1).unwrap().span(),
            Regex::new("^x", 30).unwrap().span()
        );
    }

    #[test]
    fn witnesses_really_match() {
        for src in [
            "AUTHORIZED",
            "^Create.*Trail$",
            "colou?r",
            "gray|grey",
            "[0-9]{3}",
            "a\\d+",
            "[^a]b",
        ] {
            let r = Regex::new(src, 1).unwrap();
            let w = r.witnesses();
            assert!(!w.is_empty(), "{src}");
            assert!(w.iter().all(|s| r.is_match(s)));
        }
    }
}
