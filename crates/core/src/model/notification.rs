//! The CloudWatch alarm notification as SNS delivers it, and subscription filter policies
//! judged against it: does a subscription with a `FilterPolicy` receive the alarm's message,
//! or does SNS drop it before it reaches anyone?
//!
//! No AWS page lists the notification's fields. [`alarm_notification`] builds the shape of AWS's
//! own test fixture (aws/aws-lambda-go `events/testdata/cloudwatch-alarm-sns-payload-single-metric.json`,
//! research notes §5), and the evaluator does not pretend to know what it does not: where a
//! policy tests the text of a field whose exact value is undocumented (`StateChangeTime`,
//! `NewStateReason`, the `Region` display name, the upper-case `Trigger.Statistic`, …) with
//! anything but `exists`, or tests a field real notifications are reported to carry but the
//! fixture lacks (`AlarmActions`, …), the answer is [`FilterOutcome::Undecided`] naming the key.
//! Alarm notifications carry no message attributes.
//!
//! The filter rules, from the SNS Developer Guide:
//! - <https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html>: each
//!   property name in the policy must match (AND), and for each at least one value (OR); no
//!   policy (or `{}`) receives every message; scope `MessageAttributes` (the default) or
//!   `MessageBody`, where keys may nest.
//! - <https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html>: exact strings
//!   (case-sensitive), `anything-but` (a list, one value, `{"prefix"}`, `{"suffix"}`), `prefix`,
//!   `suffix`, `equals-ignore-case`, `cidr`.
//! - <https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html>: exact numbers and
//!   `numeric` comparisons and ranges.
//! - <https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html>: `exists`.
//! - <https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html>: `$or`, recognized only as an
//!   array of at least two objects none of whose field names is a reserved keyword; otherwise
//!   it is an ordinary property name.
//! - <https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html>: no
//!   nested policies for attribute-based filtering; `Binary` attributes are ignored.

use serde_json::{json, Map, Value};
use std::fmt;
use std::net::IpAddr;

/// The alarm whose notification [`alarm_notification`] builds: a single-metric alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifiedAlarm<'a> {
    pub alarm_name: &'a str,
    pub alarm_arn: &'a str,
    pub account_id: &'a str,
    /// The region code (`us-east-1`). Real notifications carry the region's display name
    /// (`US East (N. Virginia)`), whose exact text is not documented; the notification's
    /// `Region` is therefore only ever tested for `exists`.
    pub region: &'a str,
    pub description: Option<&'a str>,
    /// `ALARM` for the transition the chain is about.
    pub new_state: &'a str,
    pub old_state: &'a str,
    pub metric_name: &'a str,
    pub namespace: &'a str,
    /// The API spelling (`Sum`); the notification carries it upper-case.
    pub statistic: &'a str,
    /// `(name, value)` pairs.
    pub dimensions: Vec<(&'a str, &'a str)>,
    pub period: i64,
    pub evaluation_periods: i64,
    pub comparison_operator: &'a str,
    pub threshold: f64,
    pub treat_missing_data: &'a str,
}

/// Fields the notification carries whose exact text no document gives (the fixture has
/// examples only; for `AlarmDescription`, whether an alarm without one sends `null`). Stand-in
/// values are built for them; a policy may test only whether they exist.
const UNDOCUMENTED_VALUES: [&str; 8] = [
    "StateChangeTime",
    "NewStateReason",
    "Region",
    "AlarmDescription",
    "Trigger.Statistic",
    "Trigger.Unit",
    "Trigger.TreatMissingData",
    "Trigger.EvaluateLowSampleCountPercentile",
];

/// Fields real notifications are reported to carry that AWS's fixture lacks (research §5):
/// whether and how they appear is not documented, so no test on them is decided.
const UNMODELLED_FIELDS: [&str; 4] = [
    "AlarmConfigurationUpdatedTimestamp",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
];

