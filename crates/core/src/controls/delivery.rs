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
use super::evidence::{missing_finding, no_trail_path};
use crate::model::findings::{ComplianceStatus, Evidence, Finding, ResourceKind, ResourceRef};
use crate::model::missing::{delivery_error, rfc3339, MissingLink, Subject};
use crate::model::snapshot::{RegionSource, Snapshot, Trail};
use time::Duration;

/// How recent the last delivery must be.
const DELIVERY_WINDOW: Duration = Duration::hours(24);

pub fn evaluate(snapshot: &Snapshot, control: &Control) -> Vec<Finding> {
    let trails = &snapshot.chains.trails;
    let mut findings: Vec<Finding> = trails
        .iter()
        .filter(|trail| trail_ref(trail).account_id == snapshot.account_id)
        .map(|trail| trail_finding(snapshot, control, trail))
        .collect();
    let regions_unknown = match &snapshot.region_source {
        RegionSource::KnownRegions { reason } => Some(reason.clone()),
        _ => None,
    };
    let unlisted_regions: Vec<String> = snapshot
        .trail_listing_failures()
        .map(|error| format!("{} ({})", error.region, error.message))
        .collect();
    if regions_unknown.is_some() || !unlisted_regions.is_empty() {
        findings.push(missing_finding(
            snapshot,
            control,
            MissingLink::ScopeIncomplete {
                regions_unknown,
                unlisted_regions,
            },
        ));
    } else if trails.is_empty() {
        let path = no_trail_path(snapshot);
        let link = path.missing().cloned().unwrap_or(MissingLink::NoTrail);
        findings.push(missing_finding(snapshot, control, link));
    }
    findings
}

fn trail_finding(snapshot: &Snapshot, control: &Control, trail: &Trail) -> Finding {
    let subject = trail_ref(trail);
    let name = || trail.name.clone();
    let (missing, summary, chain) = match (&trail.log_group_arn, &trail.status) {
        (None, _) => (
            Some(MissingLink::TrailNotSendingToLogs { trail: name() }),
            None,
            vec![subject.clone()],
        ),
        (Some(_), Err(error)) => (
            Some(MissingLink::Unread {
                subject: Subject::DeliveryStatus { trail: name() },
                error: Box::new(error.clone()),
            }),
            None,
            vec![subject.clone()],
        ),
        (Some(log_group_arn), Ok(status)) => {
            let log_group = log_group_link(log_group_arn);
            let last_error = status.latest_cloudwatch_logs_delivery_error.clone();
            let (missing, summary) = match status.latest_cloudwatch_logs_delivery_time {
                None => (
                    Some(MissingLink::NoDeliveryRecorded {
                        trail: name(),
                        log_group: log_group.name.clone(),
                        last_error,
                    }),
                    None,
                ),
                Some(delivered) => {
                    let age = snapshot.collected_at - delivered;
                    if age > DELIVERY_WINDOW {
                        (
                            Some(MissingLink::DeliveryStale {
                                trail: name(),
                                log_group: log_group.name.clone(),
                                delivered,
                                hours_before_scan: age.whole_hours(),
                                last_error,
                            }),
                            None,
                        )
                    } else {
                        (
                            None,
                            Some(format!(
                                "trail {} → log group {}: last delivered {}{}",
                                trail.name,
                                log_group.name,
                                rfc3339(delivered),
                                delivery_error(&last_error)
                            )),
                        )
                    }
                }
            };
            (missing, summary, vec![subject.clone(), log_group])
        }
    };
    let (status, summary) = match &missing {
        Some(link) => (link.status(), link.to_string()),
        None => (ComplianceStatus::Passed, summary.unwrap_or_default()),
    };
    Finding {
        control_id: control.id.to_string(),
        account_id: snapshot.account_id.clone(),
        partition: snapshot.partition.clone(),
        resource: subject,
        status,
        summary,
        evidence: Evidence { chain, missing },
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
