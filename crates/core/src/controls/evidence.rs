//! Candidate chains and how they become one verdict and one exact sentence.
//!
//! A [`Path`] is what the chain evaluator found walking one candidate chain: the links it could
//! establish and how it ended. Paths are ranked (complete, then undecided, then blocked by an
//! unreadable resource, then broken; deeper first), the best one decides the status, and its
//! links and missing link make the finding's sentence, e.g.
//! `trail org-trail → log group CloudTrail/org → filter cis-4-5 → alarm cis-4-5: topic arn:…:sec-alerts has no confirmed subscription`.

use super::catalog::Control;
use crate::model::findings::{ComplianceStatus, Evidence, Finding, ResourceKind, ResourceRef};
use crate::model::missing::{MissingLink, Subject};
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
    /// A link is missing, wrong, unreadable or undecided: the link says which and how.
    Missing(MissingLink),
}

/// A candidate chain: the links established, in order, and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub links: Vec<ResourceRef>,
    pub end: PathEnd,
    /// A link on the way whose coverage could not be decided: if the chain completes, it ends
    /// with this (WARNING) link instead.
    undecided: Option<MissingLink>,
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
    pub fn carry_undecided(&mut self, link: MissingLink) {
        self.undecided.get_or_insert(link);
    }

    pub fn push(&mut self, link: ResourceRef) {
        self.links.push(link);
    }

    pub fn depth(&self) -> usize {
        self.links.len()
    }

    pub fn complete(mut self) -> Self {
        self.end = match self.undecided.take() {
            Some(link) => PathEnd::Missing(link),
            None => PathEnd::Complete,
        };
        self
    }

    /// The chain stops at `link`.
    pub fn ends(mut self, link: MissingLink) -> Self {
        self.end = PathEnd::Missing(link);
        self
    }

    /// A read about `subject` failed.
    pub fn unread(self, subject: Subject, error: &ReadError) -> Self {
        self.ends(MissingLink::Unread {
            subject,
            error: Box::new(error.clone()),
        })
    }

    /// PASSED > WARNING > NOT_AVAILABLE > FAILED: a chain that may complete but for a link the
    /// engine cannot decide beats one blocked by a failed read.
    fn rank(&self) -> u8 {
        match self.status() {
            ComplianceStatus::Passed => 4,
            ComplianceStatus::Warning => 3,
            ComplianceStatus::NotAvailable => 2,
            ComplianceStatus::Failed if self.end == PathEnd::Open => 0,
            ComplianceStatus::Failed => 1,
        }
    }

    fn compare(&self, other: &Path) -> Ordering {
        self.rank()
            .cmp(&other.rank())
            .then_with(|| self.depth().cmp(&other.depth()))
    }

    fn status(&self) -> ComplianceStatus {
        match &self.end {
            PathEnd::Complete => ComplianceStatus::Passed,
            PathEnd::Missing(link) => link.status(),
            PathEnd::Open => ComplianceStatus::Failed,
        }
    }

    pub fn missing(&self) -> Option<&MissingLink> {
        match &self.end {
            PathEnd::Missing(link) => Some(link),
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
    let listing_failures: Vec<&ReadError> = snapshot.trail_listing_failures().collect();
    let path = Path::start();
    if !listing_failures.is_empty() && listing_failures.len() >= snapshot.regions.len() {
        return path.unread(Subject::Trails, listing_failures[0]);
    }
    if listing_failures.is_empty() {
        return path.ends(MissingLink::NoTrail);
    }
    // Multi-Region trails show in every region's DescribeTrails, so the regions that answered
    // would have shown any trail able to complete a chain.
    path.ends(MissingLink::NoMultiRegionTrail {
        unlisted_regions: listing_failures
            .iter()
            .map(|error| error.region.clone())
            .collect(),
    })
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
    let evidence = Evidence {
        missing: best.missing().cloned(),
        chain: best.links,
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

/// A finding about the whole account that says only what is missing: its status and sentence
/// come from the link.
pub fn missing_finding(snapshot: &Snapshot, control: &Control, link: MissingLink) -> Finding {
    account_finding(
        snapshot,
        control,
        link.status(),
        link.to_string(),
        Evidence::missing(link),
    )
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
