//! The organization stack's Lambda logic called directly (no runtime) against the emulator: the
//! scheduled invocation coordinates — scans the management account, sends one SQS message per
//! member — and an SQS event made of those messages is scanned by the same handler: findings in
//! each member's own Security Hub, a member whose role refuses the scan named in the management
//! account's, a member whose AssumeRole is throttled returned in `batchItemFailures`.

use crate::support::hub::held_findings;
use crate::support::org::{
    seed_management, Organization, DENY_ASSUME_TAG, MEMBER_ROLE, STATE_TAG, THROTTLE_ASSUME_TAG,
};
use crate::support::{fresh_account, on_main_stack, TestAccount, TrailSpec};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use trailwatch::lambda::config::{
    ENV_MAX_RECEIVE_COUNT, ENV_MEMBER_ROLE_NAME, ENV_ORGANIZATION, ENV_QUEUE_URL, ENV_REGIONS,
    ENV_SECURITYHUB_REGION,
};
use trailwatch::lambda::fanout::{AccountMessage, MESSAGE_KIND};
use trailwatch::lambda::{self, Config, Response};

fn scheduled_event() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/events/scheduled.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn config(queue_url: &str) -> Config {
    config_with(queue_url, &[])
}

/// [`config`] with more variables.
fn config_with(queue_url: &str, more: &[(&str, &str)]) -> Config {
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
        ENV_QUEUE_URL => Some(queue_url.to_string()),
        ENV_MEMBER_ROLE_NAME => Some(MEMBER_ROLE.to_string()),
        ENV_REGIONS => Some("us-east-1".to_string()),
        ENV_SECURITYHUB_REGION => Some("us-east-1".to_string()),
        _ => None,
    })
    .expect("valid configuration")
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
            .send()
            .await
            .expect("sqs:ReceiveMessage");
        for message in received.messages() {
            records.push(json!({
                "messageId": message.message_id().unwrap(),
                "receiptHandle": message.receipt_handle().unwrap(),
                "body": message.body().unwrap(),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": message.md5_of_body().unwrap_or_default(),
                "eventSource": "aws:sqs",
                "eventSourceARN": format!("arn:aws:sqs:us-east-1:{}:trailwatch", account.id),
                "awsRegion": "us-east-1",
            }));
        }
        if records.len() >= expected {
            break;
        }
    }
    assert_eq!(records.len(), expected, "messages on the queue");
    json!({ "Records": records })
}

pub(crate) async fn create_queue(account: &TestAccount) -> String {
    aws_sdk_sqs::Client::new(&account.sdk)
        .create_queue()
        .queue_name("trailwatch-accounts")
        .send()
        .await
        .expect("sqs:CreateQueue")
        .queue_url()
        .unwrap()
        .to_string()
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
        let queue = create_queue(management).await;
        let config = config(&queue);

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

        let event = sqs_event(management, &queue, 4).await;
        let messages: Vec<AccountMessage> = event["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| serde_json::from_str(record["body"].as_str().unwrap()).unwrap())
            .collect();
        assert!(messages.iter().all(|message| message.kind == MESSAGE_KIND
            && message.scanning_account == management.id
            && message
                .shared
                .as_ref()
                .is_some_and(|shared| shared.chains.trails.len() == 1)));
        let throttled_message = event["Records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|record| record["body"].as_str().unwrap().contains(&throttled.id))
            .unwrap()["messageId"]
            .clone();

        let worked = lambda::handle(&management.sdk, &config, &event)
            .await
            .expect("worker run");
        let Response::Batch(batch) = worked else {
            panic!("not a worker run: {worked:?}");
        };
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
        let queue = create_queue(management).await;
        let config = config(&queue);
        lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let event = sqs_event(management, &queue, 2).await;
        let ids: Vec<&str> = event["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|record| record["messageId"].as_str().unwrap())
            .collect();

        let soon = Instant::now() + Duration::from_secs(60);
        let Response::Batch(batch) =
            lambda::handle_until(&management.sdk, &config, &event, Some(soon))
                .await
                .expect("worker run")
        else {
            panic!("not a worker run");
        };
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
        let Response::Batch(batch) =
            lambda::handle_until(&management.sdk, &config, &event, Some(later))
                .await
                .expect("worker run")
        else {
            panic!("not a worker run");
        };
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
        let queue = create_queue(management).await;
        let config = config(&queue);
        lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let event = sqs_event(management, &queue, 2).await;
        let template = event["Records"][0].clone();
        let message: AccountMessage =
            serde_json::from_str(template["body"].as_str().unwrap()).unwrap();
        // Suspended after the coordinator listed it.
        organization.tag(suspended, STATE_TAG, "SUSPENDED").await;
        let outsider = fresh_account().await;
        let record = |id: &str, message: &AccountMessage| {
            let mut record = template.clone();
            record["messageId"] = json!(id);
            record["body"] = json!(serde_json::to_string(message).unwrap());
            record
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
            record("outsider", &with_account(&outsider.id)),
            record("suspended", &with_account(&suspended.id)),
            record("malformed", &with_account("12345")),
            record("itself", &with_account(&management.id)),
            record("claims", &claims),
        ]});
        let Response::Batch(batch) = lambda::handle(&management.sdk, &config, &batch)
            .await
            .expect("worker run")
        else {
            panic!("not a worker run");
        };
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
        let queue = create_queue(management).await;
        let config = config(&queue);
        lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let event = sqs_event(management, &queue, 1).await;
        let mut message: AccountMessage =
            serde_json::from_str(event["Records"][0]["body"].as_str().unwrap()).unwrap();
        message.chains_read_at -= time::Duration::hours(7);
        let mut stale = event.clone();
        stale["Records"][0]["body"] = json!(serde_json::to_string(&message).unwrap());
        let Response::Batch(batch) = lambda::handle(&management.sdk, &config, &stale)
            .await
            .expect("worker run")
        else {
            panic!("not a worker run");
        };
        assert_eq!(batch.batch_item_failures.len(), 1, "{batch:?}");
        assert!(held_findings(&member.sdk).await.is_empty());

        let Response::Batch(batch) = lambda::handle(&management.sdk, &config, &event)
            .await
            .expect("worker run")
        else {
            panic!("not a worker run");
        };
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
        let queue = create_queue(management).await;
        let config = config_with(&queue, &[(ENV_MAX_RECEIVE_COUNT, "5")]);
        lambda::handle(&management.sdk, &config, &scheduled_event())
            .await
            .expect("coordinator run");
        let event = sqs_event(management, &queue, 1).await;
        let received = |count: &str| {
            let mut event = event.clone();
            event["Records"][0]["attributes"] = json!({ "ApproximateReceiveCount": count });
            event
        };
        for count in ["1", "4"] {
            let Response::Batch(batch) = lambda::handle(&management.sdk, &config, &received(count))
                .await
                .expect("worker run")
            else {
                panic!("not a worker run");
            };
            assert_eq!(batch.batch_item_failures.len(), 1, "receive {count}");
            assert!(held_findings(&member.sdk).await.is_empty());
        }
        let Response::Batch(batch) = lambda::handle(&management.sdk, &config, &received("5"))
            .await
            .expect("worker run")
        else {
            panic!("not a worker run");
        };
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
