//! Candidate values for one selector: a set of representatives of every equivalence class of
//! JSON values with respect to all tests made on that selector, so that trying each of them
//! is as good as trying every possible value.
//!
//! Classes: absent; `null`; `true`; `false`; an object/array (containers behave alike for every
//! test on the selector itself); numbers split at every numeric constant (each constant, points
//! between and beyond them); strings split by every string value's language (exact constants,
//! `*` globs, regexes). Exact constants alone give "each constant" plus "another string". With
//! globs the classes are found by exploring the product of the globs' automata over the
//! alphabet of their literal characters plus one character none of them uses (all other
//! characters behave like it). Regexes cannot be split this way: their candidates are only
//! heuristic and the set is marked incomplete, which makes the search answer `Unknown` rather
//! than `Covers` — unless the conjunction searched [`pins`] the selector to one exact value,
//! which is always a candidate of its own, so that the regex is decided on that very value.

use std::collections::{HashMap, VecDeque};

use serde_json::Value as Json;

use crate::ast::{CmpOp, Test, Value};
use crate::glob::Glob;

/// Product-automaton states explored per selector before giving up on completeness.
const MAX_GLOB_STATES: usize = 4096;
/// Automaton steps (transitions × globs) per selector before giving up.
const MAX_GLOB_WORK: usize = 1_000_000;
/// Longest glob (in characters) the automaton handles: its positions fit a `u128`.
const MAX_GLOB_CHARS: usize = 127;

/// What a selector may be set to in a candidate event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cand {
    /// The selector does not resolve.
    Missing,
    /// A scalar (string, number, boolean, null).
    Scalar(Json),
    /// An object (its key children may resolve).
    Object,
    /// An array (its index children may resolve).
    Array,
}

impl Cand {
    /// What a selector that lands on this candidate resolves to, for testing.
    pub(crate) fn as_found(&self) -> Option<Json> {
        match self {
            Cand::Missing => None,
            Cand::Scalar(v) => Some(v.clone()),
            Cand::Object => Some(Json::Object(serde_json::Map::new())),
            Cand::Array => Some(Json::Array(Vec::new())),
        }
    }
}

/// Candidates for one selector and whether they are provably complete.
pub(crate) struct Candidates {
    pub values: Vec<Cand>,
    pub complete: bool,
    /// Why the set is incomplete, for the `Unknown` reason.
    pub incomplete_reason: Option<String>,
}

/// Whether `test` holds for one JSON value only (up to what every test can tell: `= 5` holds
/// for `5` and `5.0`), a value every candidate set holds with its exact truth for every test:
/// an exact string constant (a singleton class), a numeric constant (a split point), or one of
/// `true`, `false`, `null`.
pub(crate) fn pins(test: &Test) -> bool {
    match test {
        Test::IsNull | Test::IsTrue | Test::IsFalse => true,
        Test::Compare(CmpOp::Eq, Value::Str(g)) => g.exact().is_some(),
        Test::Compare(CmpOp::Eq, Value::Number(n)) => n.is_finite(),
        Test::Compare(CmpOp::Eq, Value::Bool(_) | Value::Null) => true,
        _ => false,
    }
}

