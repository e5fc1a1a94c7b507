//! Faults between trailwatch and AWS: `trailwatch::run::run_account` through the latency and
//! fault proxy (`tools/fault_proxy.py`, one per test, [`crate::support::proxy`]) in front of
//! moto, on a realistic account, with and without throttling, 503s, connection resets, slow
//! answers and a call throttled through every attempt.
//!
//! What must hold under faults (issue item 14): the run completes; every control has exactly one
//! finding per resource, with the verdict of the same run without faults, or NOT_AVAILABLE with a
//! reason naming the failure where the retries ran out (never a false FAILED); Security Hub —
//! read back directly from moto, not through the proxy — holds each finding once, none archived,
//! updated in place; and the counts are honest: every request the proxy saw for a scan operation
//! is in the snapshot's `api_calls_by_operation`, and every Security Hub request in the
//! `PublishReport` (and so in the run summary).
//!
//! The proxy draws its faults from one seeded generator in the order requests arrive; with the
//! scan's concurrency, which call gets which fault varies between runs, but how many requests are
//! faulted does not (unless a call runs out of attempts). The assertions hold for any assignment.

use crate::support::hub::held_findings;
use crate::support::proxy::{Fault, FaultProxy, ProxyConfig, ProxyStats};
use crate::support::{fresh_account, on_main_stack, AlarmSpec, ChainSpec, TestAccount, TrailSpec};
use aws_sdk_securityhub::types::AwsSecurityFinding;
use std::collections::{BTreeMap, BTreeSet};
use trailwatch::controls::{self, CisVersion};
use trailwatch::model::findings::{ComplianceStatus, Finding};
use trailwatch::model::snapshot::ReadErrorKind;
use trailwatch::run::{run_account, AccountRun, Publish, RunSettings, RunSummary};
use trailwatch::securityhub::PublishReport;

use ComplianceStatus::{Failed, NotAvailable, Passed};

const CLOUDTRAIL: &str = "cloudtrail-changes";
const KMS: &str = "kms-cmk-disable-delete";
const CONFIG: &str = "config-changes";
const NACL: &str = "nacl-changes";
const DELIVERY: &str = "trail-cw-logs";
const MONITORING: [&str; 4] = [CLOUDTRAIL, KMS, CONFIG, NACL];

/// The pattern CIS requires for `id`, without its outer braces.
fn cis_inner(id: &str) -> &'static str {
    controls::control(id)
        .and_then(|control| control.required_pattern())
        .unwrap()
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
}

/// The Lambda's run: default controls, imported into us-east-1's Security Hub, over two regions.
fn settings() -> RunSettings {
    RunSettings {
        regions: Some(vec!["us-east-1".to_string(), "eu-west-1".to_string()]),
        controls: controls::select("default").unwrap(),
        cis_version: CisVersion::newest(),
        securityhub_region: Some("us-east-1".to_string()),
        publish: Publish::Import,
    }
}

/// A filter on `CloudTrail/main` in us-east-1 publishing `CISBenchmark/<prefix>-metric`, an alarm
/// on `alarm_namespace`/`<prefix>-metric` notifying topic `<prefix>-alerts`, and one email
/// subscription to it.
async fn add_chain_on_main(
    account: &TestAccount,
    prefix: &str,
    pattern: &str,
    alarm_namespace: &str,
    subscriber: &str,
) {
    let metric = format!("{prefix}-metric");
    account
        .put_metric_filter(
            "us-east-1",
            "CloudTrail/main",
            &format!("{prefix}-filter"),
            pattern,
            &metric,
            "CISBenchmark",
        )
        .await;
    let topic = account
        .create_topic("us-east-1", &format!("{prefix}-alerts"))
        .await;
    account.subscribe(&topic, "email", subscriber).await;
    let mut alarm = AlarmSpec::new(&format!("{prefix}-alarm"), &metric, alarm_namespace);
    alarm.alarm_actions.push(topic);
    account.put_alarm("us-east-1", &alarm).await;
}

