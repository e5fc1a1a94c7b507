//! Organization mode against the emulator: an organization of 21 accounts in different states,
//! scanned from its management account with `trailwatch::run::org::run_organization`, each
//! member's findings read back from its own Security Hub.
//!
//! The management account owns the organization trail, its log group `CloudTrail/org` and the
//! filters, alarms and topic behind it; its CloudTrail 4.5 filter is narrowed to member A's
//! `recipientAccountId` (every record names the account it was delivered for). Member B has
//! complete chains of its own, C a single-Region trail of its own beside the organization trail,
//! D a member role that refuses the scan, E is closed, F is closing; the others log only through
//! the organization trail.

use crate::support::hub::held_findings;
use crate::support::org::{
    cis_inner, seed_coverage, seed_management, Organization, DENY_ASSUME_TAG, MEMBER_ROLE,
    MONITORING, STATE_TAG,
};
use crate::support::{on_main_stack, ChainSpec, TestAccount, TopicIn, TrailSpec};
use aws_sdk_securityhub::types::AwsSecurityFinding;
use std::collections::BTreeMap;
use std::sync::Mutex;
use trailwatch::collect::access::MemberRole;
use trailwatch::collect::{collect, CollectPlan};
use trailwatch::controls;
use trailwatch::model::snapshot::ReadErrorKind;
use trailwatch::run::org::{run_organization, OrgSettings, OrgSummary, Outcome};
use trailwatch::run::{Publish, RunSettings};

const CLOUDTRAIL: &str = "cloudtrail-changes";
const KMS: &str = "kms-cmk-disable-delete";

/// A complete chain of the member's own for every monitoring control: one filter ORing them.
async fn seed_own_chains(member: &TestAccount) {
    let union = MONITORING
        .iter()
        .map(|id| format!("({})", cis_inner(id)))
        .collect::<Vec<_>>()
        .join(" || ");
    member
        .seed_chain(&ChainSpec::new("own", &format!("{{ {union} }}")))
        .await;
}

fn settings() -> RunSettings {
    RunSettings {
        regions: Some(vec!["us-east-1".to_string()]),
        controls: controls::select("default").unwrap(),
        securityhub_region: Some("us-east-1".to_string()),
        publish: Publish::Import,
        cis_version: controls::CisVersion::newest(),
    }
}

fn org_settings() -> OrgSettings {
    OrgSettings {
        role: MemberRole {
            name: MEMBER_ROLE.to_string(),
            external_id: None,
        },
        accounts: None,
        exclude: Default::default(),
        max_in_flight: 6,
    }
}

/// Runs the organization scan; also returns each scanned account's scan API calls by operation.
async fn scan(
    organization: &Organization,
) -> (OrgSummary, BTreeMap<String, BTreeMap<String, u64>>) {
    let calls = Mutex::new(BTreeMap::new());
    let (summary, coverage) = run_organization(
        &organization.management.sdk,
        &settings(),
        &org_settings(),
        &|done| {
            if let Some(run) = done.run {
                calls.lock().unwrap().insert(
                    run.scan.snapshot.account_id.clone(),
                    run.scan.snapshot.api_calls_by_operation.clone(),
                );
            }
        },
        &|_| {},
    )
    .await
    .expect("organization run");
    assert!(matches!(coverage, Some(Ok(_))), "{coverage:?}");
    (summary, calls.into_inner().unwrap())
}

/// An account's active trailwatch findings in its own Security Hub: control id → (status,
/// description), and the AwsAccountId of each.
async fn active_findings(account: &TestAccount) -> Vec<AwsSecurityFinding> {
    held_findings(&account.sdk)
        .await
        .into_iter()
        .filter(|finding| finding.record_state().map(|s| s.as_str()) == Some("ACTIVE"))
        .collect()
}

fn control_of(finding: &AwsSecurityFinding) -> &str {
    finding
        .generator_id()
        .unwrap()
        .trim_start_matches("trailwatch/")
}

fn status_of(finding: &AwsSecurityFinding) -> &str {
    finding
        .compliance()
        .and_then(|c| c.status())
        .map(|s| s.as_str())
        .unwrap()
}

