//! The remediation plan: from the typed missing link of each failing control, the ordered,
//! non-destructive steps that complete the account's deepest candidate chain.
//!
//! The planner ([`plan`]) reads what the one chain evaluator says ([`crate::controls::evaluate`]):
//! for the missing link of a failing control it chooses the step that completes that link
//! ([`steps`], one remediation per kind of [`MissingLink`](crate::model::missing::MissingLink)),
//! applies the step's effect to a copy of the snapshot ([`simulate`]) and asks the evaluator
//! again, until the control passes or a link can only be fixed by a person or a destructive change
//! — then the plan says so and stops for that control. Nothing here decides a verdict itself.
//!
//! A plan reuses what exists (the trail and its log group, a filter whose metric only lacks a good
//! alarm, a topic already proven to notify) and creates only what is missing; one topic and one
//! subscription per account and region serve every control. It never deletes, never replaces a
//! filter pattern or an alarm's settings (a new filter or alarm is put beside them), and never
//! rewrites data-event selectors. The plan renders as AWS CLI commands ([`cli`]), a CloudFormation
//! template ([`cloudformation`]) or JSON (serde).

pub mod cli;
pub mod cloudformation;
mod simulate;
mod steps;
#[cfg(test)]
mod tests;

use crate::controls::{self, catalog, Check, CisVersion, Control};
use crate::model::findings::{ComplianceStatus, Finding, ResourceKind};
use crate::model::missing::MissingLink;
use crate::model::snapshot::{AdvancedEventSelector, ClassicEventSelector, Snapshot};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The namespace the plan's new metric filters publish to (CIS's remediation uses it).
pub const NAMESPACE: &str = "CISBenchmark";

/// Where new subscriptions deliver: `--notify PROTOCOL:ENDPOINT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub protocol: String,
    pub endpoint: String,
}

/// The SNS subscription protocols (Subscribe's `Protocol`,
/// <https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html>).
const PROTOCOLS: [&str; 9] = [
    "http",
    "https",
    "email",
    "email-json",
    "sms",
    "sqs",
    "application",
    "lambda",
    "firehose",
];

/// Why a `--notify` value is not an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--notify {given:?}: {reason} (expected PROTOCOL:ENDPOINT, e.g. email:security@example.com; protocols: {})", PROTOCOLS.join(", "))]
pub struct EndpointError {
    given: String,
    reason: String,
}

impl Endpoint {
    /// Parses `PROTOCOL:ENDPOINT` (`email:security@example.com`,
    /// `https://hooks.example.com/x` keeps its own colon after the protocol).
    pub fn parse(text: &str) -> Result<Endpoint, EndpointError> {
        let error = |reason: &str| EndpointError {
            given: text.to_string(),
            reason: reason.to_string(),
        };
        let (protocol, endpoint) = text.split_once(':').ok_or_else(|| error("no ':'"))?;
        if !PROTOCOLS.contains(&protocol) {
            return Err(error("unknown protocol"));
        }
        // An https endpoint is a whole URL: `https:https://…` is spelled `https://…`.
        let endpoint = if matches!(protocol, "http" | "https") && endpoint.starts_with("//") {
            text
        } else {
            endpoint
        };
        if endpoint.is_empty() || endpoint.chars().any(char::is_control) {
            return Err(error("empty endpoint or control characters in it"));
        }
        Ok(Endpoint {
            protocol: protocol.to_string(),
            endpoint: endpoint.to_string(),
        })
    }
}

/// What the plan covers.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The controls to plan for (those failing among them).
    pub controls: &'a [&'static Control],
    pub version: CisVersion,
    /// The endpoint new subscriptions deliver to; `None`: a step that needs one stops the plan.
    pub notify: Option<&'a Endpoint>,
}

/// The ordered steps, and what each failing control gets from them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Every step, in dependency order; a step shared by several controls appears once.
    pub steps: Vec<Step>,
    /// One entry per failing control (per trail for CIS 3.4) and account: what the plan does for
    /// it.
    pub controls: Vec<ControlPlan>,
}

/// One step: where it runs, which controls it completes, why, and what it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The account whose credentials run it.
    pub account_id: String,
    pub region: String,
    /// The ids of the controls whose chain it is part of.
    pub controls: Vec<String>,
    /// Why: the missing link it completes, in the finding's words.
    pub reason: String,
    pub action: Action,
}

