//! The one evaluator every monitoring control shares: does a complete CIS chain exist?
//!
//! trail (multi-Region, logging, recording the control's management events) → its CloudWatch Logs
//! log group → a metric filter whose pattern covers the CIS pattern → an alarm on that filter's
//! metric (same name, namespace and dimensions; metric-math alarms count) → an SNS topic in the
//! alarm's region among its ALARM actions — the alarm's own, with actions enabled, or those of a
//! composite alarm its ALARM state always triggers → a confirmed subscription.
//!
//! Coverage is judged over the records the trail delivers *for the account being evaluated*:
//! every CloudTrail record names that account in `recipientAccountId`, so a filter narrowed to the
//! account's own id covers, one narrowed to another account's id does not. An alarm that pins a
//! dimension to one value reads only the records whose field has that value: the pin narrows the
//! filter like an `&&` clause on that field.
//!
//! Every trail, filter, alarm and composite alarm is a candidate chain. Each ends complete,
//! broken at a link (FAILED), blocked by a read that failed (NOT_AVAILABLE: never a false FAILED
//! for what we could not see), or complete but for a link whose coverage the pattern engine
//! cannot decide (WARNING). The finding takes the best status over all candidates (PASSED >
//! WARNING > NOT_AVAILABLE > FAILED) and the sentence names the deepest candidate with it.

