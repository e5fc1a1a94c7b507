//! The parser: pattern text to [`Ast`]. Decides the pattern form from its first non-blank
//! character (`{` JSON, `[` space-delimited, `%` standalone regex, otherwise terms), checks the
//! length limit, and parses JSON / space-delimited patterns from the lexer's tokens with `&&`
//! binding tighter than `||`.

use crate::ast::{
    Ast, CmpOp, Condition, DelimExpr, Delimited, Field, JsonExpr, Span, Term, TermKind, Test, Value,
};
use crate::error::{ErrorKind, ParseError};
use crate::glob::Glob;
use crate::lexer::{lex, Tok, Token};
use crate::regexp::Regex;

/// CloudWatch's limit on a filter pattern, in characters (PutMetricFilter `filterPattern`).
pub(crate) const MAX_PATTERN_CHARS: usize = 1024;

/// Wildcard selectors per pattern. AWS "Filter pattern syntax …", JSON section, "Quotas": "up to
/// three wildcard selectors in a filter pattern with compound expressions."
const MAX_WILDCARD_SELECTORS: usize = 3;

/// Maximum nesting of parentheses. The docs are silent; 1024 characters could nest ~500 deep,
/// and we refuse beyond this depth so that no input can exhaust the stack.
const MAX_DEPTH: usize = 64;

/// Parses a whole filter pattern.
pub(crate) fn parse_ast(pattern: &str) -> Result<Ast, ParseError> {
    if let Some((at, _)) = pattern.char_indices().nth(MAX_PATTERN_CHARS) {
        return Err(ParseError::new(
            pattern,
            at,
            ErrorKind::TooLong,
            format!("filter pattern is longer than {MAX_PATTERN_CHARS} characters"),
        ));
    }
    let lead = pattern.len() - pattern.trim_start().len();
    let trimmed = pattern.trim();
    match trimmed.chars().next() {
        None => Ok(Ast::MatchAll(Span::new(0, pattern.len()))),
        Some('{') => {
            let mut p = Parser::new(pattern)?;
            p.json().map(Ast::Json)
        }
        Some('[') => {
            let mut p = Parser::new(pattern)?;
            p.delimited().map(Ast::Delimited)
        }
        Some('%') => standalone_regex(pattern, lead, trimmed),
        Some(_) => terms(pattern, lead, trimmed),
    }
}

/// Parses a lone property selector such as `$.userIdentity.arn` (blanks around it allowed).
pub(crate) fn parse_selector(text: &str) -> Result<crate::ast::Selector, ParseError> {
    let mut toks = lex(text)?.into_iter();
    let selector = match toks.next() {
        Some(Token {
            tok: Tok::Selector(s),
            ..
        }) => s,
        other => {
            return Err(ParseError::new(
                text,
                other.map_or(0, |t| t.span.start),
                ErrorKind::BadSelector,
                "expected a property selector such as `$.userIdentity.arn`",
            ))
        }
    };
    match toks.next() {
        None => Ok(selector),
        Some(t) => Err(ParseError::new(
            text,
            t.span.start,
            ErrorKind::TrailingText,
            "unexpected text after the selector",
        )),
    }
}

fn standalone_regex(pattern: &str, lead: usize, trimmed: &str) -> Result<Ast, ParseError> {
    let close = match trimmed[1..].find('%') {
        Some(i) => i + 1,
        None => {
            return Err(ParseError::new(
                pattern,
                lead,
                ErrorKind::Unterminated,
                "unterminated regex: missing closing `%`",
            ))
        }
    };
    if close + 1 != trimmed.len() {
        return Err(ParseError::new(
            pattern,
            lead + close + 1,
            ErrorKind::TrailingText,
            "a regex filter pattern must stand alone: nothing may follow the closing `%`",
        ));
    }
    Regex::new(&trimmed[1..close], lead + 1)
        .map(Ast::Regex)
        .map_err(|(at, m)| ParseError::new(pattern, at, ErrorKind::BadRegex, m))
}

