//! The control declarations: what each control is, where it maps, and how it is decided.
//!
//! This is data. What a control is in every benchmark version — title, Security Hub control,
//! severity, remediation, how it is decided — is declared here; its requirement number and, for a
//! monitoring control, its filter pattern in each CIS version come from that version's mapping
//! file ([`super::benchmark`]). [`Control::monitoring`] resolves a monitoring control under the
//! chosen version: the pattern in force and what a metric filter must cover for it (built once
//! per control and version). [`Control::related_requirements`] lists the
//! requirements of every version a verdict decided under the chosen version answers.

use super::benchmark::CisVersion;
use super::coverage::{self, Part, Required};
use std::sync::OnceLock;
use trailwatch_pattern::ParseError;

/// A control and how to decide it.
#[derive(Debug)]
pub struct Control {
    /// Stable id used in CLI flags, `TRAILWATCH_CONTROLS`, `GeneratorId` and finding ids.
    pub id: &'static str,
    pub title: &'static str,
    /// The matching Security Hub control, e.g. `CloudWatch.5`.
    pub security_hub: Option<&'static str>,
    pub severity: Severity,
    pub check: Check,
    pub remediation: &'static str,
    pub remediation_url: &'static str,
}

/// How a control is decided.
#[derive(Debug)]
pub enum Check {
    /// CIS 3.4 (v1.2.0: 2.4): every trail delivers to CloudWatch Logs, recently.
    TrailDelivery,
    /// CIS 4.x / 5.x: trail → log group → covering metric filter → alarm → SNS topic → subscriber.
    Monitoring(MonitoringSpec),
    /// CIS 4.16 / 5.16: Security Hub is enabled in every region scanned (DescribeHub).
    SecurityHubEnabled,
    /// trailwatch's own: every account of the organization could be scanned.
    ScanCoverage,
}

/// What a monitoring control watches, in every version; the pattern itself is per version.
#[derive(Debug)]
pub struct MonitoringSpec {
    /// The services the control is about: a trail that does not record their management events
    /// (read and write) cannot feed the filter. Empty: every service (root usage, unauthorized
    /// calls). Other services that happen to write records with the same event names (IoT's
    /// `CreatePolicy` for 4.4) are not required of the trail; they are part of the coverage
    /// domain ([`Domain::EventNames`]).
    pub trail_sources: &'static [&'static str],
    /// What kind of CloudTrail record the control's events always are.
    pub record_kind: RecordKind,
    pub domain: Domain,
}

/// Which records a filter must match for the CIS pattern, besides what the pattern says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Every record the pattern matches (the pattern names no event: error codes, root usage).
    AnyRecord,
    /// The pattern matches only records with the event names it tests; a filter need only match
    /// those names from the services that write them ([`coverage`]).
    EventNames,
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

/// A monitoring control as one benchmark version defines it: what the chain evaluator decides.
#[derive(Debug)]
pub struct Monitoring {
    /// The CIS filter pattern in force, as the benchmark writes it.
    pub pattern: &'static str,
    /// [`MonitoringSpec::trail_sources`].
    pub trail_sources: &'static [&'static str],
    /// What a filter must cover: see [`Monitoring::required`].
    parts: Vec<Part>,
}

impl Monitoring {
    fn new(spec: &MonitoringSpec, pattern: &'static str) -> Self {
        Monitoring {
            pattern,
            trail_sources: spec.trail_sources,
            parts: coverage::parts(spec, pattern),
        }
    }

    /// The events a filter must match: the CIS pattern, restricted to the records that can
    /// carry them (the services that write its event names, and the record kind), one part per
    /// event name ([`coverage`]). So `{ $.eventSource = cloudtrail.amazonaws.com && $.readOnly
    /// IS FALSE && ($.eventName = CreateTrail || …) }` covers CIS 4.5 — no service but
    /// CloudTrail writes CreateTrail, and never as a read — while adding `$.eventSource =
    /// iam.amazonaws.com` to 4.4 does not cover it (IoT and Organizations write `CreatePolicy`
    /// too), and adding `$.awsRegion = "us-east-1"` covers nothing.
    pub fn required(&self) -> Result<Required, ParseError> {
        Required::parse(self.required_texts())
    }

