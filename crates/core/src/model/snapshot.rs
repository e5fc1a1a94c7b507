//! What was read from one AWS account: plain serde data, the only input of the evaluator.
//!
//! A [`Snapshot`] holds the trails (with status and event selectors), the CloudWatch Logs log
//! groups the trails deliver to (with their metric filters), the CloudWatch alarms on those
//! filters' metrics, the SNS topics those alarms notify (with their subscriptions) and, when a
//! control asks, whether Security Hub is enabled in each region. Every read
//! that failed is kept as data, next to the thing it was about, as a [`ReadError`]: the evaluator
//! turns it into a NOT_AVAILABLE verdict with the reason instead of a false FAILED.
//!
//! Snapshots round-trip through JSON (`trailwatch scan --save-snapshot`, `trailwatch evaluate`), so
//! every control can be tested offline from a file.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Version of the snapshot format; bumped on incompatible changes.
pub const SNAPSHOT_FORMAT: u32 = 3;

/// Everything read from one account in one scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`SNAPSHOT_FORMAT`] of the writer.
    pub format: u32,
    /// The scanned account.
    pub account_id: String,
    /// `aws`, `aws-us-gov` or `aws-cn`.
    pub partition: String,
    /// When collection started; "the last 24 hours" is measured from here.
    #[serde(with = "time::serde::rfc3339")]
    pub collected_at: OffsetDateTime,
    /// The regions whose trails were listed.
    pub regions: Vec<String>,
    /// How those regions were chosen.
    #[serde(default)]
    pub region_source: RegionSource,
    /// The trails visible from the scanned regions and what hangs off them (in JSON, the four
    /// lists sit at the top level of the snapshot).
    #[serde(flatten)]
    pub chains: ChainGraph,
    /// Security Hub's hub in each scanned region (DescribeHub), when a selected control needs
    /// it; `None`: not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub securityhub: Option<Vec<SecurityHubRegion>>,
    /// Reads that failed without being tied to one resource (e.g. DescribeTrails in a region).
    pub read_errors: Vec<ReadError>,
    /// How many AWS API calls the collection made (every attempt, retries included)…
    pub api_calls: u64,
    /// … and how many of each `service:Operation`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_calls_by_operation: BTreeMap<String, u64>,
}

/// How a scan chose its regions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionSource {
    /// Named by the configuration (`--regions`, `TRAILWATCH_REGIONS`).
    #[default]
    Configured,
    /// The account's enabled regions (`account:ListRegions`).
    Enabled,
    /// ListRegions failed: every region of the partition this build knows, minus those that
    /// answered as not enabled. `reason` says why and what may be missing.
    KnownRegions { reason: String },
}

/// The resources a monitoring chain runs through — trails, the log groups they deliver to, the
/// alarms on those log groups' metrics, the topics those alarms notify — and the one way to look
/// each up. A [`Snapshot`] holds the graph of one account's scan; [`SharedChains`] the part of it
/// an organization run reads once (the organization trails and their chains).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChainGraph {
    /// Trails visible from the scanned regions (own, multi-region shadows, organization trails),
    /// one entry per trail ARN.
    pub trails: Vec<Trail>,
    /// Log groups that trails deliver to, keyed by ARN.
    pub log_groups: Vec<LogGroup>,
    /// Alarms, per region and account read, on the metric names collected filters publish.
    pub alarm_sets: Vec<AlarmSet>,
    /// Topics that collected alarms notify.
    pub topics: Vec<Topic>,
}

impl ChainGraph {
    pub fn trail(&self, arn: &str) -> Option<&Trail> {
        self.trails.iter().find(|trail| trail.arn == arn)
    }

    /// The log group `arn` names, with or without the `:*` suffix on either side.
    pub fn log_group(&self, arn: &str) -> Option<&LogGroup> {
        let wanted = crate::model::arn::strip_log_group_wildcard(arn);
        self.log_groups
            .iter()
            .find(|group| crate::model::arn::strip_log_group_wildcard(&group.arn) == wanted)
    }

