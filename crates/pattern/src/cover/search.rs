//! The counterexample search: given one conjunction of the required pattern's DNF and the
//! customer pattern, find an event satisfying the conjunction on which the customer pattern is
//! false, or prove there is none.
//!
//! Every selector mentioned by either pattern is a node of a trie (so `$.a` is the parent of
//! `$.a.b` and `$.a[0]`). Nodes are assigned candidate values (see [`super::classes`]) parents
//! first; a node under a parent that is absent, a scalar, or the wrong kind of container can
//! only be absent; array elements are dense (an absent `[i]` forces every `[j > i]` absent).
//! Both patterns are evaluated in three-valued logic on partial assignments, pruning as soon as
//! the conjunction is false or the customer pattern is true. When every candidate set is
//! complete, an exhausted search proves coverage of that conjunction.
//!
//! A wildcard selector (`$.a[*].b`, `$.*`) is not a node: its container (`$.a`, the root) gets
//! concrete *slots*, and the condition becomes the `||` of the same condition on every slot
//! (`&&` for `NOT EXISTS`). The slots are the container's members and elements the patterns name
//! (for an array, every position up to the highest index named), plus one fresh member and one
//! fresh element per *witness* the search may need: per required condition through the
//! wildcard (each wants an element that satisfies it) and per customer `NOT EXISTS` through it
//! (each wants an element that makes it false). That is enough: from any counterexample, drop
//! every element that is neither named nor one of those witnesses, and move the witnesses to
//! the fresh slots; the required conditions still hold, and every customer condition is at most
//! as true as before (a wildcard `=`, `!=`… over fewer elements; `NOT EXISTS` kept false by its
//! witness), so the customer pattern, an `&&`/`||` of them, still misses the event. A container
//! whose slots are modeled this way is built from nothing, not from the template record, so that
//! the event has exactly the members the search reasoned about.

use serde_json::Value as Json;

use super::classes::{candidates, pins, Cand};
use crate::ast::{Condition, JsonExpr, Selector, Step, Test};
use crate::eval::test_matches;

/// Search steps (assignments tried) per `covers` call before answering `Unknown`.
pub(crate) const STEP_BUDGET: usize = 200_000;
/// Ways of satisfying a conjunction that [`Universe::entails`] checks before giving up.
const MAX_IMPLICANTS: usize = 1024;
/// Fresh slots per wildcard container; needing more witnesses makes the analysis incomplete.
const MAX_WITNESSES: usize = 4;
/// A wildcard container named with an array index above this has its positions modeled only in
/// part, which makes the analysis incomplete.
const MAX_POSITIONS: usize = 16;

/// A trie node: one selector.
pub(crate) struct Node {
    step: Option<Step>,
    parent: usize,
    children: Vec<usize>,
    pub selector: Selector,
    cands: Vec<Cand>,
    pub complete: bool,
    pub incomplete_reason: Option<String>,
    /// For a wildcard's container: the concrete steps the wildcard stands for.
    slots: Option<Vec<Step>>,
    /// For a wildcard's container: why its slots cannot stand for every element. Unlike an
    /// incomplete candidate set, this is not cured by the conjunction deciding the node's own
    /// value, and it applies to the root (`$.*`) too, which has no candidates.
    pub slots_incomplete: Option<String>,
}

/// A compiled boolean formula over atom ids.
pub(crate) enum Formula {
    Atom(usize),
    And(Vec<Formula>),
    Or(Vec<Formula>),
}

