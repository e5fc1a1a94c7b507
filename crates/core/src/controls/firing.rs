//! Would one matching CloudTrail record make this alarm *go into* ALARM? A simulation of
//! CloudWatch's documented alarm evaluation, not a list of special cases.
//!
//! Sources (the tables of the second page are the oracle of this module's tests):
//! - "Evaluating an alarm", <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html>:
//!   Period, Evaluation Periods (N), Datapoints to Alarm (M, default N); actions run only when
//!   the alarm *changes* state.
//! - "Configuring how CloudWatch alarms treat missing data",
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html>:
//!   the evaluation range, how missing points are filled (as few as possible), the four
//!   treatments, and the premature-alarm rule.
//! - Metric filters, <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/MonitoringLogData.html>:
//!   a match adds `metricValue`; `defaultValue` is published for a minute with log events but no
//!   match; a minute without log events publishes nothing.
//! - PutMetricAlarm `Unit`: an alarm whose unit differs from the metric's reads no data.
//!
//! The model: a quiet account (no matching record) for long enough to settle, then one matching
//! record in one period, then quiet again. Each period's datapoint is missing, non-breaching or
//! breaching. Where the datapoint depends on what the docs leave open (how many minutes of a
//! period carry log events when the filter has a default value), every possibility is simulated:
//! the alarm fires if it does in all of them, never fires if it does in none, and is undecided
//! otherwise. The evaluation range is undocumented beyond its examples (N = 3 → 5 datapoints);
//! this model uses N + 2.

use crate::model::missing::FiringGap;
use crate::model::snapshot::{AlarmEvaluation, AlarmQuery, MetricTransformation};

/// What one matching record does to an alarm.
#[derive(Debug, Clone, PartialEq)]
pub enum Firing {
    /// It goes into ALARM (from OK or INSUFFICIENT_DATA) in every case the model considers.
    Fires,
    /// It never does: why.
    Never(FiringGap),
    /// The model cannot decide: why.
    Undecided(String),
}

/// A datapoint as alarm evaluation sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Missing,
    Good,
    Breaching,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Ok,
    Alarm,
    InsufficientData,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Treatment {
    Missing,
    Ignore,
    Breaching,
    NotBreaching,
}

/// The series the alarm evaluates, resolved from a plain or metric-math alarm.
struct Series<'a> {
    statistic: &'a str,
    period: i32,
    /// `FILL(m, value)`: missing datapoints become `value`.
    fill: Option<f64>,
}

