//! The controls trailwatch evaluates: declarations (data) plus the evaluators they share.
//!
//! A [`Control`] says what a CIS requirement is (id, title, CIS numbers per benchmark version,
//! Security Hub control, severity, remediation) and how to decide it ([`Check`]): either the
//! trail → CloudWatch Logs delivery check (CIS 3.4), or a monitoring chain with a required filter
//! pattern (CIS 4.x). Adding another CIS monitoring control is adding an entry to [`catalog`].

mod catalog;
mod chain;
pub mod coverage;
mod delivery;
mod evidence;
mod selectors;

pub use catalog::{
    catalog, control, Check, CisRef, Control, Monitoring, Severity, DEFAULT_CONTROLS,
};

use crate::model::findings::Finding;
use crate::model::snapshot::Snapshot;

/// A control any finding can name: the catalog's, or trailwatch's own [`coverage`] check.
pub fn declared(id: &str) -> Option<&'static Control> {
    control(id).or_else(|| (id == coverage::SCAN_COVERAGE.id).then_some(&coverage::SCAN_COVERAGE))
}

/// Evaluates the given controls over a snapshot. Pure: the same snapshot gives the same findings.
pub fn evaluate(snapshot: &Snapshot, controls: &[&Control]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let parsed = chain::ParsedFilters::default();
    for control in controls {
        match &control.check {
            Check::TrailDelivery => findings.extend(delivery::evaluate(snapshot, control)),
            Check::Monitoring(monitoring) => {
                findings.push(chain::evaluate(snapshot, control, monitoring, &parsed))
            }
            // Decided by the organization run, not from one account's snapshot.
            Check::ScanCoverage => {}
        }
    }
    findings
}

/// Why a list of control ids selects nothing usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("unknown control id(s): {unknown}; known: {known}")]
    Unknown { unknown: String, known: String },
    #[error("no control selected")]
    Empty,
}

/// Resolves control ids (as given on the command line or in `TRAILWATCH_CONTROLS`): a comma
/// list, `default`, or `all`. Unknown ids are an error naming them and the known ones.
pub fn select(spec: &str) -> Result<Vec<&'static Control>, SelectError> {
    let mut selected: Vec<&'static Control> = Vec::new();
    let mut unknown = Vec::new();
    for id in spec.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        let ids: Vec<&str> = match id {
            "default" => DEFAULT_CONTROLS.to_vec(),
            "all" => catalog().iter().map(|control| control.id).collect(),
            other => vec![other],
        };
        for id in ids {
            match control(id) {
                Some(control) if !selected.iter().any(|c| c.id == control.id) => {
                    selected.push(control)
                }
                Some(_) => {}
                None => unknown.push(id.to_string()),
            }
        }
    }
    if !unknown.is_empty() {
        let known: Vec<&str> = catalog().iter().map(|c| c.id).collect();
        return Err(SelectError::Unknown {
            unknown: unknown.join(", "),
            known: known.join(", "),
        });
    }
    if selected.is_empty() {
        return Err(SelectError::Empty);
    }
    Ok(selected)
}

#[cfg(test)]
mod tests;