    /// The parts of [`Monitoring::required`] as pattern text.
    pub fn required_texts(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().map(|part| part.text.as_str())
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
    /// The control's requirement number in each benchmark version that has it, oldest first.
    pub fn numbers(&self) -> Vec<(CisVersion, &'static str)> {
        CisVersion::all()
            .filter_map(|version| {
                version
                    .requirement(self.id)
                    .map(|requirement| (version, requirement.id.as_str()))
            })
            .collect()
    }

    /// The version whose definition decides the control when `chosen` is asked for: `chosen`
    /// when it has the control, else the latest earlier version that has it, else the earliest
    /// later one (CIS 3.4 under v7.0.0 is decided as in v2.0.0; 4.16 under v1.4.0 as in v1.5.0).
    pub fn version_in_force(&self, chosen: CisVersion) -> CisVersion {
        let has = |version: &CisVersion| version.requirement(self.id).is_some();
        if has(&chosen) {
            return chosen;
        }
        CisVersion::all()
            .filter(|version| *version < chosen && has(version))
            .last()
            .or_else(|| CisVersion::all().find(has))
            .unwrap_or(chosen)
    }

    /// A monitoring control as `chosen` defines it (see [`Control::version_in_force`]).
    pub fn monitoring(&self, chosen: CisVersion) -> Option<&'static Monitoring> {
        resolved()[self.position()?][self.version_in_force(chosen).index()].as_ref()
    }

    /// The CIS filter pattern of a monitoring control under the default (newest) version.
    pub fn required_pattern(&self) -> Option<&'static str> {
        self.monitoring(CisVersion::newest())
            .map(|monitoring| monitoring.pattern)
    }

    /// `Compliance.RelatedRequirements` of a verdict decided under `chosen`: the requirement of
    /// every version whose definition decides the same way — the version in force itself, and
    /// each version whose required events are the same as its ([`Monitoring::required`]: the
    /// same text, or each covering the other). Versions without the control are never listed: CIS 3.4 is not a requirement
    /// of v3.0.0 or later, and under v5.0.0 CIS 4.10 (with ModifySecurityGroupRules) does not
    /// name v1.4.0's 4.10.
    pub fn related_requirements(&self, chosen: CisVersion) -> Vec<String> {
        let Some(position) = self.position() else {
            // Not a CIS control (trailwatch's own scan coverage check).
            return Vec::new();
        };
        let classes = &equivalence_classes()[position];
        let Some(class) = classes[self.version_in_force(chosen).index()] else {
            return Vec::new();
        };
        CisVersion::all()
            .filter(|version| classes[version.index()] == Some(class))
            .filter_map(|version| {
                version.requirement(self.id).map(|requirement| {
                    format!(
                        "CIS AWS Foundations Benchmark v{version}/{}",
                        requirement.id
                    )
                })
            })
            .collect()
    }

    /// The control's index in the catalog.
    fn position(&self) -> Option<usize> {
        CATALOG.iter().position(|control| control.id == self.id)
    }
}

/// Every monitoring control resolved under every version that gives it a pattern, built once:
/// `[control][version]`.
fn resolved() -> &'static [Vec<Option<Monitoring>>] {
    static RESOLVED: OnceLock<Vec<Vec<Option<Monitoring>>>> = OnceLock::new();
    RESOLVED.get_or_init(|| {
        CATALOG
            .iter()
            .map(|control| {
                CisVersion::all()
                    .map(|version| match &control.check {
                        Check::Monitoring(spec) => version
                            .requirement(control.id)
                            .and_then(|requirement| requirement.pattern.as_deref())
                            .map(|pattern| Monitoring::new(spec, pattern)),
                        Check::TrailDelivery | Check::SecurityHubEnabled | Check::ScanCoverage => {
                            None
                        }
                    })
                    .collect()
            })
            .collect()
    })
}

