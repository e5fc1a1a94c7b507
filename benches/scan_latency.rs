//! Scan wall time against the floor the call graph sets, at a fixed injected latency (issue item
//! 15): a plain bench binary (`harness = false`), not a timed test.
//!
//! ```sh
//! cargo bench --bench scan_latency            # SCAN_LATENCY_RUNS=9 SCAN_LATENCY_MS=50 by default
//! ```
//!
//! It starts moto (`tools/moto_wrapper.py`) and the latency and fault proxy
//! (`tools/fault_proxy.py`) itself, through the emulator tests' harness (`tests/emulator/support`,
//! included below), seeds one account per shape directly on moto, and then, side by side in one
//! run, for each shape:
//!
//! - the wall time of `trailwatch::run::run_account` with `Publish::Off` (collect + evaluate +
//!   ASFF, the default controls) through the proxy at 0 ms (the in-run baseline) and at
//!   `SCAN_LATENCY_MS`, interleaved, median (and range) of `SCAN_LATENCY_RUNS` runs after one
//!   warm-up run each;
//! - the floor: the depth of the call graph in round trips × (the injected latency + the per-request
//!   overhead measured at 0 ms, the median of sequential `DescribeTrails` calls through the proxy in
//!   the same run); for regions given, the depth is 5 (DescribeTrails → DescribeMetricFilters →
//!   DescribeAlarms → ListSubscriptionsByTopic → GetSubscriptionAttributes of the confirmed
//!   subscriptions; GetCallerIdentity, GetTrailStatus, GetEventSelectors and GetTopicAttributes
//!   run alongside; an encrypted topic's DescribeKey → GetKeyPolicy runs beside the
//!   subscriptions' two steps); with `account:ListRegions` first it is 6;
//! - the ratio wall/floor (goal ≤ 1.5), and `(wall@latency − wall@0) / latency`: how many
//!   latency-bound round trips the scan's critical path really has;
//! - the requests per scan by operation, as the proxy counted them (and checked equal in every run).
//!
//! Prints markdown tables (README.md, "Performance", holds a copy with the date and the machine).

mod common;
#[allow(dead_code, unused_imports)]
#[path = "../tests/emulator/support/mod.rs"]
mod support;

use common::requests_table;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use support::proxy::{FaultProxy, ProxyConfig};
use support::{TestAccount, TrailSpec};
use trailwatch::controls::{self, CisVersion};
use trailwatch::run::{run_account, Publish, RunSettings};

const TWO_REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

/// One account shape to scan.
struct Shape {
    name: &'static str,
    /// `None`: the account's enabled regions (account:ListRegions, as the Lambda by default).
    regions: Option<Vec<String>>,
    /// Round trips on the critical path of the call graph.
    depth: u32,
    account: TestAccount,
}

async fn shapes() -> Vec<Shape> {
    let two_regions = Some(
        TWO_REGIONS
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>(),
    );
    let server = support::shared_server();

    let one = server.fresh_account().await;
    one.seed_monitoring_chains("main", "us-east-1").await;

    let two = server.fresh_account().await;
    two.seed_monitoring_chains("main", "us-east-1").await;
    two.seed_monitoring_chains("europe", "eu-west-1").await;

    let with_regional = server.fresh_account().await;
    with_regional
        .seed_monitoring_chains("main", "us-east-1")
        .await;
    let group = with_regional
        .create_log_group("eu-west-1", "CloudTrail/regional")
        .await;
    with_regional
        .create_trail(
            &TrailSpec::new("regional")
                .region("eu-west-1")
                .single_region()
                .log_group(&group),
        )
        .await;

    vec![
        Shape {
            name: "1 trail, 2 regions",
            regions: two_regions.clone(),
            depth: 5,
            account: one.clone(),
        },
        Shape {
            name: "2 trails, 2 regions",
            regions: two_regions.clone(),
            depth: 5,
            account: two,
        },
        Shape {
            name: "2 trails (1 single-Region), 2 regions",
            regions: two_regions,
            depth: 5,
            account: with_regional,
        },
        Shape {
            name: "1 trail, enabled regions (ListRegions)",
            regions: None,
            depth: 6,
            account: one,
        },
    ]
}

fn settings(regions: &Option<Vec<String>>) -> RunSettings {
    RunSettings {
        regions: regions.clone(),
        controls: controls::select("default").expect("default controls"),
        cis_version: CisVersion::newest(),
        securityhub_region: Some("us-east-1".to_string()),
        publish: Publish::Off,
    }
}

/// What one scan took and asked.
struct Scan {
    wall: Duration,
    /// The requests the proxy saw, by operation.
    requests: BTreeMap<String, u64>,
    /// Regions whose trails were listed.
    regions: usize,
}

/// One scan through the proxy.
async fn scan_once(proxy: &FaultProxy, shape: &Shape, latency_ms: u64) -> Scan {
    proxy.configure(&ProxyConfig::latency(latency_ms));
    proxy.reset();
    let sdk = proxy.sdk_for(&shape.account);
    let settings = settings(&shape.regions);
    let started = Instant::now();
    let run = run_account(&sdk, &settings).await.expect("scan");
    let wall = started.elapsed();
    assert!(
        run.scan.snapshot.read_errors.is_empty(),
        "{}: {:?}",
        shape.name,
        run.scan.snapshot.read_errors
    );
    let requests = proxy.settled_stats().requests();
    assert_eq!(
        requests, run.scan.snapshot.api_calls_by_operation,
        "{}: the proxy's count vs the snapshot's",
        shape.name
    );
    Scan {
        wall,
        requests,
        regions: run.scan.snapshot.regions.len(),
    }
}