/// Decides whether one record matching the filter (publishing `transformation`) fires the alarm.
pub fn one_record_fires(
    evaluation: &AlarmEvaluation,
    transformation: &MetricTransformation,
) -> Firing {
    let series = match series(evaluation) {
        Ok(series) => series,
        Err(undecided) => return Firing::Undecided(undecided),
    };
    let Ok(value) = transformation.metric_value.trim().parse::<f64>() else {
        return Firing::Undecided(format!(
            "the filter publishes the record's {}, not a constant",
            transformation.metric_value
        ));
    };
    if let Some(unit) = &evaluation.unit {
        let published = transformation.unit.as_deref().unwrap_or("None");
        if unit != published {
            return Firing::Never(FiringGap::UnitMismatch {
                alarm_unit: unit.clone(),
                metric_unit: published.to_string(),
            });
        }
    }
    let Some(operator) = evaluation.comparison_operator.as_deref() else {
        return Firing::Undecided("its comparison operator was not read".to_string());
    };
    let Some(threshold) = evaluation.threshold else {
        return Firing::Undecided(format!(
            "it compares with {operator}, an anomaly detection band this model does not evaluate"
        ));
    };
    let breaches = |x: f64| match operator {
        "GreaterThanOrEqualToThreshold" => Some(x >= threshold),
        "GreaterThanThreshold" => Some(x > threshold),
        "LessThanThreshold" => Some(x < threshold),
        "LessThanOrEqualToThreshold" => Some(x <= threshold),
        _ => None,
    };
    if breaches(0.0).is_none() {
        return Firing::Undecided(format!(
            "it compares with {operator}, which this model does not evaluate"
        ));
    }
    let n = evaluation.evaluation_periods.unwrap_or(1).max(1) as usize;
    let m = evaluation
        .datapoints_to_alarm
        .map_or(n, |m| (m.max(1) as usize).min(n));
    let treatment = match evaluation.treat_missing_data.as_deref() {
        None | Some("missing") => Treatment::Missing,
        Some("ignore") => Treatment::Ignore,
        Some("breaching") => Treatment::Breaching,
        Some("notBreaching") => Treatment::NotBreaching,
        Some(other) => {
            return Firing::Undecided(format!("it treats missing data as {other}"));
        }
    };
    let minutes = (series.period / 60).max(1) as usize;
    let default = transformation.default_value;

    // What a period's datapoint can be: quiet (no match), and the period with the match.
    let quiet = match (series.fill, default) {
        (Some(fill), _) => vec![classify(breaches(fill))],
        (None, None) => vec![Point::Missing],
        // With a default value a quiet period holds it once per minute with log events, or is
        // missing when no log event arrived at all.
        (None, Some(d)) => {
            let mut kinds = vec![Point::Missing];
            for samples in [1, minutes] {
                match statistic_of(series.statistic, &vec![d; samples]) {
                    Ok(x) => kinds.push(classify(breaches(x))),
                    Err(undecided) => return Firing::Undecided(undecided),
                }
            }
            kinds
        }
    };
    let mut event = Vec::new();
    let others: &[usize] = if default.is_some() {
        &[0, minutes - 1]
    } else {
        &[0]
    };
    for &extra in others {
        let mut samples = vec![value];
        samples.extend(std::iter::repeat_n(default.unwrap_or(0.0), extra));
        let x = match statistic_of(series.statistic, &samples) {
            Ok(x) => x,
            Err(undecided) => return Firing::Undecided(undecided),
        };
        if series.statistic.starts_with('p')
            && evaluation.evaluate_low_sample_count_percentile.as_deref() == Some("ignore")
        {
            // Fewer than 10/(1-p) samples: the alarm's state does not change (percentiles page).
            return Firing::Never(FiringGap::LowSampleCountIgnored {
                statistic: series.statistic.to_string(),
            });
        }
        event.push(classify(breaches(x)));
    }

    let mut outcomes = Vec::new();
    for &quiet_point in dedup(&quiet).iter() {
        for &event_point in dedup(&event).iter() {
            outcomes.push(simulate(quiet_point, event_point, n, m, treatment));
        }
    }
    let fires = outcomes.iter().filter(|o| o.is_ok()).count();
    if fires == outcomes.len() {
        return Firing::Fires;
    }
    if fires == 0 {
        let gap = outcomes
            .into_iter()
            .find_map(Result::err)
            .expect("at least one outcome");
        return Firing::Never(match gap {
            Simulated::NeverBreaches => FiringGap::NeverBreaches {
                statistic: series.statistic.to_string(),
                value,
                operator: operator.to_string(),
                threshold,
            },
            Simulated::AlreadyInAlarm => FiringGap::InAlarmWhileQuiet {
                treat_missing_data: evaluation
                    .treat_missing_data
                    .clone()
                    .unwrap_or_else(|| "missing".to_string()),
            },
            Simulated::TooFewBreaching => FiringGap::NeedsMoreBreachingPeriods {
                datapoints: m,
                periods: n,
            },
        });
    }
    Firing::Undecided(
        "whether it fires depends on how many minutes of a period carry log events (the filter has a default value)"
            .to_string(),
    )
}

/// Why one simulated scenario did not fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Simulated {
    /// The period with the record is not breaching.
    NeverBreaches,
    /// The alarm already sits in ALARM while nothing happens.
    AlreadyInAlarm,
    /// The breaching period never makes M of N.
    TooFewBreaching,
}

/// Settles the alarm on quiet periods, then feeds one period with the record and quiet periods
/// after it; `Ok` when the alarm transitions into ALARM.
fn simulate(
    quiet: Point,
    event: Point,
    n: usize,
    m: usize,
    treatment: Treatment,
) -> Result<(), Simulated> {
    let range = n + 2;
    let mut points = vec![quiet; range];
    // An alarm starts in INSUFFICIENT_DATA; quiet periods settle it.
    let mut state = State::InsufficientData;
    for _ in 0..range {
        state = evaluate(&points[points.len() - range..], n, m, treatment, state);
        points.push(quiet);
    }
    if state == State::Alarm {
        return Err(Simulated::AlreadyInAlarm);
    }
    if event != Point::Breaching {
        return Err(Simulated::NeverBreaches);
    }
    points.push(event);
    for _ in 0..=range {
        let next = evaluate(&points[points.len() - range..], n, m, treatment, state);
        if next == State::Alarm && state != State::Alarm {
            return Ok(());
        }
        state = next;
        points.push(quiet);
    }
    Err(Simulated::TooFewBreaching)
}