    /// The alarms read in one account and region.
    pub fn alarm_set(&self, account_id: &str, region: &str) -> Option<&AlarmSet> {
        self.alarm_sets
            .iter()
            .find(|set| set.account_id == account_id && set.region == region)
    }

    /// A collected topic by ARN.
    pub fn topic(&self, arn: &str) -> Option<&Topic> {
        self.topics.iter().find(|topic| topic.arn == arn)
    }

    /// The reads of the graph's resources that failed (those skipped as not needed included).
    pub fn failed_reads(&self) -> Vec<&ReadError> {
        fn failed<T>(read: &Fetched<T>) -> Option<&ReadError> {
            read.as_ref().err()
        }
        let mut errors: Vec<&ReadError> = Vec::new();
        for trail in &self.trails {
            errors.extend(failed(&trail.status));
            errors.extend(failed(&trail.event_selectors));
        }
        errors.extend(
            self.log_groups
                .iter()
                .filter_map(|g| failed(&g.metric_filters)),
        );
        errors.extend(self.alarm_sets.iter().filter_map(|set| failed(&set.alarms)));
        for topic in &self.topics {
            errors.extend(failed(&topic.subscriptions));
            errors.extend(failed(&topic.attributes));
            if let Ok(TopicAttributes { key: Some(key), .. }) = &topic.attributes {
                errors.extend(failed(key));
                if let Ok(EncryptionKey {
                    policy: Some(policy),
                    ..
                }) = key
                {
                    errors.extend(failed(policy));
                }
            }
            for subscription in topic.subscriptions.iter().flatten() {
                errors.extend(subscription.filter.as_ref().and_then(failed));
            }
        }
        errors
    }
}

/// The SNS topics the alarms of `sets` can notify, sorted: see [`AlarmSet::notified_topics`].
pub fn notified_topic_arns<'a>(
    sets: impl IntoIterator<Item = &'a AlarmSet>,
    partition: &str,
) -> std::collections::BTreeSet<String> {
    sets.into_iter()
        .flat_map(|set| set.notified_topics(partition))
        .map(str::to_string)
        .collect()
}

/// What an organization run reads once about the organization's trails — as their owners read
/// them — and the chains behind them (log groups, alarms, topics), for every member evaluated
/// against them: members' records reach the same log group, so nothing is read again per member.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SharedChains {
    /// In JSON, the four lists sit at the top level.
    #[serde(flatten)]
    pub chains: ChainGraph,
}

impl SharedChains {
    /// The organization trails of a snapshot (read with their owners' credentials) and what hangs
    /// off them: their log groups, the alarms read where those log groups are, and the topics
    /// those alarms notify.
    pub fn of(snapshot: &Snapshot) -> Self {
        let graph = &snapshot.chains;
        let trails: Vec<Trail> = graph
            .trails
            .iter()
            .filter(|trail| trail.is_organization_trail)
            .cloned()
            .collect();
        let log_groups: Vec<LogGroup> = trails
            .iter()
            .filter_map(|trail| graph.log_group(trail.log_group_arn.as_deref()?))
            .fold(Vec::new(), |mut kept: Vec<LogGroup>, group| {
                if !kept.iter().any(|other| other.arn == group.arn) {
                    kept.push(group.clone());
                }
                kept
            });
        let alarm_sets: Vec<AlarmSet> = graph
            .alarm_sets
            .iter()
            .filter(|set| {
                log_groups
                    .iter()
                    .any(|group| group.account_id == set.account_id && group.region == set.region)
            })
            .cloned()
            .collect();
        let notified = notified_topic_arns(&alarm_sets, &snapshot.partition);
        let topics = graph
            .topics
            .iter()
            .filter(|topic| notified.contains(&topic.arn))
            .cloned()
            .collect();
        SharedChains {
            chains: ChainGraph {
                trails,
                log_groups,
                alarm_sets,
                topics,
            },
        }
    }

