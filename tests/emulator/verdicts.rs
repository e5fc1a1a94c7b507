//! Verdicts end to end: account states built through the real APIs on the emulator, scanned with
//! `trailwatch::run::scan_account`, and the status and evidence sentence of each finding asserted
//! exactly. One fresh account per test; the cases are those of issue 3, item 6.
//!
//! Names follow `ChainSpec::new(prefix, …)`: trail `<p>-trail`, log group `CloudTrail/<p>`,
//! filter `<p>-filter` publishing `CISBenchmark/<p>-metric`, alarm `<p>-alarm`, topic `<p>-alerts`
//! with a confirmed email subscription `security@example.com`, all in us-east-1 unless moved.

use crate::support::{
    fresh_account, AlarmSettings, AlarmSpec, ChainSpec, SubscriptionSpec, TestAccount, TopicIn,
    TrailSpec,
};
use aws_sdk_cloudtrail::types::{
    AdvancedEventSelector, AdvancedFieldSelector, EventSelector, ReadWriteType,
};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use trailwatch::collect::CollectPlan;
use trailwatch::controls::{self, Control};
use trailwatch::model::findings::{ComplianceStatus, Finding, ResourceKind};
use trailwatch::model::missing::{FiringGap, MissingLink};
use trailwatch::run::scan_account;

use ComplianceStatus::{Failed, NotAvailable, Passed};

const CLOUDTRAIL: &str = "cloudtrail-changes";
const KMS: &str = "kms-cmk-disable-delete";
const CONFIG: &str = "config-changes";
const NACL: &str = "nacl-changes";
const DELIVERY: &str = "trail-cw-logs";

fn control(id: &str) -> &'static Control {
    controls::control(id).unwrap_or_else(|| panic!("no control {id}"))
}

fn cis_pattern(id: &str) -> &'static str {
    control(id)
        .required_pattern()
        .expect("a monitoring control")
}

/// Scans `account` in `regions` for the given controls.
async fn scan(account: &TestAccount, regions: &[&str], ids: &[&str]) -> Vec<Finding> {
    let selected: Vec<&'static Control> = ids.iter().map(|id| control(id)).collect();
    let plan = CollectPlan::for_controls(
        Some(regions.iter().map(|r| r.to_string()).collect()),
        &selected,
    );
    scan_account(
        &account.sdk,
        &plan,
        &selected,
        controls::CisVersion::newest(),
    )
    .await
    .expect("scan")
    .findings
}

/// The one account-level finding of a monitoring control, scanning us-east-1.
async fn verdict(account: &TestAccount, id: &str) -> Finding {
    let findings = scan(account, &["us-east-1"], &[id]).await;
    assert_eq!(findings.len(), 1, "{findings:#?}");
    findings.into_iter().next().unwrap()
}

fn assert_verdict(finding: &Finding, status: ComplianceStatus, summary: &str) {
    assert_eq!(
        (finding.status, finding.summary.as_str()),
        (status, summary),
        "{finding:#?}"
    );
}

/// "complete chain: trail p-trail → … → subscription email:s…@example.com"
fn complete(prefix: &str) -> String {
    format!(
        "complete chain: trail {prefix}-trail → log group CloudTrail/{prefix} → filter {prefix}-filter \
         → alarm {prefix}-alarm → topic {prefix}-alerts → subscription email:s…@example.com"
    )
}

/// Seeds a compliant chain for control `id` whose filter has `pattern`, and returns the verdict.
async fn verdict_for_pattern(prefix: &str, id: &str, pattern: &str) -> Finding {
    let account = fresh_account().await;
    account.seed_chain(&ChainSpec::new(prefix, pattern)).await;
    verdict(&account, id).await
}

// --- Filter patterns -------------------------------------------------------------------------

#[tokio::test]
async fn the_exact_cis_patterns_pass() {
    for (prefix, id) in [
        ("x45", CLOUDTRAIL),
        ("x47", KMS),
        ("x49", CONFIG),
        ("x411", NACL),
    ] {
        let finding = verdict_for_pattern(prefix, id, cis_pattern(id)).await;
        assert_verdict(&finding, Passed, &complete(prefix));
        let kinds: Vec<ResourceKind> = finding.evidence.chain.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                ResourceKind::Trail,
                ResourceKind::LogGroup,
                ResourceKind::MetricFilter,
                ResourceKind::Alarm,
                ResourceKind::Topic,
                ResourceKind::Subscription
            ]
        );
        assert_eq!(finding.evidence.missing, None);
    }
}

#[tokio::test]
async fn spacing_and_order_variants_pass() {
    let cases = [
        (
            "sp45",
            CLOUDTRAIL,
            "{($.eventName=StopLogging)||($.eventName=StartLogging)||($.eventName=DeleteTrail)||($.eventName=UpdateTrail)||($.eventName=CreateTrail)}",
        ),
        (
            "sp47",
            KMS,
            "{ ( ( $.eventName = \"ScheduleKeyDeletion\" ) || ( $.eventName = \"DisableKey\" ) ) && ( $.eventSource = \"kms.amazonaws.com\" ) }",
        ),
        (
            "sp411",
            NACL,
            "{ $.eventName = ReplaceNetworkAclAssociation || $.eventName = ReplaceNetworkAclEntry || $.eventName = DeleteNetworkAclEntry || $.eventName = DeleteNetworkAcl || $.eventName = CreateNetworkAclEntry || $.eventName = CreateNetworkAcl }",
        ),
    ];
    for (prefix, id, pattern) in cases {
        assert_verdict(
            &verdict_for_pattern(prefix, id, pattern).await,
            Passed,
            &complete(prefix),
        );
    }
}

#[tokio::test]
async fn supersets_pass() {
    let cases = [
        (
            "sup45",
            CLOUDTRAIL,
            "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) || ($.eventName = PutEventSelectors) }",
        ),
        // Without the eventSource condition it matches more than the CIS pattern.
        (
            "sup49",
            CONFIG,
            "{ ($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder) }",
        ),
    ];
    for (prefix, id, pattern) in cases {
        assert_verdict(
            &verdict_for_pattern(prefix, id, pattern).await,
            Passed,
            &complete(prefix),
        );
    }
}