/// Computes candidates for a selector tested by `tests`, which has key children
/// (`keys`) and/or index children (`indexes`) in the patterns.
pub(crate) fn candidates(tests: &[&Test], keys: bool, indexes: bool) -> Candidates {
    let mut globs: Vec<&Glob> = Vec::new();
    let mut regexes = Vec::new();
    let mut numbers: Vec<f64> = Vec::new();
    for t in tests {
        if let Test::Compare(_, v) = t {
            match v {
                Value::Str(g) => {
                    if !globs.contains(&g) {
                        globs.push(g)
                    }
                }
                Value::Regex(r) => regexes.push(r),
                Value::Number(n) => numbers.push(*n),
                Value::Bool(_) | Value::Null => {}
            }
        }
    }
    let mut complete = true;
    let mut incomplete_reason = None;
    let mut strings: Vec<String> = Vec::new();
    let push = |s: String, strings: &mut Vec<String>| {
        if !strings.contains(&s) {
            strings.push(s);
        }
    };
    // Exact constants are singleton classes; `*` alone matches every string and splits nothing.
    let exacts: Vec<&str> = globs.iter().filter_map(|g| g.exact()).collect();
    let stars: Vec<&Glob> = globs
        .iter()
        .copied()
        .filter(|g| g.exact().is_none() && g.segments().iter().any(|s| !s.is_empty()))
        .collect();
    for e in &exacts {
        push(e.to_string(), &mut strings);
    }
    let cells = if regexes.is_empty() {
        star_cells(&stars, &exacts)
    } else {
        None
    };
    match cells {
        Some(reps) => {
            for r in reps {
                push(r, &mut strings);
            }
        }
        None => {
            complete = false;
            incomplete_reason = Some(if regexes.is_empty() {
                "the wildcard values on this selector are too many or too long to analyse exhaustively".to_string()
            } else {
                "a `%regex%` value cannot be compared exhaustively with the other values on its selector".to_string()
            });
            for g in &stars {
                push(g.segments().concat(), &mut strings);
                push(g.segments().join("x"), &mut strings);
            }
            for r in &regexes {
                for w in r.witnesses() {
                    push(w, &mut strings);
                }
            }
            push(fresh_string(&strings), &mut strings);
        }
    }
    let mut values: Vec<Cand> = strings
        .into_iter()
        .map(|s| Cand::Scalar(Json::String(s)))
        .collect();
    for n in number_points(numbers) {
        if let Some(num) = serde_json::Number::from_f64(n) {
            values.push(Cand::Scalar(Json::Number(num)));
        }
    }
    values.push(Cand::Scalar(Json::Bool(true)));
    values.push(Cand::Scalar(Json::Bool(false)));
    values.push(Cand::Scalar(Json::Null));
    if keys || !indexes {
        values.push(Cand::Object);
    }
    if indexes {
        values.push(Cand::Array);
    }
    values.push(Cand::Missing);
    Candidates {
        values,
        complete,
        incomplete_reason,
    }
}

/// A string equal to none of `taken`.
fn fresh_string(taken: &[String]) -> String {
    let mut s = String::from("other-value");
    while taken.contains(&s) {
        s.push('x');
    }
    s
}

/// Each constant, the midpoints between neighbours, and a point below and above them all.
fn number_points(mut ns: Vec<f64>) -> Vec<f64> {
    ns.retain(|n| n.is_finite());
    ns.sort_by(f64::total_cmp);
    ns.dedup();
    let (Some(&lo), Some(&hi)) = (ns.first(), ns.last()) else {
        return vec![1.0];
    };
    let mut out = Vec::with_capacity(ns.len() * 2 + 2);
    // Strictly below and above every constant, even where adding 1 would be lost to rounding.
    let below = lo - lo.abs().max(1.0);
    out.push(if below.is_finite() { below } else { f64::MIN });
    for w in ns.windows(2) {
        out.push(w[0]);
        let mid = w[0] / 2.0 + w[1] / 2.0;
        if mid > w[0] && mid < w[1] {
            out.push(mid);
        }
    }
    out.push(hi);
    let above = hi + hi.abs().max(1.0);
    out.push(if above.is_finite() { above } else { f64::MAX });
    out.dedup();
    out
}

/// One glob as a bit-parallel automaton: bit `i` set means "the first `i` pieces consumed".
struct GlobNfa {
    len: usize,
    /// Bits of the positions holding a `*`.
    star: u128,
    /// Per alphabet index: bits of the positions holding that literal character.
    masks: Vec<u128>,
}

impl GlobNfa {
    fn new(pieces: &[Option<char>], alphabet: &[char]) -> GlobNfa {
        let bits = |pred: &dyn Fn(Option<char>) -> bool| {
            pieces
                .iter()
                .enumerate()
                .filter(|(_, p)| pred(**p))
                .fold(0u128, |m, (i, _)| m | (1 << i))
        };
        GlobNfa {
            len: pieces.len(),
            star: bits(&|p| p.is_none()),
            masks: alphabet.iter().map(|c| bits(&|p| p == Some(*c))).collect(),
        }
    }

    /// Adds the positions reachable by letting stars match nothing.
    fn close(&self, mut set: u128) -> u128 {
        loop {
            let next = set | ((set & self.star) << 1);
            if next == set {
                return set;
            }
            set = next;
        }
    }

    /// Reads the character with alphabet index `c`: literals advance, stars stay.
    fn step(&self, set: u128, c: usize) -> u128 {
        self.close(((set & self.masks[c]) << 1) | (set & self.star))
    }

    fn accepts(&self, set: u128) -> bool {
        set & (1 << self.len) != 0
    }
}

/// A small fast hasher for the automaton's state vectors (FxHash-style multiply-rotate).
#[derive(Default)]
struct StateHasher(u64);

