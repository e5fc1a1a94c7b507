//! Controls over hand-built snapshots: every link of the chain, read failures, and the sentences.
//!
//! These cover what the emulator cannot represent (delivery times, pending subscriptions, read
//! failures of every kind); the emulator tests in `tests/scan_*.rs` cover the same rules through
//! the real AWS APIs.

use super::*;
use crate::model::findings::ComplianceStatus::{self, *};
use crate::model::missing::*;
use crate::model::snapshot::*;
use time::macros::datetime;

pub(crate) const ACCOUNT: &str = "111122223333";
pub(crate) const LOG_GROUP_ARN: &str =
    "arn:aws:logs:us-east-1:111122223333:log-group:CloudTrail/main:*";
pub(crate) const TOPIC_ARN: &str = "arn:aws:sns:us-east-1:111122223333:sec-alerts";
pub(crate) const CIS_4_5: &str = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }";

pub(crate) fn read_error(operation: &str, kind: ReadErrorKind) -> ReadError {
    ReadError {
        operation: operation.to_string(),
        region: "us-east-1".to_string(),
        resource: None,
        kind,
        code: Some("AccessDeniedException".to_string()),
        message: "User is not authorized".to_string(),
    }
}

pub(crate) fn trail(name: &str) -> Trail {
    Trail {
        arn: format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{name}"),
        name: name.to_string(),
        home_region: "us-east-1".to_string(),
        is_multi_region: true,
        is_organization_trail: false,
        log_group_arn: Some(LOG_GROUP_ARN.to_string()),
        status: Ok(TrailStatus {
            is_logging: true,
            latest_cloudwatch_logs_delivery_time: Some(datetime!(2026-11-23 11:00 UTC)),
            latest_cloudwatch_logs_delivery_error: None,
        }),
        event_selectors: Ok(EventSelectors {
            classic: vec![ClassicEventSelector {
                read_write_type: "All".to_string(),
                include_management_events: true,
                exclude_management_event_sources: vec![],
            }],
            advanced: vec![],
        }),
    }
}

pub(crate) fn filter(name: &str, pattern: &str, metric: &str) -> MetricFilter {
    MetricFilter {
        name: name.to_string(),
        pattern: pattern.to_string(),
        metric_transformations: vec![MetricTransformation {
            metric_name: metric.to_string(),
            metric_namespace: "CISBenchmark".to_string(),
            metric_value: "1".to_string(),
            default_value: None,
            unit: None,
            dimensions: Default::default(),
        }],
    }
}

pub(crate) fn alarm(name: &str, metric: &str) -> Alarm {
    Alarm {
        arn: format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}"),
        name: name.to_string(),
        actions_enabled: true,
        alarm_actions: vec![TOPIC_ARN.to_string()],
        ok_actions: vec![],
        insufficient_data_actions: vec![],
        metrics: vec![AlarmMetric {
            metric_name: metric.to_string(),
            namespace: "CISBenchmark".to_string(),
            dimensions: Default::default(),
            account_id: None,
        }],
        evaluation: AlarmEvaluation::cis_recommended(),
    }
}

pub(crate) fn confirmed() -> Subscription {
    Subscription {
        subscription_arn: format!("{TOPIC_ARN}:0f6c2a4e-4b9e-4a53-9d6c-2f1b7a0e9c11"),
        protocol: "email".to_string(),
        endpoint: "secops@example.com".to_string(),
        filter: Some(Ok(SubscriptionFilter::default())),
    }
}

/// The access policy SNS gives a new topic: the owner's account (`AWS:SourceOwner`) may
/// publish, which lets the account's own alarms publish.
pub(crate) fn default_topic_attributes() -> TopicAttributes {
    TopicAttributes {
        policy: Some(
            serde_json::json!({
                "Version": "2008-10-17",
                "Id": "__default_policy_ID",
                "Statement": [{
                    "Sid": "__default_statement_ID",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["SNS:Publish", "SNS:Subscribe", "SNS:GetTopicAttributes"],
                    "Resource": TOPIC_ARN,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}
                }]
            })
            .to_string(),
        ),
        kms_master_key_id: None,
        key: None,
    }
}

/// An account where cloudtrail-changes has a complete chain.
pub(crate) fn complete() -> Snapshot {
    Snapshot {
        format: SNAPSHOT_FORMAT,
        account_id: ACCOUNT.to_string(),
        partition: "aws".to_string(),
        collected_at: datetime!(2026-11-23 12:00 UTC),
        regions: vec!["us-east-1".to_string()],
        region_source: RegionSource::Configured,
        chains: ChainGraph {
            trails: vec![trail("main")],
            log_groups: vec![LogGroup {
                arn: LOG_GROUP_ARN.to_string(),
                name: "CloudTrail/main".to_string(),
                region: "us-east-1".to_string(),
                account_id: ACCOUNT.to_string(),
                metric_filters: Ok(vec![filter("cis-4-5", CIS_4_5, "CloudTrailChanges")]),
            }],
            alarm_sets: vec![AlarmSet {
                region: "us-east-1".to_string(),
                account_id: ACCOUNT.to_string(),
                alarms: Ok(vec![alarm("cis-4-5", "CloudTrailChanges")]),
                composite_alarms: vec![],
            }],
            topics: vec![Topic {
                arn: TOPIC_ARN.to_string(),
                region: "us-east-1".to_string(),
                account_id: ACCOUNT.to_string(),
                subscriptions: Ok(vec![confirmed()]),
                attributes: Ok(default_topic_attributes()),
            }],
        },
        read_errors: vec![],
        api_calls: 7,
        api_calls_by_operation: Default::default(),
        securityhub: None,
    }
}

pub(crate) fn filters(snapshot: &mut Snapshot) -> &mut Vec<MetricFilter> {
    snapshot.chains.log_groups[0]
        .metric_filters
        .as_mut()
        .unwrap()
}

pub(crate) fn alarms(snapshot: &mut Snapshot) -> &mut Vec<Alarm> {
    snapshot.chains.alarm_sets[0].alarms.as_mut().unwrap()
}

fn evaluate_one(snapshot: &Snapshot, id: &str) -> crate::model::findings::Finding {
    evaluate_under(snapshot, id, CisVersion::newest())
}

/// The one finding of control `id` decided as benchmark version `version` defines it.
fn evaluate_under(
    snapshot: &Snapshot,
    id: &str,
    version: CisVersion,
) -> crate::model::findings::Finding {
    let findings = evaluate(snapshot, &[control(id).unwrap()], version);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    findings.into_iter().next().unwrap()
}

type Mutation = fn(&mut Snapshot);

