//! The Lambda handler's logic called directly (no runtime) against the moto emulator: a
//! scheduled run publishes every finding, a rerun updates them in place, removed resources and
//! deselected controls are archived, rejected findings are retried and reported, a dry run
//! imports nothing, and batches of 100 go through the real SDK.

use crate::support::changes::scheduled_event;
use crate::support::hub::{held_by_id, held_findings};
use crate::support::{fresh_account, on_main_stack, ChainSpec, TestAccount, TrailSpec};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use trailwatch::lambda::config::{ENV_CONTROLS, ENV_DRY_RUN, ENV_REGIONS};
use trailwatch::lambda::{self, Config, LambdaError, Response};
use trailwatch::model::findings::{ComplianceStatus, Evidence, Finding, ResourceKind, ResourceRef};
use trailwatch::run::RunSummary;
use trailwatch::securityhub::asff::{self, AsffContext};
use trailwatch::securityhub::scope::Scope;
use trailwatch::securityhub::{self, plan, PublishOptions, PublishTarget};

/// The configuration the template sets, scanning only the harness's region (fast).
fn config(dry_run: bool) -> Config {
    config_with(dry_run, "default")
}

fn config_with(dry_run: bool, controls: &str) -> Config {
    Config::from_lookup(|name| match name {
        ENV_REGIONS => Some("us-east-1".to_string()),
        ENV_DRY_RUN => Some(dry_run.to_string()),
        ENV_CONTROLS => Some(controls.to_string()),
        _ => None,
    })
    .expect("valid configuration")
}

async fn run(account: &TestAccount, event: &Value) -> RunSummary {
    run_summary(
        lambda::handle(&account.sdk, &config(false), event)
            .await
            .expect("handler run"),
    )
}

/// The run summary a single-account stack answers.
fn run_summary(response: Response) -> RunSummary {
    match response {
        Response::Run(summary) => *summary,
        other => panic!("not a single-account run: {other:?}"),
    }
}

/// A compliant CloudTrail-changes chain (its trail delivers to CloudWatch Logs).
async fn seed_compliant_chain(account: &TestAccount) {
    let pattern = trailwatch::controls::control("cloudtrail-changes")
        .and_then(|control| control.required_pattern())
        .unwrap();
    account.seed_chain(&ChainSpec::new("main", pattern)).await;
}

async fn held(account: &TestAccount) -> BTreeMap<String, (String, String, String)> {
    held_by_id(&account.sdk).await
}

fn active(held: &BTreeMap<String, (String, String, String)>) -> BTreeSet<String> {
    held.iter()
        .filter(|(_, (state, _, _))| state == "ACTIVE")
        .map(|(id, _)| id.clone())
        .collect()
}

#[test]
fn reruns_update_in_place_and_what_is_gone_is_archived() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        seed_compliant_chain(&account).await;
        account.create_trail(&TrailSpec::new("extra")).await;

        let first = run(&account, &scheduled_event()).await;
        let total = first.findings.passed
            + first.findings.failed
            + first.findings.warning
            + first.findings.not_available;
        assert_eq!(first.trigger, "scheduled");
        assert_eq!(first.account_id, account.id);
        assert!(total >= 6, "5 controls, CIS 3.4 per trail: {first:?}");
        assert_eq!(
            (first.published, first.new, first.failed),
            (total, total, 0)
        );
        assert_eq!((first.archived, first.stale), (0, 0));
        assert!(first.api_calls.scan > 0 && first.api_calls.batch_import_findings == 1);
        let after_first = held(&account).await;
        assert_eq!(active(&after_first).len(), total);
        assert!(after_first.keys().all(|id| id.starts_with("trailwatch/")));

        let second = run(&account, &scheduled_event()).await;
        assert_eq!((second.new, second.updated, second.stale), (0, total, 0));
        let after_second = held(&account).await;
        assert_eq!(
            after_second.keys().collect::<Vec<_>>(),
            after_first.keys().collect::<Vec<_>>(),
            "a rerun keeps the ids and adds none"
        );
        for (id, (state, created, updated)) in &after_second {
            let (_, first_created, first_updated) = &after_first[id];
            assert_eq!(state, "ACTIVE");
            assert_eq!(created, first_created, "CreatedAt of {id} changed");
            assert!(updated > first_updated, "UpdatedAt of {id} did not advance");
        }

        // A trail is deleted: its CIS 3.4 finding is archived, nothing else changes state.
        aws_sdk_cloudtrail::Client::new(&account.sdk)
            .delete_trail()
            .name("extra")
            .send()
            .await
            .unwrap();
        let third = run(&account, &scheduled_event()).await;
        assert_eq!((third.stale, third.archived), (1, 1), "{third:?}");
        let after_third = held(&account).await;
        let archived: Vec<_> = after_third
            .iter()
            .filter(|(_, (state, _, _))| state == "ARCHIVED")
            .collect();
        assert_eq!(archived.len(), 1);
        let (archived_id, (_, created, updated)) = archived[0];
        assert!(archived_id.contains("trail-cw-logs") && archived_id.ends_with(":trail/extra"));
        assert_eq!(created, &after_first[archived_id].1);
        assert!(updated > &after_second[archived_id].2);
        assert_eq!(after_third.len(), total, "archiving adds no finding");

        // A direct invoke narrowed to one control updates it and archives nothing else: a run
        // owns only its own controls' findings.
        let only = json!({"controls": ["cloudtrail-changes"]});
        let narrowed = run(&account, &only).await;
        assert_eq!(narrowed.trigger, "direct");
        assert_eq!(narrowed.controls, ["cloudtrail-changes"]);
        assert_eq!(
            narrowed.scope.controls,
            ["cloudtrail-changes".to_string()].into()
        );
        assert_eq!((narrowed.stale, narrowed.archived), (0, 0));
        assert_eq!(active(&held(&account).await).len(), total - 1);

        // Nor does a stack configured with fewer controls archive the others': another publisher
        // (a CLI run, a second stack) may own them.
        let fewer = config_with(false, "cloudtrail-changes");
        let fourth = run_summary(
            lambda::handle(&account.sdk, &fewer, &scheduled_event())
                .await
                .unwrap(),
        );
        assert_eq!((fourth.stale, fourth.archived), (0, 0), "{fourth:?}");
        assert_eq!(active(&held(&account).await).len(), total - 1);
    });
}

