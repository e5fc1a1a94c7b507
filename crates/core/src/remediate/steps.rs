//! One remediation per kind of missing link: the steps that complete the link a finding names,
//! and the loop that asks the evaluator again after each until the control passes or stops.

use super::simulate::apply;
use super::{
    missing_link, proven_topics, Action, Blocker, ControlPlan, Outcome, Plan, Request, Step,
    NAMESPACE,
};
use crate::controls::{self, Check, Control};
use crate::model::arn::{Arn, LogGroupArn};
use crate::model::findings::{Finding, ResourceKind, ResourceRef};
use crate::model::missing::{MissingLink, SelectorGap, Subject};
use crate::model::policy::{self, Decision, Request as PolicyRequest};
use crate::model::snapshot::{
    AdvancedEventSelector, AdvancedFieldSelector, ClassicEventSelector, EncryptionKey, LogGroup,
    MetricFilter, ReadErrorKind, Snapshot, TopicAttributes, Trail,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// How many links one control may need fixed in turn before the planner gives up (a chain has
/// fewer links than this; the bound guards against a step whose effect the evaluator ignores).
const MAX_ROUNDS: usize = 16;

/// The name of an IAM role is at most 64 characters
/// (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html>).
const ROLE_NAME_MAX: usize = 64;

/// What the planner knows while planning one account.
struct Planner<'a> {
    request: &'a Request<'a>,
    /// The scan's own account and partition.
    account_id: String,
    partition: String,
    /// The region named by steps that are about the whole account.
    home_region: String,
    /// A topic per (account, region) that notifies: proven by a passing chain (no steps), or
    /// created by the plan (the steps that create and subscribe it, planned again for each
    /// control that uses it, so they name every such control).
    topics: BTreeMap<(String, String), (String, Vec<Step>)>,
    /// The steps that send a trail (by ARN) to CloudWatch Logs, planned again for each control
    /// that needs them.
    deliveries: BTreeMap<String, Vec<Step>>,
}

/// Plans every failing control of `request` in one account's snapshot, adding to `plan`;
/// `findings` are the evaluator's over `snapshot` (those of `request.controls` at least).
pub(super) fn plan_account(
    snapshot: &Snapshot,
    findings: &[Finding],
    request: &Request<'_>,
    plan: &mut Plan,
) {
    let anything_fails = findings.iter().any(|finding| {
        missing_link(finding).is_some()
            && request.controls.iter().any(|c| c.id == finding.control_id)
    });
    if !anything_fails {
        return;
    }
    let mut planner = Planner {
        request,
        account_id: snapshot.account_id.clone(),
        partition: snapshot.partition.clone(),
        home_region: snapshot
            .regions
            .first()
            .cloned()
            .unwrap_or_else(|| "us-east-1".to_string()),
        topics: proven_topics(snapshot, findings, request)
            .into_iter()
            .map(|(key, arn)| (key, (arn, Vec::new())))
            .collect(),
        deliveries: BTreeMap::new(),
    };
    let mut simulated = snapshot.clone();
    for control in request.controls {
        let failing = findings
            .iter()
            .filter(|f| f.control_id == control.id && missing_link(f).is_some());
        for finding in failing {
            let outcome = match control.check {
                Check::TrailDelivery => {
                    planner.fix_delivery(&mut simulated, control, finding, plan)
                }
                _ => planner.complete(&mut simulated, control, finding, plan),
            };
            plan.controls.push(ControlPlan {
                control_id: control.id.to_string(),
                account_id: finding.account_id.clone(),
                resource: finding.resource.id.clone(),
                status: finding.status,
                summary: finding.summary.clone(),
                outcome,
            });
        }
    }
}

