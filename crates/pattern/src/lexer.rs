//! The lexer for JSON (`{ … }`) and space-delimited (`[ … ]`) patterns: turns the pattern
//! text into tokens with byte spans, and reports malformed pieces (unknown operators,
//! unterminated strings, bad selectors, bad regexes) at the byte where they start.

use crate::ast::{CmpOp, Selector, Span, Step};
use crate::error::{ErrorKind, ParseError};
use crate::regexp::Regex;

/// A token kind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    AndAnd,
    OrOr,
    Op(CmpOp),
    Selector(Selector),
    /// A `"quoted string"`, escapes resolved.
    Quoted(String),
    /// An unquoted word (value, keyword, field name, `...`).
    Word(String),
    Regex(Regex),
}

/// A token and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub span: Span,
}

/// Characters that may appear in a selector key after a plain `.`.
pub(crate) fn is_key_char(c: char) -> bool {
    !c.is_whitespace() && !".[](){}=!<>&|,\"'%$*".contains(c)
}

/// Characters that may appear in an unquoted word.
fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !"(){}[],&|=!<>\"%".contains(c)
}

/// At most this many `%regex%` values per JSON or space-delimited pattern (AWS quota).
const MAX_REGEXES: usize = 2;

/// Splits `pattern` into tokens.
pub(crate) fn lex(pattern: &str) -> Result<Vec<Token>, ParseError> {
    let mut lx = Lexer {
        pattern,
        pos: 0,
        regexes: 0,
        after_op: false,
    };
    let mut out = Vec::new();
    while let Some(t) = lx.next()? {
        out.push(t);
    }
    Ok(out)
}

struct Lexer<'p> {
    pattern: &'p str,
    pos: usize,
    regexes: usize,
    /// Whether the last token was a comparison operator: a value follows, and a `$` there
    /// starts an (unquoted) value, not a selector.
    after_op: bool,
}

