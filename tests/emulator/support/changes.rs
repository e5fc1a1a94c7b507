//! The event-driven re-check's inputs as the tests and the `recheck` bench deliver them: the
//! `events/changes/` samples made about a test account, in a batch of the change queue as Lambda
//! hands it to the function.

use super::TestAccount;
use serde_json::{json, Value};

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