impl std::hash::Hasher for StateHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type StateMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<StateHasher>>;

/// One representative, different from every exact constant, of each non-empty class of
/// strings w.r.t. the star globs minus the exact constants; `None` when that cannot be
/// established (the globs are too long, the product too large, or a class seems to consist
/// only of exact constants).
fn star_cells(stars: &[&Glob], exacts: &[&str]) -> Option<Vec<String>> {
    if stars.is_empty() {
        let taken: Vec<String> = exacts.iter().map(|e| e.to_string()).collect();
        return Some(vec![fresh_string(&taken)]);
    }
    let cells = glob_classes(stars)?;
    let longest = exacts.iter().map(|e| e.chars().count()).max().unwrap_or(0);
    let mut out = Vec::with_capacity(cells.len());
    for (accept, w) in cells {
        let same_cell = |s: &str| stars.iter().zip(&accept).all(|(g, a)| g.matches(s) == *a);
        if !exacts.contains(&w.as_str()) {
            out.push(w);
            continue;
        }
        // Pad with a character no glob uses, somewhere it does not change the class; a string
        // longer than every constant is none of them.
        let pad: String = std::iter::repeat_n(other_char(stars), longest + 1).collect();
        let chars: Vec<char> = w.chars().collect();
        let found = (0..=chars.len()).find_map(|i| {
            let s: String = chars[..i]
                .iter()
                .chain(pad.chars().collect::<Vec<_>>().iter())
                .chain(chars[i..].iter())
                .collect();
            same_cell(&s).then_some(s)
        });
        out.push(found?);
    }
    Some(out)
}

/// A character none of the globs contains.
fn other_char(globs: &[&Glob]) -> char {
    ['q', 'z', 'x', '0', '~', '_']
        .into_iter()
        .chain(('a'..='y').chain('A'..='Z'))
        .find(|c| {
            !globs
                .iter()
                .any(|g| g.segments().iter().any(|s| s.contains(*c)))
        })
        .unwrap_or('\u{1}')
}