/// Every selector, test and candidate value of a pair of patterns.
pub(crate) struct Universe<'a> {
    pub nodes: Vec<Node>,
    atoms: Vec<(usize, &'a Test)>,
    /// `truth[atom][candidate index of the atom's node]`.
    truth: Vec<Vec<bool>>,
    customer: Option<Formula>,
    customer_nodes: Vec<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tri {
    T,
    F,
    U,
}

/// What one conjunction's search found, and over which nodes.
pub(crate) struct Searched {
    pub outcome: Outcome,
    /// The nodes the search assigned, parents first.
    pub active: Vec<usize>,
    /// Per node: whether the search reached it where it could be present. A node only ever
    /// forced absent (under a scalar, say) needs no complete candidate set: absence is one.
    pub present: Vec<bool>,
}

/// How one conjunction's search ended.
pub(crate) enum Outcome {
    /// An event satisfying the conjunction that the customer pattern (as a formula) misses;
    /// or, for an opaque customer, a candidate event to be checked by the caller.
    Found(Json),
    /// No counterexample exists (if every involved candidate set is complete).
    Exhausted,
    /// The step budget ran out.
    Budget,
}

impl<'a> Universe<'a> {
    /// Builds the universe from the required pattern's DNF and, when the customer pattern is
    /// JSON, its expression. Returns it with each conjunction as formulas (one per condition).
    pub(crate) fn new(
        conjunctions: &[Vec<&'a Condition>],
        customer: Option<&'a JsonExpr>,
    ) -> (Universe<'a>, Vec<Vec<Formula>>) {
        let mut u = Universe {
            nodes: vec![Node {
                step: None,
                parent: 0,
                children: Vec::new(),
                selector: Selector { steps: Vec::new() },
                cands: vec![Cand::Object],
                complete: true,
                incomplete_reason: None,
                slots: None,
                slots_incomplete: None,
            }],
            atoms: Vec::new(),
            truth: Vec::new(),
            customer: None,
            customer_nodes: Vec::new(),
        };
        let mut customer_conds = Vec::new();
        if let Some(e) = customer {
            conditions(e, &mut customer_conds);
        }
        // Every selector without a wildcard, and the container of every wildcard.
        for c in conjunctions.iter().flatten().chain(&customer_conds) {
            let steps = &c.selector.steps;
            u.node(&steps[..c.selector.wildcard().unwrap_or(steps.len())]);
        }
        u.expand_wildcards(conjunctions, &customer_conds);
        let conj_formulas = conjunctions
            .iter()
            .map(|conj| conj.iter().map(|c| u.condition(c)).collect())
            .collect();
        let formula = customer.map(|e| u.compile(e));
        u.customer = formula;
        u.customer_nodes = vec![false; u.nodes.len()];
        if let Some(f) = &u.customer {
            let mut ids = Vec::new();
            collect_atoms(f, &mut ids);
            for a in ids {
                let mut n = u.atoms[a].0;
                while n != 0 && !u.customer_nodes[n] {
                    u.customer_nodes[n] = true;
                    n = u.nodes[n].parent;
                }
            }
        }
        u.finish();
        (u, conj_formulas)
    }

    /// Gives every wildcard's container its slots (see the module docs) and creates the nodes
    /// the wildcard conditions stand for. Containers go shallowest first: expanding one adds
    /// children only below it, so a container's named members are all known when its turn comes.
    fn expand_wildcards(
        &mut self,
        conjunctions: &[Vec<&'a Condition>],
        customer: &[&'a Condition],
    ) {
        let mut containers: Vec<(usize, usize)> = Vec::new();
        for c in conjunctions.iter().flatten().chain(customer) {
            if let Some(w) = c.selector.wildcard() {
                let n = self.node(&c.selector.steps[..w]);
                if !containers.iter().any(|&(_, m)| m == n) {
                    containers.push((w, n));
                }
            }
        }
        containers.sort_unstable();
        for (w, p) in containers {
            let prefix = self.nodes[p].selector.steps.clone();
            let here = |c: &Condition| {
                c.selector.wildcard() == Some(w) && c.selector.steps[..w] == prefix[..]
            };
            let required = conjunctions
                .iter()
                .map(|conj| {
                    distinct(
                        conj.iter()
                            .copied()
                            .filter(|c| here(c) && c.test != Test::NotExists),
                    )
                })
                .max()
                .unwrap_or(0);
            let customer_absent = distinct(
                customer
                    .iter()
                    .copied()
                    .filter(|c| here(c) && c.test == Test::NotExists),
            );
            let wanted = required + customer_absent;
            let fresh = wanted.min(MAX_WITNESSES);
            let mut incomplete = (wanted > MAX_WITNESSES).then(|| {
                format!("a wildcard selector under it needs more than {MAX_WITNESSES} elements to be analysed exhaustively")
            });
            let mut keys = Vec::new();
            let mut indexes = Vec::new();
            for &c in &self.nodes[p].children {
                match &self.nodes[c].step {
                    Some(Step::Key(k)) => keys.push(k.clone()),
                    Some(Step::Index(i)) => indexes.push(*i),
                    _ => {}
                }
            }
            let next_index = indexes.iter().max().map_or(0, |m| m + 1);
            if next_index > MAX_POSITIONS {
                incomplete.get_or_insert_with(|| {
                    format!(
                        "a wildcard selector under it meets an array index above {MAX_POSITIONS}"
                    )
                });
            } else {
                indexes = (0..next_index).collect();
            }
            let mut slots: Vec<Step> = keys.iter().cloned().map(Step::Key).collect();
            let mut taken = keys;
            for _ in 0..fresh {
                let mut k = String::from("otherField");
                while taken.contains(&k) {
                    k.push('_');
                }
                taken.push(k.clone());
                slots.push(Step::Key(k));
            }
            // The root is always an object: no elements.
            if p != 0 {
                slots.extend(indexes.into_iter().map(Step::Index));
                slots.extend((next_index..next_index + fresh).map(Step::Index));
            }
            for c in conjunctions.iter().flatten().chain(customer) {
                if !here(c) {
                    continue;
                }
                for slot in &slots {
                    self.node(&instance(&c.selector.steps, w, slot));
                }
            }
            let node = &mut self.nodes[p];
            node.slots = Some(slots);
            node.slots_incomplete = incomplete;
        }
    }

    fn compile(&mut self, e: &'a JsonExpr) -> Formula {
        match e {
            JsonExpr::And(items, _) => {
                Formula::And(items.iter().map(|i| self.compile(i)).collect())
            }
            JsonExpr::Or(items, _) => Formula::Or(items.iter().map(|i| self.compile(i)).collect()),
            JsonExpr::Cond(c) => self.condition(c),
        }
    }

    /// A condition as a formula: one atom, or for a wildcard selector the `||` of the condition
    /// on every slot of its container (`&&` for `NOT EXISTS`: nothing is selected).
    fn condition(&mut self, c: &'a Condition) -> Formula {
        let steps = &c.selector.steps;
        let Some(w) = c.selector.wildcard() else {
            let n = self.node(steps);
            return Formula::Atom(self.atom(n, &c.test));
        };
        let p = self.node(&steps[..w]);
        let slots = self.nodes[p].slots.clone().unwrap_or_default();
        let parts = slots
            .iter()
            .map(|slot| {
                let n = self.node(&instance(steps, w, slot));
                Formula::Atom(self.atom(n, &c.test))
            })
            .collect();
        if c.test == Test::NotExists {
            Formula::And(parts)
        } else {
            Formula::Or(parts)
        }
    }

    /// The atom id of a test on a node (shared between equal conditions).
    fn atom(&mut self, node: usize, test: &'a Test) -> usize {
        if let Some(i) = self
            .atoms
            .iter()
            .position(|(n, t)| *n == node && *t == test)
        {
            return i;
        }
        self.atoms.push((node, test));
        self.atoms.len() - 1
    }

    /// The node of a selector without a wildcard, created (with its parents) if need be.
    fn node(&mut self, steps: &[Step]) -> usize {
        let mut cur = 0;
        for (depth, step) in steps.iter().enumerate() {
            let found = self.nodes[cur]
                .children
                .iter()
                .copied()
                .find(|&c| self.nodes[c].step.as_ref() == Some(step));
            cur = match found {
                Some(c) => c,
                None => {
                    let id = self.nodes.len();
                    self.nodes.push(Node {
                        step: Some(step.clone()),
                        parent: cur,
                        children: Vec::new(),
                        selector: Selector {
                            steps: steps[..=depth].to_vec(),
                        },
                        cands: Vec::new(),
                        complete: true,
                        incomplete_reason: None,
                        slots: None,
                        slots_incomplete: None,
                    });
                    self.nodes[cur].children.push(id);
                    id
                }
            };
        }
        cur
    }

    /// Computes candidates and truth tables once all atoms are known.
    fn finish(&mut self) {
        for n in 1..self.nodes.len() {
            let tests: Vec<&Test> = self
                .atoms
                .iter()
                .filter(|(node, _)| *node == n)
                .map(|(_, t)| *t)
                .collect();
            let keys = self.nodes[n]
                .children
                .iter()
                .any(|&c| matches!(self.nodes[c].step, Some(Step::Key(_))));
            let indexes = self.nodes[n]
                .children
                .iter()
                .any(|&c| matches!(self.nodes[c].step, Some(Step::Index(_))));
            let mut c = candidates(&tests, keys, indexes);
            if self.customer.is_some() {
                c.values = distinguishable(c.values, &tests, keys, indexes);
            }
            let node = &mut self.nodes[n];
            node.cands = c.values;
            node.complete = c.complete && node.slots_incomplete.is_none();
            node.incomplete_reason = node.slots_incomplete.clone().or(c.incomplete_reason);
        }
        self.truth = self
            .atoms
            .iter()
            .map(|(n, t)| {
                self.nodes[*n]
                    .cands
                    .iter()
                    .map(|c| test_matches(t, c.as_found().as_ref()))
                    .collect()
            })
            .collect();
    }

    /// Whether the conjunction's own conditions force the customer pattern true, whatever the
    /// rest of the event: every way of making the conjunction's formulas true (at most
    /// [`MAX_IMPLICANTS`] sets of atoms) makes the customer's true. Both are `&&`/`||` of
    /// atoms, so this is coverage of the conjunction however incomplete the candidate sets are
    /// (as for a pattern and itself); `false` means only "not shown this way".
    pub(crate) fn entails(&self, conj: &[Formula]) -> bool {
        let Some(customer) = &self.customer else {
            return false;
        };
        let mut ways: Vec<Vec<usize>> = vec![Vec::new()];
        for f in conj {
            let Some(alternatives) = implicants(f) else {
                return false;
            };
            if ways.len() * alternatives.len() > MAX_IMPLICANTS {
                return false;
            }
            ways = ways
                .iter()
                .flat_map(|w| alternatives.iter().map(move |a| [w.as_slice(), a].concat()))
                .collect();
        }
        let mut on = vec![false; self.atoms.len()];
        ways.iter().all(|way| {
            on.fill(false);
            for &a in way {
                on[a] = true;
            }
            forced(customer, &on)
        })
    }

    /// The nodes whose every value the conjunction allows is a candidate of theirs, so that an
    /// incomplete candidate set does not matter for it: a node the conjunction [`pins`] to one
    /// exact value, and every node above one the conjunction needs present (it must be a
    /// container, and containers are always candidates).
    pub(crate) fn decided(&self, conj: &[Formula]) -> Vec<bool> {
        let mut out = vec![false; self.nodes.len()];
        for f in conj {
            if let Formula::Atom(a) = f {
                let (n, test) = self.atoms[*a];
                out[n] |= pins(test);
                if *test != Test::NotExists {
                    let mut x = self.nodes[n].parent;
                    while x != 0 {
                        out[x] = true;
                        x = self.nodes[x].parent;
                    }
                }
            }
        }
        out
    }

    /// Runs the search for one conjunction (its conditions' formulas). `steps` is the shared
    /// budget. `accept` is called on complete assignments' events when the customer is opaque;
    /// it returns whether the event is a counterexample. `leaf_limit` bounds those calls.
    pub(crate) fn search(
        &self,
        conj: &[Formula],
        steps: &mut usize,
        accept: &mut dyn FnMut(&Json) -> bool,
        leaf_limit: usize,
    ) -> Searched {
        let n = self.nodes.len();
        let mut active = vec![false; n];
        let mut k_sub = vec![false; n];
        let mut conj_atoms = Vec::new();
        for f in conj {
            collect_atoms(f, &mut conj_atoms);
        }
        for &a in &conj_atoms {
            let mut x = self.atoms[a].0;
            while x != 0 {
                active[x] = true;
                k_sub[x] = true;
                x = self.nodes[x].parent;
            }
        }
        for (a, c) in active.iter_mut().zip(&self.customer_nodes) {
            *a |= *c;
        }
        // Preorder, then nodes under the conjunction's selectors first (parents stay first).
        let mut pre = Vec::new();
        let mut stack = vec![0];
        while let Some(x) = stack.pop() {
            if x != 0 && active[x] {
                pre.push(x);
            }
            for &c in self.nodes[x].children.iter().rev() {
                stack.push(c);
            }
        }
        let mut order = pre.clone();
        order.sort_by_key(|&x| !k_sub[x]);
        let mut s = State {
            u: self,
            conj,
            order,
            assign: vec![None; n],
            leaves: leaf_limit,
            present: vec![false; n],
        };
        let outcome = s.dfs(0, steps, accept);
        Searched {
            outcome,
            active: pre,
            present: s.present,
        }
    }

    /// The event for a complete assignment: `template` with each active selector set.
    fn build(&self, assign: &[Option<usize>], template: &Json) -> Json {
        self.build_node(0, Some(template.clone()), assign)
            .unwrap_or(Json::Null)
    }

    fn build_node(&self, x: usize, base: Option<Json>, assign: &[Option<usize>]) -> Option<Json> {
        let cand = if x == 0 {
            &Cand::Object
        } else {
            match assign[x] {
                Some(c) => &self.nodes[x].cands[c],
                // A wildcard's container the search left free: absent, so that it holds none of
                // the template's members, which the search did not reason about.
                None if self.nodes[x].slots.is_some() => return None,
                None => return base,
            }
        };
        // A wildcard's container holds exactly the members the search assigned.
        let base = if self.nodes[x].slots.is_some() {
            None
        } else {
            base
        };
        match cand {
            Cand::Missing => None,
            Cand::Scalar(v) => Some(v.clone()),
            Cand::Object => {
                let mut m = match base {
                    Some(Json::Object(m)) => m,
                    _ => serde_json::Map::new(),
                };
                for &c in &self.nodes[x].children {
                    if let Some(Step::Key(k)) = &self.nodes[c].step {
                        match self.build_node(c, m.get(k).cloned(), assign) {
                            Some(v) => {
                                m.insert(k.clone(), v);
                            }
                            None => {
                                m.remove(k);
                            }
                        }
                    }
                }
                Some(Json::Object(m))
            }
            Cand::Array => {
                let mut a = match base {
                    Some(Json::Array(a)) => a,
                    _ => Vec::new(),
                };
                let mut idx: Vec<(usize, usize)> = self.nodes[x]
                    .children
                    .iter()
                    .filter_map(|&c| match self.nodes[c].step {
                        Some(Step::Index(i)) if assign[c].is_some() => Some((i, c)),
                        _ => None,
                    })
                    .collect();
                idx.sort_unstable();
                for (i, c) in idx {
                    match self.build_node(c, a.get(i).cloned(), assign) {
                        Some(v) => {
                            if a.len() <= i {
                                a.resize(i + 1, Json::String("example".into()));
                            }
                            a[i] = v;
                        }
                        None => a.truncate(i.min(a.len())),
                    }
                }
                Some(Json::Array(a))
            }
        }
    }
}

/// The first of every group of candidates that nothing in the search can tell apart: the same
/// truth for every test on the node, the same kind of container for its children (when it has
/// any), and the same absence (a node under a parent that is not a fitting container must be
/// absent, and array elements are dense). Exploring one of a group is as good as exploring all,
/// and the first is the one the search would reach first, so the counterexample found is the
/// same. (Only for a JSON customer pattern: a text pattern sees the event's text, which the
/// tests do not describe.)
fn distinguishable(cands: Vec<Cand>, tests: &[&Test], keys: bool, indexes: bool) -> Vec<Cand> {
    let signature = |c: &Cand| {
        let found = c.as_found();
        let truth: Vec<bool> = tests
            .iter()
            .map(|t| test_matches(t, found.as_ref()))
            .collect();
        let kind = match c {
            Cand::Object if keys => 1,
            Cand::Array if indexes => 2,
            _ => 0,
        };
        (truth, kind, *c == Cand::Missing)
    };
    let mut seen = Vec::new();
    cands
        .into_iter()
        .filter(|c| {
            let sig = signature(c);
            let new = !seen.contains(&sig);
            if new {
                seen.push(sig);
            }
            new
        })
        .collect()
}

/// `steps` with its wildcard step (at `w`) replaced by `slot`.
fn instance(steps: &[Step], w: usize, slot: &Step) -> Vec<Step> {
    let mut out = steps.to_vec();
    out[w] = slot.clone();
    out
}

/// How many different (selector, test) pairs there are among `conds`.
fn distinct<'c>(conds: impl Iterator<Item = &'c Condition>) -> usize {
    let mut seen: Vec<(&Selector, &Test)> = Vec::new();
    for c in conds {
        if !seen.contains(&(&c.selector, &c.test)) {
            seen.push((&c.selector, &c.test));
        }
    }
    seen.len()
}

/// Every condition of an expression.
fn conditions<'e>(e: &'e JsonExpr, out: &mut Vec<&'e Condition>) {
    match e {
        JsonExpr::And(items, _) | JsonExpr::Or(items, _) => {
            items.iter().for_each(|i| conditions(i, out))
        }
        JsonExpr::Cond(c) => out.push(c),
    }
}

/// The sets of atoms that make `f` true, one per alternative of its disjunctive normal form, or
/// `None` beyond [`MAX_IMPLICANTS`].
fn implicants(f: &Formula) -> Option<Vec<Vec<usize>>> {
    match f {
        Formula::Atom(a) => Some(vec![vec![*a]]),
        Formula::Or(v) => {
            let mut out = Vec::new();
            for x in v {
                out.extend(implicants(x)?);
                if out.len() > MAX_IMPLICANTS {
                    return None;
                }
            }
            Some(out)
        }
        Formula::And(v) => {
            let mut out = vec![Vec::new()];
            for x in v {
                let alternatives = implicants(x)?;
                if out.len() * alternatives.len() > MAX_IMPLICANTS {
                    return None;
                }
                out = out
                    .iter()
                    .flat_map(|w: &Vec<usize>| {
                        alternatives.iter().map(move |a| [w.as_slice(), a].concat())
                    })
                    .collect();
            }
            Some(out)
        }
    }
}

/// Whether `f` is true when the atoms in `on` are, whatever the others are.
fn forced(f: &Formula, on: &[bool]) -> bool {
    match f {
        Formula::Atom(a) => on[*a],
        Formula::And(v) => v.iter().all(|x| forced(x, on)),
        Formula::Or(v) => v.iter().any(|x| forced(x, on)),
    }
}

fn collect_atoms(f: &Formula, out: &mut Vec<usize>) {
    match f {
        Formula::Atom(a) => out.push(*a),
        Formula::And(v) | Formula::Or(v) => v.iter().for_each(|x| collect_atoms(x, out)),
    }
}

struct State<'s, 'a> {
    u: &'s Universe<'a>,
    conj: &'s [Formula],
    order: Vec<usize>,
    assign: Vec<Option<usize>>,
    leaves: usize,
    /// Per node: whether the search reached it where it could be present.
    present: Vec<bool>,
}

impl State<'_, '_> {
    fn atom(&self, a: usize) -> Tri {
        let (node, _) = self.u.atoms[a];
        match self.assign[node] {
            None => Tri::U,
            Some(c) if self.u.truth[a][c] => Tri::T,
            Some(_) => Tri::F,
        }
    }

    fn conj(&self) -> Tri {
        let mut all = Tri::T;
        for f in self.conj {
            match self.formula(f) {
                Tri::F => return Tri::F,
                Tri::U => all = Tri::U,
                Tri::T => {}
            }
        }
        all
    }

    fn formula(&self, f: &Formula) -> Tri {
        match f {
            Formula::Atom(a) => self.atom(*a),
            Formula::And(v) => {
                let mut r = Tri::T;
                for x in v {
                    match self.formula(x) {
                        Tri::F => return Tri::F,
                        Tri::U => r = Tri::U,
                        Tri::T => {}
                    }
                }
                r
            }
            Formula::Or(v) => {
                let mut r = Tri::F;
                for x in v {
                    match self.formula(x) {
                        Tri::T => return Tri::T,
                        Tri::U => r = Tri::U,
                        Tri::F => {}
                    }
                }
                r
            }
        }
    }

    /// Whether candidate `c` is allowed for node `x` given what is assigned so far.
    fn allowed(&self, x: usize, c: usize) -> bool {
        let nodes = &self.u.nodes;
        let node = &nodes[x];
        let missing = node.cands[c] == Cand::Missing;
        let p = &nodes[node.parent];
        let pc = if node.parent == 0 {
            Some(&Cand::Object)
        } else {
            self.assign[node.parent].map(|i| &p.cands[i])
        };
        let fits = matches!(
            (pc, &node.step),
            (Some(Cand::Object), Some(Step::Key(_))) | (Some(Cand::Array), Some(Step::Index(_)))
        );
        if !fits {
            return missing;
        }
        if let Some(Step::Index(i)) = node.step {
            for &s in &nodes[node.parent].children {
                if let (Some(Step::Index(j)), Some(sc)) = (&nodes[s].step, self.assign[s]) {
                    let s_missing = nodes[s].cands[sc] == Cand::Missing;
                    if (*j < i && s_missing && !missing) || (*j > i && !s_missing && missing) {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn dfs(
        &mut self,
        depth: usize,
        steps: &mut usize,
        accept: &mut dyn FnMut(&Json) -> bool,
    ) -> Outcome {
        if self.conj() == Tri::F {
            return Outcome::Exhausted;
        }
        if let Some(f) = &self.u.customer {
            if self.formula(f) == Tri::T {
                return Outcome::Exhausted;
            }
        }
        let Some(&x) = self.order.get(depth) else {
            let event = self.u.build(&self.assign, &crate::event::template());
            if self.u.customer.is_some() {
                return Outcome::Found(event);
            }
            if accept(&event) {
                return Outcome::Found(event);
            }
            self.leaves = self.leaves.saturating_sub(1);
            return if self.leaves == 0 {
                Outcome::Budget
            } else {
                Outcome::Exhausted
            };
        };
        for c in 0..self.u.nodes[x].cands.len() {
            if !self.allowed(x, c) {
                continue;
            }
            self.present[x] |= self.u.nodes[x].cands[c] != Cand::Missing;
            if *steps == 0 {
                return Outcome::Budget;
            }
            *steps -= 1;
            self.assign[x] = Some(c);
            match self.dfs(depth + 1, steps, accept) {
                Outcome::Exhausted => {}
                other => {
                    self.assign[x] = None;
                    return other;
                }
            }
        }
        self.assign[x] = None;
        Outcome::Exhausted
    }
}
