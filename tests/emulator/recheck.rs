//! The event-driven re-check (`EventDrivenRecheck`) driven through the handler against moto:
//! a change applied to the emulator and its event (an `events/changes/` sample, delivered as an
//! SQS record of the change queue) turn the same finding FAILED, the repair and its event PASSED
//! again; a burst of 50 events is one scan (requests counted by the fault proxy, without
//! faults); events outside the stack's scope change nothing.
//!
//! moto has no EventBridge → SQS delivery of CloudTrail events: the tests apply the change to the
//! emulator through the real SDK and deliver the event the change would emit, as AWS documents
//! its shape (see `events/changes/README.md`).

use crate::support::changes::{
    change_batch as batch, change_queue_arn as queue_arn, change_sample as sample, scheduled_event,
};
use crate::support::hub::{held_by_id, held_findings};
use crate::support::proxy::FaultProxy;
use crate::support::{fresh_account, on_main_stack, AlarmSpec, ChainSpec, TestAccount};
use std::collections::BTreeMap;
use trailwatch::lambda::config::{ENV_CHANGE_QUEUE_ARN, ENV_CONTROLS, ENV_REGIONS};
use trailwatch::lambda::recheck::{AccountRecheck, RecheckSummary};
use trailwatch::lambda::{self, Config, Response};

/// The stack's configuration with `EventDrivenRecheck`, scanning the harness's region.
fn config(account: &TestAccount, controls: &str) -> Config {
    Config::from_lookup(|name| match name {
        ENV_REGIONS => Some("us-east-1".to_string()),
        ENV_CONTROLS => Some(controls.to_string()),
        ENV_CHANGE_QUEUE_ARN => Some(queue_arn(account)),
        _ => None,
    })
    .expect("valid configuration")
}

/// An organization stack in `management` (its scan queue and message key, see
/// [`crate::support::org::create_stack`]) checking `controls`, with `EventDrivenRecheck`: its
/// configuration and its scan queue's URL.
async fn organization_stack(management: &TestAccount, controls: &str) -> (Config, String) {
    let stack = crate::support::org::create_stack(management).await;
    let config = crate::lambda_organization::config_with(
        &stack,
        &[
            (ENV_CONTROLS, controls),
            (ENV_CHANGE_QUEUE_ARN, &queue_arn(management)),
        ],
    );
    (config, stack.queue)
}

async fn deliver(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    account: &TestAccount,
    bodies: &[String],
) -> RecheckSummary {
    match lambda::handle(sdk, config, &batch(account, bodies))
        .await
        .expect("the batch is handled")
    {
        Response::Rechecked(response) => {
            assert!(
                response.batch.batch_item_failures.is_empty(),
                "no record is retried: {response:?}"
            );
            response.recheck
        }
        other => panic!("not a re-check: {other:?}"),
    }
}

/// Compliance status of every held finding by Id.
async fn statuses(account: &TestAccount) -> BTreeMap<String, String> {
    held_findings(&account.sdk)
        .await
        .iter()
        .map(|finding| {
            let status = finding
                .compliance()
                .and_then(|compliance| compliance.status())
                .map_or("none".to_string(), |status| status.as_str().to_string());
            (finding.id().unwrap().to_string(), status)
        })
        .collect()
}

fn id_of<'a>(statuses: &'a BTreeMap<String, String>, control: &str) -> &'a str {
    statuses
        .keys()
        .find(|id| id.contains(&format!("/{control}/")))
        .unwrap_or_else(|| panic!("no {control} finding in {statuses:?}"))
}

/// The complete CloudTrail-changes chain the samples name (`main-*`), and the scheduled run
/// that publishes its findings first.
async fn seeded(account: &TestAccount, config: &Config) {
    let pattern = trailwatch::controls::control("cloudtrail-changes")
        .and_then(|control| control.required_pattern())
        .unwrap();
    account.seed_chain(&ChainSpec::new("main", pattern)).await;
    publish_all(account, config).await;
}

