//! Which changes can break or repair a monitoring chain, and which controls each can affect: the
//! event-driven re-check's one table ([`CHANGES`]) and the pure decisions over it.
//!
//! Every row names the EventBridge `source` and `detail-type` of an event, the CloudTrail
//! `eventSource` and `eventName`s it carries (none for CloudWatch's own alarm-configuration
//! events), the link of the chain it changes, and the AWS page that documents the event. A row
//! says *which kind* of control it can affect ([`Affects`]); which of those it really affects is
//! decided from the chain graph of the account's fresh snapshot ([`affected_controls`]): a metric
//! filter change matters only when a trail delivers to that filter's log group, a topic change
//! only when an alarm on a chain notifies that topic, and so on. When the event does not name
//! the resource (a field missing), the change is taken to affect every control of its kind: a
//! re-check too many costs a scan, one too few leaves a finding wrong until the schedule.

use super::{Check, Control};
use crate::model::arn::{Arn, LogGroupArn};
use crate::model::snapshot::{ChainGraph, EncryptionKey, Fetched, TopicAttributes};
use serde_json::Value;

/// `detail-type` of the API calls CloudTrail delivers to EventBridge.
/// <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html>
pub const CLOUDTRAIL_API_CALL: &str = "AWS API Call via CloudTrail";
/// `detail-type` of CloudWatch's own event when an alarm is created, updated or deleted (sent
/// without a trail, `source: aws.cloudwatch`).
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html>
pub const ALARM_CONFIGURATION_CHANGE: &str = "CloudWatch Alarm Configuration Change";

/// A link of the monitoring chain (see the design's chain, steps 1–6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Link {
    Trail,
    EventSelectors,
    /// The IAM role CloudTrail assumes to deliver to CloudWatch Logs.
    DeliveryRole,
    LogGroup,
    MetricFilter,
    Alarm,
    CompositeAlarm,
    Topic,
    /// The topic's access policy and attributes (`KmsMasterKeyId` included).
    TopicPolicy,
    /// The KMS key that encrypts a topic.
    TopicKey,
    Subscription,
}

/// Which kind of control a change can affect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affects {
    /// Every chain starts at a trail: CIS 3.4 (delivery) and every monitoring control.
    TrailAndMonitoring,
    /// The part of the chain after the log group: the monitoring controls only.
    Monitoring,
}

/// One row of the table: the events of one source and detail-type that change one link.
#[derive(Debug, PartialEq, Eq)]
pub struct ChangeKind {
    pub link: Link,
    /// The EventBridge `source`.
    pub source: &'static str,
    /// The EventBridge `detail-type`.
    pub detail_type: &'static str,
    /// For CloudTrail events, `detail.eventSource`; `None` for a service's own event.
    pub event_source: Option<&'static str>,
    /// For CloudTrail events, the `detail.eventName`s (all write calls); empty for a service's
    /// own event.
    pub event_names: &'static [&'static str],
    pub affects: Affects,
    /// Where AWS documents the event (and its source and detail-type).
    pub doc: &'static str,
}

const CLOUDTRAIL_DOC: &str =
    "https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-cloudtrail.html";
const IAM_DOC: &str =
    "https://repost.aws/knowledge-center/eventbridge-rule-triggers-iam-single-region";
const LOGS_DOC: &str = "https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-logs.html";
const MONITORING_DOC: &str =
    "https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-monitoring.html";
const ALARM_EVENTS_DOC: &str =
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html";
const SNS_DOC: &str = "https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-sns.html";
const KMS_DOC: &str = "https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-kms.html";

