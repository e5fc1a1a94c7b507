//! How fast the controls decide a large account, against reading the same snapshot from JSON.
//!
//! The account: 20 multi-Region trails on 5 log groups, each log group holding the CloudWatch
//! maximum of 100 metric filters (the 14 CIS patterns, respaced, shared by every log group; near
//! misses and unrelated filters, distinct per log group: 400 distinct patterns), 500 alarms and
//! 50 topics. Baseline in the same run: `serde_json::from_str` of that
//! snapshot, which every `trailwatch evaluate` pays anyway. Also: planning the first remediation
//! step of every failing control, which every run adds for the findings' remediation text. Run
//! with `cargo bench --bench evaluate`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use time::macros::datetime;
use trailwatch::controls::{self, catalog};
use trailwatch::model::snapshot::*;

const ACCOUNT: &str = "111122223333";
const REGION: &str = "us-east-1";

fn large_account() -> Snapshot {
    let cis: Vec<&str> = catalog()
        .iter()
        .filter_map(|control| control.required_pattern())
        .collect();
    let log_groups: Vec<LogGroup> = (0..5)
        .map(|group| {
            let filters = (0..100)
                .map(|n| {
                    let pattern = match n % 4 {
                        // The CIS pattern with its spacing removed.
                        0 => cis[n / 4 % cis.len()].replace(' ', ""),
                        // A near miss: the CIS pattern narrowed to one region.
                        1 => format!(
                            "{{ ({}) && $.awsRegion = \"eu-west-{group}{n}\" }}",
                            cis[n / 4 % cis.len()]
                                .trim()
                                .trim_start_matches('{')
                                .trim_end_matches('}')
                        ),
                        2 => format!("{{ $.eventName = \"Describe{group}x{n}*\" }}"),
                        _ => format!("ERROR ?Exception{group}x{n} -DEBUG"),
                    };
                    MetricFilter {
                        name: format!("filter-{group}-{n}"),
                        pattern,
                        metric_transformations: vec![MetricTransformation {
                            metric_name: format!("metric-{group}-{n}"),
                            metric_namespace: "CISBenchmark".to_string(),
                            metric_value: "1".to_string(),
                            default_value: None,
                            unit: None,
                            dimensions: Default::default(),
                        }],
                    }
                })
                .collect();
            LogGroup {
                arn: format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:trail-{group}:*"),
                name: format!("trail-{group}"),
                region: REGION.to_string(),
                account_id: ACCOUNT.to_string(),
                metric_filters: Ok(filters),
            }
        })
        .collect();
    let trails = (0..20)
        .map(|n| Trail {
            arn: format!("arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trail-{n}"),
            name: format!("trail-{n}"),
            home_region: REGION.to_string(),
            is_multi_region: n % 3 != 0,
            is_organization_trail: false,
            log_group_arn: Some(log_groups[n % 5].arn.clone()),
            status: Ok(TrailStatus {
                is_logging: true,
                latest_cloudwatch_logs_delivery_time: Some(datetime!(2026-11-23 11:00 UTC)),
                latest_cloudwatch_logs_delivery_error: None,
            }),
            event_selectors: Ok(EventSelectors {
                classic: vec![ClassicEventSelector {
                    read_write_type: "All".to_string(),
                    include_management_events: true,
                    exclude_management_event_sources: vec![],
                }],
                advanced: vec![],
            }),
        })
        .collect();
    let topic = |n: usize| format!("arn:aws:sns:{REGION}:{ACCOUNT}:topic-{n}");
    let alarms = (0..500)
        .map(|n| Alarm {
            arn: format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:alarm-{n}"),
            name: format!("alarm-{n}"),
            actions_enabled: true,
            alarm_actions: vec![topic(n % 50)],
            ok_actions: vec![],
            insufficient_data_actions: vec![],
            metrics: vec![AlarmMetric {
                metric_name: format!("metric-{}-{}", n % 5, n % 100),
                namespace: "CISBenchmark".to_string(),
                dimensions: Default::default(),
                account_id: None,
            }],
            // The CIS settings, or 3 of 3 breaching periods with missing data not breaching.
            evaluation: AlarmEvaluation {
                statistic: Some("Sum".to_string()),
                period: Some(300),
                evaluation_periods: Some(if n % 4 == 0 { 3 } else { 1 }),
                comparison_operator: Some("GreaterThanOrEqualToThreshold".to_string()),
                threshold: Some(1.0),
                treat_missing_data: Some("notBreaching".to_string()),
                ..AlarmEvaluation::default()
            },
        })
        .collect();
    let topics = (0..50)
        .map(|n| Topic {
            arn: topic(n),
            region: REGION.to_string(),
            account_id: ACCOUNT.to_string(),
            subscriptions: Ok(vec![Subscription {
                subscription_arn: if n % 2 == 0 {
                    format!("{}:sub", topic(n))
                } else {
                    "PendingConfirmation".to_string()
                },
                protocol: "email".to_string(),
                endpoint: "secops@example.com".to_string(),
                // Every fourth confirmed subscription filters on a message attribute, which
                // alarm notifications never carry.
                filter: Some(Ok(SubscriptionFilter {
                    policy: (n % 4 == 0).then(|| r#"{"severity": ["high"]}"#.to_string()),
                    scope: None,
                })),
            }]),
            attributes: Ok(TopicAttributes {
                policy: Some(
                    serde_json::json!({
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"AWS": "*"},
                            "Action": "SNS:Publish",
                            "Resource": topic(n),
                            "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}
                        }]
                    })
                    .to_string(),
                ),
                kms_master_key_id: None,
                key: None,
            }),
        })
        .collect();
    Snapshot {
        format: SNAPSHOT_FORMAT,
        account_id: ACCOUNT.to_string(),
        partition: "aws".to_string(),
        collected_at: datetime!(2026-11-23 12:00 UTC),
        regions: vec![REGION.to_string()],
        region_source: RegionSource::Configured,
        chains: ChainGraph {
            trails,
            log_groups,
            alarm_sets: vec![AlarmSet {
                region: REGION.to_string(),
                account_id: ACCOUNT.to_string(),
                alarms: Ok(alarms),
                composite_alarms: vec![],
            }],
            topics,
        },
        securityhub: None,
        read_errors: vec![],
        api_calls: 0,
        api_calls_by_operation: Default::default(),
    }
}

