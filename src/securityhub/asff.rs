//! AWS Security Finding Format: our findings as Security Hub holds them.
//!
//! [`AsffFinding`] mirrors the ASFF fields trailwatch fills, with ASFF's own (PascalCase) names, so
//! its JSON is exactly what `BatchImportFindings` receives and what `--output` writes. The
//! conversion from a [`Finding`] is deterministic: the `Id` depends only on partition, account,
//! control and resource, so a rerun updates the finding instead of adding a duplicate.
//!
//! Severity and types are given in `FindingProviderFields`, where the user guide tells finding
//! providers to give them; the top-level `Severity` and `Types` ([`AsffFinding::severity`],
//! [`AsffFinding::types`]) are copies of them that are sent only when a finding is created (see
//! [`plan`](super::plan)).
//!
//! `Workflow` is left to Security Hub and its users: BatchImportFindings ignores it when updating
//! a finding, so a value trailwatch set at creation would go stale as the status changes.

use super::limits::within_limits;
use crate::controls::{self, CisVersion, Control, Severity};
use crate::model::findings::{ComplianceStatus, Finding, ResourceKind, ResourceRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The ASFF schema version Security Hub expects.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// The finding type of every CIS check.
pub const CIS_FINDING_TYPE: &str =
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";
/// Prefix of every `ProductFields` key trailwatch writes, and of every `GeneratorId`.
pub const PRODUCT_PREFIX: &str = "trailwatch";
/// `ProductFields` key of the finding's control id.
pub const CONTROL_ID_FIELD: &str = "trailwatch/ControlId";
/// `ProductFields` key of the evidence sentence.
pub const EVIDENCE_FIELD: &str = "trailwatch/Evidence";
/// `ProductFields` key of the missing or broken link.
pub const MISSING_FIELD: &str = "trailwatch/Missing";
/// `ProductFields` key of the missing link's kind (`trail_not_logging`, …), for tools to match on.
pub const MISSING_KIND_FIELD: &str = "trailwatch/MissingKind";
/// How to get a failing finding's full remediation plan (`trailwatch remediate`).
pub const REMEDIATION_PLAN_FIELD: &str = "trailwatch/RemediationPlan";
/// `ProductFields` key of the event a filter misses (JSON).
pub const COUNTEREXAMPLE_FIELD: &str = "trailwatch/CounterexampleEvent";

/// One finding in ASFF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    /// Top-level `Types`: only in a finding Security Hub does not hold yet, as a copy of
    /// `FindingProviderFields.Types` (absent from updates, see [`plan`](super::plan)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<String>>,
    /// Top-level `Severity`: like [`AsffFinding::types`], a copy of
    /// `FindingProviderFields.Severity` in a new finding only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<FindingSeverity>,
    pub created_at: String,
    pub updated_at: String,
    pub first_observed_at: String,
    pub last_observed_at: String,
    pub title: String,
    pub description: String,
    pub finding_provider_fields: FindingProviderFields,
    pub compliance: Compliance,
    pub remediation: Remediation,
    pub resources: Vec<AsffResource>,
    pub product_fields: BTreeMap<String, String>,
    pub record_state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingProviderFields {
    pub severity: FindingSeverity,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingSeverity {
    /// INFORMATIONAL, LOW, MEDIUM, HIGH or CRITICAL.
    pub label: String,
    pub original: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Compliance {
    pub status: String,
    pub related_requirements: Vec<String>,
    pub status_reasons: Vec<StatusReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_control_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusReason {
    pub reason_code: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Remediation {
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recommendation {
    pub text: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffResource {
    #[serde(rename = "Type")]
    pub resource_type: String,
    pub id: String,
    pub partition: String,
    pub region: String,
}

/// Where and when the findings are published.
#[derive(Debug, Clone)]
pub struct AsffContext {
    /// The Security Hub region the findings are imported into.
    pub region: String,
    /// RFC 3339 time of this run (`UpdatedAt`, `LastObservedAt`, and `CreatedAt` of new findings).
    pub observed_at: String,
    /// The benchmark version the findings were decided under (`Compliance.RelatedRequirements`).
    pub cis_version: CisVersion,
    /// The first step of each failing control's remediation plan, by control id
    /// ([`trailwatch_core::remediate::first_steps`]): the recommendation text of its findings.
    pub first_steps: BTreeMap<String, String>,
}

/// `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`.
pub fn default_product_arn(partition: &str, region: &str, account_id: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account_id}:product/{account_id}/default")
}

/// The deterministic ASFF `Id` of a finding.
pub fn finding_id(finding: &Finding) -> String {
    format!("{PRODUCT_PREFIX}/{}", finding.key())
}

/// The `GeneratorId` of a control.
pub fn generator_id(control_id: &str) -> String {
    format!("{PRODUCT_PREFIX}/{control_id}")
}

/// A finding names a control trailwatch does not declare: a bug, reported rather than dropped.
#[derive(Debug, thiserror::Error)]
#[error("finding {key} names control {control_id:?}, which trailwatch does not declare")]
pub struct UnknownControl {
    pub control_id: String,
    pub key: String,
}

/// Turns a run's findings into ASFF, each with its own control's metadata and within Security
/// Hub's field limits ([`within_limits`]). Every face converts through here, so a finding is
/// either converted or the run fails with [`UnknownControl`].
pub fn from_findings(
    findings: &[Finding],
    context: &AsffContext,
) -> Result<Vec<AsffFinding>, UnknownControl> {
    findings
        .iter()
        .map(|finding| match controls::declared(&finding.control_id) {
            Some(control) => Ok(within_limits(to_asff(finding, control, context))),
            None => Err(UnknownControl {
                control_id: finding.control_id.clone(),
                key: finding.key(),
            }),
        })
        .collect()
}

/// Turns one finding into ASFF, texts and lists at full length. `control` must be the finding's
/// control.
fn to_asff(finding: &Finding, control: &Control, context: &AsffContext) -> AsffFinding {
    let status = finding.status;
    let mut product_fields = BTreeMap::new();
    product_fields.insert(CONTROL_ID_FIELD.to_string(), finding.control_id.clone());
    product_fields.insert(EVIDENCE_FIELD.to_string(), finding.summary.clone());
    if let Some(missing) = &finding.evidence.missing {
        product_fields.insert(MISSING_FIELD.to_string(), missing.to_string());
        product_fields.insert(MISSING_KIND_FIELD.to_string(), missing.kind());
    }
    for (position, link) in finding.evidence.chain.iter().enumerate() {
        product_fields.insert(
            format!("{PRODUCT_PREFIX}/Chain/{position}/{}", link.kind.noun()),
            link.id.clone(),
        );
    }
    if let Some(event) = finding.evidence.counterexample() {
        product_fields.insert(COUNTEREXAMPLE_FIELD.to_string(), event.to_string());
    }
    let first_step = (status != ComplianceStatus::Passed)
        .then(|| context.first_steps.get(&finding.control_id))
        .flatten();
    if first_step.is_some() {
        product_fields.insert(
            REMEDIATION_PLAN_FIELD.to_string(),
            format!(
                "the full plan (AWS CLI, CloudFormation or JSON): trailwatch remediate --controls {} --notify PROTOCOL:ENDPOINT [--format cli|cloudformation|json] [--organization], or trailwatch remediate SNAPSHOT.json --controls {}",
                finding.control_id, finding.control_id
            ),
        );
    }

    let mut resources = vec![asff_resource(&finding.resource, &finding.partition)];
    for link in &finding.evidence.chain {
        if link.id != finding.resource.id && !resources.iter().any(|r| r.id == link.id) {
            resources.push(asff_resource(link, &finding.partition));
        }
    }

    let severity = match status {
        // A passing control is informational whatever the control's weight.
        ComplianceStatus::Passed => Severity::Informational,
        _ => control.severity,
    };
    let severity = FindingSeverity {
        label: severity.label().to_string(),
        original: severity.label().to_string(),
    };
    let types = vec![CIS_FINDING_TYPE.to_string()];

    AsffFinding {
        schema_version: SCHEMA_VERSION.to_string(),
        id: finding_id(finding),
        product_arn: default_product_arn(&finding.partition, &context.region, &finding.account_id),
        generator_id: generator_id(&finding.control_id),
        aws_account_id: finding.account_id.clone(),
        // As a new finding: a complete ASFF document (for `--output`) until the plan knows
        // whether Security Hub holds it.
        types: Some(types.clone()),
        severity: Some(severity.clone()),
        created_at: context.observed_at.clone(),
        updated_at: context.observed_at.clone(),
        first_observed_at: context.observed_at.clone(),
        last_observed_at: context.observed_at.clone(),
        title: control.title.to_string(),
        description: format!("{}: {}", status.as_str(), finding.summary),
        finding_provider_fields: FindingProviderFields { severity, types },
        compliance: Compliance {
            status: status.as_str().to_string(),
            related_requirements: control.compliance_requirements(context.cis_version),
            status_reasons: vec![StatusReason {
                reason_code: reason_code(status).to_string(),
                description: finding.summary.clone(),
            }],
            security_control_id: control.security_hub.map(str::to_string),
        },
        remediation: Remediation {
            recommendation: Recommendation {
                text: first_step
                    .cloned()
                    .unwrap_or_else(|| control.remediation.to_string()),
                url: control.remediation_url.to_string(),
            },
        },
        resources,
        product_fields,
        record_state: "ACTIVE".to_string(),
    }
}

/// The `ReasonCode` trailwatch gives each status (ASFF asks for a short code with the text).
fn reason_code(status: ComplianceStatus) -> &'static str {
    match status {
        ComplianceStatus::Passed => "CHAIN_COMPLETE",
        ComplianceStatus::Failed => "CHAIN_INCOMPLETE",
        ComplianceStatus::Warning => "UNDECIDED",
        ComplianceStatus::NotAvailable => "READ_FAILED",
    }
}

/// The ASFF resource of a chain link or finding subject.
fn asff_resource(resource: &ResourceRef, partition: &str) -> AsffResource {
    let (resource_type, id) = match resource.kind {
        ResourceKind::Account => (
            "AwsAccount",
            format!("AWS::::Account:{}", resource.account_id),
        ),
        ResourceKind::Trail => ("AwsCloudTrailTrail", resource.id.clone()),
        ResourceKind::Alarm | ResourceKind::CompositeAlarm => {
            ("AwsCloudWatchAlarm", resource.id.clone())
        }
        ResourceKind::Topic => ("AwsSnsTopic", resource.id.clone()),
        // ASFF has no resource type for CloudWatch Logs log groups, metric filters or SNS
        // subscriptions; "Other" is what the format prescribes for types it does not list.
        ResourceKind::LogGroup | ResourceKind::MetricFilter | ResourceKind::Subscription => {
            ("Other", resource.id.clone())
        }
    };
    AsffResource {
        resource_type: resource_type.to_string(),
        id,
        partition: partition.to_string(),
        region: resource.region.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::control;
    use crate::model::findings::Evidence;
    use crate::model::missing::MissingLink;

    fn link(kind: ResourceKind, id: &str, region: &str) -> ResourceRef {
        ResourceRef {
            kind,
            id: id.to_string(),
            name: id.rsplit([':', '/']).next().unwrap().to_string(),
            region: region.to_string(),
            account_id: "111122223333".to_string(),
        }
    }

    fn finding(partition: &str, status: ComplianceStatus) -> Finding {
        Finding {
            control_id: "cloudtrail-changes".to_string(),
            account_id: "111122223333".to_string(),
            partition: partition.to_string(),
            resource: link(
                ResourceKind::Account,
                "AWS::::Account:111122223333",
                "us-gov-west-1",
            ),
            status,
            summary: "trail t → log group g: filter f does not cover the CIS pattern".to_string(),
            evidence: Evidence {
                chain: vec![
                    link(
                        ResourceKind::Trail,
                        &format!("arn:{partition}:cloudtrail:us-gov-west-1:111122223333:trail/t"),
                        "us-gov-west-1",
                    ),
                    link(
                        ResourceKind::LogGroup,
                        &format!("arn:{partition}:logs:us-gov-west-1:111122223333:log-group:g"),
                        "us-gov-west-1",
                    ),
                ],
                missing: Some(MissingLink::FilterDoesNotCover {
                    filter: "f".to_string(),
                    other_filters: 0,
                    missed: "eventName=StopLogging".to_string(),
                    counterexample: serde_json::json!({"eventName": "StopLogging"}),
                }),
            },
        }
    }

    fn context() -> AsffContext {
        AsffContext {
            region: "us-gov-west-1".to_string(),
            observed_at: "2026-11-23T12:00:00Z".to_string(),
            cis_version: CisVersion::newest(),
            first_steps: BTreeMap::new(),
        }
    }

    #[test]
    fn fills_the_fields_security_hub_requires() {
        let control = control("cloudtrail-changes").unwrap();
        let asff = to_asff(
            &finding("aws-us-gov", ComplianceStatus::Failed),
            control,
            &context(),
        );
        assert_eq!(asff.schema_version, "2018-10-08");
        assert_eq!(
            asff.product_arn,
            "arn:aws-us-gov:securityhub:us-gov-west-1:111122223333:product/111122223333/default"
        );
        assert_eq!(asff.generator_id, "trailwatch/cloudtrail-changes");
        assert_eq!(
            asff.id,
            "trailwatch/aws-us-gov/111122223333/cloudtrail-changes/AWS::::Account:111122223333"
        );
        assert_eq!(asff.types, Some(vec![CIS_FINDING_TYPE.to_string()]));
        assert_eq!(
            asff.severity.as_ref(),
            Some(&asff.finding_provider_fields.severity)
        );
        assert_eq!(asff.compliance.status, "FAILED");
        assert_eq!(
            asff.compliance.security_control_id.as_deref(),
            Some("CloudWatch.5")
        );
        assert!(asff
            .compliance
            .related_requirements
            .contains(&"CIS AWS Foundations Benchmark v1.4.0/4.5".to_string()));
        // CloudWatch.5's page names NIST SP 800-171 r2 3.3.8 (controls/frameworks/README.md).
        assert!(asff
            .compliance
            .related_requirements
            .contains(&"NIST.800-171.r2 3.3.8".to_string()));
        assert_eq!(asff.finding_provider_fields.severity.label, "LOW");
        assert!(asff
            .description
            .starts_with("FAILED: trail t → log group g"));
        let types: Vec<&str> = asff
            .resources
            .iter()
            .map(|r| r.resource_type.as_str())
            .collect();
        assert_eq!(types, ["AwsAccount", "AwsCloudTrailTrail", "Other"]);
        assert!(asff.resources.iter().all(|r| r.partition == "aws-us-gov"));
        assert_eq!(
            asff.product_fields["trailwatch/CounterexampleEvent"],
            r#"{"eventName":"StopLogging"}"#
        );
        // ASFF's own field names on the wire.
        let json = serde_json::to_value(&asff).unwrap();
        assert!(json["FindingProviderFields"]["Severity"]["Label"].is_string());
        assert_eq!(json["Resources"][0]["Type"], "AwsAccount");
    }

    #[test]
    fn id_depends_only_on_partition_account_control_and_resource() {
        let control = control("cloudtrail-changes").unwrap();
        let failed = to_asff(
            &finding("aws", ComplianceStatus::Failed),
            control,
            &context(),
        );
        let passed = to_asff(
            &finding("aws", ComplianceStatus::Passed),
            control,
            &AsffContext {
                observed_at: "2026-11-24T12:00:00Z".to_string(),
                ..context()
            },
        );
        assert_eq!(failed.id, passed.id);
        assert_eq!(
            passed.finding_provider_fields.severity.label,
            "INFORMATIONAL"
        );
        assert_ne!(
            failed.id,
            to_asff(
                &finding("aws-cn", ComplianceStatus::Failed),
                control,
                &context()
            )
            .id
        );
    }

    #[test]
    fn a_failing_finding_recommends_the_first_step_of_its_plan_and_says_how_to_get_the_rest() {
        let snapshot = crate::model::snapshot::Snapshot::from_json(include_str!(
            "../../tests/fixtures/demo-account.snapshot.json"
        ))
        .unwrap();
        let selected = controls::select("all").unwrap();
        let findings = controls::evaluate(&snapshot, &selected, CisVersion::newest());
        let context = AsffContext {
            first_steps: trailwatch_core::remediate::first_steps(
                &snapshot,
                &findings,
                &selected,
                CisVersion::newest(),
            ),
            ..context()
        };
        let asff = from_findings(&findings, &context).unwrap();
        let mut failing = 0;
        for (finding, asff) in findings.iter().zip(&asff) {
            let text = &asff.remediation.recommendation.text;
            let plan = asff.product_fields.get(REMEDIATION_PLAN_FIELD);
            if finding.status == ComplianceStatus::Passed {
                assert!(plan.is_none(), "{text}");
                continue;
            }
            failing += 1;
            assert!(text.starts_with("In account 123456789012 ("), "{text}");
            assert!(
                !text.contains('\n') && text.len() <= super::super::limits::RECOMMENDATION_TEXT_MAX,
                "{text}"
            );
            assert!(
                plan.unwrap().contains(&format!(
                    "trailwatch remediate --controls {}",
                    finding.control_id
                )),
                "{plan:?}"
            );
        }
        assert!(failing > 5, "the demo account fails most controls");
        // The demo's nacl-changes filter lacks only an alarm: the first step creates one, on a
        // topic that already notifies (sec-alerts completes cloudtrail-changes).
        let nacl = findings
            .iter()
            .position(|f| f.control_id == "nacl-changes")
            .unwrap();
        assert_eq!(
            asff[nacl].remediation.recommendation.text,
            "In account 123456789012 (us-east-1): create alarm trailwatch-nacl-changes (Sum >= 1 over one period) on CISBenchmark/nacl-changes notifying arn:aws:sns:us-east-1:123456789012:sec-alerts"
        );
    }
}
