//! One account, end to end: collect a snapshot, evaluate the chosen controls, time it.
//!
//! Both faces (the CLI's `scan` and the Lambda handler) call [`scan_account`]; publishing is a
//! separate step so that a dry run and a real run share everything before it.

use crate::collect::{collect, CollectError, CollectPlan};
use crate::controls::{self, Control};
use crate::findings::Finding;
use crate::snapshot::Snapshot;
use std::time::{Duration, Instant};

/// What one scan produced.
#[derive(Debug)]
pub struct ScanOutcome {
    pub snapshot: Snapshot,
    pub findings: Vec<Finding>,
    pub duration: Duration,
}

/// Collects the account of `sdk`'s credentials and evaluates `controls` on it.
pub async fn scan_account(
    sdk: &aws_config::SdkConfig,
    plan: &CollectPlan,
    controls: &[&'static Control],
) -> Result<ScanOutcome, CollectError> {
    let started = Instant::now();
    let snapshot = collect(sdk, plan).await?;
    let findings = controls::evaluate(&snapshot, controls);
    Ok(ScanOutcome {
        snapshot,
        findings,
        duration: started.elapsed(),
    })
}

/// Resolves control ids (as given on the command line or in `TRAILWATCH_CONTROLS`): a comma
/// list, `default`, or `all`. Unknown ids are an error naming them and the known ones.
pub fn select_controls(spec: &str) -> Result<Vec<&'static Control>, String> {
    let mut selected: Vec<&'static Control> = Vec::new();
    let mut unknown = Vec::new();
    for id in spec.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        let ids: Vec<&str> = match id {
            "default" => controls::DEFAULT_CONTROLS.to_vec(),
            "all" => controls::catalog()
                .iter()
                .map(|control| control.id)
                .collect(),
            other => vec![other],
        };
        for id in ids {
            match controls::control(id) {
                Some(control) if !selected.iter().any(|c| c.id == control.id) => {
                    selected.push(control)
                }
                Some(_) => {}
                None => unknown.push(id.to_string()),
            }
        }
    }
    if !unknown.is_empty() {
        let known: Vec<&str> = controls::catalog().iter().map(|c| c.id).collect();
        return Err(format!(
            "unknown control id(s): {}; known: {}",
            unknown.join(", "),
            known.join(", ")
        ));
    }
    if selected.is_empty() {
        return Err("no control selected".to_string());
    }
    Ok(selected)
}