/// Term patterns: `ERROR`, `"exact phrase"`, `?optional`, `-excluded`, separated by blanks.
fn terms(pattern: &str, lead: usize, trimmed: &str) -> Result<Ast, ParseError> {
    // AWS: `" "` matches every event. We extend that to any quoted blank phrase.
    if trimmed.len() >= 2
        && trimmed.starts_with('"')
        && trimmed.ends_with('"')
        && trimmed[1..trimmed.len() - 1]
            .chars()
            .all(char::is_whitespace)
    {
        return Ok(Ast::MatchAll(Span::new(0, pattern.len())));
    }
    let bytes = pattern.as_bytes();
    let mut pos = lead;
    let mut out = Vec::new();
    while pos < pattern.len() {
        let c = pattern[pos..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            pos += c.len_utf8();
            continue;
        }
        let start = pos;
        let kind = match c {
            '?' => TermKind::Optional,
            '-' => TermKind::Excluded,
            _ => TermKind::Required,
        };
        if kind != TermKind::Required {
            pos += 1;
            if pos >= pattern.len() || (bytes[pos] as char).is_ascii_whitespace() {
                return Err(ParseError::new(
                    pattern,
                    start,
                    ErrorKind::BadTerm,
                    format!("`{c}` must be followed by a term"),
                ));
            }
        }
        let (text, quoted) = if bytes[pos] == b'"' {
            let q = pos;
            pos += 1;
            let mut s = String::new();
            loop {
                let Some(ch) = pattern[pos..].chars().next() else {
                    return Err(ParseError::new(
                        pattern,
                        q,
                        ErrorKind::Unterminated,
                        "unterminated quoted phrase",
                    ));
                };
                pos += ch.len_utf8();
                match ch {
                    '"' => break,
                    '\\' => match pattern[pos..].chars().next() {
                        Some(e) => {
                            pos += e.len_utf8();
                            s.push(e);
                        }
                        None => {
                            return Err(ParseError::new(
                                pattern,
                                q,
                                ErrorKind::Unterminated,
                                "unterminated quoted phrase",
                            ))
                        }
                    },
                    _ => s.push(ch),
                }
            }
            if pattern[pos..]
                .chars()
                .next()
                .is_some_and(|c| !c.is_whitespace())
            {
                return Err(ParseError::new(
                    pattern,
                    pos,
                    ErrorKind::BadTerm,
                    "expected a blank after the closing quote",
                ));
            }
            (s, true)
        } else {
            let w0 = pos;
            while let Some(ch) = pattern[pos..].chars().next() {
                if ch.is_whitespace() {
                    break;
                }
                if ch == '"' {
                    return Err(ParseError::new(
                        pattern,
                        pos,
                        ErrorKind::BadTerm,
                        "quote inside an unquoted term: quote the whole term",
                    ));
                }
                pos += ch.len_utf8();
            }
            (pattern[w0..pos].to_string(), false)
        };
        out.push(Term {
            kind,
            text,
            quoted,
            span: Span::new(start, pos),
        });
    }
    Ok(Ast::Terms(out))
}

struct Parser<'p> {
    pattern: &'p str,
    toks: Vec<Token>,
    i: usize,
    depth: usize,
    /// Selectors with a wildcard seen so far.
    wildcards: usize,
}

