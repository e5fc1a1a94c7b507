//! Disjunctive normal form of a JSON pattern: the list of conjunctions of conditions whose
//! union is what the pattern matches. The language has no negation operator, so every
//! condition stays a literal.

use crate::ast::{Condition, JsonExpr};

/// The DNF of `e`, or `None` when it would have more than `limit` conjunctions.
pub(crate) fn dnf(e: &JsonExpr, limit: usize) -> Option<Vec<Vec<&Condition>>> {
    match e {
        JsonExpr::Cond(c) => Some(vec![vec![c]]),
        JsonExpr::Or(items, _) => {
            let mut out = Vec::new();
            for i in items {
                out.extend(dnf(i, limit)?);
                if out.len() > limit {
                    return None;
                }
            }
            Some(out)
        }
        JsonExpr::And(items, _) => {
            let mut out: Vec<Vec<&Condition>> = vec![Vec::new()];
            for i in items {
                let right = dnf(i, limit)?;
                if out.len().saturating_mul(right.len()) > limit {
                    return None;
                }
                let mut next = Vec::with_capacity(out.len() * right.len());
                for l in &out {
                    for r in &right {
                        let mut c = l.clone();
                        c.extend(r.iter().copied());
                        next.push(c);
                    }
                }
                out = next;
            }
            Some(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dnf;
    use crate::ast::Ast;

    fn sizes(p: &str) -> Vec<usize> {
        let f = crate::parse(p).unwrap();
        let Ast::Json(e) = f.ast() else {
            panic!("not json")
        };
        dnf(e, 100).unwrap().iter().map(Vec::len).collect()
    }

    #[test]
    fn and_binds_tighter_than_or() {
        // CIS 4.1 (v2.0+): A || B && C && D is A || (B && C && D).
        assert_eq!(
            sizes("{ $.a = 1 || $.b = 1 && $.c = 1 && $.d = 1 }"),
            vec![1, 3]
        );
        assert_eq!(sizes("{ ($.a = 1 || $.b = 1) && $.c = 1 }"), vec![2, 2]);
        assert_eq!(
            sizes("{ ($.a = 1 || $.b = 1) && ($.c = 1 || $.d = 1) }"),
            vec![2, 2, 2, 2]
        );
    }

    #[test]
    fn limit() {
        let f = crate::parse("{ ($.a = 1 || $.b = 1) && ($.c = 1 || $.d = 1) }").unwrap();
        let Ast::Json(e) = f.ast() else {
            panic!("not json")
        };
        assert!(dnf(e, 3).is_none());
    }
}
