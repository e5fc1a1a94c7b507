//! The controls trailwatch evaluates: declarations (data) plus the evaluators they share.
//!
//! A [`Control`] says what a CIS requirement is (id, title, Security Hub control, severity,
//! remediation) and how to decide it ([`Check`]): the trail → CloudWatch Logs delivery check (CIS
//! 3.4), a monitoring chain with a required filter pattern (CIS 4.1–4.15, 5.1–5.15 in v6.0.0+),
//! or Security Hub being enabled (CIS 4.16 / 5.16). Each benchmark version's numbers and patterns
//! are data too, one mapping file per version ([`benchmark`]); an evaluation runs under one chosen
//! [`CisVersion`]. Adding another CIS monitoring control is adding an entry to [`catalog`] and to
//! the mapping files of the versions that have it.

mod benchmark;
mod catalog;
mod chain;
pub mod changes;
mod coverage;
mod delivery;
mod emitters;
mod evidence;
pub mod firing;
mod frameworks;
mod notify;
pub mod scan_coverage;
mod securityhub;
mod selectors;

pub use benchmark::{known_versions, Benchmark, CisVersion, Requirement, UnknownVersion};
pub use catalog::{
    catalog, control, Check, Control, Domain, Monitoring, MonitoringSpec, RecordKind, Severity,
    DEFAULT_CONTROLS,
};
pub use coverage::Required;
pub use frameworks::{frameworks, known_frameworks, Framework, Mapping, UnknownFramework};

use crate::model::findings::Finding;
use crate::model::missing::MissingLink;
use crate::model::snapshot::Snapshot;

/// A control any finding can name: the catalog's, or trailwatch's own [`scan_coverage`] check.
pub fn declared(id: &str) -> Option<&'static Control> {
    control(id).or_else(|| {
        (id == scan_coverage::SCAN_COVERAGE.id).then_some(&scan_coverage::SCAN_COVERAGE)
    })
}

/// Evaluates the given controls over a snapshot, each as `version` defines it (its pattern in
/// force, see [`Control::monitoring`]). Pure: the same snapshot gives the same findings.
pub fn evaluate(snapshot: &Snapshot, controls: &[&Control], version: CisVersion) -> Vec<Finding> {
    let mut findings = Vec::new();
    let parsed = chain::ParsedFilters::default();
    for control in controls {
        match &control.check {
            Check::TrailDelivery => findings.extend(delivery::evaluate(snapshot, control)),
            Check::Monitoring(_) => match control.monitoring(version) {
                Some(monitoring) => {
                    findings.push(chain::evaluate(snapshot, control, monitoring, &parsed))
                }
                // The mapping files give every monitoring control a pattern (a unit test checks).
                None => findings.push(evidence::missing_finding(
                    snapshot,
                    control,
                    MissingLink::NoControlPattern,
                )),
            },
            Check::SecurityHubEnabled => findings.push(securityhub::evaluate(snapshot, control)),
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
pub(crate) mod tests;