impl<'p> Parser<'p> {
    fn new(pattern: &'p str) -> Result<Parser<'p>, ParseError> {
        Ok(Parser {
            pattern,
            toks: lex(pattern)?,
            i: 0,
            depth: 0,
            wildcards: 0,
        })
    }

    fn err(&self, at: usize, kind: ErrorKind, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.pattern, at, kind, msg)
    }

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }

    fn end(&self) -> usize {
        self.pattern.trim_end().len()
    }

    fn json(&mut self) -> Result<JsonExpr, ParseError> {
        let open = self.next().map(|t| t.span.start).unwrap_or(0);
        if let Some(t) = self.peek() {
            if t.tok == Tok::RBrace {
                return Err(self.err(
                    t.span.start,
                    ErrorKind::Empty,
                    "empty JSON pattern: expected a condition",
                ));
            }
        }
        let e = self.or()?;
        match self.next() {
            Some(Token {
                tok: Tok::RBrace, ..
            }) => {}
            None => {
                return Err(self.err(
                    open,
                    ErrorKind::Unbalanced,
                    "unbalanced braces: this `{` is never closed",
                ))
            }
            Some(Token {
                tok: Tok::RParen,
                span,
            }) => {
                return Err(self.err(
                    span.start,
                    ErrorKind::Unbalanced,
                    "unbalanced parentheses: this `)` has no matching `(`",
                ))
            }
            Some(t) => {
                return Err(self.err(
                    t.span.start,
                    ErrorKind::UnexpectedToken,
                    "expected `&&`, `||` or `}`",
                ))
            }
        }
        if let Some(t) = self.peek() {
            return Err(self.err(
                t.span.start,
                ErrorKind::TrailingText,
                "unexpected text after the closing `}`",
            ));
        }
        Ok(e)
    }

    fn or(&mut self) -> Result<JsonExpr, ParseError> {
        let start = self.peek().map_or(0, |t| t.span.start);
        let mut items = vec![self.and()?];
        while self.peek().is_some_and(|t| t.tok == Tok::OrOr) {
            self.next();
            items.push(self.and()?);
        }
        Ok(self.collapse(items, start, JsonExpr::Or))
    }

    fn and(&mut self) -> Result<JsonExpr, ParseError> {
        let start = self.peek().map_or(0, |t| t.span.start);
        let mut items = vec![self.primary()?];
        while self.peek().is_some_and(|t| t.tok == Tok::AndAnd) {
            self.next();
            items.push(self.primary()?);
        }
        Ok(self.collapse(items, start, JsonExpr::And))
    }

    fn collapse(
        &self,
        mut items: Vec<JsonExpr>,
        start: usize,
        make: fn(Vec<JsonExpr>, Span) -> JsonExpr,
    ) -> JsonExpr {
        if items.len() == 1 {
            if let Some(e) = items.pop() {
                return e;
            }
        }
        let end = self
            .toks
            .get(self.i.saturating_sub(1))
            .map_or(start, |t| t.span.end);
        make(items, Span::new(start, end))
    }

    fn primary(&mut self) -> Result<JsonExpr, ParseError> {
        let Some(t) = self.next() else {
            return Err(self.err(
                self.end(),
                ErrorKind::ExpectedCondition,
                "expected a condition, found the end of the pattern",
            ));
        };
        match t.tok {
            Tok::LParen => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.err(
                        t.span.start,
                        ErrorKind::TooDeep,
                        "parentheses nested too deeply",
                    ));
                }
                if self.peek().is_some_and(|n| n.tok == Tok::RParen) {
                    return Err(self.err(t.span.start, ErrorKind::Empty, "empty parentheses"));
                }
                let e = self.or()?;
                self.depth -= 1;
                match self.next() {
                    Some(Token {
                        tok: Tok::RParen, ..
                    }) => Ok(e),
                    None
                    | Some(Token {
                        tok: Tok::RBrace, ..
                    }) => Err(self.err(
                        t.span.start,
                        ErrorKind::Unbalanced,
                        "unbalanced parentheses: this `(` is never closed",
                    )),
                    Some(n) => Err(self.err(
                        n.span.start,
                        ErrorKind::UnexpectedToken,
                        "expected `&&`, `||` or `)`",
                    )),
                }
            }
            Tok::Selector(selector) => {
                if selector.wildcard().is_some() {
                    self.wildcards += 1;
                    if self.wildcards > MAX_WILDCARD_SELECTORS {
                        return Err(self.err(
                            t.span.start,
                            ErrorKind::TooManyWildcards,
                            format!("a filter pattern may hold at most {MAX_WILDCARD_SELECTORS} wildcard selectors"),
                        ));
                    }
                }
                self.condition(selector, t.span)
            }
            Tok::AndAnd | Tok::OrOr => Err(self.err(
                t.span.start,
                ErrorKind::DanglingOperator,
                "dangling operator: expected a condition before it",
            )),
            Tok::RParen | Tok::RBrace => Err(self.err(
                t.span.start,
                ErrorKind::ExpectedCondition,
                "expected a condition (`$.field …` or `(`) here",
            )),
            Tok::Op(_) => Err(self.err(
                t.span.start,
                ErrorKind::ExpectedCondition,
                "expected a selector such as `$.field` before the operator",
            )),
            _ => Err(self.err(
                t.span.start,
                ErrorKind::ExpectedCondition,
                "expected a selector such as `$.field` (JSON selectors start with `$.`)",
            )),
        }
    }

    fn condition(
        &mut self,
        selector: crate::ast::Selector,
        sel_span: Span,
    ) -> Result<JsonExpr, ParseError> {
        let Some(t) = self.next() else {
            return Err(self.err(
                self.end(),
                ErrorKind::ExpectedOperator,
                "expected an operator after the selector",
            ));
        };
        let test = match t.tok {
            Tok::Op(op) => Test::Compare(op, self.value(op, true)?),
            Tok::Word(ref w) if w.eq_ignore_ascii_case("IS") => {
                let n = self.next();
                match n.as_ref().map(|n| &n.tok) {
                    Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NULL") => Test::IsNull,
                    Some(Tok::Word(w)) if w.eq_ignore_ascii_case("TRUE") => Test::IsTrue,
                    Some(Tok::Word(w)) if w.eq_ignore_ascii_case("FALSE") => Test::IsFalse,
                    _ => {
                        let at = n.map_or(self.end(), |n| n.span.start);
                        return Err(self.err(at, ErrorKind::BadKeyword, "expected NULL, TRUE or FALSE after IS"));
                    }
                }
            }
            Tok::Word(ref w) if w.eq_ignore_ascii_case("NOT") => {
                let n = self.next();
                match n.as_ref().map(|n| &n.tok) {
                    Some(Tok::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => Test::NotExists,
                    _ => {
                        let at = n.map_or(self.end(), |n| n.span.start);
                        return Err(self.err(at, ErrorKind::BadKeyword, "expected EXISTS after NOT"));
                    }
                }
            }
            _ => {
                return Err(self.err(
                    t.span.start, ErrorKind::ExpectedOperator,
                    "expected an operator (`=`, `!=`, `<`, `>`, `<=`, `>=`, `IS`, `NOT EXISTS`) after the selector",
                ))
            }
        };
        let end = self
            .toks
            .get(self.i.saturating_sub(1))
            .map_or(sel_span.end, |t| t.span.end);
        Ok(JsonExpr::Cond(Condition {
            selector,
            test,
            span: Span::new(sel_span.start, end),
        }))
    }

    /// The value after an operator. `json` allows the unquoted literals `true`, `false`, `null`
    /// (they mean the JSON values; quoted they are strings).
    fn value(&mut self, op: CmpOp, json: bool) -> Result<Value, ParseError> {
        let Some(t) = self.next() else {
            return Err(self.err(
                self.end(),
                ErrorKind::ExpectedValue,
                "expected a value after the operator",
            ));
        };
        let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        let v = match t.tok {
            Tok::Quoted(s) => Value::Str(Glob::new(&s)),
            Tok::Word(w) => match w.as_str() {
                _ if is_number(&w) => Value::Number(w.parse::<f64>().unwrap_or(0.0)),
                "true" if json => Value::Bool(true),
                "false" if json => Value::Bool(false),
                "null" if json => Value::Null,
                _ if json => {
                    if let Some((i, c)) = w.char_indices().find(|(_, c)| must_quote(*c)) {
                        return Err(self.err(
                            t.span.start + i,
                            ErrorKind::MustQuote,
                            format!("`{c}` in a value: quote the value (\"…\")"),
                        ));
                    }
                    Value::Str(Glob::new(&w))
                }
                _ => Value::Str(Glob::new(&w)),
            },
            Tok::Regex(r) => Value::Regex(r),
            Tok::Op(_) => {
                return Err(self.err(t.span.start, ErrorKind::UnknownOperator, "unknown operator"))
            }
            _ => {
                return Err(self.err(
                    t.span.start,
                    ErrorKind::ExpectedValue,
                    "expected a value after the operator",
                ))
            }
        };
        if ordering && !matches!(v, Value::Number(_)) {
            return Err(self.err(
                t.span.start,
                ErrorKind::ExpectedNumber,
                "`<`, `>`, `<=` and `>=` need a number",
            ));
        }
        Ok(v)
    }

    fn delimited(&mut self) -> Result<Delimited, ParseError> {
        let open = self.next().map(|t| t.span.start).unwrap_or(0);
        // Every field's name, so that a condition may name a field defined after it.
        let names: Vec<String> = self
            .toks
            .windows(2)
            .filter_map(|w| match (&w[0].tok, &w[1].tok) {
                (Tok::LBracket | Tok::Comma, Tok::Word(n)) => Some(n.clone()),
                _ => None,
            })
            .collect();
        let mut fields: Vec<Field> = Vec::new();
        let mut conditions = Vec::new();
        loop {
            let Some(t) = self.next() else {
                return Err(self.err(
                    open,
                    ErrorKind::Unbalanced,
                    "unbalanced brackets: this `[` is never closed",
                ));
            };
            match t.tok {
                Tok::Word(ref w) if w == "..." => fields.push(Field::Ellipsis(t.span)),
                Tok::Word(ref w) if is_field_name(w) => {
                    if fields
                        .iter()
                        .any(|f| matches!(f, Field::Named(n, _) if n == w))
                    {
                        return Err(self.err(
                            t.span.start,
                            ErrorKind::DuplicateField,
                            format!("duplicate field name `{w}`"),
                        ));
                    }
                    fields.push(Field::Named(w.clone(), t.span));
                    if self.peek().is_some_and(|n| matches!(n.tok, Tok::Op(_))) {
                        let own = fields.len() - 1;
                        conditions.push(self.delim_or(&names, Some(own))?);
                    }
                }
                Tok::RBracket if fields.is_empty() => {
                    return Err(self.err(
                        t.span.start,
                        ErrorKind::Empty,
                        "empty space-delimited pattern",
                    ))
                }
                _ => {
                    return Err(self.err(
                        t.span.start,
                        ErrorKind::UnexpectedToken,
                        "expected a field name (letters, digits, `_`) or `...`",
                    ))
                }
            }
            match self.next() {
                Some(Token {
                    tok: Tok::Comma, ..
                }) => {}
                Some(Token {
                    tok: Tok::RBracket, ..
                }) => break,
                None => {
                    return Err(self.err(
                        open,
                        ErrorKind::Unbalanced,
                        "unbalanced brackets: this `[` is never closed",
                    ))
                }
                Some(n) => {
                    return Err(self.err(
                        n.span.start,
                        ErrorKind::UnexpectedToken,
                        "expected `,` or `]`",
                    ))
                }
            }
        }
        if let Some(t) = self.peek() {
            return Err(self.err(
                t.span.start,
                ErrorKind::TrailingText,
                "unexpected text after the closing `]`",
            ));
        }
        Ok(Delimited { fields, conditions })
    }

    fn delim_or(&mut self, names: &[String], own: Option<usize>) -> Result<DelimExpr, ParseError> {
        let mut items = vec![self.delim_and(names, own)?];
        while self.peek().is_some_and(|t| t.tok == Tok::OrOr) {
            self.next();
            items.push(self.delim_and(names, None)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            DelimExpr::Or(items)
        })
    }

    fn delim_and(&mut self, names: &[String], own: Option<usize>) -> Result<DelimExpr, ParseError> {
        let mut items = vec![self.delim_cmp(names, own)?];
        while self.peek().is_some_and(|t| t.tok == Tok::AndAnd) {
            self.next();
            items.push(self.delim_cmp(names, None)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            DelimExpr::And(items)
        })
    }

    /// `op value` for the slot's own field, or `name op value` after `&&` / `||`, where
    /// `name` is any field of the pattern (the docs are silent; we allow any field).
    fn delim_cmp(&mut self, names: &[String], own: Option<usize>) -> Result<DelimExpr, ParseError> {
        let (field, start) = match own {
            Some(i) => (i, self.peek().map_or(0, |t| t.span.start)),
            None => match self.next() {
                Some(Token {
                    tok: Tok::Word(w),
                    span,
                }) => {
                    let idx = names.iter().position(|n| *n == w && n != "...");
                    match idx {
                        Some(i) => (i, span.start),
                        None => {
                            return Err(self.err(
                                span.start,
                                ErrorKind::UnknownField,
                                format!("unknown field `{w}`"),
                            ))
                        }
                    }
                }
                other => {
                    let at = other.map_or(self.end(), |t| t.span.start);
                    return Err(self.err(at, ErrorKind::UnexpectedToken, "expected a field name"));
                }
            },
        };
        let op = match self.next() {
            Some(Token {
                tok: Tok::Op(op), ..
            }) => op,
            other => {
                let at = other.map_or(self.end(), |t| t.span.start);
                return Err(self.err(
                    at,
                    ErrorKind::ExpectedOperator,
                    "expected a comparison operator",
                ));
            }
        };
        let value = self.value(op, false)?;
        let end = self.toks.get(self.i - 1).map_or(start, |t| t.span.end);
        Ok(DelimExpr::Cmp(field, op, value, Span::new(start, end)))
    }
}

