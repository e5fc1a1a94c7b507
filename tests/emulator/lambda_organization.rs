//! The organization stack's Lambda logic called directly (no runtime) against the emulator: the
//! scheduled invocation coordinates — scans the management account, sends one SQS message per
//! member — and an SQS event made of those messages is scanned by the same handler: findings in
//! each member's own Security Hub, a member whose role refuses the scan named in the management
//! account's, a member whose AssumeRole is throttled returned in `batchItemFailures`.

use crate::support::changes::{scheduled_event, sqs_record};
use crate::support::hub::held_findings;
use crate::support::org::{
    create_stack, register_delegated_administrator, seed_coverage, seed_management, Organization,
    ScanStack, DENY_ASSUME_TAG, MEMBER_ROLE, MONITORING, STATE_TAG, THROTTLE_ASSUME_TAG,
};
use crate::support::proxy::{Fault, FaultProxy, ProxyConfig};
use crate::support::{fresh_account, on_main_stack, TestAccount, TrailSpec};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use trailwatch::lambda::config::{
    ENV_ACCOUNTS, ENV_MAX_MESSAGE_BYTES, ENV_MAX_RECEIVE_COUNT, ENV_MEMBER_ROLE_NAME,
    ENV_MESSAGE_KEY, ENV_ORGANIZATION, ENV_QUEUE_URL, ENV_REGIONS, ENV_SECURITYHUB_REGION,
};
use trailwatch::lambda::event::SqsBatchResponse;
use trailwatch::lambda::fanout::{AccountMessage, PackedChains, MESSAGE_KIND, QUEUE_MARGIN};
use trailwatch::lambda::mac::{MessageKey, MAC_ATTRIBUTE};
use trailwatch::lambda::{self, Config, Response};
use trailwatch::model::snapshot::SharedChains;

fn config(stack: &ScanStack) -> Config {
    config_with(stack, &[])
}

/// [`config`] with more variables.
pub(crate) fn config_with(stack: &ScanStack, more: &[(&str, &str)]) -> Config {
    let more: Vec<(String, String)> = more
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Config::from_lookup(|name| match name {
        name if more.iter().any(|(key, _)| key == name) => more
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone()),
        ENV_ORGANIZATION => Some("true".to_string()),
        ENV_QUEUE_URL => Some(stack.queue.clone()),
        ENV_MESSAGE_KEY => Some(stack.key.clone()),
        ENV_MEMBER_ROLE_NAME => Some(MEMBER_ROLE.to_string()),
        ENV_REGIONS => Some("us-east-1".to_string()),
        ENV_SECURITYHUB_REGION => Some("us-east-1".to_string()),
        _ => None,
    })
    .expect("valid configuration")
}

/// A worker run's answer: the batch response of the invocation `answer` (which must have been
/// an SQS batch handled by a worker).
pub(crate) fn worker_batch(answer: Result<Response, lambda::LambdaError>) -> SqsBatchResponse {
    match answer.expect("worker run") {
        Response::Batch(batch) => batch,
        other => panic!("not a worker run: {other:?}"),
    }
}

/// Every message on the queue, as the SQS event source would deliver them (received, not yet
/// deleted: what Lambda hands the function).
pub(crate) async fn sqs_event(account: &TestAccount, queue_url: &str, expected: usize) -> Value {
    let client = aws_sdk_sqs::Client::new(&account.sdk);
    let mut records = Vec::new();
    for _ in 0..20 {
        let received = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .message_attribute_names("All")
            .send()
            .await
            .expect("sqs:ReceiveMessage");
        let queue_arn = format!("arn:aws:sqs:us-east-1:{}:trailwatch", account.id);
        for message in received.messages() {
            records.push(sqs_record(message, &queue_arn));
        }
        if records.len() >= expected {
            break;
        }
    }
    assert_eq!(records.len(), expected, "messages on the queue");
    json!({ "Records": records })
}

/// `record` with `body` in place of its own, sealed with the stack's key as the coordinator
/// seals (the test holds the function role's access): what reaches the checks behind the MAC.
async fn resealed(record: &Value, body: String, stack: &ScanStack, account: &TestAccount) -> Value {
    let mac = MessageKey::new(&account.sdk, &stack.key)
        .seal(&body)
        .await
        .expect("kms:GenerateMac");
    let mut record = record.clone();
    record["body"] = json!(body);
    record["messageAttributes"][MAC_ATTRIBUTE]["stringValue"] = json!(mac);
    record
}

