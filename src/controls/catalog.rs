//! The control declarations: what each CIS requirement is, where it maps, and how it is decided.
//!
//! This is data. The CIS numbers follow the benchmark's renumbering (v1.2.0 puts the monitoring
//! controls under 3.x and the CloudWatch Logs integration under 2.4; v1.3.0 to v3.0.0 use 4.x and
//! 3.4). The filter patterns are the benchmark's v1.4.0 text (../shared/cis-monitoring-patterns.md);
//! the evaluator compares patterns semantically, so their spacing does not matter.

use std::sync::OnceLock;

/// A control and how to decide it.
#[derive(Debug)]
pub struct Control {
    /// Stable id used in CLI flags, `TRAILWATCH_CONTROLS`, `GeneratorId` and finding ids.
    pub id: &'static str,
    pub title: &'static str,
    /// The requirement's number in each CIS AWS Foundations Benchmark version that has it.
    pub cis: &'static [CisRef],
    /// The matching Security Hub control, e.g. `CloudWatch.5`.
    pub security_hub: Option<&'static str>,
    pub severity: Severity,
    pub check: Check,
    pub remediation: &'static str,
    pub remediation_url: &'static str,
}

/// One CIS benchmark version and the requirement number it gives the control.
#[derive(Debug, Clone, Copy)]
pub struct CisRef {
    pub version: &'static str,
    pub number: &'static str,
}

/// How a control is decided.
#[derive(Debug)]
pub enum Check {
    /// CIS 3.4: every trail delivers to CloudWatch Logs, recently.
    TrailDelivery,
    /// CIS 4.x: trail → log group → covering metric filter → alarm → SNS topic → subscriber.
    Monitoring(Monitoring),
    /// trailwatch's own: every account of the organization could be scanned.
    ScanCoverage,
}

/// What a monitoring control watches.
#[derive(Debug)]
pub struct Monitoring {
    /// The CIS filter pattern a metric filter must cover.
    pub pattern: &'static str,
    /// The services that emit the events the pattern is about (CreateTrail comes only from
    /// `cloudtrail.amazonaws.com`). A trail that excludes one of them from its management events
    /// cannot feed the filter, and a filter need not match events no such service emits.
    pub event_sources: &'static [&'static str],
    /// What kind of CloudTrail record those events always are.
    pub record_kind: RecordKind,
}

/// The kind of CloudTrail record a control's events always are: what every such record carries
/// whatever the pattern says, so a filter that also requires it loses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// Any record (root usage, unauthorized calls): nothing is implied.
    Any,
    /// A write API call: `eventType` AwsApiCall, `readOnly` false, a management event.
    WriteApiCall,
    /// A console sign-in: `eventType` AwsConsoleSignIn, a management event.
    ConsoleSignIn,
}

impl RecordKind {
    /// The JSON conditions every record of this kind meets.
    fn conditions(self) -> &'static [&'static str] {
        match self {
            RecordKind::Any => &[],
            RecordKind::WriteApiCall => &[
                "$.eventType = \"AwsApiCall\"",
                "$.readOnly IS FALSE",
                "$.managementEvent IS TRUE",
                "$.eventCategory = \"Management\"",
            ],
            RecordKind::ConsoleSignIn => &[
                "$.eventType = \"AwsConsoleSignIn\"",
                "$.managementEvent IS TRUE",
                "$.eventCategory = \"Management\"",
            ],
        }
    }
}

impl Monitoring {
    /// The events a filter must match: the CIS pattern, restricted to the records that really
    /// carry them (the services that emit them, and the record kind). So `{ $.eventSource =
    /// cloudtrail.amazonaws.com && $.readOnly IS FALSE && ($.eventName = CreateTrail || …) }`
    /// covers CIS 4.5 — no CloudTrail record has eventName CreateTrail from another service or as
    /// a read — while a filter that drops a conjunct CIS has still covers too, and one that adds
    /// `$.awsRegion = "us-east-1"` does not.
    pub fn scoped_pattern(&self) -> String {
        let inner = self
            .pattern
            .trim()
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'));
        let Some(inner) = inner else {
            return self.pattern.to_string();
        };
        let mut conjuncts: Vec<String> = Vec::new();
        if !self.event_sources.is_empty() {
            let sources: Vec<String> = self
                .event_sources
                .iter()
                .map(|source| format!("$.eventSource = \"{source}\""))
                .collect();
            conjuncts.push(format!("({})", sources.join(" || ")));
        }
        conjuncts.extend(self.record_kind.conditions().iter().map(|c| c.to_string()));
        if conjuncts.is_empty() {
            return self.pattern.to_string();
        }
        conjuncts.push(format!("({})", inner.trim()));
        format!("{{ {} }}", conjuncts.join(" && "))
    }
}