/// Per control, the versions grouped by how they decide it: `[control][version]` is the group
/// of a version that has the control. Checks without a pattern decide the same in every version;
/// monitoring controls group by equivalent required events. Built once.
fn equivalence_classes() -> &'static [Vec<Option<usize>>] {
    static CLASSES: OnceLock<Vec<Vec<Option<usize>>>> = OnceLock::new();
    CLASSES.get_or_init(|| {
        CATALOG
            .iter()
            .zip(resolved())
            .map(|(control, monitorings)| {
                let mut representatives: Vec<&Monitoring> = Vec::new();
                CisVersion::all()
                    .map(|version| {
                        version.requirement(control.id)?;
                        let Check::Monitoring(_) = control.check else {
                            return Some(0);
                        };
                        let monitoring = monitorings[version.index()].as_ref()?;
                        let class = representatives
                            .iter()
                            .position(|known| coverage::equivalent(&known.parts, &monitoring.parts))
                            .unwrap_or_else(|| {
                                representatives.push(monitoring);
                                representatives.len() - 1
                            });
                        Some(class)
                    })
                    .collect()
            })
            .collect()
    })
}

/// The controls evaluated when none are named.
pub const DEFAULT_CONTROLS: &[&str] = &[
    "trail-cw-logs",
    "cloudtrail-changes",
    "kms-cmk-disable-delete",
    "config-changes",
    "nacl-changes",
];

