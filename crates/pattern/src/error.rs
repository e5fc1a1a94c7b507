//! The parse error: what kind of fault, a message, the byte offset of the fault, and a
//! rendering with a caret under that offset (in the spirit of `regex-syntax`'s error formatter).

use std::fmt;

/// A filter pattern CloudWatch Logs would reject, with the byte offset of the fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ErrorKind,
    message: String,
    offset: usize,
    pattern: String,
}

/// What is wrong with a pattern, for callers (and tests) that branch on the fault rather than
/// on the wording of [`ParseError::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Longer than the 1024 characters CloudWatch accepts.
    TooLong,
    /// An operator CloudWatch does not have (`==`, `!`, `<>`, a single `&` or `|`).
    UnknownOperator,
    /// `&&` or `||` with no condition on one side.
    DanglingOperator,
    /// A brace, parenthesis or bracket that is never closed, or closed without being opened.
    Unbalanced,
    /// A quoted string, phrase or `%regex%` that is never closed.
    Unterminated,
    /// `{ }`, `( )`, `[ ]` or `%%` with nothing inside.
    Empty,
    /// Text after the end of the pattern (`}`, `]` or a standalone regex's closing `%`).
    TrailingText,
    /// A token where another was expected (`&&`, `||`, a closing delimiter, `,`, a field name).
    UnexpectedToken,
    /// A condition (`$.field …` or `(`) was expected.
    ExpectedCondition,
    /// An operator was expected after a selector or a field.
    ExpectedOperator,
    /// A value was expected after an operator.
    ExpectedValue,
    /// `<`, `>`, `<=` or `>=` with something other than a number.
    ExpectedNumber,
    /// `IS` not followed by `NULL`/`TRUE`/`FALSE`, or `NOT` not followed by `EXISTS`.
    BadKeyword,
    /// A malformed property selector.
    BadSelector,
    /// A `%regex%` outside CloudWatch's regex syntax.
    BadRegex,
    /// More than two regexes in one JSON or space-delimited pattern.
    TooManyRegexes,
    /// More than one wildcard in a selector, or more than three wildcard selectors in a pattern.
    TooManyWildcards,
    /// Parentheses nested deeper than this crate accepts.
    TooDeep,
    /// An unquoted value holding a character that must be quoted (`@`, `$`, `\`, non-ASCII).
    MustQuote,
    /// A malformed term of a term pattern (a lone `?`/`-`, a stray quote).
    BadTerm,
    /// A space-delimited condition names a field the pattern does not have.
    UnknownField,
    /// A space-delimited pattern names a field twice.
    DuplicateField,
    /// A JSON-only operation was asked of a pattern that is not a JSON pattern.
    NotJson,
}

impl ParseError {
    /// Builds an error; `offset` is clamped to the pattern's length (and down to a char boundary).
    pub(crate) fn new(
        pattern: &str,
        offset: usize,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> ParseError {
        let mut offset = offset.min(pattern.len());
        while !pattern.is_char_boundary(offset) {
            offset -= 1;
        }
        ParseError {
            kind,
            message: message.into(),
            offset,
            pattern: pattern.to_string(),
        }
    }

    /// What kind of fault it is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
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
        let e = ParseError::new(
            "{ $.a == 1 }",
            6,
            ErrorKind::UnknownOperator,
            "unknown operator `==`",
        );
        assert_eq!(
            e.to_string(),
            "unknown operator `==`\n{ $.a == 1 }\n      ^"
        );
        assert_eq!(e.offset(), 6);
        assert_eq!(e.message(), "unknown operator `==`");
        assert_eq!(e.kind(), ErrorKind::UnknownOperator);
    }

    #[test]
    fn offset_is_clamped_and_counts_chars_for_the_caret() {
        let e = ParseError::new("é x", 1, ErrorKind::Empty, "m");
        assert_eq!(e.offset(), 0);
        let e = ParseError::new("é\tx", 3, ErrorKind::Empty, "m");
        assert_eq!(e.to_string(), "m\né x\n  ^");
        let e = ParseError::new("ab", 99, ErrorKind::Empty, "m");
        assert_eq!(e.offset(), 2);
    }
}
