//! Coverage analysis: does the customer's pattern match every event the required (CIS)
//! pattern matches?
//!
//! The event universe is JSON log events (CloudTrail records). The required pattern is put in
//! disjunctive normal form; for each conjunction a search ([`search`]) looks for an event that
//! satisfies it and that the customer pattern misses, over per-selector candidate values that
//! represent every equivalence class of values ([`classes`]). Answers are sound:
//! - `DoesNotCover` only with a counterexample that has been checked with the evaluator
//!   (`required` matches it, `customer` does not);
//! - `Covers` only when, for every conjunction, the conjunction's own conditions force the
//!   customer pattern true, or its search was exhaustive over candidate sets complete for the
//!   values the conjunction allows (a selector the conjunction pins to exact values — every CIS
//!   pattern's event names — is decided on those values even where a `%regex%` makes its
//!   candidate set incomplete, and so is one the search only ever found absent), or, for text
//!   patterns, coverage was proven by substring containment (see [`text`]);
//! - otherwise `Unknown` with the reason (a regex or a too-large wildcard set on a selector,
//!   a text pattern that cannot be compared, an exhausted budget).

mod classes;
mod dnf;
mod search;
mod text;

use serde_json::Value as Json;

use crate::ast::{Ast, JsonExpr};
use crate::FilterPattern;
use search::{Outcome, Searched, Universe, STEP_BUDGET};

/// Conjunctions of the required pattern's DNF we are willing to examine.
const MAX_CONJUNCTIONS: usize = 4096;
/// Candidate events tried per conjunction against a text (opaque) customer pattern.
const TEXT_LEAVES: usize = 64;

/// The answer of [`covers`].
#[derive(Debug, Clone, PartialEq)]
pub enum Coverage {
    /// Every event `required` matches, `customer` matches too.
    Covers,
    /// A CloudTrail-shaped event that `required` matches and `customer` does not.
    DoesNotCover {
        /// The event.
        counterexample: Json,
    },
    /// No sound answer could be given.
    Unknown {
        /// Why, as a sentence.
        reason: String,
    },
}

/// Whether `customer` matches every event that `required` matches.
///
/// Wildcard selectors (`$.a[*]`, `$.*`) are decided exactly: the search gives their container
/// as many concrete elements as a counterexample can need (see the `search` module).
///
/// A `%regex%` (with `=` or `!=`) is decided exactly where the required pattern allows the
/// selector finitely many exact values: CIS 4.5's five event names are each matched against
/// the customer's regex, giving `Covers` or `DoesNotCover` with a missed name.
///
/// Answers `Unknown` (with the reason) when: a selector carries a `%regex%`, the required
/// pattern allows it infinitely many values (a wildcard, `!=`, another regex, or no condition
/// at all), and no counterexample was found; the wildcard values on one selector are too many or too long for
/// the automaton budget; a wildcard selector needs more elements than the search models (more
/// than four witnesses through one wildcard: required conditions on it, plus the customer's
/// `NOT EXISTS` on it; or an index above 16 on its array); the
/// required pattern's DNF has more than 4096 alternatives; the search exceeds its step budget;
/// or one side is a text pattern (terms, standalone regex, space-delimited) and neither a proof
/// by substring containment nor a counterexample was found.
pub fn covers(customer: &FilterPattern, required: &FilterPattern) -> Coverage {
    if matches!(customer.ast(), Ast::MatchAll(_)) {
        return Coverage::Covers;
    }
    match required.ast() {
        Ast::Json(e) => json_required(customer, required, Some(e)),
        Ast::MatchAll(_) => json_required(customer, required, None),
        Ast::Terms(_) | Ast::Regex(_) | Ast::Delimited(_) => {
            text::text_required(customer, required)
        }
    }
}

fn json_required(
    customer: &FilterPattern,
    required: &FilterPattern,
    expr: Option<&JsonExpr>,
) -> Coverage {
    let conjunctions = match expr {
        Some(e) => match dnf::dnf(e, MAX_CONJUNCTIONS) {
            Some(d) => d,
            None => {
                return Coverage::Unknown {
                    reason: format!(
                        "the required pattern expands to more than {MAX_CONJUNCTIONS} alternatives"
                    ),
                }
            }
        },
        None => vec![Vec::new()],
    };
    let customer_expr = match customer.ast() {
        Ast::Json(e) => Some(e),
        _ => None,
    };
    let (universe, conj_formulas) = Universe::new(&conjunctions, customer_expr);
    let mut steps = STEP_BUDGET;
    let mut unknown: Option<String> = None;
    let mut verify = |e: &Json| required.matches(e) && !customer.matches(e);
    for (conj, formulas) in conjunctions.iter().zip(&conj_formulas) {
        if universe.entails(formulas) {
            continue;
        }
        let Searched {
            outcome,
            active,
            present,
        } = universe.search(formulas, &mut steps, &mut verify, TEXT_LEAVES);
        match outcome {
            Outcome::Found(event) => {
                if required.matches(&event) && !customer.matches(&event) {
                    let selectors: Vec<_> = active
                        .iter()
                        .map(|&n| universe.nodes[n].selector.clone())
                        .collect();
                    return Coverage::DoesNotCover {
                        counterexample: crate::event::polish(event, &selectors, customer, required),
                    };
                }
                unknown.get_or_insert_with(|| {
                    "internal error: a candidate counterexample failed verification".to_string()
                });
            }
            Outcome::Budget => {
                unknown.get_or_insert_with(|| {
                    if customer_expr.is_some() {
                        "the analysis exceeded its search budget".to_string()
                    } else {
                        "the customer pattern matches raw text; no counterexample was found among the candidate events tried, and coverage could not be proven".to_string()
                    }
                });
            }
            Outcome::Exhausted => match customer.ast() {
                Ast::Json(_) => {
                    let decided = universe.decided(formulas);
                    // A wildcard container with too few slots (the root is always present and
                    // never among `active`), or a node whose candidates are incomplete for the
                    // values the conjunction allows it.
                    let root = universe.nodes[0].slots_incomplete.is_some().then_some(0);
                    if let Some(n) = root.iter().chain(&active).find(|&&n| {
                        let node = &universe.nodes[n];
                        n == 0
                            || present[n]
                                && (node.slots_incomplete.is_some()
                                    || !node.complete && !decided[n])
                    }) {
                        let node = &universe.nodes[*n];
                        unknown.get_or_insert_with(|| {
                            format!(
                                "cannot decide `{}`: {}",
                                node.selector.to_text(),
                                node.slots_incomplete
                                    .as_deref()
                                    .or(node.incomplete_reason.as_deref())
                                    .unwrap_or("incomplete analysis")
                            )
                        });
                    }
                }
                Ast::Terms(t) => {
                    if !text::terms_proven(t, conj) {
                        unknown.get_or_insert_with(|| {
                            "the customer pattern matches raw text and its terms are not implied by the required pattern's values, yet no counterexample was found".to_string()
                        });
                    }
                }
                _ => {
                    unknown.get_or_insert_with(|| {
                        "the customer pattern is a regex or space-delimited pattern over the raw text; it cannot be compared with a JSON pattern, and no counterexample was found".to_string()
                    });
                }
            },
        }
    }
    match unknown {
        Some(reason) => Coverage::Unknown { reason },
        None => Coverage::Covers,
    }
}