#[tokio::test]
async fn wildcards_are_understood() {
    assert_verdict(
        &verdict_for_pattern(
            "wild",
            CLOUDTRAIL,
            "{ ($.eventName = *Trail) || ($.eventName = *Logging) }",
        )
        .await,
        Passed,
        &complete("wild"),
    );
    let narrow = verdict_for_pattern("wildnarrow", CLOUDTRAIL, "{ $.eventName = Create* }").await;
    assert_eq!(narrow.status, Failed, "{narrow:#?}");
    assert!(
        narrow.summary.starts_with(
            "trail wildnarrow-trail → log group CloudTrail/wildnarrow: filter wildnarrow-filter does not cover the CIS pattern: it misses events such as "
        ),
        "{}",
        narrow.summary
    );
}

/// A filter that does not cover: FAILED at the log group, naming the filter, with a counterexample
/// event the filter misses and the CIS pattern matches.
async fn assert_not_covering(prefix: &str, pattern: &str) -> Finding {
    let finding = verdict_for_pattern(prefix, CLOUDTRAIL, pattern).await;
    assert_eq!(finding.status, Failed, "{finding:#?}");
    let start = format!(
        "trail {prefix}-trail → log group CloudTrail/{prefix}: filter {prefix}-filter does not cover the CIS pattern: it misses events such as "
    );
    assert!(finding.summary.starts_with(&start), "{}", finding.summary);
    let kinds: Vec<ResourceKind> = finding.evidence.chain.iter().map(|l| l.kind).collect();
    assert_eq!(kinds, [ResourceKind::Trail, ResourceKind::LogGroup]);
    assert!(finding.evidence.counterexample().is_some(), "{finding:#?}");
    finding
}

#[tokio::test]
async fn a_missing_event_name_fails_with_that_event() {
    let finding = assert_not_covering(
        "missing",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) }",
    )
    .await;
    assert!(
        finding.summary.ends_with("eventName=StopLogging"),
        "{}",
        finding.summary
    );
    assert_eq!(
        finding.evidence.counterexample().unwrap()["eventName"],
        "StopLogging"
    );
}

#[tokio::test]
async fn a_narrowing_and_clause_fails() {
    assert_not_covering(
        "narrow",
        "{ (($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging)) && ($.userIdentity.type = \"Root\") }",
    )
    .await;
}

#[tokio::test]
async fn and_typed_for_or_fails() {
    assert_not_covering(
        "andor",
        "{ ($.eventName = CreateTrail) && ($.eventName = UpdateTrail) && ($.eventName = DeleteTrail) && ($.eventName = StartLogging) && ($.eventName = StopLogging) }",
    )
    .await;
}

// --- Alarms, topics, subscriptions -----------------------------------------------------------

fn topic_arn(account: &TestAccount, prefix: &str) -> String {
    format!("arn:aws:sns:us-east-1:{}:{prefix}-alerts", account.id)
}

/// "trail p-trail → log group CloudTrail/p → filter p-filter"
fn up_to_filter(prefix: &str) -> String {
    format!("trail {prefix}-trail → log group CloudTrail/{prefix} → filter {prefix}-filter")
}

#[tokio::test]
async fn an_alarm_on_the_right_name_in_the_wrong_namespace_fails() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("ns", cis_pattern(CLOUDTRAIL));
    spec.alarm.as_mut().unwrap().namespace = "Other".into();
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{}: no alarm watches metric CISBenchmark/ns-metric (alarm ns-alarm watches ns-metric in namespace Other, not CISBenchmark)",
            up_to_filter("ns")
        ),
    );
}

#[tokio::test]
async fn a_metric_math_alarm_on_the_metric_passes() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("math", cis_pattern(CLOUDTRAIL));
    spec.alarm.as_mut().unwrap().math = true;
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Passed,
        &complete("math"),
    );
}

#[tokio::test]
async fn an_alarm_must_read_the_dimensions_the_filter_publishes() {
    let dimension = ("User".to_string(), "$.userIdentity.arn".to_string());

    let account = fresh_account().await;
    let mut spec = ChainSpec::new("dims", cis_pattern(CLOUDTRAIL));
    spec.filter_dimensions = vec![dimension.clone()];
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{}: no alarm watches metric CISBenchmark/dims-metric (alarm dims-alarm watches dims-metric with other dimensions)",
            up_to_filter("dims")
        ),
    );

    // An alarm pinned to one principal reads only that principal's records.
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("dimsroot", cis_pattern(CLOUDTRAIL));
    spec.filter_dimensions = vec![dimension];
    let root = format!("arn:aws:iam::{}:root", account.id);
    spec.alarm.as_mut().unwrap().dimensions = vec![("User".to_string(), root.clone())];
    account.seed_chain(&spec).await;
    let finding = verdict(&account, CLOUDTRAIL).await;
    assert_eq!(finding.status, Failed, "{finding:#?}");
    assert!(
        finding.summary.starts_with(&format!(
            "{}: alarm dimsroot-alarm reads only the records with $.userIdentity.arn={root}, which misses events such as ",
            up_to_filter("dimsroot")
        )),
        "{}",
        finding.summary
    );

    // Pinned to the account's own id on the field CloudTrail fills with it, it narrows nothing.
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("dimsacct", cis_pattern(CLOUDTRAIL));
    spec.filter_dimensions = vec![("Account".to_string(), "$.recipientAccountId".to_string())];
    spec.alarm.as_mut().unwrap().dimensions = vec![("Account".to_string(), account.id.clone())];
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Passed,
        &complete("dimsacct"),
    );
}

