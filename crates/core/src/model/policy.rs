//! Resource policies (an SNS topic's access policy, a KMS key policy) evaluated for one
//! request, the way IAM evaluates a resource policy on its own: an explicit `Deny` wins, an
//! `Allow` is needed, and anything else is implicitly denied. The chain needs two such answers:
//! may CloudWatch (`cloudwatch.amazonaws.com`, on behalf of the alarm) `sns:Publish` to the
//! topic, and, for an encrypted topic, `kms:Decrypt` and `kms:GenerateDataKey` with its key.
//!
//! The evaluator is three-valued. A statement it cannot judge (a condition operator or key it
//! does not know, a policy variable, a `NotPrincipal`, an account principal) is *undecided*, and
//! the overall [`Decision`] is [`Decision::Undecided`] only when the outcome hinges on such a
//! statement. Rules, with the IAM User Guide pages they come from:
//!
//! - Condition operators and what a key missing from the request means:
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>
//!   ("If the key that you specify in a policy condition is not present in the request context,
//!   the values do not match and the condition is false. If the policy condition requires that
//!   the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
//!   present, the condition is true. This logic applies to all condition operators except
//!   ...IfExists and Null check.")
//! - Context key names are not case-sensitive; values are compared as the operator says:
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html>
//! - `ForAllValues` is true when the key is missing from the request, `ForAnyValue` false:
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>
//! - Which global keys a request carries (`aws:PrincipalOrgID` "is included in the request
//!   context only if the principal is a member of an organization"):
//!   <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>
//! - Action names, prefix included, are matched case-insensitively; resources and ARN
//!   conditions case-sensitively, with `*` and `?` wildcards.

use crate::model::arn::{Arn, ArnError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An AWS service principal, e.g. `cloudwatch.amazonaws.com`.
    Service(String),
    /// An IAM principal's ARN, e.g. `arn:aws:iam::111122223333:role/ops`.
    Aws(String),
}

/// One request: who, what action, on which resource, with which condition context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub principal: Principal,
    /// `service:Action`, e.g. `sns:Publish`.
    pub action: String,
    /// The resource's ARN.
    pub resource: String,
    /// The condition keys the request carries and their values; names are matched
    /// case-insensitively.
    pub context: BTreeMap<String, Vec<String>>,
    /// Keys known to be missing from the request context. A key neither here nor in
    /// `context` is unknown, and a condition on it leaves its statement undecided.
    pub absent_keys: Vec<String>,
}

/// The keys a service-principal request does not carry: the principal is a service, not a
/// member of an organization, and the global-keys page includes these "only if the principal
/// is a member of an organization". (The research notes, §4.3, record the same failure in
/// practice: aws-samples/amazon-cloudwatch-auto-alarms PR #63.)
const ABSENT_FOR_SERVICE_PRINCIPALS: [&str; 2] = ["aws:PrincipalOrgID", "aws:PrincipalOrgPaths"];

const CLOUDWATCH: &str = "cloudwatch.amazonaws.com";

impl Request {
    /// CloudWatch publishing an alarm's notification to a topic. The context is what the
    /// CloudWatch and SNS guides document for that publish: `aws:SourceArn` is the alarm ARN,
    /// `aws:SourceAccount` and `AWS:SourceOwner` the alarm's account
    /// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html>,
    /// <https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html>).
    pub fn cloudwatch_alarm_publish(alarm_arn: &str, topic_arn: &str) -> Result<Self, ArnError> {
        let account = Arn::parse(alarm_arn)?.account_id.to_string();
        Ok(Self::cloudwatch(
            "sns:Publish",
            topic_arn,
            [
                ("aws:SourceArn", alarm_arn.to_string()),
                ("aws:SourceAccount", account.clone()),
                ("AWS:SourceOwner", account),
            ],
        ))
    }

    /// CloudWatch using a topic's KMS key (`kms:Decrypt`, `kms:GenerateDataKey`) to publish an
    /// alarm's notification to an encrypted topic. No document lists the context of these KMS
    /// calls: this assumes the `aws:SourceArn` (alarm ARN) and `aws:SourceAccount` the SNS
    /// guide tells key policies to test
    /// (<https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services>).
    pub fn cloudwatch_alarm_key_use(
        alarm_arn: &str,
        key_arn: &str,
        action: &str,
    ) -> Result<Self, ArnError> {
        let account = Arn::parse(alarm_arn)?.account_id.to_string();
        Ok(Self::cloudwatch(
            action,
            key_arn,
            [
                ("aws:SourceArn", alarm_arn.to_string()),
                ("aws:SourceAccount", account),
            ],
        ))
    }

