//! Human-readable renderings for the terminal: the findings table, the run summary, the publish
//! summary, the controls list and a framework's requirements.

use crate::controls::{CisVersion, Control, Framework};
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
        let served = control.framework_requirements();
        if !served.is_empty() {
            let _ = writeln!(out, "{:<id_width$} also serves: {}", "", served.join(", "));
        }
        if let Some(version) = version {
            for line in in_force(control, version) {
                let _ = writeln!(out, "{:<id_width$} {line}", "");
            }
        }
    }
    out
}

/// `trailwatch controls --framework F`: the framework's requirements, each with the controls that
/// serve it, then each mapped control with its Security Hub control and the page the mapping is
/// from. Columns as wide as their longest entry.
pub fn framework_table(framework: &Framework) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({})
",
        framework.title, framework.id
    );
    let requirements = framework.requirements();
    let requirement_width = requirements
        .iter()
        .map(|(name, _)| name.chars().count())
        .chain(["REQUIREMENT".len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(out, "{:<requirement_width$} CONTROLS", "REQUIREMENT");
    for (name, controls) in &requirements {
        let _ = writeln!(out, "{name:<requirement_width$} {}", controls.join(", "));
    }
    let control_width = framework
        .mappings
        .iter()
        .map(|mapping| mapping.control.chars().count())
        .chain(["CONTROL".len()])
        .max()
        .unwrap_or(0);
    let hub_width = framework
        .mappings
        .iter()
        .map(|mapping| mapping.security_hub.chars().count())
        .chain(["SECURITY HUB".len()])
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "\n{:<control_width$} {:<hub_width$} SOURCE",
        "CONTROL", "SECURITY HUB"
    );
    for mapping in &framework.mappings {
        let _ = writeln!(
            out,
            "{:<control_width$} {:<hub_width$} {}",
            mapping.control, mapping.security_hub, mapping.source
        );
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
    fn a_framework_lists_its_requirements_and_sources_in_aligned_columns() {
        let framework = Framework::parse("pci-dss-v3.2.1").unwrap();
        let table = framework_table(framework);
        let expected = "\
PCI DSS v3.2.1 (pci-dss-v3.2.1)

REQUIREMENT           CONTROLS
PCI DSS v3.2.1/7.2.1  root-usage
PCI DSS v3.2.1/10.5.3 trail-cw-logs

CONTROL       SECURITY HUB SOURCE
trail-cw-logs CloudTrail.5 https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html#cloudtrail-5
root-usage    CloudWatch.1 https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1
";
        assert_eq!(table, expected);
        // Every framework: a requirement's controls start in the same column on every line.
        for framework in crate::controls::frameworks() {
            let table = framework_table(framework);
            let block: Vec<&str> = table
                .lines()
                .skip(2)
                .take_while(|line| !line.is_empty())
                .collect();
            let column = block[0].find("CONTROLS").unwrap();
            for line in &block {
                assert!(
                    line[..column].ends_with(' ') && !line[column..].starts_with(' '),
                    "{line:?}"
                );
            }
        }
    }

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
