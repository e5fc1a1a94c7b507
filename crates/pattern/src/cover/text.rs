//! Coverage where one side is a text pattern (terms, standalone regex, space-delimited).
//!
//! Text patterns match the event's compact JSON text, which depends on far more than the
//! classes the JSON search works with, so coverage is only claimed when it can be proven by
//! substring containment:
//! - a JSON conjunction guarantees some substrings of the event text: `"key":` for every key
//!   on the path of a field it requires to be present, and `"key":"value"` (or the literal
//!   pieces of a wildcard value, with the quote on their anchored side) for string equality;
//! - a term pattern guarantees its required terms (and, when it has only optional terms,
//!   whatever all of them contain), and excludes its excluded terms; `?` terms beside other
//!   terms are ignored, as CloudWatch ignores them.
//!
//! Otherwise we look for a counterexample and answer `Unknown` if none is found.

use serde_json::Value as Json;

use crate::ast::{Ast, CmpOp, Condition, Step, Term, TermKind, Test, Value};
use crate::eval::optional_terms_count;
use crate::{Coverage, FilterPattern};

/// JSON-escapes `s` without the surrounding quotes (escaping is per character, so the escape
/// of a substring is a substring of the escape).
fn esc(s: &str) -> String {
    let q = Json::String(s.to_string()).to_string();
    q[1..q.len() - 1].to_string()
}

/// Substrings every event satisfying the conjunction contains in its compact JSON text.
pub(crate) fn guaranteed(conj: &[&Condition]) -> Vec<String> {
    let mut out = Vec::new();
    for c in conj {
        if c.test == Test::NotExists {
            continue;
        }
        for step in &c.selector.steps {
            if let Step::Key(k) = step {
                out.push(format!("\"{}\":", esc(k)));
            }
        }
        let prefix = match c.selector.steps.last() {
            Some(Step::Key(k)) => format!("\"{}\":", esc(k)),
            _ => String::new(),
        };
        match &c.test {
            Test::IsNull | Test::Compare(CmpOp::Eq, Value::Null) => out.push(prefix + "null"),
            Test::IsTrue | Test::Compare(CmpOp::Eq, Value::Bool(true)) => out.push(prefix + "true"),
            Test::IsFalse | Test::Compare(CmpOp::Eq, Value::Bool(false)) => {
                out.push(prefix + "false")
            }
            // Stars only: a string or a number, so nothing but the key is certain.
            Test::Compare(CmpOp::Eq, Value::Str(g)) if g.is_any() => {}
            Test::Compare(CmpOp::Eq, Value::Str(g)) => match g.exact() {
                Some(s) => out.push(format!("{prefix}\"{}\"", esc(s))),
                None => {
                    let segs = g.segments();
                    for (i, seg) in segs.iter().enumerate() {
                        let mut piece = esc(seg);
                        if i == 0 {
                            piece = format!("{prefix}\"{piece}");
                        }
                        if i + 1 == segs.len() {
                            piece.push('"');
                        }
                        out.push(piece);
                    }
                }
            },
            _ => {}
        }
    }
    out
}

/// Whether every event satisfying the conjunction is matched by the term pattern.
pub(crate) fn terms_proven(terms: &[Term], conj: &[&Condition]) -> bool {
    let have = guaranteed(conj);
    let implied = |t: &str| have.iter().any(|h| h.contains(t));
    if optional_terms_count(terms) {
        return terms.is_empty() || terms.iter().any(|t| implied(&t.text));
    }
    terms.iter().all(|t| match t.kind {
        TermKind::Required => implied(&t.text),
        TermKind::Excluded => false,
        TermKind::Optional => true,
    })
}

/// Whether every text the `required` terms match is matched by the `customer` terms.
fn terms_imply(customer: &[Term], required: &[Term]) -> bool {
    let texts = |k: TermKind| -> Vec<&str> {
        required
            .iter()
            .filter(|t| t.kind == k)
            .map(|t| t.text.as_str())
            .collect()
    };
    let (r_req, r_opt, r_exc) = (
        texts(TermKind::Required),
        // Ignored beside other terms, as CloudWatch ignores them.
        if optional_terms_count(required) {
            texts(TermKind::Optional)
        } else {
            Vec::new()
        },
        texts(TermKind::Excluded),
    );
    let implied = |t: &str| {
        r_req.iter().any(|x| x.contains(t))
            || (!r_opt.is_empty() && r_opt.iter().all(|x| x.contains(t)))
    };
    if optional_terms_count(customer) {
        return customer.is_empty() || customer.iter().any(|t| implied(&t.text));
    }
    customer.iter().all(|t| match t.kind {
        TermKind::Required => implied(&t.text),
        TermKind::Excluded => r_exc.iter().any(|x| t.text.contains(x)),
        TermKind::Optional => true,
    })
}