impl Planner<'_> {
    /// Fixes the control's missing link, asks the evaluator again, and so on until it passes or
    /// a step is manual. The first round fixes the link of the account as scanned (`scanned`),
    /// so its sentence names only the account's own resources; later rounds see the plan's.
    fn complete(
        &mut self,
        simulated: &mut Snapshot,
        control: &Control,
        scanned: &Finding,
        plan: &mut Plan,
    ) -> Outcome {
        let mut seen: Vec<MissingLink> = Vec::new();
        let mut subscribed = false;
        let mut first = Some(scanned.clone());
        loop {
            let finding = first.take().or_else(|| {
                controls::evaluate(simulated, &[control], self.request.version)
                    .into_iter()
                    .next()
            });
            let Some(finding) = finding else {
                return Outcome::Completes;
            };
            let Some(link) = missing_link(&finding).cloned() else {
                return if subscribed {
                    Outcome::CompletesOnceConfirmed
                } else {
                    Outcome::Completes
                };
            };
            let steps = if seen.contains(&link) || seen.len() >= MAX_ROUNDS {
                vec![self.manual(
                    Blocker::NeedsHuman,
                    format!("the planned steps do not complete this link; fix it by hand: {link}"),
                    &finding,
                )]
            } else {
                self.remedy(simulated, control, &finding, &link)
            };
            seen.push(link);
            if let Some(stop) = self.take(steps, control, simulated, plan, &mut subscribed) {
                return stop;
            }
        }
    }

    /// CIS 3.4: one pass (a delivery cannot be simulated; the trail delivers once it sends and
    /// logs).
    fn fix_delivery(
        &mut self,
        simulated: &mut Snapshot,
        control: &Control,
        finding: &Finding,
        plan: &mut Plan,
    ) -> Outcome {
        let Some(link) = missing_link(finding).cloned() else {
            return Outcome::Completes;
        };
        let steps = self.remedy(simulated, control, finding, &link);
        let mut subscribed = false;
        self.take(steps, control, simulated, plan, &mut subscribed)
            .unwrap_or(Outcome::CompletesOnceDelivered)
    }

    /// Adds `steps` to the plan and their effects to the simulated snapshot; the outcome when one
    /// is manual (the control stops there).
    fn take(
        &mut self,
        steps: Vec<Step>,
        control: &Control,
        simulated: &mut Snapshot,
        plan: &mut Plan,
        subscribed: &mut bool,
    ) -> Option<Outcome> {
        let mut stops = None;
        for mut step in steps {
            step.controls = vec![control.id.to_string()];
            if let Action::Manual { blocker, .. } = &step.action {
                stops = Some(match blocker {
                    Blocker::Rescan => Outcome::ContinuesAfterRescan,
                    _ => Outcome::Stops,
                });
            }
            *subscribed |= matches!(step.action, Action::Subscribe { .. });
            apply(simulated, &step);
            plan.add(step);
        }
        stops
    }

    /// The steps that complete `link`, the missing link of `finding`.
    fn remedy(
        &mut self,
        simulated: &Snapshot,
        control: &Control,
        finding: &Finding,
        link: &MissingLink,
    ) -> Vec<Step> {
        use MissingLink::*;
        let reason = link.to_string();
        match link {
            NoTrail | NoMultiRegionTrail { .. } => vec![self.manual(
                Blocker::NeedsHuman,
                "create a multi-Region trail that logs all management events; it needs an S3 bucket whose policy lets CloudTrail write (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html): the bucket, its retention and encryption are the account's choice. Then run remediate again".to_string(),
                finding,
            )],
            TrailNotMultiRegion { trail } => self.on_trail(simulated, trail, finding, reason, |t| {
                Ok(Action::MakeTrailMultiRegion {
                    trail: t.name.clone(),
                })
            }),
            TrailNotLogging { trail } => self.on_trail(simulated, trail, finding, reason, |t| {
                Ok(Action::StartLogging {
                    trail: t.name.clone(),
                })
            }),
            TrailMissesManagementEvents { trail, gap } => {
                self.on_trail(simulated, trail, finding, reason, |t| {
                    management_selectors(t, gap)
                })
            }
            TrailNotSendingToLogs { trail } => match find_trail(simulated, trail) {
                Some(found) => self.send_to_logs(simulated, found, &reason),
                None => vec![self.not_found(format!("trail {trail}"), finding)],
            },
            LogGroupMissing { log_group_arn } => match LogGroupArn::parse(log_group_arn) {
                Ok(parsed) => vec![Step {
                    account_id: parsed.account_id,
                    region: parsed.region,
                    controls: Vec::new(),
                    reason,
                    action: Action::CreateLogGroup {
                        log_group: parsed.name,
                    },
                }],
                Err(_) => vec![self.not_found(format!("log group {log_group_arn}"), finding)],
            },
            NoMetricFilter { .. }
            | FilterDoesNotCover { .. }
            | FilterPublishesNoMetric { .. }
            | AlarmPinsMissEvents { .. }
            | FilterUndecided { .. }
            | PinnedFilterUndecided { .. } => match chain_log_group(simulated, finding) {
                Some(group) => self.new_filter_and_alarm(simulated, control, group, &reason),
                None => vec![self.not_found("the chain's log group".to_string(), finding)],
            },
            NoAlarmOnMetric { .. }
            | AlarmNeverFires { .. }
            | AlarmFiringUndecided { .. }
            | CompositeDoesNotFollow { .. }
            | CompositeActionsDisabled { .. }
            | CompositeRuleUndecided { .. }
            | CompositeRuleUnreadable { .. }
            | CompositeActionsSuppressible { .. }
            | TopicsOutsideAlarmRegion { .. }
            | NotifiesOnlyOutsideAlarmState { .. }
            | NoTopicAction { .. }
            | TopicMissing { .. }
            | TopicKeyAwsManaged { .. }
            | TopicKeyNotEnabled { .. }
            | PublishUndecided { .. } => match chain_filter(simulated, finding) {
                Some((group, filter)) => {
                    self.new_alarm_on(simulated, control, group, filter, &reason)
                }
                None => vec![self.not_found("the chain's metric filter".to_string(), finding)],
            },
            AlarmActionsDisabled { alarm } => match chain_log_group(simulated, finding) {
                Some(group) => vec![Step {
                    account_id: group.account_id.clone(),
                    region: group.region.clone(),
                    controls: Vec::new(),
                    reason,
                    action: Action::EnableAlarmActions {
                        alarm: alarm.clone(),
                    },
                }],
                None => vec![self.not_found(format!("alarm {alarm}"), finding)],
            },
            NoSubscription { topic_arn }
            | NoConfirmedSubscription { topic_arn, .. }
            | SubscriptionFiltersOut { topic_arn, .. } => {
                self.subscribe(topic_arn, &reason, finding)
            }
            SubscriptionFilterUndecided { .. } => match chain_topic(finding) {
                Some(topic_arn) => self.subscribe(&topic_arn, &reason, finding),
                None => vec![self.not_found("the chain's topic".to_string(), finding)],
            },
            TopicRefusesCloudWatch {
                topic_arn,
                alarm_arn,
                ..
            } => self.allow_publish(simulated, topic_arn, alarm_arn, &reason, finding),
            KeyRefusesCloudWatch { topic_arn, key, .. } => {
                self.allow_key_use(simulated, topic_arn, key, &reason, finding)
            }
            NoDeliveryRecorded {
                trail, last_error, ..
            }
            | DeliveryStale {
                trail, last_error, ..
            } => {
                let found = find_trail(simulated, trail);
                match found.map(|t| (t, t.status.as_ref().map(|s| s.is_logging))) {
                    Some((t, Ok(false))) => self.on_trail(simulated, &t.name, finding, reason, |t| {
                        Ok(Action::StartLogging {
                            trail: t.name.clone(),
                        })
                    }),
                    _ => vec![self.manual(
                        Blocker::NeedsHuman,
                        format!(
                            "trail {trail} logs but CloudTrail does not deliver to CloudWatch Logs{}: check that the trail's CloudWatch Logs role exists, trusts cloudtrail.amazonaws.com and allows logs:CreateLogStream and logs:PutLogEvents on the log group (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html)",
                            last_error
                                .as_deref()
                                .map(|e| format!(" (last error: {e})"))
                                .unwrap_or_default()
                        ),
                        finding,
                    )],
                }
            }
            SecurityHubNotEnabled { regions, .. } => regions
                .iter()
                .map(|entry| Step {
                    account_id: self.account_id.clone(),
                    // `us-east-1 (InvalidAccessException: …)`.
                    region: entry.split(' ').next().unwrap_or(entry).to_string(),
                    controls: Vec::new(),
                    reason: reason.clone(),
                    action: Action::EnableSecurityHub {},
                })
                .collect(),
            // A single-Region trail's status and selectors are not read (they could complete no
            // chain); once the plan makes it multi-Region they matter. StartLogging on a trail
            // that logs changes nothing
            // (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_StartLogging.html).
            Unread {
                subject: Subject::TrailStatus { trail },
                error,
            } if error.kind == ReadErrorKind::NotNeeded => {
                self.on_trail(simulated, trail, finding, format!("{reason}; it may already log, which this changes nothing in"), |t| {
                    Ok(Action::StartLogging {
                        trail: t.name.clone(),
                    })
                })
            }
            Unread {
                subject: Subject::EventSelectors { trail },
                error,
            } if error.kind == ReadErrorKind::NotNeeded => vec![self.manual(
                Blocker::Rescan,
                format!("run remediate again after the steps above: the event selectors of trail {trail} were not read while it was single-Region"),
                finding,
            )],
            Unread { .. }
            | NotCollected { .. }
            | ScopeIncomplete { .. }
            | SecurityHubUnread { .. }
            | AccountNotScanned { .. } => vec![self.manual(
                Blocker::NotAvailable,
                format!("the scan could not see this link ({link}); scan again with that access, then run remediate"),
                finding,
            )],
            ControlPatternInvalid { .. } | NoControlPattern => vec![self.manual(
                Blocker::NeedsHuman,
                format!("trailwatch has no usable pattern for this control ({link}); choose another --cis-version"),
                finding,
            )],
        }
    }

    /// A manual step in the account of the finding.
    fn manual(&self, blocker: Blocker, instruction: String, finding: &Finding) -> Step {
        Step {
            account_id: finding.account_id.clone(),
            region: if finding.resource.region.is_empty() {
                self.home_region.clone()
            } else {
                finding.resource.region.clone()
            },
            controls: Vec::new(),
            reason: finding.summary.clone(),
            action: Action::Manual {
                blocker,
                instruction,
            },
        }
    }

    /// A resource the finding names is not in the snapshot (a snapshot edited by hand).
    fn not_found(&self, what: String, finding: &Finding) -> Step {
        self.manual(
            Blocker::NotAvailable,
            format!("{what} is not in the snapshot; scan again, then run remediate"),
            finding,
        )
    }

    /// A step on the trail named `trail`, in the trail's own account and home region.
    fn on_trail(
        &self,
        simulated: &Snapshot,
        trail: &str,
        finding: &Finding,
        reason: String,
        action: impl Fn(&Trail) -> Result<Action, (Blocker, String)>,
    ) -> Vec<Step> {
        let Some(found) = find_trail(simulated, trail) else {
            return vec![self.not_found(format!("trail {trail}"), finding)];
        };
        match action(found) {
            Ok(action) => vec![Step {
                account_id: trail_account(found),
                region: found.home_region.clone(),
                controls: Vec::new(),
                reason,
                action,
            }],
            Err((blocker, instruction)) => vec![self.manual(blocker, instruction, finding)],
        }
    }

    /// A log group for the trail (named after it), a role CloudTrail delivers with, and the
    /// trail sent there: then a new filter and alarm complete the chain on a later round.
    fn send_to_logs(&mut self, simulated: &Snapshot, trail: &Trail, reason: &str) -> Vec<Step> {
        if let Some(steps) = self.deliveries.get(&trail.arn) {
            return steps.clone();
        }
        let account_id = trail_account(trail);
        let region = trail.home_region.clone();
        let group = unique(&format!("aws-cloudtrail-logs-{}", trail.name), |name| {
            simulated
                .chains
                .log_groups
                .iter()
                .any(|g| g.name == name && g.region == region && g.account_id == account_id)
        });
        let log_group_arn = format!(
            "arn:{}:logs:{region}:{account_id}:log-group:{group}:*",
            self.partition
        );
        let role: String = format!("trailwatch-cloudtrail-logs-{}", trail.name)
            .chars()
            .take(ROLE_NAME_MAX)
            .collect();
        let role_arn = format!("arn:{}:iam::{account_id}:role/{role}", self.partition);
        let step = |action| Step {
            account_id: account_id.clone(),
            region: region.clone(),
            controls: Vec::new(),
            reason: reason.to_string(),
            action,
        };
        let steps = vec![
            step(Action::CreateLogGroup { log_group: group }),
            step(Action::CreateDeliveryRole {
                role,
                log_group_arn: log_group_arn.clone(),
            }),
            step(Action::SendTrailToLogs {
                trail: trail.name.clone(),
                log_group_arn,
                role_arn,
            }),
        ];
        self.deliveries.insert(trail.arn.clone(), steps.clone());
        steps
    }

    /// A new filter with the CIS pattern beside the log group's filters (none is replaced), and
    /// a new alarm on its metric notifying a topic that notifies.
    fn new_filter_and_alarm(
        &mut self,
        simulated: &Snapshot,
        control: &Control,
        group: &LogGroup,
        reason: &str,
    ) -> Vec<Step> {
        let Some(monitoring) = control.monitoring(self.request.version) else {
            return Vec::new();
        };
        let existing: Vec<&MetricFilter> =
            group.metric_filters.iter().flatten().collect::<Vec<_>>();
        let filter = unique(&format!("trailwatch-{}", control.id), |name| {
            existing.iter().any(|f| f.name == name)
        });
        let metric_name = unique(&format!("trailwatch-{}", control.id), |name| {
            existing.iter().any(|f| {
                f.metric_transformations
                    .iter()
                    .any(|t| t.metric_name == name && t.metric_namespace == NAMESPACE)
            })
        });
        let why = if existing.is_empty() {
            reason.to_string()
        } else {
            format!("{reason}; the new filter goes beside the existing ones, which stay as they are (other alarms may read them)")
        };
        let mut steps = vec![Step {
            account_id: group.account_id.clone(),
            region: group.region.clone(),
            controls: Vec::new(),
            reason: why,
            action: Action::PutMetricFilter {
                log_group: group.name.clone(),
                filter,
                pattern: monitoring.pattern.to_string(),
                metric_name: metric_name.clone(),
                namespace: NAMESPACE.to_string(),
            },
        }];
        steps.extend(self.alarm_steps(
            simulated,
            control,
            group,
            (&metric_name, NAMESPACE),
            "the new filter's metric needs an alarm that one matching record fires",
        ));
        steps
    }

    /// A new alarm on the metric of `filter` (its existing alarms stay as they are), or a new
    /// filter too when the filter publishes with dimensions (an alarm then reads one series).
    fn new_alarm_on(
        &mut self,
        simulated: &Snapshot,
        control: &Control,
        group: &LogGroup,
        filter: &MetricFilter,
        reason: &str,
    ) -> Vec<Step> {
        match filter.metric_transformations.first() {
            Some(transformation) if transformation.dimensions.is_empty() => self.alarm_steps(
                simulated,
                control,
                group,
                (&transformation.metric_name, &transformation.metric_namespace),
                &format!("{reason}; a new alarm on filter {}'s metric fires on one record, and the existing alarms stay as they are", filter.name),
            ),
            _ => self.new_filter_and_alarm(simulated, control, group, reason),
        }
    }

    /// The topic steps (when no topic notifies yet in the region) and the alarm.
    fn alarm_steps(
        &mut self,
        simulated: &Snapshot,
        control: &Control,
        group: &LogGroup,
        (metric_name, namespace): (&str, &str),
        reason: &str,
    ) -> Vec<Step> {
        let (mut steps, topic_arn) =
            match self.notifying_topic(simulated, &group.account_id, &group.region, reason) {
                Ok(found) => found,
                Err(step) => return vec![*step],
            };
        let taken = |name: &str| {
            simulated
                .chains
                .alarm_set(&group.account_id, &group.region)
                .is_some_and(|set| {
                    set.alarms.iter().flatten().any(|a| a.name == name)
                        || set.composite_alarms.iter().any(|a| a.name == name)
                })
        };
        steps.push(Step {
            account_id: group.account_id.clone(),
            region: group.region.clone(),
            controls: Vec::new(),
            reason: reason.to_string(),
            action: Action::PutMetricAlarm {
                alarm: unique(&format!("trailwatch-{}", control.id), taken),
                metric_name: metric_name.to_string(),
                namespace: namespace.to_string(),
                topic_arn,
            },
        });
        steps
    }

    /// A topic in (account, region) that notifies: proven by a passing chain, planned already,
    /// or a new one with a subscription to `--notify`.
    fn notifying_topic(
        &mut self,
        simulated: &Snapshot,
        account_id: &str,
        region: &str,
        reason: &str,
    ) -> Result<(Vec<Step>, String), Box<Step>> {
        let key = (account_id.to_string(), region.to_string());
        if let Some((topic_arn, steps)) = self.topics.get(&key) {
            return Ok((steps.clone(), topic_arn.clone()));
        }
        let Some(endpoint) = self.request.notify else {
            return Err(Box::new(Step {
                account_id: account_id.to_string(),
                region: region.to_string(),
                controls: Vec::new(),
                reason: reason.to_string(),
                action: Action::Manual {
                    blocker: Blocker::NeedsEndpoint,
                    instruction: format!("no topic in {region} is known to notify anyone: run remediate with --notify PROTOCOL:ENDPOINT (e.g. email:security@example.com) to create one with that subscription"),
                },
            }));
        };
        let topic = unique("trailwatch-alerts", |name| {
            simulated.chains.topics.iter().any(|t| {
                t.region == region
                    && t.account_id == account_id
                    && t.arn.rsplit(':').next() == Some(name)
            })
        });
        let topic_arn = format!("arn:{}:sns:{region}:{account_id}:{topic}", self.partition);
        let step = |action, reason: &str| Step {
            account_id: account_id.to_string(),
            region: region.to_string(),
            controls: Vec::new(),
            reason: reason.to_string(),
            action,
        };
        let steps = vec![
            step(
                Action::CreateTopic {
                    topic,
                    topic_arn: topic_arn.clone(),
                },
                "no topic in the region is known to notify anyone: one unencrypted topic serves every control's alarm (CloudWatch cannot publish to a topic encrypted with the AWS managed key)",
            ),
            step(
                Action::Subscribe {
                    topic_arn: topic_arn.clone(),
                    protocol: endpoint.protocol.clone(),
                    endpoint: endpoint.endpoint.clone(),
                },
                "a topic notifies nobody until a subscription is confirmed",
            ),
        ];
        self.topics.insert(key, (topic_arn.clone(), steps.clone()));
        Ok((steps, topic_arn))
    }

    /// A subscription of `--notify` to the chain's topic (the existing ones stay).
    fn subscribe(&self, topic_arn: &str, reason: &str, finding: &Finding) -> Vec<Step> {
        let Ok(arn) = Arn::parse(topic_arn) else {
            return vec![self.not_found(format!("topic {topic_arn}"), finding)];
        };
        let action = match self.request.notify {
            Some(endpoint) => Action::Subscribe {
                topic_arn: topic_arn.to_string(),
                protocol: endpoint.protocol.clone(),
                endpoint: endpoint.endpoint.clone(),
            },
            None => Action::Manual {
                blocker: Blocker::NeedsEndpoint,
                instruction: format!("subscribe an endpoint to {topic_arn}: run remediate with --notify PROTOCOL:ENDPOINT, or confirm a pending subscription"),
            },
        };
        vec![Step {
            account_id: arn.account_id.to_string(),
            region: arn.region.to_string(),
            controls: Vec::new(),
            reason: format!("{reason}; the new subscription is added beside the existing ones and must be confirmed by its endpoint"),
            action,
        }]
    }

    /// The topic's access policy as read, plus a statement letting the account's alarms publish.
    fn allow_publish(
        &self,
        simulated: &Snapshot,
        topic_arn: &str,
        alarm_arn: &str,
        reason: &str,
        finding: &Finding,
    ) -> Vec<Step> {
        let topic = simulated.chains.topic(topic_arn);
        let current = topic.and_then(|t| match &t.attributes {
            Ok(TopicAttributes {
                policy: Some(policy),
                ..
            }) => Some(policy.clone()),
            _ => None,
        });
        let (Some(topic), Some(current), Ok(arn)) = (topic, current, Arn::parse(topic_arn)) else {
            return vec![self.not_found(format!("the access policy of topic {topic_arn}"), finding)];
        };
        // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
        let statement = json!({
            "Sid": "TrailwatchCloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": format!("arn:{}:cloudwatch:{}:{}:alarm:*", arn.partition, arn.region, arn.account_id)},
                "StringEquals": {"aws:SourceAccount": arn.account_id},
            },
        });
        let Some(policy) = with_statement(&current, statement) else {
            return vec![self.manual(
                Blocker::NeedsHuman,
                format!("the access policy of topic {topic_arn} is not a JSON policy trailwatch can extend; add a statement allowing cloudwatch.amazonaws.com sns:Publish"),
                finding,
            )];
        };
        let request = PolicyRequest::cloudwatch_alarm_publish(alarm_arn, topic_arn);
        if !allows(&policy, request) {
            return vec![self.manual(
                Blocker::Destructive,
                format!("a Deny statement of the access policy of topic {topic_arn} refuses CloudWatch even with an Allow added: only removing or narrowing that statement would fix it"),
                finding,
            )];
        }
        vec![Step {
            account_id: topic.account_id.clone(),
            region: topic.region.clone(),
            controls: Vec::new(),
            reason: format!("{reason}; the policy's statements stay, one is added"),
            action: Action::SetTopicPolicy {
                topic_arn: topic_arn.to_string(),
                policy,
            },
        }]
    }

    /// The key policy as read, plus a statement letting CloudWatch use the key.
    fn allow_key_use(
        &self,
        simulated: &Snapshot,
        topic_arn: &str,
        key_arn: &str,
        reason: &str,
        finding: &Finding,
    ) -> Vec<Step> {
        let key = simulated
            .chains
            .topic(topic_arn)
            .and_then(|t| match &t.attributes {
                Ok(TopicAttributes {
                    key: Some(Ok(key)), ..
                }) => Some(key),
                _ => None,
            });
        let current = key.and_then(|key: &EncryptionKey| match &key.policy {
            Some(Ok(policy)) => Some(policy.clone()),
            _ => None,
        });
        let (Some(current), Ok(arn)) = (current, Arn::parse(key_arn)) else {
            return vec![self.not_found(format!("the key policy of {key_arn}"), finding)];
        };
        // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
        let statement = json!({
            "Sid": "TrailwatchCloudWatchAlarmsUseKey",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        });
        let Some(policy) = with_statement(&current, statement) else {
            return vec![self.manual(
                Blocker::NeedsHuman,
                format!("the key policy of {key_arn} is not a JSON policy trailwatch can extend; add a statement allowing cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*"),
                finding,
            )];
        };
        let alarm_arn = finding
            .evidence
            .chain
            .iter()
            .rev()
            .find(|link| {
                matches!(
                    link.kind,
                    ResourceKind::Alarm | ResourceKind::CompositeAlarm
                )
            })
            .map(|link| link.id.clone())
            .unwrap_or_default();
        let refused = ["kms:Decrypt", "kms:GenerateDataKey"].iter().any(|action| {
            !allows(
                &policy,
                PolicyRequest::cloudwatch_alarm_key_use(&alarm_arn, key_arn, action),
            )
        });
        if refused {
            return vec![self.manual(
                Blocker::Destructive,
                format!("a Deny statement of the key policy of {key_arn} refuses CloudWatch even with an Allow added: only removing or narrowing that statement would fix it"),
                finding,
            )];
        }
        vec![Step {
            account_id: arn.account_id.to_string(),
            region: arn.region.to_string(),
            controls: Vec::new(),
            reason: format!("{reason}; the key policy's statements stay, one is added"),
            action: Action::PutKeyPolicy {
                key_arn: key_arn.to_string(),
                policy,
            },
        }]
    }
}

