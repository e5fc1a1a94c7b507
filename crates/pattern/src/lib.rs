//! CloudWatch Logs filter patterns, as a library: parse a pattern to an AST with byte spans
//! ([`parse`]), evaluate it against log events ([`FilterPattern::matches`]), and decide whether
//! one pattern matches every event another one matches ([`covers`]).
//!
//! ```
//! use trailwatch_pattern::{covers, parse, Coverage};
//!
//! let cis = parse("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) }").unwrap();
//! let mine = parse("{$.eventName = *Trail}").unwrap();
//! assert!(matches!(covers(&mine, &cis), Coverage::Covers));
//!
//! let err = parse("{ $.eventName == CreateTrail }").unwrap_err();
//! assert_eq!(err.offset(), 14);
//! ```
//!
//! # Where the AWS documentation is silent
//!
//! The AWS pages ("Filter pattern syntax for metric filters, subscription filters, filter log
//! events, and Live Tail" and the older "Filter and pattern syntax") leave some behaviour open.
//! What this crate does, and why:
//!
//! - **Types are not converted.** `= "5"` matches only the string, `= 5` only the number
//!   (compared numerically, so `5.0` matches), `= true` / `= null` only those JSON literals
//!   (quoted they are strings); `<` `>` `<=` `>=` need a number on both sides. The one
//!   exception is documented: a value of stars only (`= *`, `= "*"`) matches numbers as well as
//!   strings; we chose that it does not match `true`, `false` or `null`, and that `= 4*` does
//!   not match the number 400.
//! - **`!=`** matches a present scalar (string, number, boolean, `null`) for which `=` would
//!   not; a missing field, an object or an array matches neither `=` nor `!=`.
//! - **Wildcards** `*` are allowed anywhere in a string value (quoted or not), not only at the
//!   ends (the older page said `Ev*ent` matches only the literal `Ev*ent`; the current page
//!   just says "Use the asterisk ("*") as a wild card to match text"); a literal `*` cannot be
//!   written, though [`FilterPattern::and_exact`] can build one. Backslash escapes the next
//!   character in quoted strings. Numbers may carry a `+` or `-` sign (documented).
//! - **Unquoted values** in JSON patterns may not hold `@`, `$`, `\` or non-ASCII characters
//!   (the older page names these; the error is [`ErrorKind::MustQuote`]). Other punctuation
//!   (`.`, `-`, `:`, `/`, …) is accepted unquoted although the current page asks for quotes
//!   around anything but alphanumerics and `_`: its own `123.123.*` example and the CIS
//!   Benchmark's `kms.amazonaws.com` are unquoted. Space-delimited values are not checked.
//! - **Keywords** (`IS`, `NULL`, `TRUE`, `FALSE`, `NOT`, `EXISTS`) are case-insensitive.
//! - **Selectors**: `$.a.b`, `$.a[0]`, `$.a[0][1]`, `$.['a.b']`, `$['a.b']`, `$.["a.b"]`, and
//!   the documented wildcards `$.a[*]`, `$.*` (one per selector, three selectors per pattern);
//!   `$` alone is rejected. Parentheses nest at most 64 deep.
//! - **Wildcard selectors** select every element of an array and every member of an object,
//!   whichever of `[*]` and `.*` is written (the docs: "any array element or any JSON object
//!   field", without saying which notation does which). A condition holds when it holds for one
//!   value selected (the docs' `=` examples); we chose the same for `!=`, `<`…, `IS`, and that
//!   `NOT EXISTS` holds when nothing is selected.
//! - **Regexes** (`%…%`) may also contain a space (the CDK's own `regexValue` example needs it),
//!   match anywhere in the value unless anchored, and only match strings.
//! - **Terms** match as case-sensitive substrings of the message. `?optional` terms count only
//!   in a pattern of `?` terms alone (at least one must occur); beside required or `-excluded`
//!   terms they are ignored, as the page documents ("If you combine "?" with other filter
//!   patterns, all question mark terms will be ignored"). Any quoted blank phrase (`" "`,
//!   `""`) matches everything, as does a blank pattern.
//! - **Space-delimited** patterns: `"…"` and `[…]` in the message are one field each; a field
//!   condition after `&&` / `||` may name any field of the pattern; `...` may appear anywhere.
//! - **Non-JSON patterns on a JSON event** ([`FilterPattern::matches`]) match the event's
//!   compact JSON text, which is how CloudTrail delivers it to CloudWatch Logs.
//! - **Coverage** ([`covers`]) is decided over JSON events, wildcard selectors included, and
//!   `%regex%` conditions wherever the required pattern allows their selector finitely many
//!   exact values; see that function for when it answers `Unknown`.

pub mod ast;
mod cover;
mod error;
mod eval;
mod event;
pub mod glob;
mod lexer;
mod parse;
pub mod regexp;

use std::cell::RefCell;

pub use ast::Ast;
use ast::{CmpOp, Condition, JsonExpr, Span, Test, Value};
pub use cover::{covers, Coverage};
pub use error::{ErrorKind, ParseError};
use glob::Glob;

/// A parsed filter pattern, ready to evaluate.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    ast: Ast,
    /// The evaluation program of a JSON pattern.
    program: Option<eval::Program>,
}

/// Parses a filter pattern as CloudWatch Logs accepts it for metric filters.
pub fn parse(pattern: &str) -> Result<FilterPattern, ParseError> {
    let ast = parse::parse_ast(pattern)?;
    let program = match &ast {
        Ast::Json(e) => Some(eval::Program::new(e)),
        _ => None,
    };
    Ok(FilterPattern {
        source: pattern.to_string(),
        ast,
        program,
    })
}

