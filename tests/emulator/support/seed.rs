//! Seeding helpers: build an account's state through the same SDK calls a user would make.
//!
//! Low-level helpers are methods of [`TestAccount`] (`create_trail`, `create_log_group`,
//! `put_metric_filter`, `create_topic`, `subscribe`, `put_alarm`). [`ChainSpec`] describes a whole
//! CIS monitoring chain — trail → log group → metric filter → alarm → SNS topic → subscription —
//! with compliant defaults that a test changes one field at a time, and [`TestAccount::seed_chain`]
//! creates it.

use super::{TestAccount, DEFAULT_REGION};
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, EventSelector, Tag};
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricStat, Statistic,
};
use aws_sdk_cloudwatchlogs::types::MetricTransformation;
use time::OffsetDateTime;

/// Trail tag read by the moto wrapper: GetTrailStatus's `LatestCloudWatchLogsDeliveryTime`.
pub const DELIVERY_TAG: &str = "trailwatch-test:latest-cw-delivery";
/// Trail tag read by the moto wrapper: its first N GetTrailStatus calls are throttled.
pub const THROTTLE_TAG: &str = "trailwatch-test:throttle";
/// Trail tag read by the moto wrapper: GetTrailStatus's `LatestCloudWatchLogsDeliveryError`.
pub const DELIVERY_ERROR_TAG: &str = "trailwatch-test:latest-cw-delivery-error";

/// A trail to create. [`TrailSpec::new`] is compliant apart from its log group: multi-region,
/// logging, default event selectors (all management events), delivered a minute ago.
#[derive(Debug, Clone)]
pub struct TrailSpec {
    pub name: String,
    /// Home region.
    pub region: String,
    pub multi_region: bool,
    pub log_group_arn: Option<String>,
    /// StartLogging after creating it.
    pub logging: bool,
    /// Seconds before now of the last CloudWatch Logs delivery; `None`: never delivered.
    pub delivered_secs_ago: Option<i64>,
    /// GetTrailStatus's `LatestCloudWatchLogsDeliveryError`.
    pub delivery_error: Option<String>,
    /// How many GetTrailStatus calls the emulator throttles before answering.
    pub throttled: u32,
    pub selectors: Selectors,
    /// An organization trail (created by the organization's management account).
    pub organization: bool,
}

/// The event selectors a trail gets.
#[derive(Debug, Clone)]
pub enum Selectors {
    /// None put: AWS's default (one classic selector, All, management events included).
    Default,
    Classic(Vec<EventSelector>),
    Advanced(Vec<AdvancedEventSelector>),
}

impl TrailSpec {
    pub fn new(name: &str) -> TrailSpec {
        TrailSpec {
            name: name.to_string(),
            region: DEFAULT_REGION.to_string(),
            multi_region: true,
            log_group_arn: None,
            logging: true,
            delivered_secs_ago: Some(60),
            delivery_error: None,
            throttled: 0,
            selectors: Selectors::Default,
            organization: false,
        }
    }

    pub fn organization(mut self) -> Self {
        self.organization = true;
        self
    }

    pub fn region(mut self, region: &str) -> Self {
        self.region = region.to_string();
        self
    }

    pub fn single_region(mut self) -> Self {
        self.multi_region = false;
        self
    }

    pub fn log_group(mut self, arn: &str) -> Self {
        self.log_group_arn = Some(arn.to_string());
        self
    }

    pub fn not_logging(mut self) -> Self {
        self.logging = false;
        self
    }

    pub fn delivered_secs_ago(mut self, seconds: i64) -> Self {
        self.delivered_secs_ago = Some(seconds);
        self
    }

    pub fn never_delivered(mut self) -> Self {
        self.delivered_secs_ago = None;
        self
    }

    pub fn throttled(mut self, calls: u32) -> Self {
        self.throttled = calls;
        self
    }

    pub fn delivery_error(mut self, error: &str) -> Self {
        self.delivery_error = Some(error.to_string());
        self
    }

    pub fn classic(mut self, selectors: Vec<EventSelector>) -> Self {
        self.selectors = Selectors::Classic(selectors);
        self
    }

