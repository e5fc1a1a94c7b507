//! Property test: `covers()` against brute-force evaluation.
//!
//! Patterns are generated over a small vocabulary of selectors (with prefix relations, array
//! elements and the wildcard selectors `$.c[*]`, `$.a.*`, `$.*`), operators and values (exact
//! strings, wildcards, regexes, numbers with and without a sign, literals), kept within
//! CloudWatch's quotas (at most two regexes and three wildcard selectors per pattern); events
//! are generated over the same selectors, plus members no selector names (so that wildcards see
//! more than the named fields), with values chosen to hit every constant and its neighbours.
//!
//! Soundness: whenever `covers` answers `Covers`, no generated event may be matched by the
//! required pattern and missed by the customer pattern; whenever it answers `DoesNotCover`, the
//! counterexample must really be matched by the required pattern and missed by the customer.
//!
//! Completeness: when a generated event is matched by the required pattern and missed by the
//! customer, `covers` must answer `DoesNotCover` or an `Unknown` it documents; and every
//! `Unknown` must give a reason allowed for the pair (see [`classify`]: a `%regex%` in one of
//! the patterns, or an exceeded budget). The `Unknown`s are counted, and their share is bounded
//! ([`MAX_UNKNOWN_PERCENT`], [`MAX_MISSED_PERCENT`]), so that a `covers` answering `Unknown`
//! too often fails. Measured 2026-12-06 (release, 20,000 cases): 279 `Unknown` (1.4%), all for
//! a regex; of the 12,703 cases brute force refuted, 2 were `Unknown` (0.016%), the rest
//! `DoesNotCover`. The default seed at 512 cases: 7 `Unknown`, none refuted.
//!
//! Long runs on 2026-11-23 (release): 200,000 and 50,000 cases per property, no failure found.
//! On 2026-12-06 (release, completeness included): 200,000 cases of the brute-force property,
//! 2,720 `Unknown` (1.36%), all for a regex, 18 of them among 127,789 refuted cases; no failure.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError, TestRunner};
use serde_json::{json, Value};
use trailwatch_pattern::{covers, parse, Coverage};

const SELECTORS: &[&str] = &["$.a", "$.a.b", "$.b", "$.c[0]", "$.c[1]", "$.eventName"];
const WILDCARD_SELECTORS: &[&str] = &["$.c[*]", "$.a.*", "$.*"];
const VALUES: &[&str] = &[
    "x",
    "\"y\"",
    "x*",
    "*y",
    "*x*",
    "\"*\"",
    "1",
    "+2",
    "-1.5",
    "true",
    "false",
    "null",
    "CreateTrail",
    "*Trail",
    "%^x%",
    "%y$%",
    "%Trail%",
];

fn atom() -> impl Strategy<Value = String> {
    let sel = prop_oneof![
        4 => prop::sample::select(SELECTORS),
        1 => prop::sample::select(WILDCARD_SELECTORS),
    ];
    let val = prop::sample::select(VALUES);
    let op = prop::sample::select(
        &[
            "=",
            "!=",
            "<",
            ">=",
            "IS NULL",
            "IS TRUE",
            "IS FALSE",
            "NOT EXISTS",
        ][..],
    );
    (sel, op, val).prop_map(|(s, o, v)| match o {
        "IS NULL" | "IS TRUE" | "IS FALSE" | "NOT EXISTS" => format!("{s} {o}"),
        "<" | ">=" => {
            let n = if v.parse::<f64>().is_ok() { v } else { "1" };
            format!("{s} {o} {n}")
        }
        _ => format!("{s} {o} {v}"),
    })
}

fn expr() -> impl Strategy<Value = String> {
    atom().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" && "))),
            prop::collection::vec(inner, 2..4).prop_map(|v| format!("({})", v.join(" || "))),
        ]
    })
}

/// A JSON pattern CloudWatch accepts (its quotas on regexes and wildcard selectors).
fn pattern() -> impl Strategy<Value = String> {
    expr()
        .prop_map(|e| format!("{{ {e} }}"))
        .prop_filter("within CloudWatch's quotas", |p| parse(p).is_ok())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop::sample::select(vec![
        json!("x"),
        json!("y"),
        json!("xy"),
        json!("yx"),
        json!("xx"),
        json!(""),
        json!("x*"),
        json!("CreateTrail"),
        json!("UpdateTrail"),
        json!("Trail"),
        json!(0),
        json!(1),
        json!(1.5),
        json!(2),
        json!(3),
        json!(-1.5),
        json!(-2),
        json!(true),
        json!(false),
        json!(null),
        json!({}),
        json!([]),
    ])
}