#[test]
fn the_coordinator_fans_out_and_the_workers_scan_each_member() {
    on_main_stack(|| async {
        let organization = Organization::create(4).await;
        let [plain, refusing, throttled, other] = [0, 1, 2, 3].map(|n| &organization.members[n]);
        seed_management(&organization.management, &other.id).await;
        organization
            .tag(refusing, DENY_ASSUME_TAG, MEMBER_ROLE)
            .await;
        organization.tag(throttled, THROTTLE_ASSUME_TAG, "1").await;
        let management = &organization.management;
        let stack = create_stack(management).await;
        let config = config(&stack);

        let coordinated = lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let Response::Coordinated(summary) = coordinated else {
            panic!("not a coordinator run: {coordinated:?}");
        };
        assert_eq!(summary.messages_sent, 4, "{summary:?}");
        assert!(summary.messages_failed.is_empty());
        assert!(summary.shared_in_messages);
        // The management account was scanned by the coordinator itself.
        assert!(summary
            .reports
            .iter()
            .any(|report| report.account_id == management.id));
        assert!(!held_findings(&management.sdk).await.is_empty());

        let event = sqs_event(management, &stack.queue, 4).await;
        let messages: Vec<AccountMessage> = event["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| serde_json::from_str(record["body"].as_str().unwrap()).unwrap())
            .collect();
        assert!(messages.iter().all(|message| message.kind == MESSAGE_KIND
            && message.scanning_account == management.id
            && message.shared.as_ref().is_some_and(|shared| shared
                .unpack()
                .unwrap()
                .chains
                .trails
                .len()
                == 1)));
        let throttled_message = event["Records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|record| record["body"].as_str().unwrap().contains(&throttled.id))
            .unwrap()["messageId"]
            .clone();

        let batch = crate::lambda_organization::worker_batch(
            lambda::handle(&management.sdk, &config, &event).await,
        );
        let retried: Vec<&str> = batch
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.as_str())
            .collect();
        assert_eq!(retried, [throttled_message.as_str().unwrap()]);
        let response = serde_json::to_value(Response::Batch(batch)).unwrap();
        assert!(response["batchItemFailures"][0]["itemIdentifier"].is_string());

        // Each scanned member's findings are in its own Security Hub, under its own account.
        for member in [plain, other] {
            let findings = held_findings(&member.sdk).await;
            assert_eq!(findings.len(), 4, "member {}: {findings:#?}", member.id);
            assert!(findings
                .iter()
                .all(|finding| finding.aws_account_id() == Some(member.id.as_str())));
        }
        // The refusing member is named in the management account's Security Hub, the throttled
        // one is not (it will be retried).
        let coverage: Vec<String> = held_findings(&management.sdk)
            .await
            .iter()
            .filter(|finding| finding.generator_id() == Some("trailwatch/scan-coverage"))
            .map(|finding| finding.resources()[0].id().unwrap().to_string())
            .collect();
        assert_eq!(coverage, [format!("AWS::::Account:{}", refusing.id)]);
        assert!(held_findings(&throttled.sdk).await.is_empty());
    });
}

/// The worker keeps to its invocation's deadline: with too little time left it starts no scan
/// and returns every record in `batchItemFailures` (nothing imported); with time enough the same
/// batch is scanned, its records at once.
#[test]
fn a_worker_starts_no_scan_it_has_no_time_for() {
    on_main_stack(|| async {
        let organization = Organization::create(2).await;
        let management = &organization.management;
        let stack = create_stack(management).await;
        let config = config(&stack);
        lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let event = sqs_event(management, &stack.queue, 2).await;
        let ids: Vec<&str> = event["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record["messageId"].as_str().unwrap())
            .collect();

        let soon = Instant::now() + Duration::from_secs(60);
        let batch =
            worker_batch(lambda::handle_until(&management.sdk, &config, &event, Some(soon)).await);
        let returned: Vec<&str> = batch
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.as_str())
            .collect();
        assert_eq!(returned, ids);
        for member in &organization.members {
            assert!(held_findings(&member.sdk).await.is_empty());
        }

        let later = Instant::now() + Duration::from_secs(900);
        let batch =
            worker_batch(lambda::handle_until(&management.sdk, &config, &event, Some(later)).await);
        assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
        for member in &organization.members {
            assert!(!held_findings(&member.sdk).await.is_empty());
        }
    });
}

/// A worker trusts a message only as far as it can check it: an account outside the
/// organization, a suspended one or a malformed id is refused (returned in `batchItemFailures`,
/// for the dead-letter queue) and nothing is imported for it; a message that claims another
/// scanning account and partition is scanned with the worker's own identity, its coverage
/// finding in the worker's account.
#[test]
fn a_worker_refuses_what_it_cannot_check_and_uses_its_own_identity() {
    on_main_stack(|| async {
        let organization = Organization::create(2).await;
        let [refusing, suspended] = [0, 1].map(|n| &organization.members[n]);
        organization
            .tag(refusing, DENY_ASSUME_TAG, MEMBER_ROLE)
            .await;
        let management = &organization.management;
        let stack = create_stack(management).await;
        let config = config(&stack);
        lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let event = sqs_event(management, &stack.queue, 2).await;
        let template = event["Records"][0].clone();
        let message: AccountMessage =
            serde_json::from_str(template["body"].as_str().unwrap()).unwrap();
        // Suspended after the coordinator listed it.
        organization.tag(suspended, STATE_TAG, "SUSPENDED").await;
        let outsider = fresh_account().await;
        // Sealed with the stack's key: these checks hold even for a message whose MAC verifies.
        let record = |id: &str, message: &AccountMessage| {
            let mut record = template.clone();
            record["messageId"] = json!(id);
            let body = serde_json::to_string(message).unwrap();
            let (stack, management) = (&stack, &management);
            async move { resealed(&record, body, stack, management).await }
        };
        let with_account = |account: &str| {
            let mut forged = message.clone();
            forged.account.id = account.to_string();
            forged
        };
        let mut claims = with_account(&refusing.id);
        claims.scanning_account = outsider.id.clone();
        claims.partition = "aws-cn".to_string();
        let batch = json!({"Records": [
            record("outsider", &with_account(&outsider.id)).await,
            record("suspended", &with_account(&suspended.id)).await,
            record("malformed", &with_account("12345")).await,
            record("itself", &with_account(&management.id)).await,
            record("claims", &claims).await,
        ]});
        let batch = worker_batch(lambda::handle(&management.sdk, &config, &batch).await);
        let returned: Vec<&str> = batch
            .batch_item_failures
            .iter()
            .map(|failure| failure.item_identifier.as_str())
            .collect();
        assert_eq!(returned, ["outsider", "suspended", "malformed", "itself"]);
        assert!(held_findings(&outsider.sdk).await.is_empty());
        assert!(held_findings(&suspended.sdk).await.is_empty());
        // The refusing member's coverage finding is in the worker's own account and partition,
        // not in the account the message claimed.
        let coverage: Vec<_> = held_findings(&management.sdk)
            .await
            .into_iter()
            .filter(|finding| finding.generator_id() == Some("trailwatch/scan-coverage"))
            .collect();
        assert_eq!(coverage.len(), 1, "{coverage:#?}");
        assert_eq!(coverage[0].aws_account_id(), Some(management.id.as_str()));
        assert!(coverage[0]
            .product_arn()
            .unwrap()
            .starts_with("arn:aws:securityhub:"));
        assert_eq!(
            coverage[0].resources()[0].id(),
            Some(format!("AWS::::Account:{}", refusing.id).as_str())
        );
    });
}

/// A message whose chains were read longer ago than the bound is refused (for the dead-letter
/// queue), nothing imported; the same message sent now is scanned.
#[test]
fn a_message_with_stale_chains_is_refused() {
    on_main_stack(|| async {
        let organization = Organization::create(1).await;
        let member = &organization.members[0];
        let management = &organization.management;
        let stack = create_stack(management).await;
        let config = config(&stack);
        lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let event = sqs_event(management, &stack.queue, 1).await;
        let mut message: AccountMessage =
            serde_json::from_str(event["Records"][0]["body"].as_str().unwrap()).unwrap();
        message.chains_read_at -= time::Duration::hours(7);
        // Sealed with the stack's key: only its age refuses it.
        let mut stale = event.clone();
        stale["Records"][0] = resealed(
            &event["Records"][0],
            serde_json::to_string(&message).unwrap(),
            &stack,
            management,
        )
        .await;
        let batch = worker_batch(lambda::handle(&management.sdk, &config, &stale).await);
        assert_eq!(batch.batch_item_failures.len(), 1, "{batch:?}");
        assert!(held_findings(&member.sdk).await.is_empty());

        let batch = worker_batch(lambda::handle(&management.sdk, &config, &event).await);
        assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
        assert!(!held_findings(&member.sdk).await.is_empty());
    });
}

/// A scan whose reads were throttled publishes nothing before the record's last receive (the
/// record goes back to the queue, the member's earlier verdicts stand); on its last receive
/// (ApproximateReceiveCount = the queue's maxReceiveCount) its NOT_AVAILABLE findings are
/// published with the reason.
#[test]
fn throttled_reads_wait_for_the_last_receive() {
    on_main_stack(|| async {
        let organization = Organization::create(1).await;
        let member = &organization.members[0];
        // A trail whose status decides the verdicts (it sends to a log group): a status read
        // that stays throttled makes them NOT_AVAILABLE.
        let group = member
            .create_log_group("us-east-1", "CloudTrail/busy")
            .await;
        member
            .create_trail(&TrailSpec::new("busy").log_group(&group).throttled(1000))
            .await;
        let management = &organization.management;
        let stack = create_stack(management).await;
        let config = config_with(&stack, &[(ENV_MAX_RECEIVE_COUNT, "5")]);
        lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let event = sqs_event(management, &stack.queue, 1).await;
        let received = |count: &str| {
            let mut event = event.clone();
            event["Records"][0]["attributes"] = json!({ "ApproximateReceiveCount": count });
            event
        };
        for count in ["1", "4"] {
            let batch =
                worker_batch(lambda::handle(&management.sdk, &config, &received(count)).await);
            assert_eq!(batch.batch_item_failures.len(), 1, "receive {count}");
            assert!(held_findings(&member.sdk).await.is_empty());
        }
        let batch = worker_batch(lambda::handle(&management.sdk, &config, &received("5")).await);
        assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
        let findings = held_findings(&member.sdk).await;
        let unavailable: Vec<_> = findings
            .iter()
            .filter(|finding| {
                finding
                    .compliance()
                    .and_then(|compliance| compliance.status())
                    .map(|status| status.as_str())
                    == Some("NOT_AVAILABLE")
            })
            .collect();
        assert!(!unavailable.is_empty(), "{findings:#?}");
    });
}

/// The active findings of an account's own Security Hub: control id → compliance status.
async fn verdicts(account: &TestAccount) -> std::collections::BTreeMap<String, String> {
    held_findings(&account.sdk)
        .await
        .iter()
        .filter(|finding| finding.record_state().map(|s| s.as_str()) == Some("ACTIVE"))
        .map(|finding| {
            (
                finding
                    .generator_id()
                    .unwrap()
                    .trim_start_matches("trailwatch/")
                    .to_string(),
                finding
                    .compliance()
                    .and_then(|c| c.status())
                    .map(|s| s.as_str().to_string())
                    .unwrap(),
            )
        })
        .collect()
}

/// The deployment the README recommends: the central stack in a delegated administrator of
/// the organization, not its management account. The management account owns the organization
/// trail and its chain (filter narrowed to member A); the member role is deployed there by hand,
/// trusting the central account (as every member's role does). Returns the organization, the
/// central account, A and a member B that logs only through the organization trail.
pub(crate) async fn delegated_deployment() -> (Organization, TestAccount, TestAccount, TestAccount)
{
    let mut organization = Organization::create(3).await;
    let b = organization.members.pop().unwrap();
    let a = organization.members.pop().unwrap();
    let central = organization.members.pop().unwrap();
    register_delegated_administrator(&organization, &central).await;
    seed_management(&organization.management, &a.id).await;
    let trusted = central.session_role_arn();
    for account in [&organization.management, &a, &b] {
        account.put_role_trusting(MEMBER_ROLE, &trusted);
    }
    (organization, central, a, b)
}

/// The verdicts the management account's chain gives A (every control passes: the CloudTrail
/// filter is narrowed to A's records) and B (the CloudTrail filter misses B's records).
fn judged_on_the_organization_trail(member: &str, a: &TestAccount) -> Vec<(String, String)> {
    MONITORING
        .iter()
        .map(|id| {
            let status = if *id == "cloudtrail-changes" && member != a.id {
                "FAILED"
            } else {
                "PASSED"
            };
            (id.to_string(), status.to_string())
        })
        .collect()
}

/// A coordinator run in `central`, then the workers on every message it sent.
pub(crate) async fn coordinate_and_work(
    central: &TestAccount,
    config: &Config,
    queue: &str,
    members: usize,
) -> (
    trailwatch::lambda::fanout::CoordinatorSummary,
    Vec<AccountMessage>,
) {
    let Response::Coordinated(summary) = lambda::handle(&central.sdk, config, &scheduled_event())
        .await
        .expect("coordinator run")
    else {
        panic!("not a coordinator run");
    };
    assert_eq!(summary.messages_sent, members, "{summary:?}");
    let event = sqs_event(central, queue, members).await;
    let batch = worker_batch(lambda::handle(&central.sdk, config, &event).await);
    assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
    let messages: Vec<AccountMessage> = event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| serde_json::from_str(record["body"].as_str().unwrap()).unwrap())
        .collect();
    (*summary, messages)
}

