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
use super::firing::{self, Firing};
use super::notify;
use super::selectors::records_management_events;
use crate::model::alarm_rule;
use crate::model::arn::{is_notifiable_topic, Arn};
use crate::model::findings::{Finding, ResourceKind, ResourceRef};
use crate::model::missing::{MissingLink, NearMiss, Subject};
use crate::model::notification::{self, NotifiedAlarm};
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
            return evidence::missing_finding(
                snapshot,
                control,
                MissingLink::ControlPatternInvalid {
                    message: error.message().to_string(),
                },
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
        .chains
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
        let trail_name = || trail.name.clone();
        if !trail.is_multi_region {
            return path.ends(MissingLink::TrailNotMultiRegion {
                trail: trail_name(),
            });
        }
        // A failed read decides only if a value it could have returned would change the
        // verdict: through a trail that sends nothing to CloudWatch Logs no chain completes,
        // whatever its status or selectors.
        let no_log_group = || MissingLink::TrailNotSendingToLogs {
            trail: trail_name(),
        };
        match &trail.status {
            Err(_) if trail.log_group_arn.is_none() => return path.ends(no_log_group()),
            Err(error) => {
                return path.unread(
                    Subject::TrailStatus {
                        trail: trail_name(),
                    },
                    error,
                )
            }
            Ok(status) if !status.is_logging => {
                return path.ends(MissingLink::TrailNotLogging {
                    trail: trail_name(),
                })
            }
            Ok(_) => {}
        }
        match &trail.event_selectors {
            Err(_) if trail.log_group_arn.is_none() => return path.ends(no_log_group()),
            Err(error) => {
                return path.unread(
                    Subject::EventSelectors {
                        trail: trail_name(),
                    },
                    error,
                )
            }
            Ok(selectors) => {
                if let Err(gap) =
                    records_management_events(selectors, self.monitoring.trail_sources)
                {
                    return path.ends(MissingLink::TrailMissesManagementEvents {
                        trail: trail_name(),
                        gap,
                    });
                }
            }
        }
        let Some(log_group_arn) = &trail.log_group_arn else {
            return path.ends(no_log_group());
        };
        path.push(trail_ref);
        let Some(log_group) = self.snapshot.chains.log_group(log_group_arn) else {
            return path.ends(MissingLink::NotCollected {
                subject: Subject::LogGroup {
                    log_group_arn: log_group_arn.clone(),
                },
            });
        };
        path.push(log_group_ref(log_group));
        self.walk_log_group(path, log_group)
    }

    fn walk_log_group(&self, path: Path, log_group: &LogGroup) -> Path {
        let filters = match &log_group.metric_filters {
            // The log group the trail names does not exist: a definite answer, not a failed read.
            Err(error) if error.kind == ReadErrorKind::NotFound => {
                return path.ends(MissingLink::LogGroupMissing {
                    log_group_arn: log_group.arn.clone(),
                })
            }
            Err(error) => {
                return path.unread(
                    Subject::MetricFilters {
                        log_group: log_group.name.clone(),
                    },
                    error,
                )
            }
            Ok(filters) => filters,
        };
        let no_filter = || MissingLink::NoMetricFilter {
            log_group: log_group.name.clone(),
        };
        if filters.is_empty() {
            return path.ends(no_filter());
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
                    candidate.carry_undecided(MissingLink::FilterUndecided {
                        filter: filter.name.clone(),
                        reason: reason.clone(),
                    });
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
                let FilterVerdict::Misses { event, customer } = verdict.as_ref() else {
                    unreachable!("only missing filters are listed")
                };
                path.ends(MissingLink::FilterDoesNotCover {
                    filter: filter.name.clone(),
                    other_filters: missing.len() - 1,
                    missed: evidence::describe_event(event, &[customer, self.cis]),
                    counterexample: event.clone(),
                })
            }
            None => path.ends(no_filter()),
        }
    }

    /// The alarms read where the log group's filters publish, or why there are none to walk.
    fn alarm_set(&self, log_group: &LogGroup) -> Option<&AlarmSet> {
        self.snapshot
            .chains
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
            return path.ends(MissingLink::FilterPublishesNoMetric {
                filter: filter.name.clone(),
            });
        };
        let Some(set) = set else {
            return path.ends(MissingLink::NotCollected {
                subject: Subject::Alarms {
                    region: log_group.region.clone(),
                },
            });
        };
        let alarms = match &set.alarms {
            Err(error) => {
                return path.unread(
                    Subject::Alarms {
                        region: set.region.clone(),
                    },
                    error,
                )
            }
            Ok(alarms) => alarms,
        };
        let watching: Vec<(&Alarm, Pins)> = alarms
            .iter()
            .filter_map(|alarm| {
                Some((
                    alarm,
                    watched_pins(alarm, transformation, &log_group.account_id)?,
                ))
            })
            .collect();
        if watching.is_empty() {
            let near_miss = alarms.iter().find_map(|alarm| {
                alarm
                    .metrics
                    .iter()
                    .find(|m| m.metric_name == transformation.metric_name)
                    .map(|m| (alarm, m))
            });
            let near_miss = near_miss.map(|(alarm, m)| {
                if m.namespace != transformation.metric_namespace {
                    NearMiss::OtherNamespace {
                        alarm: alarm.name.clone(),
                        metric_name: m.metric_name.clone(),
                        namespace: m.namespace.clone(),
                        wanted_namespace: transformation.metric_namespace.clone(),
                    }
                } else {
                    NearMiss::OtherDimensions {
                        alarm: alarm.name.clone(),
                        metric_name: transformation.metric_name.clone(),
                    }
                }
            });
            return path.ends(MissingLink::NoAlarmOnMetric {
                metric: metric_label(transformation),
                near_miss,
            });
        }
        let mut best: Option<Path> = None;
        for (alarm, pins) in watching {
            let candidate = self.walk_alarm(
                path.clone(),
                log_group,
                set,
                (filter, transformation),
                alarm,
                &pins,
            );
            best = Some(evidence::better(best, candidate));
        }
        best.unwrap_or(path)
    }

    fn walk_alarm(
        &self,
        path: Path,
        log_group: &LogGroup,
        set: &AlarmSet,
        (filter, transformation): (&MetricFilter, &MetricTransformation),
        alarm: &Alarm,
        pins: &Pins,
    ) -> Path {
        let mut path = path;
        if !pins.is_empty() {
            match self.coverage_of(filter, pins).as_ref() {
                FilterVerdict::Covers => {}
                FilterVerdict::Misses { event, customer } => {
                    return path.ends(MissingLink::AlarmPinsMissEvents {
                        alarm: alarm.name.clone(),
                        pins: pins.clone(),
                        missed: evidence::describe_event(event, &[customer, self.cis]),
                        counterexample: event.clone(),
                    })
                }
                FilterVerdict::Undecided(reason) => {
                    path.carry_undecided(MissingLink::PinnedFilterUndecided {
                        filter: filter.name.clone(),
                        alarm: alarm.name.clone(),
                        pins: pins.clone(),
                        reason: reason.clone(),
                    })
                }
            }
        }
        match firing::one_record_fires(&alarm.evaluation, transformation) {
            Firing::Fires => {}
            Firing::Never(gap) => {
                return path.ends(MissingLink::AlarmNeverFires {
                    alarm: alarm.name.clone(),
                    gap,
                })
            }
            Firing::Undecided(reason) => path.carry_undecided(MissingLink::AlarmFiringUndecided {
                alarm: alarm.name.clone(),
                reason,
            }),
        }
        let notifies_elsewhere = || {
            alarm
                .ok_actions
                .iter()
                .chain(&alarm.insufficient_data_actions)
                .any(|action| Arn::parse(action).is_ok_and(|arn| arn.service == "sns"))
        };
        let origin = Origin {
            alarm,
            transformation,
        };
        self.walk_notifier(
            path,
            log_group,
            set,
            Notifier {
                name: &alarm.name,
                arn: &alarm.arn,
                actions_enabled: alarm.actions_enabled,
                alarm_actions: &alarm.alarm_actions,
                kind: ResourceKind::Alarm,
            },
            (&origin, &notifies_elsewhere),
            0,
        )
    }

    /// The best chain from an alarm (metric or composite) whose ALARM state `path` reaches:
    /// through its own ALARM actions when they are enabled, or through any composite alarm its
    /// ALARM state always puts into ALARM. On a tie the composite alarm is named: the account
    /// wired it to notify.
    fn walk_notifier(
        &self,
        before: Path,
        log_group: &LogGroup,
        set: &AlarmSet,
        notifier: Notifier<'_>,
        (origin, notifies_elsewhere): (&Origin<'_>, &dyn Fn() -> bool),
        depth: usize,
    ) -> Path {
        let mut path = before.clone();
        path.push(alarm_ref(
            log_group,
            notifier.arn,
            notifier.name,
            notifier.kind,
        ));
        let own = notifier.actions_enabled.then(|| {
            self.walk_actions(
                path.clone(),
                log_group,
                (&notifier, origin),
                notifies_elsewhere,
            )
        });
        // AWS refuses cycles between composite alarms; the bound guards a snapshot edited by hand.
        let through = (depth <= set.composite_alarms.len())
            .then(|| {
                set.composites_naming(notifier.name, notifier.arn)
                    .map(|composite| {
                        self.walk_composite(
                            path.clone(),
                            log_group,
                            set,
                            composite,
                            (&notifier, origin),
                            depth,
                        )
                    })
                    .fold(None, |best, candidate| {
                        Some(evidence::better(best, candidate))
                    })
            })
            .flatten();
        match (own, through) {
            (Some(own), Some(through)) => evidence::better(Some(through), own),
            (Some(own), None) => own,
            (None, Some(through)) => through,
            // A composite alarm is a link of the chain that reached it; a metric alarm that
            // notifies nobody is named in the sentence after the filter.
            (None, None) => match notifier.kind {
                ResourceKind::CompositeAlarm => path.ends(MissingLink::CompositeActionsDisabled {
                    composite: notifier.name.to_string(),
                }),
                _ => before.ends(MissingLink::AlarmActionsDisabled {
                    alarm: notifier.name.to_string(),
                }),
            },
        }
    }

    /// The chain through one composite alarm whose rule names `child`.
    fn walk_composite(
        &self,
        path: Path,
        log_group: &LogGroup,
        set: &AlarmSet,
        composite: &CompositeAlarm,
        (child, origin): (&Notifier<'_>, &Origin<'_>),
        depth: usize,
    ) -> Path {
        let mut path = path;
        let rule = alarm_rule::parse(&composite.rule);
        let is_child = |n: &str| n == child.name || n == child.arn;
        match rule.map(|rule| rule.holds_whenever_in_alarm(is_child)) {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                return path.ends(MissingLink::CompositeDoesNotFollow {
                    composite: composite.name.clone(),
                    child: child.name.to_string(),
                    rule: composite.rule.clone(),
                })
            }
            Ok(Err(too_many)) => path.carry_undecided(MissingLink::CompositeRuleUndecided {
                composite: composite.name.clone(),
                child: child.name.to_string(),
                other_alarms: too_many.0,
            }),
            Err(error) => path.carry_undecided(MissingLink::CompositeRuleUnreadable {
                composite: composite.name.clone(),
                error: error.to_string(),
            }),
        }
        if let Some(suppressor) = &composite.actions_suppressor {
            path.carry_undecided(MissingLink::CompositeActionsSuppressible {
                composite: composite.name.clone(),
                suppressor: suppressor.clone(),
            });
        }
        self.walk_notifier(
            path,
            log_group,
            set,
            Notifier {
                name: &composite.name,
                arn: &composite.arn,
                actions_enabled: composite.actions_enabled,
                alarm_actions: &composite.alarm_actions,
                kind: ResourceKind::CompositeAlarm,
            },
            (origin, &|| false),
            depth + 1,
        )
    }

    /// The topics among an alarm's ALARM actions. `notifies_elsewhere` says whether SNS appears
    /// among its other actions (for the sentence).
    fn walk_actions(
        &self,
        path: Path,
        log_group: &LogGroup,
        (notifier, origin): (&Notifier<'_>, &Origin<'_>),
        notifies_elsewhere: &dyn Fn() -> bool,
    ) -> Path {
        let (alarm_name, alarm_actions) = (notifier.name, notifier.alarm_actions);
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
            let alarm = alarm_name.to_string();
            return path.ends(if !sns.is_empty() {
                MissingLink::TopicsOutsideAlarmRegion {
                    alarm,
                    region: log_group.region.clone(),
                    topics: sns.iter().map(|topic| topic.to_string()).collect(),
                }
            } else if notifies_elsewhere() {
                MissingLink::NotifiesOnlyOutsideAlarmState { alarm }
            } else {
                MissingLink::NoTopicAction { alarm }
            });
        }
        let mut best: Option<Path> = None;
        for topic_arn in topics {
            best = Some(evidence::better(
                best,
                self.walk_topic(path.clone(), topic_arn, (notifier, origin)),
            ));
        }
        best.unwrap_or(path)
    }

    fn walk_topic(
        &self,
        mut path: Path,
        topic_arn: &str,
        (notifier, origin): (&Notifier<'_>, &Origin<'_>),
    ) -> Path {
        let topic_arn_owned = || topic_arn.to_string();
        let Some(topic) = self.snapshot.chains.topic(topic_arn) else {
            return path.ends(MissingLink::NotCollected {
                subject: Subject::Topic {
                    topic_arn: topic_arn_owned(),
                },
            });
        };
        let subscriptions = match &topic.subscriptions {
            Err(error) if error.kind == ReadErrorKind::NotFound => {
                return path.ends(MissingLink::TopicMissing {
                    topic_arn: topic_arn_owned(),
                })
            }
            Err(error) => {
                return path.unread(
                    Subject::Subscriptions {
                        topic_arn: topic_arn_owned(),
                    },
                    error,
                )
            }
            Ok(subscriptions) => subscriptions,
        };
        path.push(ResourceRef {
            kind: ResourceKind::Topic,
            id: topic.arn.clone(),
            name: resource_name(&topic.arn),
            region: topic.region.clone(),
            account_id: topic.account_id.clone(),
        });
        let confirmed: Vec<&Subscription> =
            subscriptions.iter().filter(|s| s.is_confirmed()).collect();
        // Without a confirmed subscription nobody is notified, whatever the topic allows.
        if confirmed.is_empty() {
            if subscriptions.is_empty() {
                return path.ends(MissingLink::NoSubscription {
                    topic_arn: topic_arn_owned(),
                });
            }
            let count = |arn: &str| {
                subscriptions
                    .iter()
                    .filter(|s| s.subscription_arn == arn)
                    .count()
            };
            let (pending, deleted) = (count(PENDING_CONFIRMATION), count(DELETED));
            return path.ends(MissingLink::NoConfirmedSubscription {
                topic_arn: topic_arn_owned(),
                pending,
                deleted,
                other: subscriptions.len() - pending - deleted,
            });
        }
        match notify::cloudwatch_can_publish(topic, notifier.arn) {
            Ok(None) => {}
            Ok(Some(undecided)) => path.carry_undecided(undecided),
            Err(link) => return path.ends(link),
        }
        let body = origin.notification(notifier);
        match notify::receiving_subscription(topic_arn, &confirmed, &body) {
            Ok((subscription, undecided)) => {
                if let Some(undecided) = undecided {
                    path.carry_undecided(undecided);
                }
                path.push(ResourceRef {
                    kind: ResourceKind::Subscription,
                    id: subscription.subscription_arn.clone(),
                    name: notify::masked_endpoint(subscription),
                    region: topic.region.clone(),
                    account_id: topic.account_id.clone(),
                });
                path.complete()
            }
            Err(link) => path.ends(link),
        }
    }
}