/// (case, change to the complete account, expected status, expected sentence)
const CHAIN_CASES: &[(&str, Mutation, ComplianceStatus, &str)] = &[
    (
        "complete chain",
        |_| {},
        Passed,
        "complete chain: trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5 → topic sec-alerts → subscription email:s…@example.com",
    ),
    (
        "topic with only a pending subscription",
        |s| {
            s.chains.topics[0].subscriptions = Ok(vec![Subscription {
                subscription_arn: "PendingConfirmation".into(),
                ..confirmed()
            }])
        },
        Failed,
        "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5 → topic sec-alerts: topic arn:aws:sns:us-east-1:111122223333:sec-alerts has no confirmed subscription (1 pending confirmation)",
    ),
    (
        "topic with no subscription",
        |s| s.chains.topics[0].subscriptions = Ok(vec![]),
        Failed,
        "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5 → topic sec-alerts: topic arn:aws:sns:us-east-1:111122223333:sec-alerts has no subscription",
    ),
    (
        "topic deleted",
        |s| s.chains.topics[0].subscriptions = Err(read_error("sns:ListSubscriptionsByTopic", ReadErrorKind::NotFound)),
        Failed,
        "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5: topic arn:aws:sns:us-east-1:111122223333:sec-alerts does not exist",
    ),
    (
        "subscriptions unreadable",
        |s| s.chains.topics[0].subscriptions = Err(read_error("sns:ListSubscriptionsByTopic", ReadErrorKind::AccessDenied)),
        NotAvailable,
        "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5: could not read subscriptions of topic arn:aws:sns:us-east-1:111122223333:sec-alerts (sns:ListSubscriptionsByTopic in us-east-1: AccessDeniedException: User is not authorized); the permission sns:ListSubscriptionsByTopic would allow it",
    ),
    (
        "alarm notifies SNS only on OK",
        |s| {
            let alarm = &mut alarms(s)[0];
            alarm.ok_actions = std::mem::take(&mut alarm.alarm_actions);
        },
        Failed,
        "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5: alarm cis-4-5 notifies SNS only outside the ALARM state (OK or INSUFFICIENT_DATA actions)",
    ),
    (
        "alarm without SNS action",
        |s| alarms(s)[0].alarm_actions = vec!["arn:aws:automate:us-east-1:ec2:stop".into()],
        Failed,
        "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5: alarm cis-4-5 has no SNS topic among its alarm actions",
    ),
    (
        "alarm actions disabled",
        |s| alarms(s)[0].actions_enabled = false,
        Failed,
        "trail main → log group CloudTrail/main → filter cis-4-5: alarm cis-4-5 has its actions disabled",
    ),
    (
        "alarm on the right name in the wrong namespace",
        |s| alarms(s)[0].metrics[0].namespace = "LogMetrics".into(),
        Failed,
        "trail main → log group CloudTrail/main → filter cis-4-5: no alarm watches metric CISBenchmark/CloudTrailChanges (alarm cis-4-5 watches CloudTrailChanges in namespace LogMetrics, not CISBenchmark)",
    ),
    (
        "metric-math alarm using the metric",
        |s| {
            alarms(s)[0].metrics = vec![
                AlarmMetric { metric_name: "Other".into(), namespace: "CISBenchmark".into(), dimensions: Default::default(), account_id: None },
                AlarmMetric { metric_name: "CloudTrailChanges".into(), namespace: "CISBenchmark".into(), dimensions: Default::default(), account_id: None },
            ]
        },
        Passed,
        "complete chain: trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5 → topic sec-alerts → subscription email:s…@example.com",
    ),
    (
        "filter publishes with dimensions the alarm does not name",
        |s| {
            filters(s)[0].metric_transformations[0].dimensions =
                [("EventName".to_string(), "$.eventName".to_string())].into()
        },
        Failed,
        "trail main → log group CloudTrail/main → filter cis-4-5: no alarm watches metric CISBenchmark/CloudTrailChanges (alarm cis-4-5 watches CloudTrailChanges with other dimensions)",
    ),
    (
        "alarms unreadable",
        |s| s.chains.alarm_sets[0].alarms = Err(read_error("cloudwatch:DescribeAlarms", ReadErrorKind::AccessDenied)),
        NotAvailable,
        "trail main → log group CloudTrail/main → filter cis-4-5: could not read alarms in us-east-1 (cloudwatch:DescribeAlarms in us-east-1: AccessDeniedException: User is not authorized); the permission cloudwatch:DescribeAlarms would allow it",
    ),
    (
        "no metric filter",
        |s| filters(s).clear(),
        Failed,
        "trail main → log group CloudTrail/main: log group CloudTrail/main has no metric filter",
    ),
    (
        "filters unreadable",
        |s| s.chains.log_groups[0].metric_filters = Err(read_error("logs:DescribeMetricFilters", ReadErrorKind::Throttled)),
        NotAvailable,
        "trail main → log group CloudTrail/main: could not read metric filters of log group CloudTrail/main (logs:DescribeMetricFilters in us-east-1: AccessDeniedException: User is not authorized)",
    ),
    (
        "log group does not exist",
        |s| {
            s.chains.log_groups[0].metric_filters = Err(read_error(
                "logs:DescribeMetricFilters",
                ReadErrorKind::NotFound,
            ))
        },
        Failed,
        "trail main → log group CloudTrail/main: log group arn:aws:logs:us-east-1:111122223333:log-group:CloudTrail/main:* does not exist",
    ),
    (
        "trail does not send to CloudWatch Logs",
        |s| s.chains.trails[0].log_group_arn = None,
        Failed,
        "trail main does not send its events to CloudWatch Logs",
    ),
    (
        "single-Region trail",
        |s| s.chains.trails[0].is_multi_region = false,
        Failed,
        "trail main is not multi-Region",
    ),
    (
        "trail not logging",
        |s| s.chains.trails[0].status.as_mut().unwrap().is_logging = false,
        Failed,
        "trail main is not logging",
    ),
    (
        "trail status unreadable",
        |s| s.chains.trails[0].status = Err(read_error("cloudtrail:GetTrailStatus", ReadErrorKind::AccessDenied)),
        NotAvailable,
        "could not read trail main (cloudtrail:GetTrailStatus in us-east-1: AccessDeniedException: User is not authorized); the permission cloudtrail:GetTrailStatus would allow it",
    ),
    (
        "write-only trail",
        |s| s.chains.trails[0].event_selectors.as_mut().unwrap().classic[0].read_write_type = "WriteOnly".into(),
        Failed,
        "trail main does not record read management events of cloudtrail.amazonaws.com (classic selectors: ReadWriteType WriteOnly, IncludeManagementEvents true)",
    ),
    (
        "empty account",
        |s| s.chains.trails.clear(),
        Failed,
        "the account has no CloudTrail trail",
    ),
    (
        "trails not listable anywhere",
        |s| {
            s.chains.trails.clear();
            s.read_errors.push(read_error("cloudtrail:DescribeTrails", ReadErrorKind::AccessDenied));
        },
        NotAvailable,
        "could not read the account's trails (cloudtrail:DescribeTrails in us-east-1: AccessDeniedException: User is not authorized); the permission cloudtrail:DescribeTrails would allow it",
    ),
    (
        "log group in another account not readable",
        |s| {
            s.chains.log_groups[0].metric_filters = Err(ReadError {
                kind: ReadErrorKind::OtherAccount,
                code: None,
                message: "log group belongs to account 999988887777; scan that account (organization mode) to follow it".into(),
                ..read_error("logs:DescribeMetricFilters", ReadErrorKind::OtherAccount)
            })
        },
        NotAvailable,
        "trail main → log group CloudTrail/main: could not read metric filters of log group CloudTrail/main (logs:DescribeMetricFilters in us-east-1: log group belongs to account 999988887777; scan that account (organization mode) to follow it)",
    ),
];

#[test]
fn chain_cases() {
    for (case, mutate, status, sentence) in CHAIN_CASES {
        let mut snapshot = complete();
        mutate(&mut snapshot);
        let finding = evaluate_one(&snapshot, "cloudtrail-changes");
        assert_eq!(
            (finding.status, finding.summary.as_str()),
            (*status, *sentence),
            "case: {case}"
        );
    }
}

