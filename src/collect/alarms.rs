//! CloudWatch: the alarms of one account and region (DescribeAlarms for metric and composite
//! alarms, every page). Metric alarms are kept only when they read a metric whose name a
//! collected metric filter publishes; composite alarms only when their rule names a kept alarm
//! (directly, or through another kept composite alarm): a metric alarm without actions of its own
//! can still notify through a composite alarm.
//!
//! A metric-math alarm reads every metric of its `MetricStat` queries. Alarms are kept on the
//! metric *name* alone: an alarm on the right name in the wrong namespace (or with other
//! dimensions) is the near miss the evaluator names in its evidence ("alarm X watches M in
//! namespace Other, not CISBenchmark"); the evaluator, not this filter, requires the namespace and
//! dimensions to match.

use super::clients::Clients;
use super::errors::read_error;
use crate::model::snapshot::{
    Alarm, AlarmEvaluation, AlarmMetric, AlarmQuery, CompositeAlarm, ReadError,
};
use aws_sdk_cloudwatch::types::{AlarmType, MetricAlarm};
use std::collections::{BTreeMap, HashSet};

/// The alarms of one region that can take part in a chain.
pub(crate) struct RegionAlarms {
    pub metric: Vec<Alarm>,
    pub composite: Vec<CompositeAlarm>,
}

/// The alarms in `region` that read a metric named one of `metric_names`, and the composite
/// alarms over them, each sorted by name.
pub(crate) async fn alarms_on(
    clients: &Clients,
    region: &str,
    metric_names: &HashSet<String>,
) -> Result<RegionAlarms, ReadError> {
    let mut pages = clients
        .cloudwatch(region)
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .into_paginator()
        .send();
    let mut metric = Vec::new();
    let mut composite = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|error| read_error("cloudwatch:DescribeAlarms", region, None, &error))?;
        metric.extend(
            page.metric_alarms()
                .iter()
                .map(alarm)
                .filter(|alarm| reads_any(alarm, metric_names)),
        );
        composite.extend(page.composite_alarms().iter().map(composite_alarm));
    }
    metric.sort_by(|a, b| a.name.cmp(&b.name));
    let mut composite = over(&metric, composite);
    composite.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(RegionAlarms { metric, composite })
}

/// The composite alarms whose rules name one of `alarms`, or (repeatedly) one of the composite
/// alarms kept so far. A rule that does not parse is kept if its text names a kept alarm: the
/// evaluator reports it as undecided rather than the chain as missing.
pub(crate) fn over(alarms: &[Alarm], candidates: Vec<CompositeAlarm>) -> Vec<CompositeAlarm> {
    let mut watched: HashSet<String> = alarms
        .iter()
        .flat_map(|alarm| [alarm.name.clone(), alarm.arn.clone()])
        .collect();
    let mut pending: Vec<CompositeAlarm> = candidates;
    let mut kept = Vec::new();
    loop {
        let (now, later): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|composite| composite.names_any(watched.iter().map(String::as_str)));
        if now.is_empty() {
            return kept;
        }
        for composite in &now {
            watched.insert(composite.name.clone());
            watched.insert(composite.arn.clone());
        }
        kept.extend(now);
        pending = later;
    }
}

/// An SDK composite alarm → [`CompositeAlarm`].
fn composite_alarm(alarm: &aws_sdk_cloudwatch::types::CompositeAlarm) -> CompositeAlarm {
    CompositeAlarm {
        arn: alarm.alarm_arn().unwrap_or_default().to_string(),
        name: alarm.alarm_name().unwrap_or_default().to_string(),
        // AWS's default for a composite alarm created without the flag.
        actions_enabled: alarm.actions_enabled().unwrap_or(true),
        alarm_actions: alarm.alarm_actions().to_vec(),
        rule: alarm.alarm_rule().unwrap_or_default().to_string(),
        actions_suppressor: alarm.actions_suppressor().map(str::to_string),
    }
}

/// Whether the alarm reads a metric named one of `metric_names` (in any namespace).
pub(crate) fn reads_any(alarm: &Alarm, metric_names: &HashSet<String>) -> bool {
    alarm
        .metrics
        .iter()
        .any(|metric| metric_names.contains(&metric.metric_name))
}