impl<'p> Lexer<'p> {
    fn err(&self, at: usize, kind: ErrorKind, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.pattern, at, kind, msg)
    }

    fn peek(&self) -> Option<char> {
        self.pattern[self.pos..].chars().next()
    }

    fn peek2(&self) -> Option<char> {
        let mut it = self.pattern[self.pos..].chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn next(&mut self) -> Result<Option<Token>, ParseError> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        let start = self.pos;
        let c = match self.bump() {
            Some(c) => c,
            None => return Ok(None),
        };
        let tok = match c {
            '{' => Tok::LBrace,
            '}' => Tok::RBrace,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '[' => Tok::LBracket,
            ']' => Tok::RBracket,
            ',' => Tok::Comma,
            '&' => {
                if self.peek() != Some('&') {
                    return Err(self.err(
                        start,
                        ErrorKind::UnknownOperator,
                        "single `&`: use `&&` for AND",
                    ));
                }
                self.bump();
                Tok::AndAnd
            }
            '|' => {
                if self.peek() != Some('|') {
                    return Err(self.err(
                        start,
                        ErrorKind::UnknownOperator,
                        "single `|`: use `||` for OR",
                    ));
                }
                self.bump();
                Tok::OrOr
            }
            '=' => {
                if self.peek() == Some('=') {
                    return Err(self.err(
                        start,
                        ErrorKind::UnknownOperator,
                        "unknown operator `==`: use `=`",
                    ));
                }
                Tok::Op(CmpOp::Eq)
            }
            '!' => {
                if self.peek() != Some('=') {
                    return Err(self.err(
                        start,
                        ErrorKind::UnknownOperator,
                        "unknown operator `!`: did you mean `!=`?",
                    ));
                }
                self.bump();
                if self.peek() == Some('=') {
                    return Err(self.err(
                        start,
                        ErrorKind::UnknownOperator,
                        "unknown operator `!==`: use `!=`",
                    ));
                }
                Tok::Op(CmpOp::Ne)
            }
            '<' | '>' => {
                let eq = self.peek() == Some('=');
                if eq {
                    self.bump();
                }
                if matches!(self.peek(), Some('<' | '>')) {
                    return Err(self.err(
                        start,
                        ErrorKind::UnknownOperator,
                        "unknown comparison operator",
                    ));
                }
                Tok::Op(match (c, eq) {
                    ('<', false) => CmpOp::Lt,
                    ('<', true) => CmpOp::Le,
                    ('>', false) => CmpOp::Gt,
                    _ => CmpOp::Ge,
                })
            }
            '"' => Tok::Quoted(self.quoted(start, '"')?),
            '%' => self.regex(start)?,
            '$' if !self.after_op => Tok::Selector(self.selector(start)?),
            _ => {
                while self.peek().is_some_and(is_word_char) {
                    self.bump();
                }
                Tok::Word(self.pattern[start..self.pos].to_string())
            }
        };
        self.after_op = matches!(tok, Tok::Op(_));
        Ok(Some(Token {
            tok,
            span: Span::new(start, self.pos),
        }))
    }

    /// Reads the rest of a quoted string opened at `start`. A backslash escapes the next
    /// character (docs silent; chosen so that `\"` can appear inside a phrase).
    fn quoted(&mut self, start: usize, close: char) -> Result<String, ParseError> {
        let mut s = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(self.err(
                        start,
                        ErrorKind::Unterminated,
                        "unterminated quoted string",
                    ))
                }
                Some('\\') => match self.bump() {
                    Some(c) => s.push(c),
                    None => {
                        return Err(self.err(
                            start,
                            ErrorKind::Unterminated,
                            "unterminated quoted string",
                        ))
                    }
                },
                Some(c) if c == close => return Ok(s),
                Some(c) => s.push(c),
            }
        }
    }

    fn regex(&mut self, start: usize) -> Result<Tok, ParseError> {
        let body = self.pos;
        let end = match self.pattern[body..].find('%') {
            Some(i) => body + i,
            None => {
                return Err(self.err(
                    start,
                    ErrorKind::Unterminated,
                    "unterminated regex: missing closing `%`",
                ))
            }
        };
        self.regexes += 1;
        if self.regexes > MAX_REGEXES {
            return Err(self.err(
                start,
                ErrorKind::TooManyRegexes,
                "too many regexes: a filter pattern may contain at most 2",
            ));
        }
        let re = Regex::new(&self.pattern[body..end], body)
            .map_err(|(at, m)| self.err(at, ErrorKind::BadRegex, m))?;
        self.pos = end + 1;
        Ok(Tok::Regex(re))
    }

    /// Reads a selector after its `$`: one or more `.key`, `.['key']`, `['key']`, `[N]` steps,
    /// and at most one wildcard step `.*` or `[*]`. AWS "Filter pattern syntax …", JSON section,
    /// "Wildcard selector": "You can use the JSON wildcard to select any array element or any
    /// JSON object field"; "Quotas": "You can only use up to one wildcard selector in a property
    /// selector."
    fn selector(&mut self, start: usize) -> Result<Selector, ParseError> {
        let mut steps = Vec::new();
        loop {
            let at = self.pos;
            match self.peek() {
                Some('.') if self.peek2() == Some('[') => {
                    self.bump();
                    self.bump();
                    steps.push(self.bracket(at)?);
                }
                Some('.') if self.peek2() == Some('*') => {
                    self.bump();
                    self.bump();
                    if self.peek().is_some_and(is_key_char) {
                        return Err(self.err(
                            self.pos,
                            ErrorKind::BadSelector,
                            "bad selector: a wildcard `.*` stands for a whole field name",
                        ));
                    }
                    steps.push(Step::Any);
                }
                Some('.') => {
                    self.bump();
                    let k0 = self.pos;
                    while self.peek().is_some_and(is_key_char) {
                        self.bump();
                    }
                    if self.pos == k0 {
                        return Err(self.err(
                            at,
                            ErrorKind::BadSelector,
                            "bad selector: expected a field name after `.`",
                        ));
                    }
                    steps.push(Step::Key(self.pattern[k0..self.pos].to_string()));
                }
                Some('[') => {
                    self.bump();
                    steps.push(self.bracket(at)?);
                }
                Some(c) if steps.is_empty() => {
                    return Err(self.err(
                        at,
                        ErrorKind::BadSelector,
                        format!("bad selector: expected `.` or `[` after `$`, found `{c}`"),
                    ))
                }
                None if steps.is_empty() => {
                    return Err(self.err(
                        start,
                        ErrorKind::BadSelector,
                        "bad selector: `$` must be followed by a field",
                    ))
                }
                _ => break,
            }
            if steps.iter().filter(|s| **s == Step::Any).count() > 1 {
                return Err(self.err(
                    self.pattern[at..].find('*').map_or(at, |i| at + i),
                    ErrorKind::TooManyWildcards,
                    "a property selector may hold at most one wildcard",
                ));
            }
        }
        if self
            .peek()
            .is_some_and(|c| c == '$' || c == '\'' || c == '*')
        {
            return Err(self.err(
                self.pos,
                ErrorKind::BadSelector,
                "bad selector: unexpected character",
            ));
        }
        Ok(Selector { steps })
    }

    /// After `[`: `N]`, `*]`, `'key']` or `"key"]`.
    fn bracket(&mut self, open: usize) -> Result<Step, ParseError> {
        let step = match self.peek() {
            Some('*') => {
                self.bump();
                Step::Any
            }
            Some(q @ ('\'' | '"')) => {
                let qs = self.pos;
                self.bump();
                let k = self.quoted(qs, q)?;
                Step::Key(k)
            }
            Some(c) if c.is_ascii_digit() => {
                let d0 = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.bump();
                }
                match self.pattern[d0..self.pos].parse::<usize>() {
                    Ok(n) if n <= u32::MAX as usize => Step::Index(n),
                    _ => {
                        return Err(self.err(
                            d0,
                            ErrorKind::BadSelector,
                            "bad selector: array index too large",
                        ))
                    }
                }
            }
            _ => {
                return Err(self.err(
                    self.pos,
                    ErrorKind::BadSelector,
                    "bad selector: expected an array index, `*` or a quoted key after `[`",
                ))
            }
        };
        if self.peek() != Some(']') {
            return Err(self.err(open, ErrorKind::BadSelector, "bad selector: missing `]`"));
        }
        self.bump();
        Ok(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(p: &str) -> Vec<Tok> {
        lex(p).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens() {
        let t = kinds(r#"{ $.a.b[0].['c.d'] != "x\"y" && ( $.e >= -1.5 ) || %a|b% }"#);
        assert_eq!(t.len(), 13);
        assert_eq!(
            t[1],
            Tok::Selector(Selector {
                steps: vec![
                    Step::Key("a".into()),
                    Step::Key("b".into()),
                    Step::Index(0),
                    Step::Key("c.d".into())
                ]
            })
        );
        assert_eq!(t[2], Tok::Op(CmpOp::Ne));
        assert_eq!(t[3], Tok::Quoted("x\"y".into()));
        assert_eq!(t[8], Tok::Word("-1.5".into()));
    }

    #[test]
    fn wildcard_steps() {
        for (p, want) in [
            ("{$.a[*]=1}", vec![Step::Key("a".into()), Step::Any]),
            ("{$.*=1}", vec![Step::Any]),
            (
                "{$.a.*.b=1}",
                vec![Step::Key("a".into()), Step::Any, Step::Key("b".into())],
            ),
            ("{$[*]=1}", vec![Step::Any]),
        ] {
            assert_eq!(kinds(p)[1], Tok::Selector(Selector { steps: want }), "{p}");
        }
        assert_eq!(
            Selector {
                steps: vec![Step::Key("a".into()), Step::Any]
            }
            .to_text(),
            "$.a[*]"
        );
        assert_eq!(
            Selector {
                steps: vec![Step::Any]
            }
            .to_text(),
            "$.*"
        );
    }

    #[test]
    fn spans() {
        let t = lex("{$.ab=1}").unwrap();
        assert_eq!(t[1].span, Span::new(1, 5));
        assert_eq!(t[2].span, Span::new(5, 6));
    }

    #[test]
    fn errors_with_offsets() {
        let rows: &[(&str, ErrorKind, usize)] = &[
            ("{ $.a == 1 }", ErrorKind::UnknownOperator, 6),
            ("{ $.a = 1 | $.b = 2 }", ErrorKind::UnknownOperator, 10),
            ("{ $.a = 1 & $.b = 2 }", ErrorKind::UnknownOperator, 10),
            ("{ $.a ! 1 }", ErrorKind::UnknownOperator, 6),
            ("{ $.a = \"x }", ErrorKind::Unterminated, 8),
            ("{ $. = 1 }", ErrorKind::BadSelector, 3),
            ("{ $a = 1 }", ErrorKind::BadSelector, 3),
            ("{ $.a[x] = 1 }", ErrorKind::BadSelector, 6),
            ("{ $.a[0 = 1 }", ErrorKind::BadSelector, 5),
            ("{ $.a = %ab }", ErrorKind::Unterminated, 8),
            ("{ $.a = %a(b% }", ErrorKind::BadRegex, 10),
            (
                "{ $.a = %a% || $.b = %b% || $.c = %c% }",
                ErrorKind::TooManyRegexes,
                34,
            ),
            ("{ $.a <> 1 }", ErrorKind::UnknownOperator, 6),
            ("{ $.a$ = 1 }", ErrorKind::BadSelector, 5),
            ("{ $.a[*][*] = 1 }", ErrorKind::TooManyWildcards, 9),
            ("{ $.*.b.* = 1 }", ErrorKind::TooManyWildcards, 8),
            ("{ $.*b = 1 }", ErrorKind::BadSelector, 5),
        ];
        for (p, kind, off) in rows {
            let e = lex(p).unwrap_err();
            assert_eq!((e.kind(), e.offset()), (*kind, *off), "{p}: {e}");
        }
    }
}