fn slot() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![1 => Just(None), 4 => scalar().prop_map(Some)]
}

fn event() -> impl Strategy<Value = Value> {
    (
        (slot(), slot(), slot(), slot()),
        prop::collection::vec(scalar(), 0..4),
        any::<bool>(),
        slot(),
        any::<bool>(),
        slot(),
    )
        .prop_map(|((a, ab, ak, b), c, a_is_object, name, c_present, z)| {
            let mut e = serde_json::Map::new();
            if a_is_object {
                let mut inner = serde_json::Map::new();
                if let Some(v) = ab {
                    inner.insert("b".into(), v);
                }
                // A member no selector names: only `$.a.*` sees it.
                if let Some(v) = ak {
                    inner.insert("k".into(), v);
                }
                e.insert("a".into(), Value::Object(inner));
            } else if let Some(v) = a {
                e.insert("a".into(), v);
            }
            // Likewise at the top level, for `$.*`.
            if let Some(v) = z {
                e.insert("z".into(), v);
            }
            if let Some(v) = b {
                e.insert("b".into(), v);
            }
            if c_present {
                e.insert("c".into(), Value::Array(c));
            }
            if let Some(v) = name {
                e.insert("eventName".into(), v);
            }
            Value::Object(e)
        })
}

/// 512 cases by default; PROPTEST_CASES overrides. Pairs of patterns over CloudWatch's quotas
/// together are skipped, so as many skips as cases are allowed.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512);
    ProptestConfig {
        max_global_rejects: cases,
        ..ProptestConfig::with_cases(cases)
    }
}

/// Why `covers` may answer `Unknown` on the generated pairs, by the reasons it gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allowed {
    /// A `%regex%` on a selector the required pattern does not pin to exact values.
    Regex,
    /// The search's step budget.
    Steps,
    /// The DNF budget (4096 alternatives).
    Dnf,
    /// More witnesses through one wildcard selector than the search models.
    Witnesses,
}

/// The documented reason an `Unknown` is allowed here, or why it is not.
///
/// Two documented reasons cannot arise from this vocabulary and so count as failures: the glob
/// automaton's budget (at most four short globs per selector: `x*`, `*y`, `*x*`, `*Trail`) and
/// an array index above 16 under a wildcard (only `[0]` and `[1]` are written). Neither do the
/// text-pattern reasons (both patterns are JSON), nor a counterexample that failed verification.
fn classify(reason: &str, customer: &str, required: &str) -> Result<Allowed, String> {
    let regex = customer.contains('%') || required.contains('%');
    let wildcard = [customer, required]
        .iter()
        .any(|p| WILDCARD_SELECTORS.iter().any(|w| p.contains(w)));
    if reason.contains("a `%regex%` value cannot be compared exhaustively") {
        if regex {
            return Ok(Allowed::Regex);
        }
        return Err(format!("a regex reason without a regex: {reason}"));
    }
    if reason == "the analysis exceeded its search budget" {
        return Ok(Allowed::Steps);
    }
    if reason.starts_with("the required pattern expands to more than") {
        return Ok(Allowed::Dnf);
    }
    if reason.contains("a wildcard selector under it needs more than") {
        if wildcard {
            return Ok(Allowed::Witnesses);
        }
        return Err(format!(
            "a wildcard reason without a wildcard selector: {reason}"
        ));
    }
    Err(format!("not an allowed reason here: {reason}"))
}

/// Tallies of one run of [`covers_agrees_with_brute_force`].
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    /// Cases where brute force found an event required matches and customer misses.
    refuted: usize,
    unknown: usize,
    /// Unknowns among the refuted cases: counterexamples `covers` did not find.
    unknown_refuted: usize,
    regex: usize,
    steps: usize,
    dnf: usize,
    witnesses: usize,
}

