//! The one evaluator every monitoring control shares: does a complete CIS chain exist?
//!
//! trail (multi-Region, logging, recording the control's management events) → its CloudWatch Logs
//! log group → a metric filter whose pattern covers the CIS pattern → an alarm on that filter's
//! metric (same name, namespace and dimensions; metric-math alarms count) with actions enabled →
//! an SNS topic among its ALARM actions → a confirmed subscription.
//!
//! Every trail is explored, every filter and alarm on the way; each path ends either complete,
//! broken at a link (FAILED if no path is better), blocked by a read that failed (NOT_AVAILABLE:
//! we must not claim FAILED for what we could not see), or undecided (WARNING: a filter whose
//! coverage the pattern engine cannot decide). The finding reports the complete chain, or the
//! deepest candidate and its missing link in one sentence.

use super::catalog::{Control, Monitoring};
use super::coverage::Required;
use super::evidence::{self, Path};
use super::selectors::records_management_events;
use crate::model::arn::Arn;
use crate::model::findings::{ComplianceStatus, Evidence, Finding, ResourceKind, ResourceRef};
use crate::model::snapshot::{
    Alarm, LogGroup, MetricFilter, MetricTransformation, ReadErrorKind, Snapshot, Trail,
};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use trailwatch_pattern::{Coverage, FilterPattern, ParseError};

/// Evaluates one monitoring control over a snapshot.
pub fn evaluate(
    snapshot: &Snapshot,
    control: &Control,
    monitoring: &Monitoring,
    parsed: &ParsedFilters,
) -> Finding {
    let own_patterns = monitoring
        .required()
        .and_then(|required| Ok((required, trailwatch_pattern::parse(monitoring.pattern)?)));
    let (required, cis) = match own_patterns {
        Ok(patterns) => patterns,
        // The catalog's patterns are parsed in a unit test; this arm guards a bad edit.
        Err(error) => {
            return evidence::account_finding(
                snapshot,
                control,
                ComplianceStatus::NotAvailable,
                format!(
                    "the control's own pattern does not parse: {}",
                    error.message()
                ),
                Evidence::default(),
            )
        }
    };
    let explorer = Explorer {
        snapshot,
        monitoring,
        required: &required,
        cis: &cis,
        parsed,
        verdicts: RefCell::default(),
    };
    let mut paths: Vec<Path> = snapshot
        .trails
        .iter()
        .map(|trail| explorer.walk_trail(trail))
        .collect();
    if paths.is_empty() {
        paths.push(evidence::no_trail_path(snapshot));
    }
    evidence::verdict(snapshot, control, paths)
}

/// Walks the chain from each trail; holds what every step needs.
struct Explorer<'a> {
    snapshot: &'a Snapshot,
    monitoring: &'a Monitoring,
    /// What a filter must cover: the CIS pattern scoped to the records that carry its events.
    required: &'a Required,
    /// The CIS pattern as written: its fields name what a missed event is about.
    cis: &'a FilterPattern,
    parsed: &'a ParsedFilters,
    /// Coverage verdicts by filter pattern text: trails share log groups, and accounts repeat
    /// the same filter across log groups, so each distinct pattern is decided once.
    verdicts: RefCell<HashMap<String, Rc<FilterVerdict>>>,
}

/// Filter patterns parsed once for every control of an evaluation, by pattern text.
#[derive(Default)]
pub struct ParsedFilters(RefCell<HashMap<String, Result<Rc<FilterPattern>, ParseError>>>);

impl ParsedFilters {
    fn get(&self, text: &str) -> Result<Rc<FilterPattern>, ParseError> {
        if let Some(parsed) = self.0.borrow().get(text) {
            return parsed.clone();
        }
        let parsed = trailwatch_pattern::parse(text).map(Rc::new);
        self.0.borrow_mut().insert(text.to_string(), parsed.clone());
        parsed
    }
}