/// The changes that can break or repair a chain. Every CloudTrail row lists write calls only
/// (they reach EventBridge without the read-only opt-in); IAM's arrive in us-east-1 only.
pub static CHANGES: &[ChangeKind] = &[
    ChangeKind {
        link: Link::Trail,
        source: "aws.cloudtrail",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("cloudtrail.amazonaws.com"),
        event_names: &[
            "CreateTrail",
            "UpdateTrail",
            "DeleteTrail",
            "StartLogging",
            "StopLogging",
        ],
        affects: Affects::TrailAndMonitoring,
        doc: CLOUDTRAIL_DOC,
    },
    ChangeKind {
        link: Link::EventSelectors,
        source: "aws.cloudtrail",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("cloudtrail.amazonaws.com"),
        event_names: &["PutEventSelectors"],
        affects: Affects::TrailAndMonitoring,
        doc: CLOUDTRAIL_DOC,
    },
    ChangeKind {
        link: Link::DeliveryRole,
        source: "aws.iam",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("iam.amazonaws.com"),
        event_names: &[
            "UpdateAssumeRolePolicy",
            "PutRolePolicy",
            "DeleteRolePolicy",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "DeleteRole",
        ],
        affects: Affects::TrailAndMonitoring,
        doc: IAM_DOC,
    },
    ChangeKind {
        link: Link::LogGroup,
        source: "aws.logs",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("logs.amazonaws.com"),
        event_names: &["CreateLogGroup", "DeleteLogGroup"],
        affects: Affects::TrailAndMonitoring,
        doc: LOGS_DOC,
    },
    ChangeKind {
        link: Link::MetricFilter,
        source: "aws.logs",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("logs.amazonaws.com"),
        event_names: &["PutMetricFilter", "DeleteMetricFilter"],
        affects: Affects::Monitoring,
        doc: LOGS_DOC,
    },
    ChangeKind {
        link: Link::Alarm,
        source: "aws.monitoring",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("monitoring.amazonaws.com"),
        event_names: &[
            "PutMetricAlarm",
            "DeleteAlarms",
            "EnableAlarmActions",
            "DisableAlarmActions",
        ],
        affects: Affects::Monitoring,
        doc: MONITORING_DOC,
    },
    ChangeKind {
        link: Link::Alarm,
        source: "aws.cloudwatch",
        detail_type: ALARM_CONFIGURATION_CHANGE,
        event_source: None,
        event_names: &[],
        affects: Affects::Monitoring,
        doc: ALARM_EVENTS_DOC,
    },
    ChangeKind {
        link: Link::CompositeAlarm,
        source: "aws.monitoring",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("monitoring.amazonaws.com"),
        event_names: &["PutCompositeAlarm"],
        affects: Affects::Monitoring,
        doc: MONITORING_DOC,
    },
    ChangeKind {
        link: Link::Topic,
        source: "aws.sns",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("sns.amazonaws.com"),
        event_names: &["CreateTopic", "DeleteTopic"],
        affects: Affects::Monitoring,
        doc: SNS_DOC,
    },
    ChangeKind {
        link: Link::TopicPolicy,
        source: "aws.sns",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("sns.amazonaws.com"),
        event_names: &["SetTopicAttributes", "AddPermission", "RemovePermission"],
        affects: Affects::Monitoring,
        doc: SNS_DOC,
    },
    ChangeKind {
        link: Link::TopicKey,
        source: "aws.kms",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("kms.amazonaws.com"),
        event_names: &[
            "DisableKey",
            "EnableKey",
            "ScheduleKeyDeletion",
            "CancelKeyDeletion",
            "PutKeyPolicy",
        ],
        affects: Affects::Monitoring,
        doc: KMS_DOC,
    },
    ChangeKind {
        link: Link::Subscription,
        source: "aws.sns",
        detail_type: CLOUDTRAIL_API_CALL,
        event_source: Some("sns.amazonaws.com"),
        event_names: &[
            "Subscribe",
            "ConfirmSubscription",
            "Unsubscribe",
            "SetSubscriptionAttributes",
        ],
        affects: Affects::Monitoring,
        doc: SNS_DOC,
    },
];

/// What a change names, as far as deciding its controls needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Nothing to narrow by (IAM roles), or the event did not say.
    Unnamed,
    /// A trail, by name or ARN (a trail-level change: every chain starts at a trail).
    Trail(String),
    LogGroup(String),
    /// The region's alarms (an alarm serves the log groups of its own region's metrics).
    Alarms,
    TopicArn(String),
    /// A topic created by name (its ARN follows from the account and region).
    TopicName(String),
    /// A KMS key id or ARN.
    Key(String),
}

/// One change the re-check acts on, in one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub account: String,
    pub region: String,
    pub kind: &'static ChangeKind,
    /// The API call (`StopLogging`), or for CloudWatch's own event its `operation`.
    pub name: String,
    pub subject: Subject,
}