/// The central stack in a delegated administrator: the organization trail's status and
/// selectors (which a member may not read: the wrapper refuses GetEventSelectors, as AWS is
/// reported to), its log group, alarms and topic are read through the management account's
/// member role, once, and every member is judged on them — none NOT_AVAILABLE.
#[test]
fn a_delegated_administrator_reads_the_organization_trail_through_the_management_role() {
    on_main_stack(|| async {
        let (organization, central, a, b) = delegated_deployment().await;
        let stack = create_stack(&central).await;
        let config = config(&stack);
        let (summary, messages) = coordinate_and_work(&central, &config, &stack.queue, 3).await;
        assert!(summary.shared_in_messages);
        // The chains the coordinator read, as the messages carry them: the trail's status and
        // selectors read, not refused.
        for message in &messages {
            let chains = message.shared.as_ref().unwrap().unpack().unwrap();
            let [trail] = chains.chains.trails.as_slice() else {
                panic!("one organization trail: {chains:?}");
            };
            assert!(trail.status.is_ok(), "{:?}", trail.status);
            assert!(trail.event_selectors.is_ok(), "{:?}", trail.event_selectors);
        }
        for member in [&a, &b] {
            let verdicts: Vec<(String, String)> = verdicts(member)
                .await
                .into_iter()
                .filter(|(control, _)| control != "trail-cw-logs")
                .collect();
            assert_eq!(
                verdicts,
                {
                    let mut expected = judged_on_the_organization_trail(&member.id, &a);
                    expected.sort();
                    expected
                },
                "member {}",
                member.id
            );
        }
        // The management account is a member like the others, scanned through its role; the
        // organization trail's CIS 3.4 finding is its own, PASSED or FAILED on its delivery,
        // never NOT_AVAILABLE; so is the central account's, scanned by the coordinator.
        let management = verdicts(&organization.management).await;
        assert_eq!(management.len(), 5, "{management:?}");
        assert!(
            management.values().all(|status| status != "NOT_AVAILABLE"),
            "{management:?}"
        );
        let central_verdicts = verdicts(&central).await;
        assert!(
            central_verdicts
                .values()
                .all(|status| status != "NOT_AVAILABLE"),
            "{central_verdicts:?}"
        );
    });
}