    pub fn is_empty(&self) -> bool {
        self.chains.trails.is_empty()
    }
}

/// A failed read, kept as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadError {
    /// The API operation, e.g. `cloudtrail:GetTrailStatus`.
    pub operation: String,
    /// The region it was called in.
    pub region: String,
    /// What it was about (an ARN or name), if anything in particular.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    pub kind: ReadErrorKind,
    /// The service's error code, e.g. `AccessDeniedException`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The service's (or the transport's) message.
    pub message: String,
}

impl ReadError {
    /// `AccessDeniedException: User is not authorized`: the service's code, when it gave one,
    /// then its message.
    pub fn code_and_message(&self) -> String {
        match &self.code {
            Some(code) => format!("{code}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

/// Why a read failed, in the categories that change what the evaluator says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadErrorKind {
    /// The credentials may not make the call (AccessDenied, UnauthorizedOperation, …).
    AccessDenied,
    /// Still throttled after the SDK's retries.
    Throttled,
    /// The resource does not exist (or is not visible to this account).
    NotFound,
    /// The resource lives in another account that this scan has no access to.
    OtherAccount,
    /// The region is not enabled or not reachable.
    RegionUnavailable,
    /// Anything else: service error, timeout, unparsable answer.
    Other,
    /// Not read: no control of the scan needed it (e.g. the event selectors of a single-Region
    /// trail, which can complete no monitoring chain).
    NotNeeded,
}

impl ReadErrorKind {
    /// Whether another attempt later may succeed (throttling, a network or service failure)
    /// rather than the failure being a fact about the account (denied, missing, not enabled).
    pub fn may_pass(self) -> bool {
        matches!(self, ReadErrorKind::Throttled | ReadErrorKind::Other)
    }
}

/// A read that may have failed: `{"Ok": …}` or `{"Err": {…}}` in JSON.
pub type Fetched<T> = Result<T, ReadError>;

/// A CloudTrail trail, with what GetTrailStatus and GetEventSelectors said about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trail {
    pub arn: String,
    pub name: String,
    /// The region the trail was created in; status and selectors are read there.
    pub home_region: String,
    pub is_multi_region: bool,
    pub is_organization_trail: bool,
    /// `CloudWatchLogsLogGroupArn`: where the trail delivers; its region and account come from
    /// the ARN, not from where the trail was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group_arn: Option<String>,
    pub status: Fetched<TrailStatus>,
    pub event_selectors: Fetched<EventSelectors>,
}

/// The parts of GetTrailStatus the controls use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailStatus {
    pub is_logging: bool,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub latest_cloudwatch_logs_delivery_time: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_cloudwatch_logs_delivery_error: Option<String>,
}

/// GetEventSelectors: a trail uses classic selectors or advanced selectors, never both.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventSelectors {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classic: Vec<ClassicEventSelector>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advanced: Vec<AdvancedEventSelector>,
}

/// A classic event selector (the management-event part; data resources do not matter here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassicEventSelector {
    /// `ReadOnly`, `WriteOnly` or `All`.
    pub read_write_type: String,
    pub include_management_events: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_management_event_sources: Vec<String>,
}

/// An advanced event selector: its field selectors are ANDed; a trail's selectors are ORed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvancedEventSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub field_selectors: Vec<AdvancedFieldSelector>,
}

/// One condition of an advanced event selector, e.g. `eventCategory Equals [Management]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdvancedFieldSelector {
    pub field: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ends_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_equals: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_starts_with: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_ends_with: Vec<String>,
}

/// A CloudWatch Logs log group that a trail delivers to, and its metric filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    /// The ARN as the trail names it (with or without the trailing `:*`).
    pub arn: String,
    pub name: String,
    pub region: String,
    pub account_id: String,
    pub metric_filters: Fetched<Vec<MetricFilter>>,
}