#[tokio::test]
async fn an_alarm_with_actions_disabled_fails() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("disabled", cis_pattern(CLOUDTRAIL));
    spec.alarm.as_mut().unwrap().actions_enabled = false;
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{}: alarm disabled-alarm has its actions disabled",
            up_to_filter("disabled")
        ),
    );
}

#[tokio::test]
async fn an_alarm_without_an_sns_action_fails() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("nosns", cis_pattern(CLOUDTRAIL));
    spec.topic_in = TopicIn::Nowhere;
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{} → alarm nosns-alarm: alarm nosns-alarm has no SNS topic among its alarm actions",
            up_to_filter("nosns")
        ),
    );
}

#[tokio::test]
async fn sns_only_in_ok_actions_fails() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("okonly", cis_pattern(CLOUDTRAIL));
    spec.topic_in = TopicIn::OkActions;
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{} → alarm okonly-alarm: alarm okonly-alarm notifies SNS only outside the ALARM state (OK or INSUFFICIENT_DATA actions)",
            up_to_filter("okonly")
        ),
    );
}

#[tokio::test]
async fn a_topic_without_subscriptions_fails() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("nosub", cis_pattern(CLOUDTRAIL));
    spec.subscriptions.clear();
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{} → alarm nosub-alarm → topic nosub-alerts: topic {} has no subscription",
            up_to_filter("nosub"),
            topic_arn(&account, "nosub")
        ),
    );
}

#[tokio::test]
async fn a_topic_with_only_a_pending_subscription_fails() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("pend", cis_pattern(CLOUDTRAIL));
    spec.subscriptions = vec![SubscriptionSpec::Pending("pending@example.com".into())];
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{} → alarm pend-alarm → topic pend-alerts: topic {} has no confirmed subscription (1 pending confirmation)",
            up_to_filter("pend"),
            topic_arn(&account, "pend")
        ),
    );
}

// --- Trails and their selectors --------------------------------------------------------------

/// Seeds a compliant chain whose trail is changed by `trail`, and returns the verdict of `id`.
async fn verdict_with_trail(prefix: &str, id: &str, trail: TrailSpec) -> Finding {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new(prefix, cis_pattern(id));
    spec.trail = Some(trail);
    account.seed_chain(&spec).await;
    verdict(&account, id).await
}

#[tokio::test]
async fn a_single_region_trail_fails() {
    let finding = verdict_with_trail(
        "single",
        CLOUDTRAIL,
        TrailSpec::new("single-trail").single_region(),
    )
    .await;
    assert_verdict(&finding, Failed, "trail single-trail is not multi-Region");
}

#[tokio::test]
async fn a_trail_that_is_not_logging_fails() {
    let finding = verdict_with_trail(
        "stopped",
        CLOUDTRAIL,
        TrailSpec::new("stopped-trail").not_logging(),
    )
    .await;
    assert_verdict(&finding, Failed, "trail stopped-trail is not logging");
}

fn classic(read_write: ReadWriteType, management: bool, exclude: &[&str]) -> EventSelector {
    let mut selector = EventSelector::builder()
        .read_write_type(read_write)
        .include_management_events(management);
    for source in exclude {
        selector = selector.exclude_management_event_sources(*source);
    }
    selector.build()
}

fn advanced(name: &str, fields: &[(&str, &str)]) -> AdvancedEventSelector {
    let mut selector = AdvancedEventSelector::builder().name(name);
    for (field, value) in fields {
        selector = selector.field_selectors(
            AdvancedFieldSelector::builder()
                .field(*field)
                .equals(*value)
                .build()
                .unwrap(),
        );
    }
    selector.build().unwrap()
}

#[tokio::test]
async fn write_only_classic_selectors_fail() {
    let trail =
        TrailSpec::new("wo-trail").classic(vec![classic(ReadWriteType::WriteOnly, true, &[])]);
    let finding = verdict_with_trail("wo", CLOUDTRAIL, trail).await;
    assert_eq!(finding.status, Failed, "{finding:#?}");
    assert!(
        finding.summary.starts_with(
            "trail wo-trail does not record read management events of cloudtrail.amazonaws.com (classic selectors: "
        ),
        "{}",
        finding.summary
    );
}

#[tokio::test]
async fn classic_selectors_without_management_events_fail() {
    let trail =
        TrailSpec::new("nomgmt-trail").classic(vec![classic(ReadWriteType::All, false, &[])]);
    let finding = verdict_with_trail("nomgmt", CLOUDTRAIL, trail).await;
    assert_eq!(finding.status, Failed, "{finding:#?}");
    assert!(
        finding.summary.starts_with(
            "trail nomgmt-trail does not record write management events of cloudtrail.amazonaws.com or read management events of cloudtrail.amazonaws.com"
        ),
        "{}",
        finding.summary
    );
}

#[tokio::test]
async fn excluding_a_management_source_fails_only_the_control_watching_it() {
    let account = fresh_account().await;
    let trail = TrailSpec::new("nokms-trail").classic(vec![classic(
        ReadWriteType::All,
        true,
        &["kms.amazonaws.com"],
    )]);
    let mut kms = ChainSpec::new("nokms", cis_pattern(KMS));
    kms.trail = Some(trail);
    let seeded = account.seed_chain(&kms).await;
    add_cloudtrail_filter_and_alarm(&account, "CloudTrail/nokms", &seeded.topic_arn).await;

    let findings = scan(&account, &["us-east-1"], &[KMS, CLOUDTRAIL]).await;
    assert_eq!(findings[0].status, Failed, "{:#?}", findings[0]);
    assert!(
        findings[0].summary.starts_with(
            "trail nokms-trail does not record write management events of kms.amazonaws.com or read management events of kms.amazonaws.com (classic selectors: "
        ),
        "{}",
        findings[0].summary
    );
    assert_verdict(
        &findings[1],
        Passed,
        "complete chain: trail nokms-trail → log group CloudTrail/nokms → filter ct-filter → alarm ct-alarm → topic nokms-alerts → subscription email:s…@example.com",
    );
}