/// The large-organization path: the chains do not fit in a message (here a queue taking 1 KiB
/// messages), so every worker reads the organization trail itself — through the management
/// account's member role, never with the member's own credentials (GetEventSelectors refused) —
/// and judges every member as the chains in the message would have.
#[test]
fn workers_read_chains_that_did_not_fit_through_the_owners_role() {
    on_main_stack(|| async {
        let (organization, central, a, b) = delegated_deployment().await;
        let stack = create_stack(&central).await;
        let config = config_with(&stack, &[(ENV_MAX_MESSAGE_BYTES, "1024")]);
        let (summary, messages) = coordinate_and_work(&central, &config, &stack.queue, 3).await;
        assert!(!summary.shared_in_messages, "{summary:?}");
        assert!(messages.iter().all(|message| message.shared.is_none()));
        for member in [&a, &b] {
            let mut expected = judged_on_the_organization_trail(&member.id, &a);
            expected.sort();
            let verdicts: Vec<(String, String)> = verdicts(member)
                .await
                .into_iter()
                .filter(|(control, _)| control != "trail-cw-logs")
                .collect();
            assert_eq!(verdicts, expected, "member {}", member.id);
        }
        assert_eq!(verdicts(&organization.management).await.len(), 5);
    });
}

/// The scanning account's active coverage findings: the account ids they name.
async fn active_coverage(account: &TestAccount) -> Vec<String> {
    held_findings(&account.sdk)
        .await
        .iter()
        .filter(|finding| {
            finding.generator_id() == Some("trailwatch/scan-coverage")
                && finding.record_state().map(|s| s.as_str()) == Some("ACTIVE")
        })
        .map(|finding| {
            finding.resources()[0]
                .id()
                .unwrap()
                .trim_start_matches("AWS::::Account:")
                .to_string()
        })
        .collect()
}