/// One case: soundness of `Covers` and `DoesNotCover`, completeness up to the allowed
/// `Unknown`s (a brute-force counterexample must give `DoesNotCover` or an allowed `Unknown`),
/// and every `Unknown` checked against the reasons allowed (see [`classify`]).
fn check(
    customer: &str,
    required: &str,
    events: &[Value],
    tally: &RefCell<Tally>,
) -> Result<(), TestCaseError> {
    let c = parse(customer).unwrap();
    let r = parse(required).unwrap();
    let missed = events.iter().find(|e| r.matches(e) && !c.matches(e));
    let answer = covers(&c, &r);
    let mut t = tally.borrow_mut();
    t.cases += 1;
    t.refuted += usize::from(missed.is_some());
    match answer {
        Coverage::Covers => {
            if let Some(e) = missed {
                return Err(TestCaseError::fail(format!(
                    "Covers, but {e} is matched by {required} and missed by {customer}"
                )));
            }
        }
        Coverage::DoesNotCover { counterexample } => {
            prop_assert!(
                r.matches(&counterexample),
                "required misses {counterexample}"
            );
            prop_assert!(
                !c.matches(&counterexample),
                "customer matches {counterexample}"
            );
        }
        Coverage::Unknown { reason } => {
            let why = classify(&reason, customer, required).map_err(|m| {
                let found = match missed {
                    Some(e) => format!("; brute force found {e}"),
                    None => String::new(),
                };
                TestCaseError::fail(format!("Unknown: {m}{found}"))
            })?;
            t.unknown += 1;
            t.unknown_refuted += usize::from(missed.is_some());
            *match why {
                Allowed::Regex => &mut t.regex,
                Allowed::Steps => &mut t.steps,
                Allowed::Dnf => &mut t.dnf,
                Allowed::Witnesses => &mut t.witnesses,
            } += 1;
        }
    }
    Ok(())
}

/// The seed of [`covers_agrees_with_brute_force`] unless `PROPTEST_RNG_SEED` gives another:
/// fixed, so that the count of `Unknown`s checked against [`MAX_UNKNOWN_PERCENT`] is the same
/// on every run.
const SEED: u64 = 20_261_206;
/// At most this share of the cases (percent) may be an allowed `Unknown`. Measured 2026-12-06:
/// 279 of 20,000 cases (1.4%), all regex; 2 to 13 of 512 (0.4% to 2.5%) over 40 seeds.
const MAX_UNKNOWN_PERCENT: usize = 3;
/// At most this share (percent) of the cases brute force refutes may be an `Unknown`, that is a
/// counterexample `covers` did not find. Measured 2026-12-06: 2 of 12,703 (0.016%).
const MAX_MISSED_PERCENT: usize = 1;
/// Fewer cases than this (a small `PROPTEST_CASES`) say nothing about shares.
const MIN_CASES_FOR_SHARES: usize = 256;

#[test]
fn covers_agrees_with_brute_force() {
    let mut config = config();
    if config.rng_seed == RngSeed::Random {
        config.rng_seed = RngSeed::Fixed(SEED);
    }
    // The seed reproduces a failure; no regressions file.
    config.failure_persistence = None;
    let seed = config.rng_seed;
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(config);
    let strategy = (pattern(), pattern(), prop::collection::vec(event(), 200));
    if let Err(e) = runner.run(&strategy, |(customer, required, events)| {
        check(&customer, &required, &events, &tally)
    }) {
        panic!("seed {seed}: {e}");
    }
    let t = tally.into_inner();
    eprintln!("seed {seed}: {t:?}");
    if t.cases >= MIN_CASES_FOR_SHARES {
        assert!(
            t.unknown * 100 <= t.cases * MAX_UNKNOWN_PERCENT,
            "seed {seed}: {} Unknown in {} cases, more than {MAX_UNKNOWN_PERCENT}%: {t:?}",
            t.unknown,
            t.cases
        );
        assert!(
            t.unknown_refuted * 100 <= t.refuted * MAX_MISSED_PERCENT,
            "seed {seed}: {} Unknown in {} cases brute force refutes, more than {MAX_MISSED_PERCENT}%: {t:?}",
            t.unknown_refuted,
            t.refuted
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_pattern_covers_itself_and_the_empty_pattern_covers_it(p in pattern()) {
        let f = parse(&p).unwrap();
        prop_assert_eq!(covers(&f, &f), Coverage::Covers);
        prop_assert_eq!(covers(&parse("").unwrap(), &f), Coverage::Covers);
    }

    #[test]
    fn an_or_covers_its_parts(a in pattern(), b in pattern()) {
        let both = format!("{{ ({}) || ({}) }}", &a[1..a.len() - 1], &b[1..b.len() - 1]);
        // Together they may exceed the quotas.
        let both = parse(&both);
        prop_assume!(both.is_ok());
        let both = both.unwrap();
        prop_assert_eq!(covers(&both, &parse(&a).unwrap()), Coverage::Covers);
        prop_assert_eq!(covers(&both, &parse(&b).unwrap()), Coverage::Covers);
    }
}