/// The scheduled run: every finding of the stack's controls published.
async fn publish_all(account: &TestAccount, config: &Config) {
    let scheduled = scheduled_event();
    lambda::handle(&account.sdk, config, &scheduled)
        .await
        .expect("scheduled run");
}

#[test]
fn a_deleted_alarm_fails_the_finding_in_one_scan_and_its_repair_passes_it_again() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        let config = config(&account, "default");
        seeded(&account, &config).await;
        let before = held_by_id(&account.sdk).await;
        let statuses_before = statuses(&account).await;
        let changes_id = id_of(&statuses_before, "cloudtrail-changes").to_string();
        let delivery_id = id_of(&statuses_before, "trail-cw-logs").to_string();
        assert_eq!(statuses_before[&changes_id], "PASSED");

        aws_sdk_cloudwatch::Client::new(&account.sdk)
            .delete_alarms()
            .alarm_names("main-alarm")
            .send()
            .await
            .unwrap();
        let broken = deliver(
            &account.sdk,
            &config,
            &account,
            &[sample(&account, "delete-alarms.json")],
        )
        .await;
        assert_eq!((broken.changes, broken.ignored, broken.scans()), (1, 0, 1));
        let rechecked = &broken.accounts[0];
        assert!(
            rechecked
                .controls
                .contains(&"cloudtrail-changes".to_string())
                && !rechecked.controls.contains(&"trail-cw-logs".to_string()),
            "an alarm is no part of delivery: {rechecked:?}"
        );
        let run = rechecked.run.as_ref().unwrap();
        assert_eq!(run.trigger, "recheck");
        assert_eq!((run.new, run.archived), (0, 0), "{run:?}");
        let after = held_by_id(&account.sdk).await;
        let statuses_after = statuses(&account).await;
        assert_eq!(statuses_after[&changes_id], "FAILED");
        assert_eq!(
            after.keys().collect::<Vec<_>>(),
            before.keys().collect::<Vec<_>>()
        );
        assert_eq!(
            after[&changes_id].1, before[&changes_id].1,
            "CreatedAt kept"
        );
        assert!(
            after[&changes_id].2 > before[&changes_id].2,
            "UpdatedAt advanced"
        );
        assert_eq!(
            after[&delivery_id], before[&delivery_id],
            "a control the re-check did not evaluate is untouched"
        );

        // The repair, and the alarm-configuration event CloudWatch sends for it (the sample's
        // operation is a delete; any operation re-checks the region's chains).
        let topic = format!("arn:aws:sns:us-east-1:{}:main-alerts", account.id);
        let mut alarm = AlarmSpec::new("main-alarm", "main-metric", "CISBenchmark");
        alarm.alarm_actions.push(topic);
        account.put_alarm("us-east-1", &alarm).await;
        let repaired = deliver(
            &account.sdk,
            &config,
            &account,
            &[sample(&account, "put-metric-alarm.json")],
        )
        .await;
        assert_eq!(repaired.scans(), 1);
        assert_eq!(statuses(&account).await[&changes_id], "PASSED");
        let configuration_change = deliver(
            &account.sdk,
            &config,
            &account,
            &[sample(&account, "alarm-configuration-change-delete.json")],
        )
        .await;
        assert_eq!(configuration_change.scans(), 1);
        assert_eq!(statuses(&account).await[&changes_id], "PASSED");
    });
}

#[test]
fn stop_logging_fails_delivery_and_monitoring_and_start_logging_repairs_them() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        let config = config(&account, "trail-cw-logs,cloudtrail-changes");
        seeded(&account, &config).await;
        let ids = statuses(&account).await;
        let changes_id = id_of(&ids, "cloudtrail-changes").to_string();
        assert_eq!(ids[&changes_id], "PASSED");
        let cloudtrail = aws_sdk_cloudtrail::Client::new(&account.sdk);

        cloudtrail
            .stop_logging()
            .name("main-trail")
            .send()
            .await
            .unwrap();
        let stopped = deliver(
            &account.sdk,
            &config,
            &account,
            &[sample(&account, "stop-logging.json")],
        )
        .await;
        assert_eq!(
            stopped.accounts[0].controls,
            ["trail-cw-logs", "cloudtrail-changes"],
            "a trail change re-checks delivery and monitoring"
        );
        assert_eq!(statuses(&account).await[&changes_id], "FAILED");

        cloudtrail
            .start_logging()
            .name("main-trail")
            .send()
            .await
            .unwrap();
        deliver(
            &account.sdk,
            &config,
            &account,
            &[sample(&account, "start-logging.json")],
        )
        .await;
        assert_eq!(statuses(&account).await[&changes_id], "PASSED");
    });
}