/// Coverage findings without a quadratic read. The central account holds coverage findings of
/// 250 accounts that have left the organization, of a member since suspended and of one the stack
/// no longer scans (`Accounts`). The coordinator, which lists the organization, archives those
/// 252 — the one place that does. A worker that writes its member's coverage finding reads only
/// that finding (GetFindings filtered by Id: one request, counted by the proxy), not every page of
/// the central account's findings (3 here, growing with the organization).
#[test]
fn coverage_findings_are_read_by_id_and_retired_by_the_coordinator() {
    on_main_stack(|| async {
        let organization = Organization::create(3).await;
        let [refusing, suspended, excluded] = [0, 1, 2].map(|n| &organization.members[n]);
        organization
            .tag(refusing, DENY_ASSUME_TAG, MEMBER_ROLE)
            .await;
        let management = &organization.management;
        let gone: Vec<String> = (0..250u64)
            .map(|n| format!("{:012}", 900_000_000_000 + n))
            .collect();
        let held: Vec<&String> = gone.iter().chain([&suspended.id, &excluded.id]).collect();
        assert_eq!(seed_coverage(management, &held).await, 252);
        organization.tag(suspended, STATE_TAG, "SUSPENDED").await;

        let stack = create_stack(management).await;
        let accounts = format!("{},{}", refusing.id, suspended.id);
        let config = config_with(&stack, &[(ENV_ACCOUNTS, accounts.as_str())]);
        let Response::Coordinated(summary) =
            lambda::handle(&management.sdk, &config, &scheduled_event())
                .await
                .expect("coordinator run")
        else {
            panic!("not a coordinator run");
        };
        assert_eq!(summary.messages_sent, 1, "{summary:?}");
        let mut retired = gone.clone();
        retired.extend([suspended.id.clone(), excluded.id.clone()]);
        retired.sort();
        assert_eq!(summary.coverage.retired, retired);
        assert_eq!(summary.coverage.archived, 252);
        assert!(active_coverage(management).await.is_empty());

        // The worker, through a proxy that counts its requests.
        let proxy = FaultProxy::start();
        let event = sqs_event(management, &stack.queue, 1).await;
        let batch = worker_batch(lambda::handle(&proxy.sdk_for(management), &config, &event).await);
        assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
        assert_eq!(active_coverage(management).await, [refusing.id.as_str()]);
        let requests = proxy.settled_stats().requests();
        assert_eq!(
            requests.get("securityhub:GetFindings"),
            Some(&1),
            "{requests:?}"
        );
    });
}