/// The notification's message body (the `Message` JSON that SNS delivers) for the alarm's
/// transition, in the fixture's shape. It has no message attributes.
pub fn alarm_notification(alarm: &NotifiedAlarm) -> Value {
    let dimensions: Vec<Value> = alarm
        .dimensions
        .iter()
        .map(|(name, value)| json!({ "value": value, "name": name }))
        .collect();
    json!({
        "AlarmName": alarm.alarm_name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": alarm.account_id,
        "NewStateValue": alarm.new_state,
        // Stand-in text: the real reason's wording is not documented.
        "NewStateReason": format!("Threshold Crossed: the alarm went to {}", alarm.new_state),
        // Stand-in time: the fixture's format, an arbitrary instant.
        "StateChangeTime": "1970-01-01T00:00:00.000+0000",
        "Region": alarm.region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": alarm.old_state,
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "StatisticType": "Statistic",
            "Statistic": alarm.statistic.to_uppercase(),
            "Unit": null,
            "Dimensions": dimensions,
            "Period": alarm.period,
            "EvaluationPeriods": alarm.evaluation_periods,
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
            "TreatMissingData": format!("- TreatMissingData:                    {}", alarm.treat_missing_data),
            "EvaluateLowSampleCountPercentile": "",
        },
    })
}

/// The subscription's `FilterPolicyScope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The default: the policy tests the message attributes.
    MessageAttributes,
    /// The policy tests the JSON message body.
    MessageBody,
}

/// Whether the subscription receives the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterOutcome {
    Delivers,
    /// The policy key (dotted for nested keys, `$or` for an `$or` none of whose branches
    /// matched) that the message fails.
    Drops {
        key: String,
    },
    /// The outcome hinges on a key the evaluator cannot judge.
    Undecided {
        key: String,
        reason: String,
    },
}

/// Why a filter policy cannot be evaluated: not JSON, or not shaped like a filter policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterPolicyError {
    pub message: String,
}

impl fmt::Display for FilterPolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "filter policy: {}", self.message)
    }
}

impl std::error::Error for FilterPolicyError {}

fn malformed(message: impl Into<String>) -> FilterPolicyError {
    FilterPolicyError {
        message: message.into(),
    }
}

/// Whether a subscription with this `FilterPolicy` (and scope) receives the alarm
/// notification `message_body` (from [`alarm_notification`]) with message `attributes`
/// (SNS's `{"name": {"Type": …, "Value": …}}` map; empty for alarm notifications).
pub fn filter_policy_passes(
    policy_json: &str,
    scope: Scope,
    message_body: &Value,
    attributes: &Map<String, Value>,
) -> Result<FilterOutcome, FilterPolicyError> {
    let policy: Value = serde_json::from_str(policy_json)
        .map_err(|error| malformed(format!("not JSON: {error}")))?;
    let Value::Object(policy) = policy else {
        return Err(malformed("not a JSON object"));
    };
    match scope {
        Scope::MessageBody => {
            let empty = Map::new();
            let body = message_body.as_object().unwrap_or(&empty);
            object_passes(&policy, "", &Message::Body(body))
        }
        Scope::MessageAttributes => object_passes(&policy, "", &Message::Attributes(attributes)),
    }
}

/// What a policy object is matched against at one nesting level.
enum Message<'a> {
    Body(&'a Map<String, Value>),
    Attributes(&'a Map<String, Value>),
}

/// The operator names SNS reserves; an `$or` branch using one is not an `$or`.
const RESERVED: [&str; 7] = [
    "anything-but",
    "cidr",
    "equals-ignore-case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
];

/// One policy object: every key must pass (AND). A `Drops` decides; otherwise the first
/// `Undecided` stands.
fn object_passes(
    policy: &Map<String, Value>,
    prefix: &str,
    message: &Message,
) -> Result<FilterOutcome, FilterPolicyError> {
    let mut undecided = None;
    for (key, value) in policy {
        let path = format!("{prefix}{key}");
        let outcome = match or_branches(key, value) {
            Some(branches) => {
                let mut branch_undecided = None;
                let mut delivered = false;
                for branch in branches {
                    match object_passes(branch, prefix, message)? {
                        FilterOutcome::Delivers => {
                            delivered = true;
                            break;
                        }
                        undecided @ FilterOutcome::Undecided { .. } => {
                            branch_undecided.get_or_insert(undecided);
                        }
                        FilterOutcome::Drops { .. } => {}
                    }
                }
                if delivered {
                    FilterOutcome::Delivers
                } else {
                    branch_undecided.unwrap_or(FilterOutcome::Drops { key: path })
                }
            }
            None => match value {
                Value::Object(nested) => match message {
                    Message::Attributes(_) => {
                        return Err(malformed(format!(
                        "{path}: SNS does not accept a nested policy for attribute-based filtering"
                    )))
                    }
                    Message::Body(body) => {
                        let empty = Map::new();
                        let inner = body.get(key).and_then(Value::as_object).unwrap_or(&empty);
                        object_passes(nested, &format!("{path}."), &Message::Body(inner))?
                    }
                },
                Value::Array(matchers) => key_passes(matchers, &path, key, message)?,
                _ => {
                    return Err(malformed(format!(
                        "{path}: a policy value is an array of conditions or a nested object"
                    )))
                }
            },
        };
        match outcome {
            FilterOutcome::Delivers => {}
            drops @ FilterOutcome::Drops { .. } => return Ok(drops),
            undecided_key @ FilterOutcome::Undecided { .. } => {
                undecided.get_or_insert(undecided_key);
            }
        }
    }
    Ok(undecided.unwrap_or(FilterOutcome::Delivers))
}

/// The branches when `key` is a recognized `$or` (and-or-logic.html).
fn or_branches<'a>(key: &str, value: &'a Value) -> Option<Vec<&'a Map<String, Value>>> {
    if key != "$or" {
        return None;
    }
    let items = value.as_array()?;
    let branches: Vec<&Map<String, Value>> =
        items.iter().map(Value::as_object).collect::<Option<_>>()?;
    let reserved = branches
        .iter()
        .any(|branch| branch.keys().any(|name| RESERVED.contains(&name.as_str())));
    (branches.len() >= 2 && !reserved).then_some(branches)
}

