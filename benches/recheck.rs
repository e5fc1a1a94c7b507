//! The event-driven re-check against the full scan it replaces between schedules (issue 14,
//! item 6): a plain bench binary (`harness = false`), not a timed test.
//!
//! ```sh
//! cargo bench --bench recheck            # RECHECK_RUNS=9 RECHECK_LATENCY_MS=20 by default
//! ```
//!
//! It starts moto and the latency proxy through the emulator tests' harness
//! (`tests/emulator/support`, included below), seeds one account with complete chains for the
//! four default monitoring controls (one trail, its log group, a filter and an alarm each, a
//! subscribed topic), publishes once, and then, interleaved in one run at `RECHECK_LATENCY_MS`
//! per request, median (and range) of `RECHECK_RUNS` runs after one warm-up each:
//!
//! - the baseline: the scheduled run through the handler (collect, evaluate, import every finding
//!   of the stack's controls — the default five and CIS 4.16);
//! - the re-check of one event of each kind — `StopLogging` (a trail: delivery and monitoring),
//!   `DeleteMetricFilter` on the trail's log group (monitoring only), `DeleteAlarms` (the alarm's
//!   region) — and of a burst of 50 mixed events: from the batch reaching the handler to the
//!   handler's answer, which comes after the findings are imported into the emulator's Security
//!   Hub (the event's time to the finding, less EventBridge's delivery and the queue's batching
//!   window, which the template sets to 20 s);
//! - the requests each made (the proxy's count), and both as ratios to the baseline.
//!
//! The changes are not applied (the chains stay complete): the cost of a re-check does not
//! depend on what it finds.
//!
//! Then the organization case, once each (`RECHECK_MEMBERS` members, default 1,000; 4 under
//! `cargo test`): an organization stack in the management account, whose organization trail's
//! chain every member is judged on; the scheduled run (the coordinator, then the workers on
//! every message, batches of 5 as the queue trigger's `BatchSize`) beside the re-check of a
//! `DeleteAlarms` on that chain (the re-check starts the organization run narrowed to the
//! affected controls, then the same workers): wall time from the invocation to the last
//! member's findings imported, and requests.

mod common;
#[allow(dead_code, unused_imports)]
#[path = "../tests/emulator/support/mod.rs"]
mod support;

use common::requests_table;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::changes::{
    change_batch as batch, change_queue_arn as queue_arn, change_sample as sample, scheduled_event,
    sqs_record,
};
use support::proxy::{FaultProxy, ProxyConfig};
use support::TestAccount;
use trailwatch::lambda::config::{ENV_CHANGE_QUEUE_ARN, ENV_CONTROLS, ENV_REGIONS};
use trailwatch::lambda::{self, Config, Response};

fn config(account: &TestAccount) -> Config {
    Config::from_lookup(|name| match name {
        ENV_REGIONS => Some("us-east-1".to_string()),
        ENV_CONTROLS => Some("default,securityhub-enabled".to_string()),
        ENV_CHANGE_QUEUE_ARN => Some(queue_arn(account)),
        _ => None,
    })
    .expect("valid configuration")
}

/// One kind of invocation to time.
struct Case {
    name: &'static str,
    event: Value,
}

fn cases(account: &TestAccount) -> Vec<Case> {
    let scheduled = scheduled_event();
    let kinds = [
        "stop-logging.json",
        "delete-metric-filter.json",
        "delete-alarms.json",
        "set-topic-attributes.json",
        "unsubscribe.json",
    ];
    let burst: Vec<String> = (0..50)
        .map(|n| sample(account, kinds[n % kinds.len()]))
        .collect();
    vec![
        Case {
            name: "scheduled run (baseline)",
            event: scheduled,
        },
        Case {
            name: "StopLogging",
            event: batch(account, &[sample(account, "stop-logging.json")]),
        },
        Case {
            name: "DeleteMetricFilter",
            event: batch(account, &[sample(account, "delete-metric-filter.json")]),
        },
        Case {
            name: "DeleteAlarms",
            event: batch(account, &[sample(account, "delete-alarms.json")]),
        },
        Case {
            name: "burst of 50 events",
            event: batch(account, &burst),
        },
    ]
}