fn verdicts(findings: &[AwsSecurityFinding]) -> BTreeMap<String, String> {
    findings
        .iter()
        .map(|finding| {
            (
                control_of(finding).to_string(),
                status_of(finding).to_string(),
            )
        })
        .collect()
}

fn outcome<'a>(summary: &'a OrgSummary, account: &TestAccount) -> &'a Outcome {
    &summary
        .reports
        .iter()
        .find(|report| report.account_id == account.id)
        .unwrap_or_else(|| panic!("no report for {}", account.id))
        .outcome
}

#[test]
fn an_organization_is_judged_per_member_on_the_organization_trail() {
    on_main_stack(|| async {
        let organization = Organization::create(20).await;
        let members = &organization.members;
        let (a, b, c, d, e, f) = (
            &members[0],
            &members[1],
            &members[2],
            &members[3],
            &members[4],
            &members[5],
        );
        let plain = &members[6..];
        seed_management(&organization.management, &a.id).await;
        seed_own_chains(b).await;
        c.create_trail(&TrailSpec::new("regional").single_region())
            .await;
        organization.tag(d, DENY_ASSUME_TAG, MEMBER_ROLE).await;
        organization
            .management
            .organizations()
            .close_account()
            .account_id(&e.id)
            .send()
            .await
            .expect("organizations:CloseAccount");
        organization.tag(f, STATE_TAG, "PENDING_CLOSURE").await;

        let (summary, calls) = scan(&organization).await;
        assert_eq!(summary.accounts, 21, "{summary:#?}");
        assert_eq!(
            (summary.scanned, summary.not_scanned, summary.skipped),
            (18, 1, 2),
            "{summary:#?}"
        );

        // Member A: the narrowed filter covers its records; every control passes.
        let a_findings = active_findings(a).await;
        let expected_all_pass: BTreeMap<String, String> = MONITORING
            .iter()
            .map(|id| (id.to_string(), "PASSED".to_string()))
            .collect();
        assert_eq!(verdicts(&a_findings), expected_all_pass);
        assert!(a_findings
            .iter()
            .all(|finding| finding.aws_account_id() == Some(a.id.as_str())));
        let a_cloudtrail = a_findings
            .iter()
            .find(|finding| control_of(finding) == CLOUDTRAIL)
            .unwrap();
        assert!(
            a_cloudtrail.description().unwrap().starts_with(
                "PASSED: complete chain: trail org → log group CloudTrail/org → filter org-cloudtrail-changes"
            ),
            "{:?}",
            a_cloudtrail.description()
        );

        // The members that log only through the organization trail: judged on the management
        // account's chain, on their own records; the filter narrowed to A misses theirs.
        for member in plain {
            let findings = active_findings(member).await;
            let mut expected = expected_all_pass.clone();
            expected.insert(CLOUDTRAIL.to_string(), "FAILED".to_string());
            assert_eq!(verdicts(&findings), expected, "member {}", member.id);
            let cloudtrail = findings
                .iter()
                .find(|finding| control_of(finding) == CLOUDTRAIL)
                .unwrap();
            let event = cloudtrail
                .product_fields()
                .and_then(|fields| fields.get("trailwatch/CounterexampleEvent"))
                .expect("a missed record");
            assert!(
                event.contains(&format!("\"recipientAccountId\":\"{}\"", member.id)),
                "{event}"
            );
            // Nothing re-read from the owner: one DescribeTrails, and no log group, alarm or
            // topic call.
            let operations = &calls[&member.id];
            assert_eq!(
                operations.keys().collect::<Vec<_>>(),
                ["cloudtrail:DescribeTrails"],
                "member {}: {operations:?}",
                member.id
            );
        }

        // Member B: its own chains pass; its own trail has its CIS 3.4 finding.
        let b_verdicts = verdicts(&active_findings(b).await);
        assert_eq!(
            b_verdicts.get(CLOUDTRAIL).map(String::as_str),
            Some("PASSED")
        );
        assert_eq!(
            b_verdicts.get("trail-cw-logs").map(String::as_str),
            Some("PASSED")
        );

        // Member C: its single-Region trail fails CIS 3.4 (no CloudWatch Logs); the organization
        // trail's CIS 3.4 finding is not copied into it.
        let c_findings = active_findings(c).await;
        let c_delivery: Vec<&AwsSecurityFinding> = c_findings
            .iter()
            .filter(|finding| control_of(finding) == "trail-cw-logs")
            .collect();
        assert_eq!(c_delivery.len(), 1);
        assert!(c_delivery[0].id().unwrap().ends_with(":trail/regional"));
        assert_eq!(status_of(c_delivery[0]), "FAILED");
        assert_eq!(
            verdicts(&c_findings).get(KMS).map(String::as_str),
            Some("PASSED")
        );

        // Member D: not scanned; named in the management account's Security Hub.
        assert!(
            matches!(
                outcome(&summary, d),
                Outcome::NotScanned {
                    transient: false,
                    ..
                }
            ),
            "{:?}",
            outcome(&summary, d)
        );
        assert!(active_findings(d).await.is_empty());
        let management_findings = active_findings(&organization.management).await;
        let coverage: Vec<&AwsSecurityFinding> = management_findings
            .iter()
            .filter(|finding| control_of(finding) == "scan-coverage")
            .collect();
        assert_eq!(coverage.len(), 1);
        assert_eq!(
            coverage[0].aws_account_id(),
            Some(organization.management.id.as_str())
        );
        assert_eq!(
            coverage[0].resources()[0].id(),
            Some(format!("AWS::::Account:{}", d.id).as_str())
        );
        let description = coverage[0].description().unwrap();
        assert!(
            description.contains(&format!("role/{MEMBER_ROLE}"))
                && description.contains("AccessDenied"),
            "{description}"
        );

        // E and F are not active: skipped, no findings.
        assert!(matches!(outcome(&summary, e), Outcome::Skipped { .. }));
        assert!(matches!(outcome(&summary, f), Outcome::Skipped { .. }));
        assert!(active_findings(f).await.is_empty());

        // The organization trail's CIS 3.4 finding lives once, in its owner's Security Hub.
        let org_delivery: Vec<&AwsSecurityFinding> = management_findings
            .iter()
            .filter(|finding| control_of(finding) == "trail-cw-logs")
            .collect();
        assert_eq!(org_delivery.len(), 1);
        assert!(org_delivery[0].id().unwrap().ends_with(":trail/org"));

        // D's role lets the scan in again: its findings appear, its coverage finding is archived.
        organization.tag(d, DENY_ASSUME_TAG, "none").await;
        let (again, _) = scan(&organization).await;
        assert_eq!(again.not_scanned, 0, "{again:#?}");
        assert_eq!(again.coverage_archived, Some(1));
        assert_eq!(verdicts(&active_findings(d).await).len(), 4);
        assert!(active_findings(&organization.management)
            .await
            .iter()
            .all(|finding| control_of(finding) != "scan-coverage"));
    });
}