/// A realistic account, seeded directly on moto (not through the proxy):
///
/// - trail `main-trail`: multi-Region, home us-east-1, logging, delivered a minute ago, sending to
///   `CloudTrail/main`, on which:
///   - CloudTrail 4.5: the CIS filter → alarm → topic → confirmed subscription (complete);
///   - KMS 4.7: the CIS filter narrowed to one region (does not cover), alarm, topic;
///   - Config 4.9: the CIS filter → alarm → topic with only a pending subscription;
///   - NACL 4.11: the CIS filter, its alarm watching the metric in another namespace;
/// - trail `regional`: single-Region, home eu-west-1, sending to `CloudTrail/regional` there but
///   never delivered (its CIS 3.4 finding FAILED; it can complete no chain).
async fn seed_realistic(account: &TestAccount) {
    account
        .seed_chain(&ChainSpec::new(
            "main",
            &format!("{{ {} }}", cis_inner(CLOUDTRAIL)),
        ))
        .await;
    let narrowed = format!("{{ ({}) && $.awsRegion = \"us-east-1\" }}", cis_inner(KMS));
    add_chain_on_main(account, "kms", &narrowed, "CISBenchmark", "kms@example.com").await;
    let config = format!("{{ {} }}", cis_inner(CONFIG));
    let pending = "config-pending@example.com";
    add_chain_on_main(account, "config", &config, "CISBenchmark", pending).await;
    let nacl = format!("{{ {} }}", cis_inner(NACL));
    add_chain_on_main(account, "nacl", &nacl, "LogMetrics", "nacl@example.com").await;
    let group = account
        .create_log_group("eu-west-1", "CloudTrail/regional")
        .await;
    account
        .create_trail(
            &TrailSpec::new("regional")
                .region("eu-west-1")
                .single_region()
                .never_delivered()
                .log_group(&group),
        )
        .await;
}

/// (control, resource id) → (status, evidence sentence); asserts one finding per pair.
type Verdicts = BTreeMap<(String, String), (ComplianceStatus, String)>;

fn verdicts(findings: &[Finding]) -> Verdicts {
    let mut verdicts = Verdicts::new();
    for finding in findings {
        let key = (finding.control_id.clone(), finding.resource.id.clone());
        let previous = verdicts.insert(key.clone(), (finding.status, finding.summary.clone()));
        assert!(
            previous.is_none(),
            "two findings for {key:?}: {findings:#?}"
        );
    }
    verdicts
}

/// The realistic account's verdicts without faults, as `seed_realistic` describes them.
fn assert_realistic_baseline(account: &TestAccount, verdicts: &Verdicts) {
    let account_resource = format!("AWS::::Account:{}", account.id);
    let trail = |name: &str, region: &str| {
        format!("arn:aws:cloudtrail:{region}:{}:trail/{name}", account.id)
    };
    let status = |control: &str, resource: &str| {
        verdicts
            .get(&(control.to_string(), resource.to_string()))
            .map(|(status, _)| *status)
    };
    let expected = [
        (CLOUDTRAIL, account_resource.clone(), Passed),
        (KMS, account_resource.clone(), Failed),
        (CONFIG, account_resource.clone(), Failed),
        (NACL, account_resource.clone(), Failed),
        (DELIVERY, trail("main-trail", "us-east-1"), Passed),
        (DELIVERY, trail("regional", "eu-west-1"), Failed),
    ];
    for (control, resource, wanted) in &expected {
        assert_eq!(
            status(control, resource),
            Some(*wanted),
            "{control} on {resource}: {verdicts:#?}"
        );
    }
    assert_eq!(verdicts.len(), expected.len(), "{verdicts:#?}");
    let (_, config) = &verdicts[&(CONFIG.to_string(), account_resource.clone())];
    assert!(config.contains("pending confirmation"), "{config}");
    let (_, kms) = &verdicts[&(KMS.to_string(), account_resource.clone())];
    assert!(kms.contains("does not cover"), "{kms}");
}

/// One run through the proxy, the proxy's stats zeroed before it: the run and what the proxy saw.
async fn run_through(proxy: &FaultProxy, account: &TestAccount) -> (AccountRun, ProxyStats) {
    proxy.reset();
    let run = run_account(&proxy.sdk_for(account), &settings())
        .await
        .expect("the run completes");
    let stats = proxy.settled_stats();
    assert_eq!(stats.in_flight, 0, "requests still in flight: {stats:?}");
    (run, stats)
}

fn report(run: &AccountRun) -> &PublishReport {
    match &run.published {
        Some(Ok(report)) => report,
        other => panic!("publish did not complete: {other:?}"),
    }
}