/// Three-valued match of one condition.
enum Match {
    Yes,
    No,
    Unknown(String),
}

/// A key's value list: at least one condition must match (OR).
fn key_passes(
    matchers: &[Value],
    path: &str,
    key: &str,
    message: &Message,
) -> Result<FilterOutcome, FilterPolicyError> {
    let owned;
    let found: Result<Option<&Value>, String> = match message {
        Message::Body(body) => Ok(body.get(key)),
        Message::Attributes(attributes) => match attribute(attributes.get(key)) {
            Ok(Some(value)) => {
                owned = value;
                Ok(Some(&owned))
            }
            Ok(None) => Ok(None),
            Err(reason) => Err(reason),
        },
    };
    let body_scope = matches!(message, Message::Body(_));
    let mut unknown = None;
    for matcher in matchers {
        let result = if body_scope && UNMODELLED_FIELDS.contains(&path) {
            Match::Unknown(format!(
                "real notifications are reported to carry {path}, which no document describes"
            ))
        } else if body_scope && UNDOCUMENTED_VALUES.contains(&path) && !is_exists(matcher) {
            Match::Unknown(format!(
                "the notification's value of {path} is not documented"
            ))
        } else {
            match &found {
                Ok(value) => condition(matcher, *value)?,
                Err(reason) => Match::Unknown(reason.clone()),
            }
        };
        match result {
            Match::Yes => return Ok(FilterOutcome::Delivers),
            Match::Unknown(reason) => {
                unknown.get_or_insert(reason);
            }
            Match::No => {}
        }
    }
    Ok(match unknown {
        Some(reason) => FilterOutcome::Undecided {
            key: path.to_string(),
            reason,
        },
        None => FilterOutcome::Drops {
            key: path.to_string(),
        },
    })
}

/// A message attribute as the value filter conditions compare: `String` as a string,
/// `Number` as a number, `String.Array` as an array; `Binary` is ignored (absent). `Err` names
/// an attribute in a shape not read.
fn attribute(attribute: Option<&Value>) -> Result<Option<Value>, String> {
    let Some(attribute) = attribute else {
        return Ok(None);
    };
    let kind = attribute.get("Type").and_then(Value::as_str);
    let text = attribute.get("Value").and_then(Value::as_str);
    let parsed = match (kind, text) {
        (Some("Binary"), _) => return Ok(None),
        (Some("String"), Some(text)) => Some(Value::String(text.to_string())),
        (Some("Number"), Some(text)) => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|number| serde_json::Number::from_f64(number).map(Value::Number)),
        (Some("String.Array"), Some(text)) => serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_array),
        _ => None,
    };
    match parsed {
        Some(value) => Ok(Some(value)),
        None => Err(format!("the attribute {attribute} is not read")),
    }
}

fn is_exists(matcher: &Value) -> bool {
    matcher
        .as_object()
        .is_some_and(|object| object.len() == 1 && object.contains_key("exists"))
}