    fn cloudwatch<const N: usize>(
        action: &str,
        resource: &str,
        context: [(&str, String); N],
    ) -> Self {
        Request {
            principal: Principal::Service(CLOUDWATCH.to_string()),
            action: action.to_string(),
            resource: resource.to_string(),
            context: context
                .into_iter()
                .map(|(key, value)| (key.to_string(), vec![value]))
                .collect(),
            absent_keys: ABSENT_FOR_SERVICE_PRINCIPALS
                .iter()
                .map(|key| key.to_string())
                .collect(),
        }
    }

    /// The key's values, `Ok(None)` if it is known to be absent, `Err` if unknown.
    fn lookup(&self, key: &str) -> Result<Option<&[String]>, ()> {
        if let Some((_, values)) = self
            .context
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
        {
            return Ok(Some(values));
        }
        if self.absent_keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            return Ok(None);
        }
        Err(())
    }
}

/// What the policy decides for the request. Statements are named by their `Sid`, or
/// `Statement[i]` (zero-based) when they have none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// An `Allow` statement matches and no `Deny` statement could.
    Allowed { statement: String },
    /// A `Deny` statement matches.
    ExplicitlyDenied { statement: String },
    /// No statement allows the request (or only an undecided `Deny` could apply while nothing
    /// allows it: refused either way).
    NotAllowed,
    /// The outcome hinges on a statement the evaluator cannot judge.
    Undecided { statement: String, reason: String },
}

/// Why a policy document cannot be evaluated: not JSON, or not shaped like a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy document: {}", self.message)
    }
}

impl std::error::Error for PolicyError {}

fn malformed(message: impl Into<String>) -> PolicyError {
    PolicyError {
        message: message.into(),
    }
}

/// Three-valued match.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Match {
    Yes,
    No,
    Unknown(String),
}

impl Match {
    fn from_bool(value: bool) -> Self {
        if value {
            Match::Yes
        } else {
            Match::No
        }
    }

    /// Kleene AND: any `No` decides, then the first `Unknown`.
    fn all(
        items: impl IntoIterator<Item = Result<Match, PolicyError>>,
    ) -> Result<Match, PolicyError> {
        let mut unknown = None;
        for item in items {
            match item? {
                Match::No => return Ok(Match::No),
                Match::Unknown(reason) => {
                    unknown.get_or_insert(reason);
                }
                Match::Yes => {}
            }
        }
        Ok(unknown.map_or(Match::Yes, Match::Unknown))
    }

    /// Kleene OR: any `Yes` decides, then the first `Unknown`.
    fn any(items: impl IntoIterator<Item = Match>) -> Match {
        let mut unknown = None;
        for item in items {
            match item {
                Match::Yes => return Match::Yes,
                Match::Unknown(reason) => {
                    unknown.get_or_insert(reason);
                }
                Match::No => {}
            }
        }
        unknown.map_or(Match::No, Match::Unknown)
    }

    fn not(self) -> Match {
        match self {
            Match::Yes => Match::No,
            Match::No => Match::Yes,
            unknown => unknown,
        }
    }
}

/// Evaluates a policy document (the JSON text of GetTopicAttributes `Policy` or
/// GetKeyPolicy) for one request.
pub fn evaluate(policy_json: &str, request: &Request) -> Result<Decision, PolicyError> {
    let document: Value = serde_json::from_str(policy_json)
        .map_err(|error| malformed(format!("not JSON: {error}")))?;
    let statements = match document.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(item @ Value::Object(_)) => vec![item],
        Some(_) => return Err(malformed("Statement is neither an object nor an array")),
        None => return Err(malformed("no Statement")),
    };
    let mut allow: Option<String> = None;
    let mut undecided_allow: Option<(String, String)> = None;
    let mut undecided_deny: Option<(String, String)> = None;
    for (index, statement) in statements.into_iter().enumerate() {
        let label = match statement.get("Sid").and_then(Value::as_str) {
            Some(sid) if !sid.is_empty() => sid.to_string(),
            _ => format!("Statement[{index}]"),
        };
        let deny = match statement.get("Effect").and_then(Value::as_str) {
            Some("Allow") => false,
            Some("Deny") => true,
            _ => return Err(malformed(format!("{label}: Effect is not Allow or Deny"))),
        };
        match statement_matches(statement, request)
            .map_err(|error| malformed(format!("{label}: {}", error.message)))?
        {
            Match::Yes if deny => return Ok(Decision::ExplicitlyDenied { statement: label }),
            Match::Yes => {
                allow.get_or_insert(label);
            }
            Match::No => {}
            Match::Unknown(reason) => {
                let slot = if deny {
                    &mut undecided_deny
                } else {
                    &mut undecided_allow
                };
                slot.get_or_insert((label, reason));
            }
        }
    }
    let could_allow = allow.is_some() || undecided_allow.is_some();
    Ok(match (allow, undecided_allow, undecided_deny) {
        (_, _, Some((statement, reason))) if could_allow => Decision::Undecided {
            statement,
            reason: format!("this Deny statement may apply: {reason}"),
        },
        (Some(statement), _, _) => Decision::Allowed { statement },
        (None, Some((statement, reason)), _) => Decision::Undecided { statement, reason },
        (None, None, _) => Decision::NotAllowed,
    })
}