impl Explorer<'_> {
    fn coverage_of(&self, filter: &MetricFilter) -> Rc<FilterVerdict> {
        if let Some(verdict) = self.verdicts.borrow().get(&filter.pattern) {
            return Rc::clone(verdict);
        }
        let verdict = Rc::new(filter_coverage(
            self.parsed.get(&filter.pattern),
            self.required,
        ));
        self.verdicts
            .borrow_mut()
            .insert(filter.pattern.clone(), Rc::clone(&verdict));
        verdict
    }

    fn walk_trail(&self, trail: &Trail) -> Path {
        let mut path = Path::start();
        let trail_ref = trail_ref(trail);
        let name = &trail.name;
        if !trail.is_multi_region {
            return path.broken(format!("trail {name} is not multi-Region"));
        }
        match &trail.status {
            Err(error) => return path.unread(format!("trail {name}"), error),
            Ok(status) if !status.is_logging => {
                return path.broken(format!("trail {name} is not logging"))
            }
            Ok(_) => {}
        }
        match &trail.event_selectors {
            Err(error) => return path.unread(format!("event selectors of trail {name}"), error),
            Ok(selectors) => {
                if let Err(reason) =
                    records_management_events(selectors, self.monitoring.trail_sources)
                {
                    return path.broken(format!("trail {name} {reason}"));
                }
            }
        }
        let Some(log_group_arn) = &trail.log_group_arn else {
            return path.broken(format!(
                "trail {name} does not send its events to CloudWatch Logs"
            ));
        };
        path.push(trail_ref);
        let Some(log_group) = self.snapshot.log_group(log_group_arn) else {
            return path.broken_unknown(format!(
                "log group {log_group_arn} was not read by this scan"
            ));
        };
        path.push(log_group_ref(log_group));
        self.walk_log_group(path, log_group)
    }

    fn walk_log_group(&self, path: Path, log_group: &LogGroup) -> Path {
        let filters = match &log_group.metric_filters {
            // The log group the trail names does not exist: a definite answer, not a failed read.
            Err(error) if error.kind == ReadErrorKind::NotFound => {
                return path.broken(format!("log group {} does not exist", log_group.arn))
            }
            Err(error) => {
                return path.unread(
                    format!("metric filters of log group {}", log_group.name),
                    error,
                )
            }
            Ok(filters) => filters,
        };
        if filters.is_empty() {
            return path.broken(format!("log group {} has no metric filter", log_group.name));
        }
        let mut covering = Vec::new();
        let mut rejected = Vec::new();
        for filter in filters {
            let verdict = self.coverage_of(filter);
            match verdict.as_ref() {
                FilterVerdict::Covers => covering.push(filter),
                _ => rejected.push((filter, verdict)),
            }
        }
        let mut best: Option<Path> = None;
        for filter in &covering {
            let mut candidate = path.clone();
            candidate.push(filter_ref(log_group, filter));
            best = Some(evidence::better(
                best,
                self.walk_filter(candidate, log_group, filter),
            ));
        }
        if let Some(best) = best {
            return best;
        }
        // No filter covers: report the one the account most likely meant for this control (it
        // names values of the CIS pattern), then the one whose downstream chain gets furthest.
        let required_terms = value_terms(self.monitoring.pattern);
        let closest = rejected
            .iter()
            .map(|(filter, verdict)| {
                let shared = value_terms(&filter.pattern)
                    .intersection(&required_terms)
                    .count();
                let downstream = self.walk_filter(Path::start(), log_group, filter);
                ((shared > 0, downstream.depth(), shared), *filter, verdict)
            })
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.name.cmp(&a.1.name)));
        let Some((_, filter, verdict)) = closest else {
            return path.broken(format!("log group {} has no metric filter", log_group.name));
        };
        let others = match rejected.len() - 1 {
            0 => String::new(),
            1 => " (nor does the other filter)".to_string(),
            n => format!(" (nor do the {n} other filters)"),
        };
        match verdict.as_ref() {
            FilterVerdict::Misses { event, customer } => path.broken_with_counterexample(
                format!(
                    "filter {} does not cover the CIS pattern{others}: it misses events such as {}",
                    filter.name,
                    evidence::describe_event(event, &[customer, self.cis])
                ),
                event.clone(),
            ),
            FilterVerdict::Undecided(reason) => path.undecided(format!(
                "could not decide whether filter {} covers the CIS pattern{others}: {reason}",
                filter.name
            )),
            FilterVerdict::Covers => unreachable!("covering filters were handled above"),
        }
    }

    fn walk_filter(&self, path: Path, log_group: &LogGroup, filter: &MetricFilter) -> Path {
        let Some(transformation) = filter.metric_transformations.first() else {
            return path.broken(format!("filter {} publishes no metric", filter.name));
        };
        let metric = metric_label(transformation);
        let alarms = match self
            .snapshot
            .alarm_set(&log_group.account_id, &log_group.region)
        {
            None => {
                return path.broken_unknown(format!(
                    "alarms in {} were not read by this scan",
                    log_group.region
                ))
            }
            Some(set) => match &set.alarms {
                Err(error) => return path.unread(format!("alarms in {}", set.region), error),
                Ok(alarms) => alarms,
            },
        };
        let watching: Vec<&Alarm> = alarms
            .iter()
            .filter(|alarm| watches(alarm, transformation))
            .collect();
        if watching.is_empty() {
            let near_miss = alarms.iter().find_map(|alarm| {
                alarm
                    .metrics
                    .iter()
                    .find(|m| m.metric_name == transformation.metric_name)
                    .map(|m| (alarm, m))
            });
            let hint = match near_miss {
                Some((alarm, m)) if m.namespace != transformation.metric_namespace => format!(
                    " (alarm {} watches {} in namespace {}, not {})",
                    alarm.name, m.metric_name, m.namespace, transformation.metric_namespace
                ),
                Some((alarm, _)) => format!(
                    " (alarm {} watches {} with other dimensions)",
                    alarm.name, transformation.metric_name
                ),
                None => String::new(),
            };
            return path.broken(format!("no alarm watches metric {metric}{hint}"));
        }
        let mut best: Option<Path> = None;
        for alarm in watching {
            let candidate = self.walk_alarm(path.clone(), log_group, alarm);
            best = Some(evidence::better(best, candidate));
        }
        best.unwrap_or(path)
    }

    fn walk_alarm(&self, mut path: Path, log_group: &LogGroup, alarm: &Alarm) -> Path {
        if !alarm.actions_enabled {
            return path.broken(format!("alarm {} has its actions disabled", alarm.name));
        }
        let topics: Vec<&str> = alarm
            .alarm_actions
            .iter()
            .map(String::as_str)
            .filter(|action| is_sns_topic(action))
            .collect();
        path.push(alarm_ref(log_group, alarm));
        if topics.is_empty() {
            let elsewhere = alarm
                .ok_actions
                .iter()
                .chain(&alarm.insufficient_data_actions)
                .any(|action| is_sns_topic(action));
            return path.broken(if elsewhere {
                format!(
                    "alarm {} notifies SNS only outside the ALARM state (OK or INSUFFICIENT_DATA actions)",
                    alarm.name
                )
            } else {
                format!("alarm {} has no SNS topic among its alarm actions", alarm.name)
            });
        }
        let mut best: Option<Path> = None;
        for topic_arn in topics {
            best = Some(evidence::better(
                best,
                self.walk_topic(path.clone(), topic_arn),
            ));
        }
        best.unwrap_or(path)
    }

    fn walk_topic(&self, mut path: Path, topic_arn: &str) -> Path {
        let Some(topic) = self.snapshot.topic(topic_arn) else {
            return path.broken_unknown(format!("topic {topic_arn} was not read by this scan"));
        };
        let subscriptions = match &topic.subscriptions {
            Err(error) if error.kind == ReadErrorKind::NotFound => {
                return path.broken(format!("topic {topic_arn} does not exist"))
            }
            Err(error) => return path.unread(format!("subscriptions of topic {topic_arn}"), error),
            Ok(subscriptions) => subscriptions,
        };
        path.push(ResourceRef {
            kind: ResourceKind::Topic,
            id: topic.arn.clone(),
            name: resource_name(&topic.arn),
            region: topic.region.clone(),
            account_id: topic.account_id.clone(),
        });
        match subscriptions.iter().find(|s| s.is_confirmed()) {
            Some(subscription) => {
                path.push(ResourceRef {
                    kind: ResourceKind::Subscription,
                    id: subscription.subscription_arn.clone(),
                    name: format!("{}:{}", subscription.protocol, subscription.endpoint),
                    region: topic.region.clone(),
                    account_id: topic.account_id.clone(),
                });
                path.complete()
            }
            None if subscriptions.is_empty() => {
                path.broken(format!("topic {topic_arn} has no subscription"))
            }
            None => path.broken(format!(
                "topic {topic_arn} has no confirmed subscription ({} pending confirmation)",
                subscriptions.len()
            )),
        }
    }
}