/// Coverage when the required pattern is a text pattern.
pub(crate) fn text_required(customer: &FilterPattern, required: &FilterPattern) -> Coverage {
    if let (Ast::Terms(c), Ast::Terms(r)) = (customer.ast(), required.ast()) {
        if terms_imply(c, r) {
            return Coverage::Covers;
        }
    }
    for event in text_events(required.ast()) {
        if required.matches(&event) && !customer.matches(&event) {
            return Coverage::DoesNotCover {
                counterexample: event,
            };
        }
    }
    Coverage::Unknown {
        reason: "the required pattern matches raw text; coverage of a text pattern can only be decided between term patterns, and no counterexample was found".to_string(),
    }
}

/// CloudTrail records whose text contains what a text pattern asks for (in `errorMessage`).
fn text_events(ast: &Ast) -> Vec<Json> {
    let mut messages: Vec<String> = Vec::new();
    match ast {
        Ast::Terms(terms) => {
            let req: Vec<&str> = terms
                .iter()
                .filter(|t| t.kind == TermKind::Required)
                .map(|t| t.text.as_str())
                .collect();
            let opts: Vec<&str> = terms
                .iter()
                .filter(|t| t.kind == TermKind::Optional && optional_terms_count(terms))
                .map(|t| t.text.as_str())
                .collect();
            if opts.is_empty() {
                messages.push(req.join(" "));
            }
            for o in opts {
                let mut m = req.clone();
                m.push(o);
                messages.push(m.join(" "));
            }
        }
        Ast::Regex(r) => messages.extend(r.witnesses()),
        _ => {}
    }
    messages
        .into_iter()
        .map(|m| {
            let mut e = crate::event::template();
            e["errorCode"] = Json::String("Client.InvalidRequest".into());
            e["errorMessage"] = Json::String(m);
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(p: &str) -> Vec<Term> {
        match crate::parse(p).unwrap().ast() {
            Ast::Terms(t) => t.clone(),
            _ => panic!("not terms"),
        }
    }

    #[test]
    fn term_implication_table() {
        let rows: &[(&str, &str, bool)] = &[
            ("ERROR", "ERROR", true),
            ("ERROR", "ERROR ARGUMENTS", true),
            ("ERR", "\"ERROR 400\"", true),
            ("ERROR ARGUMENTS", "ERROR", false),
            ("?ERROR ?WARN", "ERROR", true),
            ("ERROR", "?ERROR ?WARN", false),
            ("ERROR", "?ERROR1 ?ERROR2", true),
            ("-DEBUG", "ERROR -DEBUG", true),
            ("-DEBUGGING", "ERROR -DEBUG", true),
            ("-DEBUG", "ERROR -DEBUGGING", false),
            ("-DEBUG", "ERROR", false),
            // `?` terms beside other terms are ignored, on either side.
            ("REQUEST", "?ERROR ?ARGUMENTS REQUEST", true),
            ("?ERROR", "?ERROR ?ARGUMENTS REQUEST", false),
            ("?ERROR ?WARN REQUEST", "REQUEST", true),
            ("?ERROR ?WARN -DEBUG", "REQUEST", false),
            ("?ERROR ?WARN -DEBUG", "REQUEST -DEBUG", true),
        ];
        for (c, r, want) in rows {
            assert_eq!(terms_imply(&terms(c), &terms(r)), *want, "{c} vs {r}");
        }
    }

    #[test]
    fn guaranteed_pieces() {
        let f = crate::parse(r#"{ $.a.b = "x*y" && $.c IS TRUE && $.d NOT EXISTS }"#).unwrap();
        let Ast::Json(crate::ast::JsonExpr::And(items, _)) = f.ast() else {
            panic!()
        };
        let conds: Vec<&Condition> = items
            .iter()
            .map(|i| match i {
                crate::ast::JsonExpr::Cond(c) => c,
                _ => panic!(),
            })
            .collect();
        let g = guaranteed(&conds);
        for want in ["\"a\":", "\"b\":", "\"b\":\"x", "y\"", "\"c\":true"] {
            assert!(g.iter().any(|h| h == want), "{want} in {g:?}");
        }
        assert!(!g.iter().any(|h| h.contains("\"d\"")));
        // `= *` also matches a number, whose text has no quotes.
        let f = crate::parse("{ $.n = * }").unwrap();
        let Ast::Json(crate::ast::JsonExpr::Cond(c)) = f.ast() else {
            panic!()
        };
        assert_eq!(guaranteed(&[c]), vec!["\"n\":".to_string()]);
    }
}
