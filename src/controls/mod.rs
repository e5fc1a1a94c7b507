//! The controls trailwatch evaluates: declarations (data) plus the evaluators they share.
//!
//! A [`Control`] says what a CIS requirement is (id, title, CIS numbers per benchmark version,
//! Security Hub control, severity, remediation) and how to decide it ([`Check`]): either the
//! trail → CloudWatch Logs delivery check (CIS 3.4), or a monitoring chain with a required filter
//! pattern (CIS 4.x). Adding another CIS monitoring control is adding an entry to [`catalog`].

mod catalog;
mod chain;
mod delivery;
mod evidence;
mod selectors;

pub use catalog::{
    catalog, control, Check, CisRef, Control, Monitoring, Severity, DEFAULT_CONTROLS,
};

use crate::findings::Finding;
use crate::snapshot::Snapshot;

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
        }
    }
    findings
}

#[cfg(test)]
mod tests;