/// What one filter's pattern does against the CIS pattern.
enum FilterVerdict {
    Covers,
    /// `event` is matched by the CIS pattern and missed by `customer`.
    Misses {
        event: serde_json::Value,
        customer: Rc<FilterPattern>,
    },
    Undecided(String),
}

fn filter_coverage(
    customer: Result<Rc<FilterPattern>, ParseError>,
    required: &Required,
) -> FilterVerdict {
    match customer {
        // CloudWatch accepted this pattern, so a parse failure is a limit of ours, not a fault of
        // the account's: undecided, not failed.
        Err(error) => FilterVerdict::Undecided(format!(
            "its pattern could not be parsed ({} at byte {})",
            error.message(),
            error.offset()
        )),
        Ok(customer) => match required.covered_by(&customer) {
            Coverage::Covers => FilterVerdict::Covers,
            Coverage::DoesNotCover { counterexample } => FilterVerdict::Misses {
                event: counterexample,
                customer,
            },
            Coverage::Unknown { reason } => FilterVerdict::Undecided(reason),
        },
    }
}

/// An alarm watches a filter's metric when one of its metrics has the same name, namespace and
/// dimension names (a filter that publishes with dimensions publishes no dimensionless series).
fn watches(alarm: &Alarm, transformation: &MetricTransformation) -> bool {
    alarm.metrics.iter().any(|metric| {
        metric.metric_name == transformation.metric_name
            && metric.namespace == transformation.metric_namespace
            && same_set(&metric.dimension_keys, &transformation.dimension_keys)
    })
}

