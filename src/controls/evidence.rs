//! Candidate chains and how they become one verdict and one exact sentence.
//!
//! A [`Path`] is what the chain evaluator found walking one candidate chain: the links it could
//! establish and how it ended. Paths are ranked (complete, then undecided, then blocked by an
//! unreadable resource, then broken; deeper first), the best one decides the status, and its
//! links and missing link make the finding's sentence, e.g.
//! `trail org-trail → log group CloudTrail/org → filter cis-4-5 → alarm cis-4-5: topic arn:…:sec-alerts has no confirmed subscription`.

use super::catalog::Control;
use crate::model::findings::{ComplianceStatus, Evidence, Finding, ResourceKind, ResourceRef};
use crate::model::snapshot::{ReadError, Snapshot};
use serde_json::Value;
use std::cmp::Ordering;
use trailwatch_pattern::ast::{Ast, JsonExpr, Selector, Step};
use trailwatch_pattern::FilterPattern;

/// How a candidate chain ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PathEnd {
    /// Still being walked.
    Open,
    Complete,
    /// A read failed where the chain could have continued: we cannot tell.
    Unread(String),
    /// The pattern engine could not decide a filter's coverage.
    Undecided(String),
    /// A link is missing or wrong.
    Broken {
        missing: String,
        counterexample: Option<Value>,
    },
}

/// A candidate chain: the links established, in order, and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub links: Vec<ResourceRef>,
    pub end: PathEnd,
    /// A link on the way whose coverage could not be decided: if the chain completes, it ends
    /// [`PathEnd::Undecided`] with this reason instead.
    undecided: Option<String>,
}

impl Path {
    /// A path with no link yet.
    pub fn start() -> Self {
        Path {
            links: Vec::new(),
            end: PathEnd::Open,
            undecided: None,
        }
    }

    /// Notes an undecided link and walks on: the chain's own missing link, if any, still decides.
    pub fn carry_undecided(&mut self, reason: String) {
        self.undecided.get_or_insert(reason);
    }

    pub fn push(&mut self, link: ResourceRef) {
        self.links.push(link);
    }

    pub fn depth(&self) -> usize {
        self.links.len()
    }

    pub fn complete(mut self) -> Self {
        self.end = match self.undecided.take() {
            Some(reason) => PathEnd::Undecided(reason),
            None => PathEnd::Complete,
        };
        self
    }

    pub fn broken(mut self, missing: String) -> Self {
        self.end = PathEnd::Broken {
            missing,
            counterexample: None,
        };
        self
    }

    pub fn broken_with_counterexample(mut self, missing: String, event: Value) -> Self {
        self.end = PathEnd::Broken {
            missing,
            counterexample: Some(event),
        };
        self
    }

    /// A read about `what` failed.
    pub fn unread(mut self, what: String, error: &ReadError) -> Self {
        let code = error
            .code
            .as_deref()
            .map(|code| format!("{code}: "))
            .unwrap_or_default();
        self.end = PathEnd::Unread(format!(
            "could not read {what} ({} in {}: {code}{})",
            error.operation, error.region, error.message
        ));
        self
    }

    /// Something the chain needs was not part of what the scan read.
    pub fn broken_unknown(mut self, reason: String) -> Self {
        self.end = PathEnd::Unread(reason);
        self
    }

    /// PASSED > WARNING > NOT_AVAILABLE > FAILED: a chain that may complete but for a link the
    /// engine cannot decide beats one blocked by a failed read.
    fn rank(&self) -> u8 {
        match self.end {
            PathEnd::Complete => 4,
            PathEnd::Undecided(_) => 3,
            PathEnd::Unread(_) => 2,
            PathEnd::Broken { .. } => 1,
            PathEnd::Open => 0,
        }
    }

    fn compare(&self, other: &Path) -> Ordering {
        self.rank()
            .cmp(&other.rank())
            .then_with(|| self.depth().cmp(&other.depth()))
    }

    fn status(&self) -> ComplianceStatus {
        match self.end {
            PathEnd::Complete => ComplianceStatus::Passed,
            PathEnd::Unread(_) => ComplianceStatus::NotAvailable,
            PathEnd::Undecided(_) => ComplianceStatus::Warning,
            PathEnd::Broken { .. } | PathEnd::Open => ComplianceStatus::Failed,
        }
    }

    fn missing(&self) -> Option<&str> {
        match &self.end {
            PathEnd::Unread(reason) | PathEnd::Undecided(reason) => Some(reason),
            PathEnd::Broken { missing, .. } => Some(missing),
            PathEnd::Complete | PathEnd::Open => None,
        }
    }

    /// `trail a → log group b → filter c: <missing>`.
    pub fn sentence(&self) -> String {
        let chain = self
            .links
            .iter()
            .map(|link| format!("{} {}", link.kind.noun(), link.name))
            .collect::<Vec<_>>()
            .join(" → ");
        match (self.missing(), chain.is_empty()) {
            (Some(missing), true) => missing.to_string(),
            (Some(missing), false) => format!("{chain}: {missing}"),
            (None, _) => format!("complete chain: {chain}"),
        }
    }
}