/// One invocation through the proxy: its wall time and requests.
async fn invoke(
    proxy: &FaultProxy,
    account: &TestAccount,
    config: &Config,
    event: &Value,
) -> (Duration, u64, BTreeMap<String, u64>) {
    proxy.reset();
    let sdk = proxy.sdk_for(account);
    let started = Instant::now();
    let response = lambda::handle(&sdk, config, event)
        .await
        .expect("invocation");
    let wall = started.elapsed();
    if let Response::Rechecked(rechecked) = &response {
        assert!(
            rechecked.batch.batch_item_failures.is_empty(),
            "{rechecked:?}"
        );
        assert_eq!(rechecked.recheck.scans(), 1, "{rechecked:?}");
    }
    let requests = proxy.settled_stats().requests();
    (wall, requests.values().sum(), requests)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn bench(measuring: bool) {
    let runs: usize = if measuring {
        std::env::var("RECHECK_RUNS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(9)
    } else {
        1
    };
    let latency_ms: u64 = std::env::var("RECHECK_LATENCY_MS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let account = support::shared_server().fresh_account().await;
    account.seed_monitoring_chains("main", "us-east-1").await;
    let config = config(&account);
    let proxy = FaultProxy::start();
    proxy.configure(&ProxyConfig::latency(latency_ms));
    let cases = cases(&account);
    // Warm-up: the first run publishes every finding; each case once more.
    for case in &cases {
        invoke(&proxy, &account, &config, &case.event).await;
    }
    let mut walls: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut calls: Vec<(u64, BTreeMap<String, u64>)> = vec![(0, BTreeMap::new()); cases.len()];
    for _ in 0..runs {
        for (n, case) in cases.iter().enumerate() {
            let (wall, total, by_operation) = invoke(&proxy, &account, &config, &case.event).await;
            walls[n].push(wall);
            calls[n] = (total, by_operation);
        }
    }
    println!(
        "Re-check vs scheduled run, one account, {latency_ms} ms per request, median of {runs} (range)\n"
    );
    println!("| invocation | wall ms (range) | × baseline | requests | × baseline |");
    println!("|---|---|---|---|---|");
    let base_wall = median(&mut walls[0].clone()).as_secs_f64();
    let base_calls = calls[0].0 as f64;
    for (n, case) in cases.iter().enumerate() {
        let samples = &mut walls[n];
        let mid = median(samples);
        println!(
            "| {} | {:.0} ({:.0}–{:.0}) | {:.2} | {} | {:.2} |",
            case.name,
            mid.as_secs_f64() * 1000.0,
            samples[0].as_secs_f64() * 1000.0,
            samples[samples.len() - 1].as_secs_f64() * 1000.0,
            mid.as_secs_f64() / base_wall,
            calls[n].0,
            calls[n].0 as f64 / base_calls,
        );
    }
    println!("\nRequests by operation\n");
    let columns: Vec<(&str, &BTreeMap<String, u64>)> = cases
        .iter()
        .zip(&calls)
        .map(|(case, (_, by))| (case.name, by))
        .collect();
    println!("{}", requests_table("operation", &columns));
}

/// Takes every message off the scan queue and runs the workers on them, 5 a batch (the trigger's
/// `BatchSize`), deleting each batch once done; the messages handled.
async fn work_queue(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    queue_url: &str,
    account: &TestAccount,
) -> usize {
    let client = aws_sdk_sqs::Client::new(sdk);
    let mut handled = 0;
    let mut empty_polls = 0;
    while empty_polls < 2 {
        let received = client
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(5)
            .visibility_timeout(600)
            // The MAC the coordinator seals each message with is an attribute.
            .message_attribute_names("All")
            .send()
            .await
            .expect("sqs:ReceiveMessage");
        let messages = received.messages();
        if messages.is_empty() {
            empty_polls += 1;
            continue;
        }
        let queue_arn = format!("arn:aws:sqs:us-east-1:{}:trailwatch-accounts", account.id);
        let records: Vec<Value> = messages
            .iter()
            .map(|message| sqs_record(message, &queue_arn))
            .collect();
        let response = lambda::handle(sdk, config, &serde_json::json!({ "Records": records }))
            .await
            .expect("worker run");
        let Response::Batch(batch) = response else {
            panic!("not a worker run");
        };
        assert!(batch.batch_item_failures.is_empty(), "{batch:?}");
        for message in messages {
            client
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("sqs:DeleteMessage");
        }
        handled += messages.len();
    }
    handled
}

/// The organization case: the scheduled run and the re-check of a change to the organization
/// trail's chain, each to the last member's findings.
async fn organization_case(members: usize) {
    use support::org::{create_stack, seed_management, Organization, MEMBER_ROLE};
    use trailwatch::lambda::config::{
        ENV_MEMBER_ROLE_NAME, ENV_MESSAGE_KEY, ENV_ORGANIZATION, ENV_QUEUE_URL,
        ENV_SECURITYHUB_REGION,
    };
    let (management, ids) = Organization::create_ids(members).await;
    seed_management(&management, &ids[0]).await;
    // The scan queue and its message key, as template.yaml's organization stack has them.
    let stack = create_stack(&management).await;
    let scan_queue = stack.queue.clone();
    let config = Config::from_lookup(|name| match name {
        ENV_ORGANIZATION => Some("true".to_string()),
        ENV_QUEUE_URL => Some(scan_queue.clone()),
        ENV_MESSAGE_KEY => Some(stack.key.clone()),
        ENV_MEMBER_ROLE_NAME => Some(MEMBER_ROLE.to_string()),
        ENV_REGIONS => Some("us-east-1".to_string()),
        ENV_SECURITYHUB_REGION => Some("us-east-1".to_string()),
        ENV_CONTROLS => Some("default".to_string()),
        ENV_CHANGE_QUEUE_ARN => Some(queue_arn(&management)),
        _ => None,
    })
    .expect("valid configuration");
    let proxy = FaultProxy::start();
    let sdk = proxy.sdk_for(&management);
    let scheduled = scheduled_event();
    let change = batch(
        &management,
        &[sample(&management, "delete-alarms.json")
            .replace("main-alarm", "org-cloudtrail-changes")],
    );
    let mut rows = Vec::new();
    for (name, event) in [
        ("scheduled organization run (baseline)", &scheduled),
        (
            "re-check of DeleteAlarms on the organization trail's chain",
            &change,
        ),
    ] {
        proxy.reset();
        let started = Instant::now();
        match lambda::handle(&sdk, &config, event)
            .await
            .expect("invocation")
        {
            Response::Coordinated(summary) => assert_eq!(summary.messages_sent, members),
            Response::Rechecked(response) => {
                assert_eq!(
                    response.recheck.accounts[0].members_queued,
                    Some(members),
                    "{response:?}"
                )
            }
            other => panic!("unexpected answer: {other:?}"),
        }
        let worked = work_queue(&sdk, &config, &scan_queue, &management).await;
        let wall = started.elapsed();
        assert_eq!(worked, members);
        let requests: u64 = proxy.settled_stats().requests().values().sum();
        rows.push((name, wall, requests));
    }
    println!("\nOrganization of {members} members judged on the organization trail's chain, one run each\n");
    println!("| invocation | wall s, to the last member's findings | × baseline | requests | × baseline |");
    println!("|---|---:|---:|---:|---:|");
    let (base_wall, base_requests) = (rows[0].1.as_secs_f64(), rows[0].2 as f64);
    for (name, wall, requests) in rows {
        println!(
            "| {name} | {:.1} | {:.2} | {requests} | {:.2} |",
            wall.as_secs_f64(),
            wall.as_secs_f64() / base_wall,
            requests as f64 / base_requests
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs it once as a smoke test.
    let measuring = std::env::args().any(|arg| arg == "--bench");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(async {
            bench(measuring).await;
            let members = if measuring {
                std::env::var("RECHECK_MEMBERS")
                    .ok()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1000)
            } else {
                4
            };
            organization_case(members).await;
        });
}