/// Why an event is not a change the re-check acts on (logged and dropped, never a failure).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotAChange {
    #[error("source {origin:?} with detail-type {detail_type:?} is not on the re-check's list")]
    UnknownKind { origin: String, detail_type: String },
    #[error("{origin} event {name:?} is not on the re-check's list")]
    UnknownName { origin: String, name: String },
    #[error("the call {name} failed ({code}): it changed nothing")]
    FailedCall { name: String, code: String },
    #[error("the event's detail has no {0}")]
    Missing(&'static str),
}

/// Classifies one event (already checked for account and region) against [`CHANGES`]. Pure.
pub fn classify(
    source: &str,
    detail_type: &str,
    account: &str,
    region: &str,
    detail: &Value,
) -> Result<Change, NotAChange> {
    let text = |key: &'static str| detail.get(key).and_then(Value::as_str);
    let change = |kind: &'static ChangeKind, name: &str, subject| Change {
        account: account.to_string(),
        region: region.to_string(),
        kind,
        name: name.to_string(),
        subject,
    };
    if detail_type == ALARM_CONFIGURATION_CHANGE {
        let kind = CHANGES
            .iter()
            .find(|kind| kind.source == source && kind.detail_type == detail_type)
            .ok_or_else(|| unknown_kind(source, detail_type))?;
        let operation = text("operation").ok_or(NotAChange::Missing("operation"))?;
        return Ok(change(kind, operation, Subject::Alarms));
    }
    if detail_type != CLOUDTRAIL_API_CALL || !CHANGES.iter().any(|kind| kind.source == source) {
        return Err(unknown_kind(source, detail_type));
    }
    let event_source = text("eventSource").ok_or(NotAChange::Missing("eventSource"))?;
    let name = text("eventName").ok_or(NotAChange::Missing("eventName"))?;
    let kind = CHANGES
        .iter()
        .find(|kind| {
            kind.source == source
                && kind.detail_type == detail_type
                && kind.event_source == Some(event_source)
                && kind.event_names.contains(&name)
        })
        .ok_or_else(|| NotAChange::UnknownName {
            origin: source.to_string(),
            name: name.to_string(),
        })?;
    // CloudTrail records refused calls too, with an errorCode: they changed nothing.
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
    if let Some(code) = text("errorCode") {
        return Err(NotAChange::FailedCall {
            name: name.to_string(),
            code: code.to_string(),
        });
    }
    let parameter = |key: &str| {
        detail
            .get("requestParameters")
            .and_then(|parameters| parameters.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let subject = match kind.link {
        Link::Trail | Link::EventSelectors => parameter("name")
            .or_else(|| parameter("trailName"))
            .map(Subject::Trail),
        Link::DeliveryRole => None,
        Link::LogGroup | Link::MetricFilter => parameter("logGroupName").map(Subject::LogGroup),
        Link::Alarm | Link::CompositeAlarm => Some(Subject::Alarms),
        Link::Topic if name == "CreateTopic" => parameter("name").map(Subject::TopicName),
        Link::Topic | Link::TopicPolicy => parameter("topicArn").map(Subject::TopicArn),
        Link::Subscription => parameter("topicArn")
            .or_else(|| {
                // Unsubscribe and SetSubscriptionAttributes name the subscription, whose ARN is
                // the topic's with one more `:` part.
                parameter("subscriptionArn")
                    .and_then(|arn| arn.rsplit_once(':').map(|(topic, _)| topic.to_string()))
            })
            .map(Subject::TopicArn),
        Link::TopicKey => parameter("keyId").map(Subject::Key),
    };
    Ok(change(kind, name, subject.unwrap_or(Subject::Unnamed)))
}

fn unknown_kind(source: &str, detail_type: &str) -> NotAChange {
    NotAChange::UnknownKind {
        origin: source.to_string(),
        detail_type: detail_type.to_string(),
    }
}

/// Whether a control is of the kind `affects` names.
fn of_kind(control: &Control, affects: Affects) -> bool {
    match control.check {
        Check::Monitoring(_) => true,
        Check::TrailDelivery => affects == Affects::TrailAndMonitoring,
        Check::SecurityHubEnabled | Check::ScanCoverage => false,
    }
}

/// The controls of `controls` a change of this kind can affect at all: none means the change
/// needs no scan. Pure.
pub fn candidate_controls(
    kind: &ChangeKind,
    controls: &[&'static Control],
) -> Vec<&'static Control> {
    controls
        .iter()
        .copied()
        .filter(|control| of_kind(control, kind.affects))
        .collect()
}

/// The controls of `controls` that `change` affects, decided from the chain graph of a snapshot
/// read after it (`partition` is the snapshot's). Pure.
pub fn affected_controls(
    graph: &ChainGraph,
    partition: &str,
    change: &Change,
    controls: &[&'static Control],
) -> Vec<&'static Control> {
    if on_a_chain(graph, partition, change) {
        candidate_controls(change.kind, controls)
    } else {
        Vec::new()
    }
}

/// Whether the changed resource is on a chain of `graph` (or the event did not say which).
fn on_a_chain(graph: &ChainGraph, partition: &str, change: &Change) -> bool {
    let (account, region) = (change.account.as_str(), change.region.as_str());
    match &change.subject {
        // A deleted trail is no longer in the graph: any trail change may matter.
        Subject::Unnamed | Subject::Trail(_) => true,
        // A deleted log group is still named by the trail that delivers to it.
        Subject::LogGroup(name) => chain_log_groups(graph).any(|group| {
            group.account_id == account && group.region == region && group.name == *name
        }),
        // Alarms watch their own region's metrics, which the filters of that region's log
        // groups publish: a deleted alarm is no longer in the graph, its region's groups are.
        Subject::Alarms => chain_log_groups(graph)
            .any(|group| group.account_id == account && group.region == region),
        Subject::TopicArn(arn) => notified(graph, partition, arn),
        Subject::TopicName(name) => notified(
            graph,
            partition,
            &format!("arn:{partition}:sns:{region}:{account}:{name}"),
        ),
        Subject::Key(key) => graph.topics.iter().any(|topic| match &topic.attributes {
            Ok(TopicAttributes {
                kms_master_key_id: Some(configured),
                key: resolved,
                ..
            }) => names_key(configured, resolved.as_ref(), key),
            Ok(_) => false,
            // Unknown attributes: the topic may use this key.
            Err(_) => true,
        }),
    }
}

/// Whether `change` touches an organization trail's chain — `shared`, the graph of the
/// organization trails and their chains ([`crate::model::snapshot::SharedChains`]) read after
/// the change in the trail owner's account, `graph` the whole of that account's: then every
/// member judged on that chain is affected, not only the owner. A trail change counts when it
/// names an organization trail, or no trail of the change's account in `graph` (deleted: it may
/// have been one; from a delegated administrator, `graph` holds only the owner's organization
/// trails, so any other trail of the owner counts too); a change naming nothing (an IAM role)
/// does not. A trail is named by its ARN, or by its name within the change's account. Pure.
pub fn on_organization_chain(
    shared: &ChainGraph,
    graph: &ChainGraph,
    partition: &str,
    change: &Change,
) -> bool {
    let names = |trail: &crate::model::snapshot::Trail, name: &str| {
        trail.arn == name
            || (trail.name == name
                && Arn::parse(&trail.arn).is_ok_and(|arn| arn.account_id == change.account))
    };
    match &change.subject {
        Subject::Unnamed => false,
        Subject::Trail(name) => {
            shared.trails.iter().any(|trail| names(trail, name))
                || !graph.trails.iter().any(|trail| names(trail, name))
        }
        _ => !shared.trails.is_empty() && on_a_chain(shared, partition, change),
    }
}

/// Every log group a trail of the graph delivers to, from the trails' ARNs (a deleted group
/// included) and the groups read.
fn chain_log_groups(graph: &ChainGraph) -> impl Iterator<Item = LogGroupArn> + '_ {
    let named = graph
        .trails
        .iter()
        .filter_map(|trail| trail.log_group_arn.as_deref());
    let read = graph.log_groups.iter().map(|group| group.arn.as_str());
    named
        .chain(read)
        .filter_map(|arn| LogGroupArn::parse(arn).ok())
}

