//! The evaluator: does a parsed pattern match a log event?
//!
//! JSON patterns are evaluated against a `serde_json::Value` without allocating. Term, regex
//! and space-delimited patterns are evaluated against message text.
//!
//! Semantics (AWS "Using filter patterns to match terms in JSON log events" where it says so,
//! our choice where it is silent):
//! - a selector that does not resolve (missing key, index out of range, key step on a non-object,
//!   index step on a non-array) makes every test false except `NOT EXISTS`;
//! - a selector that lands on an object or array matches neither `=` nor `!=` (nor `<`…);
//! - `=` with a string value (wildcards allowed) matches only JSON strings, exactly and
//!   case-sensitively; with an unquoted number only JSON numbers, compared numerically; with
//!   unquoted `true`/`false`/`null` only that JSON literal; with `%regex%` strings the regex
//!   finds a match in (chosen: values are not converted between types);
//! - except that a value of stars only (`*`, `"*"`) matches numbers as well as strings: AWS
//!   "Filter pattern syntax …", JSON section, on numbers: "Use the asterisk ("*") as a wild card
//!   to match numbers", and the older page's `{ $.latency = * }` example publishes the number 50
//!   (chosen, docs silent: it does not match `true`, `false` or `null`, and a value with text
//!   besides the stars, such as `4*`, still matches strings only);
//! - `!=` matches a present scalar (string, number, boolean, null) for which `=` does not;
//! - `<` `>` `<=` `>=` match only JSON numbers;
//! - `IS NULL` / `IS TRUE` / `IS FALSE` match exactly JSON `null` / `true` / `false`;
//! - a wildcard step (`[*]`, `.*`) selects every element of an array and every member of an
//!   object (same page, "Wildcard selector": "select any array element or any JSON object
//!   field"), and a condition on such a selector holds when it holds for one of the values
//!   selected: the docs' `{ $.arrayKey[*] = %val.{2}% }` matches because the element "value"
//!   does, and `{ $.* = %111\.111\.111\.1[0-9]{1,2}% }` because the field `sourceIPAddress`
//!   does. Chosen where the docs are silent: `!=`, `<`…, `IS` are existential in the same way
//!   (`$.a[*] != x` holds when some element is a scalar other than `x`), `NOT EXISTS` holds when
//!   the selector selects nothing at all, and both notations select both arrays' elements and
//!   objects' members.
//!
//! Term patterns (AWS "Using filter patterns to match terms in unstructured log events"): a term
//! or phrase matches where it occurs as a case-sensitive substring (chosen: CloudWatch does not
//! document word boundaries). All required terms must occur and no excluded term may occur.
//! Optional `?` terms count only in a pattern made of nothing else, where at least one of them
//! must occur: "If you combine "?" with other filter patterns, all question mark terms will be
//! ignored" (same page, "Example: Match optional terms").

use std::collections::HashSet;

use serde_json::Value as Json;

use crate::ast::{
    CmpOp, DelimExpr, Delimited, Field, JsonExpr, Selector, Step, Term, TermKind, Test, Value,
};
use crate::parse::is_number;