#[test]
fn evidence_lists_the_chain_and_the_missing_link() {
    let finding = evaluate_one(&complete(), "cloudtrail-changes");
    let kinds: Vec<_> = finding
        .evidence
        .chain
        .iter()
        .map(|l| l.kind.noun())
        .collect();
    assert_eq!(
        kinds,
        [
            "trail",
            "log group",
            "filter",
            "alarm",
            "topic",
            "subscription"
        ]
    );
    assert_eq!(finding.evidence.missing, None);
    assert_eq!(finding.resource.id, format!("AWS::::Account:{ACCOUNT}"));

    let mut snapshot = complete();
    snapshot.chains.topics[0].subscriptions = Ok(vec![]);
    let finding = evaluate_one(&snapshot, "cloudtrail-changes");
    assert_eq!(finding.evidence.chain.len(), 5);
    assert_eq!(
        finding.evidence.missing,
        Some(MissingLink::NoSubscription {
            topic_arn: TOPIC_ARN.to_string()
        })
    );
}

#[test]
fn filter_that_misses_an_event_gives_a_counterexample() {
    let mut snapshot = complete();
    // StopLogging is missing from the customer's filter.
    filters(&mut snapshot)[0].pattern = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }".into();
    let finding = evaluate_one(&snapshot, "cloudtrail-changes");
    assert_eq!(finding.status, Failed);
    assert_eq!(
        finding.summary,
        "trail main → log group CloudTrail/main: filter cis-4-5 does not cover the CIS pattern: it misses events such as eventSource=cloudtrail.amazonaws.com eventName=StopLogging"
    );
    let event = finding
        .evidence
        .counterexample()
        .cloned()
        .expect("a counterexample");
    assert_eq!(event["eventName"], "StopLogging");
    let required = trailwatch_pattern::parse(CIS_4_5).unwrap();
    assert!(required.matches(&event));
}

#[test]
fn a_covering_filter_beside_a_narrow_one_passes() {
    let mut snapshot = complete();
    filters(&mut snapshot).insert(
        0,
        filter("narrow", "{ $.eventName = CreateTrail }", "Narrow"),
    );
    assert_eq!(evaluate_one(&snapshot, "cloudtrail-changes").status, Passed);
}

#[test]
fn second_trail_completes_when_the_first_does_not() {
    let mut snapshot = complete();
    let mut broken = trail("regional");
    broken.is_multi_region = false;
    snapshot.chains.trails.insert(0, broken);
    let finding = evaluate_one(&snapshot, "cloudtrail-changes");
    assert_eq!(finding.status, Passed);
    assert_eq!(finding.evidence.chain[0].name, "main");
}

#[test]
fn an_unreadable_trail_beside_a_broken_one_is_not_available() {
    let mut snapshot = complete();
    snapshot.chains.trails[0].is_multi_region = false;
    let mut other = trail("other");
    other.event_selectors = Err(read_error(
        "cloudtrail:GetEventSelectors",
        ReadErrorKind::AccessDenied,
    ));
    snapshot.chains.trails.push(other);
    assert_eq!(
        evaluate_one(&snapshot, "cloudtrail-changes").status,
        NotAvailable
    );
}

#[test]
fn every_trail_failing_at_the_first_link_is_named() {
    let mut snapshot = complete();
    snapshot.chains.trails[0].is_multi_region = false;
    let mut other = trail("other");
    other.status.as_mut().unwrap().is_logging = false;
    snapshot.chains.trails.push(other);
    assert_eq!(
        evaluate_one(&snapshot, "cloudtrail-changes").summary,
        "no trail qualifies: trail main is not multi-Region; trail other is not logging"
    );
}

#[test]
fn excluded_kms_events_break_only_the_kms_control() {
    let mut snapshot = complete();
    snapshot.chains.trails[0]
        .event_selectors
        .as_mut()
        .unwrap()
        .classic[0]
        .exclude_management_event_sources = vec!["kms.amazonaws.com".into()];
    assert_eq!(evaluate_one(&snapshot, "cloudtrail-changes").status, Passed);
    let kms = evaluate_one(&snapshot, "kms-cmk-disable-delete");
    assert_eq!(kms.status, Failed);
    assert!(
        kms.summary
            .contains("does not record write management events of kms.amazonaws.com"),
        "{}",
        kms.summary
    );
}

#[test]
fn one_filter_oring_several_controls_covers_each() {
    let mut snapshot = complete();
    filters(&mut snapshot)[0].pattern = "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) || ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }".into();
    assert_eq!(evaluate_one(&snapshot, "cloudtrail-changes").status, Passed);
    assert_eq!(evaluate_one(&snapshot, "nacl-changes").status, Passed);
    assert_eq!(evaluate_one(&snapshot, "config-changes").status, Failed);
}

// CIS 3.4: delivery to CloudWatch Logs within 24 hours.

#[test]
fn delivery_cases() {
    type Case = (&'static str, Mutation, ComplianceStatus, &'static str);
    let cases: &[Case] = &[
        (
            "recent delivery",
            |_| {},
            Passed,
            "trail main → log group CloudTrail/main: last delivered 2026-11-23T11:00:00Z",
        ),
        (
            "stale delivery",
            |s| {
                s.chains.trails[0]
                    .status
                    .as_mut()
                    .unwrap()
                    .latest_cloudwatch_logs_delivery_time = Some(datetime!(2026-11-21 09:00 UTC))
            },
            Failed,
            "trail main → log group CloudTrail/main: last delivered 2026-11-21T09:00:00Z, 51 hours before the scan (more than 24)",
        ),
        (
            "no delivery, with an error",
            |s| {
                let status = s.chains.trails[0].status.as_mut().unwrap();
                status.latest_cloudwatch_logs_delivery_time = None;
                status.latest_cloudwatch_logs_delivery_error = Some("AccessDenied".into());
            },
            Failed,
            "trail main → log group CloudTrail/main: no delivery to CloudWatch Logs recorded; last delivery error: AccessDenied",
        ),
        (
            "no log group",
            |s| s.chains.trails[0].log_group_arn = None,
            Failed,
            "trail main does not send its events to CloudWatch Logs",
        ),
        (
            "status unreadable",
            |s| {
                s.chains.trails[0].status = Err(read_error(
                    "cloudtrail:GetTrailStatus",
                    ReadErrorKind::AccessDenied,
                ))
            },
            NotAvailable,
            "could not read the status of trail main (cloudtrail:GetTrailStatus in us-east-1: AccessDeniedException: User is not authorized); the permission cloudtrail:GetTrailStatus would allow it",
        ),
        (
            "no trail",
            |s| s.chains.trails.clear(),
            Failed,
            "the account has no CloudTrail trail",
        ),
    ];
    for (case, mutate, status, sentence) in cases {
        let mut snapshot = complete();
        mutate(&mut snapshot);
        let finding = evaluate_one(&snapshot, "trail-cw-logs");
        assert_eq!(
            (finding.status, finding.summary.as_str()),
            (*status, *sentence),
            "case: {case}"
        );
    }
}

#[test]
fn delivery_gives_one_finding_per_trail() {
    let mut snapshot = complete();
    let mut second = trail("second");
    second.log_group_arn = None;
    snapshot.chains.trails.push(second);
    let findings = evaluate(
        &snapshot,
        &[control("trail-cw-logs").unwrap()],
        CisVersion::newest(),
    );
    let verdicts: Vec<_> = findings
        .iter()
        .map(|f| (f.resource.name.as_str(), f.status))
        .collect();
    assert_eq!(verdicts, [("main", Passed), ("second", Failed)]);
    assert_ne!(findings[0].key(), findings[1].key());
}

