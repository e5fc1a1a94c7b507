//! What a metric filter must cover for a monitoring control, and whether it does.
//!
//! A filter must match every event the CIS pattern matches *that CloudTrail can record*: within
//! the record kind the control's events always are (a write API call, a console sign-in) and,
//! for a pattern about named events, only from the services that write records with those names
//! ([`super::emitters`]). That set is kept as [`Required`]: parts by event name — `{
//! ($.eventName = "CreatePolicy") && ($.eventSource = "iam.amazonaws.com" || … ||
//! $.eventSource = "iot.amazonaws.com") && <record kind> && <the rest of the CIS pattern for that
//! name> }`, names with the same services and the same rest sharing a part — or a single part
//! for a pattern that names no event. A filter covers the control when it covers every part.
//! (One pattern for the whole set would exceed the 1024 characters the pattern engine, like
//! CloudWatch, accepts; the parts are disjoint, so deciding them one by one is the same
//! question.)

use super::catalog::{Domain, MonitoringSpec, RecordKind};
use super::emitters;
use trailwatch_pattern::ast::{Ast, JsonExpr};
use trailwatch_pattern::{Coverage, FilterPattern, ParseError};

/// One part of what a filter must cover, as pattern text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The event names the part is about, sorted; empty for the single part of a pattern that
    /// names no event.
    pub event_names: Vec<String>,
    pub text: String,
}

/// Longest part text built by joining event names (the engine, like CloudWatch, refuses
/// patterns over 1024 characters).
const MAX_PART_CHARS: usize = 1024;

/// The parts of what a filter must cover for `pattern` under `spec`. Event names that the same
/// services write and that leave the same rest of the pattern share a part, in the order the
/// pattern names them (split in two while a part would be too long). A pattern that does not
/// parse is its own single part (the evaluator then reports the parse error).
pub fn parts(spec: &MonitoringSpec, pattern: &str) -> Vec<Part> {
    let single = |text: String| {
        vec![Part {
            event_names: Vec::new(),
            text,
        }]
    };
    let kind = spec.record_kind.conditions();
    let parsed = match trailwatch_pattern::parse(pattern) {
        Ok(parsed) => parsed,
        Err(_) => return single(pattern.to_string()),
    };
    let Ast::Json(expr) = parsed.ast() else {
        return single(pattern.to_string());
    };
    let names = emitters::event_names(&parsed);
    if spec.domain == Domain::AnyRecord || names.is_empty() {
        if kind.is_empty() {
            return single(pattern.to_string());
        }
        let mut conjuncts: Vec<String> = kind.iter().map(|c| c.to_string()).collect();
        conjuncts.push(render(expr, pattern));
        return single(format!("{{ {} }}", conjuncts.join(" && ")));
    }
    let mut groups: Vec<Group> = Vec::new();
    for name in names {
        let rest = match restrict(expr, pattern, &name) {
            // No event with this name matches (it is only tested beside another name).
            Residual::False => continue,
            Residual::True => None,
            Residual::Expr(text) => Some(text),
        };
        let sources = emitters::sources_of(&name);
        match groups
            .iter_mut()
            .find(|group| group.sources == sources && group.rest == rest)
        {
            Some(group) => group.names.push(name),
            None => groups.push(Group {
                sources,
                rest,
                names: vec![name],
            }),
        }
    }
    let mut parts = Vec::new();
    for group in &groups {
        push_parts(
            &mut parts,
            &group.names,
            group.sources,
            kind,
            group.rest.as_deref(),
        );
    }
    parts
}

/// Event names that share a part: the same writers, the same rest of the pattern.
struct Group {
    sources: Option<&'static [String]>,
    rest: Option<String>,
    names: Vec<String>,
}