fn statement_matches(statement: &Value, request: &Request) -> Result<Match, PolicyError> {
    let principal = match (statement.get("Principal"), statement.get("NotPrincipal")) {
        (Some(principal), None) => principal_matches(principal, &request.principal)?,
        (None, Some(not_principal)) => {
            match principal_matches(not_principal, &request.principal)? {
                Match::Yes => Match::No,
                _ => Match::Unknown(
                    "NotPrincipal does not name the requester; how it applies to a service or \
                 cross-account principal is not evaluated"
                        .to_string(),
                ),
            }
        }
        (None, None) => return Err(malformed("no Principal or NotPrincipal")),
        (Some(_), Some(_)) => return Err(malformed("both Principal and NotPrincipal")),
    };
    let action = element(statement, "Action", "NotAction", |pattern| {
        Match::from_bool(glob(
            &pattern.to_ascii_lowercase(),
            &request.action.to_ascii_lowercase(),
        ))
    })?;
    let resource = element(statement, "Resource", "NotResource", |pattern| {
        if pattern.contains("${") {
            Match::Unknown(format!("policy variables are not evaluated: {pattern}"))
        } else {
            Match::from_bool(glob(pattern, &request.resource))
        }
    })?;
    let condition = match statement.get("Condition") {
        None => Match::Yes,
        Some(Value::Object(block)) => Match::all(
            block
                .iter()
                .map(|(operator, keys)| operator_matches(operator, keys, request)),
        )?,
        Some(_) => return Err(malformed("Condition is not an object")),
    };
    Match::all([Ok(principal), Ok(action), Ok(resource), Ok(condition)])
}