/// What the code under test logs while the guard lives (the test's runtime is current-thread,
/// so everything it runs logs here).
struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let buffer = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || LogWriter(writer.clone()))
            .finish();
        (
            CapturedLogs(buffer),
            tracing::subscriber::set_default(subscriber),
        )
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

struct LogWriter(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends `body` to the queue as anyone allowed `sqs:SendMessage` could (the emulator enforces no
/// queue policy), with `mac` as its MAC attribute when given.
async fn send_to_queue(account: &TestAccount, stack: &ScanStack, body: &str, mac: Option<&str>) {
    let mut send = aws_sdk_sqs::Client::new(&account.sdk)
        .send_message()
        .queue_url(&stack.queue)
        .message_body(body);
    if let Some(mac) = mac {
        send = send.message_attributes(
            MAC_ATTRIBUTE,
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(mac)
                .build()
                .unwrap(),
        );
    }
    send.send().await.expect("sqs:SendMessage");
}

/// Issue 12, item 1: the chains a message carries are verifiable. The coordinator seals every
/// message with the stack's HMAC key; someone who may send to the queue puts altered copies of
/// its messages there, each with the genuine MAC copied from the original: B's message with
/// chains whose CloudTrail filter names B where it named A (B's CloudTrail control would pass),
/// and A's message with B's account id (A's verdicts imported as B's); and a copy with no MAC at
/// all. Every one is refused — returned in `batchItemFailures`, so SQS moves it to the
/// dead-letter queue after its last receive (Lambda's event source, not run here) — with the
/// reason logged at ERROR, and nothing is imported into A or B. The altered chains, had they been
/// sealed with the key, would have been imported as PASSED (the alteration is one that matters);
/// the unaltered messages are scanned and B's verdict is FAILED again.
#[test]
fn a_message_altered_on_the_queue_is_refused_and_nothing_imported() {
    on_main_stack(|| async {
        let organization = Organization::create(2).await;
        let [a, b] = [0, 1].map(|n| &organization.members[n]);
        let management = &organization.management;
        seed_management(management, &a.id).await;
        let stack = create_stack(management).await;
        let config = config(&stack);
        lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let genuine = sqs_event(management, &stack.queue, 2).await;
        let record_of = |member: &TestAccount| {
            genuine["Records"]
                .as_array()
                .unwrap()
                .iter()
                .find(|record| {
                    let message: AccountMessage =
                        serde_json::from_str(record["body"].as_str().unwrap()).unwrap();
                    message.account.id == member.id
                })
                .unwrap()
                .clone()
        };
        let (record_a, record_b) = (record_of(a), record_of(b));
        let message_of = |record: &Value| -> AccountMessage {
            serde_json::from_str(record["body"].as_str().unwrap()).unwrap()
        };
        let mac_of = |record: &Value| {
            record["messageAttributes"][MAC_ATTRIBUTE]["stringValue"]
                .as_str()
                .expect("the coordinator's message carries a MAC")
                .to_string()
        };

        // B's chains, with the CloudTrail filter narrowed to B instead of A.
        let mut altered_chains = message_of(&record_b);
        let chains = altered_chains.shared.as_ref().unwrap().unpack().unwrap();
        let text = serde_json::to_string(&chains).unwrap();
        assert!(text.contains(&a.id), "the chains name A's id: {text}");
        let chains: SharedChains = serde_json::from_str(&text.replace(&a.id, &b.id)).unwrap();
        altered_chains.shared = Some(PackedChains::pack(&chains).unwrap());
        let altered_chains = serde_json::to_string(&altered_chains).unwrap();
        // A's message, for B.
        let mut altered_account = message_of(&record_a);
        altered_account.account.id = b.id.clone();
        let altered_account = serde_json::to_string(&altered_account).unwrap();
        send_to_queue(
            management,
            &stack,
            &altered_chains,
            Some(&mac_of(&record_b)),
        )
        .await;
        send_to_queue(
            management,
            &stack,
            &altered_account,
            Some(&mac_of(&record_a)),
        )
        .await;
        send_to_queue(management, &stack, &altered_chains, None).await;

        let forged = sqs_event(management, &stack.queue, 3).await;
        let (logs, guard) = CapturedLogs::start();
        let batch = worker_batch(lambda::handle(&management.sdk, &config, &forged).await);
        drop(guard);
        assert_eq!(batch.batch_item_failures.len(), 3, "{batch:?}");
        assert!(held_findings(&a.sdk).await.is_empty());
        assert!(held_findings(&b.sdk).await.is_empty());
        let logs = logs.text();
        let refusals: Vec<&str> = logs
            .lines()
            .filter(|line| line.contains("ERROR") && line.contains("refused the account message"))
            .collect();
        assert_eq!(
            refusals
                .iter()
                .filter(|line| line.contains("does not verify")
                    && line.contains("KMSInvalidMacException"))
                .count(),
            2,
            "{logs}"
        );
        assert_eq!(
            refusals
                .iter()
                .filter(|line| line.contains("has no trailwatch-mac attribute"))
                .count(),
            1,
            "{logs}"
        );

        // Sealed with the key, the altered chains would have passed B's CloudTrail control.
        let sealed = resealed(&record_b, altered_chains, &stack, management).await;
        let batch = worker_batch(
            lambda::handle(&management.sdk, &config, &json!({ "Records": [sealed] })).await,
        );
        assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
        assert_eq!(
            verdicts(b)
                .await
                .get("cloudtrail-changes")
                .map(String::as_str),
            Some("PASSED")
        );

        // The coordinator's own messages are scanned: B's CloudTrail control fails again.
        let batch = worker_batch(lambda::handle(&management.sdk, &config, &genuine).await);
        assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
        assert_eq!(
            verdicts(b)
                .await
                .get("cloudtrail-changes")
                .map(String::as_str),
            Some("FAILED")
        );
        assert_eq!(
            verdicts(a)
                .await
                .get("cloudtrail-changes")
                .map(String::as_str),
            Some("PASSED")
        );
    });
}

/// The account ids the messages of `event` name.
fn queued_accounts(event: &Value) -> std::collections::BTreeSet<String> {
    event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            let message: AccountMessage =
                serde_json::from_str(record["body"].as_str().unwrap()).unwrap();
            message.account.id
        })
        .collect()
}