/// The part for `names`, or two halves' parts while it is too long.
fn push_parts(
    parts: &mut Vec<Part>,
    names: &[String],
    sources: Option<&[String]>,
    kind: &[&str],
    rest: Option<&str>,
) {
    let names_test: Vec<String> = names
        .iter()
        .map(|name| format!("$.eventName = \"{name}\""))
        .collect();
    let mut conjuncts = vec![format!("({})", names_test.join(" || "))];
    if let Some(sources) = sources {
        let sources: Vec<String> = sources
            .iter()
            .map(|source| format!("$.eventSource = \"{source}\""))
            .collect();
        conjuncts.push(format!("({})", sources.join(" || ")));
    }
    conjuncts.extend(kind.iter().map(|c| c.to_string()));
    conjuncts.extend(rest.map(str::to_string));
    let text = format!("{{ {} }}", conjuncts.join(" && "));
    if text.chars().count() > MAX_PART_CHARS && names.len() > 1 {
        let (first, second) = names.split_at(names.len() / 2);
        push_parts(parts, first, sources, kind, rest);
        push_parts(parts, second, sources, kind, rest);
        return;
    }
    let mut event_names = names.to_vec();
    event_names.sort();
    parts.push(Part { event_names, text });
}

impl RecordKind {
    /// The JSON conditions every record of this kind meets.
    fn conditions(self) -> &'static [&'static str] {
        match self {
            RecordKind::Any => &[],
            RecordKind::WriteApiCall => &[
                "$.eventType = \"AwsApiCall\"",
                "$.readOnly IS FALSE",
                "$.managementEvent IS TRUE",
                "$.eventCategory = \"Management\"",
            ],
            RecordKind::ConsoleSignIn => &[
                "$.eventType = \"AwsConsoleSignIn\"",
                "$.managementEvent IS TRUE",
                "$.eventCategory = \"Management\"",
            ],
        }
    }
}

/// A pattern expression once the event name is known.
enum Residual {
    True,
    False,
    Expr(String),
}

/// `expr` for events named `name`: each `$.eventName = <literal>` test is decided, everything
/// else is kept as written. `restrict(e, n) && eventName = n` matches exactly the events
/// `e && eventName = n` does.
fn restrict(expr: &JsonExpr, source: &str, name: &str) -> Residual {
    match expr {
        JsonExpr::Cond(condition) => match emitters::event_name_literal(expr) {
            Some(value) if value == name => Residual::True,
            Some(_) => Residual::False,
            None => Residual::Expr(source[condition.span.start..condition.span.end].to_string()),
        },
        JsonExpr::And(items, _) => {
            let mut kept = Vec::new();
            for item in items {
                match restrict(item, source, name) {
                    Residual::False => return Residual::False,
                    Residual::True => {}
                    Residual::Expr(text) => kept.push(text),
                }
            }
            joined(kept, " && ", Residual::True)
        }
        JsonExpr::Or(items, _) => {
            let mut kept = Vec::new();
            for item in items {
                match restrict(item, source, name) {
                    Residual::True => return Residual::True,
                    Residual::False => {}
                    Residual::Expr(text) => kept.push(text),
                }
            }
            joined(kept, " || ", Residual::False)
        }
    }
}

fn joined(kept: Vec<String>, operator: &str, empty: Residual) -> Residual {
    match kept.len() {
        0 => empty,
        1 => Residual::Expr(kept.into_iter().next().unwrap_or_default()),
        _ => Residual::Expr(format!("({})", kept.join(operator))),
    }
}

/// `expr` as text with explicit parentheses.
fn render(expr: &JsonExpr, source: &str) -> String {
    match expr {
        JsonExpr::Cond(condition) => source[condition.span.start..condition.span.end].to_string(),
        JsonExpr::And(items, _) | JsonExpr::Or(items, _) => {
            let operator = if matches!(expr, JsonExpr::And(..)) {
                " && "
            } else {
                " || "
            };
            let items: Vec<String> = items.iter().map(|item| render(item, source)).collect();
            format!("({})", items.join(operator))
        }
    }
}

/// What a filter must cover, parsed: a filter covers it when it covers every part.
#[derive(Debug)]
pub struct Required {
    parts: Vec<FilterPattern>,
}