/// What a step does. Every action creates or adds; none deletes or replaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// `cloudtrail:UpdateTrail` `IsMultiRegionTrail=true`.
    MakeTrailMultiRegion { trail: String },
    /// `cloudtrail:StartLogging`.
    StartLogging { trail: String },
    /// `cloudtrail:PutEventSelectors` with the trail's advanced selectors as read, plus one that
    /// selects every management event: the existing (data-event) selectors stay.
    AddManagementEventSelector {
        trail: String,
        selectors: Vec<AdvancedEventSelector>,
    },
    /// `cloudtrail:PutEventSelectors` on a trail that has none: one classic selector, all
    /// management events.
    PutManagementEventSelector {
        trail: String,
        selector: ClassicEventSelector,
    },
    /// `logs:CreateLogGroup`.
    CreateLogGroup { log_group: String },
    /// `iam:CreateRole` trusted by CloudTrail and `iam:PutRolePolicy` letting it write to the
    /// log group's streams.
    CreateDeliveryRole { role: String, log_group_arn: String },
    /// `cloudtrail:UpdateTrail` with the log group and role.
    SendTrailToLogs {
        trail: String,
        log_group_arn: String,
        role_arn: String,
    },
    /// `logs:PutMetricFilter`: the CIS pattern, value 1 per matching record.
    PutMetricFilter {
        log_group: String,
        filter: String,
        pattern: String,
        metric_name: String,
        namespace: String,
    },
    /// `cloudwatch:PutMetricAlarm`: Sum ≥ 1 over one 300 s period, 1 of 1 datapoints, missing
    /// data not breaching, notifying `topic_arn`.
    PutMetricAlarm {
        alarm: String,
        metric_name: String,
        namespace: String,
        topic_arn: String,
    },
    /// `cloudwatch:EnableAlarmActions`.
    EnableAlarmActions { alarm: String },
    /// `sns:CreateTopic` (unencrypted; the default access policy lets same-account alarms
    /// publish).
    CreateTopic { topic: String, topic_arn: String },
    /// `sns:Subscribe`; the endpoint's owner confirms it.
    Subscribe {
        topic_arn: String,
        protocol: String,
        endpoint: String,
    },
    /// `sns:SetTopicAttributes` `Policy`: the policy as read plus a statement letting CloudWatch
    /// alarms of the account publish.
    SetTopicPolicy { topic_arn: String, policy: String },
    /// `kms:PutKeyPolicy` `default`: the key policy as read plus a statement letting CloudWatch
    /// use the key.
    PutKeyPolicy { key_arn: String, policy: String },
    /// `securityhub:EnableSecurityHub`.
    EnableSecurityHub {},
    /// No command: what a person must do, and why the plan does not do it.
    Manual {
        blocker: Blocker,
        instruction: String,
    },
}

/// Why a step is left to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Blocker {
    /// Only a destructive change (deleting or replacing something) would fix it.
    Destructive,
    /// A choice the account's owners must make (e.g. where a new trail stores its logs).
    NeedsHuman,
    /// A new subscription needs an endpoint: `--notify PROTOCOL:ENDPOINT`.
    NeedsEndpoint,
    /// The scan could not see the link: rescan with the access it names.
    NotAvailable,
    /// What comes next was not read by this scan: run remediate again after the steps before.
    Rescan,
}

/// What the plan does for one failing control in one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlPlan {
    pub control_id: String,
    pub account_id: String,
    /// The finding's resource (the account, or a trail for CIS 3.4).
    pub resource: String,
    /// The finding's status and sentence before the plan.
    pub status: ComplianceStatus,
    pub summary: String,
    pub outcome: Outcome,
}

/// Whether the plan's steps complete the control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The evaluator passes the control on the snapshot with the steps applied.
    Completes,
    /// … once the new subscription's endpoint confirms it.
    CompletesOnceConfirmed,
    /// CIS 3.4: the trail then delivers; the control passes once CloudTrail has delivered.
    CompletesOnceDelivered,
    /// The steps so far fix what the scan saw; what comes next needs another scan (run
    /// remediate again once they are applied).
    ContinuesAfterRescan,
    /// The plan stops at a manual step.
    Stops,
}

impl Plan {
    /// Whether the plan has nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Adds the steps of one account's failing controls of `request`. `findings` are the run's
    /// findings of `request.controls` over `snapshot`: planning starts from them instead of
    /// deciding them again, so a run that keeps no snapshots — an organization's — builds its
    /// plan account by account. A topic proven by a passing chain is reused, whether the chain
    /// is among `findings` or another monitoring control's (evaluated here when some control
    /// fails).
    pub fn add_account(
        &mut self,
        snapshot: &Snapshot,
        findings: &[Finding],
        request: &Request<'_>,
    ) {
        steps::plan_account(snapshot, findings, request, self);
    }