#[test]
fn an_organization_trail_of_another_account_gets_no_delivery_finding_here() {
    let mut snapshot = complete();
    let mut organization = trail("org");
    organization.arn = format!("arn:aws:cloudtrail:us-east-1:{OTHER_ACCOUNT}:trail/org");
    organization.is_organization_trail = true;
    snapshot.chains.trails.push(organization);
    let findings = evaluate(
        &snapshot,
        &[control("trail-cw-logs").unwrap()],
        CisVersion::newest(),
    );
    let names: Vec<_> = findings.iter().map(|f| f.resource.name.as_str()).collect();
    assert_eq!(names, ["main"]);
    // Its only trail being another account's, the account has no finding of its own, and no
    // false "no trail".
    snapshot.chains.trails.remove(0);
    assert_eq!(
        evaluate(
            &snapshot,
            &[control("trail-cw-logs").unwrap()],
            CisVersion::newest()
        ),
        []
    );
}

#[test]
fn unlisted_region_adds_an_account_level_not_available() {
    let mut snapshot = complete();
    snapshot.regions.push("eu-west-1".into());
    snapshot.read_errors.push(ReadError {
        region: "eu-west-1".into(),
        ..read_error("cloudtrail:DescribeTrails", ReadErrorKind::AccessDenied)
    });
    let findings = evaluate(
        &snapshot,
        &[control("trail-cw-logs").unwrap()],
        CisVersion::newest(),
    );
    assert_eq!(findings.len(), 2);
    assert_eq!(findings[1].status, NotAvailable);
    assert_eq!(findings[1].resource.id, format!("AWS::::Account:{ACCOUNT}"));
}

#[test]
fn snapshot_round_trips_through_json() {
    let mut snapshot = complete();
    snapshot.chains.topics[0].subscriptions = Err(read_error(
        "sns:ListSubscriptionsByTopic",
        ReadErrorKind::Throttled,
    ));
    let text = serde_json::to_string_pretty(&snapshot).unwrap();
    let back: Snapshot = serde_json::from_str(&text).unwrap();
    assert_eq!(back, snapshot);
    assert_eq!(
        evaluate(
            &back,
            &[control("cloudtrail-changes").unwrap()],
            CisVersion::newest()
        ),
        evaluate(
            &snapshot,
            &[control("cloudtrail-changes").unwrap()],
            CisVersion::newest()
        )
    );
}

#[test]
fn the_near_miss_shown_is_the_filter_meant_for_the_control() {
    let mut snapshot = complete();
    let kms = "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) && ($.eventName = ScheduleKeyDeletion)) }";
    filters(&mut snapshot).push(filter("kms-key-changes", kms, "KmsChanges"));
    let finding = evaluate_one(&snapshot, "kms-cmk-disable-delete");
    assert_eq!(finding.status, Failed);
    assert!(
        finding.summary.starts_with(
            "trail main → log group CloudTrail/main: filter kms-key-changes does not cover the CIS pattern (nor does the other filter)"
        ),
        "{}",
        finding.summary
    );
}

#[test]
fn a_narrowing_clause_is_named_in_the_sentence() {
    let mut snapshot = complete();
    filters(&mut snapshot)[0].pattern = format!(
        "{{ ({}) && $.userIdentity.type = \"Root\" }}",
        CIS_4_5.trim_start_matches('{').trim_end_matches('}')
    );
    let finding = evaluate_one(&snapshot, "cloudtrail-changes");
    assert_eq!(finding.status, Failed);
    let event = finding.evidence.counterexample().cloned().unwrap();
    let customer = trailwatch_pattern::parse(&filters(&mut snapshot)[0].pattern).unwrap();
    assert!(!customer.matches(&event));
    // A real record: userIdentity stays an object, with another type than Root.
    let identity = event["userIdentity"]["type"].as_str().expect("{event}");
    assert_ne!(identity, "Root");
    assert!(
        finding
            .summary
            .contains(&format!("userIdentity.type={identity}")),
        "{}",
        finding.summary
    );
}

#[test]
fn a_filter_scoped_to_the_emitting_service_covers() {
    let mut snapshot = complete();
    filters(&mut snapshot)[0].pattern = "{ ($.eventSource = cloudtrail.amazonaws.com) && (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging)) }".into();
    assert_eq!(evaluate_one(&snapshot, "cloudtrail-changes").status, Passed);
    // Every such record is a write API call: requiring that loses nothing either.
    filters(&mut snapshot)[0].pattern = "{ $.eventType = \"AwsApiCall\" && $.readOnly = false && $.managementEvent IS TRUE && (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging)) }".into();
    assert_eq!(evaluate_one(&snapshot, "cloudtrail-changes").status, Passed);
    // Reads only: none of these events.
    filters(&mut snapshot)[0].pattern = "{ $.readOnly IS TRUE && (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging)) }".into();
    assert_eq!(evaluate_one(&snapshot, "cloudtrail-changes").status, Failed);
    // Scoped to a service that never emits these events, it covers nothing CIS asks for.
    filters(&mut snapshot)[0].pattern = "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging)) }".into();
    assert_eq!(evaluate_one(&snapshot, "cloudtrail-changes").status, Failed);
}

#[test]
fn every_monitoring_control_passes_with_its_own_cis_pattern_and_fails_without_it() {
    for control in catalog() {
        let Some(pattern) = control.required_pattern() else {
            continue;
        };
        let mut snapshot = complete();
        filters(&mut snapshot)[0].pattern = pattern.to_string();
        let finding = evaluate_one(&snapshot, control.id);
        assert_eq!(
            finding.status, Passed,
            "{}: {}",
            control.id, finding.summary
        );

        // A filter on something else entirely covers none of them.
        filters(&mut snapshot)[0].pattern = "{ $.eventName = \"GetObject\" }".to_string();
        let finding = evaluate_one(&snapshot, control.id);
        assert_eq!(
            finding.status, Failed,
            "{}: {}",
            control.id, finding.summary
        );
        assert!(
            finding.evidence.counterexample().is_some(),
            "{}",
            control.id
        );
    }
}

// Dimension values, recipient accounts, undecided filters, alarm actions, composite alarms.

const OTHER_ACCOUNT: &str = "444455556666";

/// The complete account, its filter publishing `dimension` → `field` and its alarm pinning
/// `dimension` = `value`.
fn pinned(field: &str, value: &str) -> Snapshot {
    let mut snapshot = complete();
    filters(&mut snapshot)[0].metric_transformations[0].dimensions =
        [("Dim".to_string(), field.to_string())].into();
    alarms(&mut snapshot)[0].metrics[0].dimensions =
        [("Dim".to_string(), value.to_string())].into();
    snapshot
}

#[test]
fn an_alarm_pinned_to_one_principal_watches_only_its_records() {
    let finding = evaluate_one(
        &pinned("$.userIdentity.arn", "arn:aws:iam::111122223333:root"),
        "cloudtrail-changes",
    );
    assert_eq!(finding.status, Failed, "{}", finding.summary);
    assert!(
        finding.summary.starts_with(
            "trail main → log group CloudTrail/main → filter cis-4-5: alarm cis-4-5 reads only the records with $.userIdentity.arn=arn:aws:iam::111122223333:root, which misses events such as "
        ),
        "{}",
        finding.summary
    );
    let event = finding
        .evidence
        .counterexample()
        .cloned()
        .expect("a missed record");
    assert_ne!(
        event["userIdentity"]["arn"],
        "arn:aws:iam::111122223333:root"
    );
}

#[test]
fn a_pin_on_the_recipient_account_narrows_nothing_for_that_account() {
    let own = evaluate_one(
        &pinned("$.recipientAccountId", ACCOUNT),
        "cloudtrail-changes",
    );
    assert_eq!(own.status, Passed, "{}", own.summary);
    let other = evaluate_one(
        &pinned("$.recipientAccountId", OTHER_ACCOUNT),
        "cloudtrail-changes",
    );
    assert_eq!(other.status, Failed, "{}", other.summary);
    let event = other
        .evidence
        .counterexample()
        .cloned()
        .expect("a missed record");
    assert_eq!(event["recipientAccountId"], ACCOUNT);
}

