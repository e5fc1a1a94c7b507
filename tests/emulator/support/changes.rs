//! The Lambda's inputs as the tests and the benches deliver them: the schedule's event
//! (`events/scheduled.json`), a message received from a queue as Lambda's SQS event shows it,
//! and the event-driven re-check's `events/changes/` samples made about a test account, in a
//! batch of the change queue as Lambda hands it to the function.

use super::TestAccount;
use serde_json::{json, Value};

/// The EventBridge schedule's event (`events/scheduled.json`).
pub fn scheduled_event() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/events/scheduled.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("events/scheduled.json"))
        .expect("events/scheduled.json is JSON")
}

/// A message received from the queue `queue_arn` (with its message attributes: receive them
/// with `message_attribute_names("All")`) as a record of Lambda's SQS event
/// (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>).
pub fn sqs_record(message: &aws_sdk_sqs::types::Message, queue_arn: &str) -> Value {
    let attributes: serde_json::Map<String, Value> = message
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            (
                name.clone(),
                json!({
                    "stringValue": value.string_value(),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.data_type(),
                }),
            )
        })
        .collect();
    json!({
        "messageId": message.message_id().unwrap_or_default(),
        "receiptHandle": message.receipt_handle().unwrap_or_default(),
        "body": message.body().unwrap_or_default(),
        "attributes": {},
        "messageAttributes": attributes,
        "md5OfBody": message.md5_of_body().unwrap_or_default(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    })
}

/// The change queue's ARN in `account` (what `TRAILWATCH_CHANGE_QUEUE_ARN` names).
pub fn change_queue_arn(account: &TestAccount) -> String {
    format!("arn:aws:sqs:us-east-1:{}:trailwatch-changes", account.id)
}

/// A sample change event (`events/changes/<name>`), made about `account`.
pub fn change_sample(account: &TestAccount, name: &str) -> String {
    let path = format!("{}/events/changes/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .expect("a sample change event")
        .replace("111122223333", &account.id)
}

/// The change queue's batch of `bodies`, as Lambda hands it to the function.
pub fn change_batch(account: &TestAccount, bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(n, body)| {
            json!({
                "messageId": format!("00000000-0000-4000-8000-{n:012}"),
                "receiptHandle": "AQEB",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1765000000000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": change_queue_arn(account),
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}