#[test]
fn rejected_findings_are_retried_then_reported() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        // The emulator rejects a finding whose Id (here: the trail ARN) says so, N times.
        account
            .create_trail(&TrailSpec::new("flaky-trailwatch-test-reject-1"))
            .await;
        account
            .create_trail(&TrailSpec::new("broken-trailwatch-test-reject-99"))
            .await;

        let summary = run(&account, &scheduled_event()).await;
        assert_eq!(summary.failed, 1, "{summary:?}");
        assert_eq!(summary.failed_ids.len(), 1);
        let failure = &summary.failures[0];
        assert!(failure
            .id
            .ends_with(":trail/broken-trailwatch-test-reject-99"));
        assert_eq!(failure.code, "InvalidInput");
        assert_eq!(failure.attempts, PublishOptions::default().max_attempts);
        assert!(failure.message.contains("rejected by the test emulator"));
        // Three import calls: everything, then the two rejected ones, then the broken one again.
        assert_eq!(summary.api_calls.batch_import_findings, 3);

        let held = held(&account).await;
        assert!(held
            .keys()
            .any(|id| id.ends_with(":trail/flaky-trailwatch-test-reject-1")));
        assert!(!held.contains_key(&failure.id));
        assert_eq!(held.len(), summary.published);
    });
}

#[test]
fn a_dry_run_plans_but_imports_nothing() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        seed_compliant_chain(&account).await;
        let summary = run_summary(
            lambda::handle(&account.sdk, &config(true), &scheduled_event())
                .await
                .unwrap(),
        );
        assert!(summary.dry_run);
        assert!(summary.new >= 5 && summary.batches == 1, "{summary:?}");
        assert_eq!(summary.published, 0);
        assert_eq!(summary.api_calls.batch_import_findings, 0);
        assert_eq!(summary.api_calls.get_findings, 1);
        assert!(held_findings(&account.sdk).await.is_empty());

        // The event can ask for a dry run too.
        let summary = run(&account, &json!({"dry_run": true})).await;
        assert!(summary.dry_run);
        assert!(held_findings(&account.sdk).await.is_empty());
    });
}

#[test]
fn an_unsupported_event_is_an_error_and_touches_nothing() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        let malformed: Value =
            serde_json::from_str(include_str!("../../events/malformed.json")).unwrap();
        for event in [malformed, json!({"Records": []}), json!(42)] {
            let error = lambda::handle(&account.sdk, &config(false), &event)
                .await
                .unwrap_err();
            assert!(matches!(error, LambdaError::Event(_)), "{error:?}");
        }
        assert!(held_findings(&account.sdk).await.is_empty());
    });
}

/// 250 findings through the real SDK: batches of 100 (moto would take them all at once), and
/// existing findings read back over three GetFindings pages.
#[test]
fn hundreds_of_findings_go_in_batches_of_100() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        let control = trailwatch::controls::control("trail-cw-logs").unwrap();
        let context = AsffContext {
            region: "us-east-1".to_string(),
            observed_at: plan::now_rfc3339(),
            cis_version: trailwatch::controls::CisVersion::newest(),
            first_steps: Default::default(),
        };
        let findings: Vec<_> = (0..250)
            .map(|n| {
                let arn = format!("arn:aws:cloudtrail:us-east-1:{}:trail/t{n}", account.id);
                let finding = Finding {
                    control_id: control.id.to_string(),
                    account_id: account.id.clone(),
                    partition: "aws".to_string(),
                    resource: ResourceRef {
                        kind: ResourceKind::Trail,
                        id: arn,
                        name: format!("t{n}"),
                        region: "us-east-1".to_string(),
                        account_id: account.id.clone(),
                    },
                    status: ComplianceStatus::Failed,
                    summary: format!("trail t{n} does not send to CloudWatch Logs"),
                    evidence: Evidence::default(),
                };
                finding
            })
            .collect();
        let findings = asff::from_findings(&findings, &context).unwrap();
        let target = PublishTarget {
            account_id: account.id.clone(),
            partition: "aws".to_string(),
            region: "us-east-1".to_string(),
        };
        let client = aws_sdk_securityhub::Client::new(&account.sdk);
        let options = PublishOptions {
            scope: Some(Scope {
                controls: [control.id.to_string()].into(),
                accounts: [account.id.clone()].into(),
                regions: ["us-east-1".to_string()].into(),
            }),
            ..PublishOptions::default()
        };
        let report = securityhub::publish(&client, &target, findings.clone(), &options)
            .await
            .unwrap();
        assert_eq!((report.batches, report.import_calls), (3, 3));
        assert_eq!((report.imported, report.new), (250, 250));
        assert_eq!(held_findings(&account.sdk).await.len(), 250);

        let again = securityhub::publish(&client, &target, findings[..200].to_vec(), &options)
            .await
            .unwrap();
        assert_eq!(again.existing, 250);
        assert_eq!(again.get_findings_calls, 3, "three pages of 100");
        assert_eq!((again.updated, again.stale, again.archived), (200, 50, 50));
        assert_eq!(again.batches, 3);
        assert_eq!(held_findings(&account.sdk).await.len(), 250);
    });
}