/// The leaf values a condition is tried on: an array's elements, or the value itself.
fn leaves(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// Numbers compare to five decimal places (constraints page).
fn same_number(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.000_005
}

fn condition(matcher: &Value, found: Option<&Value>) -> Result<Match, FilterPolicyError> {
    if let Some(Value::Object(_)) = found {
        return Ok(Match::Unknown(
            "the docs do not say how a condition matches an object-valued property".to_string(),
        ));
    }
    let any_leaf = |test: &dyn Fn(&Value) -> bool| {
        Match::from(found.is_some_and(|value| leaves(value).into_iter().any(test)))
    };
    Ok(match matcher {
        Value::String(wanted) => any_leaf(&|leaf| leaf.as_str() == Some(wanted)),
        Value::Number(wanted) => {
            let wanted = wanted.as_f64().unwrap_or(f64::NAN);
            any_leaf(&|leaf| leaf.as_f64().is_some_and(|n| same_number(n, wanted)))
        }
        Value::Object(operator) if operator.len() == 1 => {
            let (name, argument) = operator.iter().next().expect("one entry");
            operator_condition(name, argument, found)?
        }
        Value::Object(_) => return Err(malformed("a condition object holds one operator")),
        other => Match::Unknown(format!("matching the literal {other} is not evaluated")),
    })
}

impl From<bool> for Match {
    fn from(value: bool) -> Self {
        if value {
            Match::Yes
        } else {
            Match::No
        }
    }
}

fn string_argument<'a>(name: &str, argument: &'a Value) -> Result<&'a str, FilterPolicyError> {
    argument
        .as_str()
        .ok_or_else(|| malformed(format!("{name} takes a string")))
}

fn operator_condition(
    name: &str,
    argument: &Value,
    found: Option<&Value>,
) -> Result<Match, FilterPolicyError> {
    let any_string = |test: &dyn Fn(&str) -> bool| {
        Match::from(found.is_some_and(|value| {
            leaves(value)
                .into_iter()
                .any(|leaf| leaf.as_str().is_some_and(test))
        }))
    };
    Ok(match name {
        "exists" => {
            let Some(wanted) = argument.as_bool() else {
                return Err(malformed("exists takes true or false"));
            };
            match found {
                Some(Value::Null) => Match::Unknown(
                    "whether SNS counts a null property as existing is not documented".to_string(),
                ),
                Some(_) => Match::from(wanted),
                None => Match::from(!wanted),
            }
        }
        "prefix" => {
            let prefix = string_argument(name, argument)?;
            any_string(&|text| text.starts_with(prefix))
        }
        "suffix" => {
            let suffix = string_argument(name, argument)?;
            any_string(&|text| text.ends_with(suffix))
        }
        "equals-ignore-case" => {
            let wanted = string_argument(name, argument)?.to_lowercase();
            any_string(&|text| text.to_lowercase() == wanted)
        }
        "anything-but" => anything_but(argument, found)?,
        "numeric" => {
            let range = numeric_range(argument)?;
            Match::from(found.is_some_and(|value| {
                leaves(value)
                    .into_iter()
                    .any(|leaf| leaf.as_f64().is_some_and(|n| range.contains(n)))
            }))
        }
        "cidr" => cidr(string_argument(name, argument)?, found)?,
        other => Match::Unknown(format!("the filter operator {other} is not evaluated")),
    })
}

/// `anything-but`: the property is present and (for an array, some element) is none of the
/// listed values, or does not have the prefix/suffix.
fn anything_but(argument: &Value, found: Option<&Value>) -> Result<Match, FilterPolicyError> {
    let Some(value) = found else {
        return Ok(Match::No);
    };
    let listed: Box<dyn Fn(&Value) -> bool> = match argument {
        Value::Array(values) => {
            let values = values.clone();
            Box::new(move |leaf| values.iter().any(|wanted| literal_equals(wanted, leaf)))
        }
        Value::String(_) | Value::Number(_) => {
            let wanted = argument.clone();
            Box::new(move |leaf| literal_equals(&wanted, leaf))
        }
        Value::Object(form) if form.len() == 1 => {
            let (name, text) = form.iter().next().expect("one entry");
            let text = string_argument(name, text)?.to_string();
            match name.as_str() {
                "prefix" => {
                    Box::new(move |leaf| leaf.as_str().is_some_and(|s| s.starts_with(&text)))
                }
                "suffix" => Box::new(move |leaf| leaf.as_str().is_some_and(|s| s.ends_with(&text))),
                other => {
                    return Ok(Match::Unknown(format!(
                        "anything-but with {other} is not evaluated"
                    )))
                }
            }
        }
        _ => {
            return Err(malformed(
                "anything-but takes a value, a list, or {prefix|suffix}",
            ))
        }
    };
    Ok(Match::from(
        leaves(value).into_iter().any(|leaf| !listed(leaf)),
    ))
}