#[test]
fn a_filter_narrowed_to_the_recipient_account_covers_that_account_only() {
    let narrowed = |account: &str| {
        let mut snapshot = complete();
        filters(&mut snapshot)[0].pattern = format!(
            "{{ ({}) && $.recipientAccountId = \"{account}\" }}",
            CIS_4_5.trim_start_matches('{').trim_end_matches('}')
        );
        evaluate_one(&snapshot, "cloudtrail-changes")
    };
    assert_eq!(narrowed(ACCOUNT).status, Passed);
    let other = narrowed(OTHER_ACCOUNT);
    assert_eq!(other.status, Failed);
    assert!(
        other.summary.contains("recipientAccountId=111122223333"),
        "{}",
        other.summary
    );
}

/// A filter on CIS 4.1 whose coverage the engine cannot decide: a regex against the benchmark's
/// open-ended wildcard values.
const UNDECIDABLE_4_1: &str =
    "{ ($.errorCode = %Unauthorized%) || ($.errorCode = %^AccessDenied%) }";

#[test]
fn an_undecidable_filter_with_a_complete_chain_is_a_warning_beside_a_narrow_filter() {
    let mut snapshot = complete();
    filters(&mut snapshot)[0].pattern = UNDECIDABLE_4_1.to_string();
    filters(&mut snapshot).push(filter(
        "narrow",
        "{ $.errorCode = \"AccessDenied\" }",
        "Narrow",
    ));
    let finding = evaluate_one(&snapshot, "unauthorized-api-calls");
    assert_eq!(finding.status, Warning, "{}", finding.summary);
    assert!(
        finding.summary.starts_with(
            "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5 → topic sec-alerts → subscription email:s…@example.com: could not decide whether filter cis-4-5 covers the CIS pattern: "
        ),
        "{}",
        finding.summary
    );
}

#[test]
fn an_undecidable_filter_without_an_alarm_fails_on_the_missing_alarm() {
    let mut snapshot = complete();
    filters(&mut snapshot)[0].pattern = UNDECIDABLE_4_1.to_string();
    alarms(&mut snapshot).clear();
    let finding = evaluate_one(&snapshot, "unauthorized-api-calls");
    assert_eq!(
        (finding.status, finding.summary.as_str()),
        (
            Failed,
            "trail main → log group CloudTrail/main → filter cis-4-5: no alarm watches metric CISBenchmark/CloudTrailChanges"
        )
    );
}

#[test]
fn the_best_status_wins_across_trails_warning_over_not_available() {
    let mut snapshot = complete();
    filters(&mut snapshot)[0].pattern = UNDECIDABLE_4_1.to_string();
    let mut unreadable = trail("unreadable");
    unreadable.status = Err(read_error(
        "cloudtrail:GetTrailStatus",
        ReadErrorKind::AccessDenied,
    ));
    snapshot.chains.trails.insert(0, unreadable);
    assert_eq!(
        evaluate_one(&snapshot, "unauthorized-api-calls").status,
        Warning
    );
}

#[test]
fn an_alarm_notifying_a_topic_in_another_region_does_not_notify() {
    let mut snapshot = complete();
    let far = "arn:aws:sns:eu-west-1:111122223333:sec-alerts";
    alarms(&mut snapshot)[0].alarm_actions = vec![far.to_string()];
    snapshot.chains.topics[0].arn = far.to_string();
    snapshot.chains.topics[0].region = "eu-west-1".to_string();
    let finding = evaluate_one(&snapshot, "cloudtrail-changes");
    assert_eq!(
        (finding.status, finding.summary.as_str()),
        (
            Failed,
            "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5: alarm cis-4-5 notifies only SNS topics outside its region us-east-1 (arn:aws:sns:eu-west-1:111122223333:sec-alerts): CloudWatch notifies topics in the alarm's own region only"
        )
    );
    // Nor does a topic of another partition.
    alarms(&mut snapshot)[0].alarm_actions = vec![TOPIC_ARN.replace("arn:aws:", "arn:aws-cn:")];
    assert_eq!(evaluate_one(&snapshot, "cloudtrail-changes").status, Failed);
}

#[test]
fn unconfirmed_subscriptions_are_counted_by_what_they_are() {
    let mut snapshot = complete();
    let with = |arn: &str| Subscription {
        subscription_arn: arn.to_string(),
        ..confirmed()
    };
    snapshot.chains.topics[0].subscriptions = Ok(vec![
        with("PendingConfirmation"),
        with("Deleted"),
        with("PendingConfirmation"),
    ]);
    let finding = evaluate_one(&snapshot, "cloudtrail-changes");
    assert!(
        finding
            .summary
            .ends_with("has no confirmed subscription (2 pending confirmation, 1 deleted)"),
        "{}",
        finding.summary
    );
}

fn composite(name: &str, rule: &str) -> CompositeAlarm {
    CompositeAlarm {
        arn: format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}"),
        name: name.to_string(),
        actions_enabled: true,
        alarm_actions: vec![TOPIC_ARN.to_string()],
        rule: rule.to_string(),
        actions_suppressor: None,
    }
}

/// The complete account whose metric alarm has no actions of its own, with `composites`.
fn through_composites(composites: Vec<CompositeAlarm>) -> Snapshot {
    let mut snapshot = complete();
    alarms(&mut snapshot)[0].alarm_actions.clear();
    alarms(&mut snapshot)[0].actions_enabled = false;
    snapshot.chains.alarm_sets[0].composite_alarms = composites;
    snapshot
}

#[test]
fn composite_alarm_cases() {
    let complete_through = |links: &str| {
        format!("complete chain: trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5 → {links} → topic sec-alerts → subscription email:s…@example.com")
    };
    let cases: Vec<(&str, Vec<CompositeAlarm>, ComplianceStatus, String)> = vec![
        (
            "any of several alarms",
            vec![composite("any", "ALARM(cis-4-5) OR ALARM(\"other\")")],
            Passed,
            complete_through("composite alarm any"),
        ),
        (
            "named by ARN",
            vec![composite(
                "by-arn",
                "ALARM(arn:aws:cloudwatch:us-east-1:111122223333:alarm:cis-4-5)",
            )],
            Passed,
            complete_through("composite alarm by-arn"),
        ),
        (
            "nested",
            vec![
                composite("outer", "ALARM(inner)"),
                CompositeAlarm {
                    alarm_actions: vec![],
                    ..composite("inner", "ALARM(cis-4-5)")
                },
            ],
            Passed,
            complete_through("composite alarm inner → composite alarm outer"),
        ),
        (
            "only together with another alarm",
            vec![composite("both", "ALARM(cis-4-5) AND ALARM(other)")],
            Failed,
            "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5: composite alarm both does not go into ALARM whenever alarm cis-4-5 does (rule ALARM(cis-4-5) AND ALARM(other))".to_string(),
        ),
        (
            "composite actions disabled",
            vec![CompositeAlarm {
                actions_enabled: false,
                ..composite("off", "ALARM(cis-4-5)")
            }],
            Failed,
            "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5 → composite alarm off: composite alarm off has its actions disabled".to_string(),
        ),
        (
            "rule that does not parse",
            vec![composite("odd", "ALARM(cis-4-5) XOR ALARM(x)")],
            Warning,
            complete_through("composite alarm odd").replace("complete chain: ", "")
                + ": could not read the rule of composite alarm odd (expected AND, OR or the end of the rule at byte 15)",
        ),
    ];
    for (case, composites, status, sentence) in cases {
        let finding = evaluate_one(&through_composites(composites), "cloudtrail-changes");
        assert_eq!(
            (finding.status, finding.summary.as_str()),
            (status, sentence.as_str()),
            "case: {case}"
        );
    }
    // Without any composite alarm, the metric alarm's disabled actions break the chain.
    let finding = evaluate_one(&through_composites(vec![]), "cloudtrail-changes");
    assert_eq!(
        finding.summary,
        "trail main → log group CloudTrail/main → filter cis-4-5: alarm cis-4-5 has its actions disabled"
    );
}