/// The shortest string of every non-empty cell of the globs' Venn diagram, with the cell's
/// membership vector, or `None` when the globs are too long or the product too large.
fn glob_classes(globs: &[&Glob]) -> Option<Vec<(Vec<bool>, String)>> {
    let mut all_pieces = Vec::new();
    let mut alphabet: Vec<char> = Vec::new();
    for g in globs {
        let pieces: Vec<Option<char>> = g.text().chars().map(|c| (c != '*').then_some(c)).collect();
        if pieces.len() > MAX_GLOB_CHARS {
            return None;
        }
        for c in pieces.iter().flatten() {
            if !alphabet.contains(c) {
                alphabet.push(*c);
            }
        }
        all_pieces.push(pieces);
    }
    alphabet.push(other_char(globs));
    let nfas: Vec<GlobNfa> = all_pieces
        .iter()
        .map(|p| GlobNfa::new(p, &alphabet))
        .collect();
    // States, each with its parent and the character that led to it (paths are rebuilt at the end).
    let mut states: Vec<(Vec<u128>, usize, char)> = Vec::new();
    let mut index: StateMap<Vec<u128>, usize> = StateMap::default();
    let start: Vec<u128> = nfas.iter().map(|n| n.close(1)).collect();
    index.insert(start.clone(), 0);
    states.push((start, 0, ' '));
    let mut cells: StateMap<Vec<bool>, usize> = StateMap::default();
    let mut queue = VecDeque::from([0usize]);
    let mut next = Vec::with_capacity(nfas.len());
    let mut work = 0usize;
    while let Some(i) = queue.pop_front() {
        let accept: Vec<bool> = nfas
            .iter()
            .zip(&states[i].0)
            .map(|(n, s)| n.accepts(*s))
            .collect();
        cells.entry(accept).or_insert(i);
        if states[i].0.iter().all(|s| *s == 0) {
            continue;
        }
        for (ci, &c) in alphabet.iter().enumerate() {
            work += nfas.len();
            if work > MAX_GLOB_WORK {
                return None;
            }
            next.clear();
            next.extend(nfas.iter().zip(&states[i].0).map(|(n, s)| n.step(*s, ci)));
            if !index.contains_key(&next) {
                let id = states.len();
                if id >= MAX_GLOB_STATES {
                    return None;
                }
                index.insert(next.clone(), id);
                states.push((next.clone(), i, c));
                queue.push_back(id);
            }
        }
    }
    let path = |mut i: usize| {
        let mut rev = Vec::new();
        while i != 0 {
            rev.push(states[i].2);
            i = states[i].1;
        }
        rev.into_iter().rev().collect::<String>()
    };
    let mut out: Vec<(Vec<bool>, String)> = cells.into_iter().map(|(a, i)| (a, path(i))).collect();
    out.sort();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(globs: &[&str]) -> Vec<String> {
        let gs: Vec<Glob> = globs.iter().map(|g| Glob::new(g)).collect();
        let refs: Vec<&Glob> = gs.iter().collect();
        glob_classes(&refs)
            .unwrap()
            .into_iter()
            .map(|(_, s)| s)
            .collect()
    }

    #[test]
    fn glob_cells_cover_every_combination() {
        // *Trail and Create*: four cells (neither, only suffix, only prefix, both).
        let reps = cells(&["*Trail", "Create*"]);
        assert_eq!(reps.len(), 4, "{reps:?}");
        let a = Glob::new("*Trail");
        let b = Glob::new("Create*");
        let mut seen: Vec<(bool, bool)> =
            reps.iter().map(|s| (a.matches(s), b.matches(s))).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn automaton_agrees_with_glob_matching() {
        let globs = ["*Trail", "Create*", "*a*b*", "a**b", "*", "x*y*x", "ab"];
        // Every character the globs use, then one they do not (stands for all others).
        let mut alphabet: Vec<char> = globs.concat().chars().filter(|c| *c != '*').collect();
        alphabet.sort_unstable();
        alphabet.dedup();
        alphabet.push('q');
        for g in globs {
            let glob = Glob::new(g);
            let pieces: Vec<Option<char>> = g.chars().map(|c| (c != '*').then_some(c)).collect();
            let nfa = GlobNfa::new(&pieces, &alphabet);
            for s in [
                "",
                "a",
                "ab",
                "aab",
                "abb",
                "xyx",
                "xx",
                "CreateTrail",
                "Trail",
                "Create",
                "ba",
                "xyyx",
            ] {
                let mut set = nfa.close(1);
                for c in s.chars() {
                    let ci = alphabet
                        .iter()
                        .position(|a| *a == c)
                        .unwrap_or(alphabet.len() - 1);
                    set = nfa.step(set, ci);
                }
                assert_eq!(nfa.accepts(set), glob.matches(s), "{g} vs {s:?}");
            }
        }
    }

    #[test]
    fn exact_constants_and_a_fresh_string() {
        let g1 = Glob::new("A");
        let g2 = Glob::new("B");
        let t1 = Test::Compare(crate::ast::CmpOp::Eq, Value::Str(g1));
        let t2 = Test::Compare(crate::ast::CmpOp::Ne, Value::Str(g2));
        let c = candidates(&[&t1, &t2], false, false);
        assert!(c.complete);
        let strings: Vec<&str> = c
            .values
            .iter()
            .filter_map(|v| match v {
                Cand::Scalar(Json::String(s)) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(strings, vec!["A", "B", "other-value"]);
        // With a wildcard, exact constants inside its language keep their own class and the
        // rest of the language still gets a representative.
        let g3 = Glob::new("*Trail");
        let g4 = Glob::new("Trail");
        let t3 = Test::Compare(crate::ast::CmpOp::Eq, Value::Str(g3.clone()));
        let t4 = Test::Compare(crate::ast::CmpOp::Eq, Value::Str(g4));
        let c = candidates(&[&t3, &t4], false, false);
        assert!(c.complete);
        let strings: Vec<&str> = c
            .values
            .iter()
            .filter_map(|v| match v {
                Cand::Scalar(Json::String(s)) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        assert!(strings.contains(&"Trail"));
        assert!(
            strings.iter().any(|s| *s != "Trail" && g3.matches(s)),
            "{strings:?}"
        );
        assert!(strings.iter().any(|s| !g3.matches(s)), "{strings:?}");
        assert!(c.values.contains(&Cand::Missing));
        assert!(c.values.contains(&Cand::Object));
    }

    #[test]
    fn numbers_split_at_constants() {
        assert_eq!(
            number_points(vec![5.0, 1.0]),
            vec![0.0, 1.0, 3.0, 5.0, 10.0]
        );
        assert_eq!(number_points(vec![]), vec![1.0]);
        assert_eq!(number_points(vec![1e20]), vec![0.0, 1e20, 2e20]);
    }
}
