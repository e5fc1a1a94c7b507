//! The CloudTrail record that counterexamples are built from, and the finishing touches that
//! make a counterexample read like a real record (realistic names in place of placeholder
//! strings, an `eventSource` that fits the `eventName`) without changing what it proves.

use serde_json::{json, Value as Json};

use crate::ast::{Selector, Step};
use crate::FilterPattern;

/// A management-event CloudTrail record (an IAM user calling an EC2 read API).
pub(crate) fn template() -> Json {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDACKCEVSQ6C2EXAMPLE",
            "arn": "arn:aws:iam::123456789012:user/alice",
            "accountId": "123456789012",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": "alice"
        },
        "eventTime": "2026-01-15T12:34:56Z",
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DescribeInstances",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64",
        "requestParameters": {},
        "responseElements": null,
        "requestID": "6f1b5c4e-8a2d-4c3b-9e7f-0a1b2c3d4e5f",
        "eventID": "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management"
    })
}

/// Realistic replacements for a placeholder string at a top-level-ish field.
fn pool(path: &str) -> &'static [&'static str] {
    match path {
        "$.eventName" => &[
            "DescribeInstances",
            "ListBuckets",
            "GetCallerIdentity",
            "AssumeRole",
            "CreateBucket",
            "RunInstances",
        ],
        "$.eventSource" => &[
            "ec2.amazonaws.com",
            "s3.amazonaws.com",
            "sts.amazonaws.com",
            "iam.amazonaws.com",
            "signin.amazonaws.com",
        ],
        "$.errorCode" => &["ThrottlingException", "ValidationException", "NoSuchBucket"],
        "$.errorMessage" => &["Rate exceeded", "The specified bucket does not exist"],
        "$.sourceIPAddress" => &["198.51.100.7", "ec2.amazonaws.com"],
        "$.userIdentity.type" => &["IAMUser", "AssumedRole", "Root", "AWSService"],
        "$.eventType" => &["AwsApiCall", "AwsConsoleSignIn", "AwsServiceEvent"],
        "$.awsRegion" => &["us-east-1", "eu-west-1"],
        "$.additionalEventData.MFAUsed" => &["No", "Yes"],
        "$.responseElements.ConsoleLogin" => &["Success", "Failure"],
        _ => &["example"],
    }
}

/// The service that emits an API call, for the names the CIS controls are about.
fn source_for(event_name: &str) -> Option<&'static str> {
    let table: &[(&str, &str)] = &[
        ("Trail", "cloudtrail.amazonaws.com"),
        ("Logging", "cloudtrail.amazonaws.com"),
        ("ConsoleLogin", "signin.amazonaws.com"),
        ("Key", "kms.amazonaws.com"),
        ("ConfigurationRecorder", "config.amazonaws.com"),
        ("DeliveryChannel", "config.amazonaws.com"),
        ("Bucket", "s3.amazonaws.com"),
        ("Policy", "iam.amazonaws.com"),
        ("Handshake", "organizations.amazonaws.com"),
        ("Organization", "organizations.amazonaws.com"),
        ("Account", "organizations.amazonaws.com"),
        ("SecurityGroup", "ec2.amazonaws.com"),
        ("NetworkAcl", "ec2.amazonaws.com"),
        ("Gateway", "ec2.amazonaws.com"),
        ("Route", "ec2.amazonaws.com"),
        ("Vpc", "ec2.amazonaws.com"),
    ];
    table
        .iter()
        .find(|(part, _)| event_name.contains(part))
        .map(|(_, s)| *s)
}

/// Makes a verified counterexample read more like a real record. Every change is kept only if
/// `required` still matches and `customer` still does not; `selectors` are the selectors the
/// patterns test.
pub(crate) fn polish(
    mut event: Json,
    selectors: &[Selector],
    customer: &FilterPattern,
    required: &FilterPattern,
) -> Json {
    let still = |e: &Json| required.matches(e) && !customer.matches(e);
    restore_template_fields(&mut event, selectors, &still);
    restore_structure(&mut event, selectors, &still);
    for sel in selectors {
        let Some(ptr) = pointer_of(sel) else {
            continue;
        };
        let is_placeholder = matches!(
            event.pointer(&ptr),
            Some(Json::String(s)) if s.starts_with("other-value") || s.len() <= 2 || !s.chars().any(char::is_alphabetic)
        );
        if !is_placeholder {
            continue;
        }
        for candidate in pool(&sel.to_text()) {
            let mut e = event.clone();
            if let Some(slot) = e.pointer_mut(&ptr) {
                *slot = Json::String((*candidate).to_string());
            }
            if still(&e) {
                event = e;
                break;
            }
        }
    }
    // A console sign-in is a ConsoleLogin.
    if event.get("eventType").and_then(Json::as_str) == Some("AwsConsoleSignIn") {
        try_edit(&mut event, &still, |e| {
            e["eventName"] = "ConsoleLogin".into();
        });
    }
    // An eventSource and readOnly flag that fit the eventName, when the patterns leave them free.
    let name = event
        .get("eventName")
        .and_then(Json::as_str)
        .map(str::to_string);
    if let Some(name) = name {
        if let Some(src) = source_for(&name) {
            try_edit(&mut event, &still, |e| e["eventSource"] = src.into());
        }
        let read = ["Describe", "List", "Get", "Head", "Lookup"]
            .iter()
            .any(|p| name.starts_with(p));
        try_edit(&mut event, &still, |e| e["readOnly"] = read.into());
    }
    // An error code comes with an error message.
    if event.get("errorCode").is_some_and(Json::is_string) && event.get("errorMessage").is_none() {
        try_edit(&mut event, &still, |e| {
            e["errorMessage"] = "You are not authorized to perform this operation.".into();
        });
    }
    // A root identity looks like one.
    if event.pointer("/userIdentity/type").and_then(Json::as_str) == Some("Root") {
        try_edit(&mut event, &still, |e| {
            if let Some(id) = e.get_mut("userIdentity").and_then(Json::as_object_mut) {
                id.insert("arn".into(), "arn:aws:iam::123456789012:root".into());
                id.insert("principalId".into(), "123456789012".into());
                id.remove("userName");
            }
        });
    }
    event
}