// Emitting services: the records a CIS pattern is about come from every service that writes
// them, not only the one the control is about.

/// `{ (<CIS pattern>) && <clause> }`.
fn narrowed(pattern: &str, clause: &str) -> String {
    let inner = pattern.trim().trim_start_matches('{').trim_end_matches('}');
    format!("{{ ({inner}) && {clause} }}")
}

fn version(text: &str) -> CisVersion {
    CisVersion::parse(text).unwrap()
}

/// The finding of control `id` when the account's only filter has `pattern`.
fn with_filter(id: &str, pattern: &str, under: CisVersion) -> crate::model::findings::Finding {
    let mut snapshot = complete();
    filters(&mut snapshot)[0].pattern = pattern.to_string();
    evaluate_under(&snapshot, id, under)
}

#[test]
fn narrowing_iam_policy_changes_to_iam_misses_the_other_services_that_write_the_names() {
    let cis = control("iam-policy-changes")
        .unwrap()
        .required_pattern()
        .unwrap();
    assert_eq!(
        with_filter("iam-policy-changes", cis, CisVersion::newest()).status,
        Passed
    );
    let finding = with_filter(
        "iam-policy-changes",
        &narrowed(cis, "$.eventSource = iam.amazonaws.com"),
        CisVersion::newest(),
    );
    assert_eq!(finding.status, Failed, "{}", finding.summary);
    let event = finding
        .evidence
        .counterexample()
        .cloned()
        .expect("a counterexample");
    assert_eq!(event["eventName"], "CreatePolicy", "{event}");
    assert_eq!(event["eventSource"], "iot.amazonaws.com", "{event}");
    assert!(
        finding.summary.ends_with(
            "it misses events such as eventSource=iot.amazonaws.com eventName=CreatePolicy"
        ),
        "{}",
        finding.summary
    );
    // Naming every service that writes those names covers again.
    let every_writer = "($.eventSource = iam.amazonaws.com || $.eventSource = iot.amazonaws.com || $.eventSource = organizations.amazonaws.com || $.eventSource = verifiedpermissions.amazonaws.com || $.eventSource = bedrock-agentcore.amazonaws.com || $.eventSource = resiliencehub.amazonaws.com || $.eventSource = autoscaling.amazonaws.com || $.eventSource = acm-pca.amazonaws.com || $.eventSource = fms.amazonaws.com || $.eventSource = mediaconvert.amazonaws.com)";
    let finding = with_filter(
        "iam-policy-changes",
        &narrowed(cis, every_writer),
        CisVersion::newest(),
    );
    assert_eq!(finding.status, Passed, "{}", finding.summary);
}

#[test]
fn narrowing_route_table_changes_to_ec2_misses_api_gateway_and_app_mesh_routes() {
    let cis = control("route-table-changes")
        .unwrap()
        .required_pattern()
        .unwrap();
    assert_eq!(
        with_filter("route-table-changes", cis, CisVersion::newest()).status,
        Passed
    );
    let finding = with_filter(
        "route-table-changes",
        &narrowed(cis, "$.eventSource = ec2.amazonaws.com"),
        CisVersion::newest(),
    );
    assert_eq!(finding.status, Failed, "{}", finding.summary);
    let event = finding
        .evidence
        .counterexample()
        .cloned()
        .expect("a counterexample");
    assert!(
        matches!(
            event["eventName"].as_str(),
            Some("CreateRoute" | "DeleteRoute")
        ),
        "{event}"
    );
    assert_ne!(event["eventSource"], "ec2.amazonaws.com", "{event}");
    // Names only EC2 writes can be narrowed to EC2: NACL changes.
    let nacl = control("nacl-changes").unwrap().required_pattern().unwrap();
    let finding = with_filter(
        "nacl-changes",
        &narrowed(nacl, "$.eventSource = ec2.amazonaws.com"),
        CisVersion::newest(),
    );
    assert_eq!(finding.status, Passed, "{}", finding.summary);
}

#[test]
fn a_trail_that_excludes_iot_events_still_feeds_iam_policy_changes() {
    let mut snapshot = complete();
    snapshot.chains.trails[0]
        .event_selectors
        .as_mut()
        .unwrap()
        .classic[0]
        .exclude_management_event_sources = vec![
        "iot.amazonaws.com".into(),
        "organizations.amazonaws.com".into(),
    ];
    filters(&mut snapshot)[0].pattern = control("iam-policy-changes")
        .unwrap()
        .required_pattern()
        .unwrap()
        .to_string();
    let finding = evaluate_one(&snapshot, "iam-policy-changes");
    assert_eq!(finding.status, Passed, "{}", finding.summary);
    // Excluding IAM itself breaks it.
    snapshot.chains.trails[0]
        .event_selectors
        .as_mut()
        .unwrap()
        .classic[0]
        .exclude_management_event_sources = vec!["iam.amazonaws.com".into()];
    let finding = evaluate_one(&snapshot, "iam-policy-changes");
    assert_eq!(finding.status, Failed);
    assert!(
        finding
            .summary
            .contains("does not record write management events of iam.amazonaws.com"),
        "{}",
        finding.summary
    );
}

// Benchmark versions: the chosen version's pattern is the one required.

#[test]
fn security_group_changes_require_modify_security_group_rules_from_v5() {
    let v4 = control("security-group-changes")
        .unwrap()
        .monitoring(version("4.0.1"))
        .unwrap()
        .pattern;
    assert_eq!(
        with_filter("security-group-changes", v4, version("4.0.1")).status,
        Passed
    );
    let finding = with_filter("security-group-changes", v4, version("5.0.0"));
    assert_eq!(finding.status, Failed, "{}", finding.summary);
    assert_eq!(
        finding.evidence.counterexample().cloned().unwrap()["eventName"],
        "ModifySecurityGroupRules"
    );
}

#[test]
fn unauthorized_api_calls_follow_the_version_s_text() {
    let unauthorized = control("unauthorized-api-calls").unwrap();
    let text = |v: &str| unauthorized.monitoring(version(v)).unwrap().pattern;
    // The v2.0.0+ `&&` form misses AccessDenied from delivery.logs, which v1.2.0 requires.
    assert_eq!(
        with_filter("unauthorized-api-calls", text("7.0.0"), version("7.0.0")).status,
        Passed
    );
    let finding = with_filter("unauthorized-api-calls", text("7.0.0"), version("1.2.0"));
    assert_eq!(finding.status, Failed, "{}", finding.summary);
    let event = finding.evidence.counterexample().cloned().unwrap();
    assert!(
        event["errorCode"]
            .as_str()
            .unwrap()
            .starts_with("AccessDenied"),
        "{event}"
    );
    // v1.2.0's pattern is broader than v2.0.0's: it covers it.
    assert_eq!(
        with_filter("unauthorized-api-calls", text("1.2.0"), version("7.0.0")).status,
        Passed
    );
    // v1.3.0–v1.5.0's all-`||` text asks for nearly every record.
    let finding = with_filter("unauthorized-api-calls", text("1.2.0"), version("1.4.0"));
    assert_eq!(finding.status, Failed, "{}", finding.summary);
}

