//! Publishing to Security Hub through the real SDK against the emulator, for what the Lambda tests
//! do not reach: a GetFindings pager that answers an old token (the wrapper's
//! `trailwatch-test-token-cycle` control) ends with every held finding read once, and a finding
//! over Security Hub's field limits is cut the same way on every run, so a rerun updates it; a
//! rerun's updates carry `FindingProviderFields` but no top-level `Types` or `Severity`.

use crate::support::hub::held_findings;
use crate::support::{fresh_account, on_main_stack, TestAccount};
use std::time::Duration;
use trailwatch::model::findings::{ComplianceStatus, Evidence, Finding, ResourceKind, ResourceRef};
use trailwatch::securityhub::asff::{self, AsffContext, AsffFinding};
use trailwatch::securityhub::import::to_sdk;
use trailwatch::securityhub::limits;
use trailwatch::securityhub::{self, plan, PublishOptions, PublishReport, PublishTarget};

/// The wrapper's GetFindings fault injection: see `tools/moto_wrapper.py`.
const TOKEN_CYCLE_MARKER: &str = "trailwatch-test-token-cycle";

/// A FAILED CIS 3.4 finding about the trail with resource id `trail_arn`.
fn trail_finding(account: &TestAccount, trail_arn: String, summary: String) -> Finding {
    Finding {
        control_id: "trail-cw-logs".to_string(),
        account_id: account.id.clone(),
        partition: "aws".to_string(),
        resource: ResourceRef {
            kind: ResourceKind::Trail,
            name: trail_arn.rsplit('/').next().unwrap().to_string(),
            id: trail_arn,
            region: "us-east-1".to_string(),
            account_id: account.id.clone(),
        },
        status: ComplianceStatus::Failed,
        summary,
        evidence: Evidence::default(),
    }
}

fn asff_now(findings: &[Finding]) -> Vec<AsffFinding> {
    let context = AsffContext {
        region: "us-east-1".to_string(),
        observed_at: plan::now_rfc3339(),
        cis_version: trailwatch::controls::CisVersion::newest(),
        first_steps: Default::default(),
    };
    asff::from_findings(findings, &context).unwrap()
}

fn target(account: &TestAccount) -> PublishTarget {
    PublishTarget {
        account_id: account.id.clone(),
        partition: "aws".to_string(),
        region: "us-east-1".to_string(),
    }
}

/// Publishes, failing the test instead of hanging if publishing does not end within a minute.
async fn publish(
    account: &TestAccount,
    findings: Vec<AsffFinding>,
    options: &PublishOptions,
) -> PublishReport {
    let client = aws_sdk_securityhub::Client::new(&account.sdk);
    let target = target(account);
    let publishing = securityhub::publish(&client, &target, findings, options);
    tokio::time::timeout(Duration::from_secs(60), publishing)
        .await
        .expect("publish did not end within 60 s (paging forever?)")
        .expect("publish")
}

/// `count` findings, the first about a trail whose ARN carries the token-cycle marker.
fn cycling_account_findings(account: &TestAccount, count: usize) -> Vec<AsffFinding> {
    let findings: Vec<Finding> = (0..count)
        .map(|n| {
            let name = if n == 0 {
                format!("t0-{TOKEN_CYCLE_MARKER}")
            } else {
                format!("t{n}")
            };
            let arn = format!("arn:aws:cloudtrail:us-east-1:{}:trail/{name}", account.id);
            trail_finding(
                account,
                arn,
                format!("trail {name} does not send to CloudWatch Logs"),
            )
        })
        .collect();
    asff_now(&findings)
}

/// GetFindings answers, on its last page, the token of the second page again (API Reference
/// "GetFindings": a client continues "to the value returned from the previous response",
/// https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindings.html). Over three
/// pages that is a cycle the SDK's paginator alone follows forever (it compares a token only with
/// the one it just sent); over two pages it is the request's own token. Either way publishing
/// ends, having read each page, and so each held finding, once.
#[test]
fn a_getfindings_token_cycle_ends_with_every_held_finding_read_once() {
    on_main_stack(|| async {
        let options = PublishOptions::default();
        for (count, pages) in [(250, 3), (150, 2)] {
            let account = fresh_account().await;
            let findings = cycling_account_findings(&account, count);
            // (Not read back with `held_findings`: its plain loop would follow the cycle.)
            let first = publish(&account, findings.clone(), &options).await;
            assert_eq!((first.new, first.imported), (count, count), "{first:?}");

            let rerun = publish(&account, findings, &options).await;
            assert_eq!(
                rerun.existing, count,
                "{count} held findings, each read once"
            );
            assert_eq!(rerun.get_findings_calls, pages, "each page asked for once");
            assert_eq!((rerun.new, rerun.updated, rerun.stale), (0, count, 0));
            assert_eq!(rerun.imported, count);
        }
    });
}

