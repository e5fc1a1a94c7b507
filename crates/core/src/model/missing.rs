//! The typed missing link: every way a candidate chain can stop short, with the data that says
//! exactly where, and the one place its sentence is written.
//!
//! The chain evaluator ends each candidate with a [`MissingLink`] (or completes it); the finding
//! keeps the best candidate's. The sentence users read ([`fmt::Display`]), the status it implies
//! ([`MissingLink::status`]), the short kind code that ASFF `ProductFields` and tools match on
//! ([`MissingLink::kind`]) and a counterexample event, where one exists, all come from here; the
//! remediation planner reads the variants' data.

use crate::model::findings::ComplianceStatus;
use crate::model::snapshot::{ReadError, ReadErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use time::OffsetDateTime;

/// Why a candidate chain (or a CIS 3.4 trail, or the Security Hub check) is not complete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MissingLink {
    // The account and its trails.
    /// The account has no trail at all.
    NoTrail,
    /// Some regions could not be listed, and the ones that could show no multi-Region trail.
    NoMultiRegionTrail {
        unlisted_regions: Vec<String>,
    },
    TrailNotMultiRegion {
        trail: String,
    },
    TrailNotLogging {
        trail: String,
    },
    /// The trail's event selectors leave out management events the control watches.
    TrailMissesManagementEvents {
        trail: String,
        gap: SelectorGap,
    },
    TrailNotSendingToLogs {
        trail: String,
    },

    // The log group and its filters.
    LogGroupMissing {
        log_group_arn: String,
    },
    NoMetricFilter {
        log_group: String,
    },
    /// No filter covers the CIS pattern; `filter` is the closest one, `missed` describes the
    /// counterexample event it would miss.
    FilterDoesNotCover {
        filter: String,
        other_filters: usize,
        missed: String,
        counterexample: Value,
    },
    FilterPublishesNoMetric {
        filter: String,
    },

    // The alarm.
    /// No alarm reads the filter's metric (`namespace/name`).
    NoAlarmOnMetric {
        metric: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        near_miss: Option<NearMiss>,
    },
    /// The alarm pins dimension values that select only part of the records.
    AlarmPinsMissEvents {
        alarm: String,
        pins: Vec<(String, String)>,
        missed: String,
        counterexample: Value,
    },
    AlarmActionsDisabled {
        alarm: String,
    },
    /// One matching record never makes the alarm go into ALARM.
    AlarmNeverFires {
        alarm: String,
        gap: FiringGap,
    },
    CompositeDoesNotFollow {
        composite: String,
        child: String,
        rule: String,
    },
    CompositeActionsDisabled {
        composite: String,
    },
    /// The alarm's ALARM actions name SNS topics, none in its own region.
    TopicsOutsideAlarmRegion {
        alarm: String,
        region: String,
        topics: Vec<String>,
    },
    /// SNS is among the alarm's OK or INSUFFICIENT_DATA actions only.
    NotifiesOnlyOutsideAlarmState {
        alarm: String,
    },
    NoTopicAction {
        alarm: String,
    },

    // The topic and its subscriptions.
    TopicMissing {
        topic_arn: String,
    },
    NoSubscription {
        topic_arn: String,
    },
    NoConfirmedSubscription {
        topic_arn: String,
        pending: usize,
        deleted: usize,
        other: usize,
    },

    // Publishing to the topic.
    /// The topic is encrypted with the AWS managed key of SNS, which CloudWatch cannot use.
    TopicKeyAwsManaged {
        topic_arn: String,
        key: String,
    },
    /// The topic's customer managed key is not enabled.
    TopicKeyNotEnabled {
        topic_arn: String,
        key: String,
        state: String,
    },
    /// The key policy does not let CloudWatch use the key (`refusal` says which statement
    /// denies it, or that none allows it).
    KeyRefusesCloudWatch {
        topic_arn: String,
        key: String,
        action: String,
        refusal: String,
    },
    /// The topic's access policy does not let CloudWatch publish for the alarm.
    TopicRefusesCloudWatch {
        topic_arn: String,
        alarm_arn: String,
        refusal: String,
    },
    /// No confirmed subscription's filter policy lets the alarm's notification through
    /// (`subscription` is the first, masked; `key` the policy key its notification fails).
    SubscriptionFiltersOut {
        topic_arn: String,
        subscription: String,
        confirmed: usize,
        key: String,
    },

    // CIS 3.4: delivery to CloudWatch Logs.
    NoDeliveryRecorded {
        trail: String,
        log_group: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_error: Option<String>,
    },
    DeliveryStale {
        trail: String,
        log_group: String,
        #[serde(with = "time::serde::rfc3339")]
        delivered: OffsetDateTime,
        hours_before_scan: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_error: Option<String>,
    },

    // CIS 4.16 / 5.16.
    /// Regions without a hub (`region (code: message)`), and regions that could not be read.
    SecurityHubNotEnabled {
        regions: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unread: Vec<String>,
    },

    // NOT_AVAILABLE: what could not be seen.
    /// A read the chain depends on failed.
    Unread {
        subject: Subject,
        error: Box<ReadError>,
    },
    /// Something the chain needs was not part of what the scan read.
    NotCollected {
        subject: Subject,
    },
    /// The scan's scope is incomplete: the enabled regions are unknown, or trails could not be
    /// listed in some regions (`region (message)`).
    ScopeIncomplete {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        regions_unknown: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        unlisted_regions: Vec<String>,
    },
    /// Security Hub could not be read in these regions (`region (operation: code: message)`).
    SecurityHubUnread {
        regions: Vec<String>,
    },
    /// The control's own pattern does not parse (a bad edit of the catalog).
    ControlPatternInvalid {
        message: String,
    },
    /// No benchmark version gives the control a pattern.
    NoControlPattern,
    /// An organization run could not scan (or publish for) an account: trailwatch's own
    /// scan-coverage check.
    AccountNotScanned {
        account_id: String,
        reason: String,
    },

    // WARNING: what the engine cannot decide.
    FilterUndecided {
        filter: String,
        reason: String,
    },
    PinnedFilterUndecided {
        filter: String,
        alarm: String,
        pins: Vec<(String, String)>,
        reason: String,
    },
    CompositeRuleUndecided {
        composite: String,
        child: String,
        other_alarms: usize,
    },
    CompositeRuleUnreadable {
        composite: String,
        error: String,
    },
    /// Whether one matching record fires the alarm cannot be decided.
    AlarmFiringUndecided {
        alarm: String,
        reason: String,
    },
    /// Whether a policy lets CloudWatch publish cannot be decided (`statement` names the
    /// statement the outcome hinges on, when there is one).
    PublishUndecided {
        topic_arn: String,
        policy: String,
        statement: String,
        reason: String,
    },
    /// A composite alarm's actions are suppressed while another alarm is in ALARM.
    CompositeActionsSuppressible {
        composite: String,
        suppressor: String,
    },
    /// Whether a subscription's filter policy lets the notification through cannot be decided.
    SubscriptionFilterUndecided {
        subscription: String,
        key: String,
        reason: String,
    },
}