/// The better of two candidates (the first one on a tie, so results are deterministic).
pub fn better(current: Option<Path>, candidate: Path) -> Path {
    match current {
        Some(current) if current.compare(&candidate) != Ordering::Less => current,
        _ => candidate,
    }
}

/// The path that stands for an account with no trail.
pub fn no_trail_path(snapshot: &Snapshot) -> Path {
    let listing_failures: Vec<&ReadError> = snapshot
        .read_errors
        .iter()
        .filter(|error| error.operation.ends_with("DescribeTrails"))
        .collect();
    let path = Path::start();
    if !listing_failures.is_empty() && listing_failures.len() >= snapshot.regions.len() {
        let error = listing_failures[0];
        return path.unread("the account's trails".to_string(), error);
    }
    if listing_failures.is_empty() {
        return path.broken("the account has no CloudTrail trail".to_string());
    }
    // Multi-Region trails show in every region's DescribeTrails, so the regions that answered
    // would have shown any trail able to complete a chain.
    let regions: Vec<&str> = listing_failures.iter().map(|e| e.region.as_str()).collect();
    path.broken(format!(
        "the account has no multi-Region CloudTrail trail (trails could not be listed in {})",
        regions.join(", ")
    ))
}

/// One finding from every trail's best path.
pub fn verdict(snapshot: &Snapshot, control: &Control, paths: Vec<Path>) -> Finding {
    let best = paths
        .iter()
        .fold(None, |best: Option<Path>, path| {
            Some(better(best, path.clone()))
        })
        .unwrap_or_else(|| no_trail_path(snapshot));
    let status = best.status();
    // When every candidate failed at its very first link (the trail), name each trail's reason.
    let summary = if status == ComplianceStatus::Failed && best.depth() == 0 && paths.len() > 1 {
        let reasons: Vec<String> = paths.iter().map(Path::sentence).collect();
        format!("no trail qualifies: {}", reasons.join("; "))
    } else {
        best.sentence()
    };
    let counterexample = match &best.end {
        PathEnd::Broken { counterexample, .. } => counterexample.clone(),
        _ => None,
    };
    let evidence = Evidence {
        missing: best.missing().map(str::to_string),
        chain: best.links,
        counterexample,
    };
    account_finding(snapshot, control, status, summary, evidence)
}

/// A finding about the whole account.
pub fn account_finding(
    snapshot: &Snapshot,
    control: &Control,
    status: ComplianceStatus,
    summary: String,
    evidence: Evidence,
) -> Finding {
    Finding {
        control_id: control.id.to_string(),
        account_id: snapshot.account_id.clone(),
        partition: snapshot.partition.clone(),
        resource: account_ref(snapshot),
        status,
        summary,
        evidence,
    }
}

/// The account as a resource.
pub fn account_ref(snapshot: &Snapshot) -> ResourceRef {
    ResourceRef {
        kind: ResourceKind::Account,
        id: format!("AWS::::Account:{}", snapshot.account_id),
        name: snapshot.account_id.clone(),
        region: snapshot.regions.first().cloned().unwrap_or_default(),
        account_id: snapshot.account_id.clone(),
    }
}

/// The fields of a counterexample event that say what it is, for the sentence: `eventSource` and
/// `eventName`, then every other field either pattern tests (`userIdentity.type=Root`,
/// `errorCode absent`).
pub fn describe_event(event: &Value, patterns: &[&FilterPattern]) -> String {
    let mut fields: Vec<Selector> = ["eventSource", "eventName"]
        .into_iter()
        .map(|key| Selector {
            steps: vec![Step::Key(key.to_string())],
        })
        .collect();
    for pattern in patterns {
        if let Ast::Json(expr) = pattern.ast() {
            collect_selectors(expr, &mut fields);
        }
    }
    let parts: Vec<String> = fields
        .iter()
        .enumerate()
        .filter_map(|(position, selector)| {
            let name = selector.to_text();
            let name = name.trim_start_matches("$.").to_string();
            match lookup(event, selector) {
                Some(value) => Some(format!("{name}={}", compact(value))),
                // The two leading fields are only shown when the event has them.
                None if position < 2 => None,
                None => Some(format!("{name} absent")),
            }
        })
        .collect();
    if parts.is_empty() {
        compact(event)
    } else {
        parts.join(" ")
    }
}

fn collect_selectors(expr: &JsonExpr, into: &mut Vec<Selector>) {
    match expr {
        JsonExpr::And(items, _) | JsonExpr::Or(items, _) => {
            for item in items {
                collect_selectors(item, into);
            }
        }
        JsonExpr::Cond(condition) => {
            if !into.contains(&condition.selector) {
                into.push(condition.selector.clone());
            }
        }
    }
}

fn lookup<'a>(event: &'a Value, selector: &Selector) -> Option<&'a Value> {
    selector
        .steps
        .iter()
        .try_fold(event, |value, step| match step {
            Step::Key(key) => value.get(key),
            Step::Index(index) => value.get(index),
            // A wildcard names no one field to show.
            Step::Any => None,
        })
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