    pub fn advanced(mut self, selectors: Vec<AdvancedEventSelector>) -> Self {
        self.selectors = Selectors::Advanced(selectors);
        self
    }
}

/// Where an alarm names the chain's topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicIn {
    AlarmActions,
    OkActions,
    Nowhere,
}

/// An alarm to create.
#[derive(Debug, Clone)]
pub struct AlarmSpec {
    pub name: String,
    pub metric_name: String,
    pub namespace: String,
    /// A metric-math alarm (`Metrics`: one MetricStat on the metric and an expression over it)
    /// instead of a plain one.
    pub math: bool,
    /// Dimensions of the metric the alarm reads (name → value); none by default.
    pub dimensions: Vec<(String, String)>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    /// How the alarm evaluates; CIS's settings by default.
    pub settings: AlarmSettings,
}

/// The PutMetricAlarm settings that decide whether one matching record fires the alarm.
#[derive(Debug, Clone)]
pub struct AlarmSettings {
    pub statistic: Statistic,
    pub comparison: ComparisonOperator,
    pub threshold: f64,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: Option<i32>,
    pub treat_missing_data: Option<String>,
}

impl Default for AlarmSettings {
    /// CIS's remediation: Sum ≥ 1 over one 300-second period.
    fn default() -> Self {
        AlarmSettings {
            statistic: Statistic::Sum,
            comparison: ComparisonOperator::GreaterThanOrEqualToThreshold,
            threshold: 1.0,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            treat_missing_data: None,
        }
    }
}

impl AlarmSpec {
    pub fn new(name: &str, metric_name: &str, namespace: &str) -> AlarmSpec {
        AlarmSpec {
            name: name.to_string(),
            metric_name: metric_name.to_string(),
            namespace: namespace.to_string(),
            math: false,
            dimensions: Vec::new(),
            actions_enabled: true,
            alarm_actions: Vec::new(),
            ok_actions: Vec::new(),
            settings: AlarmSettings::default(),
        }
    }
}

/// A subscription to create on the chain's topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionSpec {
    /// Confirmed email subscription.
    Confirmed(String),
    /// Email subscription left PendingConfirmation (the wrapper keeps endpoints containing
    /// `pending` unconfirmed; this variant's address must contain it).
    Pending(String),
}

/// A whole monitoring chain; every field has a compliant default from [`ChainSpec::new`].
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// The trail; `None`: no trail at all.
    pub trail: Option<TrailSpec>,
    /// Point the trail at this chain's log group (otherwise it keeps its own `log_group_arn`).
    pub trail_sends_here: bool,
    /// Region of the log group, filter, alarm and topic.
    pub region: String,
    pub log_group: String,
    pub filter_name: String,
    pub pattern: String,
    pub metric_name: String,
    pub namespace: String,
    /// Dimensions the filter publishes with (name → JSON selector); none by default.
    pub filter_dimensions: Vec<(String, String)>,
    /// The alarm; `None`: no alarm. Defaults to a plain alarm on `metric_name`/`namespace`.
    pub alarm: Option<AlarmSpec>,
    /// Where the alarm names the topic.
    pub topic_in: TopicIn,
    pub topic_name: String,
    pub subscriptions: Vec<SubscriptionSpec>,
}

/// What [`TestAccount::seed_chain`] created.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub trail_arn: Option<String>,
    /// `arn:aws:logs:<region>:<account>:log-group:<name>:*`, as trails name it.
    pub log_group_arn: String,
    pub alarm_arn: Option<String>,
    pub topic_arn: String,
}

impl ChainSpec {
    /// A compliant chain in us-east-1 whose names all start with `prefix`.
    pub fn new(prefix: &str, pattern: &str) -> ChainSpec {
        let metric_name = format!("{prefix}-metric");
        let namespace = "CISBenchmark".to_string();
        ChainSpec {
            trail: Some(TrailSpec::new(&format!("{prefix}-trail"))),
            trail_sends_here: true,
            region: DEFAULT_REGION.to_string(),
            log_group: format!("CloudTrail/{prefix}"),
            filter_name: format!("{prefix}-filter"),
            pattern: pattern.to_string(),
            alarm: Some(AlarmSpec::new(
                &format!("{prefix}-alarm"),
                &metric_name,
                &namespace,
            )),
            metric_name,
            namespace,
            filter_dimensions: Vec::new(),
            topic_in: TopicIn::AlarmActions,
            topic_name: format!("{prefix}-alerts"),
            subscriptions: vec![SubscriptionSpec::Confirmed(
                "security@example.com".to_string(),
            )],
        }
    }