use super::catalog::{Control, Monitoring};
use super::coverage::Required;
use super::evidence::{self, Path};
use super::selectors::records_management_events;
use crate::model::alarm_rule;
use crate::model::arn::{is_notifiable_topic, Arn};
use crate::model::findings::{ComplianceStatus, Evidence, Finding, ResourceKind, ResourceRef};
use crate::model::snapshot::{
    Alarm, AlarmSet, CompositeAlarm, LogGroup, MetricFilter, MetricTransformation, ReadErrorKind,
    Snapshot, Subscription, Trail, DELETED, PENDING_CONFIRMATION,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use trailwatch_pattern::{Coverage, FilterPattern, ParseError};

/// The record field naming the account a CloudTrail record was delivered for.
const RECIPIENT_FIELD: &str = "recipientAccountId";

/// Evaluates one monitoring control over a snapshot, for the snapshot's own account.
pub fn evaluate(
    snapshot: &Snapshot,
    control: &Control,
    monitoring: &Monitoring,
    parsed: &ParsedFilters,
) -> Finding {
    let required = RequiredPatterns::new(monitoring, &snapshot.account_id);
    let (required, cis) = match required {
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

/// What a filter must cover, parsed: the records that carry the control's events, in general and
/// restricted to the records delivered for the evaluated account.
struct RequiredPatterns {
    /// For filters that test no field the recipient restriction is about: the restriction would
    /// change nothing (the CIS patterns never test `recipientAccountId`), and these verdicts are
    /// shared by every account evaluated against the same filters.
    any_account: Required,
    /// For filters that test `recipientAccountId` (or may, through a wildcard selector).
    this_account: Required,
}

impl RequiredPatterns {
    fn new(
        monitoring: &Monitoring,
        account_id: &str,
    ) -> Result<(RequiredPatterns, FilterPattern), ParseError> {
        let any_account = monitoring.required()?;
        let recipient = format!("$.{RECIPIENT_FIELD}");
        let this_account = any_account.and_exact(&recipient, account_id)?;
        let cis = trailwatch_pattern::parse(monitoring.pattern)?;
        Ok((
            RequiredPatterns {
                any_account,
                this_account,
            },
            cis,
        ))
    }

    /// The required events a filter (narrowed by `pins`) is judged against.
    fn for_filter(&self, pattern: &str, pins: &[(String, String)]) -> &Required {
        // A wildcard selector (`$.*`, `$.a[*]`) may test any field.
        let mentions = |text: &str| {
            text.contains(RECIPIENT_FIELD) || text.contains("[*]") || text.contains(".*")
        };
        if mentions(pattern) || pins.iter().any(|(field, _)| mentions(field)) {
            &self.this_account
        } else {
            &self.any_account
        }
    }
}

/// Walks the chain from each trail; holds what every step needs.
struct Explorer<'a> {
    snapshot: &'a Snapshot,
    monitoring: &'a Monitoring,
    required: &'a RequiredPatterns,
    /// The CIS pattern as written: its fields name what a missed event is about.
    cis: &'a FilterPattern,
    parsed: &'a ParsedFilters,
    /// Coverage verdicts by filter pattern text and dimension pins: trails share log groups, and
    /// accounts repeat the same filter across log groups, so each is decided once.
    verdicts: RefCell<HashMap<(String, Pins), Rc<FilterVerdict>>>,
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

/// A filter's metric and the dimension values an alarm pins on it, as (field, value) pairs: the
/// record field each pinned dimension takes its value from.
type Pins = Vec<(String, String)>;

impl Explorer<'_> {
    /// Whether `filter`, restricted to the records `pins` select, covers the required pattern.
    fn coverage_of(&self, filter: &MetricFilter, pins: &Pins) -> Rc<FilterVerdict> {
        let key = (filter.pattern.clone(), pins.clone());
        if let Some(verdict) = self.verdicts.borrow().get(&key) {
            return Rc::clone(verdict);
        }
        let required = self.required.for_filter(&filter.pattern, pins);
        let customer = self.parsed.get(&filter.pattern).and_then(|parsed| {
            pins.iter()
                .try_fold((*parsed).clone(), |narrowed, (field, value)| {
                    narrowed.and_exact(field, value)
                })
                .map(Rc::new)
        });
        let verdict = Rc::new(filter_coverage(customer, required));
        self.verdicts.borrow_mut().insert(key, Rc::clone(&verdict));
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
        let alarms = self.alarm_set(log_group);
        let mut best: Option<Path> = None;
        let mut missing: Vec<(&MetricFilter, Rc<FilterVerdict>)> = Vec::new();
        for filter in filters {
            let verdict = self.coverage_of(filter, &Vec::new());
            let mut candidate = path.clone();
            candidate.push(filter_ref(log_group, filter));
            match verdict.as_ref() {
                FilterVerdict::Covers => {}
                FilterVerdict::Undecided(reason) => {
                    candidate.carry_undecided(format!(
                        "could not decide whether filter {} covers the CIS pattern: {reason}",
                        filter.name
                    ));
                }
                FilterVerdict::Misses { .. } => {
                    missing.push((filter, verdict));
                    continue;
                }
            }
            best = Some(evidence::better(
                best,
                self.walk_filter(candidate, log_group, alarms, filter),
            ));
        }
        // A filter that covers (or may) is a link, so its chain is deeper than any missing
        // filter's, whatever its status.
        if let Some(best) = best {
            return best;
        }
        // No filter can cover: name the one the account most likely meant for this control (it
        // names values of the CIS pattern), then the one whose downstream chain gets furthest.
        let required_terms = value_terms(self.monitoring.pattern);
        let closest = missing
            .iter()
            .map(|(filter, verdict)| {
                let shared = value_terms(&filter.pattern)
                    .intersection(&required_terms)
                    .count();
                let downstream = self.walk_filter(Path::start(), log_group, alarms, filter);
                ((shared > 0, downstream.depth(), shared), *filter, verdict)
            })
            .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.name.cmp(&a.1.name)));
        match closest {
            Some((_, filter, verdict)) => {
                let others = match missing.len() - 1 {
                    0 => String::new(),
                    1 => " (nor does the other filter)".to_string(),
                    n => format!(" (nor do the {n} other filters)"),
                };
                let FilterVerdict::Misses { event, customer } = verdict.as_ref() else {
                    unreachable!("only missing filters are listed")
                };
                path.broken_with_counterexample(
                    format!(
                        "filter {} does not cover the CIS pattern{others}: it misses events such as {}",
                        filter.name,
                        evidence::describe_event(event, &[customer, self.cis])
                    ),
                    event.clone(),
                )
            }
            None => path.broken(format!("log group {} has no metric filter", log_group.name)),
        }
    }

    /// The alarms read where the log group's filters publish, or why there are none to walk.
    fn alarm_set(&self, log_group: &LogGroup) -> Option<&AlarmSet> {
        self.snapshot
            .alarm_set(&log_group.account_id, &log_group.region)
    }

    fn walk_filter(
        &self,
        path: Path,
        log_group: &LogGroup,
        set: Option<&AlarmSet>,
        filter: &MetricFilter,
    ) -> Path {
        let Some(transformation) = filter.metric_transformations.first() else {
            return path.broken(format!("filter {} publishes no metric", filter.name));
        };
        let metric = metric_label(transformation);
        let Some(set) = set else {
            return path.broken_unknown(format!(
                "alarms in {} were not read by this scan",
                log_group.region
            ));
        };
        let alarms = match &set.alarms {
            Err(error) => return path.unread(format!("alarms in {}", set.region), error),
            Ok(alarms) => alarms,
        };
        let watching: Vec<(&Alarm, Pins)> = alarms
            .iter()
            .filter_map(|alarm| Some((alarm, watched_pins(alarm, transformation)?)))
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
        for (alarm, pins) in watching {
            let candidate = self.walk_alarm(path.clone(), log_group, set, filter, alarm, &pins);
            best = Some(evidence::better(best, candidate));
        }
        best.unwrap_or(path)
    }

    fn walk_alarm(
        &self,
        path: Path,
        log_group: &LogGroup,
        set: &AlarmSet,
        filter: &MetricFilter,
        alarm: &Alarm,
        pins: &Pins,
    ) -> Path {
        let mut path = path;
        if !pins.is_empty() {
            let pinned = pins
                .iter()
                .map(|(field, value)| format!("{field}={value}"))
                .collect::<Vec<_>>()
                .join(", ");
            match self.coverage_of(filter, pins).as_ref() {
                FilterVerdict::Covers => {}
                FilterVerdict::Misses { event, customer } => {
                    return path.broken_with_counterexample(
                        format!(
                            "alarm {} reads only the records with {pinned}, which misses events such as {}",
                            alarm.name,
                            evidence::describe_event(event, &[customer, self.cis])
                        ),
                        event.clone(),
                    )
                }
                FilterVerdict::Undecided(reason) => path.carry_undecided(format!(
                    "could not decide whether filter {} covers the CIS pattern on the records with {pinned} that alarm {} reads: {reason}",
                    filter.name, alarm.name
                )),
            }
        }
        let own = if alarm.actions_enabled {
            let mut own = path.clone();
            own.push(alarm_ref(
                log_group,
                &alarm.arn,
                &alarm.name,
                ResourceKind::Alarm,
            ));
            Some(
                self.walk_actions(own, log_group, &alarm.name, &alarm.alarm_actions, || {
                    alarm
                        .ok_actions
                        .iter()
                        .chain(&alarm.insufficient_data_actions)
                        .any(|action| Arn::parse(action).is_ok_and(|arn| arn.service == "sns"))
                }),
            )
        } else {
            None
        };
        let mut through = path.clone();
        through.push(alarm_ref(
            log_group,
            &alarm.arn,
            &alarm.name,
            ResourceKind::Alarm,
        ));
        let composites =
            self.walk_composites(through, log_group, set, (&alarm.name, &alarm.arn), 0);
        match (own, composites) {
            // On a tie the composite alarm is named: the account wired it to notify.
            (Some(own), Some(composite)) => evidence::better(Some(composite), own),
            (Some(own), None) => own,
            (None, Some(composite)) => composite,
            (None, None) => path.broken(format!("alarm {} has its actions disabled", alarm.name)),
        }
    }

    /// The best chain through the composite alarms that `name`'s ALARM state always puts into
    /// ALARM; `None` when no composite alarm names it.
    fn walk_composites(
        &self,
        path: Path,
        log_group: &LogGroup,
        set: &AlarmSet,
        (name, arn): (&str, &str),
        depth: usize,
    ) -> Option<Path> {
        // AWS refuses cycles between composite alarms; the bound guards a snapshot edited by hand.
        if depth > set.composite_alarms.len() {
            return None;
        }
        let mut best: Option<Path> = None;
        for composite in &set.composite_alarms {
            let names_it = match alarm_rule::parse(&composite.rule) {
                Ok(rule) => rule.alarms().iter().any(|n| *n == name || *n == arn),
                Err(_) => composite.rule.contains(name),
            };
            if !names_it {
                continue;
            }
            let candidate =
                self.walk_composite(path.clone(), log_group, set, composite, (name, arn), depth);
            best = Some(evidence::better(best, candidate));
        }
        best
    }

    /// The chain through one composite alarm whose rule names `child` (name, ARN).
    fn walk_composite(
        &self,
        path: Path,
        log_group: &LogGroup,
        set: &AlarmSet,
        composite: &CompositeAlarm,
        (child, child_arn): (&str, &str),
        depth: usize,
    ) -> Path {
        let mut path = path;
        let rule = alarm_rule::parse(&composite.rule);
        match rule.map(|rule| rule.holds_whenever_in_alarm(|n| n == child || n == child_arn)) {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                return path.broken(format!(
                    "composite alarm {} does not go into ALARM whenever alarm {child} does (rule {})",
                    composite.name, composite.rule
                ))
            }
            Ok(Err(too_many)) => path.carry_undecided(format!(
                "could not decide whether composite alarm {} goes into ALARM whenever alarm {child} does: its rule names {} other alarms",
                composite.name, too_many.0
            )),
            Err(error) => path.carry_undecided(format!(
                "could not read the rule of composite alarm {} ({error})",
                composite.name
            )),
        }
        path.push(alarm_ref(
            log_group,
            &composite.arn,
            &composite.name,
            ResourceKind::CompositeAlarm,
        ));
        let own = if composite.actions_enabled {
            Some(self.walk_actions(
                path.clone(),
                log_group,
                &composite.name,
                &composite.alarm_actions,
                || false,
            ))
        } else {
            None
        };
        let further = self.walk_composites(
            path.clone(),
            log_group,
            set,
            (&composite.name, &composite.arn),
            depth + 1,
        );
        match (own, further) {
            (Some(own), Some(further)) => evidence::better(Some(own), further),
            (Some(own), None) => own,
            (None, Some(further)) => further,
            (None, None) => path.broken(format!(
                "composite alarm {} has its actions disabled",
                composite.name
            )),
        }
    }

    /// The topics among an alarm's ALARM actions. `notifies_elsewhere` says whether SNS appears
    /// among its other actions (for the sentence).
    fn walk_actions(
        &self,
        path: Path,
        log_group: &LogGroup,
        alarm_name: &str,
        alarm_actions: &[String],
        notifies_elsewhere: impl Fn() -> bool,
    ) -> Path {
        let partition = &self.snapshot.partition;
        let sns: Vec<&str> = alarm_actions
            .iter()
            .map(String::as_str)
            .filter(|action| Arn::parse(action).is_ok_and(|arn| arn.service == "sns"))
            .collect();
        let topics: Vec<&str> = sns
            .iter()
            .copied()
            .filter(|action| is_notifiable_topic(action, partition, &log_group.region))
            .collect();
        if topics.is_empty() {
            return path.broken(if !sns.is_empty() {
                format!(
                    "alarm {alarm_name} notifies only SNS topics outside its region {} ({}): CloudWatch notifies topics in the alarm's own region only",
                    log_group.region,
                    sns.join(", ")
                )
            } else if notifies_elsewhere() {
                format!(
                    "alarm {alarm_name} notifies SNS only outside the ALARM state (OK or INSUFFICIENT_DATA actions)"
                )
            } else {
                format!("alarm {alarm_name} has no SNS topic among its alarm actions")
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
                "topic {topic_arn} has no confirmed subscription ({})",
                unconfirmed(subscriptions)
            )),
        }
    }
}

