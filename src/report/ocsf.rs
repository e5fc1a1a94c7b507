//! `--format ocsf`: one OCSF Compliance Finding event (class 2003, category Findings, OCSF
//! [`OCSF_VERSION`]) per finding, as a JSON array — what Amazon Security Lake and most SIEMs
//! read. Each event carries the control, its CIS requirements and those of the other frameworks it
//! serves (`compliance.requirements`, `compliance.standards`), the status
//! (`compliance.status_id`, and trailwatch's own in `status_code`), the resources of the chain in
//! order (`resources`), the same evidence as the ASFF finding (`evidences`: the chain and the
//! typed missing link with its counterexample event) and the remediation; the account through
//! the `cloud` profile.
//!
//! Schema: https://schema.ocsf.io/1.5.0/classes/compliance_finding. The tests validate every
//! event against the OCSF models of `py-ocsf-models` (pinned in requirements-dev.txt, whose
//! OCSF version is this one).

use super::RunReport;
use crate::controls::{Control, Severity};
use crate::model::findings::{ComplianceStatus, Finding, ResourceKind, ResourceRef};
use crate::securityhub::asff;
use serde_json::{json, Value};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.5.0";

/// Compliance Finding.
const CLASS_UID: u32 = 2003;
/// Activity `Create` (1): `type_uid` = class_uid × 100 + activity_id.
const ACTIVITY_CREATE: u32 = 1;

/// Every finding of the run, failures first, as a JSON array of events.
pub fn render(report: &RunReport) -> String {
    let time = time::OffsetDateTime::parse(
        &report.generated_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map(|time| (time.unix_timestamp_nanos() / 1_000_000) as i64)
    .unwrap_or_default();
    let events: Vec<Value> = report
        .accounts_worst_first()
        .into_iter()
        .flat_map(|account| {
            account
                .findings
                .iter()
                .map(move |finding| event(report, &account.name, finding, time))
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&events).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}

/// One finding as an OCSF event; `time` in milliseconds since the epoch.
fn event(report: &RunReport, account_name: &str, finding: &Finding, time: i64) -> Value {
    let control = report
        .controls
        .iter()
        .find(|control| control.id == finding.control_id);
    let (severity_id, severity) = severity(control.map(|control| control.severity));
    let (compliance_status_id, compliance_status) = compliance_status(finding.status);
    let standard = format!("CIS AWS Foundations Benchmark v{}", report.cis_version);
    // CIS first, then every other framework the control serves (controls/frameworks).
    let mut standards = vec![standard.clone()];
    standards.extend(
        control
            .into_iter()
            .flat_map(|control| control.frameworks())
            .map(|framework| framework.title.clone()),
    );
    let requirement = report.cis_number(&finding.control_id);
    let mut resources = vec![resource(&finding.resource, &finding.partition)];
    resources.extend(
        finding
            .evidence
            .chain
            .iter()
            .map(|link| resource(link, &finding.partition)),
    );
    let title = control.map(|control| control.title).unwrap_or("trailwatch");
    let mut event = json!({
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": 2,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Compliance Finding: Create",
        "time": time,
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 1,
        "status": "New",
        "status_code": finding.status.as_str(),
        "status_detail": compliance_status,
        "message": finding.summary,
        "metadata": {
            "version": OCSF_VERSION,
            "uid": asff::finding_id(finding),
            "event_code": finding.control_id,
            "profiles": ["cloud"],
            "product": {
                "name": "trailwatch",
                "vendor_name": "trailwatch",
                "version": env!("CARGO_PKG_VERSION"),
            },
        },
        "finding_info": {
            "uid": asff::finding_id(finding),
            "title": title,
            "desc": finding.summary,
            "created_time": time,
            "types": ["Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"],
        },
        "compliance": {
            "control": requirement
                .map(|number| format!("{standard} - Control {number} - {title}"))
                .unwrap_or_else(|| title.to_string()),
            "requirements": control
                .map(|control| control.compliance_requirements(report.cis_version))
                .unwrap_or_default(),
            "standards": standards,
            "status_id": compliance_status_id,
        },
        "resources": resources,
        "evidences": [{
            "name": "chain",
            "data": serde_json::to_value(&finding.evidence).unwrap_or(Value::Null),
        }],
        "cloud": {
            "provider": "AWS",
            "region": finding.resource.region,
            "account": {
                "uid": finding.account_id,
                "type_id": 10,
                "type": "AWS Account",
                "name": account_name,
            },
        },
    });
    if let Some(control) = control {
        event["remediation"] = remediation(control);
        event["finding_info"]["src_url"] = json!(control.remediation_url);
    }
    event
}

fn remediation(control: &Control) -> Value {
    json!({
        "desc": control.remediation,
        "references": [control.remediation_url],
    })
}

/// A chain link (or the finding's subject) as an OCSF resource, typed by its CloudFormation
/// resource type.
fn resource(resource: &ResourceRef, partition: &str) -> Value {
    let resource_type = match resource.kind {
        ResourceKind::Account => "AWS::::Account",
        ResourceKind::Trail => "AWS::CloudTrail::Trail",
        ResourceKind::LogGroup => "AWS::Logs::LogGroup",
        ResourceKind::MetricFilter => "AWS::Logs::MetricFilter",
        ResourceKind::Alarm => "AWS::CloudWatch::Alarm",
        ResourceKind::CompositeAlarm => "AWS::CloudWatch::CompositeAlarm",
        ResourceKind::Topic => "AWS::SNS::Topic",
        ResourceKind::Subscription => "AWS::SNS::Subscription",
    };
    json!({
        "uid": resource.id,
        "name": resource.name,
        "type": resource_type,
        "region": resource.region,
        "cloud_partition": partition,
        "data": {"account_id": resource.account_id},
    })
}

/// OCSF `severity_id` and its caption.
fn severity(severity: Option<Severity>) -> (u8, &'static str) {
    match severity {
        None => (0, "Unknown"),
        Some(Severity::Informational) => (1, "Informational"),
        Some(Severity::Low) => (2, "Low"),
        Some(Severity::Medium) => (3, "Medium"),
        Some(Severity::High) => (4, "High"),
    }
}

/// OCSF compliance `status_id` and its caption: Warning is "did not yield a result due to
/// missing information", which is both NOT_AVAILABLE (a read failed) and WARNING (undecided).
fn compliance_status(status: ComplianceStatus) -> (u8, &'static str) {
    match status {
        ComplianceStatus::Passed => (1, "Pass"),
        ComplianceStatus::Warning | ComplianceStatus::NotAvailable => (2, "Warning"),
        ComplianceStatus::Failed => (3, "Fail"),
    }
}
