//! The planner over hand-built snapshots: one case per kind of missing link (and two at once),
//! what the plan does, and that the evaluator passes the control once the steps are applied.
//!
//! The emulator tests (`tests/emulator/remediate.rs`) apply the generated commands to moto and
//! rescan; these cover what moto cannot represent (read failures, KMS key policies, pending
//! subscriptions, delivery times, Security Hub).

use super::*;
use crate::controls::tests::*;
use crate::controls::{control, CisVersion};
use crate::model::findings::ComplianceStatus;
use crate::model::snapshot::*;

const NOTIFY: &str = "email:secops@example.com";
const OWNER: &str = "999988887777";

fn request_for<'a>(controls: &'a [&'static Control], notify: Option<&'a Endpoint>) -> Request<'a> {
    Request {
        controls,
        version: CisVersion::newest(),
        notify,
    }
}

/// The plan for `control_id` over one snapshot, with `--notify` when `notify`.
fn plan_for(snapshot: &Snapshot, control_id: &str, notify: bool) -> Plan {
    let endpoint = Endpoint::parse(NOTIFY).unwrap();
    let controls = [control(control_id).unwrap()];
    plan(
        std::slice::from_ref(snapshot),
        &request_for(&controls, notify.then_some(&endpoint)),
    )
}

fn kinds(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .map(|step| {
            serde_json::to_value(&step.action).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

fn blocker(plan: &Plan) -> Option<Blocker> {
    plan.steps.iter().find_map(|step| match &step.action {
        Action::Manual { blocker, .. } => Some(*blocker),
        _ => None,
    })
}

/// Applies the plan's steps to the snapshot, as the planner does, and evaluates again.
fn status_after(snapshot: &Snapshot, plan: &Plan, control_id: &str) -> ComplianceStatus {
    let mut fixed = snapshot.clone();
    for step in &plan.steps {
        simulate::apply(&mut fixed, step);
    }
    let findings = controls::evaluate(
        &fixed,
        &[control(control_id).unwrap()],
        CisVersion::newest(),
    );
    findings
        .iter()
        .map(|f| f.status)
        .max_by_key(|s| *s != ComplianceStatus::Passed)
        .unwrap()
}

type Mutation = fn(&mut Snapshot);

/// (case, change to the complete account, --notify given, steps, outcome)
const CASES: &[(&str, Mutation, bool, &[&str], Outcome)] = &[
    (
        "complete chain: nothing to do",
        |_| {},
        true,
        &[],
        Outcome::Completes,
    ),
    (
        "no trail",
        |s| s.chains.trails.clear(),
        true,
        &["manual"],
        Outcome::Stops,
    ),
    (
        "trail not multi-Region",
        |s| s.chains.trails[0].is_multi_region = false,
        true,
        &["make_trail_multi_region"],
        Outcome::Completes,
    ),
    (
        "trail not logging",
        |s| s.chains.trails[0].status.as_mut().unwrap().is_logging = false,
        true,
        &["start_logging"],
        Outcome::Completes,
    ),
    (
        "two breaks at once: not multi-Region and not logging",
        |s| {
            s.chains.trails[0].is_multi_region = false;
            s.chains.trails[0].status.as_mut().unwrap().is_logging = false;
        },
        true,
        &["make_trail_multi_region", "start_logging"],
        Outcome::Completes,
    ),
    (
        "trail without any event selector",
        |s| s.chains.trails[0].event_selectors = Ok(EventSelectors::default()),
        true,
        &["put_management_event_selector"],
        Outcome::Completes,
    ),
    (
        "advanced selectors for data events only",
        |s| s.chains.trails[0].event_selectors = Ok(data_events_only()),
        true,
        &["add_management_event_selector"],
        Outcome::Completes,
    ),
    (
        "classic selectors recording write events only: rewriting them could drop data events",
        |s| {
            s.chains.trails[0].event_selectors.as_mut().unwrap().classic[0].read_write_type =
                "WriteOnly".to_string()
        },
        true,
        &["manual"],
        Outcome::Stops,
    ),
    (
        "trail not sending to CloudWatch Logs",
        |s| s.chains.trails[0].log_group_arn = None,
        true,
        &[
            "create_log_group",
            "create_delivery_role",
            "send_trail_to_logs",
            "put_metric_filter",
            "create_topic",
            "subscribe",
            "put_metric_alarm",
        ],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "log group deleted",
        |s| {
            s.chains.log_groups[0].metric_filters = Err(read_error(
                "logs:DescribeMetricFilters",
                ReadErrorKind::NotFound,
            ))
        },
        true,
        &[
            "create_log_group",
            "put_metric_filter",
            "create_topic",
            "subscribe",
            "put_metric_alarm",
        ],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "no metric filter",
        |s| filters(s).clear(),
        true,
        &[
            "put_metric_filter",
            "create_topic",
            "subscribe",
            "put_metric_alarm",
        ],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "filter that does not cover: a new one goes beside it",
        |s| filters(s)[0].pattern = "{ $.eventName = CreateTrail }".to_string(),
        true,
        &[
            "put_metric_filter",
            "create_topic",
            "subscribe",
            "put_metric_alarm",
        ],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "filter publishing no metric",
        |s| filters(s)[0].metric_transformations.clear(),
        true,
        &[
            "put_metric_filter",
            "create_topic",
            "subscribe",
            "put_metric_alarm",
        ],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "filter publishing with a dimension the alarm pins",
        |s| {
            filters(s)[0].metric_transformations[0]
                .dimensions
                .insert("User".into(), "$.userIdentity.arn".into());
            alarms(s)[0].metrics[0]
                .dimensions
                .insert("User".into(), "arn:aws:iam::111122223333:user/ci".into());
        },
        true,
        &[
            "put_metric_filter",
            "create_topic",
            "subscribe",
            "put_metric_alarm",
        ],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "no alarm on the metric",
        |s| alarms(s).clear(),
        true,
        &["create_topic", "subscribe", "put_metric_alarm"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "alarm that needs 3 of 3 breaching periods",
        |s| {
            alarms(s)[0].evaluation.evaluation_periods = Some(3);
            alarms(s)[0].evaluation.treat_missing_data = Some("notBreaching".into());
        },
        true,
        &["create_topic", "subscribe", "put_metric_alarm"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "alarm actions disabled",
        |s| alarms(s)[0].actions_enabled = false,
        true,
        &["enable_alarm_actions"],
        Outcome::Completes,
    ),
    (
        "alarm with no topic among its actions",
        |s| alarms(s)[0].alarm_actions.clear(),
        true,
        &["create_topic", "subscribe", "put_metric_alarm"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "alarm notifying only on OK",
        |s| {
            let alarm = &mut alarms(s)[0];
            alarm.ok_actions = std::mem::take(&mut alarm.alarm_actions);
        },
        true,
        &["create_topic", "subscribe", "put_metric_alarm"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "alarm notifying a topic in another region",
        |s| {
            alarms(s)[0].alarm_actions =
                vec!["arn:aws:sns:eu-west-1:111122223333:sec-alerts".into()]
        },
        true,
        &["create_topic", "subscribe", "put_metric_alarm"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "topic deleted",
        |s| {
            s.chains.topics[0].subscriptions = Err(read_error(
                "sns:ListSubscriptionsByTopic",
                ReadErrorKind::NotFound,
            ))
        },
        true,
        &["create_topic", "subscribe", "put_metric_alarm"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "topic without subscription",
        |s| s.chains.topics[0].subscriptions = Ok(vec![]),
        true,
        &["subscribe"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "topic without subscription and no --notify",
        |s| s.chains.topics[0].subscriptions = Ok(vec![]),
        false,
        &["manual"],
        Outcome::Stops,
    ),
    (
        "only a pending subscription",
        |s| {
            s.chains.topics[0].subscriptions = Ok(vec![Subscription {
                subscription_arn: PENDING_CONFIRMATION.into(),
                ..confirmed()
            }])
        },
        true,
        &["subscribe"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "the only subscription filters the notification out",
        |s| {
            s.chains.topics[0].subscriptions.as_mut().unwrap()[0].filter =
                Some(Ok(SubscriptionFilter {
                    policy: Some(r#"{"severity": ["high"]}"#.into()),
                    scope: None,
                }))
        },
        true,
        &["subscribe"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "topic policy that lets only another account publish",
        |s| {
            topic_attributes(s).policy = Some(
                serde_json::json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"},
                    "Action": "SNS:Publish", "Resource": TOPIC_ARN,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": OWNER}}}]})
                .to_string(),
            )
        },
        true,
        &["set_topic_policy"],
        Outcome::Completes,
    ),
    (
        "topic policy that denies CloudWatch: only removing the Deny would fix it",
        |s| {
            let mut policy: serde_json::Value =
                serde_json::from_str(topic_attributes(s).policy.as_ref().unwrap()).unwrap();
            policy["Statement"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!({
                "Sid": "NoCloudWatch", "Effect": "Deny",
                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                "Action": "SNS:Publish", "Resource": "*"}));
            topic_attributes(s).policy = Some(policy.to_string());
        },
        true,
        &["manual"],
        Outcome::Stops,
    ),
    (
        "topic encrypted with the AWS managed key",
        |s| topic_attributes(s).kms_master_key_id = Some("alias/aws/sns".into()),
        true,
        &["create_topic", "subscribe", "put_metric_alarm"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "topic key disabled",
        |s| *topic_attributes(s) = encrypted_with("CUSTOMER", "Disabled", default_key_policy()),
        true,
        &["create_topic", "subscribe", "put_metric_alarm"],
        Outcome::CompletesOnceConfirmed,
    ),
    (
        "key policy that does not let CloudWatch use the key",
        |s| *topic_attributes(s) = encrypted_with("CUSTOMER", "Enabled", default_key_policy()),
        true,
        &["put_key_policy"],
        Outcome::Completes,
    ),
    (
        "alarms unreadable",
        |s| {
            s.chains.alarm_sets[0].alarms = Err(read_error(
                "cloudwatch:DescribeAlarms",
                ReadErrorKind::AccessDenied,
            ))
        },
        true,
        &["manual"],
        Outcome::Stops,
    ),
    (
        "composite alarm that does not follow, metric alarm without actions",
        |s| {
            alarms(s)[0].alarm_actions.clear();
            s.chains.alarm_sets[0]
                .composite_alarms
                .push(CompositeAlarm {
                    arn: format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:both"),
                    name: "both".into(),
                    actions_enabled: true,
                    alarm_actions: vec![TOPIC_ARN.into()],
                    rule: "ALARM(cis-4-5) AND ALARM(other)".into(),
                    actions_suppressor: None,
                });
        },
        true,
        // sec-alerts completes no chain, so it is not proven to notify: a new topic.
        &["create_topic", "subscribe", "put_metric_alarm"],
        Outcome::CompletesOnceConfirmed,
    ),
];

/// Advanced selectors that record S3 data events only.
fn data_events_only() -> EventSelectors {
    EventSelectors {
        classic: vec![],
        advanced: vec![AdvancedEventSelector {
            name: Some("S3 data events".into()),
            field_selectors: vec![
                AdvancedFieldSelector {
                    field: "eventCategory".into(),
                    equals: vec!["Data".into()],
                    ..AdvancedFieldSelector::default()
                },
                AdvancedFieldSelector {
                    field: "resources.type".into(),
                    equals: vec!["AWS::S3::Object".into()],
                    ..AdvancedFieldSelector::default()
                },
            ],
        }],
    }
}

#[test]
fn every_kind_of_missing_link_gets_its_steps() {
    for (case, mutate, notify, expected, outcome) in CASES {
        let mut snapshot = complete();
        mutate(&mut snapshot);
        let plan = plan_for(&snapshot, "cloudtrail-changes", *notify);
        assert_eq!(kinds(&plan), *expected, "case: {case}\n{plan:#?}");
        if expected.is_empty() {
            assert!(plan.controls.is_empty(), "case: {case}");
            continue;
        }
        assert_eq!(plan.controls.len(), 1, "case: {case}");
        assert_eq!(plan.controls[0].outcome, *outcome, "case: {case}");
        let after = status_after(&snapshot, &plan, "cloudtrail-changes");
        if *outcome == Outcome::Stops {
            assert_ne!(after, ComplianceStatus::Passed, "case: {case}");
        } else {
            assert_eq!(after, ComplianceStatus::Passed, "case: {case}");
        }
        for step in &plan.steps {
            assert_eq!(step.controls, vec!["cloudtrail-changes"], "case: {case}");
            assert_eq!(
                (step.account_id.as_str(), step.region.as_str()),
                (ACCOUNT, "us-east-1"),
                "case: {case}"
            );
        }
    }
}

#[test]
fn what_is_left_to_a_person_says_why() {
    let cases: [(&str, Mutation, bool, Blocker); 5] = [
        (
            "no trail",
            |s| s.chains.trails.clear(),
            true,
            Blocker::NeedsHuman,
        ),
        (
            "classic selectors",
            |s| {
                s.chains.trails[0].event_selectors.as_mut().unwrap().classic[0].read_write_type =
                    "WriteOnly".into()
            },
            true,
            Blocker::Destructive,
        ),
        (
            "no endpoint",
            |s| s.chains.topics[0].subscriptions = Ok(vec![]),
            false,
            Blocker::NeedsEndpoint,
        ),
        (
            "unreadable alarms",
            |s| {
                s.chains.alarm_sets[0].alarms = Err(read_error(
                    "cloudwatch:DescribeAlarms",
                    ReadErrorKind::AccessDenied,
                ))
            },
            true,
            Blocker::NotAvailable,
        ),
        (
            "no filter and no endpoint",
            |s| filters(s).clear(),
            false,
            Blocker::NeedsEndpoint,
        ),
    ];
    for (case, mutate, notify, expected) in cases {
        let mut snapshot = complete();
        mutate(&mut snapshot);
        let plan = plan_for(&snapshot, "cloudtrail-changes", notify);
        assert_eq!(blocker(&plan), Some(expected), "case: {case}");
        assert_eq!(plan.controls[0].outcome, Outcome::Stops, "case: {case}");
    }
}

#[test]
fn nothing_is_replaced_or_dropped() {
    // The data-event selector stays beside the new management one.
    let mut snapshot = complete();
    snapshot.chains.trails[0].event_selectors = Ok(data_events_only());
    let plan = plan_for(&snapshot, "cloudtrail-changes", true);
    let Action::AddManagementEventSelector { selectors, .. } = &plan.steps[0].action else {
        panic!("{plan:#?}")
    };
    assert_eq!(selectors[0], data_events_only().advanced[0]);
    assert_eq!(selectors.len(), 2);
    // A new filter and alarm never take the name of an existing one (PutMetricFilter and
    // PutMetricAlarm would replace it).
    let mut snapshot = complete();
    filters(&mut snapshot)[0].name = "trailwatch-cloudtrail-changes".into();
    filters(&mut snapshot)[0].pattern = "{ $.eventName = CreateTrail }".into();
    alarms(&mut snapshot)[0].name = "trailwatch-cloudtrail-changes".into();
    let plan = plan_for(&snapshot, "cloudtrail-changes", true);
    let names: Vec<String> = plan
        .steps
        .iter()
        .filter_map(|step| match &step.action {
            Action::PutMetricFilter { filter, .. } => Some(filter.clone()),
            Action::PutMetricAlarm { alarm, .. } => Some(alarm.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            "trailwatch-cloudtrail-changes-2",
            "trailwatch-cloudtrail-changes-2"
        ]
    );
    // A topic policy keeps its statements.
    let mut snapshot = complete();
    topic_attributes(&mut snapshot).policy = Some(
        serde_json::json!({"Statement": [{"Sid": "Mine", "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{OWNER}:root")}, "Action": "SNS:Publish", "Resource": TOPIC_ARN}]}).to_string(),
    );
    let plan = plan_for(&snapshot, "cloudtrail-changes", true);
    let Action::SetTopicPolicy { policy, .. } = &plan.steps[0].action else {
        panic!("{plan:#?}")
    };
    let policy: serde_json::Value = serde_json::from_str(policy).unwrap();
    assert_eq!(policy["Statement"][0]["Sid"], "Mine");
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 2);
}

#[test]
fn one_topic_and_one_subscription_serve_every_control() {
    let mut snapshot = complete();
    filters(&mut snapshot).clear();
    let endpoint = Endpoint::parse(NOTIFY).unwrap();
    let selected = controls::select("default").unwrap();
    let plan = plan(
        std::slice::from_ref(&snapshot),
        &request_for(&selected, Some(&endpoint)),
    );
    let monitoring: Vec<&str> = selected
        .iter()
        .filter(|c| matches!(c.check, Check::Monitoring(_)))
        .map(|c| c.id)
        .collect();
    let topics: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::CreateTopic { .. }))
        .collect();
    let subscriptions: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Subscribe { .. }))
        .collect();
    assert_eq!((topics.len(), subscriptions.len()), (1, 1), "{plan:#?}");
    assert_eq!(topics[0].controls, monitoring);
    assert_eq!(subscriptions[0].controls, monitoring);
    for id in &monitoring {
        assert_eq!(
            status_after(&snapshot, &plan, id),
            ComplianceStatus::Passed,
            "{id}"
        );
    }
}

#[test]
fn a_topic_proven_by_a_passing_chain_is_reused() {
    // cloudtrail-changes passes through sec-alerts; kms-cmk-disable-delete has no filter.
    let plan = plan_for(&complete(), "kms-cmk-disable-delete", false);
    assert_eq!(kinds(&plan), ["put_metric_filter", "put_metric_alarm"]);
    let Action::PutMetricAlarm { topic_arn, .. } = &plan.steps[1].action else {
        panic!()
    };
    assert_eq!(topic_arn, TOPIC_ARN);
    assert_eq!(plan.controls[0].outcome, Outcome::Completes);
}

#[test]
fn a_plan_from_a_runs_own_findings_reuses_a_topic_another_control_proves() {
    // The page and the ASFF plan from the run's own findings: with `--controls` naming one
    // control, cloudtrail-changes (passing through sec-alerts) is not among them, and its topic
    // is reused all the same, as `trailwatch remediate` reuses it.
    let snapshot = complete();
    let controls = [control("kms-cmk-disable-delete").unwrap()];
    let findings = controls::evaluate(&snapshot, &controls, CisVersion::newest());
    let mut from_findings = Plan::default();
    from_findings.add_account(&snapshot, &findings, &request_for(&controls, None));
    assert_eq!(
        kinds(&from_findings),
        ["put_metric_filter", "put_metric_alarm"]
    );
    assert_eq!(
        from_findings,
        plan_for(&snapshot, "kms-cmk-disable-delete", false)
    );
}

#[test]
fn cis_3_4_a_trail_not_logging_starts_logging_and_one_not_sending_gets_delivery() {
    let mut snapshot = complete();
    let status = snapshot.chains.trails[0].status.as_mut().unwrap();
    status.is_logging = false;
    status.latest_cloudwatch_logs_delivery_time = None;
    let plan = plan_for(&snapshot, "trail-cw-logs", true);
    assert_eq!(kinds(&plan), ["start_logging"]);
    assert_eq!(plan.controls[0].outcome, Outcome::CompletesOnceDelivered);

    let mut snapshot = complete();
    snapshot.chains.trails[0].log_group_arn = None;
    let plan = plan_for(&snapshot, "trail-cw-logs", true);
    assert_eq!(
        kinds(&plan),
        [
            "create_log_group",
            "create_delivery_role",
            "send_trail_to_logs"
        ]
    );

    let mut snapshot = complete();
    let status = snapshot.chains.trails[0].status.as_mut().unwrap();
    status.latest_cloudwatch_logs_delivery_time = None;
    status.latest_cloudwatch_logs_delivery_error = Some("AccessDenied".into());
    let plan = plan_for(&snapshot, "trail-cw-logs", true);
    assert_eq!(blocker(&plan), Some(Blocker::NeedsHuman));
}

#[test]
fn security_hub_is_enabled_in_each_region_without_a_hub() {
    let mut snapshot = complete();
    snapshot.regions = vec!["us-east-1".into(), "eu-west-1".into()];
    snapshot.securityhub = Some(
        ["us-east-1", "eu-west-1"]
            .map(|region| SecurityHubRegion {
                region: region.into(),
                hub: Ok(Hub::NotEnabled {
                    code: "InvalidAccessException".into(),
                    message: "not subscribed".into(),
                }),
            })
            .to_vec(),
    );
    let plan = plan_for(&snapshot, "securityhub-enabled", false);
    let regions: Vec<&str> = plan.steps.iter().map(|s| s.region.as_str()).collect();
    assert_eq!(kinds(&plan), ["enable_security_hub", "enable_security_hub"]);
    assert_eq!(regions, ["us-east-1", "eu-west-1"]);
    assert_eq!(plan.controls[0].outcome, Outcome::Completes);
}

/// Two members that log only through the organization trail of account OWNER, whose log group
/// has no filter for the control.
fn member(account: &str) -> Snapshot {
    let mut snapshot = complete();
    snapshot.account_id = account.into();
    let owner_log_group = LOG_GROUP_ARN.replace(ACCOUNT, OWNER);
    let trail = &mut snapshot.chains.trails[0];
    trail.arn = trail.arn.replace(ACCOUNT, OWNER);
    trail.is_organization_trail = true;
    trail.log_group_arn = Some(owner_log_group.clone());
    let group = &mut snapshot.chains.log_groups[0];
    group.arn = owner_log_group;
    group.account_id = OWNER.into();
    group.metric_filters = Ok(vec![]);
    snapshot.chains.alarm_sets[0].account_id = OWNER.into();
    snapshot.chains.alarm_sets[0].alarms = Ok(vec![]);
    snapshot.chains.topics.clear();
    snapshot
}

#[test]
fn members_logging_through_the_organization_trail_get_one_plan_in_the_owner_account() {
    let members = [member("111111111111"), member("222222222222")];
    let endpoint = Endpoint::parse(NOTIFY).unwrap();
    let controls = [control("cloudtrail-changes").unwrap()];
    let plan = plan(&members, &request_for(&controls, Some(&endpoint)));
    assert_eq!(
        kinds(&plan),
        [
            "put_metric_filter",
            "create_topic",
            "subscribe",
            "put_metric_alarm"
        ]
    );
    assert!(
        plan.steps.iter().all(|s| s.account_id == OWNER),
        "{plan:#?}"
    );
    let accounts: Vec<&str> = plan
        .controls
        .iter()
        .map(|c| c.account_id.as_str())
        .collect();
    assert_eq!(accounts, ["111111111111", "222222222222"]);
    for member in &members {
        assert_eq!(
            status_after(member, &plan, "cloudtrail-changes"),
            ComplianceStatus::Passed
        );
    }
}

#[test]
fn a_filter_narrowed_to_one_member_gets_a_filter_for_every_member() {
    let mut members = [member("111111111111"), member("222222222222")];
    for member in &mut members {
        let narrowed = format!(
            "{{ $.recipientAccountId = 111111111111 && {} }}",
            &CIS_4_5[2..CIS_4_5.len() - 2]
        );
        filters(member).push(filter("only-one", &narrowed, "CloudTrailChanges"));
        member.chains.alarm_sets[0].alarms = Ok(vec![alarm("only-one", "CloudTrailChanges")]);
        member.chains.alarm_sets[0].alarms.as_mut().unwrap()[0]
            .alarm_actions
            .clear();
    }
    let endpoint = Endpoint::parse(NOTIFY).unwrap();
    let controls = [control("cloudtrail-changes").unwrap()];
    let plan = plan(&members, &request_for(&controls, Some(&endpoint)));
    let filters: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::PutMetricFilter { .. }))
        .collect();
    assert_eq!(filters.len(), 1, "{plan:#?}");
    for member in &members {
        assert_eq!(
            status_after(member, &plan, "cloudtrail-changes"),
            ComplianceStatus::Passed
        );
    }
}

#[test]
fn notify_endpoints_are_validated() {
    assert_eq!(
        Endpoint::parse("email:secops@example.com").unwrap(),
        Endpoint {
            protocol: "email".into(),
            endpoint: "secops@example.com".into()
        }
    );
    assert_eq!(
        Endpoint::parse("https://hooks.example.com/a")
            .unwrap()
            .endpoint,
        "https://hooks.example.com/a"
    );
    for bad in ["secops@example.com", "pager:123", "email:", "email:a\nb"] {
        assert!(Endpoint::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn the_script_quotes_every_value_from_the_account_and_parses_as_bash() {
    // A log group name and a filter pattern with quotes, spaces, `$` and `;`.
    let mut snapshot = complete();
    snapshot.chains.log_groups[0].name = "it's $HOME; rm -rf /".into();
    filters(&mut snapshot).clear();
    let plan = plan_for(&snapshot, "cloudtrail-changes", true);
    let script = cli::render(&plan);
    assert!(script.starts_with("#!/usr/bin/env bash\n"), "{script}");
    assert!(script.contains("set -euo pipefail"), "{script}");
    assert!(
        script.contains(r"--log-group-name 'it'\''s $HOME; rm -rf /'"),
        "{script}"
    );
    assert_eq!(cli::quote("a'b"), r"'a'\''b'");
    assert_eq!(cli::quote(""), "''");
    assert_eq!(
        cli::quote("arn:aws:sns:us-east-1:1:t"),
        "arn:aws:sns:us-east-1:1:t"
    );
    let checked = std::process::Command::new("bash")
        .args(["-n", "-c", &script])
        .output()
        .expect("bash runs");
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    // An empty plan is a script that says so.
    let empty = cli::render(&plan_for(&complete(), "cloudtrail-changes", true));
    assert!(empty.contains("nothing to remediate"), "{empty}");
}

#[test]
fn the_template_creates_exactly_the_missing_resources() {
    let mut snapshot = complete();
    filters(&mut snapshot).clear();
    let plan = plan_for(&snapshot, "cloudtrail-changes", true);
    let template: serde_json::Value =
        serde_json::from_str(&cloudformation::render(&plan).unwrap()).unwrap();
    let types: Vec<&str> = template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .map(|r| r["Type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "AWS::Logs::MetricFilter",
            "AWS::SNS::Topic",
            "AWS::SNS::Subscription",
            "AWS::CloudWatch::Alarm"
        ]
    );
    assert_eq!(
        template["Parameters"]["NotifyEndpoint"]["Default"],
        "secops@example.com"
    );
    // The alarm notifies the template's own topic.
    assert_eq!(
        template["Resources"]["Step4Alarm"]["Properties"]["AlarmActions"][0]["Ref"],
        "Step2Topic"
    );
    // Nothing to create: no template.
    let enable = plan_for(
        &{
            let mut s = complete();
            alarms(&mut s)[0].actions_enabled = false;
            s
        },
        "cloudtrail-changes",
        true,
    );
    assert_eq!(
        cloudformation::render(&enable),
        Err(cloudformation::TemplateError::NothingToCreate)
    );
}