#[test]
fn a_burst_of_50_events_is_one_scan() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        let config = config(&account, "default");
        // Complete chains for every default monitoring control, in `CloudTrail/main`.
        account.seed_monitoring_chains("main", "us-east-1").await;
        publish_all(&account, &config).await;
        let proxy = FaultProxy::start();
        let sdk = proxy.sdk_for(&account);

        // One event, for the baseline of one re-check's requests.
        proxy.reset();
        let one = deliver(
            &sdk,
            &config,
            &account,
            &[sample(&account, "stop-logging.json")],
        )
        .await;
        let single = proxy.settled_stats().requests();
        assert_eq!(one.scans(), 1);

        // A stack update's burst: 50 chain-changing calls of every kind.
        let kinds = [
            "stop-logging.json",
            "start-logging.json",
            "put-event-selectors.json",
            "delete-metric-filter.json",
            "put-metric-filter.json",
            "put-metric-alarm.json",
            "disable-alarm-actions.json",
            "set-topic-attributes.json",
            "subscribe.json",
            "unsubscribe.json",
        ];
        let bodies: Vec<String> = (0..50)
            .map(|n| sample(&account, kinds[n % kinds.len()]))
            .collect();
        proxy.reset();
        let burst = deliver(&sdk, &config, &account, &bodies).await;
        let requests = proxy.settled_stats().requests();
        assert_eq!((burst.changes, burst.scans()), (50, 1), "{burst:?}");
        assert_eq!(burst.accounts.len(), 1);
        assert_eq!(
            requests.get("sts:GetCallerIdentity"),
            Some(&1),
            "one collection: {requests:?}"
        );
        assert_eq!(
            requests.get("cloudtrail:DescribeTrails"),
            single.get("cloudtrail:DescribeTrails"),
            "the burst reads what one event reads: {requests:?} vs {single:?}"
        );
        assert_eq!(
            requests.get("securityhub:BatchImportFindings"),
            Some(&1),
            "one import: {requests:?}"
        );
    });
}

#[test]
fn events_outside_the_stacks_scope_change_nothing() {
    on_main_stack(|| async {
        let account = fresh_account().await;
        let only_delivery = config(&account, "trail-cw-logs");
        seeded(&account, &only_delivery).await;
        let before = held_by_id(&account.sdk).await;

        // A metric filter cannot affect CIS 3.4: no scan at all.
        let filter = deliver(
            &account.sdk,
            &only_delivery,
            &account,
            &[sample(&account, "delete-metric-filter.json")],
        )
        .await;
        assert_eq!((filter.changes, filter.scans()), (1, 0), "{filter:?}");

        // A filter on a log group no trail delivers to: scanned, but no chain runs through it.
        let all = config(&account, "default");
        let elsewhere = sample(&account, "delete-metric-filter.json")
            .replace("\"CloudTrail/main\"", "\"/app/web\"");
        let unrelated = deliver(&account.sdk, &all, &account, &[elsewhere]).await;
        assert_eq!(unrelated.scans(), 1);
        assert!(unrelated.accounts[0].controls.is_empty(), "{unrelated:?}");
        assert!(unrelated.accounts[0].run.is_none());

        // Another account's event, one off the list, one not an event at all: logged, dropped,
        // and not a failed batch.
        let other_account =
            sample(&account, "stop-logging.json").replace(&account.id, "444455556666");
        let read_only =
            sample(&account, "stop-logging.json").replace("StopLogging", "GetTrailStatus");
        let ignored = deliver(
            &account.sdk,
            &all,
            &account,
            &[other_account, read_only, "not an event".to_string()],
        )
        .await;
        assert_eq!((ignored.ignored, ignored.scans()), (3, 0), "{ignored:?}");

        assert_eq!(
            held_by_id(&account.sdk).await,
            before,
            "nothing was imported"
        );
    });
}