/// Whether an alarm of the graph notifies the topic `arn`, or the graph holds it.
fn notified(graph: &ChainGraph, partition: &str, arn: &str) -> bool {
    graph.topics.iter().any(|topic| topic.arn == arn)
        || graph
            .alarm_sets
            .iter()
            .any(|set| set.notified_topics(partition).any(|topic| topic == arn))
}

/// Whether a topic's `KmsMasterKeyId` (and the key it resolved to) is the key `key` (an id or
/// an ARN, as KMS events name it). An alias that did not resolve may be any key.
fn names_key(configured: &str, resolved: Option<&Fetched<EncryptionKey>>, key: &str) -> bool {
    let key_id = |text: &str| -> String {
        Arn::parse(text)
            .ok()
            .and_then(|arn| arn.resource.strip_prefix("key/").map(str::to_string))
            .unwrap_or_else(|| text.to_string())
    };
    let wanted = key_id(key);
    match resolved {
        Some(Ok(found)) => key_id(&found.arn) == wanted,
        Some(Err(_)) | None if configured.contains("alias/") => true,
        _ => key_id(configured) == wanted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::{control, select};
    use crate::model::snapshot::{
        Alarm, AlarmEvaluation, AlarmSet, LogGroup, ReadError, ReadErrorKind, Topic,
        TopicAttributes, Trail,
    };
    use serde_json::json;

    const ACCOUNT: &str = "111122223333";
    const REGION: &str = "eu-west-1";

    fn ids(controls: &[&Control]) -> Vec<&'static str> {
        controls.iter().map(|control| control.id).collect()
    }

    fn api_call(source: &str, event_source: &str, name: &str, parameters: Value) -> Change {
        classify(
            source,
            CLOUDTRAIL_API_CALL,
            ACCOUNT,
            REGION,
            &json!({
                "eventSource": event_source,
                "eventName": name,
                "readOnly": false,
                "requestParameters": parameters,
            }),
        )
        .unwrap()
    }

    fn not_read() -> ReadError {
        ReadError {
            operation: "cloudtrail:GetTrailStatus".into(),
            region: REGION.into(),
            resource: None,
            kind: ReadErrorKind::NotNeeded,
            code: None,
            message: "not needed".into(),
        }
    }

    /// A trail delivering to `CloudTrail/main` in eu-west-1, an alarm there notifying `alerts`
    /// (its topic encrypted with a customer managed key).
    fn graph() -> ChainGraph {
        let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:alerts");
        let group = format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:CloudTrail/main:*");
        ChainGraph {
            trails: vec![Trail {
                arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"),
                name: "main".into(),
                home_region: REGION.into(),
                is_multi_region: true,
                is_organization_trail: false,
                log_group_arn: Some(group.clone()),
                status: Err(not_read()),
                event_selectors: Err(not_read()),
            }],
            log_groups: vec![LogGroup {
                arn: group,
                name: "CloudTrail/main".into(),
                region: REGION.into(),
                account_id: ACCOUNT.into(),
                metric_filters: Ok(vec![]),
            }],
            alarm_sets: vec![AlarmSet {
                region: REGION.into(),
                account_id: ACCOUNT.into(),
                alarms: Ok(vec![Alarm {
                    arn: format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cis"),
                    name: "cis".into(),
                    actions_enabled: true,
                    alarm_actions: vec![topic.clone()],
                    ok_actions: vec![],
                    insufficient_data_actions: vec![],
                    metrics: vec![],
                    evaluation: AlarmEvaluation::default(),
                }]),
                composite_alarms: vec![],
            }],
            topics: vec![Topic {
                arn: topic,
                region: REGION.into(),
                account_id: ACCOUNT.into(),
                subscriptions: Ok(vec![]),
                attributes: Ok(TopicAttributes {
                    policy: None,
                    kms_master_key_id: Some("alias/alerts".into()),
                    key: Some(Ok(EncryptionKey {
                        arn: format!(
                            "arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
                        ),
                        key_manager: "CUSTOMER".into(),
                        key_state: "Enabled".into(),
                        policy: None,
                    })),
                }),
            }],
        }
    }

    #[test]
    fn every_row_is_documented_and_every_call_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for kind in CHANGES {
            assert!(kind.doc.starts_with("https://"), "{kind:?}");
            assert!(kind.source.starts_with("aws."), "{kind:?}");
            match kind.event_source {
                Some(_) => assert_eq!(kind.detail_type, CLOUDTRAIL_API_CALL),
                None => assert!(kind.event_names.is_empty()),
            }
            for name in kind.event_names {
                assert!(seen.insert((kind.source, *name)), "{name} listed twice");
                // Only write calls: they reach EventBridge without the read-only opt-in.
                for read in ["Describe", "Get", "List"] {
                    assert!(!name.starts_with(read), "{name} is read-only");
                }
            }
        }
        let links: std::collections::BTreeSet<Link> = CHANGES.iter().map(|k| k.link).collect();
        assert_eq!(links.len(), 11, "every link of the chain has its events");
    }

    #[test]
    fn events_off_the_list_and_failed_calls_are_not_changes() {
        let trail_call = |detail: Value| {
            classify(
                "aws.cloudtrail",
                CLOUDTRAIL_API_CALL,
                ACCOUNT,
                REGION,
                &detail,
            )
        };
        let error = trail_call(
            json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "DescribeTrails"}),
        );
        assert!(
            matches!(error, Err(NotAChange::UnknownName { .. })),
            "{error:?}"
        );
        let error = classify("aws.s3", "Object Created", ACCOUNT, REGION, &json!({}));
        assert!(
            matches!(error, Err(NotAChange::UnknownKind { .. })),
            "{error:?}"
        );
        // A CloudWatch call under the CloudTrail source is not a CloudTrail change.
        let error = trail_call(
            json!({"eventSource": "monitoring.amazonaws.com", "eventName": "DeleteAlarms"}),
        );
        assert!(error.is_err(), "{error:?}");
        let error = trail_call(json!({
            "eventSource": "cloudtrail.amazonaws.com",
            "eventName": "StopLogging",
            "errorCode": "AccessDenied"
        }));
        assert!(
            matches!(error, Err(NotAChange::FailedCall { .. })),
            "{error:?}"
        );
        assert_eq!(
            trail_call(json!(null)),
            Err(NotAChange::Missing("eventSource"))
        );
    }

    #[test]
    fn a_trail_change_affects_delivery_and_monitoring_but_not_security_hub() {
        let controls = select("trail-cw-logs,cloudtrail-changes,securityhub-enabled").unwrap();
        let change = api_call(
            "aws.cloudtrail",
            "cloudtrail.amazonaws.com",
            "StopLogging",
            json!({"name": "main"}),
        );
        assert_eq!(
            ids(&affected_controls(
                &ChainGraph::default(),
                "aws",
                &change,
                &controls
            )),
            ["trail-cw-logs", "cloudtrail-changes"]
        );
    }

    #[test]
    fn a_metric_filter_change_affects_only_chains_through_its_log_group() {
        let controls = select("default").unwrap();
        let on_chain = api_call(
            "aws.logs",
            "logs.amazonaws.com",
            "DeleteMetricFilter",
            json!({"logGroupName": "CloudTrail/main", "filterName": "cis-4-5"}),
        );
        let affected = affected_controls(&graph(), "aws", &on_chain, &controls);
        assert!(
            !ids(&affected).contains(&"trail-cw-logs"),
            "a filter is not delivery"
        );
        assert_eq!(affected.len(), controls.len() - 1);
        let elsewhere = api_call(
            "aws.logs",
            "logs.amazonaws.com",
            "PutMetricFilter",
            json!({"logGroupName": "/app/web", "filterName": "errors"}),
        );
        assert!(affected_controls(&graph(), "aws", &elsewhere, &controls).is_empty());
        // The same log group name in another region is another log group.
        let mut other_region = on_chain.clone();
        other_region.region = "us-east-1".into();
        assert!(affected_controls(&graph(), "aws", &other_region, &controls).is_empty());
        // Deleting the log group itself affects delivery too.
        let deleted = api_call(
            "aws.logs",
            "logs.amazonaws.com",
            "DeleteLogGroup",
            json!({"logGroupName": "CloudTrail/main"}),
        );
        assert_eq!(
            affected_controls(&graph(), "aws", &deleted, &controls).len(),
            controls.len()
        );
    }

    #[test]
    fn topic_key_and_alarm_changes_follow_the_graph() {
        let controls = vec![control("cloudtrail-changes").unwrap()];
        let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:alerts");
        for (change, affected) in [
            (
                api_call(
                    "aws.sns",
                    "sns.amazonaws.com",
                    "DeleteTopic",
                    json!({"topicArn": topic}),
                ),
                true,
            ),
            (
                api_call(
                    "aws.sns",
                    "sns.amazonaws.com",
                    "CreateTopic",
                    json!({"name": "alerts"}),
                ),
                true,
            ),
            (
                api_call(
                    "aws.sns",
                    "sns.amazonaws.com",
                    "CreateTopic",
                    json!({"name": "other"}),
                ),
                false,
            ),
            (
                api_call(
                    "aws.sns",
                    "sns.amazonaws.com",
                    "Unsubscribe",
                    json!({"subscriptionArn": format!("{topic}:5f1c")}),
                ),
                true,
            ),
            (
                api_call(
                    "aws.sns",
                    "sns.amazonaws.com",
                    "SetTopicAttributes",
                    json!({"topicArn": format!("{topic}-x"), "attributeName": "Policy"}),
                ),
                false,
            ),
            (
                api_call(
                    "aws.kms",
                    "kms.amazonaws.com",
                    "DisableKey",
                    json!({"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
                ),
                true,
            ),
            (
                api_call(
                    "aws.kms",
                    "kms.amazonaws.com",
                    "ScheduleKeyDeletion",
                    json!({"keyId": "ffffffff-12ab-34cd-56ef-1234567890ab"}),
                ),
                false,
            ),
            (
                api_call(
                    "aws.monitoring",
                    "monitoring.amazonaws.com",
                    "DeleteAlarms",
                    json!({"alarmNames": ["cis"]}),
                ),
                true,
            ),
            // The parameters missing: taken to affect its kind.
            (
                api_call("aws.sns", "sns.amazonaws.com", "DeleteTopic", json!(null)),
                true,
            ),
        ] {
            assert_eq!(
                !affected_controls(&graph(), "aws", &change, &controls).is_empty(),
                affected,
                "{change:?}"
            );
        }
        let configuration = classify(
            "aws.cloudwatch",
            ALARM_CONFIGURATION_CHANGE,
            ACCOUNT,
            "ap-south-1",
            &json!({"alarmName": "cis", "operation": "delete"}),
        )
        .unwrap();
        assert_eq!(configuration.name, "delete");
        assert!(
            affected_controls(&graph(), "aws", &configuration, &controls).is_empty(),
            "no chain in ap-south-1"
        );
    }

    #[test]
    fn only_changes_on_an_organization_trails_chain_reach_its_members() {
        let own = graph();
        let mut shared = graph();
        shared.trails[0].is_organization_trail = true;
        let filter = api_call(
            "aws.logs",
            "logs.amazonaws.com",
            "DeleteMetricFilter",
            json!({"logGroupName": "CloudTrail/main", "filterName": "cis"}),
        );
        assert!(on_organization_chain(&shared, &own, "aws", &filter));
        assert!(!on_organization_chain(
            &ChainGraph::default(),
            &own,
            "aws",
            &filter
        ));
        let stop = |name: &str| {
            api_call(
                "aws.cloudtrail",
                "cloudtrail.amazonaws.com",
                "StopLogging",
                json!({ "name": name }),
            )
        };
        assert!(on_organization_chain(&shared, &own, "aws", &stop("main")));
        assert!(!on_organization_chain(
            &ChainGraph::default(),
            &own,
            "aws",
            &stop("main")
        ));
        // A trail gone from the account may have been the organization's.
        assert!(on_organization_chain(
            &ChainGraph::default(),
            &own,
            "aws",
            &stop("deleted")
        ));
        // Names are the change's account's: another account's trail of the same name (the
        // stack's own, seen from a delegated administrator) is not the one changed, so a trail
        // of that name the owner deleted may have been the organization's.
        let mut elsewhere = graph();
        elsewhere.trails[0].arn = elsewhere.trails[0].arn.replace(ACCOUNT, "999988887777");
        assert!(on_organization_chain(
            &ChainGraph::default(),
            &elsewhere,
            "aws",
            &stop("main")
        ));
        let role = api_call(
            "aws.iam",
            "iam.amazonaws.com",
            "PutRolePolicy",
            json!({"roleName": "CloudTrail_CloudWatchLogs_Role"}),
        );
        assert!(!on_organization_chain(&shared, &own, "aws", &role));
    }

    #[test]
    fn a_change_outside_the_stacks_controls_needs_no_scan() {
        let only_delivery = select("trail-cw-logs").unwrap();
        let filter = CHANGES
            .iter()
            .find(|kind| kind.link == Link::MetricFilter)
            .unwrap();
        assert!(candidate_controls(filter, &only_delivery).is_empty());
        let trail = CHANGES
            .iter()
            .find(|kind| kind.link == Link::Trail)
            .unwrap();
        assert_eq!(
            ids(&candidate_controls(trail, &only_delivery)),
            ["trail-cw-logs"]
        );
    }
}