thread_local! {
    /// Reused buffer for the compact-JSON text of an event (term and delimited patterns).
    static TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl FilterPattern {
    /// The pattern text as given to [`parse`] (for [`FilterPattern::and_exact`], the text it
    /// writes).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// This pattern with one more condition: `selector` (such as `"$.userIdentity.arn"`) holds
    /// exactly the string `value`, taken literally: a `*`, `"` or `\` in `value` is that
    /// character, not a wildcard or an escape. The result evaluates, and takes part in
    /// [`covers`], like the hand-written `{ (<self>) && <selector> = "<value>" }`, which is what
    /// its [`FilterPattern::source`] reads (with `"` and `\` escaped; a `*` there would be read
    /// as a wildcard if that text were parsed again, so keep the pattern, not its text).
    ///
    /// It models what a pattern's matches become once something downstream keeps one value of
    /// a field: an alarm on one value of a metric dimension the filter publishes from
    /// `selector`, or the records delivered for one account (`$.recipientAccountId`).
    ///
    /// The match-everything pattern gives `{ <selector> = "<value>" }`; term, regex and
    /// space-delimited patterns have no selectors and give an [`ErrorKind::NotJson`] error
    /// about this pattern's text. A `selector` that is not one property selector gives an error
    /// about the selector's text. CloudWatch's length and wildcard quotas are not applied: the
    /// result is a model, not a pattern to store.
    ///
    /// ```
    /// use trailwatch_pattern::{covers, parse, Coverage};
    ///
    /// let cis = parse("{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) }").unwrap();
    /// let seen = cis.and_exact("$.recipientAccountId", "111122223333").unwrap();
    /// let mine = parse(r#"{ $.eventName = *Trail && $.recipientAccountId = "111122223333" }"#);
    /// assert_eq!(covers(&mine.unwrap(), &seen), Coverage::Covers);
    /// ```
    pub fn and_exact(&self, selector: &str, value: &str) -> Result<FilterPattern, ParseError> {
        let sel = parse::parse_selector(selector)?;
        let sel_text = selector.trim();
        let quoted = format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""));
        let condition = |start: usize| {
            JsonExpr::Cond(Condition {
                selector: sel.clone(),
                test: Test::Compare(CmpOp::Eq, Value::Str(Glob::literal(value))),
                span: Span::new(start, start + sel_text.len() + " = ".len() + quoted.len()),
            })
        };
        let (source, expr) = match &self.ast {
            Ast::Json(e) => {
                let span = e.span();
                let inner = &self.source[span.start..span.end];
                let mut e = e.clone();
                e.relocate(span.start, "{ (".len());
                let cond = condition("{ (".len() + inner.len() + ") && ".len());
                let whole = Span::new("{ ".len(), cond.span().end);
                (
                    format!("{{ ({inner}) && {sel_text} = {quoted} }}"),
                    JsonExpr::And(vec![e, cond], whole),
                )
            }
            Ast::MatchAll(_) => (
                format!("{{ {sel_text} = {quoted} }}"),
                condition("{ ".len()),
            ),
            Ast::Terms(_) | Ast::Regex(_) | Ast::Delimited(_) => {
                return Err(ParseError::new(
                    &self.source,
                    0,
                    ErrorKind::NotJson,
                    "only a JSON pattern (or the match-everything pattern) takes a condition on a selector",
                ))
            }
        };
        Ok(FilterPattern {
            source,
            program: Some(eval::Program::new(&expr)),
            ast: Ast::Json(expr),
        })
    }

    /// The syntax tree.
    pub fn ast(&self) -> &Ast {
        &self.ast
    }

    /// Whether the pattern is a JSON pattern (`{ … }`).
    pub fn is_json(&self) -> bool {
        matches!(self.ast, Ast::Json(_))
    }

    /// Whether this pattern matches a JSON log event (a CloudTrail record). Non-JSON patterns
    /// are matched against the event's text as CloudTrail delivers it to CloudWatch Logs:
    /// compact JSON (`serde_json::to_string`).
    pub fn matches(&self, event: &serde_json::Value) -> bool {
        if let Some(p) = &self.program {
            return p.matches(event);
        }
        match &self.ast {
            Ast::MatchAll(_) => true,
            _ => TEXT.with(|buf| match buf.try_borrow_mut() {
                Ok(mut buf) => {
                    buf.clear();
                    self.matches_event_text(&mut buf, event)
                }
                Err(_) => self.matches_event_text(&mut Vec::new(), event),
            }),
        }
    }

    fn matches_event_text(&self, buf: &mut Vec<u8>, event: &serde_json::Value) -> bool {
        if serde_json::to_writer(&mut *buf, event).is_err() {
            return false;
        }
        std::str::from_utf8(buf).is_ok_and(|text| self.matches_text(text))
    }

    /// Whether this pattern matches a raw log message. JSON patterns parse the message as JSON
    /// first; a message that is not JSON does not match them.
    pub fn matches_text(&self, message: &str) -> bool {
        match &self.ast {
            Ast::MatchAll(_) => true,
            Ast::Terms(t) => eval::eval_terms(t, message),
            Ast::Regex(r) => r.is_match(message),
            Ast::Delimited(d) => eval::eval_delimited(d, message),
            Ast::Json(_) => {
                serde_json::from_str::<serde_json::Value>(message).is_ok_and(|v| self.matches(&v))
            }
        }
    }
}