#[tokio::test]
async fn advanced_selectors_for_write_only_management_events_fail() {
    let trail = TrailSpec::new("awo-trail").advanced(vec![advanced(
        "write management",
        &[("eventCategory", "Management"), ("readOnly", "false")],
    )]);
    let finding = verdict_with_trail("awo", CLOUDTRAIL, trail).await;
    assert_eq!(finding.status, Failed, "{finding:#?}");
    assert!(
        finding.summary.starts_with(
            "trail awo-trail does not record read management events of cloudtrail.amazonaws.com (advanced selectors: "
        ),
        "{}",
        finding.summary
    );
}

#[tokio::test]
async fn advanced_selectors_for_data_events_only_fail() {
    let trail = TrailSpec::new("adata-trail").advanced(vec![advanced(
        "s3 objects",
        &[
            ("eventCategory", "Data"),
            ("resources.type", "AWS::S3::Object"),
        ],
    )]);
    let finding = verdict_with_trail("adata", CLOUDTRAIL, trail).await;
    assert_eq!(finding.status, Failed, "{finding:#?}");
    assert!(
        finding.summary.starts_with(
            "trail adata-trail does not record write management events of cloudtrail.amazonaws.com or read management events of cloudtrail.amazonaws.com (advanced selectors: "
        ),
        "{}",
        finding.summary
    );
}

#[tokio::test]
async fn advanced_selectors_excluding_an_event_source_fail_only_the_control_watching_it() {
    let account = fresh_account().await;
    let without_kms = AdvancedEventSelector::builder()
        .name("management except KMS")
        .field_selectors(
            AdvancedFieldSelector::builder()
                .field("eventCategory")
                .equals("Management")
                .build()
                .unwrap(),
        )
        .field_selectors(
            AdvancedFieldSelector::builder()
                .field("eventSource")
                .not_equals("kms.amazonaws.com")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let mut spec = ChainSpec::new("anokms", cis_pattern(KMS));
    spec.trail = Some(TrailSpec::new("anokms-trail").advanced(vec![without_kms]));
    let seeded = account.seed_chain(&spec).await;
    add_cloudtrail_filter_and_alarm(&account, "CloudTrail/anokms", &seeded.topic_arn).await;

    let findings = scan(&account, &["us-east-1"], &[KMS, CLOUDTRAIL]).await;
    assert_eq!(findings[0].status, Failed, "{:#?}", findings[0]);
    assert!(
        findings[0].summary.starts_with(
            "trail anokms-trail does not record write management events of kms.amazonaws.com or read management events of kms.amazonaws.com (advanced selectors: "
        ),
        "{}",
        findings[0].summary
    );
    assert_eq!(findings[1].status, Passed, "{:#?}", findings[1]);
}

#[tokio::test]
async fn advanced_selectors_capturing_management_events_pass() {
    let trail = TrailSpec::new("amgmt-trail").advanced(vec![
        advanced("management", &[("eventCategory", "Management")]),
        advanced(
            "s3 objects",
            &[
                ("eventCategory", "Data"),
                ("resources.type", "AWS::S3::Object"),
            ],
        ),
    ]);
    let finding = verdict_with_trail("amgmt", CLOUDTRAIL, trail).await;
    assert_verdict(&finding, Passed, &complete("amgmt"));
}

#[tokio::test]
async fn two_trails_pass_on_the_complete_one() {
    let account = fresh_account().await;
    // An incomplete trail (single-Region) first in ARN order, sending to a group without filters.
    let lonely = account
        .create_log_group("us-east-1", "CloudTrail/lonely")
        .await;
    account
        .create_trail(
            &TrailSpec::new("a-local-trail")
                .single_region()
                .log_group(&lonely),
        )
        .await;
    account
        .seed_chain(&ChainSpec::new("two", cis_pattern(CLOUDTRAIL)))
        .await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Passed,
        &complete("two"),
    );
}

#[tokio::test]
async fn read_only_plus_write_only_classic_selectors_pass() {
    let trail = TrailSpec::new("rw-trail").classic(vec![
        classic(ReadWriteType::ReadOnly, true, &[]),
        classic(ReadWriteType::WriteOnly, true, &[]),
    ]);
    assert_verdict(
        &verdict_with_trail("rw", CLOUDTRAIL, trail).await,
        Passed,
        &complete("rw"),
    );
}

/// CloudWatch notifies SNS topics in the alarm's own region only: AWS refuses the alarm
/// ("Invalid region … specified. Only … is supported."), and so does the emulator. The verdict on
/// such an action, should a snapshot hold one, is tested on snapshots
/// (`an_alarm_notifying_a_topic_in_another_region_does_not_notify` in src/controls/tests.rs).
#[tokio::test]
async fn an_alarm_on_a_topic_in_another_region_is_refused() {
    let account = fresh_account().await;
    let topic = account.create_topic("ap-southeast-2", "far-alerts").await;
    let mut alarm = AlarmSpec::new("far-alarm", "far-metric", "CISBenchmark");
    alarm.alarm_actions.push(topic);
    let error = account
        .try_put_alarm("us-east-1", &alarm)
        .await
        .expect_err("a topic in another region");
    assert!(
        error.contains("Invalid region ap-southeast-2 specified. Only us-east-1 is supported."),
        "{error}"
    );
}

