//! Which services write a CloudTrail record with a given event name, as data
//! (`cis/emitters.json`), and the event names a pattern tests.
//!
//! A CIS pattern such as 4.4's names events (`CreatePolicy`, …) but no service, and more than
//! one service writes records with some of those names: IAM, but also IoT and Organizations
//! (`CreatePolicy`), App Mesh and API Gateway (`CreateRoute`). A metric filter need only match the
//! records some service can write ([`super::coverage`]), so a filter that adds `$.eventSource =
//! iam.amazonaws.com` to 4.4 does not cover it (IoT's `CreatePolicy` records match the CIS
//! pattern and not the filter), while one that adds `$.eventSource = cloudtrail.amazonaws.com` to
//! 4.5 does (only CloudTrail writes `CreateTrail`). The file's `services` table cites, per
//! service, the API reference of those operations and where its `eventSource` value is
//! documented; the unit tests check it is complete.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use trailwatch_pattern::ast::{Ast, CmpOp, JsonExpr, Step, Test, Value};
use trailwatch_pattern::FilterPattern;

const FILE: &str = include_str!("cis/emitters.json");

/// The part of the file the evaluator uses; `about` and `services` document it.
#[derive(Debug, Deserialize)]
struct Emitters {
    /// Event name → the `eventSource` of every service that writes records with it.
    event_names: BTreeMap<String, Vec<String>>,
}

fn emitters() -> &'static Emitters {
    static PARSED: OnceLock<Emitters> = OnceLock::new();
    PARSED.get_or_init(|| {
        serde_json::from_str(FILE)
            .unwrap_or_else(|error| panic!("cis/emitters.json is invalid: {error}"))
    })
}

/// The services that write records named `event_name`, if the table knows the name.
pub fn sources_of(event_name: &str) -> Option<&'static [String]> {
    emitters().event_names.get(event_name).map(Vec::as_slice)
}

/// The event names `pattern` tests with `$.eventName = <literal>`, in order of appearance.
pub fn event_names(pattern: &FilterPattern) -> Vec<String> {
    let mut names = Vec::new();
    if let Ast::Json(expr) = pattern.ast() {
        collect_names(expr, &mut names);
    }
    names
}

fn collect_names(expr: &JsonExpr, names: &mut Vec<String>) {
    match expr {
        JsonExpr::And(items, _) | JsonExpr::Or(items, _) => {
            for item in items {
                collect_names(item, names);
            }
        }
        JsonExpr::Cond(_) => {
            if let Some(name) = event_name_literal(expr) {
                if !names.iter().any(|known| known == name) {
                    names.push(name.to_string());
                }
            }
        }
    }
}

/// The value of a `$.eventName = <literal>` test (no wildcard).
pub(super) fn event_name_literal(expr: &JsonExpr) -> Option<&str> {
    let JsonExpr::Cond(condition) = expr else {
        return None;
    };
    let is_event_name =
        matches!(condition.selector.steps.as_slice(), [Step::Key(key)] if key == "eventName");
    match (&condition.test, is_event_name) {
        (Test::Compare(CmpOp::Eq, Value::Str(glob)), true) => glob.exact(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> FilterPattern {
        trailwatch_pattern::parse(text).unwrap()
    }

    #[test]
    fn every_source_named_cites_its_api_reference_and_event_source() {
        let file: serde_json::Value = serde_json::from_str(FILE).unwrap();
        let keys: Vec<&str> = file
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["about", "event_names", "services"]);
        let services = file["services"].as_object().unwrap();
        for (name, sources) in &emitters().event_names {
            assert!(!sources.is_empty(), "{name}");
            for source in sources {
                let service = services
                    .get(source)
                    .unwrap_or_else(|| panic!("{source} (for {name}) is not in services"));
                for field in ["api_reference", "event_source"] {
                    let text = service[field].as_str().unwrap_or_default();
                    assert!(!text.is_empty(), "{source}: {field}");
                }
                assert!(source.ends_with(".amazonaws.com"), "{source}");
            }
        }
        for source in services.keys() {
            assert!(
                emitters()
                    .event_names
                    .values()
                    .any(|sources| sources.contains(source)),
                "{source} is cited but writes none of the names"
            );
        }
    }

    #[test]
    fn names_are_collected_from_equality_tests_only() {
        let pattern = parse(
            "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = \"ScheduleKeyDeletion\") || ($.eventName = Disable*) || ($.eventName != HeadBucket)) }",
        );
        assert_eq!(event_names(&pattern), ["DisableKey", "ScheduleKeyDeletion"]);
        assert!(event_names(&parse("{ $.errorCode = \"AccessDenied*\" }")).is_empty());
        assert_eq!(
            sources_of("CreateRoute").unwrap(),
            [
                "ec2.amazonaws.com",
                "apigateway.amazonaws.com",
                "appmesh.amazonaws.com",
                "refactor-spaces.amazonaws.com"
            ]
        );
        assert_eq!(sources_of("NotAnEventName"), None);
    }
}