/// The metric alarm a matching record fires, and the filter metric it reads: what the
/// notification of any alarm on the chain says.
struct Origin<'a> {
    alarm: &'a Alarm,
    transformation: &'a MetricTransformation,
}

impl Origin<'_> {
    /// The notification `notifier` sends when the record puts it into ALARM. A composite
    /// alarm's notification names no metric (no `Trigger`).
    fn notification(&self, notifier: &Notifier<'_>) -> serde_json::Value {
        let evaluation = &self.alarm.evaluation;
        let arn = Arn::parse(notifier.arn).ok();
        let account_id = arn.as_ref().map(|arn| arn.account_id).unwrap_or_default();
        let region = arn.as_ref().map(|arn| arn.region).unwrap_or_default();
        let mut body = notification::alarm_notification(&NotifiedAlarm {
            alarm_name: notifier.name,
            alarm_arn: notifier.arn,
            account_id,
            region,
            description: None,
            new_state: "ALARM",
            old_state: "OK",
            metric_name: &self.transformation.metric_name,
            namespace: &self.transformation.metric_namespace,
            statistic: evaluation.statistic.as_deref().unwrap_or("Sum"),
            dimensions: Vec::new(),
            period: i64::from(evaluation.period.unwrap_or(300)),
            evaluation_periods: i64::from(evaluation.evaluation_periods.unwrap_or(1)),
            comparison_operator: evaluation
                .comparison_operator
                .as_deref()
                .unwrap_or_default(),
            threshold: evaluation.threshold.unwrap_or_default(),
            treat_missing_data: evaluation
                .treat_missing_data
                .as_deref()
                .unwrap_or("missing"),
        });
        if notifier.kind == ResourceKind::CompositeAlarm {
            if let Some(object) = body.as_object_mut() {
                object.remove("Trigger");
            }
        }
        body
    }
}

/// An alarm whose ALARM state a chain has reached, as [`Explorer::walk_notifier`] follows it.
struct Notifier<'a> {
    name: &'a str,
    arn: &'a str,
    actions_enabled: bool,
    alarm_actions: &'a [String],
    kind: ResourceKind,
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
fn watched_pins(
    alarm: &Alarm,
    transformation: &MetricTransformation,
    account_id: &str,
) -> Option<Pins> {
    alarm.metrics.iter().find_map(|metric| {
        // A metric read from another account is not this filter's metric.
        let same = metric
            .account_id
            .as_deref()
            .is_none_or(|id| id == account_id)
            && metric.metric_name == transformation.metric_name
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