#[tokio::test]
async fn a_metric_alarm_notifies_through_a_composite_alarm() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("comp", cis_pattern(CLOUDTRAIL));
    spec.topic_in = TopicIn::Nowhere;
    spec.alarm.as_mut().unwrap().actions_enabled = false;
    let seeded = account.seed_chain(&spec).await;
    account
        .put_composite_alarm(
            "us-east-1",
            "comp-any",
            "ALARM(\"comp-alarm\") OR ALARM(cpu-high)",
            &seeded.topic_arn,
        )
        .await;
    account
        .put_composite_alarm(
            "us-east-1",
            "comp-both",
            "ALARM(comp-alarm) AND ALARM(cpu-high)",
            &seeded.topic_arn,
        )
        .await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Passed,
        &format!(
            "complete chain: {} → alarm comp-alarm → composite alarm comp-any → topic comp-alerts → subscription email:s…@example.com",
            up_to_filter("comp")
        ),
    );

    // Only together with another alarm: not a notification of this metric's alarm.
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("compand", cis_pattern(CLOUDTRAIL));
    spec.topic_in = TopicIn::Nowhere;
    let seeded = account.seed_chain(&spec).await;
    account
        .put_composite_alarm(
            "us-east-1",
            "compand-both",
            "ALARM(compand-alarm) AND ALARM(cpu-high)",
            &seeded.topic_arn,
        )
        .await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{} → alarm compand-alarm: composite alarm compand-both does not go into ALARM whenever alarm compand-alarm does (rule ALARM(compand-alarm) AND ALARM(cpu-high))",
            up_to_filter("compand")
        ),
    );
}

#[tokio::test]
async fn an_alarm_notifying_a_deleted_topic_fails() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("gone", cis_pattern(CLOUDTRAIL));
    spec.topic_in = TopicIn::Nowhere;
    account.seed_chain(&spec).await;
    let missing = format!("arn:aws:sns:us-east-1:{}:deleted-alerts", account.id);
    let mut alarm = spec.alarm.clone().unwrap();
    alarm.alarm_actions.push(missing.clone());
    account.put_alarm("us-east-1", &alarm).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{} → alarm gone-alarm: topic {missing} does not exist",
            up_to_filter("gone")
        ),
    );
}

#[tokio::test]
async fn a_topic_in_another_account_is_not_available() {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new("central", cis_pattern(CLOUDTRAIL));
    spec.topic_in = TopicIn::Nowhere;
    account.seed_chain(&spec).await;
    let central = "arn:aws:sns:us-east-1:999988887777:security-alerts";
    let mut alarm = spec.alarm.clone().unwrap();
    alarm.alarm_actions.push(central.to_string());
    account.put_alarm("us-east-1", &alarm).await;
    let finding = verdict(&account, CLOUDTRAIL).await;
    assert_eq!(finding.status, NotAvailable, "{finding:#?}");
    assert!(
        finding.summary.starts_with(&format!(
            "{} → alarm central-alarm: could not read subscriptions of topic {central} (sns:ListSubscriptionsByTopic in us-east-1: topic is in account 999988887777",
            up_to_filter("central")
        )),
        "{}",
        finding.summary
    );
}

// --- Where the log group is ------------------------------------------------------------------

/// A trail naming a log group that does not exist: nothing can reach an alarm, so FAILED — we
/// read the answer (ResourceNotFoundException), it is not a read we could not make.
#[tokio::test]
async fn a_trail_sending_to_a_log_group_that_does_not_exist_fails() {
    let account = fresh_account().await;
    let ghost = crate::support::log_group_arn(&account.id, "us-east-1", "CloudTrail/ghost");
    account
        .create_trail(&TrailSpec::new("ghost-trail").log_group(&ghost))
        .await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "trail ghost-trail → log group CloudTrail/ghost: log group {ghost} does not exist"
        ),
    );
}

#[tokio::test]
async fn filters_on_a_log_group_no_trail_sends_to_fail() {
    let account = fresh_account().await;
    let other = account
        .create_log_group("us-east-1", "CloudTrail/actual")
        .await;
    let mut spec = ChainSpec::new("elsewhere", cis_pattern(CLOUDTRAIL));
    spec.trail = Some(TrailSpec::new("elsewhere-trail").log_group(&other));
    spec.trail_sends_here = false;
    account.seed_chain(&spec).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        "trail elsewhere-trail → log group CloudTrail/actual: log group CloudTrail/actual has no metric filter",
    );
}

#[tokio::test]
async fn a_same_named_log_group_in_another_region_does_not_count() {
    let account = fresh_account().await;
    // The trail sends to CloudTrail/twin in us-east-1 (no filters); the chain is on the
    // eu-west-1 group of the same name.
    let home = account
        .create_log_group("us-east-1", "CloudTrail/twin")
        .await;
    let mut spec = ChainSpec::new("twin", cis_pattern(CLOUDTRAIL)).in_region("eu-west-1");
    spec.trail = Some(TrailSpec::new("twin-trail").log_group(&home));
    spec.trail_sends_here = false;
    account.seed_chain(&spec).await;

    let findings = scan(&account, &["us-east-1", "eu-west-1"], &[CLOUDTRAIL]).await;
    assert_verdict(
        &findings[0],
        Failed,
        "trail twin-trail → log group CloudTrail/twin: log group CloudTrail/twin has no metric filter",
    );
    assert_eq!(findings[0].evidence.chain[1].region, "us-east-1");
}

#[tokio::test]
async fn log_group_and_alarms_outside_us_east_1_pass() {
    let account = fresh_account().await;
    account
        .seed_chain(&ChainSpec::new("euw", cis_pattern(CLOUDTRAIL)).in_region("eu-west-1"))
        .await;
    // Only us-east-1 is scanned for trails: the log group's region comes from its ARN.
    let finding = verdict(&account, CLOUDTRAIL).await;
    assert_verdict(&finding, Passed, &complete("euw"));
    let regions: Vec<&str> = finding
        .evidence
        .chain
        .iter()
        .map(|l| l.region.as_str())
        .collect();
    assert_eq!(
        regions,
        [
            "us-east-1",
            "eu-west-1",
            "eu-west-1",
            "eu-west-1",
            "eu-west-1",
            "eu-west-1"
        ]
    );
}

