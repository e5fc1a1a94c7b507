//! The parse error: a message, the byte offset of the fault, and a rendering with a caret
//! under that offset (in the spirit of `regex-syntax`'s error formatter).

use std::fmt;

/// A filter pattern CloudWatch Logs would reject, with the byte offset of the fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    message: String,
    offset: usize,
    pattern: String,
}

impl ParseError {
    /// Builds an error; `offset` is clamped to the pattern's length (and down to a char boundary).
    pub(crate) fn new(pattern: &str, offset: usize, message: impl Into<String>) -> ParseError {
        let mut offset = offset.min(pattern.len());
        while !pattern.is_char_boundary(offset) {
            offset -= 1;
        }
        ParseError {
            message: message.into(),
            offset,
            pattern: pattern.to_string(),
        }
    }

    /// What is wrong, as one sentence.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Byte offset into the pattern where the fault is.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The pattern the error is about.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

impl fmt::Display for ParseError {
    /// Renders the message, the pattern (control characters shown as spaces so the caret lines
    /// up), and a caret under the faulty character. The caret column counts characters, not bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.message)?;
        let shown: String = self
            .pattern
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        writeln!(f, "{shown}")?;
        let column = self.pattern[..self.offset].chars().count();
        write!(f, "{}^", " ".repeat(column))
    }
}

impl std::error::Error for ParseError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_caret_under_offset() {
        let e = ParseError::new("{ $.a == 1 }", 6, "unknown operator `==`");
        assert_eq!(
            e.to_string(),
            "unknown operator `==`\n{ $.a == 1 }\n      ^"
        );
        assert_eq!(e.offset(), 6);
        assert_eq!(e.message(), "unknown operator `==`");
    }

    #[test]
    fn offset_is_clamped_and_counts_chars_for_the_caret() {
        let e = ParseError::new("é x", 1, "m");
        assert_eq!(e.offset(), 0);
        let e = ParseError::new("é\tx", 3, "m");
        assert_eq!(e.to_string(), "m\né x\n  ^");
        let e = ParseError::new("ab", 99, "m");
        assert_eq!(e.offset(), 2);
    }
}