/// The counts are honest: the requests the proxy saw per scan operation are exactly the snapshot's
/// `api_calls_by_operation` (retries included), its Security Hub requests exactly the publish
/// report's calls, and the run summary adds them up.
fn assert_every_request_counted(run: &AccountRun, stats: &ProxyStats) {
    let seen = stats.requests();
    let (scan_seen, publish_seen): (BTreeMap<_, _>, BTreeMap<_, _>) = seen
        .into_iter()
        .partition(|(operation, _)| !operation.starts_with("securityhub:"));
    let snapshot = &run.scan.snapshot;
    assert_eq!(
        scan_seen, snapshot.api_calls_by_operation,
        "requests the proxy saw per scan operation vs the snapshot's count; proxy: {stats:#?}"
    );
    assert_eq!(
        snapshot.api_calls,
        scan_seen.values().sum::<u64>(),
        "the snapshot's total"
    );
    let report = report(run);
    let publish_calls = |operation: &str| publish_seen.get(operation).copied().unwrap_or(0);
    assert_eq!(
        (
            publish_calls("securityhub:GetFindings"),
            publish_calls("securityhub:BatchImportFindings")
        ),
        (report.get_findings_calls as u64, report.import_calls as u64),
        "Security Hub requests the proxy saw vs the publish report's (GetFindings, \
         BatchImportFindings); proxy: {stats:#?}"
    );
    let summary = RunSummary::new("direct", &settings(), run);
    assert_eq!(
        summary.api_calls.total, stats.total.requests,
        "{summary:#?}"
    );
}

/// The findings Security Hub holds for the account (read from moto directly), by Id.
async fn held(account: &TestAccount) -> BTreeMap<String, AwsSecurityFinding> {
    let findings = held_findings(&account.sdk).await;
    let by_id: BTreeMap<String, AwsSecurityFinding> = findings
        .iter()
        .map(|finding| (finding.id().unwrap().to_string(), finding.clone()))
        .collect();
    assert_eq!(by_id.len(), findings.len(), "a finding Id is held twice");
    by_id
}

/// Security Hub holds exactly the run's findings, once each, active, with the run's verdicts;
/// if `before` is given, created then and updated since.
fn assert_held_as_run(
    held: &BTreeMap<String, AwsSecurityFinding>,
    run: &AccountRun,
    before: Option<&BTreeMap<String, AwsSecurityFinding>>,
) {
    let ids: BTreeSet<&String> = run.asff.iter().map(|finding| &finding.id).collect();
    assert_eq!(ids.len(), run.asff.len(), "the run produced an Id twice");
    assert_eq!(
        held.keys().collect::<BTreeSet<_>>(),
        ids,
        "Security Hub holds exactly the run's findings"
    );
    for finding in &run.asff {
        let stored = &held[&finding.id];
        let state = stored.record_state().map(|state| state.as_str());
        assert_eq!(state, Some("ACTIVE"), "{} is not active", finding.id);
        let status = stored
            .compliance()
            .and_then(|compliance| compliance.status())
            .map(|status| status.as_str());
        assert_eq!(
            status,
            Some(finding.compliance.status.as_str()),
            "{}",
            finding.id
        );
        if let Some(before) = before {
            let earlier = &before[&finding.id];
            assert_eq!(stored.created_at(), earlier.created_at(), "{}", finding.id);
            assert!(
                stored.updated_at() > earlier.updated_at(),
                "UpdatedAt of {} did not advance: {:?} then {:?}",
                finding.id,
                earlier.updated_at(),
                stored.updated_at()
            );
        }
    }
}

/// The faulted run's verdicts are the baseline's, except NOT_AVAILABLE ones whose sentence names
/// the failure, each backed by a read error of the snapshot. Returns those NOT_AVAILABLE keys.
fn assert_same_verdicts_or_not_available(
    baseline: &Verdicts,
    faulted: &Verdicts,
    run: &AccountRun,
) -> Vec<(String, String)> {
    assert_eq!(
        baseline.keys().collect::<Vec<_>>(),
        faulted.keys().collect::<Vec<_>>(),
        "the same findings (control, resource)"
    );
    let read_errors = &run.scan.snapshot.read_errors;
    let mut unavailable = Vec::new();
    for (key, (status, summary)) in faulted {
        let (baseline_status, baseline_summary) = &baseline[key];
        if (status, summary) == (baseline_status, baseline_summary) {
            continue;
        }
        assert_eq!(
            *status, NotAvailable,
            "{key:?} changed from {baseline_status:?} ({baseline_summary}) to {status:?} \
             ({summary}) under faults"
        );
        let lowered = summary.to_lowercase();
        assert!(
            ["throttl", "rate exceeded", "service unavailable"]
                .iter()
                .any(|reason| lowered.contains(reason)),
            "{key:?}: NOT_AVAILABLE without naming the failure: {summary}"
        );
        assert!(
            read_errors
                .iter()
                .any(|error| matches!(error.kind, ReadErrorKind::Throttled | ReadErrorKind::Other)),
            "{key:?} NOT_AVAILABLE without a read error: {read_errors:#?}"
        );
        unavailable.push(key.clone());
    }
    unavailable
}

