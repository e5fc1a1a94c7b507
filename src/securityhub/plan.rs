//! Planning an import (pure): this run's findings merged with what Security Hub holds — creation
//! times kept, update times advanced — plus the archiving updates of held findings this run no
//! longer produces.
//!
//! What a finding carries depends on whether Security Hub holds its `Id` (user guide, "Using
//! BatchImportFindings to create and update findings",
//! <https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html>):
//!
//! - a new finding carries the top-level `Severity` and `Types` as well as
//!   `FindingProviderFields`: "Required top-level ASFF attributes"
//!   (<https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html>)
//!   lists both among the attributes "required for all findings" (the API reference does not), and
//!   "For a new finding, Security Hub uses the value in FindingProviderFields to populate both the
//!   top-level attribute and the corresponding attribute in FindingProviderFields", so the copies
//!   cost nothing;
//! - an update (archiving ones too) carries `FindingProviderFields` only: "Finding providers also
//!   should not use BatchImportFindings to update the following attributes. Confidence,
//!   Criticality, RelatedFindings, Severity, Types. Instead, finding providers use the
//!   FindingProviderFields object to provide values for these attributes." Security Hub then
//!   copies them to the top level unless a user changed those with BatchUpdateFindings.

use super::asff::AsffFinding;
use super::ARCHIVED;
use std::collections::{HashMap, HashSet};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The findings to send, after merging with what Security Hub holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishPlan {
    /// This run's findings, timestamps merged, followed by the archiving updates (if any).
    pub findings: Vec<AsffFinding>,
    pub new: usize,
    pub updated: usize,
    pub stale: usize,
}

/// Merges this run's findings with the held ones (`existing`: their creation times are kept
/// whatever the scope) at time `now` (RFC 3339), and adds the archiving updates of the held active
/// findings the run `owns` but no longer produces.
///
/// Pure. Findings with an `Id` already seen in `findings` are dropped (the first wins).
pub fn plan(
    findings: Vec<AsffFinding>,
    existing: &[AsffFinding],
    now: &str,
    owns: &dyn Fn(&AsffFinding) -> bool,
) -> PublishPlan {
    let held: HashMap<&str, &AsffFinding> = existing
        .iter()
        .map(|finding| (finding.id.as_str(), finding))
        .collect();
    let mut seen = HashSet::new();
    let mut merged = Vec::with_capacity(findings.len());
    let (mut new, mut updated) = (0, 0);
    for mut finding in findings {
        if !seen.insert(finding.id.clone()) {
            tracing::warn!(finding_id = %finding.id, "duplicate finding id in one run; keeping the first");
            continue;
        }
        match held.get(finding.id.as_str()) {
            Some(previous) => {
                keep_history(&mut finding, previous);
                as_update(&mut finding);
                updated += 1;
            }
            None => {
                as_creation(&mut finding);
                new += 1;
            }
        }
        merged.push(finding);
    }
    let mut stale = 0;
    for previous in existing {
        if previous.record_state == ARCHIVED || seen.contains(&previous.id) || !owns(previous) {
            continue;
        }
        seen.insert(previous.id.clone());
        merged.push(archived(previous, now));
        stale += 1;
    }
    PublishPlan {
        findings: merged,
        new,
        updated,
        stale,
    }
}

/// A finding Security Hub does not hold: top-level `Severity` and `Types`, copied from
/// `FindingProviderFields` (see the module's documentation).
fn as_creation(finding: &mut AsffFinding) {
    finding.severity = Some(finding.finding_provider_fields.severity.clone());
    finding.types = Some(finding.finding_provider_fields.types.clone());
}

/// An update of a held finding: no top-level `Severity` or `Types`, only `FindingProviderFields`
/// (see the module's documentation).
fn as_update(finding: &mut AsffFinding) {
    finding.severity = None;
    finding.types = None;
}

/// Keeps the held finding's creation times and makes the update's times later than its own.
fn keep_history(finding: &mut AsffFinding, previous: &AsffFinding) {
    if !previous.created_at.is_empty() {
        finding.created_at = previous.created_at.clone();
    }
    let first_observed = if previous.first_observed_at.is_empty() {
        &previous.created_at
    } else {
        &previous.first_observed_at
    };
    if !first_observed.is_empty() {
        finding.first_observed_at = first_observed.clone();
    }
    finding.updated_at = later_than(&finding.updated_at, &previous.updated_at);
    finding.last_observed_at = later_than(&finding.last_observed_at, &previous.last_observed_at);
}

/// The archiving update of a held finding that this run no longer produces. Its observation
/// times stay: it was last observed when it was last produced.
fn archived(previous: &AsffFinding, now: &str) -> AsffFinding {
    let mut finding = previous.clone();
    as_update(&mut finding);
    finding.record_state = ARCHIVED.to_string();
    finding.updated_at = later_than(now, &previous.updated_at);
    finding
}

/// `candidate` if it is later than `previous`, else one millisecond after `previous` (Security
/// Hub ignores an update whose `UpdatedAt` is not later). Unparsable times leave `candidate`.
fn later_than(candidate: &str, previous: &str) -> String {
    let (Ok(at), Ok(before)) = (
        OffsetDateTime::parse(candidate, &Rfc3339),
        OffsetDateTime::parse(previous, &Rfc3339),
    ) else {
        return candidate.to_string();
    };
    if at > before {
        return candidate.to_string();
    }
    format_rfc3339(before + time::Duration::milliseconds(1))
        .unwrap_or_else(|| candidate.to_string())
}

/// The current time in RFC 3339, to the millisecond, as Security Hub writes its own.
pub fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now);
    format_rfc3339(now).unwrap_or_default()
}