/// The values a pattern names (`CreateTrail`, `kms.amazonaws.com`, `*Trail*`), not its selectors:
/// only used to rank near misses for the evidence sentence, never to decide coverage.
fn value_terms(pattern: &str) -> std::collections::BTreeSet<&str> {
    pattern
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '*' | '$')))
        .filter(|term| term.len() > 2 && !term.starts_with('$'))
        .collect()
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|key| b.contains(key))
}

fn is_sns_topic(action: &str) -> bool {
    Arn::parse(action).is_ok_and(|arn| arn.service == "sns")
}

fn metric_label(transformation: &MetricTransformation) -> String {
    format!(
        "{}/{}",
        transformation.metric_namespace, transformation.metric_name
    )
}

/// The last segment of an ARN's resource part (`…:topic-name`, `…:alarm:name`).
fn resource_name(arn: &str) -> String {
    arn.rsplit(':').next().unwrap_or(arn).to_string()
}

pub(super) fn trail_ref(trail: &Trail) -> ResourceRef {
    ResourceRef {
        kind: ResourceKind::Trail,
        id: trail.arn.clone(),
        name: trail.name.clone(),
        region: trail.home_region.clone(),
        account_id: Arn::parse(&trail.arn)
            .map(|arn| arn.account_id.to_string())
            .unwrap_or_default(),
    }
}

fn log_group_ref(log_group: &LogGroup) -> ResourceRef {
    ResourceRef {
        kind: ResourceKind::LogGroup,
        id: crate::model::arn::strip_log_group_wildcard(&log_group.arn).to_string(),
        name: log_group.name.clone(),
        region: log_group.region.clone(),
        account_id: log_group.account_id.clone(),
    }
}

fn filter_ref(log_group: &LogGroup, filter: &MetricFilter) -> ResourceRef {
    ResourceRef {
        kind: ResourceKind::MetricFilter,
        id: format!(
            "{}:metric-filter:{}",
            crate::model::arn::strip_log_group_wildcard(&log_group.arn),
            filter.name
        ),
        name: filter.name.clone(),
        region: log_group.region.clone(),
        account_id: log_group.account_id.clone(),
    }
}

fn alarm_ref(log_group: &LogGroup, alarm: &Alarm) -> ResourceRef {
    ResourceRef {
        kind: ResourceKind::Alarm,
        id: alarm.arn.clone(),
        name: alarm.name.clone(),
        region: log_group.region.clone(),
        account_id: log_group.account_id.clone(),
    }
}