/// Declares a monitoring control: id, Security Hub control and its documentation, title, the
/// services a trail must record, the kind of record, and the coverage domain.
macro_rules! monitoring_control {
    ($id:literal, $hub:expr, $url:literal, $title:literal, $sources:expr, $kind:expr, $domain:expr $(,)?) => {
        Control {
            id: $id,
            title: $title,
            security_hub: $hub,
            severity: Severity::Low,
            check: Check::Monitoring(MonitoringSpec {
                trail_sources: $sources,
                record_kind: $kind,
                domain: $domain,
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
        security_hub: Some("CloudTrail.5"),
        severity: Severity::Low,
        check: Check::TrailDelivery,
        remediation: "Configure the trail to send its events to a CloudWatch Logs log group (CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn), and make sure the role lets CloudTrail deliver: the trail status must show a CloudWatch Logs delivery within the last 24 hours.",
        remediation_url: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html",
    },
    monitoring_control!(
        "unauthorized-api-calls",
        Some("CloudWatch.2"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-2",
        "A log metric filter and alarm should exist for unauthorized API calls",
        &[],
        RecordKind::Any,
        Domain::AnyRecord,
    ),
    monitoring_control!(
        "console-signin-without-mfa",
        Some("CloudWatch.3"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-3",
        "A log metric filter and alarm should exist for Management Console sign-in without MFA",
        &["signin.amazonaws.com"],
        RecordKind::ConsoleSignIn,
        Domain::EventNames,
    ),
    monitoring_control!(
        "root-usage",
        Some("CloudWatch.1"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-1",
        "A log metric filter and alarm should exist for usage of the root user",
        &[],
        RecordKind::Any,
        Domain::AnyRecord,
    ),
    monitoring_control!(
        "iam-policy-changes",
        Some("CloudWatch.4"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-4",
        "A log metric filter and alarm should exist for IAM policy changes",
        &["iam.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "cloudtrail-changes",
        Some("CloudWatch.5"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-5",
        "A log metric filter and alarm should exist for CloudTrail configuration changes",
        &["cloudtrail.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "console-auth-failures",
        Some("CloudWatch.6"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-6",
        "A log metric filter and alarm should exist for AWS Management Console authentication failures",
        &["signin.amazonaws.com"],
        RecordKind::ConsoleSignIn,
        Domain::EventNames,
    ),
    monitoring_control!(
        "kms-cmk-disable-delete",
        Some("CloudWatch.7"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-7",
        "A log metric filter and alarm should exist for disabling or scheduled deletion of customer managed keys",
        &["kms.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "s3-bucket-policy-changes",
        Some("CloudWatch.8"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-8",
        "A log metric filter and alarm should exist for S3 bucket policy changes",
        &["s3.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "config-changes",
        Some("CloudWatch.9"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-9",
        "A log metric filter and alarm should exist for AWS Config configuration changes",
        &["config.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "security-group-changes",
        Some("CloudWatch.10"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-10",
        "A log metric filter and alarm should exist for security group changes",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "nacl-changes",
        Some("CloudWatch.11"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-11",
        "A log metric filter and alarm should exist for changes to Network Access Control Lists (NACL)",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "network-gateway-changes",
        Some("CloudWatch.12"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-12",
        "A log metric filter and alarm should exist for changes to network gateways",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "route-table-changes",
        Some("CloudWatch.13"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-13",
        "A log metric filter and alarm should exist for route table changes",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "vpc-changes",
        Some("CloudWatch.14"),
        "https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html#cloudwatch-14",
        "A log metric filter and alarm should exist for VPC changes",
        &["ec2.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    monitoring_control!(
        "organizations-changes",
        None,
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudwatch-alarms-for-cloudtrail.html",
        "A log metric filter and alarm should exist for AWS Organizations changes",
        &["organizations.amazonaws.com"],
        RecordKind::WriteApiCall,
        Domain::EventNames,
    ),
    // Security Hub has no control of its own for this (it is running when it evaluates); the
    // severity is prowler's for its securityhub_enabled check.
    Control {
        id: "securityhub-enabled",
        title: "AWS Security Hub should be enabled in every region scanned",
        security_hub: None,
        severity: Severity::High,
        check: Check::SecurityHubEnabled,
        remediation: "Enable Security Hub in each region named (the console's Security Hub setup, aws securityhub enable-security-hub, or Security Hub central configuration for an organization).",
        remediation_url: "https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-enable.html",
    },
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
    use super::super::emitters;
    use super::*;
    use trailwatch_pattern::{parse, Coverage};

    fn v(text: &str) -> CisVersion {
        CisVersion::parse(text).unwrap()
    }

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

    /// The mapping files name only declared controls, give a pattern exactly to monitoring
    /// controls, and leave no declared control without a version.
    #[test]
    fn every_mapped_control_exists_and_has_a_pattern_iff_it_is_monitoring() {
        for version in CisVersion::all() {
            for requirement in &version.benchmark().requirements {
                let declared = control(&requirement.control).unwrap_or_else(|| {
                    panic!(
                        "v{version} {} maps unknown control {:?}",
                        requirement.id, requirement.control
                    )
                });
                assert_eq!(
                    requirement.pattern.is_some(),
                    matches!(declared.check, Check::Monitoring(_)),
                    "v{version} {}",
                    requirement.id
                );
            }
        }
        for control in CATALOG {
            assert!(
                !control.numbers().is_empty(),
                "{} is in no version",
                control.id
            );
        }
    }

    #[test]
    fn every_pattern_parses_and_what_a_filter_must_cover_narrows_it_to_real_records() {
        for control in CATALOG {
            for version in CisVersion::all() {
                let Some(monitoring) = control
                    .position()
                    .and_then(|position| resolved()[position][version.index()].as_ref())
                else {
                    continue;
                };
                let cis = parse(monitoring.pattern)
                    .unwrap_or_else(|error| panic!("{} v{version}: {error}", control.id));
                monitoring
                    .required()
                    .unwrap_or_else(|error| panic!("{} v{version} required: {error}", control.id));
                // Each part is the CIS pattern, narrowed: the CIS pattern covers it, and the
                // CIS pattern itself covers what is required.
                for part in monitoring.required_texts() {
                    assert!(
                        matches!(
                            trailwatch_pattern::covers(&cis, &parse(part).unwrap()),
                            Coverage::Covers
                        ),
                        "{} v{version}: {part}",
                        control.id
                    );
                }
                assert_eq!(
                    monitoring.required().unwrap().covered_by(&cis),
                    Coverage::Covers,
                    "{} v{version}",
                    control.id
                );
            }
        }
    }

    /// Narrowing by event name is sound only where the CIS pattern matches no other name, and
    /// every name it tests must be in the emitters table.
    #[test]
    fn event_name_domains_are_sound_and_complete() {
        for control in CATALOG {
            let Check::Monitoring(spec) = &control.check else {
                continue;
            };
            for (version, _) in control.numbers() {
                let pattern = parse(control.monitoring(version).unwrap().pattern).unwrap();
                let names = emitters::event_names(&pattern);
                match spec.domain {
                    Domain::AnyRecord => assert!(
                        names.is_empty(),
                        "{} v{version} names events: declare Domain::EventNames",
                        control.id
                    ),
                    Domain::EventNames => {
                        let any_of_them = names
                            .iter()
                            .map(|name| format!("$.eventName = \"{name}\""))
                            .collect::<Vec<_>>()
                            .join(" || ");
                        let any_of_them = parse(&format!("{{ {any_of_them} }}")).unwrap();
                        assert!(
                            matches!(
                                trailwatch_pattern::covers(&any_of_them, &pattern),
                                Coverage::Covers
                            ),
                            "{} v{version} matches events outside {names:?}",
                            control.id
                        );
                        for name in &names {
                            let sources = emitters::sources_of(name).unwrap_or_else(|| {
                                panic!(
                                    "{} v{version}: {name} is not in cis/emitters.json",
                                    control.id
                                )
                            });
                            for source in spec.trail_sources {
                                assert!(
                                    sources.iter().any(|s| s == source),
                                    "{} v{version}: {source} does not write {name}",
                                    control.id
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// CIS numbering: v1.2.0 has the monitoring controls as 3.x and CloudWatch Logs integration
    /// as 2.4; v1.3.0–v5.0.0 as 4.1–4.16 and 3.4; v6.0.0 and v7.0.0 as 5.1–5.16. 3.4 is gone
    /// from v3.0.0, 4.15 arrives in v1.3.0 and 4.16 in v1.5.0.
    #[test]
    fn numbers_follow_each_versions_numbering() {
        let numbers = |id: &str| -> Vec<String> {
            control(id)
                .unwrap()
                .numbers()
                .iter()
                .map(|(version, number)| format!("{version} {number}"))
                .collect()
        };
        assert_eq!(
            numbers("cloudtrail-changes"),
            [
                "1.2.0 3.5",
                "1.3.0 4.5",
                "1.4.0 4.5",
                "1.5.0 4.5",
                "2.0.0 4.5",
                "3.0.0 4.5",
                "4.0.1 4.5",
                "5.0.0 4.5",
                "6.0.0 5.5",
                "7.0.0 5.5"
            ]
        );
        assert_eq!(
            numbers("trail-cw-logs"),
            [
                "1.2.0 2.4",
                "1.3.0 3.4",
                "1.4.0 3.4",
                "1.5.0 3.4",
                "2.0.0 3.4"
            ]
        );
        assert_eq!(numbers("organizations-changes")[0], "1.3.0 4.15");
        assert_eq!(
            numbers("securityhub-enabled"),
            [
                "1.5.0 4.16",
                "2.0.0 4.16",
                "3.0.0 4.16",
                "4.0.1 4.16",
                "5.0.0 4.16",
                "6.0.0 5.16",
                "7.0.0 5.16"
            ]
        );
        for control in CATALOG
            .iter()
            .filter(|c| matches!(c.check, Check::Monitoring(_)))
        {
            let n = control
                .numbers()
                .last()
                .unwrap()
                .1
                .trim_start_matches("5.")
                .to_string();
            for (version, number) in control.numbers() {
                let section = match version.as_str() {
                    "1.2.0" => "3",
                    "6.0.0" | "7.0.0" => "5",
                    _ => "4",
                };
                assert_eq!(
                    number,
                    format!("{section}.{n}"),
                    "{} v{version}",
                    control.id
                );
            }
        }
    }

    #[test]
    fn the_pattern_in_force_follows_the_chosen_version() {
        let sg = control("security-group-changes").unwrap();
        assert!(!sg
            .monitoring(v("4.0.1"))
            .unwrap()
            .pattern
            .contains("ModifySecurityGroupRules"));
        assert!(sg
            .monitoring(v("5.0.0"))
            .unwrap()
            .pattern
            .contains("ModifySecurityGroupRules"));
        assert!(sg
            .monitoring(v("7.0.0"))
            .unwrap()
            .pattern
            .contains("ModifySecurityGroupRules"));

        let unauthorized = control("unauthorized-api-calls").unwrap();
        let text = |version: &str| unauthorized.monitoring(v(version)).unwrap().pattern;
        assert!(!text("1.2.0").contains("HeadBucket"));
        assert!(text("1.4.0").contains("|| ($.eventName!=\"HeadBucket\")"));
        for version in ["2.0.0", "3.0.0", "4.0.1", "7.0.0"] {
            assert!(
                text(version).contains("&& ($.eventName!=\"HeadBucket\")"),
                "{version}"
            );
        }
        // A version without the control decides it as the nearest version that has it.
        let orgs = control("organizations-changes").unwrap();
        assert_eq!(orgs.version_in_force(v("1.2.0")), v("1.3.0"));
        assert_eq!(
            orgs.monitoring(v("1.2.0")).unwrap().pattern,
            orgs.monitoring(v("1.3.0")).unwrap().pattern
        );
        let delivery = control("trail-cw-logs").unwrap();
        assert_eq!(delivery.version_in_force(v("7.0.0")), v("2.0.0"));
        let hub = control("securityhub-enabled").unwrap();
        assert_eq!(hub.version_in_force(v("1.4.0")), v("1.5.0"));
        // What a filter must cover is built per (control, version).
        let required = |version: &str| {
            sg.monitoring(v(version))
                .unwrap()
                .required_texts()
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(!required("4.0.1").contains("ModifySecurityGroupRules"));
        assert!(required("5.0.0").contains("ModifySecurityGroupRules"));
    }

    fn requirements(id: &str, version: &str) -> Vec<String> {
        control(id)
            .unwrap()
            .related_requirements(v(version))
            .into_iter()
            .map(|r| {
                r.trim_start_matches("CIS AWS Foundations Benchmark ")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn related_requirements_name_only_versions_that_decide_the_same_way() {
        assert_eq!(
            requirements("cloudtrail-changes", "7.0.0"),
            [
                "v1.2.0/3.5",
                "v1.3.0/4.5",
                "v1.4.0/4.5",
                "v1.5.0/4.5",
                "v2.0.0/4.5",
                "v3.0.0/4.5",
                "v4.0.1/4.5",
                "v5.0.0/4.5",
                "v6.0.0/5.5",
                "v7.0.0/5.5"
            ]
        );
        // 3.4 left the benchmark in v3.0.0: never listed there, whatever version is chosen.
        for chosen in ["1.4.0", "3.0.0", "7.0.0"] {
            assert_eq!(
                requirements("trail-cw-logs", chosen),
                [
                    "v1.2.0/2.4",
                    "v1.3.0/3.4",
                    "v1.4.0/3.4",
                    "v1.5.0/3.4",
                    "v2.0.0/3.4"
                ]
            );
        }
        // 4.10 gained ModifySecurityGroupRules in v5.0.0.
        assert_eq!(
            requirements("security-group-changes", "5.0.0"),
            ["v5.0.0/4.10", "v6.0.0/5.10", "v7.0.0/5.10"]
        );
        assert_eq!(
            requirements("security-group-changes", "1.4.0"),
            [
                "v1.2.0/3.10",
                "v1.3.0/4.10",
                "v1.4.0/4.10",
                "v1.5.0/4.10",
                "v2.0.0/4.10",
                "v3.0.0/4.10",
                "v4.0.1/4.10"
            ]
        );
        // 4.1: v1.2.0; the all-|| text of v1.3.0–v1.5.0; the && text from v2.0.0.
        assert_eq!(
            requirements("unauthorized-api-calls", "1.2.0"),
            ["v1.2.0/3.1"]
        );
        assert_eq!(
            requirements("unauthorized-api-calls", "1.4.0"),
            ["v1.3.0/4.1", "v1.4.0/4.1", "v1.5.0/4.1"]
        );
        assert_eq!(
            requirements("unauthorized-api-calls", "7.0.0"),
            [
                "v2.0.0/4.1",
                "v3.0.0/4.1",
                "v4.0.1/4.1",
                "v5.0.0/4.1",
                "v6.0.0/5.1",
                "v7.0.0/5.1"
            ]
        );
        // A control the chosen version lacks never names the chosen version.
        assert_eq!(
            requirements("securityhub-enabled", "1.4.0")[0],
            "v1.5.0/4.16"
        );
        assert!(requirements("organizations-changes", "1.2.0")
            .iter()
            .all(|r| !r.starts_with("v1.2.0/")));
    }
}