/// Issue 12, item 7: a coordinator that runs out of time loses no account. Its first
/// SendMessageBatch (10 of 12 members) is held 15 s by the fault proxy, so the invocation's
/// deadline — 40 s away when it starts, of which it keeps the last 30 s to finish — comes while
/// it queues: it stops, sends what it holds, and fails (`trailwatch.CoordinatorOutOfTime`, so
/// Lambda retries it) naming every account it did not queue. Every member is either on the queue,
/// once, or named, never both; what was queued stays queued. The next run queues every member.
#[test]
fn a_coordinator_out_of_time_loses_no_account() {
    on_main_stack(|| async {
        let organization = Organization::create(12).await;
        let management = &organization.management;
        let stack = create_stack(management).await;
        let config = config(&stack);
        let proxy = FaultProxy::start();
        proxy.configure(
            &ProxyConfig::seeded(12).fault(
                Fault::slow(1.0, 15_000)
                    .on(&["sqs:SendMessageBatch"])
                    .first(1),
            ),
        );
        let deadline = Instant::now() + QUEUE_MARGIN + Duration::from_secs(10);
        let error = lambda::handle_until(
            &proxy.sdk_for(management),
            &config,
            &scheduled_event(),
            Some(deadline),
        )
        .await
        .expect_err("the coordinator runs out of time");
        assert_eq!(error.error_type(), "trailwatch.CoordinatorOutOfTime");
        let error = error.to_string();
        let named: Vec<&str> = organization
            .members
            .iter()
            .map(|member| member.id.as_str())
            .filter(|id| error.contains(id))
            .collect();
        assert!(!named.is_empty(), "{error}");
        let queued = queued_accounts(
            &sqs_event(
                management,
                &stack.queue,
                organization.members.len() - named.len(),
            )
            .await,
        );
        assert!(
            !queued.is_empty(),
            "nothing queued before the deadline: {error}"
        );
        for member in &organization.members {
            assert!(
                queued.contains(&member.id) != named.contains(&member.id.as_str()),
                "member {} queued: {}, named: {}",
                member.id,
                queued.contains(&member.id),
                named.contains(&member.id.as_str())
            );
        }

        // The retry (or the next scheduled run) queues every member.
        let Response::Coordinated(summary) =
            lambda::handle(&management.sdk, &config, &scheduled_event())
                .await
                .expect("coordinator run")
        else {
            panic!("not a coordinator run");
        };
        assert_eq!(summary.messages_sent, organization.members.len());
        let again =
            queued_accounts(&sqs_event(management, &stack.queue, organization.members.len()).await);
        assert_eq!(again.len(), organization.members.len());
    });
}