/// A metric filter on a log group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricFilter {
    pub name: String,
    /// The filter pattern exactly as CloudWatch holds it.
    pub pattern: String,
    pub metric_transformations: Vec<MetricTransformation>,
}

/// Where a metric filter publishes: a metric name in a namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    /// What one matching record adds: a number, or a record field (`$.bytes`).
    pub metric_value: String,
    /// What the filter publishes in a minute whose log events match nothing (`defaultValue`);
    /// `None`: nothing is published then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    /// The unit the filter publishes with; `None` is CloudWatch's `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The dimensions the filter publishes, name → the record field each value comes from (e.g.
    /// `User` → `$.userIdentity.arn`): one series per distinct combination of values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
}

/// The alarms read in one account and region (DescribeAlarms), or why they could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmSet {
    pub region: String,
    pub account_id: String,
    /// Only the alarms that read a metric whose *name* a collected filter publishes, in any
    /// namespace: an alarm on the right name in the wrong namespace is the near miss the evidence
    /// names. The evaluator requires name, namespace and dimensions to match.
    pub alarms: Fetched<Vec<Alarm>>,
    /// The composite alarms whose rules name one of `alarms` (directly, or through another
    /// composite alarm kept here); read by the same DescribeAlarms calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub composite_alarms: Vec<CompositeAlarm>,
}

impl AlarmSet {
    /// The SNS topics the set's alarms can notify: the ALARM-state actions of its metric and
    /// composite alarms that name a topic in the set's own region and partition (CloudWatch
    /// notifies no other).
    pub fn notified_topics<'a>(&'a self, partition: &'a str) -> impl Iterator<Item = &'a str> {
        let metric = self.alarms.iter().flatten().flat_map(|a| &a.alarm_actions);
        let composite = self.composite_alarms.iter().flat_map(|a| &a.alarm_actions);
        metric
            .chain(composite)
            .map(String::as_str)
            .filter(move |action| {
                crate::model::arn::is_notifiable_topic(action, partition, &self.region)
            })
    }

    /// The composite alarms whose rule names the alarm `name` or its `arn`.
    pub fn composites_naming<'a>(
        &'a self,
        name: &'a str,
        arn: &'a str,
    ) -> impl Iterator<Item = &'a CompositeAlarm> {
        self.composite_alarms
            .iter()
            .filter(move |composite| composite.names_any([name, arn]))
    }
}

/// A CloudWatch metric alarm (plain or metric-math).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub arn: String,
    pub name: String,
    pub actions_enabled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarm_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ok_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insufficient_data_actions: Vec<String>,
    /// Every metric the alarm reads: its own metric, or each MetricStat of a metric-math alarm.
    pub metrics: Vec<AlarmMetric>,
    /// The settings that decide when the alarm goes into ALARM.
    pub evaluation: AlarmEvaluation,
}

/// How a metric alarm evaluates (DescribeAlarms), everything that decides whether one matching
/// record makes it go into ALARM.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AlarmEvaluation {
    /// `Sum`, `Average`, `SampleCount`, `Minimum` or `Maximum` (a plain alarm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    /// A percentile or other extended statistic, e.g. `p90` (a plain alarm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    /// Seconds per datapoint (a plain alarm; a metric-math alarm's are in its queries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i32>,
    /// N: the datapoints evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_periods: Option<i32>,
    /// M: the breaching datapoints among the last N that put the alarm into ALARM (default N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// `missing` (the default), `notBreaching`, `breaching` or `ignore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
    /// `evaluate` (the default) or `ignore`, for percentiles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate_low_sample_count_percentile: Option<String>,
    /// The unit the alarm reads; `None`: every unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The alarm's state when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// A metric-math alarm's queries, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queries: Vec<AlarmQuery>,
}