fn literal_equals(wanted: &Value, leaf: &Value) -> bool {
    match (wanted, leaf) {
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => same_number(a, b),
            _ => false,
        },
        _ => false,
    }
}

/// A `numeric` condition: `["=", n]`, one bound, or a lower bound then an upper bound.
struct NumericRange {
    bounds: Vec<(String, f64)>,
}

impl NumericRange {
    fn contains(&self, n: f64) -> bool {
        self.bounds.iter().all(|(op, bound)| match op.as_str() {
            "=" => same_number(n, *bound),
            "<" => n < *bound,
            "<=" => n <= *bound,
            ">" => n > *bound,
            ">=" => n >= *bound,
            _ => false,
        })
    }
}

fn numeric_range(argument: &Value) -> Result<NumericRange, FilterPolicyError> {
    let bad = || {
        malformed(format!(
            "numeric takes [op, n] or [>|>=, n, <|<=, n]: {argument}"
        ))
    };
    let items = argument.as_array().ok_or_else(bad)?;
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err(bad());
    }
    let bounds: Vec<(String, f64)> = items
        .chunks(2)
        .map(|pair| match (pair[0].as_str(), pair[1].as_f64()) {
            (Some(op @ ("=" | "<" | "<=" | ">" | ">=")), Some(n)) => Ok((op.to_string(), n)),
            _ => Err(bad()),
        })
        .collect::<Result<_, _>>()?;
    if bounds.len() == 2 {
        let lower = matches!(bounds[0].0.as_str(), ">" | ">=");
        let upper = matches!(bounds[1].0.as_str(), "<" | "<=");
        if !lower || !upper {
            return Err(bad());
        }
    }
    Ok(NumericRange { bounds })
}