/// Gives back the template's top-level fields that no selector names and the event lacks (the
/// search builds a wildcard's container, the root for `$.*`, from nothing), each only when that
/// still proves the point.
fn restore_template_fields(
    event: &mut Json,
    selectors: &[Selector],
    still: &dyn Fn(&Json) -> bool,
) {
    let Json::Object(fields) = template() else {
        return;
    };
    for (key, value) in fields {
        let named = selectors
            .iter()
            .any(|s| s.steps.first() == Some(&Step::Key(key.clone())));
        if named || event.get(&key).is_some() {
            continue;
        }
        try_edit(event, still, |e| {
            e[key.as_str()] = value;
        });
    }
}

/// Where the search made a field's parent something other than the record's object (e.g.
/// `userIdentity` a string so that `$.userIdentity.type` is absent), puts the template's object
/// back with the field set to a realistic value, when that still proves the point.
fn restore_structure(event: &mut Json, selectors: &[Selector], still: &dyn Fn(&Json) -> bool) {
    let template = template();
    for sel in selectors {
        let Some(Step::Key(top)) = sel.steps.first() else {
            continue;
        };
        let Some(original) = template.get(top.as_str()).filter(|v| v.is_object()) else {
            continue;
        };
        if event.get(top.as_str()).is_some_and(Json::is_object) {
            continue;
        }
        let Some(ptr) = pointer_of(sel) else {
            continue;
        };
        let leaf_values = pool(&sel.to_text())
            .iter()
            .map(|candidate| Some(Json::String((*candidate).to_string())))
            .chain([None]);
        for leaf in leaf_values {
            let mut e = event.clone();
            e[top.as_str()] = original.clone();
            match leaf {
                Some(value) => match e.pointer_mut(&ptr) {
                    Some(slot) => *slot = value,
                    None => continue,
                },
                // The field absent from an otherwise real object.
                None => {
                    if let (Some(Step::Key(last)), 2) = (sel.steps.last(), sel.steps.len()) {
                        if let Some(object) = e[top.as_str()].as_object_mut() {
                            object.remove(last);
                        }
                    }
                }
            }
            if still(&e) {
                *event = e;
                break;
            }
        }
    }
}

/// Applies `edit` to a copy of `event` and keeps it if `still` holds for it.
fn try_edit(event: &mut Json, still: &dyn Fn(&Json) -> bool, edit: impl FnOnce(&mut Json)) {
    if !event.is_object() {
        return;
    }
    let mut e = event.clone();
    edit(&mut e);
    if still(&e) {
        *event = e;
    }
}

/// A selector as the JSON pointer `/a/b/0` (keys escaped per RFC 6901); `None` for a selector
/// with a wildcard, which points at no single place.
fn pointer_of(selector: &Selector) -> Option<String> {
    let mut p = String::new();
    for step in &selector.steps {
        p.push('/');
        match step {
            Step::Key(k) => p.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => p.push_str(&i.to_string()),
            Step::Any => return None,
        }
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers() {
        let sel = Selector {
            steps: vec![
                Step::Key("a".into()),
                Step::Key("x/y~".into()),
                Step::Index(2),
            ],
        };
        assert_eq!(pointer_of(&sel).as_deref(), Some("/a/x~1y~0/2"));
        let wild = Selector {
            steps: vec![Step::Key("a".into()), Step::Any],
        };
        assert_eq!(pointer_of(&wild), None);
    }

    #[test]
    fn polishing_restores_the_record_structure() {
        let required = crate::parse("{ $.eventName = CreateTrail }").unwrap();
        let customer =
            crate::parse("{ $.eventName = CreateTrail && $.userIdentity.type = Root }").unwrap();
        let mut e = template();
        e["eventName"] = "CreateTrail".into();
        e["userIdentity"] = "example".into();
        let sel = Selector {
            steps: vec![Step::Key("userIdentity".into()), Step::Key("type".into())],
        };
        let out = polish(e, &[sel], &customer, &required);
        assert!(out["userIdentity"].is_object(), "{out}");
        assert_ne!(out["userIdentity"]["type"], "Root");
        assert!(required.matches(&out) && !customer.matches(&out));
    }

    #[test]
    fn polishing_keeps_the_proof() {
        let required = crate::parse("{ $.eventName = CreateTrail }").unwrap();
        let customer = crate::parse("{ $.eventName = UpdateTrail }").unwrap();
        let mut e = template();
        e["eventName"] = "CreateTrail".into();
        let sel = Selector {
            steps: vec![Step::Key("eventName".into())],
        };
        let out = polish(e, &[sel], &customer, &required);
        assert_eq!(out["eventSource"], "cloudtrail.amazonaws.com");
        assert_eq!(out["readOnly"], false);
        assert!(required.matches(&out) && !customer.matches(&out));
    }
}
