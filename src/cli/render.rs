//! Human-readable renderings for the terminal: the findings table, the run summary, the publish
//! summary, the controls list.

use crate::controls::{CisVersion, Control};
use crate::model::findings::{Finding, StatusCounts};
use crate::model::snapshot::{RegionSource, Snapshot};
use crate::run::org::{OrgSummary, Outcome};
use crate::securityhub::PublishReport;
use std::fmt::Write;

/// One line per finding: status, control, resource, evidence sentence.
pub fn finding_table(findings: &[Finding]) -> String {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by(|a, b| {
        (a.status, &a.control_id, &a.resource.id).cmp(&(b.status, &b.control_id, &b.resource.id))
    });
    let control_width = sorted
        .iter()
        .map(|finding| finding.control_id.len())
        .max()
        .unwrap_or(0)
        .max("CONTROL".len());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<13} {:<control_width$} {:<28} EVIDENCE",
        "STATUS", "CONTROL", "RESOURCE"
    );
    for finding in sorted {
        let _ = writeln!(
            out,
            "{:<13} {:<control_width$} {:<28} {}",
            finding.status.as_str(),
            finding.control_id,
            format!("{} {}", finding.resource.kind.noun(), finding.resource.name),
            finding.summary
        );
    }
    out
}

/// The closing summary of a scan or evaluation.
pub fn run_summary(snapshot: &Snapshot, findings: &[Finding], seconds: f64) -> String {
    let counts = StatusCounts::of(findings);
    let mut text = format!(
        "trailwatch: account {}: {} finding(s): {} passed, {} failed, {} warning, {} not available; {} trail(s), {} log group(s), {} API call(s), {} read error(s), {seconds:.1}s",
        snapshot.account_id,
        findings.len(),
        counts.passed,
        counts.failed,
        counts.warning,
        counts.not_available,
        snapshot.chains.trails.len(),
        snapshot.chains.log_groups.len(),
        snapshot.api_calls,
        snapshot.failed_reads().len(),
    );
    if let RegionSource::KnownRegions { reason } = &snapshot.region_source {
        let _ = write!(text, "\n  scope: the enabled regions are unknown: {reason}");
    }
    let unlisted = snapshot.unlisted_regions();
    if !unlisted.is_empty() {
        let _ = write!(
            text,
            "\n  scope: trails not listed in {}; their findings are neither updated nor archived",
            unlisted.join(", ")
        );
    }
    // The same failure in many regions (a denied DescribeTrails in each) is one line.
    let mut grouped: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    for error in snapshot.failed_reads() {
        match grouped.iter_mut().find(|(operation, message, _)| {
            *operation == error.operation && *message == error.message
        }) {
            Some((_, _, regions)) => regions.push(&error.region),
            None => grouped.push((&error.operation, &error.message, vec![&error.region])),
        }
    }
    for (operation, message, regions) in grouped {
        let _ = write!(
            text,
            "\n  read error: {operation} in {}: {message}",
            regions.join(", ")
        );
    }
    text
}

/// The summary of a publish.
pub fn publish_summary(report: &PublishReport) -> String {
    let mut text = format!(
        "trailwatch: Security Hub{}: {} new, {} updated, {} archived, {} failed ({} batch(es), {} import call(s), {} retried)",
        if report.dry_run { " (dry run, nothing imported)" } else { "" },
        report.new,
        report.updated,
        if report.dry_run { report.stale } else { report.archived },
        report.failed.len(),
        report.batches,
        report.import_calls,
        report.retried,
    );
    for failed in &report.failed {
        let _ = write!(
            text,
            "\n  failed: {} ({}: {})",
            failed.id, failed.code, failed.message
        );
    }
    text
}