/// One evaluation over the evaluation range `window` (oldest first), as the missing-data page
/// describes it.
fn evaluate(window: &[Point], n: usize, m: usize, treatment: Treatment, current: State) -> State {
    let decide = |points: &[Point]| {
        if points.iter().filter(|p| **p == Point::Breaching).count() >= m {
            State::Alarm
        } else {
            State::Ok
        }
    };
    let last_n = &window[window.len() - n..];
    let real: Vec<Point> = window
        .iter()
        .copied()
        .filter(|p| *p != Point::Missing)
        .collect();
    // No missing point among the last N: they decide.
    if !last_n.contains(&Point::Missing) {
        return decide(last_n);
    }
    // Enough real points in the range: the most recent N of them decide.
    if real.len() >= n {
        return decide(&real[real.len() - n..]);
    }
    if real.is_empty() {
        return match treatment {
            Treatment::Missing => State::InsufficientData,
            Treatment::Ignore => current,
            Treatment::Breaching => State::Alarm,
            Treatment::NotBreaching => State::Ok,
        };
    }
    // Fewer real points than N: every real point counts, and as few fills as possible.
    let fills = n - real.len();
    match treatment {
        Treatment::Breaching | Treatment::NotBreaching => {
            let fill = if treatment == Treatment::Breaching {
                Point::Breaching
            } else {
                Point::Good
            };
            let mut points = real;
            points.extend(std::iter::repeat_n(fill, fills));
            decide(&points)
        }
        Treatment::Missing | Treatment::Ignore => {
            if real.len() >= m {
                return decide(&real);
            }
            if premature_alarm(last_n, m) {
                // "goes into ALARM state even if missing data points are treated as missing";
                // with `ignore` the tables show the current state retained.
                return if treatment == Treatment::Missing {
                    State::Alarm
                } else {
                    current
                };
            }
            State::Ok
        }
    }
}

/// The premature-alarm rule: the oldest breaching point among the last N is at least M
/// datapoints old, and every more recent one is breaching or missing.
fn premature_alarm(last_n: &[Point], m: usize) -> bool {
    let Some(oldest) = last_n.iter().position(|p| *p == Point::Breaching) else {
        return false;
    };
    let age = last_n.len() - oldest;
    age >= m && last_n[oldest..].iter().all(|p| *p != Point::Good)
}

fn classify(breaching: Option<bool>) -> Point {
    if breaching == Some(true) {
        Point::Breaching
    } else {
        Point::Good
    }
}

fn dedup(points: &[Point]) -> Vec<Point> {
    let mut kept: Vec<Point> = Vec::new();
    for point in points {
        if !kept.contains(point) {
            kept.push(*point);
        }
    }
    kept
}

/// A statistic over one period's samples.
fn statistic_of(statistic: &str, samples: &[f64]) -> Result<f64, String> {
    let sum: f64 = samples.iter().sum();
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match statistic {
        "Sum" => Ok(sum),
        "SampleCount" => Ok(samples.len() as f64),
        "Average" => Ok(sum / samples.len() as f64),
        "Minimum" => Ok(min),
        "Maximum" => Ok(max),
        // A percentile of one sample, or of equal samples, is that value.
        percentile if percentile.starts_with('p') && min == max => Ok(min),
        other => Err(format!(
            "its statistic {other} over the period's samples is not modelled"
        )),
    }
}

/// The statistic and period the alarm evaluates: its own, or those of the metric-math query it
/// returns (a MetricStat, or `FILL(id, number)` over one).
fn series(evaluation: &AlarmEvaluation) -> Result<Series<'_>, String> {
    if evaluation.queries.is_empty() {
        let statistic = evaluation
            .statistic
            .as_deref()
            .or(evaluation.extended_statistic.as_deref())
            .ok_or("its statistic was not read")?;
        let period = evaluation.period.ok_or("its period was not read")?;
        return Ok(Series {
            statistic,
            period,
            fill: None,
        });
    }
    let returned: Vec<&AlarmQuery> = evaluation
        .queries
        .iter()
        .filter(|q| q.return_data)
        .collect();
    let [query] = returned.as_slice() else {
        return Err(format!(
            "it returns {} metric-math queries, not one",
            returned.len()
        ));
    };
    if let Some((statistic, period)) = stat_of(query) {
        return Ok(Series {
            statistic,
            period,
            fill: None,
        });
    }
    let expression = query.expression.as_deref().unwrap_or_default();
    let (inner, fill) = match parse_fill(expression) {
        Some((inner, fill)) => (inner, Some(fill)),
        None => (expression.trim(), None),
    };
    let target = evaluation
        .queries
        .iter()
        .find(|q| q.id == inner)
        .and_then(stat_of)
        .ok_or_else(|| format!("its expression `{expression}` is not modelled"))?;
    Ok(Series {
        statistic: target.0,
        period: target.1,
        fill,
    })
}