/// Characters an unquoted JSON value may not hold. The older "Filter and pattern syntax" page:
/// "Strings that have unicode and other characters such as '@,' '$,' '\\,' etc. must be enclosed
/// in double quotes to be valid." The current page asks for quotes around anything but
/// alphanumerics and `_`, yet its own `{ $.sourceIPAddress != 123.123.* }` and the CIS
/// Benchmark's `$.eventSource = kms.amazonaws.com` are unquoted, so we reject only the characters
/// the docs name (chosen; space-delimited values are not checked, the docs are silent there).
fn must_quote(c: char) -> bool {
    matches!(c, '@' | '$' | '\\') || !c.is_ascii()
}

fn is_field_name(w: &str) -> bool {
    w.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// An unquoted number: `[+-]?digits(.digits)?([eE][+-]?digits)?`. AWS "Filter pattern syntax …",
/// section "Using filter patterns to match terms in JSON log events", numeric values: "You can
/// use integers that contain plus ("+") or minus ("-") symbols and follow scientific notation."
pub(crate) fn is_number(w: &str) -> bool {
    let b = w.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > s
    };
    if !digits(&mut i) {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Selector, Step};

    #[test]
    fn json_ast_with_spans() {
        let p = "{ $.a = x || $.b.c[1] NOT EXISTS && $.d > 2 }";
        let Ast::Json(JsonExpr::Or(items, span)) = parse_ast(p).unwrap() else {
            panic!("expected ||")
        };
        assert_eq!(span, Span::new(2, 43));
        assert_eq!(items.len(), 2);
        let JsonExpr::Cond(c) = &items[0] else {
            panic!()
        };
        assert_eq!(&p[c.span.start..c.span.end], "$.a = x");
        let JsonExpr::And(and, _) = &items[1] else {
            panic!("expected &&")
        };
        let JsonExpr::Cond(c) = &and[0] else { panic!() };
        assert_eq!(
            c.selector,
            Selector {
                steps: vec![Step::Key("b".into()), Step::Key("c".into()), Step::Index(1)]
            }
        );
        assert_eq!(c.test, Test::NotExists);
        assert_eq!(c.selector.to_text(), "$.b.c[1]");
    }

    #[test]
    fn forms() {
        assert!(matches!(parse_ast("").unwrap(), Ast::MatchAll(_)));
        assert!(matches!(parse_ast("  \" \"  ").unwrap(), Ast::MatchAll(_)));
        assert!(matches!(parse_ast("%a%").unwrap(), Ast::Regex(_)));
        assert!(matches!(parse_ast(" [a]").unwrap(), Ast::Delimited(_)));
        let Ast::Terms(t) = parse_ast("ERROR ?\"a b\" -x").unwrap() else {
            panic!()
        };
        assert_eq!(
            t.iter()
                .map(|t| (t.kind, t.text.as_str(), t.quoted))
                .collect::<Vec<_>>(),
            vec![
                (TermKind::Required, "ERROR", false),
                (TermKind::Optional, "a b", true),
                (TermKind::Excluded, "x", false)
            ]
        );
        assert_eq!(t[1].span, Span::new(6, 12));
    }

    #[test]
    fn numbers() {
        for (w, ok) in [
            ("1", true),
            ("-1.5", true),
            ("+1000", true),
            ("+1e+3", true),
            ("+", false),
            ("+-1", false),
            ("--1", false),
            ("1e3", true),
            ("1E-3", true),
            ("1.", false),
            (".5", false),
            ("-", false),
            ("1e", false),
            ("inf", false),
            ("0x1", false),
        ] {
            assert_eq!(is_number(w), ok, "{w}");
        }
    }
}