#[tokio::test]
async fn a_log_group_in_another_account_is_not_available() {
    let account = fresh_account().await;
    let foreign = crate::support::log_group_arn("999988887777", "us-east-1", "CloudTrail/org");
    account
        .create_trail(&TrailSpec::new("org-trail").log_group(&foreign))
        .await;
    let finding = verdict(&account, CLOUDTRAIL).await;
    assert_eq!(finding.status, NotAvailable, "{finding:#?}");
    assert!(
        finding.summary.starts_with(
            "trail org-trail → log group CloudTrail/org: could not read metric filters of log group CloudTrail/org (logs:DescribeMetricFilters in us-east-1: "
        ),
        "{}",
        finding.summary
    );
}

// --- CIS 3.4: delivery to CloudWatch Logs ----------------------------------------------------

#[tokio::test]
async fn cloudwatch_delivery_recent_stale_missing_and_absent() {
    let account = fresh_account().await;
    let group = account.create_log_group("us-east-1", "CloudTrail/d").await;
    for trail in [
        TrailSpec::new("d1-recent").log_group(&group),
        TrailSpec::new("d2-stale")
            .log_group(&group)
            .delivered_secs_ago(30 * 3600),
        TrailSpec::new("d3-never")
            .log_group(&group)
            .never_delivered()
            .delivery_error("AccessDenied"),
        TrailSpec::new("d4-no-group"),
    ] {
        account.create_trail(&trail).await;
    }
    let findings = scan(&account, &["us-east-1"], &[DELIVERY]).await;
    let by_trail = |name: &str| {
        findings
            .iter()
            .find(|f| f.resource.name == name)
            .unwrap_or_else(|| panic!("no finding for {name}: {findings:#?}"))
    };
    assert_eq!(findings.len(), 4, "{findings:#?}");

    let recent = by_trail("d1-recent");
    assert_eq!(recent.status, Passed, "{recent:#?}");
    assert!(
        recent
            .summary
            .starts_with("trail d1-recent → log group CloudTrail/d: last delivered "),
        "{}",
        recent.summary
    );

    let stale = by_trail("d2-stale");
    assert_eq!(stale.status, Failed, "{stale:#?}");
    assert!(
        stale
            .summary
            .starts_with("trail d2-stale → log group CloudTrail/d: last delivered ")
            && stale
                .summary
                .ends_with(", 30 hours before the scan (more than 24)"),
        "{}",
        stale.summary
    );

    assert_verdict(
        by_trail("d3-never"),
        Failed,
        "trail d3-never → log group CloudTrail/d: no delivery to CloudWatch Logs recorded; last delivery error: AccessDenied",
    );
    assert_verdict(
        by_trail("d4-no-group"),
        Failed,
        "trail d4-no-group does not send its events to CloudWatch Logs",
    );
}

// --- Whole accounts --------------------------------------------------------------------------

#[tokio::test]
async fn an_empty_account_fails_every_control() {
    let account = fresh_account().await;
    let findings = scan(
        &account,
        &["us-east-1"],
        &[DELIVERY, CLOUDTRAIL, KMS, CONFIG, NACL],
    )
    .await;
    assert_eq!(findings.len(), 5, "{findings:#?}");
    for finding in &findings {
        assert_verdict(finding, Failed, "the account has no CloudTrail trail");
        assert_eq!(finding.resource.kind, ResourceKind::Account);
    }
}

#[tokio::test]
async fn access_denied_is_not_available_with_the_reason() {
    let account = fresh_account().await;
    account
        .seed_chain(&ChainSpec::new("deny", cis_pattern(CLOUDTRAIL)))
        .await;
    let restricted = account.denying(&["cloudwatch:DescribeAlarms"]).await;
    let finding = verdict(&restricted, CLOUDTRAIL).await;
    assert_eq!(finding.status, NotAvailable, "{finding:#?}");
    assert!(
        finding.summary.starts_with(&format!(
            "{}: could not read alarms in us-east-1 (cloudwatch:DescribeAlarms in us-east-1: AccessDenied: ",
            up_to_filter("deny")
        )),
        "{}",
        finding.summary
    );
}

#[tokio::test]
async fn an_unreadable_region_leaves_monitoring_decided_and_delivery_not_available() {
    let account = fresh_account().await;
    account
        .seed_chain(&ChainSpec::new("optin", cis_pattern(CLOUDTRAIL)))
        .await;
    let findings = scan(
        &account,
        &["us-east-1", "af-south-1"],
        &[CLOUDTRAIL, DELIVERY],
    )
    .await;
    assert_verdict(&findings[0], Passed, &complete("optin"));
    let delivery: Vec<(&str, ComplianceStatus)> = findings[1..]
        .iter()
        .map(|f| (f.resource.name.as_str(), f.status))
        .collect();
    assert_eq!(
        delivery,
        [("optin-trail", Passed), (account.id.as_str(), NotAvailable)]
    );
    assert!(
        findings[2]
            .summary
            .starts_with("trails could not be listed in af-south-1 ("),
        "{}",
        findings[2].summary
    );
}

/// A second chain on a seeded log group and topic: the CIS 4.5 filter and an alarm on its metric.
async fn add_cloudtrail_filter_and_alarm(account: &TestAccount, log_group: &str, topic_arn: &str) {
    account
        .put_metric_filter(
            "us-east-1",
            log_group,
            "ct-filter",
            cis_pattern(CLOUDTRAIL),
            "ct-metric",
            "CISBenchmark",
        )
        .await;
    let mut alarm = AlarmSpec::new("ct-alarm", "ct-metric", "CISBenchmark");
    alarm.alarm_actions.push(topic_arn.to_string());
    account.put_alarm("us-east-1", &alarm).await;
}

// --- Alarms that fire on one record ------------------------------------------------------------
//
// Each alarm is created through PutMetricAlarm with the settings under test and read back by
// DescribeAlarms; the verdict comes from trailwatch's model of CloudWatch's documented evaluation
// ("Evaluating an alarm", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html,
// and "Configuring how CloudWatch alarms treat missing data",
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).
// The emulator stores the settings but evaluates nothing, so what is tested here is that every
// setting is read and judged; the evaluation itself is tested against the pages' tables in
// crates/core/src/controls/firing.rs.