/// Why one matching record never makes an alarm go into ALARM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FiringGap {
    /// The period holding the record does not breach the threshold.
    NeverBreaches {
        statistic: String,
        value: f64,
        operator: String,
        threshold: f64,
    },
    /// One breaching period never makes M of N.
    NeedsMoreBreachingPeriods { datapoints: usize, periods: usize },
    /// While no record matches, the alarm already sits in ALARM: no transition, no action.
    InAlarmWhileQuiet { treat_missing_data: String },
    /// The alarm reads a unit the filter does not publish, so it reads no data.
    UnitMismatch {
        alarm_unit: String,
        metric_unit: String,
    },
    /// A percentile alarm that ignores low sample counts never changes state on one record.
    LowSampleCountIgnored { statistic: String },
}

/// Near misses named when no alarm reads a filter's metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NearMiss {
    /// An alarm reads the metric name in another namespace.
    OtherNamespace {
        alarm: String,
        metric_name: String,
        namespace: String,
        wanted_namespace: String,
    },
    /// An alarm reads the metric with dimensions the filter does not publish.
    OtherDimensions { alarm: String, metric_name: String },
}

/// What a trail's event selectors leave out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SelectorGap {
    /// The trail has no event selectors at all.
    NoSelectors,
    /// Management events not recorded, as (read-only?, event source), and the selectors as read.
    NotRecorded {
        missed: Vec<MissedEvents>,
        advanced: bool,
        selectors: String,
    },
}