/// `cidr`: the property is an IP address inside the block. A value that is not an address is
/// left undecided.
fn cidr(block: &str, found: Option<&Value>) -> Result<Match, FilterPolicyError> {
    let bad = || malformed(format!("cidr takes an address block: {block}"));
    let (network, length) = block.split_once('/').ok_or_else(bad)?;
    let network: IpAddr = network.parse().map_err(|_| bad())?;
    let length: u32 = length.parse().map_err(|_| bad())?;
    let longest = if network.is_ipv4() { 32 } else { 128 };
    if length > longest {
        return Err(bad());
    }
    let Some(value) = found else {
        return Ok(Match::No);
    };
    let mut unknown = false;
    for leaf in leaves(value) {
        let Some(address) = leaf.as_str().and_then(|text| text.parse::<IpAddr>().ok()) else {
            unknown = true;
            continue;
        };
        let inside = match (network, address) {
            (IpAddr::V4(net), IpAddr::V4(addr)) => {
                let mask = u32::MAX.checked_shl(32 - length).unwrap_or(0);
                u32::from(net) & mask == u32::from(addr) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(addr)) => {
                let mask = u128::MAX.checked_shl(128 - length).unwrap_or(0);
                u128::from(net) & mask == u128::from(addr) & mask
            }
            _ => false,
        };
        if inside {
            return Ok(Match::Yes);
        }
    }
    Ok(if unknown {
        Match::Unknown("cidr on a value that is not an IP address is not evaluated".to_string())
    } else {
        Match::No
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alarm(name: &str) -> NotifiedAlarm<'_> {
        NotifiedAlarm {
            alarm_name: name,
            alarm_arn: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:cis-4-5",
            account_id: "111122223333",
            region: "us-east-1",
            description: None,
            new_state: "ALARM",
            old_state: "OK",
            metric_name: "CloudTrailChanges",
            namespace: "CISBenchmark",
            statistic: "Sum",
            dimensions: Vec::new(),
            period: 300,
            evaluation_periods: 1,
            comparison_operator: "GreaterThanOrEqualToThreshold",
            threshold: 1.0,
            treat_missing_data: "notBreaching",
        }
    }

    fn body_outcome(policy: &str, name: &str) -> FilterOutcome {
        let body = alarm_notification(&alarm(name));
        filter_policy_passes(policy, Scope::MessageBody, &body, &Map::new()).unwrap()
    }

    fn drops(key: &str) -> FilterOutcome {
        FilterOutcome::Drops {
            key: key.to_string(),
        }
    }

    fn undecided_key(outcome: &FilterOutcome) -> Option<&str> {
        match outcome {
            FilterOutcome::Undecided { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The fixture's shape (research §5: aws/aws-lambda-go
    /// events/testdata/cloudwatch-alarm-sns-payload-single-metric.json).
    #[test]
    fn the_notification_has_the_fixture_shape() {
        let body = alarm_notification(&alarm("cis-4-5"));
        assert_eq!(body["AlarmName"], "cis-4-5");
        assert_eq!(body["AlarmDescription"], Value::Null);
        assert_eq!(body["AWSAccountId"], "111122223333");
        assert_eq!(body["NewStateValue"], "ALARM");
        assert_eq!(body["OldStateValue"], "OK");
        assert_eq!(body["Region"], "us-east-1");
        assert_eq!(body["Trigger"]["MetricName"], "CloudTrailChanges");
        assert_eq!(body["Trigger"]["Namespace"], "CISBenchmark");
        assert_eq!(body["Trigger"]["StatisticType"], "Statistic");
        assert_eq!(body["Trigger"]["Statistic"], "SUM");
        assert_eq!(body["Trigger"]["Period"], 300);
        assert_eq!(body["Trigger"]["Threshold"], 1.0);
        let mut with_dimension = alarm("x");
        with_dimension.dimensions = vec![("InstanceId", "i-1")];
        assert_eq!(
            alarm_notification(&with_dimension)["Trigger"]["Dimensions"],
            json!([{"value": "i-1", "name": "InstanceId"}])
        );
    }

    /// https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html (each
    /// policy property must match a message attribute; MessageAttributes is the default scope)
    /// and https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html
    /// (`"exists": false` matches messages without the property): an alarm notification has
    /// no attributes.
    #[test]
    fn attribute_scope_policies_see_no_attributes_on_an_alarm_notification() {
        let body = alarm_notification(&alarm("cis-4-5"));
        let table = [
            (r#"{"severity":["high"]}"#, drops("severity")),
            (
                r#"{"severity":[{"exists":false}]}"#,
                FilterOutcome::Delivers,
            ),
            (r#"{"severity":[{"exists":true}]}"#, drops("severity")),
            (
                r#"{"severity":[{"anything-but":"low"}]}"#,
                drops("severity"),
            ),
            (
                r#"{"severity":[{"anything-but":"low"},{"exists":false}]}"#,
                FilterOutcome::Delivers,
            ),
            // Attribute scope reads attributes only, never the body.
            (r#"{"NewStateValue":["ALARM"]}"#, drops("NewStateValue")),
            ("{}", FilterOutcome::Delivers),
        ];
        for (policy, expected) in table {
            let got = filter_policy_passes(policy, Scope::MessageAttributes, &body, &Map::new());
            assert_eq!(got, Ok(expected), "{policy}");
        }
    }

    /// Attributes other publishers send, for the operators' attribute reading
    /// (https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html:
    /// Binary attributes are ignored; String.Array elements match one by one).
    #[test]
    fn attribute_scope_reads_typed_attributes() {
        let attributes: Map<String, Value> = serde_json::from_value(json!({
            "severity": {"Type": "String", "Value": "high"},
            "price": {"Type": "Number", "Value": "150.5"},
            "sports": {"Type": "String.Array", "Value": "[\"rugby\",\"tennis\"]"},
            "blob": {"Type": "Binary", "Value": "AAEC"},
        }))
        .unwrap();
        let table = [
            (
                r#"{"severity":["high"],"price":[{"numeric":[">",100,"<=",150.5]}]}"#,
                true,
            ),
            (r#"{"sports":["tennis"]}"#, true),
            (r#"{"sports":[{"anything-but":["rugby","tennis"]}]}"#, false),
            (r#"{"blob":[{"exists":false}]}"#, true),
            (r#"{"price":[150.5]}"#, true),
        ];
        for (policy, delivers) in table {
            let got =
                filter_policy_passes(policy, Scope::MessageAttributes, &Value::Null, &attributes)
                    .unwrap();
            assert_eq!(
                got == FilterOutcome::Delivers,
                delivers,
                "{policy}: {got:?}"
            );
        }
    }

    /// Body-scope policies against the notification: exact strings
    /// (https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html, case-sensitive
    /// per https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html),
    /// nested keys (https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html),
    /// numbers (https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html).
    #[test]
    fn body_scope_policies_against_the_alarm_notification() {
        let table = [
            (
                r#"{"NewStateValue":["ALARM"]}"#,
                "cis-4-5",
                FilterOutcome::Delivers,
            ),
            (
                r#"{"NewStateValue":["OK"]}"#,
                "cis-4-5",
                drops("NewStateValue"),
            ),
            (
                r#"{"NewStateValue":["alarm"]}"#,
                "cis-4-5",
                drops("NewStateValue"),
            ),
            (
                r#"{"NewStateValue":[{"equals-ignore-case":"alarm"}]}"#,
                "cis-4-5",
                FilterOutcome::Delivers,
            ),
            (
                r#"{"AlarmName":[{"prefix":"cis-"}]}"#,
                "cis-4-5",
                FilterOutcome::Delivers,
            ),
            (
                r#"{"AlarmName":[{"prefix":"cis-"}]}"#,
                "other-alarm",
                drops("AlarmName"),
            ),
            (
                r#"{"AlarmName":[{"suffix":"-4-5"}]}"#,
                "cis-4-5",
                FilterOutcome::Delivers,
            ),
            (
                r#"{"AlarmName":[{"anything-but":{"prefix":"cis-"}}]}"#,
                "cis-4-5",
                drops("AlarmName"),
            ),
            (
                r#"{"AlarmName":[{"anything-but":["a","b"]}]}"#,
                "cis-4-5",
                FilterOutcome::Delivers,
            ),
            (
                r#"{"OldStateValue":[{"anything-but":"OK"}]}"#,
                "cis-4-5",
                drops("OldStateValue"),
            ),
            (
                r#"{"Trigger":{"MetricName":["CloudTrailChanges"]}}"#,
                "cis-4-5",
                FilterOutcome::Delivers,
            ),
            (
                r#"{"Trigger":{"MetricName":["RootUsage"]}}"#,
                "cis-4-5",
                drops("Trigger.MetricName"),
            ),
            (
                r#"{"Trigger":{"Period":[{"numeric":[">=",60,"<",3600]}],"Threshold":[1]}}"#,
                "cis-4-5",
                FilterOutcome::Delivers,
            ),
            (
                r#"{"Trigger":{"EvaluationPeriods":[{"numeric":[">",1]}]}}"#,
                "cis-4-5",
                drops("Trigger.EvaluationPeriods"),
            ),
            (
                r#"{"Trigger":{"Period":["300"]}}"#,
                "cis-4-5",
                drops("Trigger.Period"),
            ),
            (
                r#"{"NewStateValue":["ALARM"],"AlarmName":["x"]}"#,
                "cis-4-5",
                drops("AlarmName"),
            ),
            (r#"{"severity":["high"]}"#, "cis-4-5", drops("severity")),
            (
                r#"{"Missing":{"Deeper":[{"exists":false}]}}"#,
                "cis-4-5",
                FilterOutcome::Delivers,
            ),
            ("{}", "cis-4-5", FilterOutcome::Delivers),
        ];
        for (policy, name, expected) in table {
            assert_eq!(body_outcome(policy, name), expected, "{policy} on {name}");
        }
    }

    /// `$or` as https://docs.aws.amazon.com/sns/latest/dg/and-or-logic.html defines it: an
    /// array of at least two objects, AND with the sibling keys; otherwise `$or` is an ordinary
    /// property name.
    #[test]
    fn or_branches_follow_the_and_or_logic_page() {
        let table = [
            (
                r#"{"NewStateValue":["ALARM"],"$or":[{"AlarmName":[{"prefix":"cis-"}]},{"Trigger":{"Namespace":["CISBenchmark"]}}]}"#,
                "other-alarm",
                FilterOutcome::Delivers,
            ),
            (
                r#"{"$or":[{"AlarmName":[{"prefix":"cis-"}]},{"Trigger":{"Namespace":["Other"]}}]}"#,
                "other-alarm",
                drops("$or"),
            ),
            (
                r#"{"NewStateValue":["OK"],"$or":[{"AlarmName":["cis-4-5"]},{"AlarmName":["x"]}]}"#,
                "cis-4-5",
                drops("NewStateValue"),
            ),
            (
                r#"{"Trigger":{"$or":[{"MetricName":["CloudTrailChanges"]},{"Namespace":["x"]}]}}"#,
                "cis-4-5",
                FilterOutcome::Delivers,
            ),
            // Reserved keywords in the branches: `$or` is a property name the body lacks.
            (
                r#"{"$or":[{"prefix":"abc"},{"numeric":["=",1]}]}"#,
                "cis-4-5",
                drops("$or"),
            ),
        ];
        for (policy, name, expected) in table {
            assert_eq!(body_outcome(policy, name), expected, "{policy} on {name}");
        }
    }

    /// Fields whose exact notification text is undocumented (research §5) may be tested for
    /// `exists` (https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html) and
    /// nothing else; fields only reported to exist are never decided.
    #[test]
    fn undocumented_notification_values_are_undecided_by_name() {
        let table = [
            (r#"{"Region":["US East (N. Virginia)"]}"#, Some("Region")),
            (r#"{"Region":[{"prefix":"US East"}]}"#, Some("Region")),
            (
                r#"{"StateChangeTime":[{"prefix":"2026-"}]}"#,
                Some("StateChangeTime"),
            ),
            (
                r#"{"NewStateReason":[{"anything-but":"x"}]}"#,
                Some("NewStateReason"),
            ),
            (
                r#"{"Trigger":{"Statistic":["SUM"]}}"#,
                Some("Trigger.Statistic"),
            ),
            (
                r#"{"AlarmActions":[{"exists":true}]}"#,
                Some("AlarmActions"),
            ),
            (
                r#"{"AlarmDescription":[{"exists":true}]}"#,
                Some("AlarmDescription"),
            ),
            (
                r#"{"Region":[{"exists":true}],"StateChangeTime":[{"exists":true}]}"#,
                None,
            ),
            // A clear drop elsewhere decides.
            (r#"{"Region":["x"],"NewStateValue":["OK"]}"#, None),
        ];
        for (policy, expected) in table {
            let outcome = body_outcome(policy, "cis-4-5");
            assert_eq!(undecided_key(&outcome), expected, "{policy}: {outcome:?}");
        }
        match body_outcome(r#"{"Region":["us-east-1"]}"#, "cis-4-5") {
            FilterOutcome::Undecided { reason, .. } => {
                assert!(reason.contains("not documented"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            body_outcome(r#"{"Region":[{"exists":false}]}"#, "cis-4-5"),
            drops("Region")
        );
    }

    /// `cidr` (https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html: the
    /// block 10.0.0.0/24 matches 10.0.0.0 and 10.0.0.255, not 10.1.1.0) and operators the
    /// evaluator does not know.
    #[test]
    fn cidr_and_unknown_operators() {
        let body = json!({"ip": "10.0.0.255", "other": "10.1.1.0", "name": "n"});
        let outcome = |policy: &str| {
            filter_policy_passes(policy, Scope::MessageBody, &body, &Map::new()).unwrap()
        };
        assert_eq!(
            outcome(r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#),
            FilterOutcome::Delivers
        );
        assert_eq!(
            outcome(r#"{"other":[{"cidr":"10.0.0.0/24"}]}"#),
            drops("other")
        );
        assert_eq!(
            undecided_key(&outcome(r#"{"name":[{"cidr":"10.0.0.0/24"}]}"#)),
            Some("name")
        );
        assert_eq!(
            undecided_key(&outcome(r#"{"name":[{"wildcard":"n*"}]}"#)),
            Some("name")
        );
        assert_eq!(undecided_key(&outcome(r#"{"name":[true]}"#)), Some("name"));
    }

    #[test]
    fn malformed_policies_are_errors() {
        let body = alarm_notification(&alarm("cis-4-5"));
        let table = [
            ("", Scope::MessageBody),
            ("{", Scope::MessageBody),
            ("[]", Scope::MessageBody),
            (r#"{"NewStateValue":"ALARM"}"#, Scope::MessageBody),
            (
                r#"{"Trigger":{"MetricName":["x"]}}"#,
                Scope::MessageAttributes,
            ),
            (
                r#"{"Trigger":{"Period":[{"numeric":["<",1,">",0]}]}}"#,
                Scope::MessageBody,
            ),
            (r#"{"AlarmName":[{"prefix":1}]}"#, Scope::MessageBody),
            (
                r#"{"AlarmName":[{"prefix":"a","suffix":"b"}]}"#,
                Scope::MessageBody,
            ),
            (r#"{"AlarmName":[{"exists":"yes"}]}"#, Scope::MessageBody),
            (r#"{"ip":[{"cidr":"10.0.0.0/33"}]}"#, Scope::MessageBody),
        ];
        for (policy, scope) in table {
            let error = filter_policy_passes(policy, scope, &body, &Map::new()).unwrap_err();
            assert!(!error.to_string().is_empty(), "{policy}");
        }
    }
}