fn format_rfc3339(at: OffsetDateTime) -> Option<String> {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::securityhub::fixtures::{finding, T1, T2};
    use crate::securityhub::ACTIVE;

    #[test]
    fn an_update_keeps_creation_times_and_advances_the_others() {
        let mut held = finding("a", T1);
        held.first_observed_at = "2025-12-31T00:00:00Z".to_string();
        let plan = plan(
            vec![finding("a", T2), finding("b", T2)],
            &[held],
            T2,
            &|_| true,
        );
        assert_eq!((plan.new, plan.updated, plan.stale), (1, 1, 0));
        let a = &plan.findings[0];
        assert_eq!(a.created_at, T1);
        assert_eq!(a.first_observed_at, "2025-12-31T00:00:00Z");
        assert_eq!(a.updated_at, T2);
        assert_eq!(a.last_observed_at, T2);
        let b = &plan.findings[1];
        assert_eq!((b.created_at.as_str(), b.updated_at.as_str()), (T2, T2));
    }

    #[test]
    fn only_a_new_finding_carries_top_level_severity_and_types() {
        let mut produced = vec![finding("held", T2), finding("new", T2)];
        // Whatever the producer set at the top level: the plan decides.
        produced[1].types = None;
        produced[1].severity = None;
        let held = vec![finding("held", T1), finding("gone", T1)];
        let plan = plan(produced, &held, T2, &|_| true);
        assert_eq!((plan.new, plan.updated, plan.stale), (1, 1, 1));
        let [update, new, archiving] = &plan.findings[..] else {
            panic!("{:?}", plan.findings);
        };
        for update in [update, archiving] {
            assert_eq!(
                (&update.types, &update.severity),
                (&None, &None),
                "{}",
                update.id
            );
            assert!(!update.finding_provider_fields.types.is_empty());
            let json = serde_json::to_value(update).unwrap();
            assert!(json.get("Types").is_none() && json.get("Severity").is_none());
            assert!(json["FindingProviderFields"]["Types"].is_array());
            assert!(json["FindingProviderFields"]["Severity"]["Label"].is_string());
        }
        assert!(new.id.ends_with("/new"));
        assert_eq!(new.types.as_ref(), Some(&new.finding_provider_fields.types));
        assert_eq!(
            new.severity.as_ref(),
            Some(&new.finding_provider_fields.severity)
        );
    }

    #[test]
    fn an_update_is_later_than_the_held_finding_even_with_a_slow_clock() {
        let held = finding("a", T2);
        let plan = plan(vec![finding("a", T1)], &[held], T1, &|_| true);
        let a = &plan.findings[0];
        assert_eq!(a.created_at, T2);
        assert_eq!(a.updated_at, "2026-01-02T00:00:00.001Z");
        assert_eq!(a.last_observed_at, "2026-01-02T00:00:00.001Z");
    }

    #[test]
    fn held_findings_no_longer_produced_are_archived_once() {
        let mut already_archived = finding("gone-long-ago", T1);
        already_archived.record_state = ARCHIVED.to_string();
        let held = vec![finding("kept", T1), finding("gone", T1), already_archived];
        let plan = plan(vec![finding("kept", T2)], &held, T2, &|_| true);
        assert_eq!((plan.new, plan.updated, plan.stale), (0, 1, 1));
        assert_eq!(plan.findings.len(), 2);
        let gone = &plan.findings[1];
        assert!(gone.id.ends_with("/gone"));
        assert_eq!(gone.record_state, ARCHIVED);
        assert_eq!(gone.updated_at, T2);
        assert_eq!(gone.created_at, T1);
        assert_eq!(
            gone.last_observed_at, T1,
            "an archived finding was last seen before"
        );
    }

    #[test]
    fn only_owned_findings_are_archived_but_every_held_one_keeps_its_history() {
        let mut theirs = finding("theirs", T1);
        theirs.generator_id = "trailwatch/nacl-changes".to_string();
        let held = vec![finding("kept", T1), finding("gone", T1), theirs.clone()];
        let owns = |held: &AsffFinding| held.generator_id != "trailwatch/nacl-changes";
        let plan = plan(vec![finding("kept", T2)], &held, T2, &owns);
        assert_eq!((plan.new, plan.updated, plan.stale), (0, 1, 1));
        let ids: Vec<&str> = plan.findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, [held[0].id.as_str(), held[1].id.as_str()]);
        assert_eq!(plan.findings[1].record_state, ARCHIVED);
        // A finding outside the scope, produced again by this run after all, keeps CreatedAt.
        let mut again = theirs.clone();
        again.created_at = T2.to_string();
        let unowned = super::plan(vec![again], &held, T2, &|_| false);
        assert_eq!(unowned.findings[0].created_at, T1);
    }

    #[test]
    fn an_archived_finding_produced_again_becomes_active_with_its_history() {
        let mut held = finding("back", T1);
        held.record_state = ARCHIVED.to_string();
        let plan = plan(vec![finding("back", T2)], &[held], T2, &|_| true);
        assert_eq!((plan.new, plan.updated, plan.stale), (0, 1, 0));
        assert_eq!(plan.findings[0].record_state, ACTIVE);
        assert_eq!(plan.findings[0].created_at, T1);
    }

    #[test]
    fn duplicate_ids_in_one_run_are_sent_once() {
        let plan = plan(vec![finding("a", T1), finding("a", T2)], &[], T2, &|_| true);
        assert_eq!(plan.findings.len(), 1);
        assert_eq!(plan.findings[0].updated_at, T1);
    }

    #[test]
    fn now_is_rfc3339_to_the_millisecond() {
        let now = now_rfc3339();
        assert!(OffsetDateTime::parse(&now, &Rfc3339).is_ok(), "{now}");
        assert!(now.ends_with('Z'));
    }
}