impl Required {
    /// Parses the parts' texts.
    pub fn parse<'a>(texts: impl IntoIterator<Item = &'a str>) -> Result<Self, ParseError> {
        let parts = texts
            .into_iter()
            .map(trailwatch_pattern::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Required { parts })
    }

    /// The same required events, restricted to those whose `selector` is exactly `value` (e.g.
    /// the records delivered for one account).
    pub fn and_exact(&self, selector: &str, value: &str) -> Result<Self, ParseError> {
        let parts = self
            .parts
            .iter()
            .map(|part| part.and_exact(selector, value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Required { parts })
    }

    /// Whether `customer` matches every event of every part: the first part it misses decides
    /// (with that part's counterexample); if none is missed but one cannot be decided, `Unknown`
    /// with that part's reason.
    pub fn covered_by(&self, customer: &FilterPattern) -> Coverage {
        let mut undecided = None;
        for part in &self.parts {
            match trailwatch_pattern::covers(customer, part) {
                Coverage::Covers => {}
                missed @ Coverage::DoesNotCover { .. } => return missed,
                unknown @ Coverage::Unknown { .. } => {
                    undecided.get_or_insert(unknown);
                }
            }
        }
        undecided.unwrap_or(Coverage::Covers)
    }
}

/// Whether two part lists require the same events: parts about the same event names, each
/// pair covering each other (or reading the same). Parts with other names are disjoint, so this
/// is the same question as for the whole; parts grouped differently only make it answer no.
pub fn equivalent(a: &[Part], b: &[Part]) -> bool {
    a.len() == b.len()
        && a.iter().all(|part| {
            b.iter()
                .find(|other| other.event_names == part.event_names)
                .is_some_and(|other| same_events(&part.text, &other.text))
        })
}