async fn verdict_with_settings(prefix: &str, settings: AlarmSettings) -> Finding {
    let account = fresh_account().await;
    let mut spec = ChainSpec::new(prefix, cis_pattern(CLOUDTRAIL));
    spec.alarm.as_mut().unwrap().settings = settings;
    account.seed_chain(&spec).await;
    verdict(&account, CLOUDTRAIL).await
}

#[tokio::test]
async fn an_alarm_one_record_never_breaches_fails() {
    // The bug reports' `GreaterThanThreshold 1` on a count of matching records.
    let settings = AlarmSettings {
        comparison: ComparisonOperator::GreaterThanThreshold,
        ..AlarmSettings::default()
    };
    assert_verdict(
        &verdict_with_settings("strict", settings).await,
        Failed,
        &format!(
            "{}: alarm strict-alarm compares Sum GreaterThanThreshold 1: one record counts 1, which never breaches it",
            up_to_filter("strict")
        ),
    );
    // A maximum or minimum of one record's 1 is 1 too: over a threshold of 0 it fires.
    let settings = AlarmSettings {
        statistic: Statistic::Maximum,
        comparison: ComparisonOperator::GreaterThanThreshold,
        threshold: 0.0,
        ..AlarmSettings::default()
    };
    assert_verdict(
        &verdict_with_settings("overzero", settings).await,
        Passed,
        &complete("overzero"),
    );
}

#[tokio::test]
async fn an_alarm_that_needs_more_breaching_periods_than_one_record_gives_fails() {
    let settings = AlarmSettings {
        evaluation_periods: 3,
        treat_missing_data: Some("notBreaching".to_string()),
        ..AlarmSettings::default()
    };
    assert_verdict(
        &verdict_with_settings("threeofthree", settings).await,
        Failed,
        &format!(
            "{}: alarm threeofthree-alarm needs 3 of 3 breaching periods: one record never fires it",
            up_to_filter("threeofthree")
        ),
    );
    // 1 of 3 datapoints to alarm fires on the one breaching period.
    let settings = AlarmSettings {
        evaluation_periods: 3,
        datapoints_to_alarm: Some(1),
        treat_missing_data: Some("notBreaching".to_string()),
        ..AlarmSettings::default()
    };
    assert_verdict(
        &verdict_with_settings("oneofthree", settings).await,
        Passed,
        &complete("oneofthree"),
    );
    // With missing data treated as missing, 2 of 3 goes into ALARM once the breaching point is
    // two datapoints old and only missing data followed (the page's second table, last row).
    let settings = AlarmSettings {
        evaluation_periods: 3,
        datapoints_to_alarm: Some(2),
        ..AlarmSettings::default()
    };
    assert_verdict(
        &verdict_with_settings("twoofthree", settings).await,
        Passed,
        &complete("twoofthree"),
    );
}

#[tokio::test]
async fn an_alarm_that_sits_in_alarm_while_nothing_happens_fails() {
    let settings = AlarmSettings {
        treat_missing_data: Some("breaching".to_string()),
        ..AlarmSettings::default()
    };
    let finding = verdict_with_settings("always", settings).await;
    assert_verdict(
        &finding,
        Failed,
        &format!(
            "{}: alarm always-alarm sits in ALARM while no record matches (missing data treated as breaching): it never changes state, so it never notifies",
            up_to_filter("always")
        ),
    );
    assert!(matches!(
        finding.evidence.missing,
        Some(MissingLink::AlarmNeverFires {
            gap: FiringGap::InAlarmWhileQuiet { .. },
            ..
        })
    ));
}

#[tokio::test]
async fn an_average_against_a_threshold_only_a_sum_reaches_fails() {
    // One record in a period with no other datapoint: its average is 1, short of 2.
    let settings = AlarmSettings {
        statistic: Statistic::Average,
        threshold: 2.0,
        ..AlarmSettings::default()
    };
    assert_verdict(
        &verdict_with_settings("average", settings).await,
        Failed,
        &format!(
            "{}: alarm average-alarm compares Average GreaterThanOrEqualToThreshold 2: one record counts 1, which never breaches it",
            up_to_filter("average")
        ),
    );
}

// --- Topics CloudWatch can publish to, subscribers that receive it ------------------------------
//
// Each case changes the seeded topic, key or subscription through the real SNS and KMS APIs;
// trailwatch reads them back with GetTopicAttributes, GetSubscriptionAttributes, DescribeKey and
// GetKeyPolicy. Sources: CloudWatch cannot publish to a topic encrypted with alias/aws/sns
// (https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns); a customer managed key
// must let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*
// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services);
// a disabled key cannot be used (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html);
// a filter policy scoped to message attributes drops a message without attributes, as alarm
// notifications are (https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html).

fn up_to_topic(prefix: &str) -> String {
    format!(
        "{} → alarm {prefix}-alarm → topic {prefix}-alerts",
        up_to_filter(prefix)
    )
}

async fn seeded_chain(prefix: &str) -> (TestAccount, crate::support::seed::Seeded) {
    let account = fresh_account().await;
    let seeded = account
        .seed_chain(&ChainSpec::new(prefix, cis_pattern(CLOUDTRAIL)))
        .await;
    (account, seeded)
}

pub(crate) async fn set_topic_attribute(
    account: &TestAccount,
    topic_arn: &str,
    name: &str,
    value: &str,
) {
    aws_sdk_sns::Client::new(&account.sdk)
        .set_topic_attributes()
        .topic_arn(topic_arn)
        .attribute_name(name)
        .attribute_value(value)
        .send()
        .await
        .expect("sns:SetTopicAttributes");
}

/// A customer managed key with `policy`, enabled or not: its ARN.
pub(crate) async fn customer_key(
    account: &TestAccount,
    policy: serde_json::Value,
    enabled: bool,
) -> String {
    let kms = aws_sdk_kms::Client::new(&account.sdk);
    let key = kms
        .create_key()
        .policy(policy.to_string())
        .send()
        .await
        .expect("kms:CreateKey");
    let metadata = key.key_metadata().unwrap();
    if !enabled {
        kms.disable_key()
            .key_id(metadata.key_id())
            .send()
            .await
            .expect("kms:DisableKey");
    }
    metadata.arn().unwrap().to_string()
}

