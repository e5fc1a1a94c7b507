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
pub const SNAPSHOT_FORMAT: u32 = 2;

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
    /// Trails visible from the scanned regions (own, multi-region shadows, organization trails),
    /// one entry per trail ARN.
    pub trails: Vec<Trail>,
    /// Log groups that trails deliver to, keyed by ARN.
    pub log_groups: Vec<LogGroup>,
    /// Alarms, per region and account read, on the metric names collected filters publish.
    pub alarm_sets: Vec<AlarmSet>,
    /// Topics that collected alarms notify.
    pub topics: Vec<Topic>,
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

/// What an organization run reads once about the organization's trails — as their owners read
/// them — and the chains behind them (log groups, alarms, topics), for every member evaluated
/// against them: members' records reach the same log group, so nothing is read again per member.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SharedChains {
    pub trails: Vec<Trail>,
    pub log_groups: Vec<LogGroup>,
    pub alarm_sets: Vec<AlarmSet>,
    pub topics: Vec<Topic>,
}

impl SharedChains {
    /// The organization trails of a snapshot (read with their owners' credentials) and what hangs
    /// off them: their log groups, the alarms read where those log groups are, and the topics
    /// those alarms notify.
    pub fn of(snapshot: &Snapshot) -> Self {
        let trails: Vec<Trail> = snapshot
            .trails
            .iter()
            .filter(|trail| trail.is_organization_trail)
            .cloned()
            .collect();
        let log_groups: Vec<LogGroup> = trails
            .iter()
            .filter_map(|trail| snapshot.log_group(trail.log_group_arn.as_deref()?))
            .fold(Vec::new(), |mut kept: Vec<LogGroup>, group| {
                if !kept.iter().any(|other| other.arn == group.arn) {
                    kept.push(group.clone());
                }
                kept
            });
        let alarm_sets: Vec<AlarmSet> = snapshot
            .alarm_sets
            .iter()
            .filter(|set| {
                log_groups
                    .iter()
                    .any(|group| group.account_id == set.account_id && group.region == set.region)
            })
            .cloned()
            .collect();
        let notified = |topic: &Topic| {
            alarm_sets.iter().any(|set| {
                let metric = set.alarms.iter().flatten().flat_map(|a| &a.alarm_actions);
                let composite = set.composite_alarms.iter().flat_map(|a| &a.alarm_actions);
                metric.chain(composite).any(|action| *action == topic.arn)
            })
        };
        let topics = snapshot
            .topics
            .iter()
            .filter(|topic| notified(topic))
            .cloned()
            .collect();
        SharedChains {
            trails,
            log_groups,
            alarm_sets,
            topics,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.trails.is_empty()
    }

    pub fn trail(&self, arn: &str) -> Option<&Trail> {
        self.trails.iter().find(|trail| trail.arn == arn)
    }

    pub fn log_group(&self, arn: &str) -> Option<&LogGroup> {
        find_log_group(&self.log_groups, arn)
    }

    pub fn alarm_set(&self, account_id: &str, region: &str) -> Option<&AlarmSet> {
        find_alarm_set(&self.alarm_sets, account_id, region)
    }

    pub fn topic(&self, arn: &str) -> Option<&Topic> {
        find_topic(&self.topics, arn)
    }
}

/// The log group `arn` names, with or without the `:*` suffix on either side.
fn find_log_group<'a>(groups: &'a [LogGroup], arn: &str) -> Option<&'a LogGroup> {
    let wanted = crate::model::arn::strip_log_group_wildcard(arn);
    groups
        .iter()
        .find(|group| crate::model::arn::strip_log_group_wildcard(&group.arn) == wanted)
}

fn find_alarm_set<'a>(
    sets: &'a [AlarmSet],
    account_id: &str,
    region: &str,
) -> Option<&'a AlarmSet> {
    sets.iter()
        .find(|set| set.account_id == account_id && set.region == region)
}

fn find_topic<'a>(topics: &'a [Topic], arn: &str) -> Option<&'a Topic> {
    topics.iter().find(|topic| topic.arn == arn)
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricFilter {
    pub name: String,
    /// The filter pattern exactly as CloudWatch holds it.
    pub pattern: String,
    pub metric_transformations: Vec<MetricTransformation>,
}

/// Where a metric filter publishes: a metric name in a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: String,
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
}

/// A metric an alarm reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmMetric {
    pub metric_name: String,
    pub namespace: String,
    /// The dimensions the alarm pins, name → value: it reads only the series with these values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dimensions: BTreeMap<String, String>,
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
}

/// An SNS topic that an alarm notifies, and its subscriptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub arn: String,
    pub region: String,
    pub account_id: String,
    pub subscriptions: Fetched<Vec<Subscription>>,
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

impl Snapshot {
    /// The log group a trail names, if it was collected. Matches with or without the `:*` suffix.
    pub fn log_group(&self, arn: &str) -> Option<&LogGroup> {
        find_log_group(&self.log_groups, arn)
    }

    /// The alarms read in one account and region.
    pub fn alarm_set(&self, account_id: &str, region: &str) -> Option<&AlarmSet> {
        find_alarm_set(&self.alarm_sets, account_id, region)
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

    /// A collected topic by ARN.
    pub fn topic(&self, arn: &str) -> Option<&Topic> {
        find_topic(&self.topics, arn)
    }
}