fn same_events(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (Ok(a), Ok(b)) = (trailwatch_pattern::parse(a), trailwatch_pattern::parse(b)) else {
        return false;
    };
    matches!(trailwatch_pattern::covers(&a, &b), Coverage::Covers)
        && matches!(trailwatch_pattern::covers(&b, &a), Coverage::Covers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: MonitoringSpec = MonitoringSpec {
        trail_sources: &["kms.amazonaws.com"],
        record_kind: RecordKind::WriteApiCall,
        domain: Domain::EventNames,
    };

    fn texts(pattern: &str) -> Vec<String> {
        parts(&SPEC, pattern)
            .into_iter()
            .map(|part| part.text)
            .collect()
    }

    #[test]
    fn names_share_a_part_when_the_same_services_write_them_and_the_rest_is_the_same() {
        let got = texts(
            "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
        );
        let kind = "$.eventType = \"AwsApiCall\" && $.readOnly IS FALSE && $.managementEvent IS TRUE && $.eventCategory = \"Management\"";
        assert_eq!(
            got,
            [format!("{{ ($.eventName = \"DisableKey\" || $.eventName = \"ScheduleKeyDeletion\") && ($.eventSource = \"kms.amazonaws.com\") && {kind} && $.eventSource = kms.amazonaws.com }}")]
        );
        // Other writers, or another rest of the pattern, make a part of their own.
        let got = parts(
            &SPEC,
            "{ $.eventName = CreatePolicy || $.eventName = PutUserPolicy || $.eventName = DeleteUserPolicy || ($.eventName = DisableKey && $.errorCode NOT EXISTS) }",
        );
        let names: Vec<Vec<String>> = got.iter().map(|part| part.event_names.clone()).collect();
        assert_eq!(
            names,
            [
                vec!["CreatePolicy".to_string()],
                vec!["DeleteUserPolicy".to_string(), "PutUserPolicy".to_string()],
                vec!["DisableKey".to_string()],
            ]
        );
        assert!(
            got[2].text.ends_with("&& $.errorCode NOT EXISTS }"),
            "{}",
            got[2].text
        );
        // A name only reachable with another name's test is no part (no event has two names).
        assert_eq!(
            texts("{ $.eventName = DisableKey && $.eventName = ScheduleKeyDeletion }").len(),
            0
        );
        // Conditions on other fields survive, parenthesised as they bind.
        let got = texts("{ ($.eventName = DisableKey && $.userIdentity.type = Root) || ($.eventName = DisableKey && $.errorCode NOT EXISTS) }");
        assert!(
            got[0].ends_with("&& ($.userIdentity.type = Root || $.errorCode NOT EXISTS) }"),
            "{}",
            got[0]
        );
    }

    #[test]
    fn a_part_too_long_for_the_engine_is_split() {
        let names: Vec<String> = (0..40)
            .map(|n| format!("($.eventName = N{n:02})"))
            .collect();
        let pattern = format!("{{ {} }}", names.join(" || "));
        let got = parts(&SPEC, &pattern);
        assert!(got.len() > 1);
        assert!(got
            .iter()
            .all(|part| part.text.chars().count() <= MAX_PART_CHARS));
        let covered: usize = got.iter().map(|part| part.event_names.len()).sum();
        assert_eq!(covered, 40);
        Required::parse(got.iter().map(|part| part.text.as_str())).unwrap();
    }

    #[test]
    fn the_parts_match_exactly_the_scoped_events() {
        let pattern = "{ ($.eventName = CreatePolicy) || ($.eventName = PutUserPolicy && $.errorCode NOT EXISTS) }";
        let spec = MonitoringSpec {
            trail_sources: &["iam.amazonaws.com"],
            ..SPEC
        };
        let required =
            Required::parse(parts(&spec, pattern).iter().map(|p| p.text.as_str())).unwrap();
        let record = |source: &str, name: &str, error: Option<&str>| {
            let mut record = serde_json::json!({
                "eventSource": source, "eventName": name, "eventType": "AwsApiCall",
                "readOnly": false, "managementEvent": true, "eventCategory": "Management",
            });
            if let Some(error) = error {
                record["errorCode"] = error.into();
            }
            record
        };
        let matched = |event: &serde_json::Value| required.parts.iter().any(|p| p.matches(event));
        assert!(matched(&record("iot.amazonaws.com", "CreatePolicy", None)));
        assert!(matched(&record("iam.amazonaws.com", "PutUserPolicy", None)));
        assert!(!matched(&record(
            "iam.amazonaws.com",
            "PutUserPolicy",
            Some("AccessDenied")
        )));
        assert!(!matched(&record(
            "iot.amazonaws.com",
            "PutUserPolicy",
            None
        )));
        assert!(!matched(&record("iam.amazonaws.com", "GetPolicy", None)));
    }

    #[test]
    fn a_filter_covers_when_it_covers_every_part() {
        let pattern = "{ ($.eventName = CreatePolicy) || ($.eventName = PutUserPolicy) }";
        let spec = MonitoringSpec {
            trail_sources: &["iam.amazonaws.com"],
            ..SPEC
        };
        let required =
            Required::parse(parts(&spec, pattern).iter().map(|p| p.text.as_str())).unwrap();
        let filter = |text: &str| trailwatch_pattern::parse(text).unwrap();
        assert_eq!(required.covered_by(&filter(pattern)), Coverage::Covers);
        let Coverage::DoesNotCover { counterexample } = required.covered_by(&filter(
            "{ $.eventSource = iam.amazonaws.com && (($.eventName = CreatePolicy) || ($.eventName = PutUserPolicy)) }",
        )) else {
            panic!("an IAM-only filter misses the other services' CreatePolicy");
        };
        assert_eq!(counterexample["eventName"], "CreatePolicy");
        assert_ne!(counterexample["eventSource"], "iam.amazonaws.com");
        // A regex over the parts' finitely many names is decided name by name.
        assert_eq!(
            required.covered_by(&filter("{ $.eventName = %Policy$% }")),
            Coverage::Covers
        );
    }
}
