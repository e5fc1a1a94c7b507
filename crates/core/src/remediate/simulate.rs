//! What each planned step changes in the account, applied to a copy of its snapshot: the planner
//! asks the one chain evaluator about the result instead of judging the fix itself.
//!
//! Each effect is what AWS documents for the call and idempotent (applying a step twice changes
//! nothing more), since an organization's shared steps reach every member's copy. A new
//! subscription is taken as confirmed: the plan says it must be.

use super::{Action, Step};
use crate::model::snapshot::{
    Alarm, AlarmEvaluation, AlarmMetric, AlarmSet, EventSelectors, Hub, LogGroup, MetricFilter,
    MetricTransformation, SecurityHubRegion, Snapshot, Subscription, SubscriptionFilter, Topic,
    TopicAttributes, TrailStatus,
};

/// Applies the effect of `step` to `snapshot`.
pub(super) fn apply(snapshot: &mut Snapshot, step: &Step) {
    let (account, region) = (step.account_id.as_str(), step.region.as_str());
    let partition = snapshot.partition.clone();
    let chains = &mut snapshot.chains;
    let trail_named = |trail: &crate::model::snapshot::Trail, name: &str| {
        trail.name == *name && trail.home_region == region && trail.arn.contains(account)
    };
    match &step.action {
        Action::MakeTrailMultiRegion { trail } => {
            for found in chains.trails.iter_mut().filter(|t| trail_named(t, trail)) {
                found.is_multi_region = true;
            }
        }
        Action::StartLogging { trail } => {
            for found in chains.trails.iter_mut().filter(|t| trail_named(t, trail)) {
                match &mut found.status {
                    Ok(status) => status.is_logging = true,
                    // Not read (a single-Region trail): it logs now; nothing is known of its
                    // deliveries.
                    Err(_) => {
                        found.status = Ok(TrailStatus {
                            is_logging: true,
                            latest_cloudwatch_logs_delivery_time: None,
                            latest_cloudwatch_logs_delivery_error: None,
                        })
                    }
                }
            }
        }
        Action::AddManagementEventSelector { trail, selectors } => {
            for found in chains.trails.iter_mut().filter(|t| trail_named(t, trail)) {
                found.event_selectors = Ok(EventSelectors {
                    classic: Vec::new(),
                    advanced: selectors.clone(),
                });
            }
        }
        Action::PutManagementEventSelector { trail, selector } => {
            for found in chains.trails.iter_mut().filter(|t| trail_named(t, trail)) {
                found.event_selectors = Ok(EventSelectors {
                    classic: vec![selector.clone()],
                    advanced: Vec::new(),
                });
            }
        }
        Action::CreateLogGroup { log_group } => {
            let arn = format!("arn:{partition}:logs:{region}:{account}:log-group:{log_group}:*");
            match chains.log_group(&arn).map(|g| g.arn.clone()) {
                Some(existing) => {
                    if let Some(group) = chains.log_groups.iter_mut().find(|g| g.arn == existing) {
                        if group.metric_filters.is_err() {
                            group.metric_filters = Ok(Vec::new());
                        }
                    }
                }
                None => chains.log_groups.push(LogGroup {
                    arn,
                    name: log_group.clone(),
                    region: region.to_string(),
                    account_id: account.to_string(),
                    metric_filters: Ok(Vec::new()),
                }),
            }
            ensure_alarm_set(&mut chains.alarm_sets, account, region);
        }
        Action::CreateDeliveryRole { .. } => {}
        Action::SendTrailToLogs {
            trail,
            log_group_arn,
            ..
        } => {
            for found in chains.trails.iter_mut().filter(|t| trail_named(t, trail)) {
                found.log_group_arn = Some(log_group_arn.clone());
            }
        }
        Action::PutMetricFilter {
            log_group,
            filter,
            pattern,
            metric_name,
            namespace,
        } => {
            let group = chains
                .log_groups
                .iter_mut()
                .find(|g| g.name == *log_group && g.region == region && g.account_id == account);
            if let Some(Ok(filters)) = group.map(|g| &mut g.metric_filters) {
                if !filters.iter().any(|f| f.name == *filter) {
                    filters.push(MetricFilter {
                        name: filter.clone(),
                        pattern: pattern.clone(),
                        metric_transformations: vec![MetricTransformation {
                            metric_name: metric_name.clone(),
                            metric_namespace: namespace.clone(),
                            metric_value: "1".to_string(),
                            default_value: None,
                            unit: None,
                            dimensions: Default::default(),
                        }],
                    });
                }
            }
            ensure_alarm_set(&mut chains.alarm_sets, account, region);
        }
        Action::PutMetricAlarm {
            alarm,
            metric_name,
            namespace,
            topic_arn,
        } => {
            let set = ensure_alarm_set(&mut chains.alarm_sets, account, region);
            if let Ok(alarms) = &mut set.alarms {
                if !alarms.iter().any(|a| a.name == *alarm) {
                    alarms.push(Alarm {
                        arn: format!("arn:{partition}:cloudwatch:{region}:{account}:alarm:{alarm}"),
                        name: alarm.clone(),
                        actions_enabled: true,
                        alarm_actions: vec![topic_arn.clone()],
                        ok_actions: Vec::new(),
                        insufficient_data_actions: Vec::new(),
                        metrics: vec![AlarmMetric {
                            metric_name: metric_name.clone(),
                            namespace: namespace.clone(),
                            dimensions: Default::default(),
                            account_id: None,
                        }],
                        evaluation: planned_alarm_evaluation(),
                    });
                }
            }
        }
        Action::EnableAlarmActions { alarm } => {
            if let Some(Ok(alarms)) = chains
                .alarm_sets
                .iter_mut()
                .find(|s| s.account_id == account && s.region == region)
                .map(|s| &mut s.alarms)
            {
                for found in alarms.iter_mut().filter(|a| a.name == *alarm) {
                    found.actions_enabled = true;
                }
            }
        }
        Action::CreateTopic { topic_arn, .. } => {
            if chains.topic(topic_arn).is_none() {
                chains.topics.push(Topic {
                    arn: topic_arn.clone(),
                    region: region.to_string(),
                    account_id: account.to_string(),
                    subscriptions: Ok(Vec::new()),
                    attributes: Ok(TopicAttributes {
                        policy: Some(default_topic_policy(topic_arn, account)),
                        kms_master_key_id: None,
                        key: None,
                    }),
                });
            }
        }
        Action::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => {
            if let Some(Ok(subscriptions)) = chains
                .topics
                .iter_mut()
                .find(|t| t.arn == *topic_arn)
                .map(|t| &mut t.subscriptions)
            {
                let planned = format!("{topic_arn}:planned-by-trailwatch");
                if !subscriptions.iter().any(|s| s.subscription_arn == planned) {
                    subscriptions.push(Subscription {
                        subscription_arn: planned,
                        protocol: protocol.clone(),
                        endpoint: endpoint.clone(),
                        filter: Some(Ok(SubscriptionFilter::default())),
                    });
                }
            }
        }
        Action::SetTopicPolicy { topic_arn, policy } => {
            if let Some(Ok(attributes)) = chains
                .topics
                .iter_mut()
                .find(|t| t.arn == *topic_arn)
                .map(|t| &mut t.attributes)
            {
                attributes.policy = Some(policy.clone());
            }
        }
        Action::PutKeyPolicy { key_arn, policy } => {
            for topic in &mut chains.topics {
                if let Ok(TopicAttributes {
                    key: Some(Ok(key)), ..
                }) = &mut topic.attributes
                {
                    if key.arn == *key_arn {
                        key.policy = Some(Ok(policy.clone()));
                    }
                }
            }
        }
        Action::EnableSecurityHub {} => {
            let hub = Ok(Hub::Enabled {
                hub_arn: format!("arn:{partition}:securityhub:{region}:{account}:hub/default"),
            });
            let hubs = snapshot.securityhub.get_or_insert_with(Vec::new);
            match hubs.iter_mut().find(|h| h.region == region) {
                Some(found) => found.hub = hub,
                None => hubs.push(SecurityHubRegion {
                    region: region.to_string(),
                    hub,
                }),
            }
        }
        Action::Manual { .. } => {}
    }
}