/// A MetricStat query's statistic and period.
fn stat_of(query: &AlarmQuery) -> Option<(&str, i32)> {
    Some((query.stat.as_deref()?, query.period?))
}

/// `FILL(m1, 0)` → (`m1`, 0.0).
fn parse_fill(expression: &str) -> Option<(&str, f64)> {
    let inner = expression.trim().strip_prefix("FILL(")?.strip_suffix(')')?;
    let (id, value) = inner.split_once(',')?;
    Some((id.trim(), value.trim().parse().ok()?))
}

#[cfg(test)]
mod tests {
    //! The missing-data page's two tables, row by row, then whole alarms.
    use super::*;
    use Point::{Breaching as X, Good as O, Missing as __};

    fn row(window: [Point; 5], n: usize, m: usize) -> [State; 4] {
        [
            Treatment::Missing,
            Treatment::Ignore,
            Treatment::Breaching,
            Treatment::NotBreaching,
        ]
        .map(|treatment| evaluate(&window, n, m, treatment, State::InsufficientData))
    }

    // "Retain current state" shows as the state the alarm was in: InsufficientData here.
    const RETAIN: State = State::InsufficientData;

    /// Table 1 of "How alarm state is evaluated when data is missing": Datapoints to Alarm and
    /// Evaluation Periods both 3, evaluation range 5; columns MISSING, IGNORE, BREACHING, NOT
    /// BREACHING.
    #[test]
    fn the_three_of_three_table() {
        use State::*;
        assert_eq!(row([O, __, X, __, X], 3, 3), [Ok, Ok, Ok, Ok]);
        assert_eq!(row([O, __, __, __, __], 3, 3), [Ok, Ok, Ok, Ok]);
        assert_eq!(
            row([__, __, __, __, __], 3, 3),
            [InsufficientData, RETAIN, Alarm, Ok]
        );
        assert_eq!(row([O, X, X, __, X], 3, 3), [Alarm, Alarm, Alarm, Alarm]);
        assert_eq!(row([__, __, X, __, __], 3, 3), [Alarm, RETAIN, Alarm, Ok]);
    }

    /// Table 2: 2 out of 3.
    #[test]
    fn the_two_of_three_table() {
        use State::*;
        assert_eq!(row([O, __, X, __, X], 3, 2), [Alarm, Alarm, Alarm, Alarm]);
        assert_eq!(row([O, O, X, O, X], 3, 2), [Alarm, Alarm, Alarm, Alarm]);
        assert_eq!(row([O, __, X, __, __], 3, 2), [Ok, Ok, Alarm, Ok]);
        assert_eq!(row([__, __, __, __, O], 3, 2), [Ok, Ok, Alarm, Ok]);
        assert_eq!(row([__, __, __, X, __], 3, 2), [Alarm, RETAIN, Alarm, Ok]);
    }

    fn cis_alarm() -> AlarmEvaluation {
        AlarmEvaluation::cis_recommended()
    }

    fn counting_filter() -> MetricTransformation {
        MetricTransformation {
            metric_name: "CloudTrailChanges".to_string(),
            metric_namespace: "CISBenchmark".to_string(),
            metric_value: "1".to_string(),
            default_value: None,
            unit: None,
            dimensions: Default::default(),
        }
    }

    fn fires(evaluation: AlarmEvaluation, filter: MetricTransformation) -> Firing {
        one_record_fires(&evaluation, &filter)
    }

    #[test]
    fn the_cis_alarm_fires_on_one_record_with_or_without_a_default_value() {
        assert_eq!(fires(cis_alarm(), counting_filter()), Firing::Fires);
        let with_default = MetricTransformation {
            default_value: Some(0.0),
            ..counting_filter()
        };
        assert_eq!(fires(cis_alarm(), with_default), Firing::Fires);
        for treat in ["missing", "notBreaching", "ignore"] {
            let alarm = AlarmEvaluation {
                treat_missing_data: Some(treat.to_string()),
                ..cis_alarm()
            };
            assert_eq!(fires(alarm, counting_filter()), Firing::Fires, "{treat}");
        }
    }