    /// The steps that are part of `control_id`'s chain, in order.
    pub fn steps_for<'a>(&'a self, control_id: &'a str) -> impl Iterator<Item = &'a Step> + 'a {
        self.steps
            .iter()
            .filter(move |step| step.controls.iter().any(|c| c == control_id))
    }

    /// Adds a step, or merges its controls into the identical step already planned.
    fn add(&mut self, step: Step) -> bool {
        if let Some(same) = self.steps.iter_mut().find(|planned| {
            planned.account_id == step.account_id
                && planned.region == step.region
                && planned.action == step.action
        }) {
            for control in step.controls {
                if !same.controls.contains(&control) {
                    same.controls.push(control);
                }
            }
            return false;
        }
        self.steps.push(step);
        true
    }
}

impl Step {
    /// `account 111122223333, us-east-1: <action> (<reason>)`.
    pub fn one_line(&self) -> String {
        format!(
            "In account {} ({}): {} — {}",
            self.account_id, self.region, self.action, self.reason
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::MakeTrailMultiRegion { trail } => {
                write!(f, "make trail {trail} multi-Region")
            }
            Action::StartLogging { trail } => write!(f, "start logging on trail {trail}"),
            Action::AddManagementEventSelector { trail, .. } => write!(
                f,
                "add an advanced event selector for all management events to trail {trail}, keeping its selectors"
            ),
            Action::PutManagementEventSelector { trail, .. } => write!(
                f,
                "give trail {trail} an event selector for all management events"
            ),
            Action::CreateLogGroup { log_group } => write!(f, "create log group {log_group}"),
            Action::CreateDeliveryRole { role, .. } => write!(
                f,
                "create IAM role {role} that lets CloudTrail write to the log group"
            ),
            Action::SendTrailToLogs {
                trail,
                log_group_arn,
                ..
            } => write!(f, "send trail {trail} to {log_group_arn}"),
            Action::PutMetricFilter {
                log_group, filter, ..
            } => write!(
                f,
                "add metric filter {filter} with the CIS pattern to log group {log_group}"
            ),
            Action::PutMetricAlarm {
                alarm,
                metric_name,
                namespace,
                topic_arn,
            } => write!(
                f,
                "create alarm {alarm} (Sum >= 1 over one period) on {namespace}/{metric_name} notifying {topic_arn}"
            ),
            Action::EnableAlarmActions { alarm } => {
                write!(f, "enable the actions of alarm {alarm}")
            }
            Action::CreateTopic { topic, .. } => write!(f, "create SNS topic {topic}"),
            Action::Subscribe {
                topic_arn,
                protocol,
                endpoint,
            } => write!(
                f,
                "subscribe {protocol}:{endpoint} to {topic_arn} (to be confirmed)"
            ),
            Action::SetTopicPolicy { topic_arn, .. } => write!(
                f,
                "add a statement letting CloudWatch alarms publish to the access policy of {topic_arn}"
            ),
            Action::PutKeyPolicy { key_arn, .. } => write!(
                f,
                "add a statement letting CloudWatch use key {key_arn} to its key policy"
            ),
            Action::EnableSecurityHub {} => f.write_str("enable Security Hub"),
            Action::Manual {
                blocker,
                instruction,
            } => {
                let why = match blocker {
                    Blocker::Destructive => "not fixable without a destructive change",
                    Blocker::NeedsHuman => "needs a person",
                    Blocker::NeedsEndpoint => "needs --notify PROTOCOL:ENDPOINT",
                    Blocker::NotAvailable => "not visible to the scan",
                    Blocker::Rescan => "after the steps above",
                };
                write!(f, "manual ({why}): {instruction}")
            }
        }
    }
}

/// Plans the fix of every failing control of `request` in each snapshot (one per account; an
/// organization run passes every member's). Steps shared by several accounts — an organization
/// trail's chain in its owner's account — appear once, naming every control they complete.
pub fn plan(snapshots: &[Snapshot], request: &Request<'_>) -> Plan {
    let mut plan = Plan::default();
    for snapshot in snapshots {
        let findings = controls::evaluate(snapshot, request.controls, request.version);
        plan.add_account(snapshot, &findings, request);
    }
    plan
}

/// The first step of each failing control's plan in one account, in one line, by control id:
/// what a finding's `Remediation.Recommendation.Text` shows. `findings` are the run's findings
/// of `controls` over `snapshot` (see [`Plan::add_account`]). Planned without `--notify` (a
/// scheduled run has no endpoint): a step that needs one says so.
pub fn first_steps(
    snapshot: &Snapshot,
    findings: &[Finding],
    controls: &[&'static Control],
    version: CisVersion,
) -> BTreeMap<String, String> {
    let mut plan = Plan::default();
    plan.add_account(
        snapshot,
        findings,
        &Request {
            controls,
            version,
            notify: None,
        },
    );
    controls
        .iter()
        .filter_map(|control| {
            let mut mine = plan.steps_for(control.id);
            let first = mine.next()?;
            let more = match mine.count() {
                0 => String::new(),
                1 => " (then 1 more step)".to_string(),
                n => format!(" (then {n} more steps)"),
            };
            Some((
                control.id.to_string(),
                format!(
                    "In account {} ({}): {}{more}",
                    first.account_id, first.region, first.action
                ),
            ))
        })
        .collect()
}

/// The trust policy of a CloudTrail delivery role: CloudTrail may assume it
/// (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html>).
pub fn delivery_trust_policy() -> serde_json::Value {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    })
}