/// One kind of management event a trail does not record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissedEvents {
    pub read_only: bool,
    pub event_source: String,
}

/// What a failed or missing read was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// The account's trails (DescribeTrails in every region).
    Trails,
    /// A trail's status (GetTrailStatus).
    TrailStatus {
        trail: String,
    },
    /// A trail's status, as CIS 3.4 names it.
    DeliveryStatus {
        trail: String,
    },
    EventSelectors {
        trail: String,
    },
    LogGroup {
        log_group_arn: String,
    },
    MetricFilters {
        log_group: String,
    },
    Alarms {
        region: String,
    },
    Topic {
        topic_arn: String,
    },
    Subscriptions {
        topic_arn: String,
    },
    TopicAttributes {
        topic_arn: String,
    },
    EncryptionKey {
        key: String,
    },
    KeyPolicy {
        key: String,
    },
    SubscriptionFilter {
        subscription: String,
    },
    SecurityHub,
}

impl MissingLink {
    /// The status a chain ending here gets.
    pub fn status(&self) -> ComplianceStatus {
        use MissingLink::*;
        match self {
            Unread { .. }
            | NotCollected { .. }
            | ScopeIncomplete { .. }
            | SecurityHubUnread { .. }
            | ControlPatternInvalid { .. }
            | NoControlPattern
            | AccountNotScanned { .. } => ComplianceStatus::NotAvailable,
            FilterUndecided { .. }
            | PinnedFilterUndecided { .. }
            | CompositeRuleUndecided { .. }
            | CompositeRuleUnreadable { .. }
            | AlarmFiringUndecided { .. }
            | PublishUndecided { .. }
            | CompositeActionsSuppressible { .. }
            | SubscriptionFilterUndecided { .. } => ComplianceStatus::Warning,
            _ => ComplianceStatus::Failed,
        }
    }