/// 20% of every request throttled and 5% answered 503 (seeded), scan and publish alike.
#[test]
fn throttling_and_503s_change_no_verdict_and_every_retry_is_counted() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        seed_realistic(&account).await;
        let proxy = FaultProxy::start();

        let (baseline, clean) = run_through(&proxy, &account).await;
        let baseline_verdicts = verdicts(&baseline.scan.findings);
        assert_realistic_baseline(&account, &baseline_verdicts);
        assert_eq!(clean.faulted(), 0);
        assert!(
            clean.max_in_flight > 1,
            "the scan's calls overlap: {clean:#?}"
        );
        assert_eq!(baseline.scan.snapshot.read_errors, []);
        assert_every_request_counted(&baseline, &clean);
        let after_baseline = held(&account).await;
        assert_held_as_run(&after_baseline, &baseline, None);

        // Besides the random faults, the first BatchImportFindings requests are throttled for as
        // many attempts as the SDK makes (the SdkConfig's retry configuration, which the publish
        // client keeps): the batch fails outright once and trailwatch sends it again.
        let sdk_attempts = proxy
            .sdk_for(&account)
            .retry_config()
            .map_or(3, |retry| retry.max_attempts());
        proxy.configure(
            &ProxyConfig::seeded(14)
                .fault(
                    Fault::throttle(1.0)
                        .on(&["securityhub:BatchImportFindings"])
                        .first(sdk_attempts),
                )
                .fault(Fault::throttle(0.2))
                .fault(Fault::status(503, 0.05)),
        );
        let (faulted, stats) = run_through(&proxy, &account).await;
        assert!(
            stats.total.throttled > 0 && stats.total.status_503 > 0,
            "the faults happened: {stats:#?}"
        );
        let faulted_verdicts = verdicts(&faulted.scan.findings);
        let unavailable =
            assert_same_verdicts_or_not_available(&baseline_verdicts, &faulted_verdicts, &faulted);
        if unavailable.is_empty() {
            assert_eq!(faulted.scan.snapshot.read_errors, []);
        }
        assert_every_request_counted(&faulted, &stats);
        // Where no call ran out of attempts, each faulted request was followed by exactly one
        // more: the clean run's requests plus one per fault.
        if unavailable.is_empty() {
            assert_eq!(
                stats.total.requests,
                clean.total.requests + stats.faulted(),
                "one retry per faulted request: {stats:#?}"
            );
        }

        let report = report(&faulted);
        assert_eq!(
            (report.new, report.updated, report.stale, report.archived),
            (0, baseline.asff.len(), 0, 0),
            "{report:#?}"
        );
        assert_eq!(report.imported, faulted.asff.len());
        assert!(report.failed.is_empty(), "{report:#?}");
        // The batch that failed outright was sent again, whole (more than once only if the
        // random faults also took every attempt of a later call).
        let findings = faulted.asff.len();
        assert!(
            report.retried >= findings && report.retried.is_multiple_of(findings),
            "{report:#?}"
        );
        assert!(
            stats.of("securityhub:BatchImportFindings").requests > u64::from(sdk_attempts),
            "{stats:#?}"
        );
        let after_faults = held(&account).await;
        assert_held_as_run(&after_faults, &faulted, Some(&after_baseline));
    });
}