    /// The same chain with its log group, filter, alarm and topic in `region`.
    pub fn in_region(mut self, region: &str) -> Self {
        self.region = region.to_string();
        self
    }
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>:*`
pub fn log_group_arn(account_id: &str, region: &str, name: &str) -> String {
    format!("arn:aws:logs:{region}:{account_id}:log-group:{name}:*")
}

impl TestAccount {
    /// CreateTrail (+ tags), PutEventSelectors, StartLogging as the spec says; returns the ARN.
    pub async fn create_trail(&self, spec: &TrailSpec) -> String {
        let client = aws_sdk_cloudtrail::Client::new(&self.sdk_in(&spec.region));
        let mut create = client
            .create_trail()
            .name(&spec.name)
            .s3_bucket_name(format!("{}-trail-bucket", self.id))
            .is_multi_region_trail(spec.multi_region)
            .is_organization_trail(spec.organization);
        if let Some(arn) = &spec.log_group_arn {
            create = create
                .cloud_watch_logs_log_group_arn(arn)
                .cloud_watch_logs_role_arn(format!(
                    "arn:aws:iam::{}:role/CloudTrail_CloudWatchLogs_Role",
                    self.id
                ));
        }
        if let Some(ago) = spec.delivered_secs_ago {
            let at = OffsetDateTime::now_utc().unix_timestamp() - ago;
            create = create.tags_list(
                Tag::builder()
                    .key(DELIVERY_TAG)
                    .value(at.to_string())
                    .build()
                    .expect("tag"),
            );
        }
        if spec.throttled > 0 {
            create = create.tags_list(
                Tag::builder()
                    .key(THROTTLE_TAG)
                    .value(spec.throttled.to_string())
                    .build()
                    .expect("tag"),
            );
        }
        if let Some(error) = &spec.delivery_error {
            create = create.tags_list(
                Tag::builder()
                    .key(DELIVERY_ERROR_TAG)
                    .value(error)
                    .build()
                    .expect("tag"),
            );
        }
        let arn = create
            .send()
            .await
            .expect("cloudtrail:CreateTrail")
            .trail_arn
            .expect("TrailARN");
        match &spec.selectors {
            Selectors::Default => {}
            Selectors::Classic(selectors) => {
                client
                    .put_event_selectors()
                    .trail_name(&spec.name)
                    .set_event_selectors(Some(selectors.clone()))
                    .send()
                    .await
                    .expect("cloudtrail:PutEventSelectors");
            }
            Selectors::Advanced(selectors) => {
                client
                    .put_event_selectors()
                    .trail_name(&spec.name)
                    .set_advanced_event_selectors(Some(selectors.clone()))
                    .send()
                    .await
                    .expect("cloudtrail:PutEventSelectors");
            }
        }
        if spec.logging {
            client
                .start_logging()
                .name(&spec.name)
                .send()
                .await
                .expect("cloudtrail:StartLogging");
        }
        arn
    }

    /// CreateLogGroup; returns the ARN as trails name it (with `:*`).
    pub async fn create_log_group(&self, region: &str, name: &str) -> String {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk_in(region))
            .create_log_group()
            .log_group_name(name)
            .send()
            .await
            .expect("logs:CreateLogGroup");
        log_group_arn(&self.id, region, name)
    }

    /// PutMetricFilter publishing value 1 to `metric_name` in `namespace`.
    pub async fn put_metric_filter(
        &self,
        region: &str,
        log_group: &str,
        filter_name: &str,
        pattern: &str,
        metric_name: &str,
        namespace: &str,
    ) {
        self.put_metric_filter_with_dimensions(
            region,
            log_group,
            filter_name,
            pattern,
            metric_name,
            namespace,
            &[],
        )
        .await
    }

    /// PutMetricFilter publishing value 1 to `metric_name` in `namespace`, with dimensions
    /// (name → JSON selector such as `$.userIdentity.arn`).
    #[allow(clippy::too_many_arguments)]
    pub async fn put_metric_filter_with_dimensions(
        &self,
        region: &str,
        log_group: &str,
        filter_name: &str,
        pattern: &str,
        metric_name: &str,
        namespace: &str,
        dimensions: &[(String, String)],
    ) {
        let mut transformation = MetricTransformation::builder()
            .metric_name(metric_name)
            .metric_namespace(namespace)
            .metric_value("1");
        for (name, selector) in dimensions {
            transformation = transformation.dimensions(name, selector);
        }
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk_in(region))
            .put_metric_filter()
            .log_group_name(log_group)
            .filter_name(filter_name)
            .filter_pattern(pattern)
            .metric_transformations(transformation.build().expect("metric transformation"))
            .send()
            .await
            .expect("logs:PutMetricFilter");
    }

    /// CreateTopic; returns its ARN.
    pub async fn create_topic(&self, region: &str, name: &str) -> String {
        aws_sdk_sns::Client::new(&self.sdk_in(region))
            .create_topic()
            .name(name)
            .send()
            .await
            .expect("sns:CreateTopic")
            .topic_arn
            .expect("TopicArn")
    }

    /// Subscribe, in the topic's region.
    pub async fn subscribe(&self, topic_arn: &str, protocol: &str, endpoint: &str) {
        let region = topic_arn.split(':').nth(3).expect("topic ARN region");
        aws_sdk_sns::Client::new(&self.sdk_in(region))
            .subscribe()
            .topic_arn(topic_arn)
            .protocol(protocol)
            .endpoint(endpoint)
            .send()
            .await
            .expect("sns:Subscribe");
    }

    /// PutMetricAlarm (plain or metric-math); returns the alarm ARN.
    pub async fn put_alarm(&self, region: &str, spec: &AlarmSpec) -> String {
        self.try_put_alarm(region, spec)
            .await
            .expect("cloudwatch:PutMetricAlarm")
    }

    /// PutCompositeAlarm with `rule`, notifying `topic_arn` on ALARM; returns the alarm ARN.
    pub async fn put_composite_alarm(
        &self,
        region: &str,
        name: &str,
        rule: &str,
        topic_arn: &str,
    ) -> String {
        aws_sdk_cloudwatch::Client::new(&self.sdk_in(region))
            .put_composite_alarm()
            .alarm_name(name)
            .alarm_rule(rule)
            .alarm_actions(topic_arn)
            .send()
            .await
            .expect("cloudwatch:PutCompositeAlarm");
        format!("arn:aws:cloudwatch:{region}:{}:alarm:{name}", self.id)
    }

    /// PutMetricAlarm (plain or metric-math): the alarm ARN, or the service's error.
    pub async fn try_put_alarm(&self, region: &str, spec: &AlarmSpec) -> Result<String, String> {
        let client = aws_sdk_cloudwatch::Client::new(&self.sdk_in(region));
        let mut put = client
            .put_metric_alarm()
            .alarm_name(&spec.name)
            .evaluation_periods(spec.settings.evaluation_periods)
            .set_datapoints_to_alarm(spec.settings.datapoints_to_alarm)
            .set_treat_missing_data(spec.settings.treat_missing_data.clone())
            .threshold(spec.settings.threshold)
            .comparison_operator(spec.settings.comparison.clone())
            .actions_enabled(spec.actions_enabled)
            .set_alarm_actions(Some(spec.alarm_actions.clone()))
            .set_ok_actions(Some(spec.ok_actions.clone()));
        let dimensions: Vec<Dimension> = spec
            .dimensions
            .iter()
            .map(|(name, value)| Dimension::builder().name(name).value(value).build())
            .collect();
        if spec.math {
            let metric = Metric::builder()
                .metric_name(&spec.metric_name)
                .namespace(&spec.namespace)
                .set_dimensions(Some(dimensions))
                .build();
            put = put
                .metrics(
                    MetricDataQuery::builder()
                        .id("m1")
                        .metric_stat(
                            MetricStat::builder()
                                .metric(metric)
                                .period(300)
                                .stat(spec.settings.statistic.as_str())
                                .build(),
                        )
                        .return_data(false)
                        .build(),
                )
                .metrics(
                    MetricDataQuery::builder()
                        .id("e1")
                        .expression("FILL(m1, 0)")
                        .return_data(true)
                        .build(),
                );
        } else {
            put = put
                .metric_name(&spec.metric_name)
                .namespace(&spec.namespace)
                .set_dimensions(Some(dimensions))
                .statistic(spec.settings.statistic.clone())
                .period(300);
        }
        put.send().await.map_err(|error| {
            aws_smithy_types::error::display::DisplayErrorContext(&error).to_string()
        })?;
        Ok(format!(
            "arn:aws:cloudwatch:{region}:{}:alarm:{}",
            self.id, spec.name
        ))
    }

    /// Creates everything `spec` describes, in dependency order.
    /// A multi-Region trail `<prefix>` (home `home`) → `CloudTrail/<prefix>` in `home` → one CIS
    /// filter per monitoring control → one alarm each → topic `<prefix>-alerts` → a confirmed
    /// subscription: complete chains for the four default monitoring controls.
    pub async fn seed_monitoring_chains(&self, prefix: &str, home: &str) {
        let group_name = format!("CloudTrail/{prefix}");
        let group = self.create_log_group(home, &group_name).await;
        self.create_trail(&TrailSpec::new(prefix).region(home).log_group(&group))
            .await;
        let topic = self.create_topic(home, &format!("{prefix}-alerts")).await;
        self.subscribe(&topic, "email", "security@example.com")
            .await;
        for id in super::org::MONITORING {
            let pattern = trailwatch::controls::control(id)
                .and_then(|control| control.required_pattern())
                .expect("a monitoring control");
            let metric = format!("{prefix}-{id}");
            self.put_metric_filter(home, &group_name, &metric, pattern, &metric, "CISBenchmark")
                .await;
            let mut alarm = AlarmSpec::new(&metric, &metric, "CISBenchmark");
            alarm.alarm_actions.push(topic.clone());
            self.put_alarm(home, &alarm).await;
        }
    }

    pub async fn seed_chain(&self, spec: &ChainSpec) -> Seeded {
        let log_group_arn = self.create_log_group(&spec.region, &spec.log_group).await;
        let trail_arn = match &spec.trail {
            Some(trail) => {
                let mut trail = trail.clone();
                if spec.trail_sends_here {
                    trail.log_group_arn = Some(log_group_arn.clone());
                }
                Some(self.create_trail(&trail).await)
            }
            None => None,
        };
        self.put_metric_filter_with_dimensions(
            &spec.region,
            &spec.log_group,
            &spec.filter_name,
            &spec.pattern,
            &spec.metric_name,
            &spec.namespace,
            &spec.filter_dimensions,
        )
        .await;
        let topic_arn = self.create_topic(&spec.region, &spec.topic_name).await;
        for subscription in &spec.subscriptions {
            let endpoint = match subscription {
                SubscriptionSpec::Confirmed(endpoint) => endpoint,
                SubscriptionSpec::Pending(endpoint) => {
                    assert!(
                        endpoint.contains("pending"),
                        "{endpoint}: must contain 'pending'"
                    );
                    endpoint
                }
            };
            self.subscribe(&topic_arn, "email", endpoint).await;
        }
        let alarm_arn = match &spec.alarm {
            Some(alarm) => {
                let mut alarm = alarm.clone();
                match spec.topic_in {
                    TopicIn::AlarmActions => alarm.alarm_actions.push(topic_arn.clone()),
                    TopicIn::OkActions => alarm.ok_actions.push(topic_arn.clone()),
                    TopicIn::Nowhere => {}
                }
                Some(self.put_alarm(&spec.region, &alarm).await)
            }
            None => None,
        };
        Seeded {
            trail_arn,
            log_group_arn,
            alarm_arn,
            topic_arn,
        }
    }
}