impl AlarmEvaluation {
    /// The settings CIS's remediation gives a monitoring alarm: `Sum` of the filter's count over
    /// one 300-second period, `GreaterThanOrEqualToThreshold` 1 — one matching record fires it.
    pub fn cis_recommended() -> Self {
        AlarmEvaluation {
            statistic: Some("Sum".to_string()),
            period: Some(300),
            evaluation_periods: Some(1),
            comparison_operator: Some("GreaterThanOrEqualToThreshold".to_string()),
            threshold: Some(1.0),
            ..AlarmEvaluation::default()
        }
    }
}

/// One query of a metric-math alarm: a metric with its statistic, or an expression over others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmQuery {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// The metric a MetricStat query reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<AlarmMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<i32>,
    /// Whether the alarm evaluates this query's result.
    pub return_data: bool,
}

/// A metric an alarm reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmMetric {
    pub metric_name: String,
    pub namespace: String,
    /// The dimensions the alarm pins, name → value: it reads only the series with these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
    /// The account the metric is read from (a cross-account metric-math query); `None`: the
    /// alarm's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

/// A CloudWatch composite alarm: in ALARM when its rule over other alarms' states holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeAlarm {
    pub arn: String,
    pub name: String,
    pub actions_enabled: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alarm_actions: Vec<String>,
    /// `AlarmRule`, e.g. `ALARM("cis-4-5") OR ALARM(cis-4-7)`.
    pub rule: String,
    /// `ActionsSuppressor`: the alarm whose ALARM state suppresses this one's actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions_suppressor: Option<String>,
}

impl CompositeAlarm {
    /// Whether the rule names any of `alarms` (names or ARNs: alarm rules may use either). A rule
    /// that does not parse is taken to name an alarm its text contains: the evaluator then
    /// reports the rule as undecided rather than the chain as missing.
    pub fn names_any<'n>(&self, alarms: impl IntoIterator<Item = &'n str>) -> bool {
        match crate::model::alarm_rule::parse(&self.rule) {
            Ok(rule) => {
                let named = rule.alarms();
                alarms.into_iter().any(|alarm| named.contains(&alarm))
            }
            Err(_) => alarms.into_iter().any(|alarm| self.rule.contains(alarm)),
        }
    }
}

/// An SNS topic that an alarm notifies, and its subscriptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub arn: String,
    pub region: String,
    pub account_id: String,
    pub subscriptions: Fetched<Vec<Subscription>>,
    /// GetTopicAttributes: who may publish and how messages are encrypted.
    pub attributes: Fetched<TopicAttributes>,
}

/// The attributes of a topic that decide whether CloudWatch can publish to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicAttributes {
    /// The topic's access policy (JSON), as `Policy` holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// `KmsMasterKeyId` exactly as set (alias, alias ARN, key id or key ARN); `None`: not
    /// encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<String>,
    /// The key behind `kms_master_key_id`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Fetched<EncryptionKey>>,
}

/// A KMS key that encrypts a topic (DescribeKey, and GetKeyPolicy for a customer managed key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncryptionKey {
    pub arn: String,
    /// `AWS` (an AWS managed key, e.g. `alias/aws/sns`) or `CUSTOMER`.
    pub key_manager: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, …
    pub key_state: String,
    /// The key policy named `default`; read only for an enabled customer managed key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Fetched<String>>,
}

/// What DescribeHub said in one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityHubRegion {
    pub region: String,
    pub hub: Fetched<Hub>,
}

/// Whether the account has a Security Hub hub in a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hub {
    /// DescribeHub answered with the hub.
    Enabled { hub_arn: String },
    /// DescribeHub answered that there is none: `InvalidAccessException` ("Account … is not
    /// subscribed to AWS Security Hub") or `ResourceNotFoundException`.
    NotEnabled { code: String, message: String },
}

/// One subscription of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// An ARN once confirmed; otherwise `PendingConfirmation` (the endpoint has not confirmed
    /// yet) or `Deleted` (the subscription was removed and is being cleaned up).
    pub subscription_arn: String,
    pub protocol: String,
    pub endpoint: String,
    /// GetSubscriptionAttributes' filter policy, for a confirmed subscription; `None`: not read
    /// (an unconfirmed subscription has no ARN to read it by).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Fetched<SubscriptionFilter>>,
}