    /// The variant's name as serialized (`trail_not_logging`, …): what `ProductFields` carries
    /// for tools to match on.
    pub fn kind(&self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|value| value.get("kind")?.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// An event the chain would miss, where the link is a coverage gap.
    pub fn counterexample(&self) -> Option<&Value> {
        match self {
            MissingLink::FilterDoesNotCover { counterexample, .. }
            | MissingLink::AlarmPinsMissEvents { counterexample, .. } => Some(counterexample),
            _ => None,
        }
    }
}

impl fmt::Display for MissingLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use MissingLink::*;
        match self {
            NoTrail => write!(f, "the account has no CloudTrail trail"),
            NoMultiRegionTrail { unlisted_regions } => write!(
                f,
                "the account has no multi-Region CloudTrail trail (trails could not be listed in {})",
                unlisted_regions.join(", ")
            ),
            TrailNotMultiRegion { trail } => write!(f, "trail {trail} is not multi-Region"),
            TrailNotLogging { trail } => write!(f, "trail {trail} is not logging"),
            TrailMissesManagementEvents { trail, gap } => write!(f, "trail {trail} {gap}"),
            TrailNotSendingToLogs { trail } => {
                write!(f, "trail {trail} does not send its events to CloudWatch Logs")
            }
            LogGroupMissing { log_group_arn } => {
                write!(f, "log group {log_group_arn} does not exist")
            }
            NoMetricFilter { log_group } => write!(f, "log group {log_group} has no metric filter"),
            FilterDoesNotCover {
                filter,
                other_filters,
                missed,
                ..
            } => {
                let others = match other_filters {
                    0 => String::new(),
                    1 => " (nor does the other filter)".to_string(),
                    n => format!(" (nor do the {n} other filters)"),
                };
                write!(
                    f,
                    "filter {filter} does not cover the CIS pattern{others}: it misses events such as {missed}"
                )
            }
            FilterPublishesNoMetric { filter } => write!(f, "filter {filter} publishes no metric"),
            NoAlarmOnMetric { metric, near_miss } => {
                write!(f, "no alarm watches metric {metric}")?;
                match near_miss {
                    Some(NearMiss::OtherNamespace {
                        alarm,
                        metric_name,
                        namespace,
                        wanted_namespace,
                    }) => write!(
                        f,
                        " (alarm {alarm} watches {metric_name} in namespace {namespace}, not {wanted_namespace})"
                    ),
                    Some(NearMiss::OtherDimensions { alarm, metric_name }) => {
                        write!(f, " (alarm {alarm} watches {metric_name} with other dimensions)")
                    }
                    None => Ok(()),
                }
            }
            AlarmPinsMissEvents {
                alarm,
                pins,
                missed,
                ..
            } => write!(
                f,
                "alarm {alarm} reads only the records with {}, which misses events such as {missed}",
                pinned(pins)
            ),
            AlarmActionsDisabled { alarm } => write!(f, "alarm {alarm} has its actions disabled"),
            AlarmNeverFires { alarm, gap } => write!(f, "alarm {alarm} {gap}"),
            AlarmFiringUndecided { alarm, reason } => write!(
                f,
                "could not decide whether one matching record fires alarm {alarm}: {reason}"
            ),
            CompositeDoesNotFollow {
                composite,
                child,
                rule,
            } => write!(
                f,
                "composite alarm {composite} does not go into ALARM whenever alarm {child} does (rule {rule})"
            ),
            CompositeActionsDisabled { composite } => {
                write!(f, "composite alarm {composite} has its actions disabled")
            }
            TopicsOutsideAlarmRegion {
                alarm,
                region,
                topics,
            } => write!(
                f,
                "alarm {alarm} notifies only SNS topics outside its region {region} ({}): CloudWatch notifies topics in the alarm's own region only",
                topics.join(", ")
            ),
            NotifiesOnlyOutsideAlarmState { alarm } => write!(
                f,
                "alarm {alarm} notifies SNS only outside the ALARM state (OK or INSUFFICIENT_DATA actions)"
            ),
            NoTopicAction { alarm } => {
                write!(f, "alarm {alarm} has no SNS topic among its alarm actions")
            }
            TopicMissing { topic_arn } => write!(f, "topic {topic_arn} does not exist"),
            NoSubscription { topic_arn } => write!(f, "topic {topic_arn} has no subscription"),
            NoConfirmedSubscription {
                topic_arn,
                pending,
                deleted,
                other,
            } => {
                let counts = [
                    (*pending, "pending confirmation"),
                    (*deleted, "deleted"),
                    (*other, "in another state"),
                ]
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect::<Vec<_>>()
                .join(", ");
                write!(
                    f,
                    "topic {topic_arn} has no confirmed subscription ({counts})"
                )
            }
            TopicKeyAwsManaged { topic_arn, key } => write!(
                f,
                "topic {topic_arn} is encrypted with {key}, the AWS managed key of SNS, which CloudWatch cannot use"
            ),
            TopicKeyNotEnabled {
                topic_arn,
                key,
                state,
            } => write!(
                f,
                "topic {topic_arn} is encrypted with key {key}, which is {state}: publishing to it fails"
            ),
            KeyRefusesCloudWatch {
                topic_arn,
                key,
                action,
                refusal,
            } => write!(
                f,
                "topic {topic_arn} is encrypted with key {key}, whose key policy does not let cloudwatch.amazonaws.com use {action} ({refusal})"
            ),
            TopicRefusesCloudWatch {
                topic_arn,
                alarm_arn,
                refusal,
            } => write!(
                f,
                "the access policy of topic {topic_arn} does not let CloudWatch publish for alarm {alarm_arn} ({refusal})"
            ),
            SubscriptionFiltersOut {
                topic_arn,
                subscription,
                confirmed,
                key,
            } => {
                let which = if *confirmed == 1 {
                    format!("the only confirmed subscription of topic {topic_arn}, {subscription},")
                } else {
                    format!(
                        "none of the {confirmed} confirmed subscriptions of topic {topic_arn} (e.g. {subscription})"
                    )
                };
                write!(
                    f,
                    "{which} filters the alarm's notification out: its filter policy's {key} does not match it"
                )
            }
            NoDeliveryRecorded {
                trail,
                log_group,
                last_error,
            } => write!(
                f,
                "trail {trail} → log group {log_group}: no delivery to CloudWatch Logs recorded{}",
                delivery_error(last_error)
            ),
            DeliveryStale {
                trail,
                log_group,
                delivered,
                hours_before_scan,
                last_error,
            } => write!(
                f,
                "trail {trail} → log group {log_group}: last delivered {}, {hours_before_scan} hours before the scan (more than 24){}",
                rfc3339(*delivered),
                delivery_error(last_error)
            ),
            SecurityHubNotEnabled { regions, unread } => {
                write!(f, "Security Hub is not enabled in {}", regions.join(", "))?;
                if !unread.is_empty() {
                    write!(f, "; could not read {}", unread.join(", "))?;
                }
                Ok(())
            }
            Unread { subject, error } => {
                write!(
                    f,
                    "could not read {subject} ({} in {}: {})",
                    error.operation,
                    error.region,
                    error.code_and_message()
                )?;
                if error.kind == ReadErrorKind::AccessDenied {
                    write!(f, "; the permission {} would allow it", error.operation)?;
                }
                Ok(())
            }
            NotCollected {
                subject: Subject::SecurityHub,
            } => f.write_str("Security Hub was not read by this scan (securityhub:DescribeHub)"),
            NotCollected { subject } => {
                let verb = match subject {
                    Subject::Alarms { .. } => "were",
                    _ => "was",
                };
                write!(f, "{subject} {verb} not read by this scan")
            }
            ScopeIncomplete {
                regions_unknown,
                unlisted_regions,
            } => {
                let mut gaps = Vec::new();
                if let Some(reason) = regions_unknown {
                    gaps.push(format!("the enabled regions are unknown: {reason}"));
                }
                if !unlisted_regions.is_empty() {
                    gaps.push(format!(
                        "trails could not be listed in {}: a single-Region trail there was not checked",
                        unlisted_regions.join(", ")
                    ));
                }
                f.write_str(&gaps.join("; "))
            }
            SecurityHubUnread { regions } => {
                write!(f, "could not read Security Hub in {}", regions.join(", "))
            }
            ControlPatternInvalid { message } => {
                write!(f, "the control's own pattern does not parse: {message}")
            }
            NoControlPattern => write!(f, "no benchmark version gives this control a pattern"),
            AccountNotScanned { reason, .. } => f.write_str(reason),
            PublishUndecided {
                topic_arn,
                policy,
                statement,
                reason,
            } => {
                let statement = if statement.is_empty() {
                    String::new()
                } else {
                    format!(" (statement {statement})")
                };
                write!(
                    f,
                    "could not decide whether {policy} of topic {topic_arn} lets CloudWatch publish{statement}: {reason}"
                )
            }
            CompositeActionsSuppressible {
                composite,
                suppressor,
            } => write!(
                f,
                "composite alarm {composite} has its actions suppressed while alarm {suppressor} is in ALARM (ActionsSuppressor): whether it notifies depends on that alarm's state"
            ),
            SubscriptionFilterUndecided {
                subscription,
                key,
                reason,
            } => {
                let key = if key.is_empty() {
                    String::new()
                } else {
                    format!(" (key {key})")
                };
                write!(
                    f,
                    "could not decide whether subscription {subscription} receives the alarm's notification{key}: {reason}"
                )
            }
            FilterUndecided { filter, reason } => write!(
                f,
                "could not decide whether filter {filter} covers the CIS pattern: {reason}"
            ),
            PinnedFilterUndecided {
                filter,
                alarm,
                pins,
                reason,
            } => write!(
                f,
                "could not decide whether filter {filter} covers the CIS pattern on the records with {} that alarm {alarm} reads: {reason}",
                pinned(pins)
            ),
            CompositeRuleUndecided {
                composite,
                child,
                other_alarms,
            } => write!(
                f,
                "could not decide whether composite alarm {composite} goes into ALARM whenever alarm {child} does: its rule names {other_alarms} other alarms"
            ),
            CompositeRuleUnreadable { composite, error } => write!(
                f,
                "could not read the rule of composite alarm {composite} ({error})"
            ),
        }
    }
}