    /// The bug reports' shapes: `GreaterThanThreshold 1` on a count, `Average` against a
    /// threshold only a sum reaches.
    #[test]
    fn a_threshold_one_record_cannot_reach_never_fires() {
        let strictly_over_one = AlarmEvaluation {
            comparison_operator: Some("GreaterThanThreshold".to_string()),
            ..cis_alarm()
        };
        assert_eq!(
            fires(strictly_over_one, counting_filter()),
            Firing::Never(FiringGap::NeverBreaches {
                statistic: "Sum".to_string(),
                value: 1.0,
                operator: "GreaterThanThreshold".to_string(),
                threshold: 1.0
            })
        );
        let average_of_defaults = AlarmEvaluation {
            statistic: Some("Average".to_string()),
            threshold: Some(1.0),
            ..cis_alarm()
        };
        // With a default of 0 in the other minutes, the average of one match in a 5-minute
        // period may be 1/5: whether it fires depends on the minutes with log events.
        let with_default = MetricTransformation {
            default_value: Some(0.0),
            ..counting_filter()
        };
        assert!(matches!(
            fires(average_of_defaults, with_default),
            Firing::Undecided(_)
        ));
    }

    #[test]
    fn three_of_three_with_not_breaching_needs_three_periods() {
        let alarm = AlarmEvaluation {
            evaluation_periods: Some(3),
            treat_missing_data: Some("notBreaching".to_string()),
            ..cis_alarm()
        };
        assert_eq!(
            fires(alarm, counting_filter()),
            Firing::Never(FiringGap::NeedsMoreBreachingPeriods {
                datapoints: 3,
                periods: 3
            })
        );
        // With the default treatment the premature-alarm rule fires it once the breaching
        // point is 3 datapoints old and nothing but missing data followed (table 1, row 5).
        let alarm = AlarmEvaluation {
            evaluation_periods: Some(3),
            ..cis_alarm()
        };
        assert_eq!(fires(alarm, counting_filter()), Firing::Fires);
        // `ignore` retains the state there instead.
        let alarm = AlarmEvaluation {
            evaluation_periods: Some(3),
            treat_missing_data: Some("ignore".to_string()),
            ..cis_alarm()
        };
        assert!(matches!(fires(alarm, counting_filter()), Firing::Never(_)));
    }

    #[test]
    fn missing_data_as_breaching_sits_in_alarm_and_never_transitions() {
        let alarm = AlarmEvaluation {
            treat_missing_data: Some("breaching".to_string()),
            ..cis_alarm()
        };
        assert_eq!(
            fires(alarm, counting_filter()),
            Firing::Never(FiringGap::InAlarmWhileQuiet {
                treat_missing_data: "breaching".to_string()
            })
        );
    }

    #[test]
    fn a_unit_the_filter_does_not_publish_reads_no_data() {
        let alarm = AlarmEvaluation {
            unit: Some("Count".to_string()),
            ..cis_alarm()
        };
        assert_eq!(
            fires(alarm, counting_filter()),
            Firing::Never(FiringGap::UnitMismatch {
                alarm_unit: "Count".to_string(),
                metric_unit: "None".to_string()
            })
        );
        let counted = MetricTransformation {
            unit: Some("Count".to_string()),
            ..counting_filter()
        };
        let alarm = AlarmEvaluation {
            unit: Some("Count".to_string()),
            ..cis_alarm()
        };
        assert_eq!(fires(alarm, counted), Firing::Fires);
    }

    #[test]
    fn metric_math_fill_is_modelled_and_other_expressions_are_undecided() {
        let stat = AlarmQuery {
            id: "m1".to_string(),
            expression: None,
            metric: None,
            stat: Some("Sum".to_string()),
            period: Some(300),
            return_data: false,
        };
        let expression = |text: &str| AlarmQuery {
            id: "e1".to_string(),
            expression: Some(text.to_string()),
            metric: None,
            stat: None,
            period: None,
            return_data: true,
        };
        let math = |text: &str| AlarmEvaluation {
            statistic: None,
            period: None,
            queries: vec![stat.clone(), expression(text)],
            ..cis_alarm()
        };
        assert_eq!(fires(math("FILL(m1, 0)"), counting_filter()), Firing::Fires);
        assert_eq!(fires(math("m1"), counting_filter()), Firing::Fires);
        assert_eq!(
            fires(math("RATE(m1)"), counting_filter()),
            Firing::Undecided("its expression `RATE(m1)` is not modelled".to_string())
        );
    }

    #[test]
    fn a_value_taken_from_the_record_or_an_anomaly_band_is_undecided() {
        let bytes = MetricTransformation {
            metric_value: "$.bytes".to_string(),
            ..counting_filter()
        };
        assert!(matches!(fires(cis_alarm(), bytes), Firing::Undecided(_)));
        let band = AlarmEvaluation {
            comparison_operator: Some("GreaterThanUpperThreshold".to_string()),
            threshold: None,
            ..cis_alarm()
        };
        assert!(matches!(
            fires(band, counting_filter()),
            Firing::Undecided(_)
        ));
    }
}