/// The permissions of a CloudTrail delivery role: create streams in the log group and put
/// events into them (same page as [`delivery_trust_policy`]).
pub fn delivery_role_policy(log_group_arn: &str) -> serde_json::Value {
    let group = crate::model::arn::strip_log_group_wildcard(log_group_arn);
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("{group}:log-stream:*"),
        }],
    })
}

/// The name of the inline policy of a delivery role.
pub const DELIVERY_POLICY_NAME: &str = "trailwatch-cloudtrail-delivery";

/// Advanced event selectors as CloudTrail's API spells them (`Name`, `FieldSelectors`, …).
pub fn advanced_selectors_json(selectors: &[AdvancedEventSelector]) -> serde_json::Value {
    let values =
        |key: &str, list: &[String], into: &mut serde_json::Map<String, serde_json::Value>| {
            if !list.is_empty() {
                into.insert(key.to_string(), serde_json::json!(list));
            }
        };
    selectors
        .iter()
        .map(|selector| {
            let fields: Vec<serde_json::Value> = selector
                .field_selectors
                .iter()
                .map(|field| {
                    let mut object = serde_json::Map::new();
                    object.insert("Field".to_string(), serde_json::json!(field.field));
                    values("Equals", &field.equals, &mut object);
                    values("StartsWith", &field.starts_with, &mut object);
                    values("EndsWith", &field.ends_with, &mut object);
                    values("NotEquals", &field.not_equals, &mut object);
                    values("NotStartsWith", &field.not_starts_with, &mut object);
                    values("NotEndsWith", &field.not_ends_with, &mut object);
                    serde_json::Value::Object(object)
                })
                .collect();
            let mut object = serde_json::Map::new();
            if let Some(name) = &selector.name {
                object.insert("Name".to_string(), serde_json::json!(name));
            }
            object.insert(
                "FieldSelectors".to_string(),
                serde_json::Value::Array(fields),
            );
            serde_json::Value::Object(object)
        })
        .collect()
}

/// A classic event selector as CloudTrail's API spells it.
pub fn classic_selector_json(selector: &ClassicEventSelector) -> serde_json::Value {
    let mut value = serde_json::json!({
        "ReadWriteType": selector.read_write_type,
        "IncludeManagementEvents": selector.include_management_events,
    });
    if !selector.exclude_management_event_sources.is_empty() {
        value["ExcludeManagementEventSources"] =
            serde_json::json!(selector.exclude_management_event_sources);
    }
    value
}

/// The topics proven to notify (a confirmed subscription, CloudWatch may publish), by (account,
/// region), for the plan to reuse: those of the passing chains among `findings`, and those of the
/// monitoring controls `findings` do not judge (evaluated here over `snapshot`), so that a plan
/// for a few controls — a re-check's, a page's of `--controls` — reuses a topic another control's
/// chain proves, as the plan for every control does. None when `request` has no monitoring
/// control: no other step names a topic. Where two chains prove different topics in one account
/// and region, the last one evaluated is reused (the requested controls', then the others').
fn proven_topics(
    snapshot: &Snapshot,
    findings: &[Finding],
    request: &Request<'_>,
) -> BTreeMap<(String, String), String> {
    let is_monitoring = |control: &Control| matches!(control.check, Check::Monitoring(_));
    if !request
        .controls
        .iter()
        .any(|control| is_monitoring(control))
    {
        return BTreeMap::new();
    }
    let unjudged: Vec<&Control> = catalog()
        .iter()
        .filter(|control| {
            is_monitoring(control) && !findings.iter().any(|f| f.control_id == control.id)
        })
        .collect();
    let others = if unjudged.is_empty() {
        Vec::new()
    } else {
        controls::evaluate(snapshot, &unjudged, request.version)
    };
    findings
        .iter()
        .chain(&others)
        .filter(|finding| finding.status == ComplianceStatus::Passed)
        .flat_map(|finding| &finding.evidence.chain)
        .filter(|link| link.kind == ResourceKind::Topic)
        .map(|link| {
            (
                (link.account_id.clone(), link.region.clone()),
                link.id.clone(),
            )
        })
        .collect()
}

/// The link a finding ends at, if it is not PASSED.
fn missing_link(finding: &Finding) -> Option<&MissingLink> {
    (finding.status != ComplianceStatus::Passed)
        .then_some(finding.evidence.missing.as_ref())
        .flatten()
}