/// A subscription's filter policy and its scope.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubscriptionFilter {
    /// `FilterPolicy` (JSON); `None`: every message is delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// `FilterPolicyScope`: `MessageAttributes` (the default) or `MessageBody`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// `SubscriptionArn` of a subscription whose endpoint has not confirmed it.
pub const PENDING_CONFIRMATION: &str = "PendingConfirmation";
/// `SubscriptionArn` of a subscription that was deleted.
pub const DELETED: &str = "Deleted";

impl Subscription {
    /// Confirmed subscriptions have a real subscription ARN.
    pub fn is_confirmed(&self) -> bool {
        self.subscription_arn.starts_with("arn:")
    }
}

/// Why a text is not a snapshot this build can evaluate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a trailwatch snapshot: {0}")]
    NotASnapshot(String),
    #[error("a snapshot of format {found}; this trailwatch reads format {expected} (save it again with `trailwatch scan --save-snapshot`)")]
    OtherFormat { found: u64, expected: u32 },
}

impl Snapshot {
    /// Reads a snapshot saved as JSON. The format version is read first, so a snapshot of
    /// another format is refused naming both versions, whatever else changed in its shape.
    pub fn from_json(text: &str) -> Result<Snapshot, SnapshotError> {
        #[derive(Deserialize)]
        struct Header {
            format: u64,
        }
        let header: Header = serde_json::from_str(text)
            .map_err(|error| SnapshotError::NotASnapshot(error.to_string()))?;
        if header.format != u64::from(SNAPSHOT_FORMAT) {
            return Err(SnapshotError::OtherFormat {
                found: header.format,
                expected: SNAPSHOT_FORMAT,
            });
        }
        serde_json::from_str(text).map_err(|error| SnapshotError::NotASnapshot(error.to_string()))
    }

    /// Every read that failed after the SDK's retries: those not tied to one resource and those
    /// kept beside their resource (reads skipped as not needed are not failures).
    pub fn failed_reads(&self) -> Vec<&ReadError> {
        let mut errors: Vec<&ReadError> = self.read_errors.iter().collect();
        errors.extend(self.chains.failed_reads());
        for hub in self.securityhub.iter().flatten() {
            errors.extend(hub.hub.as_ref().err());
        }
        errors.retain(|error| error.kind != ReadErrorKind::NotNeeded);
        errors
    }

    /// The failed DescribeTrails calls: one per region whose trails could not be listed.
    pub fn trail_listing_failures(&self) -> impl Iterator<Item = &ReadError> {
        self.read_errors
            .iter()
            .filter(|error| error.operation == "cloudtrail:DescribeTrails")
    }

    /// The regions whose trails could not be listed (DescribeTrails failed there).
    pub fn unlisted_regions(&self) -> Vec<String> {
        let mut regions: Vec<String> = self
            .trail_listing_failures()
            .map(|error| error.region.clone())
            .collect();
        regions.dedup();
        regions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_of_another_format_is_refused_naming_both_versions() {
        // An old snapshot whose shape differs too: the version decides, not the shape.
        let old = r#"{"format": 1, "account": "111122223333", "trails": "gone"}"#;
        assert_eq!(
            Snapshot::from_json(old),
            Err(SnapshotError::OtherFormat {
                found: 1,
                expected: SNAPSHOT_FORMAT
            })
        );
        let message = Snapshot::from_json(old).unwrap_err().to_string();
        assert!(message.contains("format 1; this trailwatch reads format"));
        assert!(matches!(
            Snapshot::from_json("[1, 2]"),
            Err(SnapshotError::NotASnapshot(_))
        ));
        let no_version = r#"{"account_id": "111122223333"}"#;
        assert!(matches!(
            Snapshot::from_json(no_version),
            Err(SnapshotError::NotASnapshot(_))
        ));
    }
}