/// A connection reset (on DescribeAlarms and on BatchImportFindings) and a slow answer (2 s, on
/// GetEventSelectors and GetFindings) change nothing but the time taken and the request counts.
#[test]
fn a_connection_reset_and_a_slow_answer_are_survived() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        seed_realistic(&account).await;
        let proxy = FaultProxy::start();
        let (baseline, clean) = run_through(&proxy, &account).await;
        let baseline_verdicts = verdicts(&baseline.scan.findings);
        assert_realistic_baseline(&account, &baseline_verdicts);
        let after_baseline = held(&account).await;

        proxy.configure(
            &ProxyConfig::seeded(1)
                .fault(
                    Fault::reset(1.0)
                        .on(&[
                            "cloudwatch:DescribeAlarms",
                            "securityhub:BatchImportFindings",
                        ])
                        .first(1),
                )
                .fault(
                    Fault::slow(1.0, 2000)
                        .on(&["cloudtrail:GetEventSelectors", "securityhub:GetFindings"])
                        .first(1),
                ),
        );
        let (faulted, stats) = run_through(&proxy, &account).await;
        for operation in [
            "cloudwatch:DescribeAlarms",
            "securityhub:BatchImportFindings",
        ] {
            let seen = stats.of(operation);
            assert_eq!(
                (seen.reset, seen.requests),
                (1, clean.of(operation).requests + 1),
                "{operation}: one reset, then retried: {stats:#?}"
            );
        }
        for operation in ["cloudtrail:GetEventSelectors", "securityhub:GetFindings"] {
            let seen = stats.of(operation);
            assert_eq!(
                (seen.slow, seen.requests),
                (1, clean.of(operation).requests),
                "{operation}: slow, not retried: {stats:#?}"
            );
        }
        assert_eq!(verdicts(&faulted.scan.findings), baseline_verdicts);
        assert_eq!(faulted.scan.snapshot.read_errors, []);
        assert_every_request_counted(&faulted, &stats);
        let report = report(&faulted);
        assert_eq!((report.updated, report.stale), (baseline.asff.len(), 0));
        assert!(report.failed.is_empty(), "{report:#?}");
        assert_held_as_run(&held(&account).await, &faulted, Some(&after_baseline));
    });
}

/// GetTrailStatus throttled through all 6 attempts: the trail's findings are NOT_AVAILABLE naming
/// the throttling (never FAILED), every attempt is counted, and the run completes and publishes.
#[test]
fn a_call_throttled_through_every_attempt_is_not_available() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        // One trail, and a complete chain for every monitoring control on it: what the trail's
        // status would decide is all that is unknown.
        let union = MONITORING
            .iter()
            .map(|id| format!("({})", cis_inner(id)))
            .collect::<Vec<_>>()
            .join(" || ");
        account
            .seed_chain(&ChainSpec::new("only", &format!("{{ {union} }}")))
            .await;
        let proxy = FaultProxy::start();
        proxy.configure(
            &ProxyConfig::seeded(6).fault(
                Fault::throttle(1.0)
                    .on(&["cloudtrail:GetTrailStatus"])
                    .first(6),
            ),
        );
        let (run, stats) = run_through(&proxy, &account).await;
        let throttled = stats.of("cloudtrail:GetTrailStatus");
        assert_eq!(
            (throttled.requests, throttled.throttled, throttled.forwarded),
            (6, 6, 0),
            "six attempts, all throttled: {stats:#?}"
        );
        let snapshot = &run.scan.snapshot;
        assert_eq!(
            snapshot
                .api_calls_by_operation
                .get("cloudtrail:GetTrailStatus"),
            Some(&6)
        );
        assert_every_request_counted(&run, &stats);
        let status = snapshot.chains.trails[0].status.as_ref().unwrap_err();
        assert_eq!(status.kind, ReadErrorKind::Throttled, "{status:?}");

        let verdicts = verdicts(&run.scan.findings);
        assert_eq!(verdicts.len(), 5, "{verdicts:#?}");
        for ((control, resource), (status, summary)) in &verdicts {
            assert_eq!(*status, NotAvailable, "{control} on {resource}: {summary}");
            // "Rate exceeded": the throttling error's message, as AWS (and the proxy) words it.
            assert!(
                summary.contains("cloudtrail:GetTrailStatus") && summary.contains("Rate exceeded"),
                "{control}: the reason names the call and the throttling: {summary}"
            );
        }
        let report = report(&run);
        assert_eq!(
            (report.imported, report.failed.len()),
            (5, 0),
            "{report:#?}"
        );
        assert_held_as_run(&held(&account).await, &run, None);
    });
}