fn bench(c: &mut Criterion) {
    let snapshot = large_account();
    let json = serde_json::to_string(&snapshot).unwrap();
    let all: Vec<&controls::Control> = catalog().iter().collect();
    let mut group = c.benchmark_group("large account (20 trails, 500 filters, 15 controls)");
    group.sample_size(10);
    group.bench_function("baseline: read the snapshot JSON", |b| {
        b.iter(|| serde_json::from_str::<Snapshot>(black_box(&json)).unwrap())
    });
    group.bench_function("evaluate every control", |b| {
        b.iter(|| controls::evaluate(black_box(&snapshot), &all, controls::CisVersion::newest()))
    });
    // What every run adds for the findings' remediation text: each failing control's plan,
    // which asks the evaluator again after each planned step.
    let findings = controls::evaluate(&snapshot, &all, controls::CisVersion::newest());
    group.bench_function("plan every failing control (first steps)", |b| {
        b.iter(|| {
            trailwatch_core::remediate::first_steps(
                black_box(&snapshot),
                &findings,
                &all,
                controls::CisVersion::newest(),
            )
        })
    });
    group.finish();

    // An account where most controls fail (the demo's): planning asks the evaluator again
    // after each step of each failing control.
    let demo =
        Snapshot::from_json(include_str!("../tests/fixtures/demo-account.snapshot.json")).unwrap();
    let findings = controls::evaluate(&demo, &all, controls::CisVersion::newest());
    let mut group = c.benchmark_group("demo account (most controls failing)");
    group.bench_function("baseline: evaluate every control", |b| {
        b.iter(|| controls::evaluate(black_box(&demo), &all, controls::CisVersion::newest()))
    });
    group.bench_function("plan every failing control (first steps)", |b| {
        b.iter(|| {
            trailwatch_core::remediate::first_steps(
                black_box(&demo),
                &findings,
                &all,
                controls::CisVersion::newest(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