/// The selectors that make a trail record every management event without dropping any of its
/// selectors: the advanced ones as read plus one for management events; a trail with none gets
/// one classic selector. Classic selectors are not rewritten: the snapshot does not hold their
/// data resources, and PutEventSelectors replaces every selector.
fn management_selectors(trail: &Trail, gap: &SelectorGap) -> Result<Action, (Blocker, String)> {
    let current = trail.event_selectors.as_ref().ok();
    match (gap, current) {
        (SelectorGap::NoSelectors, _) => Ok(Action::PutManagementEventSelector {
            trail: trail.name.clone(),
            selector: ClassicEventSelector {
                read_write_type: "All".to_string(),
                include_management_events: true,
                exclude_management_event_sources: Vec::new(),
            },
        }),
        (SelectorGap::NotRecorded { advanced: true, .. }, Some(selectors)) => {
            let mut selectors = selectors.advanced.clone();
            let name = unique("Management events (trailwatch)", |name| {
                selectors.iter().any(|s| s.name.as_deref() == Some(name))
            });
            selectors.push(AdvancedEventSelector {
                name: Some(name),
                field_selectors: vec![AdvancedFieldSelector {
                    field: "eventCategory".to_string(),
                    equals: vec!["Management".to_string()],
                    ..AdvancedFieldSelector::default()
                }],
            });
            Ok(Action::AddManagementEventSelector {
                trail: trail.name.clone(),
                selectors,
            })
        }
        _ => Err((
            Blocker::Destructive,
            format!("trail {} uses classic event selectors; PutEventSelectors replaces all of them, and their data-event resources were not read, so trailwatch will not rewrite them. Add a selector with ReadWriteType All and IncludeManagementEvents true (and no excluded sources) beside them, keeping their DataResources (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/logging-management-events-with-cloudtrail.html)", trail.name),
        )),
    }
}

