//! CIS 3.4 (v1.2: 2.4; Security Hub CloudTrail.5): every trail sends its events to CloudWatch
//! Logs, and delivered there within the last 24 hours.
//!
//! One finding per trail the account owns: an organization trail's finding belongs to the account
//! that owns it, once, not to every member that sees it. An account with no trail fails (one account-level finding); when trails
//! could not be listed in some region, or the regions themselves could not be listed (the scan
//! then guessed them from the partition's known regions), an account-level NOT_AVAILABLE finding
//! says so, since a single-Region trail there would be unseen.

use super::catalog::Control;
use super::chain::trail_ref;
use super::evidence::{account_finding, no_trail_path};
use crate::model::findings::{ComplianceStatus, Evidence, Finding, ResourceKind, ResourceRef};
use crate::model::snapshot::{RegionSource, Snapshot, Trail};
use time::{Duration, OffsetDateTime};

/// How recent the last delivery must be.
const DELIVERY_WINDOW: Duration = Duration::hours(24);

pub fn evaluate(snapshot: &Snapshot, control: &Control) -> Vec<Finding> {
    let mut findings: Vec<Finding> = snapshot
        .trails
        .iter()
        .filter(|trail| trail_ref(trail).account_id == snapshot.account_id)
        .map(|trail| trail_finding(snapshot, control, trail))
        .collect();
    let unlisted: Vec<String> = snapshot
        .read_errors
        .iter()
        .filter(|error| error.operation.ends_with("DescribeTrails"))
        .map(|error| format!("{} ({})", error.region, error.message))
        .collect();
    let mut gaps = Vec::new();
    if let RegionSource::KnownRegions { reason } = &snapshot.region_source {
        gaps.push(format!("the enabled regions are unknown: {reason}"));
    }
    if !unlisted.is_empty() {
        gaps.push(format!(
            "trails could not be listed in {}: a single-Region trail there was not checked",
            unlisted.join(", ")
        ));
    }
    if !gaps.is_empty() {
        findings.push(account_finding(
            snapshot,
            control,
            ComplianceStatus::NotAvailable,
            gaps.join("; "),
            Evidence::default(),
        ));
    } else if snapshot.trails.is_empty() {
        let path = no_trail_path(snapshot);
        findings.push(account_finding(
            snapshot,
            control,
            ComplianceStatus::Failed,
            path.sentence(),
            Evidence {
                missing: Some(path.sentence()),
                ..Evidence::default()
            },
        ));
    }
    findings
}

fn trail_finding(snapshot: &Snapshot, control: &Control, trail: &Trail) -> Finding {
    let subject = trail_ref(trail);
    let name = &trail.name;
    let (status, summary, chain) = match (&trail.log_group_arn, &trail.status) {
        (None, _) => (
            ComplianceStatus::Failed,
            format!("trail {name} does not send its events to CloudWatch Logs"),
            vec![subject.clone()],
        ),
        (Some(_), Err(error)) => (
            ComplianceStatus::NotAvailable,
            format!(
                "could not read the status of trail {name} ({} in {}: {})",
                error.operation, error.region, error.message
            ),
            vec![subject.clone()],
        ),
        (Some(log_group_arn), Ok(status)) => {
            let log_group = log_group_link(log_group_arn);
            let target = format!("trail {name} → log group {}", log_group.name);
            let error_note = status
                .latest_cloudwatch_logs_delivery_error
                .as_deref()
                .map(|error| format!("; last delivery error: {error}"))
                .unwrap_or_default();
            let (status, summary) = match status.latest_cloudwatch_logs_delivery_time {
                None => (
                    ComplianceStatus::Failed,
                    format!("{target}: no delivery to CloudWatch Logs recorded{error_note}"),
                ),
                Some(delivered) => {
                    let age = snapshot.collected_at - delivered;
                    let when = rfc3339(delivered);
                    if age > DELIVERY_WINDOW {
                        (
                            ComplianceStatus::Failed,
                            format!(
                                "{target}: last delivered {when}, {} hours before the scan (more than 24){error_note}",
                                age.whole_hours()
                            ),
                        )
                    } else {
                        (
                            ComplianceStatus::Passed,
                            format!("{target}: last delivered {when}"),
                        )
                    }
                }
            };
            (status, summary, vec![subject.clone(), log_group])
        }
    };
    let missing = (status != ComplianceStatus::Passed).then(|| summary.clone());
    Finding {
        control_id: control.id.to_string(),
        account_id: snapshot.account_id.clone(),
        partition: snapshot.partition.clone(),
        resource: subject,
        status,
        summary,
        evidence: Evidence {
            chain,
            missing,
            counterexample: None,
        },
    }
}

fn log_group_link(arn: &str) -> ResourceRef {
    match crate::model::arn::LogGroupArn::parse(arn) {
        Ok(parsed) => ResourceRef {
            kind: ResourceKind::LogGroup,
            id: crate::model::arn::strip_log_group_wildcard(arn).to_string(),
            name: parsed.name,
            region: parsed.region,
            account_id: parsed.account_id,
        },
        Err(_) => ResourceRef {
            kind: ResourceKind::LogGroup,
            id: arn.to_string(),
            name: arn.to_string(),
            region: String::new(),
            account_id: String::new(),
        },
    }
}

fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.to_string())
}