// CIS 4.16 / 5.16: Security Hub enabled in every region scanned.

fn hub(region: &str, hub: Result<Hub, ReadError>) -> SecurityHubRegion {
    SecurityHubRegion {
        region: region.to_string(),
        hub,
    }
}

fn enabled(region: &str) -> SecurityHubRegion {
    hub(
        region,
        Ok(Hub::Enabled {
            hub_arn: format!("arn:aws:securityhub:{region}:{ACCOUNT}:hub/default"),
        }),
    )
}

fn not_subscribed(region: &str) -> SecurityHubRegion {
    hub(
        region,
        Ok(Hub::NotEnabled {
            code: "InvalidAccessException".to_string(),
            message: format!("Account {ACCOUNT} is not subscribed to AWS Security Hub"),
        }),
    )
}

#[test]
fn securityhub_enabled_cases() {
    type Case = (
        &'static str,
        Option<Vec<SecurityHubRegion>>,
        ComplianceStatus,
        &'static str,
    );
    let denied = ReadError {
        region: "eu-west-1".into(),
        code: Some("AccessDeniedException".into()),
        message: "User is not authorized to perform: securityhub:DescribeHub".into(),
        ..read_error("securityhub:DescribeHub", ReadErrorKind::AccessDenied)
    };
    let cases: Vec<Case> = vec![
        (
            "enabled in both regions",
            Some(vec![enabled("us-east-1"), enabled("eu-west-1")]),
            Passed,
            "Security Hub is enabled in every region scanned: us-east-1, eu-west-1",
        ),
        (
            "not subscribed in one region",
            Some(vec![enabled("us-east-1"), not_subscribed("eu-west-1")]),
            Failed,
            "Security Hub is not enabled in eu-west-1 (InvalidAccessException: Account 111122223333 is not subscribed to AWS Security Hub)",
        ),
        (
            "no hub resource",
            Some(vec![
                hub(
                    "us-east-1",
                    Ok(Hub::NotEnabled {
                        code: "ResourceNotFoundException".into(),
                        message: "no hub".into(),
                    }),
                ),
                enabled("eu-west-1"),
            ]),
            Failed,
            "Security Hub is not enabled in us-east-1 (ResourceNotFoundException: no hub)",
        ),
        (
            "denied in one region",
            Some(vec![enabled("us-east-1"), hub("eu-west-1", Err(denied.clone()))]),
            NotAvailable,
            "could not read Security Hub in eu-west-1 (securityhub:DescribeHub: AccessDeniedException: User is not authorized to perform: securityhub:DescribeHub)",
        ),
        (
            "not enabled in one region, denied in the other: a true FAILED",
            Some(vec![not_subscribed("us-east-1"), hub("eu-west-1", Err(denied))]),
            Failed,
            "Security Hub is not enabled in us-east-1 (InvalidAccessException: Account 111122223333 is not subscribed to AWS Security Hub); could not read eu-west-1 (securityhub:DescribeHub: AccessDeniedException: User is not authorized to perform: securityhub:DescribeHub)",
        ),
        (
            "a scanned region missing from what was read",
            Some(vec![enabled("us-east-1")]),
            NotAvailable,
            "could not read Security Hub in eu-west-1 (not read by this scan)",
        ),
        (
            "not read at all",
            None,
            NotAvailable,
            "Security Hub was not read by this scan (securityhub:DescribeHub)",
        ),
    ];
    for (case, hubs, status, sentence) in cases {
        let mut snapshot = complete();
        snapshot.regions = vec!["us-east-1".into(), "eu-west-1".into()];
        snapshot.securityhub = hubs;
        let finding = evaluate_one(&snapshot, "securityhub-enabled");
        assert_eq!(
            (finding.status, finding.summary.as_str()),
            (status, sentence),
            "case: {case}"
        );
        assert_eq!(finding.resource.id, format!("AWS::::Account:{ACCOUNT}"));
        assert_eq!(finding.evidence.missing.is_some(), status != Passed);
    }
}

#[test]
fn securityhub_status_round_trips_through_the_snapshot_json() {
    let mut snapshot = complete();
    snapshot.securityhub = Some(vec![enabled("us-east-1"), not_subscribed("eu-west-1")]);
    let text = serde_json::to_string(&snapshot).unwrap();
    assert!(text.contains("\"not_enabled\""), "{text}");
    assert_eq!(serde_json::from_str::<Snapshot>(&text).unwrap(), snapshot);
    // Snapshots saved before the field existed still load, as "not read".
    let mut old: serde_json::Value = serde_json::from_str(&text).unwrap();
    old.as_object_mut().unwrap().remove("securityhub");
    let old: Snapshot = serde_json::from_value(old).unwrap();
    assert_eq!(old.securityhub, None);
}

// --- Would the notification reach somebody? ---------------------------------------------------

pub(crate) const KEY_ARN: &str =
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

pub(crate) fn topic_attributes(snapshot: &mut Snapshot) -> &mut TopicAttributes {
    snapshot.chains.topics[0].attributes.as_mut().unwrap()
}

pub(crate) fn encrypted_with(
    key_manager: &str,
    key_state: &str,
    policy: serde_json::Value,
) -> TopicAttributes {
    TopicAttributes {
        kms_master_key_id: Some(KEY_ARN.to_string()),
        key: Some(Ok(EncryptionKey {
            arn: KEY_ARN.to_string(),
            key_manager: key_manager.to_string(),
            key_state: key_state.to_string(),
            policy: Some(Ok(policy.to_string())),
        })),
        ..default_topic_attributes()
    }
}

/// The key policy statement the SNS guide gives for AWS services publishing to an encrypted
/// topic (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
fn key_policy_for_cloudwatch() -> serde_json::Value {
    serde_json::json!({"Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*"
    }]})
}

/// The default key policy: only the account's IAM policies may grant use of the key
/// (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
pub(crate) fn default_key_policy() -> serde_json::Value {
    serde_json::json!({"Statement": [{
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
        "Action": "kms:*",
        "Resource": "*"
    }]})
}

fn filtered(policy: &str, scope: Option<&str>) -> impl Fn(&mut Snapshot) {
    let (policy, scope) = (policy.to_string(), scope.map(str::to_string));
    move |s: &mut Snapshot| {
        let subscriptions = s.chains.topics[0].subscriptions.as_mut().unwrap();
        subscriptions[0].filter = Some(Ok(SubscriptionFilter {
            policy: Some(policy.clone()),
            scope: scope.clone(),
        }));
    }
}