/// `policy` (a JSON policy document) with `statement` appended; `None` if it is not one.
fn with_statement(policy: &str, statement: Value) -> Option<String> {
    let mut document: Value = serde_json::from_str(policy).ok()?;
    let object = document.as_object_mut()?;
    let statements = match object.remove("Statement") {
        Some(Value::Array(items)) => items,
        Some(single @ Value::Object(_)) => vec![single],
        None => Vec::new(),
        Some(_) => return None,
    };
    let mut statements = statements;
    statements.push(statement);
    object.insert("Statement".to_string(), Value::Array(statements));
    serde_json::to_string(&document).ok()
}

/// Whether the policy engine decides that `policy` allows `request`.
fn allows(policy: &str, request: Result<PolicyRequest, crate::model::arn::ArnError>) -> bool {
    request.is_ok_and(|request| {
        matches!(
            policy::evaluate(policy, &request),
            Ok(Decision::Allowed { .. })
        )
    })
}

/// `base`, or `base-2`, `base-3`, … : the first that `taken` refuses.
fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    (1..)
        .map(|n| {
            if n == 1 {
                base.to_string()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|name| !taken(name))
        .unwrap_or_else(|| base.to_string())
}

fn find_trail<'s>(snapshot: &'s Snapshot, name: &str) -> Option<&'s Trail> {
    snapshot.chains.trails.iter().find(|t| t.name == name)
}