/// The settings of the plan's alarms: CIS's (Sum ≥ 1 over one 300-second period), one of one
/// datapoints, missing data not breaching — so a quiet metric keeps the alarm OK and one record
/// moves it into ALARM, which is when CloudWatch notifies
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data>).
pub fn planned_alarm_evaluation() -> AlarmEvaluation {
    AlarmEvaluation {
        datapoints_to_alarm: Some(1),
        treat_missing_data: Some("notBreaching".to_string()),
        ..AlarmEvaluation::cis_recommended()
    }
}

/// The alarm set of (account, region), added empty if the snapshot has none: the plan's new
/// filters publish metrics no other alarm reads.
fn ensure_alarm_set<'s>(
    sets: &'s mut Vec<AlarmSet>,
    account: &str,
    region: &str,
) -> &'s mut AlarmSet {
    let index = match sets
        .iter()
        .position(|s| s.account_id == account && s.region == region)
    {
        Some(index) => index,
        None => {
            sets.push(AlarmSet {
                region: region.to_string(),
                account_id: account.to_string(),
                alarms: Ok(Vec::new()),
                composite_alarms: Vec::new(),
            });
            sets.len() - 1
        }
    };
    &mut sets[index]
}

/// The access policy SNS gives a new topic: the account may publish (`AWS:SourceOwner`), which
/// lets the account's own alarms publish
/// (<https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html>).
fn default_topic_policy(topic_arn: &str, account: &str) -> String {
    serde_json::json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}},
        }],
    })
    .to_string()
}