#[test]
fn a_topic_cloudwatch_cannot_publish_to_or_a_filter_that_drops_the_notification_breaks_the_chain() {
    let up_to_topic = "trail main → log group CloudTrail/main → filter cis-4-5 → alarm cis-4-5 → topic sec-alerts";
    type Mutation = Box<dyn Fn(&mut Snapshot)>;
    let cases: Vec<(&str, Mutation, ComplianceStatus, String)> = vec![
        (
            "the AWS managed key (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns)",
            Box::new(|s: &mut Snapshot| {
                topic_attributes(s).kms_master_key_id = Some("alias/aws/sns".to_string())
            }),
            ComplianceStatus::Failed,
            format!("{up_to_topic}: topic {TOPIC_ARN} is encrypted with alias/aws/sns, the AWS managed key of SNS, which CloudWatch cannot use"),
        ),
        (
            "the AWS managed key named by its ARN",
            Box::new(|s: &mut Snapshot| {
                *topic_attributes(s) = encrypted_with("AWS", "Enabled", default_key_policy())
            }),
            ComplianceStatus::Failed,
            format!("{up_to_topic}: topic {TOPIC_ARN} is encrypted with {KEY_ARN}, the AWS managed key of SNS, which CloudWatch cannot use"),
        ),
        (
            "a disabled customer managed key (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html)",
            Box::new(|s: &mut Snapshot| {
                *topic_attributes(s) =
                    encrypted_with("CUSTOMER", "Disabled", key_policy_for_cloudwatch())
            }),
            ComplianceStatus::Failed,
            format!("{up_to_topic}: topic {TOPIC_ARN} is encrypted with key {KEY_ARN}, which is Disabled: publishing to it fails"),
        ),
        (
            "a key policy that lets only the account's IAM policies grant use",
            Box::new(|s: &mut Snapshot| {
                *topic_attributes(s) = encrypted_with("CUSTOMER", "Enabled", default_key_policy())
            }),
            ComplianceStatus::Failed,
            format!("{up_to_topic}: topic {TOPIC_ARN} is encrypted with key {KEY_ARN}, whose key policy does not let cloudwatch.amazonaws.com use kms:Decrypt (no statement allows it)"),
        ),
        (
            "a key policy that lets CloudWatch use the key",
            Box::new(|s: &mut Snapshot| {
                *topic_attributes(s) =
                    encrypted_with("CUSTOMER", "Enabled", key_policy_for_cloudwatch())
            }),
            ComplianceStatus::Passed,
            format!("complete chain: {up_to_topic} → subscription email:s…@example.com"),
        ),
        (
            "a topic policy that lets only another account publish",
            Box::new(|s: &mut Snapshot| {
                topic_attributes(s).policy = Some(serde_json::json!({"Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "SNS:Publish",
                    "Resource": TOPIC_ARN,
                    "Condition": {"StringEquals": {"AWS:SourceOwner": "444455556666"}}
                }]}).to_string())
            }),
            ComplianceStatus::Failed,
            format!("{up_to_topic}: the access policy of topic {TOPIC_ARN} does not let CloudWatch publish for alarm arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:cis-4-5 (no statement allows it)"),
        ),
        (
            "an explicit deny of publishing",
            Box::new(|s: &mut Snapshot| {
                topic_attributes(s).policy = Some(serde_json::json!({"Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "sns:*", "Resource": TOPIC_ARN},
                    {"Sid": "NoPublish", "Effect": "Deny", "Principal": "*", "Action": "SNS:Publish", "Resource": "*"}
                ]}).to_string())
            }),
            ComplianceStatus::Failed,
            format!("{up_to_topic}: the access policy of topic {TOPIC_ARN} does not let CloudWatch publish for alarm arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:cis-4-5 (statement NoPublish denies it)"),
        ),
        (
            "the CloudWatch guide's own topic policy (Notify_Users_Alarm_Changes.html)",
            Box::new(|s: &mut Snapshot| {
                topic_attributes(s).policy = Some(serde_json::json!({"Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "SNS:Publish",
                    "Resource": TOPIC_ARN,
                    "Condition": {
                        "ArnLike": {"aws:SourceArn": format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*")},
                        "StringEquals": {"aws:SourceAccount": ACCOUNT}
                    }
                }]}).to_string())
            }),
            ComplianceStatus::Passed,
            format!("complete chain: {up_to_topic} → subscription email:s…@example.com"),
        ),
        (
            "an attribute filter: alarm notifications carry no message attributes",
            Box::new(filtered(r#"{"severity": ["high"]}"#, None)),
            ComplianceStatus::Failed,
            format!("{up_to_topic}: the only confirmed subscription of topic {TOPIC_ARN}, email:s…@example.com, filters the alarm's notification out: its filter policy's severity does not match it"),
        ),
        (
            "a body filter on the new state",
            Box::new(filtered(r#"{"NewStateValue": ["ALARM"]}"#, Some("MessageBody"))),
            ComplianceStatus::Passed,
            format!("complete chain: {up_to_topic} → subscription email:s…@example.com"),
        ),
        (
            "a body filter on another alarm's name",
            Box::new(filtered(r#"{"AlarmName": [{"prefix": "billing-"}]}"#, Some("MessageBody"))),
            ComplianceStatus::Failed,
            format!("{up_to_topic}: the only confirmed subscription of topic {TOPIC_ARN}, email:s…@example.com, filters the alarm's notification out: its filter policy's AlarmName does not match it"),
        ),
        (
            "a body filter on an undocumented value",
            Box::new(filtered(r#"{"Region": ["US East (N. Virginia)"]}"#, Some("MessageBody"))),
            ComplianceStatus::Warning,
            format!("{up_to_topic} → subscription email:s…@example.com: could not decide whether subscription email:s…@example.com receives the alarm's notification (key Region): the notification's value of Region is not documented"),
        ),
        (
            "topic attributes denied: NOT_AVAILABLE naming the permission",
            Box::new(|s: &mut Snapshot| {
                s.chains.topics[0].attributes =
                    Err(read_error("sns:GetTopicAttributes", ReadErrorKind::AccessDenied))
            }),
            ComplianceStatus::NotAvailable,
            format!("{up_to_topic}: could not read the attributes of topic {TOPIC_ARN} (sns:GetTopicAttributes in us-east-1: AccessDeniedException: User is not authorized); the permission sns:GetTopicAttributes would allow it"),
        ),
        (
            "topic attributes denied, but no confirmed subscription anyway: FAILED",
            Box::new(|s: &mut Snapshot| {
                s.chains.topics[0].attributes =
                    Err(read_error("sns:GetTopicAttributes", ReadErrorKind::AccessDenied));
                s.chains.topics[0].subscriptions = Ok(vec![]);
            }),
            ComplianceStatus::Failed,
            format!("{up_to_topic}: topic {TOPIC_ARN} has no subscription"),
        ),
    ];
    for (case, mutate, status, sentence) in cases {
        let mut snapshot = complete();
        mutate(&mut snapshot);
        let finding = evaluate_one(&snapshot, "cloudtrail-changes");
        assert_eq!(
            (finding.status, finding.summary.as_str()),
            (status, sentence.as_str()),
            "case: {case}"
        );
    }
}

#[test]
fn an_unreadable_status_decides_nothing_for_a_trail_without_a_log_group() {
    let mut snapshot = complete();
    snapshot.chains.trails[0].log_group_arn = None;
    snapshot.chains.trails[0].status = Err(read_error(
        "cloudtrail:GetTrailStatus",
        ReadErrorKind::Other,
    ));
    let finding = evaluate_one(&snapshot, "cloudtrail-changes");
    assert_eq!(finding.status, ComplianceStatus::Failed);
    assert_eq!(
        finding.evidence.missing,
        Some(MissingLink::TrailNotSendingToLogs {
            trail: "main".to_string()
        })
    );
    // The run still counts the failed read.
    assert_eq!(snapshot.failed_reads().len(), 1);
}

#[test]
fn a_composite_alarm_whose_actions_another_alarm_suppresses_is_a_warning() {
    let mut snapshot = complete();
    let set = &mut snapshot.chains.alarm_sets[0];
    set.alarms.as_mut().unwrap()[0].actions_enabled = false;
    let mut any = composite("any", "ALARM(cis-4-5)");
    any.actions_suppressor = Some("maintenance-window".to_string());
    set.composite_alarms.push(any);
    let finding = evaluate_one(&snapshot, "cloudtrail-changes");
    assert_eq!(finding.status, ComplianceStatus::Warning);
    assert_eq!(
        finding.evidence.missing,
        Some(MissingLink::CompositeActionsSuppressible {
            composite: "any".to_string(),
            suppressor: "maintenance-window".to_string()
        })
    );
}