/// The median of sequential single requests (DescribeTrails) through the proxy at `latency_ms`.
async fn request_time(proxy: &FaultProxy, account: &TestAccount, latency_ms: u64) -> Duration {
    proxy.configure(&ProxyConfig::latency(latency_ms));
    let client = aws_sdk_cloudtrail::Client::new(&proxy.sdk_for(account));
    let mut samples = Vec::new();
    for n in 0..26 {
        let started = Instant::now();
        client
            .describe_trails()
            .send()
            .await
            .expect("DescribeTrails");
        if n >= 5 {
            samples.push(started.elapsed());
        }
    }
    median(&mut samples)
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.0} ms", duration.as_secs_f64() * 1000.0)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

struct Row {
    name: &'static str,
    depth: u32,
    requests: BTreeMap<String, u64>,
    regions: usize,
    at_zero: Vec<Duration>,
    at_latency: Vec<Duration>,
}

async fn bench(measuring: bool) {
    let runs = env_number("SCAN_LATENCY_RUNS", if measuring { 9 } else { 1 }).max(1) as usize;
    let latency_ms = env_number("SCAN_LATENCY_MS", 50);
    let latency = Duration::from_millis(latency_ms);
    eprintln!("scan_latency: seeding (moto + proxy start on free ports)…");
    let shapes = shapes().await;
    let proxy = FaultProxy::start();

    let overhead = request_time(&proxy, &shapes[0].account, 0).await;
    let single_at_latency = request_time(&proxy, &shapes[0].account, latency_ms).await;

    let mut rows = Vec::new();
    for shape in &shapes {
        eprintln!("scan_latency: {} ({runs} runs per latency)…", shape.name);
        let warm_up = scan_once(&proxy, shape, 0).await;
        scan_once(&proxy, shape, latency_ms).await;
        let (requests, regions) = (warm_up.requests, warm_up.regions);
        let (mut at_zero, mut at_latency) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            for (latency, walls) in [(0, &mut at_zero), (latency_ms, &mut at_latency)] {
                let scan = scan_once(&proxy, shape, latency).await;
                assert_eq!(
                    scan.requests, requests,
                    "{}: the same requests every run",
                    shape.name
                );
                walls.push(scan.wall);
            }
        }
        rows.push(Row {
            name: shape.name,
            depth: shape.depth,
            requests,
            regions,
            at_zero,
            at_latency,
        });
    }

    println!();
    println!(
        "Per-request overhead through proxy and moto at 0 ms (median of 21 sequential \
         DescribeTrails): {}; at {latency_ms} ms: {} ({:.2}× the injected latency + overhead).",
        ms(overhead),
        ms(single_at_latency),
        single_at_latency.as_secs_f64() / (latency + overhead).as_secs_f64()
    );
    println!(
        "Median (min–max) of {runs} runs per cell; floor = depth × ({latency_ms} ms + overhead)."
    );
    println!();
    println!(
        "| account | requests | wall @0 ms (baseline) | wall @{latency_ms} ms | ×baseline | floor (depth) | wall/floor | round trips on the critical path |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in &mut rows {
        let range = |samples: &[Duration]| {
            let millis = |d: &Duration| d.as_secs_f64() * 1000.0;
            let min = samples.iter().map(millis).fold(f64::MAX, f64::min);
            let max = samples.iter().map(millis).fold(0.0, f64::max);
            format!("{min:.0}–{max:.0}")
        };
        let zero = median(&mut row.at_zero);
        let at = median(&mut row.at_latency);
        let floor = (latency + overhead) * row.depth;
        let trips = (at.as_secs_f64() - zero.as_secs_f64()) / latency.as_secs_f64();
        println!(
            "| {} | {} | {} ({}) | {} ({}) | {:.1}× | {} ({}) | {:.2}× | {:.1} |",
            row.name,
            row.requests.values().sum::<u64>(),
            ms(zero),
            range(&row.at_zero),
            ms(at),
            range(&row.at_latency),
            at.as_secs_f64() / zero.as_secs_f64(),
            ms(floor),
            row.depth,
            at.as_secs_f64() / floor.as_secs_f64(),
            trips,
        );
    }
    println!();
    let columns: Vec<(&str, &BTreeMap<String, u64>)> =
        rows.iter().map(|row| (row.name, &row.requests)).collect();
    println!("{}", requests_table("requests per scan", &columns));
    print!("| DescribeTrails per region listed |");
    for row in &rows {
        let listed = row.regions.max(1);
        let per_region = row
            .requests
            .get("cloudtrail:DescribeTrails")
            .copied()
            .unwrap_or(0) as f64
            / listed as f64;
        print!(" {per_region:.0} |");
    }
    println!();
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs the bench without it, as a
    // smoke test: one run per shape (as criterion's benches do in test mode).
    let measuring = std::env::args().any(|arg| arg == "--bench");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(bench(measuring));
}
