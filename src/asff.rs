//! AWS Security Finding Format: our findings as Security Hub holds them.
//!
//! [`AsffFinding`] mirrors the ASFF fields trailwatch fills, with ASFF's own (PascalCase) names, so
//! its JSON is exactly what `BatchImportFindings` receives and what `--output` writes. The
//! conversion from a [`Finding`] is deterministic: the `Id` depends only on partition, account,
//! control and resource, so a rerun updates the finding instead of adding a duplicate.

use crate::controls::{Control, Severity};
use crate::findings::{ComplianceStatus, Finding, ResourceKind, ResourceRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The ASFF schema version Security Hub expects.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// The finding type of every CIS check.
pub const CIS_FINDING_TYPE: &str =
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";
/// Prefix of every `ProductFields` key trailwatch writes, and of every `GeneratorId`.
pub const PRODUCT_PREFIX: &str = "trailwatch";
/// Longest `Compliance.StatusReasons[].Description` Security Hub accepts.
const STATUS_REASON_MAX: usize = 2048;
/// Longest `Description` Security Hub accepts.
const DESCRIPTION_MAX: usize = 1024;

/// One finding in ASFF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsffFinding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub types: Vec<String>,
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
    pub workflow: Workflow,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Workflow {
    pub status: String,
}

/// Where and when the findings are published.
#[derive(Debug, Clone)]
pub struct AsffContext {
    /// The Security Hub region the findings are imported into.
    pub region: String,
    /// RFC 3339 time of this run (`UpdatedAt`, `LastObservedAt`, and `CreatedAt` of new findings).
    pub observed_at: String,
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

/// Turns one finding into ASFF. `control` must be the finding's control.
pub fn to_asff(finding: &Finding, control: &Control, context: &AsffContext) -> AsffFinding {
    let status = finding.status;
    let mut product_fields = BTreeMap::new();
    product_fields.insert(
        format!("{PRODUCT_PREFIX}/ControlId"),
        finding.control_id.clone(),
    );
    product_fields.insert(
        format!("{PRODUCT_PREFIX}/Evidence"),
        truncate(&finding.summary, STATUS_REASON_MAX).to_string(),
    );
    if let Some(missing) = &finding.evidence.missing {
        product_fields.insert(format!("{PRODUCT_PREFIX}/Missing"), missing.clone());
    }
    for (position, link) in finding.evidence.chain.iter().enumerate() {
        product_fields.insert(
            format!("{PRODUCT_PREFIX}/Chain/{position}/{}", link.kind.noun()),
            link.id.clone(),
        );
    }
    if let Some(event) = &finding.evidence.counterexample {
        product_fields.insert(
            format!("{PRODUCT_PREFIX}/CounterexampleEvent"),
            event.to_string(),
        );
    }

    let mut resources = vec![asff_resource(&finding.resource, &finding.partition)];
    for link in &finding.evidence.chain {
        if link.id != finding.resource.id && !resources.iter().any(|r| r.id == link.id) {
            resources.push(asff_resource(link, &finding.partition));
        }
    }
    // Security Hub accepts at most 32 resources per finding.
    resources.truncate(32);

    let severity = match status {
        // A passing control is informational whatever the control's weight.
        ComplianceStatus::Passed => Severity::Informational,
        _ => control.severity,
    };

    AsffFinding {
        schema_version: SCHEMA_VERSION.to_string(),
        id: finding_id(finding),
        product_arn: default_product_arn(&finding.partition, &context.region, &finding.account_id),
        generator_id: generator_id(&finding.control_id),
        aws_account_id: finding.account_id.clone(),
        types: vec![CIS_FINDING_TYPE.to_string()],
        created_at: context.observed_at.clone(),
        updated_at: context.observed_at.clone(),
        first_observed_at: context.observed_at.clone(),
        last_observed_at: context.observed_at.clone(),
        title: control.title.to_string(),
        description: truncate(
            &format!("{}: {}", status.as_str(), finding.summary),
            DESCRIPTION_MAX,
        )
        .to_string(),
        finding_provider_fields: FindingProviderFields {
            severity: FindingSeverity {
                label: severity.label().to_string(),
                original: severity.label().to_string(),
            },
            types: vec![CIS_FINDING_TYPE.to_string()],
        },
        compliance: Compliance {
            status: status.as_str().to_string(),
            related_requirements: control.related_requirements(),
            status_reasons: vec![StatusReason {
                reason_code: reason_code(status).to_string(),
                description: truncate(&finding.summary, STATUS_REASON_MAX).to_string(),
            }],
            security_control_id: control.security_hub.map(str::to_string),
        },
        remediation: Remediation {
            recommendation: Recommendation {
                text: control.remediation.to_string(),
                url: control.remediation_url.to_string(),
            },
        },
        resources,
        product_fields,
        record_state: "ACTIVE".to_string(),
        workflow: Workflow {
            status: match status {
                ComplianceStatus::Passed => "RESOLVED",
                _ => "NEW",
            }
            .to_string(),
        },
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
        ResourceKind::LogGroup => ("AwsLogsLogGroup", resource.id.clone()),
        ResourceKind::Alarm => ("AwsCloudWatchAlarm", resource.id.clone()),
        ResourceKind::Topic => ("AwsSnsTopic", resource.id.clone()),
        ResourceKind::MetricFilter | ResourceKind::Subscription => ("Other", resource.id.clone()),
    };
    AsffResource {
        resource_type: resource_type.to_string(),
        id,
        partition: partition.to_string(),
        region: resource.region.clone(),
    }
}

/// At most `max` bytes of `text`, cut on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