fn trail_account(trail: &Trail) -> String {
    Arn::parse(&trail.arn)
        .map(|arn| arn.account_id.to_string())
        .unwrap_or_default()
}

fn chain_link(finding: &Finding, kind: ResourceKind) -> Option<&ResourceRef> {
    finding.evidence.chain.iter().find(|link| link.kind == kind)
}

/// The log group of the finding's chain, as the simulated snapshot holds it.
fn chain_log_group<'s>(snapshot: &'s Snapshot, finding: &Finding) -> Option<&'s LogGroup> {
    snapshot
        .chains
        .log_group(&chain_link(finding, ResourceKind::LogGroup)?.id)
}

/// The metric filter of the finding's chain and its log group.
fn chain_filter<'s>(
    snapshot: &'s Snapshot,
    finding: &Finding,
) -> Option<(&'s LogGroup, &'s MetricFilter)> {
    let group = chain_log_group(snapshot, finding)?;
    let name = &chain_link(finding, ResourceKind::MetricFilter)?.name;
    let filter = group
        .metric_filters
        .iter()
        .flatten()
        .find(|f| &f.name == name)?;
    Some((group, filter))
}

fn chain_topic(finding: &Finding) -> Option<String> {
    chain_link(finding, ResourceKind::Topic).map(|link| link.id.clone())
}