/// Follows `sel` (a selector without a wildcard) from the event root.
pub(crate) fn resolve<'v>(root: &'v Json, sel: &Selector) -> Option<&'v Json> {
    let mut cur = root;
    for step in &sel.steps {
        cur = match (step, cur) {
            (Step::Key(k), Json::Object(m)) => m.get(k.as_str())?,
            (Step::Index(i), Json::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Whether `f` holds for one of the values `steps` select below `cur` (several when a step is a
/// wildcard); stops at the first. Allocates nothing.
pub(crate) fn any_selected(cur: &Json, steps: &[Step], f: &mut dyn FnMut(&Json) -> bool) -> bool {
    let Some((step, rest)) = steps.split_first() else {
        return f(cur);
    };
    match (step, cur) {
        (Step::Key(k), Json::Object(m)) => {
            m.get(k.as_str()).is_some_and(|v| any_selected(v, rest, f))
        }
        (Step::Index(i), Json::Array(a)) => a.get(*i).is_some_and(|v| any_selected(v, rest, f)),
        (Step::Any, Json::Object(m)) => m.values().any(|v| any_selected(v, rest, f)),
        (Step::Any, Json::Array(a)) => a.iter().any(|v| any_selected(v, rest, f)),
        _ => false,
    }
}

/// Applies one test to what a selector resolved to (`None`: absent).
pub(crate) fn test_matches(test: &Test, found: Option<&Json>) -> bool {
    match test {
        Test::NotExists => found.is_none(),
        Test::IsNull => matches!(found, Some(Json::Null)),
        Test::IsTrue => matches!(found, Some(Json::Bool(true))),
        Test::IsFalse => matches!(found, Some(Json::Bool(false))),
        Test::Compare(op, value) => match found {
            None | Some(Json::Object(_)) | Some(Json::Array(_)) => false,
            Some(v) => compare(*op, value, v),
        },
    }
}

/// `v op value` for a present scalar `v`.
fn compare(op: CmpOp, value: &Value, v: &Json) -> bool {
    match op {
        CmpOp::Eq => equals(value, v),
        CmpOp::Ne => !equals(value, v),
        _ => match (value, v.as_f64()) {
            (Value::Number(n), Some(x)) if v.is_number() => ordered(op, x, *n),
            _ => false,
        },
    }
}

fn ordered(op: CmpOp, x: f64, n: f64) -> bool {
    match op {
        CmpOp::Lt => x < n,
        CmpOp::Gt => x > n,
        CmpOp::Le => x <= n,
        CmpOp::Ge => x >= n,
        CmpOp::Eq => x == n,
        CmpOp::Ne => x != n,
    }
}

fn equals(value: &Value, v: &Json) -> bool {
    match (value, v) {
        (Value::Str(g), Json::String(s)) => g.matches(s),
        (Value::Str(g), Json::Number(_)) => g.is_any(),
        (Value::Regex(r), Json::String(s)) => r.is_match(s),
        (Value::Number(n), Json::Number(x)) => x.as_f64() == Some(*n),
        (Value::Bool(b), Json::Bool(x)) => b == x,
        (Value::Null, Json::Null) => true,
        _ => false,
    }
}

/// A JSON pattern compiled for evaluation: the conditions of an `||` that test the same
/// selector share one lookup, and their exact-string `=` values one hash-set probe (so a CIS
/// pattern listing many event names costs about one field lookup per event).
#[derive(Debug, Clone)]
pub(crate) enum Program {
    All(Vec<Program>),
    Any(Vec<Program>),
    /// One selector; true if the value is one of `exact` or passes one of `tests` (for a
    /// selector with a wildcard: if one of the values selected does, or it selects nothing and
    /// a test is `NOT EXISTS`).
    Field {
        selector: Selector,
        wildcard: bool,
        exact: HashSet<String>,
        tests: Vec<Test>,
    },
}

impl Program {
    /// Compiles a JSON expression.
    pub(crate) fn new(expr: &JsonExpr) -> Program {
        match expr {
            JsonExpr::And(items, _) => Program::All(items.iter().map(Program::new).collect()),
            JsonExpr::Cond(c) => Program::field(&c.selector, std::slice::from_ref(&c.test)),
            JsonExpr::Or(items, _) => {
                let mut out: Vec<Program> = Vec::new();
                let mut by_selector: Vec<(&Selector, Vec<Test>)> = Vec::new();
                for item in items {
                    match item {
                        JsonExpr::Cond(c) => {
                            match by_selector.iter_mut().find(|(s, _)| **s == c.selector) {
                                Some((_, tests)) => tests.push(c.test.clone()),
                                None => by_selector.push((&c.selector, vec![c.test.clone()])),
                            }
                        }
                        other => out.push(Program::new(other)),
                    }
                }
                let mut fields: Vec<Program> = by_selector
                    .into_iter()
                    .map(|(s, t)| Program::field(s, &t))
                    .collect();
                fields.append(&mut out);
                if fields.len() == 1 {
                    fields.pop().unwrap_or(Program::Any(Vec::new()))
                } else {
                    Program::Any(fields)
                }
            }
        }
    }

    fn field(selector: &Selector, tests: &[Test]) -> Program {
        let mut exact = HashSet::new();
        let mut rest = Vec::new();
        for t in tests {
            match t {
                Test::Compare(CmpOp::Eq, Value::Str(g)) if g.exact().is_some() => {
                    exact.insert(g.exact().unwrap_or_default().to_string());
                }
                other => rest.push(other.clone()),
            }
        }
        Program::Field {
            selector: selector.clone(),
            wildcard: selector.wildcard().is_some(),
            exact,
            tests: rest,
        }
    }

    /// Whether the event matches.
    pub(crate) fn matches(&self, event: &Json) -> bool {
        match self {
            Program::All(items) => items.iter().all(|p| p.matches(event)),
            Program::Any(items) => items.iter().any(|p| p.matches(event)),
            Program::Field {
                selector,
                wildcard: true,
                exact,
                tests,
            } => {
                let hit = &mut |v: &Json| {
                    matches!(v, Json::String(s) if exact.contains(s.as_str()))
                        || tests.iter().any(|t| test_matches(t, Some(v)))
                };
                any_selected(event, &selector.steps, hit)
                    || (tests.contains(&Test::NotExists)
                        && !any_selected(event, &selector.steps, &mut |_| true))
            }
            Program::Field {
                selector,
                wildcard: false,
                exact,
                tests,
            } => {
                let found = resolve(event, selector);
                if let Some(Json::String(s)) = found {
                    if exact.contains(s.as_str()) {
                        return true;
                    }
                }
                tests.iter().any(|t| test_matches(t, found))
            }
        }
    }
}

/// Whether the `?` terms of a term pattern take part: only when there is no other kind of term.
pub(crate) fn optional_terms_count(terms: &[Term]) -> bool {
    terms.iter().all(|t| t.kind == TermKind::Optional)
}

/// Evaluates a term pattern against message text.
pub(crate) fn eval_terms(terms: &[Term], text: &str) -> bool {
    if optional_terms_count(terms) {
        return terms.is_empty() || terms.iter().any(|t| text.contains(t.text.as_str()));
    }
    terms.iter().all(|t| match t.kind {
        TermKind::Required => text.contains(t.text.as_str()),
        TermKind::Excluded => !text.contains(t.text.as_str()),
        TermKind::Optional => true,
    })
}

/// Splits a message into space-delimited fields: runs of non-blank characters, where
/// `"…"` and `[…]` each form one field (without their delimiters), per AWS "Using filter
/// patterns to match terms in space-delimited log events".
fn split_fields(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        match close {
            Some(c) => {
                let s = i + 1;
                let e = b[s..]
                    .iter()
                    .position(|&x| x == c)
                    .map_or(b.len(), |p| s + p);
                out.push(&text[s..e]);
                i = e + 1;
            }
            None => {
                let s = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                out.push(&text[s..i]);
            }
        }
    }
    out
}

/// Evaluates a space-delimited pattern against message text.
pub(crate) fn eval_delimited(d: &Delimited, text: &str) -> bool {
    let tokens = split_fields(text);
    let mut binding: Vec<&str> = vec![""; d.fields.len()];
    bind(d, &tokens, 0, 0, &mut binding)
}

fn bind<'t>(
    d: &Delimited,
    tokens: &[&'t str],
    fi: usize,
    ti: usize,
    binding: &mut [&'t str],
) -> bool {
    match d.fields.get(fi) {
        None => ti == tokens.len() && d.conditions.iter().all(|c| eval_delim(c, binding)),
        Some(Field::Ellipsis(_)) => {
            (ti..=tokens.len()).any(|k| bind(d, tokens, fi + 1, k, binding))
        }
        Some(Field::Named(..)) => match tokens.get(ti) {
            Some(tok) => {
                binding[fi] = tok;
                bind(d, tokens, fi + 1, ti + 1, binding)
            }
            None => false,
        },
    }
}

fn eval_delim(e: &DelimExpr, binding: &[&str]) -> bool {
    match e {
        DelimExpr::And(items) => items.iter().all(|x| eval_delim(x, binding)),
        DelimExpr::Or(items) => items.iter().any(|x| eval_delim(x, binding)),
        DelimExpr::Cmp(field, op, value, _) => {
            let tok = binding.get(*field).copied().unwrap_or("");
            let eq = || match value {
                Value::Str(g) => g.matches(tok),
                Value::Regex(r) => r.is_match(tok),
                Value::Number(n) => is_number(tok) && tok.parse::<f64>().ok() == Some(*n),
                Value::Bool(_) | Value::Null => false,
            };
            match op {
                CmpOp::Eq => eq(),
                CmpOp::Ne => !eq(),
                _ => match value {
                    Value::Number(n) if is_number(tok) => {
                        tok.parse::<f64>().is_ok_and(|x| ordered(*op, x, *n))
                    }
                    _ => false,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split_fields;

    #[test]
    fn splits_fields_like_the_docs() {
        // AWS "Using filter patterns to match terms in space-delimited log events", example log.
        let line = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
        assert_eq!(
            split_fields(line),
            vec![
                "127.0.0.1",
                "-",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /apache_pb.gif HTTP/1.0",
                "200",
                "1534"
            ]
        );
        assert_eq!(split_fields("  a   \"b"), vec!["a", "b"]);
    }
}