impl fmt::Display for FiringGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FiringGap::NeverBreaches {
                statistic,
                value,
                operator,
                threshold,
            } => write!(
                f,
                "compares {statistic} {operator} {threshold}: one record counts {value}, which never breaches it"
            ),
            FiringGap::NeedsMoreBreachingPeriods {
                datapoints,
                periods,
            } => write!(
                f,
                "needs {datapoints} of {periods} breaching periods: one record never fires it"
            ),
            FiringGap::InAlarmWhileQuiet { treat_missing_data } => write!(
                f,
                "sits in ALARM while no record matches (missing data treated as {treat_missing_data}): it never changes state, so it never notifies"
            ),
            FiringGap::UnitMismatch {
                alarm_unit,
                metric_unit,
            } => write!(
                f,
                "reads unit {alarm_unit}, but the filter publishes {metric_unit}: it reads no data"
            ),
            FiringGap::LowSampleCountIgnored { statistic } => write!(
                f,
                "ignores {statistic} over low sample counts: one record never changes its state"
            ),
        }
    }
}

impl fmt::Display for SelectorGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectorGap::NoSelectors => {
                f.write_str("has no event selectors, so it records no management events")
            }
            SelectorGap::NotRecorded {
                missed,
                advanced,
                selectors,
            } => {
                let kinds = missed
                    .iter()
                    .map(|missed| {
                        format!(
                            "{} management events of {}",
                            if missed.read_only { "read" } else { "write" },
                            missed.event_source
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" or ");
                write!(
                    f,
                    "does not record {kinds} ({} selectors: {selectors})",
                    if *advanced { "advanced" } else { "classic" }
                )
            }
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Trails => f.write_str("the account's trails"),
            Subject::TrailStatus { trail } => write!(f, "trail {trail}"),
            Subject::DeliveryStatus { trail } => write!(f, "the status of trail {trail}"),
            Subject::EventSelectors { trail } => write!(f, "event selectors of trail {trail}"),
            Subject::LogGroup { log_group_arn } => write!(f, "log group {log_group_arn}"),
            Subject::MetricFilters { log_group } => {
                write!(f, "metric filters of log group {log_group}")
            }
            Subject::Alarms { region } => write!(f, "alarms in {region}"),
            Subject::Topic { topic_arn } => write!(f, "topic {topic_arn}"),
            Subject::Subscriptions { topic_arn } => write!(f, "subscriptions of topic {topic_arn}"),
            Subject::SecurityHub => f.write_str("Security Hub (securityhub:DescribeHub)"),
            Subject::TopicAttributes { topic_arn } => {
                write!(f, "the attributes of topic {topic_arn}")
            }
            Subject::EncryptionKey { key } => write!(f, "encryption key {key}"),
            Subject::KeyPolicy { key } => write!(f, "the key policy of {key}"),
            Subject::SubscriptionFilter { subscription } => {
                write!(f, "the filter policy of subscription {subscription}")
            }
        }
    }
}

/// `$.userIdentity.arn=arn:…, $.awsRegion=us-east-1`.
fn pinned(pins: &[(String, String)]) -> String {
    pins.iter()
        .map(|(field, value)| format!("{field}={value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `; last delivery error: …` when the trail reports one.
pub(crate) fn delivery_error(last_error: &Option<String>) -> String {
    last_error
        .as_deref()
        .map(|error| format!("; last delivery error: {error}"))
        .unwrap_or_default()
}

/// An RFC 3339 timestamp, as the findings print them.
pub(crate) fn rfc3339(time: OffsetDateTime) -> String {
    time.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time.to_string())
}