/// In an organization stack, a member's change (forwarded by `change-forwarder.yaml`) is not
/// scanned by the re-check itself: it queues one account message narrowed to the controls the
/// change can affect, and the worker that takes it scans the member through its role and
/// publishes those controls into the member's own Security Hub.
#[test]
fn a_members_change_is_queued_for_a_worker_with_only_its_controls() {
    use crate::lambda_organization::sqs_event;
    use crate::support::org::Organization;
    use trailwatch::lambda::fanout::AccountMessage;

    on_main_stack(|| async {
        let organization = Organization::create(1).await;
        let management = &organization.management;
        let member = &organization.members[0];
        let pattern = trailwatch::controls::control("cloudtrail-changes")
            .and_then(|control| control.required_pattern())
            .unwrap();
        member.seed_chain(&ChainSpec::new("main", pattern)).await;
        let (config, scan_queue) =
            organization_stack(management, "cloudtrail-changes,securityhub-enabled").await;

        aws_sdk_cloudtrail::Client::new(&member.sdk)
            .stop_logging()
            .name("main-trail")
            .send()
            .await
            .unwrap();
        let event = sample(member, "stop-logging.json");
        let rechecked = deliver(&management.sdk, &config, management, &[event]).await;
        assert_eq!(
            rechecked.scans(),
            0,
            "the member is not scanned here: {rechecked:?}"
        );
        let queued = &rechecked.accounts[0];
        assert_eq!(queued.account_id, member.id);
        assert!(queued.queued, "{queued:?}");
        assert_eq!(
            queued.controls,
            ["cloudtrail-changes"],
            "CIS 4.16 is no chain"
        );

        let batch = sqs_event(management, &scan_queue, 1).await;
        let message: AccountMessage =
            serde_json::from_str(batch["Records"][0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            (message.account.id.as_str(), message.controls.as_slice()),
            (
                member.id.as_str(),
                ["cloudtrail-changes".to_string()].as_slice()
            )
        );
        let worked = crate::lambda_organization::worker_batch(
            lambda::handle(&management.sdk, &config, &batch).await,
        );
        assert!(worked.batch_item_failures.is_empty(), "{worked:?}");
        let verdicts = statuses(member).await;
        assert_eq!(
            verdicts.len(),
            1,
            "only the queued control is published: {verdicts:?}"
        );
        assert_eq!(verdicts[id_of(&verdicts, "cloudtrail-changes")], "FAILED");
    });
}

/// Deletes the organization trail's CloudTrail-changes alarm in `management` (see
/// [`crate::support::org::seed_management`]), and the event that change emits.
async fn delete_organization_alarm(management: &TestAccount) -> String {
    aws_sdk_cloudwatch::Client::new(&management.sdk)
        .delete_alarms()
        .alarm_names("org-cloudtrail-changes")
        .send()
        .await
        .unwrap();
    sample(management, "delete-alarms.json").replace("main-alarm", "org-cloudtrail-changes")
}

/// A change to the organization trail's chain in the stack's own (management) account concerns
/// every member judged on that chain: the re-check starts the organization run narrowed to the
/// affected controls — the chain read once, one message per member — and the member's finding
/// turns FAILED when its worker runs.
#[test]
fn a_change_to_the_organization_trails_chain_rechecks_the_members_judged_on_it() {
    use crate::lambda_organization::sqs_event;
    use crate::support::org::{seed_management, Organization};
    use trailwatch::lambda::fanout::AccountMessage;

    on_main_stack(|| async {
        let organization = Organization::create(1).await;
        let management = &organization.management;
        let member = &organization.members[0];
        // The organization trail's CloudTrail filter covers the member's records.
        seed_management(management, &member.id).await;
        let (config, scan_queue) = organization_stack(management, "cloudtrail-changes").await;
        let scheduled = scheduled_event();
        lambda::handle(&management.sdk, &config, &scheduled)
            .await
            .expect("coordinator run");
        let work = sqs_event(management, &scan_queue, 1).await;
        lambda::handle(&management.sdk, &config, &work)
            .await
            .expect("worker run");
        let before = statuses(member).await;
        let finding = id_of(&before, "cloudtrail-changes").to_string();
        assert_eq!(before[&finding], "PASSED");

        let event = delete_organization_alarm(management).await;
        let rechecked = deliver(&management.sdk, &config, management, &[event]).await;
        assert_eq!(rechecked.accounts.len(), 1);
        assert_eq!(
            rechecked.accounts[0].members_queued,
            Some(1),
            "{rechecked:?}"
        );

        let work = sqs_event(management, &scan_queue, 1).await;
        let message: AccountMessage =
            serde_json::from_str(work["Records"][0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(message.controls, ["cloudtrail-changes"]);
        assert!(
            message.shared.is_some(),
            "the shared chain travels with the message"
        );
        lambda::handle(&management.sdk, &config, &work)
            .await
            .expect("worker run");
        assert_eq!(statuses(member).await[&finding], "FAILED");
    });
}

/// The deployment the README recommends, the stack in a delegated administrator: the
/// organization trail and its chain belong to the management account, a member here, whose
/// change (forwarded by `change-forwarder.yaml`) to that chain joins the stack's own re-check
/// and re-checks every member judged on it — the organization run narrowed to the affected
/// controls — besides the management account's own re-check, queued as any member's.
#[test]
fn from_a_delegated_administrator_the_management_accounts_change_to_the_organization_chain_rechecks_the_members(
) {
    use crate::lambda_organization::{coordinate_and_work, delegated_deployment, sqs_event};

    on_main_stack(|| async {
        let (organization, central, a, _b) = delegated_deployment().await;
        let management = &organization.management;
        let (config, scan_queue) = organization_stack(&central, "cloudtrail-changes").await;
        coordinate_and_work(&central, &config, &scan_queue, 3).await;
        let before = statuses(&a).await;
        let finding = id_of(&before, "cloudtrail-changes").to_string();
        assert_eq!(
            before[&finding], "PASSED",
            "A is covered by the narrowed filter"
        );

        // Off the chain: a filter of a log group no organization trail delivers to.
        let elsewhere = sample(management, "delete-metric-filter.json");
        let rechecked = deliver(&central.sdk, &config, &central, &[elsewhere]).await;
        let (own, queued) = own_and_queued(&rechecked, &central, management);
        assert!(own.scanned, "{rechecked:?}");
        assert_eq!(own.members_queued, None, "{rechecked:?}");
        assert!(own.controls.is_empty(), "{rechecked:?}");
        assert!(queued.queued, "{rechecked:?}");
        // Its own message only (received here, so that the next check counts the new ones).
        sqs_event(&central, &scan_queue, 1).await;

        // On the chain: the organization trail's alarm.
        let event = delete_organization_alarm(management).await;
        let rechecked = deliver(&central.sdk, &config, &central, &[event]).await;
        let (own, queued) = own_and_queued(&rechecked, &central, management);
        assert_eq!(
            own.changes,
            [format!(
                "aws.monitoring DeleteAlarms us-east-1 in {}",
                management.id
            )]
        );
        assert_eq!(own.controls, ["cloudtrail-changes"], "{rechecked:?}");
        assert_eq!(
            own.members_queued,
            Some(3),
            "management, A and B: {rechecked:?}"
        );
        assert!(queued.queued, "{rechecked:?}");
        // The organization run's three messages and the management account's own (the one of
        // the change off the chain was received above and is not visible yet).
        let work = sqs_event(&central, &scan_queue, 4).await;
        let batch = crate::lambda_organization::worker_batch(
            lambda::handle(&central.sdk, &config, &work).await,
        );
        assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
        assert_eq!(statuses(&a).await[&finding], "FAILED");
    });
}

/// The stack's own entry and the management account's queued one in a delegated
/// administrator's re-check summary.
fn own_and_queued<'a>(
    rechecked: &'a RecheckSummary,
    central: &TestAccount,
    management: &TestAccount,
) -> (&'a AccountRecheck, &'a AccountRecheck) {
    let entry = |id: &str| {
        rechecked
            .accounts
            .iter()
            .find(|account| account.account_id == id)
            .unwrap_or_else(|| panic!("no entry for {id}: {rechecked:?}"))
    };
    (entry(&central.id), entry(&management.id))
}

/// From a delegated administrator, a change of a member that is not the management account (it
/// owns no organization trail) is queued for its worker, and the stack's own account is not
/// read for it: one DescribeOrganization, then the member's sealed message.
#[test]
fn a_members_change_outside_the_management_account_reads_no_organization_chain() {
    use crate::lambda_organization::delegated_deployment;

    on_main_stack(|| async {
        let (_organization, central, a, _b) = delegated_deployment().await;
        let (config, _scan_queue) = organization_stack(&central, "cloudtrail-changes").await;
        let proxy = FaultProxy::start();
        let sdk = proxy.sdk_for(&central);
        proxy.reset();
        let rechecked = deliver(&sdk, &config, &central, &[sample(&a, "delete-alarms.json")]).await;
        assert_eq!(rechecked.scans(), 0, "{rechecked:?}");
        assert_eq!(rechecked.accounts.len(), 1, "{rechecked:?}");
        assert!(rechecked.accounts[0].queued);
        let requests = proxy.settled_stats().operations;
        assert_eq!(
            requests.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "kms:GenerateMac",
                "organizations:DescribeOrganization",
                "sqs:SendMessageBatch"
            ],
            "{requests:?}"
        );
    });
}

/// The management account cannot be learnt: a refusal (the role without
/// organizations:DescribeOrganization) is logged and reported, the members' changes are queued
/// and their records kept (retrying cannot help; the schedule checks the chain); a passing
/// failure (throttled) returns the members' records for SQS to retry.
#[test]
fn an_unknown_management_account_is_reported_and_retried_only_when_it_may_pass() {
    use crate::lambda_organization::delegated_deployment;
    use crate::support::proxy::{Fault, ProxyConfig};

    on_main_stack(|| async {
        let (organization, central, _a, _b) = delegated_deployment().await;
        let management = &organization.management;
        let (config, _scan_queue) = organization_stack(&central, "cloudtrail-changes").await;
        let event = sample(management, "delete-alarms.json");

        let refused = central
            .denying(&["organizations:DescribeOrganization"])
            .await;
        let rechecked = deliver(
            &refused.sdk,
            &config,
            &central,
            std::slice::from_ref(&event),
        )
        .await;
        assert!(
            rechecked
                .management_unknown
                .as_deref()
                .is_some_and(|error| error.contains("AccessDenied")),
            "{rechecked:?}"
        );
        assert_eq!(rechecked.scans(), 0, "{rechecked:?}");
        assert!(rechecked.accounts[0].queued, "{rechecked:?}");

        let proxy = FaultProxy::start();
        proxy.configure(
            &ProxyConfig::seeded(1)
                .fault(Fault::throttle(1.0).on(&["organizations:DescribeOrganization"])),
        );
        let throttled = batch(&central, std::slice::from_ref(&event));
        let Response::Rechecked(response) =
            lambda::handle(&proxy.sdk_for(&central), &config, &throttled)
                .await
                .expect("the batch is handled")
        else {
            panic!("not a re-check");
        };
        let retried: Vec<&str> = response
            .batch
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.as_str())
            .collect();
        let records: Vec<&str> = throttled["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record["messageId"].as_str().unwrap())
            .collect();
        assert_eq!(retried, records, "{response:?}");
        assert!(response.recheck.management_unknown.is_some());
    });
}
