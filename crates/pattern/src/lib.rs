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
pub use cover::{covers, Coverage};
pub use error::ParseError;

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
    /// The pattern text as given to [`parse`].
    pub fn source(&self) -> &str {
        &self.source
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