/// An SDK metric alarm → [`Alarm`], with every metric it reads.
pub(crate) fn alarm(alarm: &MetricAlarm) -> Alarm {
    let mut metrics = Vec::new();
    if let (Some(metric_name), Some(namespace)) = (alarm.metric_name(), alarm.namespace()) {
        metrics.push(AlarmMetric {
            metric_name: metric_name.to_string(),
            namespace: namespace.to_string(),
            dimensions: dimensions(alarm.dimensions()),
            account_id: None,
        });
    }
    let mut queries = Vec::new();
    for query in alarm.metrics() {
        let stat = query.metric_stat();
        let metric = stat.and_then(|stat| stat.metric()).and_then(|metric| {
            Some(AlarmMetric {
                metric_name: metric.metric_name()?.to_string(),
                namespace: metric.namespace()?.to_string(),
                dimensions: dimensions(metric.dimensions()),
                account_id: query.account_id().map(str::to_string),
            })
        });
        metrics.extend(metric.clone());
        queries.push(AlarmQuery {
            id: query.id().unwrap_or_default().to_string(),
            expression: query.expression().map(str::to_string),
            metric,
            stat: stat.and_then(|stat| stat.stat()).map(str::to_string),
            period: stat.and_then(|stat| stat.period()).or(query.period()),
            // AWS's default: a query returns data unless told not to.
            return_data: query.return_data().unwrap_or(true),
        });
    }
    let evaluation = AlarmEvaluation {
        statistic: alarm.statistic().map(|s| s.as_str().to_string()),
        extended_statistic: alarm.extended_statistic().map(str::to_string),
        period: alarm.period(),
        evaluation_periods: alarm.evaluation_periods(),
        datapoints_to_alarm: alarm.datapoints_to_alarm(),
        comparison_operator: alarm.comparison_operator().map(|o| o.as_str().to_string()),
        threshold: alarm.threshold(),
        treat_missing_data: alarm.treat_missing_data().map(str::to_string),
        evaluate_low_sample_count_percentile: alarm
            .evaluate_low_sample_count_percentile()
            .map(str::to_string),
        unit: alarm.unit().map(|u| u.as_str().to_string()),
        state: alarm.state_value().map(|s| s.as_str().to_string()),
        queries,
    };
    Alarm {
        arn: alarm.alarm_arn().unwrap_or_default().to_string(),
        name: alarm.alarm_name().unwrap_or_default().to_string(),
        // AWS's default for an alarm created without the flag.
        actions_enabled: alarm.actions_enabled().unwrap_or(true),
        alarm_actions: alarm.alarm_actions().to_vec(),
        ok_actions: alarm.ok_actions().to_vec(),
        insufficient_data_actions: alarm.insufficient_data_actions().to_vec(),
        metrics,
        evaluation,
    }
}

fn dimensions(dimensions: &[aws_sdk_cloudwatch::types::Dimension]) -> BTreeMap<String, String> {
    dimensions
        .iter()
        .filter_map(|dimension| {
            Some((
                dimension.name()?.to_string(),
                dimension.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};

    fn names(names: &[&str]) -> HashSet<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn maps_a_plain_alarm() {
        let sdk_alarm = MetricAlarm::builder()
            .alarm_name("cis-4-5")
            .alarm_arn("arn:aws:cloudwatch:us-east-1:111122223333:alarm:cis-4-5")
            .actions_enabled(false)
            .alarm_actions("arn:aws:sns:us-east-1:111122223333:alerts")
            .metric_name("TrailChanges")
            .namespace("CISBenchmark")
            .dimensions(Dimension::builder().name("user").value("x").build())
            .build();
        let mapped = alarm(&sdk_alarm);
        assert_eq!(mapped.name, "cis-4-5");
        assert!(!mapped.actions_enabled);
        assert_eq!(
            mapped.alarm_actions,
            vec!["arn:aws:sns:us-east-1:111122223333:alerts"]
        );
        assert_eq!(
            mapped.metrics,
            vec![AlarmMetric {
                metric_name: "TrailChanges".into(),
                namespace: "CISBenchmark".into(),
                dimensions: BTreeMap::from([("user".into(), "x".into())]),
                account_id: None,
            }]
        );
        // Whatever the namespace of the filter's metric: a near miss is evidence.
        assert!(reads_any(&mapped, &names(&["TrailChanges"])));
        assert!(!reads_any(&mapped, &names(&["OtherMetric"])));
    }

    #[test]
    fn a_metric_math_alarm_reads_each_metric_stat() {
        let stat = |name: &str| {
            MetricDataQuery::builder()
                .id(name.to_lowercase())
                .metric_stat(
                    MetricStat::builder()
                        .metric(
                            Metric::builder()
                                .metric_name(name)
                                .namespace("CISBenchmark")
                                .build(),
                        )
                        .period(300)
                        .stat("Sum")
                        .build(),
                )
                .build()
        };
        let sdk_alarm = MetricAlarm::builder()
            .alarm_name("math")
            .metrics(stat("A"))
            .metrics(stat("B"))
            .metrics(MetricDataQuery::builder().id("e").expression("a+b").build())
            .build();
        let mapped = alarm(&sdk_alarm);
        assert!(mapped.actions_enabled);
        let read: Vec<&str> = mapped
            .metrics
            .iter()
            .map(|m| m.metric_name.as_str())
            .collect();
        assert_eq!(read, ["A", "B"]);
        assert!(reads_any(&mapped, &names(&["B"])));
    }

    fn composite(name: &str, rule: &str) -> CompositeAlarm {
        CompositeAlarm {
            arn: format!("arn:aws:cloudwatch:us-east-1:111122223333:alarm:{name}"),
            name: name.to_string(),
            actions_enabled: true,
            alarm_actions: vec![],
            rule: rule.to_string(),
            actions_suppressor: None,
        }
    }

    #[test]
    fn composite_alarms_are_kept_over_kept_alarms_transitively() {
        let kept = alarm(
            &MetricAlarm::builder()
                .alarm_name("cis-4-5")
                .alarm_arn("arn:aws:cloudwatch:us-east-1:111122223333:alarm:cis-4-5")
                .metric_name("TrailChanges")
                .namespace("CISBenchmark")
                .build(),
        );
        let candidates = vec![
            composite("outer", "ALARM(inner) AND TRUE"),
            composite("inner", "ALARM(\"cis-4-5\") OR ALARM(other)"),
            composite(
                "by-arn",
                "ALARM(arn:aws:cloudwatch:us-east-1:111122223333:alarm:cis-4-5)",
            ),
            composite("unrelated", "ALARM(cpu)"),
            composite("broken", "ALARM(cis-4-5) XOR"),
        ];
        let names: Vec<String> = over(&[kept], candidates)
            .into_iter()
            .map(|composite| composite.name)
            .collect();
        assert_eq!(names, ["inner", "by-arn", "broken", "outer"]);
    }
}