/// "2 pending confirmation, 1 deleted": what the unconfirmed subscriptions are.
fn unconfirmed(subscriptions: &[Subscription]) -> String {
    let count = |arn: &str| {
        subscriptions
            .iter()
            .filter(|s| s.subscription_arn == arn)
            .count()
    };
    let other = subscriptions
        .iter()
        .filter(|s| {
            !s.is_confirmed()
                && s.subscription_arn != PENDING_CONFIRMATION
                && s.subscription_arn != DELETED
        })
        .count();
    [
        (count(PENDING_CONFIRMATION), "pending confirmation"),
        (count(DELETED), "deleted"),
        (other, "in another state"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect::<Vec<_>>()
    .join(", ")
}

/// What one filter's pattern does against the required pattern.
enum FilterVerdict {
    Covers,
    /// `event` is matched by the required pattern and missed by `customer`.
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

/// If `alarm` reads the filter's metric — same name and namespace, and exactly the dimension
/// names the filter publishes (a filter that publishes with dimensions publishes no series
/// without them) — the record fields its dimension values pin, with those values.
fn watched_pins(alarm: &Alarm, transformation: &MetricTransformation) -> Option<Pins> {
    alarm.metrics.iter().find_map(|metric| {
        let same = metric.metric_name == transformation.metric_name
            && metric.namespace == transformation.metric_namespace
            && metric.dimensions.len() == transformation.dimensions.len()
            && metric
                .dimensions
                .keys()
                .all(|name| transformation.dimensions.contains_key(name));
        same.then(|| pins(&metric.dimensions, &transformation.dimensions))
    })
}

/// (record field, value) for each dimension: the alarm's value, the filter's field.
fn pins(values: &BTreeMap<String, String>, fields: &BTreeMap<String, String>) -> Pins {
    values
        .iter()
        .filter_map(|(name, value)| Some((fields.get(name)?.clone(), value.clone())))
        .collect()
}

/// The values a pattern names (`CreateTrail`, `kms.amazonaws.com`, `*Trail*`), not its selectors:
/// only used to rank near misses for the evidence sentence, never to decide coverage.
fn value_terms(pattern: &str) -> std::collections::BTreeSet<&str> {
    pattern
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '*' | '$')))
        .filter(|term| term.len() > 2 && !term.starts_with('$'))
        .collect()
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

fn alarm_ref(log_group: &LogGroup, arn: &str, name: &str, kind: ResourceKind) -> ResourceRef {
    ResourceRef {
        kind,
        id: arn.to_string(),
        name: name.to_string(),
        region: log_group.region.clone(),
        account_id: log_group.account_id.clone(),
    }
}