/// A finding whose Id and description are over Security Hub's limits (Id ≤ 512, Description ≤
/// 1,024: API Reference "AwsSecurityFinding",
/// https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_AwsSecurityFinding.html) is held
/// with the shortened Id and the cut description, and a rerun updates that same finding.
#[test]
fn a_finding_over_the_limits_is_cut_alike_on_every_run() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        // A metric filter's id is its log group's ARN and its name (each up to 512 characters).
        let resource_id = format!(
            "arn:aws:logs:us-east-1:{}:log-group:{}:metric-filter:{}",
            account.id,
            "g".repeat(300),
            "f".repeat(300)
        );
        let summary = format!(
            "trail long does not send to CloudWatch Logs: {}",
            "é".repeat(900)
        );
        let finding = trail_finding(&account, resource_id, summary);
        assert!(asff::finding_id(&finding).len() > limits::ID_MAX);
        let options = PublishOptions::default();

        let first = publish(&account, asff_now(std::slice::from_ref(&finding)), &options).await;
        assert_eq!((first.new, first.imported, first.failed.len()), (1, 1, 0));
        let held = held_findings(&account.sdk).await;
        assert_eq!(held.len(), 1);
        let held_id = held[0].id().unwrap().to_string();
        assert!(held_id.len() <= limits::ID_MAX, "{} bytes", held_id.len());
        assert!(held_id.contains("…[sha256:"), "{held_id}");
        let description = held[0].description().unwrap();
        assert!(description.len() <= limits::DESCRIPTION_MAX);
        assert!(description.ends_with("more characters]"), "{description}");
        let changes = &held[0].product_fields().unwrap()[limits::LIMITS_FIELD];
        assert!(changes.contains("Id of") && changes.contains("Description cut from"));

        let rerun = publish(&account, asff_now(&[finding]), &options).await;
        assert_eq!(
            (rerun.existing, rerun.new, rerun.updated),
            (1, 0, 1),
            "{rerun:?}"
        );
        let held_again = held_findings(&account.sdk).await;
        assert_eq!(held_again.len(), 1);
        assert_eq!(held_again[0].id(), Some(held_id.as_str()));
    });
}

/// On a rerun, what `BatchImportFindings` would receive for a held finding has no top-level
/// `Types` or `Severity` — providers update them through `FindingProviderFields` (user guide,
/// "Using BatchImportFindings to create and update findings",
/// https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html)
/// — while a new finding has both, as "Required top-level ASFF attributes" lists them.
#[test]
fn a_rerun_updates_without_top_level_types_or_severity() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        let trail = |name: &str| {
            let arn = format!("arn:aws:cloudtrail:us-east-1:{}:trail/{name}", account.id);
            trail_finding(
                &account,
                arn,
                format!("trail {name} does not send to CloudWatch Logs"),
            )
        };
        let first = publish(
            &account,
            asff_now(&[trail("a"), trail("b")]),
            &PublishOptions::default(),
        )
        .await;
        assert_eq!((first.new, first.imported), (2, 2));

        let dry_run = PublishOptions {
            dry_run: true,
            ..PublishOptions::default()
        };
        let rerun = publish(
            &account,
            asff_now(&[trail("a"), trail("b"), trail("c")]),
            &dry_run,
        )
        .await;
        assert_eq!(
            (rerun.existing, rerun.new, rerun.updated),
            (2, 1, 2),
            "{rerun:?}"
        );
        let planned: Vec<&AsffFinding> = rerun.planned.iter().flatten().collect();
        assert_eq!(planned.len(), 3);
        for finding in planned {
            let sent = to_sdk(finding);
            let provider = sent
                .finding_provider_fields()
                .expect("FindingProviderFields");
            assert_eq!(provider.types(), [asff::CIS_FINDING_TYPE]);
            assert!(provider
                .severity()
                .and_then(|severity| severity.label())
                .is_some());
            if finding.id.ends_with("/c") {
                assert_eq!(
                    sent.types(),
                    [asff::CIS_FINDING_TYPE],
                    "new finding {}",
                    finding.id
                );
                assert!(sent.severity().is_some(), "new finding {}", finding.id);
            } else {
                assert!(sent.types().is_empty(), "update {} sends Types", finding.id);
                assert!(
                    sent.severity().is_none(),
                    "update {} sends Severity",
                    finding.id
                );
            }
        }
    });
}