/// A member's own alarm that names a topic of the management account off the organization
/// trail's chain: the scan does not follow it with the management account's role, so nothing of
/// that topic (its subscribers) reaches the member's Security Hub.
#[test]
fn a_members_alarm_never_reads_another_accounts_topic_off_the_organization_chain() {
    on_main_stack(|| async {
        let organization = Organization::create(1).await;
        let (management, member) = (&organization.management, &organization.members[0]);
        seed_management(management, &member.id).await;
        let private = management.create_topic("us-east-1", "board-pager").await;
        management
            .subscribe(
                &private,
                "https",
                "https://pager.example.com/hook?key=s3cr3t",
            )
            .await;
        let mut spec = ChainSpec::new("own", &format!("{{ {} }}", cis_inner(KMS)));
        spec.alarm.as_mut().unwrap().alarm_actions = vec![private.clone()];
        spec.topic_in = TopicIn::Nowhere;
        member.seed_chain(&spec).await;

        let (summary, calls) = scan(&organization).await;
        assert_eq!(summary.scanned, 2, "{summary:#?}");
        // The member's scan read the organization chain's topic through the shared chains and
        // did not list the management account's private topic.
        assert_eq!(
            calls[&member.id].get("sns:ListSubscriptionsByTopic"),
            None,
            "{:?}",
            calls[&member.id]
        );
        let findings = active_findings(member).await;
        let kms = findings
            .iter()
            .find(|finding| control_of(finding) == KMS)
            .expect("a KMS finding");
        // The organization chain passes for the member; its own chain stops at the foreign topic.
        assert_eq!(status_of(kms), "PASSED");
        for finding in &findings {
            let text = format!("{finding:?}");
            assert!(
                !text.contains("pager.example.com") && !text.contains("s3cr3t"),
                "{text}"
            );
        }
    });
}

