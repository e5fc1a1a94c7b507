//! What an invocation asks for: the EventBridge scheduled event, a direct invoke with optional
//! overrides, or (an organization stack's workers) a batch of SQS records, one account each.
//! Anything else is a [`LambdaError::Event`] that says what is expected.

use super::errors::LambdaError;
pub use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use serde::Deserialize;
use serde_json::Value;

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The EventBridge schedule: scan with the configuration.
    Scheduled {
        /// The event's `time`.
        time: Option<String>,
        /// The rule that fired (the event's first resource).
        rule: Option<String>,
    },
    /// A direct invoke, with overrides of the configuration.
    Direct(Overrides),
    /// A batch from the organization stack's queue: one record per account to scan.
    /// Each has a `messageId` and a `body` (checked by [`parse_event`]).
    Sqs(Vec<SqsMessage>),
}

impl Invocation {
    /// `scheduled` or `direct`, for summaries and logs.
    pub fn trigger(&self) -> &'static str {
        match self {
            Invocation::Scheduled { .. } => "scheduled",
            Invocation::Direct(_) => "direct",
            Invocation::Sqs(_) => "sqs",
        }
    }
}

/// The body of a direct invoke: `{}` or `{"regions":[…],"controls":[…],"dry_run":…}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub regions: Option<Vec<String>>,
    pub controls: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

const EXPECTED_EVENTS: &str = "trailwatch takes the EventBridge scheduled event \
(source aws.events, detail-type Scheduled Event), a direct invoke \
{\"regions\": [...], \"controls\": [...], \"dry_run\": true|false} (every key optional), \
or an SQS batch from its organization queue";

/// Reads an invocation event. Never panics: an unexpected shape is a [`LambdaError::Event`].
pub fn parse_event(event: &Value) -> Result<Invocation, LambdaError> {
    let Some(object) = event.as_object() else {
        return Err(LambdaError::Event(format!(
            "expected a JSON object, got {}; {EXPECTED_EVENTS}",
            json_kind(event)
        )));
    };
    if object.contains_key("source") || object.contains_key("detail-type") {
        let source = object.get("source").and_then(Value::as_str);
        let detail_type = object.get("detail-type").and_then(Value::as_str);
        if source == Some("aws.events") && detail_type == Some("Scheduled Event") {
            return Ok(Invocation::Scheduled {
                time: object
                    .get("time")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                rule: object
                    .get("resources")
                    .and_then(|resources| resources.get(0))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        return Err(LambdaError::Event(format!(
            "EventBridge event with source {} and detail-type {} is not handled; {EXPECTED_EVENTS}",
            source.map_or("(none)".to_string(), |s| format!("{s:?}")),
            detail_type.map_or("(none)".to_string(), |s| format!("{s:?}")),
        )));
    }
    if let Some(records) = object.get("Records") {
        let from_sqs = records.as_array().is_some_and(|records| {
            !records.is_empty()
                && records.iter().all(|record| {
                    record.get("eventSource").and_then(Value::as_str) == Some("aws:sqs")
                })
        });
        if !from_sqs {
            return Err(LambdaError::Event(format!(
                "record batches other than SQS (SNS, S3, an empty batch) are not handled; {EXPECTED_EVENTS}"
            )));
        }
        let batch: SqsEvent = serde_json::from_value(event.clone())
            .map_err(|error| LambdaError::Event(format!("SQS records: {error}")))?;
        if let Some(position) = batch
            .records
            .iter()
            .position(|record| record.message_id.is_none() || record.body.is_none())
        {
            return Err(LambdaError::Event(format!(
                "SQS record {position} has no messageId or no body"
            )));
        }
        return Ok(Invocation::Sqs(batch.records));
    }
    let overrides: Overrides = serde_json::from_value(event.clone())
        .map_err(|error| LambdaError::Event(format!("{error}; {EXPECTED_EVENTS}")))?;
    Ok(Invocation::Direct(overrides))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