/// Severity label as ASFF spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Informational => "INFORMATIONAL",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
        }
    }
}

impl Control {
    /// `Compliance.RelatedRequirements`: `CIS AWS Foundations Benchmark v1.4.0/4.5`, …
    pub fn related_requirements(&self) -> Vec<String> {
        self.cis
            .iter()
            .map(|cis| {
                format!(
                    "CIS AWS Foundations Benchmark v{}/{}",
                    cis.version, cis.number
                )
            })
            .collect()
    }

    /// The CIS filter pattern of a monitoring control, as the benchmark writes it.
    pub fn required_pattern(&self) -> Option<&'static str> {
        match &self.check {
            Check::Monitoring(monitoring) => Some(monitoring.pattern),
            Check::TrailDelivery | Check::ScanCoverage => None,
        }
    }

    /// What a metric filter must cover for this control: [`Monitoring::scoped_pattern`], built
    /// once per process.
    pub fn coverage_pattern(&self) -> Option<&'static str> {
        static SCOPED: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
        let scoped = SCOPED.get_or_init(|| {
            CATALOG
                .iter()
                .filter_map(|control| match &control.check {
                    Check::Monitoring(monitoring) => {
                        Some((control.id, monitoring.scoped_pattern()))
                    }
                    Check::TrailDelivery | Check::ScanCoverage => None,
                })
                .collect()
        });
        scoped
            .iter()
            .find(|(id, _)| *id == self.id)
            .map(|(_, pattern)| pattern.as_str())
    }
}

/// The controls evaluated when none are named.
pub const DEFAULT_CONTROLS: &[&str] = &[
    "trail-cw-logs",
    "cloudtrail-changes",
    "kms-cmk-disable-delete",
    "config-changes",
    "nacl-changes",
];

/// A list of [`CisRef`]: `cis_refs!("1.4.0" => "4.5", …)`.
macro_rules! cis_refs {
    ($($version:literal => $number:expr),+ $(,)?) => {
        &[$(CisRef { version: $version, number: $number }),+]
    };
}

/// CIS numbering of a monitoring control: `3.n` in v1.2.0, `4.n` from v1.3.0 to v3.0.0.
macro_rules! monitoring_numbers {
    ($n:literal) => {
        cis_refs!("1.2.0" => concat!("3.", $n), "1.3.0" => concat!("4.", $n),
            "1.4.0" => concat!("4.", $n), "1.5.0" => concat!("4.", $n),
            "2.0.0" => concat!("4.", $n), "3.0.0" => concat!("4.", $n))
    };
}

/// CIS numbering of a monitoring control added in v1.3.0 (no v1.2.0 number).
macro_rules! monitoring_numbers_since_1_3 {
    ($n:literal) => {
        cis_refs!("1.3.0" => concat!("4.", $n), "1.4.0" => concat!("4.", $n),
            "1.5.0" => concat!("4.", $n), "2.0.0" => concat!("4.", $n),
            "3.0.0" => concat!("4.", $n))
    };
}

/// Declares a monitoring control: id, CIS numbers, Security Hub control and its documentation,
/// title, the services emitting the events, and the CIS v1.4.0 pattern.
macro_rules! monitoring_control {
    ($id:literal, $numbers:expr, $hub:expr, $url:literal, $title:literal, $sources:expr, $kind:expr, $pattern:literal $(,)?) => {
        Control {
            id: $id,
            title: $title,
            cis: $numbers,
            security_hub: $hub,
            severity: Severity::Low,
            check: Check::Monitoring(Monitoring {
                pattern: $pattern,
                event_sources: $sources,
                record_kind: $kind,
            }),
            remediation: MONITORING_REMEDIATION,
            remediation_url: $url,
        }
    };
}