/// A single-account scan of a member (no member roles): the organization trail it sees is the
/// management account's, so its status and selectors are NOT_AVAILABLE naming that account —
/// never read with the member's own credentials (AWS is reported to refuse a member
/// GetEventSelectors on another account's organization trail; the wrapper does).
#[test]
fn a_members_own_scan_reads_nothing_of_the_organization_trail_with_its_credentials() {
    on_main_stack(|| async {
        let organization = Organization::create(1).await;
        let member = &organization.members[0];
        seed_management(&organization.management, &member.id).await;
        let plan = CollectPlan {
            regions: Some(vec!["us-east-1".to_string()]),
            ..CollectPlan::default()
        };
        let snapshot = collect(&member.sdk, &plan).await.expect("collect");
        let [trail] = snapshot.chains.trails.as_slice() else {
            panic!("one trail: {:?}", snapshot.chains.trails);
        };
        assert!(trail.is_organization_trail);
        for error in [
            trail.status.as_ref().unwrap_err(),
            trail.event_selectors.as_ref().unwrap_err(),
        ] {
            assert_eq!(error.kind, ReadErrorKind::OtherAccount, "{error:?}");
            assert!(
                error.message.contains(&format!(
                    "trail org is in account {}",
                    organization.management.id
                )),
                "{}",
                error.message
            );
        }
        assert_eq!(
            snapshot
                .api_calls_by_operation
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            ["cloudtrail:DescribeTrails", "sts:GetCallerIdentity"]
        );
    });
}

/// The command line archives what the Lambda's coordinator archives (issue 12, item 6): the
/// scanning account holds coverage findings of three accounts that have left the organization,
/// of a member since suspended, of one the run excludes and of one whose role refuses the scan.
/// After `run_organization` only the refusing member's is active; the other five are archived,
/// and the run says so.
#[test]
fn the_command_line_archives_the_coverage_findings_of_accounts_no_longer_scanned() {
    on_main_stack(|| async {
        let organization = Organization::create(3).await;
        let [refusing, suspended, excluded] = [0, 1, 2].map(|n| &organization.members[n]);
        let management = &organization.management;
        organization
            .tag(refusing, DENY_ASSUME_TAG, MEMBER_ROLE)
            .await;
        let gone = ["900000000001", "900000000002", "900000000003"].map(String::from);
        let held: Vec<&String> = gone
            .iter()
            .chain([&suspended.id, &excluded.id, &refusing.id])
            .collect();
        assert_eq!(seed_coverage(management, &held).await, 6);
        organization.tag(suspended, STATE_TAG, "SUSPENDED").await;

        let mut org = org_settings();
        org.exclude = [excluded.id.clone()].into();
        let (summary, published) =
            run_organization(&management.sdk, &settings(), &org, &|_| {}, &|_| {})
                .await
                .expect("organization run");
        assert!(matches!(published, Some(Ok(_))), "{published:?}");
        assert_eq!(summary.coverage_archived, Some(5), "{summary:#?}");
        let coverage: Vec<String> = active_findings(management)
            .await
            .iter()
            .filter(|finding| control_of(finding) == "scan-coverage")
            .map(|finding| finding.resources()[0].id().unwrap().to_string())
            .collect();
        assert_eq!(coverage, [format!("AWS::::Account:{}", refusing.id)]);
    });
}
