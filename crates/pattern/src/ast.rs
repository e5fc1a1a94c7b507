//! The abstract syntax tree of a filter pattern, with byte spans into the pattern text.
//!
//! One tree type per pattern form CloudWatch Logs knows: the match-everything pattern, term
//! patterns for unstructured text, a standalone `%regex%`, JSON patterns (`{ … }`), and
//! space-delimited patterns (`[ … ]`).

use crate::glob::Glob;
use crate::regexp::Regex;

/// A half-open byte range `start..end` into the pattern text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The same range in a new text where the byte at `from` (at or before this range) now
    /// stands at `to`.
    pub(crate) fn relocated(self, from: usize, to: usize) -> Span {
        Span::new(self.start - from + to, self.end - from + to)
    }
}

/// The root of a parsed filter pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    /// The empty pattern, or `" "`: matches every event.
    MatchAll(Span),
    /// Terms and phrases matched against the raw message text.
    Terms(Vec<Term>),
    /// A standalone `%regex%` matched against the raw message text.
    Regex(Regex),
    /// A JSON pattern `{ … }`.
    Json(JsonExpr),
    /// A space-delimited pattern `[ … ]`.
    Delimited(Delimited),
}

/// How a term takes part in a term pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    /// `ERROR` or `"an exact phrase"`: must appear.
    Required,
    /// `?ERROR`: at least one of the optional terms must appear.
    Optional,
    /// `-ERROR`: must not appear.
    Excluded,
}

/// One term of a term pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// Required, optional or excluded.
    pub kind: TermKind,
    /// The text to look for (quotes removed, escapes resolved).
    pub text: String,
    /// Whether it was written as a `"quoted phrase"`.
    pub quoted: bool,
    /// Where the term (with its `?`/`-` prefix) is in the pattern.
    pub span: Span,
}

/// A boolean expression of a JSON pattern. Parentheses are not kept as nodes; nested `&&`
/// (or `||`) chains are kept as written.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonExpr {
    /// All must hold (`&&`).
    And(Vec<JsonExpr>, Span),
    /// One must hold (`||`).
    Or(Vec<JsonExpr>, Span),
    /// One condition on one selector.
    Cond(Condition),
}

impl JsonExpr {
    /// Where the expression is in the pattern.
    pub fn span(&self) -> Span {
        match self {
            JsonExpr::And(_, span) | JsonExpr::Or(_, span) => *span,
            JsonExpr::Cond(c) => c.span,
        }
    }

    /// Relocates every span for a new pattern text in which the expression's text, which
    /// started at byte `from`, starts at byte `to` (see [`Span::relocated`]).
    pub(crate) fn relocate(&mut self, from: usize, to: usize) {
        match self {
            JsonExpr::And(items, span) | JsonExpr::Or(items, span) => {
                *span = span.relocated(from, to);
                items.iter_mut().for_each(|i| i.relocate(from, to));
            }
            JsonExpr::Cond(c) => {
                c.span = c.span.relocated(from, to);
                if let Test::Compare(_, Value::Regex(r)) = &mut c.test {
                    r.relocate(from, to);
                }
            }
        }
    }
}

/// `selector test`, e.g. `$.eventName = CreateTrail` or `$.a NOT EXISTS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// What part of the event is tested.
    pub selector: Selector,
    /// The test applied to it.
    pub test: Test,
    /// The whole condition.
    pub span: Span,
}

/// A property selector such as `$.userIdentity.type`, `$.items[0].id`, `$.['a.b']` or, with a
/// wildcard, `$.items[*].id` and `$.*`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selector {
    /// The path below the root `$`; never empty, and (CloudWatch's quota) with at most one
    /// [`Step::Any`].
    pub steps: Vec<Step>,
}

impl Selector {
    /// The position of the wildcard step, if the selector has one.
    pub fn wildcard(&self) -> Option<usize> {
        self.steps.iter().position(|s| *s == Step::Any)
    }

    /// The selector written in canonical form (`$.a.b[0]`, `$.['a.b']`, `$.a[*]`, `$.*`).
    pub fn to_text(&self) -> String {
        let mut s = String::from("$");
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                Step::Any if i == 0 => s.push_str(".*"),
                Step::Any => s.push_str("[*]"),
                Step::Key(k) if is_plain_key(k) => {
                    s.push('.');
                    s.push_str(k);
                }
                Step::Key(k) => {
                    s.push_str(".['");
                    s.push_str(k);
                    s.push_str("']");
                }
                Step::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        s
    }
}

/// Whether a key can be written after a plain `.` in a selector.
pub(crate) fn is_plain_key(k: &str) -> bool {
    !k.is_empty() && k.chars().all(crate::lexer::is_key_char)
}

/// One step of a selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
    /// `[*]` or `.*`: every element of an array and every member of an object (both notations
    /// mean the same; see the crate docs).
    Any,
}

/// The test of a JSON condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `= != < > <= >=` against a value.
    Compare(CmpOp, Value),
    /// `IS NULL`: the field is JSON `null`.
    IsNull,
    /// `IS TRUE`: the field is JSON `true`.
    IsTrue,
    /// `IS FALSE`: the field is JSON `false`.
    IsFalse,
    /// `NOT EXISTS`: the field is absent.
    NotExists,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string, possibly with `*` wildcards, quoted or not.
    Str(Glob),
    /// A number (written unquoted).
    Number(f64),
    /// `true` / `false` (unquoted).
    Bool(bool),
    /// `null` (unquoted).
    Null,
    /// `%regex%`.
    Regex(Regex),
}

/// A space-delimited pattern: one entry per whitespace-separated field of the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Delimited {
    /// The fields, in order.
    pub fields: Vec<Field>,
    /// Conditions on the named fields, all of which must hold.
    pub conditions: Vec<DelimExpr>,
}

/// One field of a space-delimited pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `...`: any number of message fields.
    Ellipsis(Span),
    /// A named field taking exactly one message field.
    Named(String, Span),
}

/// A condition of a space-delimited pattern over its named fields.
#[derive(Debug, Clone, PartialEq)]
pub enum DelimExpr {
    /// `&&`
    And(Vec<DelimExpr>),
    /// `||`
    Or(Vec<DelimExpr>),
    /// `field op value`; `field` is an index into [`Delimited::fields`].
    Cmp(usize, CmpOp, Value, Span),
}