const MONITORING_REMEDIATION: &str = "Create a metric filter with the CIS pattern on the CloudWatch Logs log group of a multi-Region, logging trail that records all management events, an alarm on its metric with actions enabled, and an SNS topic with at least one confirmed subscription as the alarm action.";

static CATALOG: &[Control] = &[
    Control {
        id: "trail-cw-logs",
        title: "CloudTrail trails should be integrated with CloudWatch Logs",
        cis: cis_refs!("1.2.0" => "2.4", "1.3.0" => "3.4", "1.4.0" => "3.4", "1.5.0" => "3.4",
            "2.0.0" => "3.4", "3.0.0" => "3.4"),
        security_hub: Some("CloudTrail.5"),
        severity: Severity::Low,
        check: Check::TrailDelivery,
        remediation: "Configure the trail to send its events to a CloudWatch Logs log group (CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn), and make sure the role lets CloudTrail deliver: the trail status must show a CloudWatch Logs delivery within the last 24 hours.",
        remediation_url: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html",
    },
    monitoring_control!(
        "unauthorized-api-calls",
        monitoring_numbers!("1"),
        Some("CloudWatch.2"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-2",
        "A log metric filter and alarm should exist for unauthorized API calls",
        &[],
        RecordKind::Any,
        "{ ($.errorCode = \"*UnauthorizedOperation\") || ($.errorCode = \"AccessDenied*\") && ($.sourceIPAddress != \"delivery.logs.amazonaws.com\") && ($.eventName != \"HeadBucket\") }",
    ),
    monitoring_control!(
        "console-signin-without-mfa",
        monitoring_numbers!("2"),
        Some("CloudWatch.3"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-3",
        "A log metric filter and alarm should exist for Management Console sign-in without MFA",
        &["signin.amazonaws.com"],
        RecordKind::ConsoleSignIn,
        "{ ($.eventName = \"ConsoleLogin\") && ($.additionalEventData.MFAUsed != \"Yes\") }",
    ),
    monitoring_control!(
        "root-usage",
        monitoring_numbers!("3"),
        Some("CloudWatch.1"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1",
        "A log metric filter and alarm should exist for usage of the root user",
        &[],
        RecordKind::Any,
        "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }",
    ),
    monitoring_control!(
        "iam-policy-changes",
        monitoring_numbers!("4"),
        Some("CloudWatch.4"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-4",
        "A log metric filter and alarm should exist for IAM policy changes",
        &["iam.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    ),
    monitoring_control!(
        "cloudtrail-changes",
        monitoring_numbers!("5"),
        Some("CloudWatch.5"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-5",
        "A log metric filter and alarm should exist for CloudTrail configuration changes",
        &["cloudtrail.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    ),
    monitoring_control!(
        "console-auth-failures",
        monitoring_numbers!("6"),
        Some("CloudWatch.6"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-6",
        "A log metric filter and alarm should exist for AWS Management Console authentication failures",
        &["signin.amazonaws.com"],
        RecordKind::ConsoleSignIn,
        "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }",
    ),
    monitoring_control!(
        "kms-cmk-disable-delete",
        monitoring_numbers!("7"),
        Some("CloudWatch.7"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-7",
        "A log metric filter and alarm should exist for disabling or scheduled deletion of customer managed keys",
        &["kms.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    ),
    monitoring_control!(
        "s3-bucket-policy-changes",
        monitoring_numbers!("8"),
        Some("CloudWatch.8"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-8",
        "A log metric filter and alarm should exist for S3 bucket policy changes",
        &["s3.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    ),
    monitoring_control!(
        "config-changes",
        monitoring_numbers!("9"),
        Some("CloudWatch.9"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-9",
        "A log metric filter and alarm should exist for AWS Config configuration changes",
        &["config.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    ),
    monitoring_control!(
        "security-group-changes",
        monitoring_numbers!("10"),
        Some("CloudWatch.10"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-10",
        "A log metric filter and alarm should exist for security group changes",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    ),
    monitoring_control!(
        "nacl-changes",
        monitoring_numbers!("11"),
        Some("CloudWatch.11"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-11",
        "A log metric filter and alarm should exist for changes to Network Access Control Lists (NACL)",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    ),
    monitoring_control!(
        "network-gateway-changes",
        monitoring_numbers!("12"),
        Some("CloudWatch.12"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-12",
        "A log metric filter and alarm should exist for changes to network gateways",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    ),
    monitoring_control!(
        "route-table-changes",
        monitoring_numbers!("13"),
        Some("CloudWatch.13"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-13",
        "A log metric filter and alarm should exist for route table changes",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }",
    ),
    monitoring_control!(
        "vpc-changes",
        monitoring_numbers!("14"),
        Some("CloudWatch.14"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-14",
        "A log metric filter and alarm should exist for VPC changes",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    ),
    monitoring_control!(
        "organizations-changes",
        monitoring_numbers_since_1_3!("15"),
        None,
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html",
        "A log metric filter and alarm should exist for AWS Organizations changes",
        &["organizations.amazonaws.com"],
        RecordKind::WriteApiCall,
        "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = \"AcceptHandshake\") || ($.eventName = \"AttachPolicy\") || ($.eventName = \"CreateAccount\") || ($.eventName = \"CreateOrganizationalUnit\") || ($.eventName = \"CreatePolicy\") || ($.eventName = \"DeclineHandshake\") || ($.eventName = \"DeleteOrganization\") || ($.eventName = \"DeleteOrganizationalUnit\") || ($.eventName = \"DeletePolicy\") || ($.eventName = \"DetachPolicy\") || ($.eventName = \"DisablePolicyType\") || ($.eventName = \"EnablePolicyType\") || ($.eventName = \"InviteAccountToOrganization\") || ($.eventName = \"LeaveOrganization\") || ($.eventName = \"MoveAccount\") || ($.eventName = \"RemoveAccountFromOrganization\") || ($.eventName = \"UpdatePolicy\") || ($.eventName = \"UpdateOrganizationalUnit\")) }",
    ),
];

/// Every control trailwatch knows.
pub fn catalog() -> &'static [Control] {
    CATALOG
}

/// A control by id.
pub fn control(id: &str) -> Option<&'static Control> {
    CATALOG.iter().find(|control| control.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_defaults_exist() {
        for (position, control) in CATALOG.iter().enumerate() {
            assert!(
                CATALOG[..position]
                    .iter()
                    .all(|other| other.id != control.id),
                "duplicate id {}",
                control.id
            );
        }
        for id in DEFAULT_CONTROLS {
            assert!(
                control(id).is_some(),
                "default control {id} is not declared"
            );
        }
    }

    #[test]
    fn every_required_pattern_parses() {
        for control in CATALOG {
            if let Some(pattern) = control.required_pattern() {
                if let Err(error) = trailwatch_pattern::parse(pattern) {
                    panic!("{}: {error}", control.id);
                }
            }
        }
    }

    #[test]
    fn scoped_patterns_parse_and_name_the_event_source() {
        for control in CATALOG {
            if let Check::Monitoring(monitoring) = &control.check {
                let scoped = monitoring.scoped_pattern();
                let parsed = trailwatch_pattern::parse(&scoped)
                    .unwrap_or_else(|error| panic!("{}: {error}", control.id));
                for source in monitoring.event_sources {
                    assert!(scoped.contains(source), "{scoped}");
                }
                // The scoped pattern is the CIS pattern, narrowed to real events only.
                let cis = trailwatch_pattern::parse(monitoring.pattern).unwrap();
                assert!(
                    matches!(
                        trailwatch_pattern::covers(&cis, &parsed),
                        trailwatch_pattern::Coverage::Covers
                    ),
                    "{}",
                    control.id
                );
            }
        }
    }

    #[test]
    fn related_requirements_name_each_benchmark_version() {
        let requirements = control("cloudtrail-changes")
            .unwrap()
            .related_requirements();
        assert!(requirements.contains(&"CIS AWS Foundations Benchmark v1.2.0/3.5".to_string()));
        assert!(requirements.contains(&"CIS AWS Foundations Benchmark v1.4.0/4.5".to_string()));
        let requirements = control("trail-cw-logs").unwrap().related_requirements();
        assert!(requirements.contains(&"CIS AWS Foundations Benchmark v1.2.0/2.4".to_string()));
        assert!(requirements.contains(&"CIS AWS Foundations Benchmark v1.4.0/3.4".to_string()));
    }
}