/// A string or an array of strings.
fn strings<'a>(value: &'a Value, what: &str) -> Result<Vec<&'a str>, PolicyError> {
    match value {
        Value::String(text) => Ok(vec![text]),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .ok_or_else(|| malformed(format!("{what} holds a non-string")))
            })
            .collect(),
        _ => Err(malformed(format!(
            "{what} is neither a string nor an array"
        ))),
    }
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: any listed pattern matches (or, for the
/// `Not` form, none does).
fn element(
    statement: &Value,
    name: &str,
    not_name: &str,
    matches: impl Fn(&str) -> Match,
) -> Result<Match, PolicyError> {
    match (statement.get(name), statement.get(not_name)) {
        (Some(value), None) => Ok(Match::any(strings(value, name)?.into_iter().map(&matches))),
        (None, Some(value)) => {
            Ok(Match::any(strings(value, not_name)?.into_iter().map(&matches)).not())
        }
        (None, None) => Err(malformed(format!("no {name} or {not_name}"))),
        (Some(_), Some(_)) => Err(malformed(format!("both {name} and {not_name}"))),
    }
}

fn principal_matches(principal: &Value, requester: &Principal) -> Result<Match, PolicyError> {
    let map = match principal {
        Value::String(star) if star == "*" => return Ok(Match::Yes),
        Value::Object(map) => map,
        _ => return Err(malformed("Principal is neither \"*\" nor an object")),
    };
    let mut found = Vec::new();
    for (kind, names) in map {
        for name in strings(names, "Principal")? {
            found.push(match (kind.as_str(), requester) {
                ("AWS", _) if name == "*" => Match::Yes,
                ("Service", Principal::Service(service)) => {
                    Match::from_bool(name.eq_ignore_ascii_case(service))
                }
                ("AWS", Principal::Aws(arn)) => aws_principal_matches(name, arn),
                _ => Match::No,
            });
        }
    }
    Ok(Match::any(found))
}

/// An `AWS` principal entry against an IAM principal's ARN. Naming the principal's own account
/// (ID or `:root`) delegates the decision to that account's IAM policies, which this evaluator
/// does not see.
fn aws_principal_matches(name: &str, arn: &str) -> Match {
    if name == arn {
        return Match::Yes;
    }
    let Ok(parsed) = Arn::parse(arn) else {
        return Match::No;
    };
    let account = parsed.account_id;
    let root = format!("arn:{}:iam::{account}:root", parsed.partition);
    if !account.is_empty() && (name == account || name == root) {
        Match::Unknown(format!(
            "the principal {name} grants the account, whose IAM policies decide"
        ))
    } else {
        Match::No
    }
}

/// A condition value as the text IAM compares (`true`, `12`, `abc`).
fn condition_values<'a>(value: &'a Value) -> Result<Vec<String>, PolicyError> {
    let one = |item: &'a Value| match item {
        Value::String(text) => Ok(text.clone()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(malformed(
            "a condition value is not a string, number or boolean",
        )),
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        item => Ok(vec![one(item)?]),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Arn,
    Bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    None,
    ForAnyValue,
    ForAllValues,
}

/// One condition operator with its keys: every key must hold (AND).
fn operator_matches(operator: &str, keys: &Value, request: &Request) -> Result<Match, PolicyError> {
    let Value::Object(keys) = keys else {
        return Err(malformed(format!(
            "Condition operator {operator} does not hold an object"
        )));
    };
    let (qualifier, base) = if let Some(rest) = operator.strip_prefix("ForAnyValue:") {
        (SetQualifier::ForAnyValue, rest)
    } else if let Some(rest) = operator.strip_prefix("ForAllValues:") {
        (SetQualifier::ForAllValues, rest)
    } else {
        (SetQualifier::None, operator)
    };
    let (base, if_exists) = match base.strip_suffix("IfExists") {
        Some(rest) => (rest, true),
        None => (base, false),
    };
    if base == "Null" && qualifier == SetQualifier::None && !if_exists {
        return Match::all(
            keys.iter()
                .map(|(key, value)| null_check(key, value, request)),
        );
    }
    let (comparison, negated) = match base {
        "StringEquals" => (Comparison::StringEquals, false),
        "StringNotEquals" => (Comparison::StringEquals, true),
        "StringEqualsIgnoreCase" => (Comparison::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Comparison::StringEqualsIgnoreCase, true),
        "StringLike" => (Comparison::StringLike, false),
        "StringNotLike" => (Comparison::StringLike, true),
        "ArnEquals" | "ArnLike" => (Comparison::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Comparison::Arn, true),
        "Bool" => (Comparison::Bool, false),
        _ => {
            return Ok(Match::Unknown(format!(
                "the condition operator {operator} is not evaluated"
            )))
        }
    };
    Match::all(keys.iter().map(|(key, value)| {
        let wanted = condition_values(value)?;
        if wanted.iter().any(|value| value.contains("${")) {
            return Ok(Match::Unknown(format!(
                "policy variables in {operator} {key} are not evaluated"
            )));
        }
        let Ok(present) = request.lookup(key) else {
            return Ok(Match::Unknown(format!(
                "whether the request carries the condition key {key}, and its value, is not known"
            )));
        };
        let values = present.unwrap_or_default();
        // The operator on one request value: with several policy values, a positive operator
        // holds if any matches (OR), a negated one if none does.
        let holds = |value: &str| {
            let any = wanted
                .iter()
                .any(|pattern| compare(comparison, pattern, value));
            any != negated
        };
        Ok(Match::from_bool(if values.is_empty() {
            // The key is missing from the request (operators page; set-operator page).
            match qualifier {
                _ if if_exists => true,
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => false,
                SetQualifier::None => negated,
            }
        } else {
            match qualifier {
                SetQualifier::ForAllValues => values.iter().all(|value| holds(value)),
                SetQualifier::ForAnyValue => values.iter().any(|value| holds(value)),
                // Single-valued keys: the one value; for safety with several, a positive
                // operator needs one match and a negated one needs none.
                SetQualifier::None if negated => values.iter().all(|value| holds(value)),
                SetQualifier::None => values.iter().any(|value| holds(value)),
            }
        }))
    }))
}

/// `Null`: `true` holds when the key is missing, `false` when it is present.
fn null_check(key: &str, value: &Value, request: &Request) -> Result<Match, PolicyError> {
    let wanted = condition_values(value)?;
    let Ok(present) = request.lookup(key) else {
        return Ok(Match::Unknown(format!(
            "whether the request carries the condition key {key} is not known"
        )));
    };
    let missing = present.is_none_or(<[String]>::is_empty);
    Ok(Match::any(wanted.iter().map(
        |flag| match flag.to_ascii_lowercase().as_str() {
            "true" => Match::from_bool(missing),
            "false" => Match::from_bool(!missing),
            _ => Match::Unknown(format!("Null {key} holds {flag:?}, not true or false")),
        },
    )))
}

fn compare(comparison: Comparison, pattern: &str, value: &str) -> bool {
    match comparison {
        Comparison::StringEquals => pattern == value,
        Comparison::StringEqualsIgnoreCase => pattern.to_lowercase() == value.to_lowercase(),
        Comparison::StringLike => glob(pattern, value),
        Comparison::Bool => pattern.eq_ignore_ascii_case(value),
        Comparison::Arn => arn_like(pattern, value),
    }
}

/// `ArnLike`/`ArnEquals`: "Each of the six colon-delimited components of the ARN is checked
/// separately and each can include multi-character match wildcards (*) or single-character
/// match wildcards (?)" (operators page, ARN condition operators).
fn arn_like(pattern: &str, value: &str) -> bool {
    let patterns: Vec<&str> = pattern.splitn(6, ':').collect();
    let values: Vec<&str> = value.splitn(6, ':').collect();
    patterns.len() == 6
        && values.len() == 6
        && patterns
            .iter()
            .zip(&values)
            .all(|(pattern, value)| glob(pattern, value))
}

/// `*` matches any run of characters (none included), `?` any one character.
fn glob(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "111122223333";
    const ALARM: &str = "arn:aws:cloudwatch:us-east-2:111122223333:alarm:cis-4-5";
    const OTHER_ACCOUNT_ALARM: &str = "arn:aws:cloudwatch:us-east-2:999988887777:alarm:cis-4-5";
    const TOPIC: &str = "arn:aws:sns:us-east-2:111122223333:MyTopic";
    const KEY: &str = "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn publish(alarm: &str) -> Request {
        Request::cloudwatch_alarm_publish(alarm, TOPIC).unwrap()
    }

    fn key_use(action: &str) -> Request {
        Request::cloudwatch_alarm_key_use(ALARM, KEY, action).unwrap()
    }

    fn allowed(statement: &str) -> Decision {
        Decision::Allowed {
            statement: statement.to_string(),
        }
    }

    fn denied(statement: &str) -> Decision {
        Decision::ExplicitlyDenied {
            statement: statement.to_string(),
        }
    }

    fn undecided_statement(decision: &Decision) -> Option<&str> {
        match decision {
            Decision::Undecided { statement, .. } => Some(statement),
            _ => None,
        }
    }

    /// The policy SNS gives a new topic (research §4.2: its `AWS:SourceOwner` condition is
    /// documented on https://docs.aws.amazon.com/sns/latest/dg/sns-create-topic.html, the JSON
    /// only in public reports of GetTopicAttributes), and the documented publish context
    /// (https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html: CloudWatch
    /// sets `aws:SourceOwner`): a same-account alarm may publish, another account's may not.
    #[test]
    fn the_default_topic_policy_allows_only_same_account_alarms() {
        let policy = format!(
            r#"{{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{{
                "Sid":"__default_statement_ID","Effect":"Allow","Principal":{{"AWS":"*"}},
                "Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission",
                  "SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe",
                  "SNS:ListSubscriptionsByTopic","SNS:Publish"],
                "Resource":"{TOPIC}",
                "Condition":{{"StringEquals":{{"AWS:SourceOwner":"{ACCOUNT}"}}}}}}]}}"#
        );
        let table = [
            (ALARM, allowed("__default_statement_ID")),
            (OTHER_ACCOUNT_ALARM, Decision::NotAllowed),
        ];
        for (alarm, expected) in table {
            assert_eq!(evaluate(&policy, &publish(alarm)), Ok(expected), "{alarm}");
        }
    }

    /// The confused-deputy example policy of the CloudWatch guide
    /// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html),
    /// and the cross-account example of
    /// https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html; condition
    /// key names match whatever their case
    /// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html).
    #[test]
    fn the_documented_cloudwatch_statements_allow_the_alarms_they_name() {
        let cloudwatch_guide = r#"{"Statement":[{"Effect":"Allow",
            "Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"SNS:Publish",
            "Resource":"arn:aws:sns:us-east-2:111122223333:MyTopic",
            "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-2:111122223333:alarm:*"},
                         "StringEquals":{"aws:SourceAccount":"111122223333"}}}]}"#;
        let cross_account = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},
            "Action":"SNS:Publish","Resource":"arn:aws:sns:us-east-2:111122223333:MyTopic",
            "Condition":{"ArnLike":{"AWS:SOURCEARN":"arn:aws:cloudwatch:us-east-2:999988887777:alarm:*"}}}]}"#;
        let other_region = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:cis-4-5";
        let table = [
            (cloudwatch_guide, ALARM, allowed("Statement[0]")),
            (cloudwatch_guide, OTHER_ACCOUNT_ALARM, Decision::NotAllowed),
            (cloudwatch_guide, other_region, Decision::NotAllowed),
            (cross_account, OTHER_ACCOUNT_ALARM, allowed("Statement[0]")),
            (cross_account, ALARM, Decision::NotAllowed),
        ];
        for (policy, alarm, expected) in table {
            assert_eq!(evaluate(policy, &publish(alarm)), Ok(expected), "{alarm}");
        }
    }

    /// Principals (research §4.2 checker guidance, and
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
    /// an account principal does not cover the CloudWatch service principal; "*" and a
    /// Service list naming it do; NotPrincipal naming it excludes it, otherwise is undecided.
    #[test]
    fn principals_match_the_cloudwatch_service_principal_only_when_they_name_it() {
        let statement = |principal: &str| {
            format!(
                r#"{{"Statement":{{"Effect":"Allow",{principal},"Action":"sns:*","Resource":"*"}}}}"#
            )
        };
        let table = [
            (
                r#""Principal":{"AWS":"arn:aws:iam::111122223333:root"}"#,
                Some(false),
            ),
            (r#""Principal":{"AWS":["111122223333"]}"#, Some(false)),
            (r#""Principal":"*""#, Some(true)),
            (
                r#""Principal":{"Service":["events.amazonaws.com","cloudwatch.amazonaws.com"]}"#,
                Some(true),
            ),
            (
                r#""Principal":{"Service":"events.amazonaws.com"}"#,
                Some(false),
            ),
            (
                r#""NotPrincipal":{"Service":"cloudwatch.amazonaws.com"}"#,
                Some(false),
            ),
            (
                r#""NotPrincipal":{"AWS":"arn:aws:iam::111122223333:root"}"#,
                None,
            ),
        ];
        for (principal, expected) in table {
            let decision = evaluate(&statement(principal), &publish(ALARM)).unwrap();
            let got = match decision {
                Decision::Allowed { .. } => Some(true),
                Decision::NotAllowed => Some(false),
                Decision::Undecided { .. } => None,
                other => panic!("{principal}: {other:?}"),
            };
            assert_eq!(got, expected, "{principal}");
        }
    }

    /// "An explicit deny in any policy overrides any allows"
    /// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
    /// an undecided Deny leaves an Allow undecided, but cannot matter when nothing allows.
    #[test]
    fn an_explicit_deny_wins() {
        let allow = r#"{"Sid":"Allow","Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"*"}"#;
        let table = [
            (
                r#"{"Sid":"NoPublish","Effect":"Deny","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"SNS:Publish","Resource":"*"}"#,
                denied("NoPublish"),
            ),
            (
                // Data-perimeter style: the service principal has no aws:PrincipalOrgID, and a
                // negated operator on a missing key holds.
                r#"{"Sid":"OrgOnly","Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}}"#,
                denied("OrgOnly"),
            ),
            (
                r#"{"Sid":"OtherAction","Effect":"Deny","Principal":"*","NotAction":"sns:Publish","Resource":"*"}"#,
                allowed("Allow"),
            ),
            (
                r#"{"Sid":"OtherTopic","Effect":"Deny","Principal":"*","Action":"sns:*","NotResource":"arn:aws:sns:us-east-2:111122223333:My*"}"#,
                allowed("Allow"),
            ),
        ];
        for (deny, expected) in table {
            let policy = format!(r#"{{"Statement":[{allow},{deny}]}}"#);
            assert_eq!(evaluate(&policy, &publish(ALARM)), Ok(expected), "{deny}");
        }

        let unknown_deny = r#"{"Sid":"Org","Effect":"Deny","Principal":"*","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceOrgID":"o-abc"}}}"#;
        let policy = format!(r#"{{"Statement":[{allow},{unknown_deny}]}}"#);
        let decision = evaluate(&policy, &publish(ALARM)).unwrap();
        assert_eq!(undecided_statement(&decision), Some("Org"), "{decision:?}");
        let policy = format!(r#"{{"Statement":[{unknown_deny}]}}"#);
        assert_eq!(evaluate(&policy, &publish(ALARM)), Ok(Decision::NotAllowed));
    }

    /// The key-policy statement of the SNS guide
    /// (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)
    /// allows both KMS actions, `kms:GenerateDataKey*` by wildcard; the default key policy's
    /// account-root statement
    /// (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html) does not
    /// cover CloudWatch.
    #[test]
    fn key_policies_for_the_cloudwatch_service_principal() {
        let sns_guide = r#"{"Statement":[{"Effect":"Allow",
            "Principal":{"Service":"cloudwatch.amazonaws.com"},
            "Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*"}]}"#;
        let with_conditions = r#"{"Statement":[{"Effect":"Allow",
            "Principal":{"Service":"cloudwatch.amazonaws.com"},
            "Action":["kms:GenerateDataKey*","kms:Decrypt"],"Resource":"*",
            "Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"},
                         "ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-2:111122223333:alarm:*"}}}]}"#;
        let default_key_policy = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{
            "Sid":"Enable IAM User Permissions","Effect":"Allow",
            "Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;
        let table = [
            (sns_guide, "kms:Decrypt", allowed("Statement[0]")),
            (sns_guide, "kms:GenerateDataKey", allowed("Statement[0]")),
            (sns_guide, "kms:Encrypt", Decision::NotAllowed),
            (
                with_conditions,
                "kms:GenerateDataKey",
                allowed("Statement[0]"),
            ),
            (default_key_policy, "kms:Decrypt", Decision::NotAllowed),
            (
                default_key_policy,
                "kms:GenerateDataKey",
                Decision::NotAllowed,
            ),
        ];
        for (policy, action, expected) in table {
            assert_eq!(evaluate(policy, &key_use(action)), Ok(expected), "{action}");
        }
    }

    /// Missing keys, negation, IfExists, set qualifiers, Null and Bool, per
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    /// and (ForAllValues on a missing key is true)
    /// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html.
    #[test]
    fn condition_operators_follow_the_operators_page() {
        // (condition, allows the same-account alarm's publish?) — None: undecided.
        let table = [
            (
                r#"{"StringEquals":{"aws:SourceAccount":["444455556666","111122223333"]}}"#,
                Some(true),
            ),
            (
                r#"{"StringEquals":{"aws:SourceAccount":"111122223333"},"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:*:*:alarm:other"}}"#,
                Some(false),
            ),
            (
                r#"{"StringNotEquals":{"aws:SourceAccount":"444455556666"}}"#,
                Some(true),
            ),
            (
                r#"{"StringNotEquals":{"aws:SourceAccount":["444455556666","111122223333"]}}"#,
                Some(false),
            ),
            (
                r#"{"StringLike":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-?:*:alarm:cis-*"}}"#,
                Some(true),
            ),
            (
                r#"{"StringNotLike":{"aws:SourceArn":"*:alarm:cis-*"}}"#,
                Some(false),
            ),
            (
                r#"{"StringEqualsIgnoreCase":{"aws:SourceArn":"ARN:AWS:CLOUDWATCH:US-EAST-2:111122223333:ALARM:CIS-4-5"}}"#,
                Some(true),
            ),
            (
                r#"{"StringEquals":{"aws:SourceArn":"ARN:AWS:CLOUDWATCH:US-EAST-2:111122223333:ALARM:CIS-4-5"}}"#,
                Some(false),
            ),
            (
                r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudwatch:us-east-2:111122223333:alarm:cis-4-5"}}"#,
                Some(true),
            ),
            (
                r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:cloudwatch:*:111122223333:alarm:*"}}"#,
                Some(false),
            ),
            (
                r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:cloudwatch:*:999988887777:alarm:*"}}"#,
                Some(true),
            ),
            // ARN components are matched one by one: `*` does not cross a colon.
            (
                r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudwatch:*:alarm:*"}}"#,
                Some(false),
            ),
            // A positive operator on a key the request does not carry fails; a negated one
            // holds; IfExists holds.
            (
                r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#,
                Some(false),
            ),
            (
                r#"{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc"}}"#,
                Some(true),
            ),
            (
                r#"{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-abc"}}"#,
                Some(true),
            ),
            (
                r#"{"StringEqualsIfExists":{"aws:SourceAccount":"444455556666"}}"#,
                Some(false),
            ),
            (
                r#"{"ForAllValues:StringEquals":{"aws:PrincipalOrgPaths":"o-abc/*"}}"#,
                Some(true),
            ),
            (
                r#"{"ForAnyValue:StringLike":{"aws:PrincipalOrgPaths":"o-abc/*"}}"#,
                Some(false),
            ),
            (
                r#"{"ForAnyValue:StringEquals":{"aws:SourceAccount":["111122223333"]}}"#,
                Some(true),
            ),
            (
                r#"{"Null":{"aws:PrincipalOrgID":"true","aws:SourceArn":"false"}}"#,
                Some(true),
            ),
            (r#"{"Null":{"aws:SourceArn":true}}"#, Some(false)),
            // Keys and operators the evaluator does not know leave the statement undecided.
            (r#"{"StringEquals":{"aws:SourceOrgID":"o-abc"}}"#, None),
            (r#"{"Bool":{"aws:SecureTransport":"true"}}"#, None),
            (r#"{"NumericLessThan":{"aws:SourceAccount":"5"}}"#, None),
            (
                r#"{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}"#,
                None,
            ),
            // ...unless another condition already fails.
            (
                r#"{"StringEquals":{"aws:SourceOrgID":"o-abc","aws:SourceAccount":"444455556666"}}"#,
                Some(false),
            ),
        ];
        for (condition, expected) in table {
            let policy = format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":"*","Action":"sns:Publish","Resource":"{TOPIC}","Condition":{condition}}}}}"#
            );
            let got = match evaluate(&policy, &publish(ALARM)) {
                Ok(Decision::Allowed { .. }) => Some(true),
                Ok(Decision::NotAllowed) => Some(false),
                Ok(Decision::Undecided { .. }) => None,
                other => panic!("{condition}: {other:?}"),
            };
            assert_eq!(got, expected, "{condition}");
        }
    }

    #[test]
    fn an_unknown_operator_leaves_its_statement_undecided_by_name() {
        let policy = r#"{"Statement":[
            {"Sid":"Narrow","Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},
             "Action":"sns:Publish","Resource":"*",
             "Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}},
            {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sns:*","Resource":"*"}]}"#;
        match evaluate(policy, &publish(ALARM)) {
            Ok(Decision::Undecided { statement, reason }) => {
                assert_eq!(statement, "Narrow");
                assert!(reason.contains("DateGreaterThan"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// Action names, prefix included, are not case-sensitive
    /// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html);
    /// resources are matched case-sensitively with wildcards
    /// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
    #[test]
    fn actions_and_resources_match_with_wildcards() {
        let table = [
            ("SNS:Publish", "*", true),
            ("sns:publish", TOPIC, true),
            ("sns:*", "arn:aws:sns:us-east-2:111122223333:*", true),
            ("*", "arn:aws:sns:*:*:My?opic", true),
            (
                "sns:Pub*",
                "arn:aws:sns:us-east-2:111122223333:mytopic",
                false,
            ),
            ("sns:Subscribe", "*", false),
            ("sqs:Publish", "*", false),
        ];
        for (action, resource, expected) in table {
            let policy = format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":"*","Action":"{action}","Resource":"{resource}"}}}}"#
            );
            let got = evaluate(&policy, &publish(ALARM)).unwrap();
            assert_eq!(
                got == allowed("Statement[0]"),
                expected,
                "{action} {resource}: {got:?}"
            );
        }
    }

    #[test]
    fn an_iam_principal_is_matched_by_arn_and_its_account_is_undecided() {
        let role = "arn:aws:iam::111122223333:role/ops";
        let request = Request {
            principal: Principal::Aws(role.to_string()),
            action: "sns:Publish".to_string(),
            resource: TOPIC.to_string(),
            context: BTreeMap::new(),
            absent_keys: Vec::new(),
        };
        let policy = |principal: &str| {
            format!(
                r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sns:Publish","Resource":"*"}}}}"#
            )
        };
        assert_eq!(
            evaluate(&policy(role), &request),
            Ok(allowed("Statement[0]"))
        );
        assert_eq!(
            evaluate(&policy("arn:aws:iam::999988887777:root"), &request),
            Ok(Decision::NotAllowed)
        );
        let decision = evaluate(&policy("arn:aws:iam::111122223333:root"), &request).unwrap();
        assert_eq!(undecided_statement(&decision), Some("Statement[0]"));
    }

    #[test]
    fn malformed_documents_are_errors_not_panics() {
        let table = [
            "",
            "{",
            "[]",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Statement":"x"}"#,
            r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":[1],"Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":"x"}}]}"#,
        ];
        for text in table {
            let error = evaluate(text, &publish(ALARM)).unwrap_err();
            assert!(!error.to_string().is_empty(), "{text}");
        }
        assert!(Request::cloudwatch_alarm_publish("not-an-arn", TOPIC).is_err());
    }
}