#[tokio::test]
async fn a_topic_encrypted_with_the_aws_managed_key_fails() {
    let (account, seeded) = seeded_chain("managedkey").await;
    set_topic_attribute(
        &account,
        &seeded.topic_arn,
        "KmsMasterKeyId",
        "alias/aws/sns",
    )
    .await;
    let finding = verdict(&account, CLOUDTRAIL).await;
    assert_verdict(
        &finding,
        Failed,
        &format!(
            "{}: topic {} is encrypted with alias/aws/sns, the AWS managed key of SNS, which CloudWatch cannot use",
            up_to_topic("managedkey"),
            seeded.topic_arn
        ),
    );
    assert!(matches!(
        finding.evidence.missing,
        Some(MissingLink::TopicKeyAwsManaged { .. })
    ));
}

#[tokio::test]
async fn a_customer_managed_key_must_be_enabled_and_let_cloudwatch_use_it() {
    let cloudwatch_may_use = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": "000000000000"}}},
        {"Sid": "Allow_CloudWatch_for_CMK", "Effect": "Allow",
         "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}
    ]});
    // Enabled, and the key policy lets CloudWatch use it: the chain is complete.
    let (account, seeded) = seeded_chain("goodkey").await;
    let key = customer_key(&account, cloudwatch_may_use.clone(), true).await;
    set_topic_attribute(&account, &seeded.topic_arn, "KmsMasterKeyId", &key).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Passed,
        &complete("goodkey"),
    );

    // The same key, disabled.
    let (account, seeded) = seeded_chain("disabledkey").await;
    let key = customer_key(&account, cloudwatch_may_use, false).await;
    set_topic_attribute(&account, &seeded.topic_arn, "KmsMasterKeyId", &key).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{}: topic {} is encrypted with key {key}, which is Disabled: publishing to it fails",
            up_to_topic("disabledkey"),
            seeded.topic_arn
        ),
    );

    // The default key policy: only the account's IAM policies may grant use of the key.
    let (account, seeded) = seeded_chain("iamonlykey").await;
    let default_policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": format!("arn:aws:iam::{}:root", account.id)},
         "Action": "kms:*", "Resource": "*"}
    ]});
    let key = customer_key(&account, default_policy, true).await;
    set_topic_attribute(&account, &seeded.topic_arn, "KmsMasterKeyId", &key).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{}: topic {} is encrypted with key {key}, whose key policy does not let cloudwatch.amazonaws.com use kms:Decrypt (no statement allows it)",
            up_to_topic("iamonlykey"),
            seeded.topic_arn
        ),
    );
}

#[tokio::test]
async fn a_topic_policy_must_let_cloudwatch_publish() {
    // Only another account's services may publish.
    let (account, seeded) = seeded_chain("foreignonly").await;
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "OtherAccount", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": "SNS:Publish", "Resource": seeded.topic_arn,
        "Condition": {"StringEquals": {"AWS:SourceOwner": "444455556666"}}
    }]});
    set_topic_attribute(&account, &seeded.topic_arn, "Policy", &policy.to_string()).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{}: the access policy of topic {} does not let CloudWatch publish for alarm {} (no statement allows it)",
            up_to_topic("foreignonly"),
            seeded.topic_arn,
            seeded.alarm_arn.as_ref().unwrap()
        ),
    );

    // The CloudWatch guide's own example policy
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html).
    let (account, seeded) = seeded_chain("guidepolicy").await;
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "SNS:Publish", "Resource": seeded.topic_arn,
        "Condition": {
            "ArnLike": {"aws:SourceArn": format!("arn:aws:cloudwatch:us-east-1:{}:alarm:*", account.id)},
            "StringEquals": {"aws:SourceAccount": account.id}
        }
    }]});
    set_topic_attribute(&account, &seeded.topic_arn, "Policy", &policy.to_string()).await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Passed,
        &complete("guidepolicy"),
    );
}

#[tokio::test]
async fn a_subscription_whose_filter_drops_the_notification_does_not_count() {
    async fn filter(account: &TestAccount, topic_arn: &str, policy: &str, scope: &str) {
        let sns = aws_sdk_sns::Client::new(&account.sdk);
        let listed = sns
            .list_subscriptions_by_topic()
            .topic_arn(topic_arn)
            .send()
            .await
            .expect("sns:ListSubscriptionsByTopic");
        for subscription in listed.subscriptions() {
            let arn = subscription.subscription_arn().unwrap_or_default();
            if !arn.starts_with("arn:") {
                continue;
            }
            for (name, value) in [("FilterPolicyScope", scope), ("FilterPolicy", policy)] {
                sns.set_subscription_attributes()
                    .subscription_arn(arn)
                    .attribute_name(name)
                    .attribute_value(value)
                    .send()
                    .await
                    .expect("sns:SetSubscriptionAttributes");
            }
        }
    }
    let (account, seeded) = seeded_chain("attrfilter").await;
    filter(
        &account,
        &seeded.topic_arn,
        r#"{"severity": ["high"]}"#,
        "MessageAttributes",
    )
    .await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Failed,
        &format!(
            "{}: the only confirmed subscription of topic {}, email:s…@example.com, filters the alarm's notification out: its filter policy's severity does not match it",
            up_to_topic("attrfilter"),
            seeded.topic_arn
        ),
    );

    let (account, seeded) = seeded_chain("bodyfilter").await;
    filter(
        &account,
        &seeded.topic_arn,
        r#"{"NewStateValue": ["ALARM"]}"#,
        "MessageBody",
    )
    .await;
    assert_verdict(
        &verdict(&account, CLOUDTRAIL).await,
        Passed,
        &complete("bodyfilter"),
    );
}