/// The controls with their mappings: the CIS number in each version (runs of versions that give
/// the same number are written once, `v1.3.0–v5.0.0 4.5`); with a version, also what that
/// version requires of each control and the requirements its findings name.
pub fn control_table(controls: &[Control], version: Option<CisVersion>) -> String {
    let mut out = String::new();
    if let Some(version) = version {
        let _ = writeln!(out, "{}\n", version.benchmark().title);
    }
    // Columns as wide as their longest entry, so a long control id never shifts a row.
    let id_width = controls
        .iter()
        .map(|control| control.id.chars().count())
        .max()
        .unwrap_or(0);
    let hub_width = controls
        .iter()
        .map(|control| control.security_hub.unwrap_or("-").len())
        .max()
        .unwrap_or(0);
    for control in controls {
        let _ = writeln!(
            out,
            "{:<id_width$} {:<hub_width$} {:<6} {}\n{:<id_width$} CIS {}",
            control.id,
            control.security_hub.unwrap_or("-"),
            control.severity.label(),
            control.title,
            "",
            number_runs(&control.numbers())
        );
        if let Some(version) = version {
            for line in in_force(control, version) {
                let _ = writeln!(out, "{:<id_width$} {line}", "");
            }
        }
    }
    out
}

/// The closing summary of an organization scan: counts, then every account not scanned or
/// skipped by name.
pub fn organization_summary(summary: &OrgSummary) -> String {
    let mut text = format!(
        "trailwatch: organization scan from {}: {} account(s): {} scanned, {} could not be scanned, {} skipped (not active), {} excluded; {} coverage finding(s); {:.1}s",
        summary.scanning_account,
        summary.accounts,
        summary.scanned,
        summary.not_scanned,
        summary.skipped,
        summary.excluded,
        summary.coverage_findings,
        summary.duration_ms as f64 / 1000.0,
    );
    for report in &summary.reports {
        if !matches!(report.outcome, Outcome::Scanned { .. }) {
            let _ = write!(text, "\n  {}", report.describe());
        }
    }
    text
}

/// `v1.2.0 3.5; v1.3.0–v5.0.0 4.5; v6.0.0–v7.0.0 5.5`.
fn number_runs(numbers: &[(CisVersion, &str)]) -> String {
    let mut runs: Vec<(CisVersion, CisVersion, &str)> = Vec::new();
    for &(version, number) in numbers {
        match runs.last_mut() {
            Some((_, last, run_number)) if *run_number == number => *last = version,
            _ => runs.push((version, version, number)),
        }
    }
    runs.iter()
        .map(|(first, last, number)| {
            if first == last {
                format!("v{first} {number}")
            } else {
                format!("v{first}–v{last} {number}")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What `version` requires of `control`: the pattern in force, where its text is from, and the
/// requirements a finding names.
fn in_force(control: &Control, version: CisVersion) -> Vec<String> {
    let in_force = control.version_in_force(version);
    let Some(requirement) = in_force.requirement(control.id) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    if in_force != version {
        lines.push(format!(
            "not in v{version}: decided as v{in_force} {} defines it",
            requirement.id
        ));
    }
    if let Some(pattern) = &requirement.pattern {
        lines.push(format!("v{in_force} {} pattern: {pattern}", requirement.id));
    }
    lines.push(format!("source: {}", requirement.source));
    let related: Vec<String> = control
        .related_requirements(version)
        .iter()
        .map(|related| {
            related
                .trim_start_matches("CIS AWS Foundations Benchmark ")
                .to_string()
        })
        .collect();
    lines.push(format!("related requirements: {}", related.join(", ")));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_table_columns_line_up_for_the_longest_id() {
        let table = control_table(crate::controls::catalog(), None);
        let longest = crate::controls::catalog()
            .iter()
            .map(|control| control.id.len())
            .max()
            .unwrap();
        assert!(
            longest > 24,
            "the catalog has an id longer than the old width"
        );
        // Every line's second column starts at the same character position.
        for line in table.lines() {
            let rest = &line[longest..];
            assert!(
                rest.starts_with(' ') && !rest[1..].starts_with(' '),
                "{line:?}"
            );
        }
    }
}
