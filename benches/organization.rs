//! The organization run at scale, against the emulator: an organization of many accounts (by
//! default 1,000 members, mostly logging only through the management account's organization
//! trail) scanned from its management account, beside a baseline measured in the same run — the
//! single-account scan of each member in turn, as a loop over today's `trailwatch scan` would.
//!
//! `cargo bench --bench organization` (members: `TRAILWATCH_BENCH_ACCOUNTS`, default 1000;
//! `TRAILWATCH_BENCH_BASELINE=0` skips the baseline; under `cargo test` it runs once on 4 members
//! without the baseline). Prints, per run: wall time, accounts/s, API
//! calls per member by operation, and the process's peak resident memory during the run above
//! what it held before (sampled every 5 ms), for two organization sizes so that the memory's
//! flatness shows.
//!
//! Then the Lambda's coordinator (`lambda::fanout::coordinate`: list the organization, scan the
//! central account, seal and queue one message per member) on an organization of
//! `TRAILWATCH_BENCH_COORDINATOR_ACCOUNTS` members (default 10,000; a quarter of them too, for
//! linearity), beside two floors in the same run: as many messages of the same size sent with
//! SendMessageBatch alone (10 a call, one call at a time, unsealed) — the queue's floor — and
//! the same messages each sealed first (`kms:GenerateMac`, as many in flight as the coordinator,
//! overlapping the sends as the coordinator's do) — the floor of sealed messages, whose
//! difference from the coordinator is the coordinator's own work (listing, its scan, the
//! bodies). Prints wall time, accounts/s, the ratio to the first floor and how many accounts one
//! invocation queues at that rate within the function's 600 s timeout less the coordinator's
//! margin. During each, a consumer receives and deletes the queue's messages as they arrive, as
//! the Lambda's workers would (a queue that only fills is not what the function sees).
//! `TRAILWATCH_BENCH_COORDINATOR_ONLY=1` skips the scans above.

// The emulator harness of the integration tests, shared rather than copied; the bench uses only
// part of it.
#[allow(dead_code, unused_imports)]
#[path = "../tests/emulator/support/mod.rs"]
mod support;

use futures::{stream, StreamExt};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::org::{create_stack, seed_management, Organization, ScanStack, MEMBER_ROLE};
use support::{shared_server, ChainSpec};
use trailwatch::collect::access::MemberRole;
use trailwatch::controls::{self, CisVersion};
use trailwatch::lambda::config::{
    ENV_MEMBER_ROLE_NAME, ENV_MESSAGE_KEY, ENV_ORGANIZATION, ENV_QUEUE_URL, ENV_REGIONS,
    ENV_SECURITYHUB_REGION,
};
use trailwatch::lambda::mac::{self, MessageKey};
use trailwatch::lambda::{fanout, Config, Invocation};
use trailwatch::run::org::{run_organization, OrgSettings, Outcome};
use trailwatch::run::{Publish, RunSettings};

/// The label of the organization run's baseline.
const SCANS_BASELINE: &str = "baseline: single-account scans in a loop";
/// The labels of the coordinator's two floors.
const SEND_FLOOR: &str = "floor: the same messages, SendMessageBatch alone";
const SEALED_FLOOR: &str =
    "floor: the same messages, each sealed (GenerateMac), then SendMessageBatch";

/// Members with complete chains of their own, one in this many.
const OWN_CHAINS_EVERY: usize = 100;

fn settings(publish: Publish) -> RunSettings {
    RunSettings {
        regions: Some(vec!["us-east-1".to_string()]),
        controls: controls::select("default").unwrap(),
        securityhub_region: Some("us-east-1".to_string()),
        publish,
        cis_version: CisVersion::newest(),
    }
}

/// Resident memory of this process now, in KiB (`VmRSS`).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples the resident memory every 5 ms until the returned guard is finished; the peak above
/// what the process held when sampling started.
struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
    before: u64,
}

impl Sampler {
    fn start() -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let before = rss_kib();
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib());
                std::thread::sleep(Duration::from_millis(5));
            }
            peak.max(rss_kib())
        });
        Sampler {
            stop,
            thread,
            before,
        }
    }

    /// The peak growth, in MiB.
    fn finish(self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        let peak = self.thread.join().unwrap_or(0);
        peak.saturating_sub(self.before) as f64 / 1024.0
    }
}

/// What one measured run gave.
struct Measured {
    label: String,
    accounts: usize,
    wall: Duration,
    calls: BTreeMap<String, u64>,
    members: usize,
    peak_growth_mib: f64,
    judged: usize,
}

/// An organization of `members` accounts seeded as the bench describes.
async fn organization(members: usize) -> (Organization, Vec<String>) {
    let (management, ids) = Organization::create_ids(members).await;
    seed_management(&management, &ids[0]).await;
    for id in ids.iter().step_by(OWN_CHAINS_EVERY) {
        let member = shared_server().account(id).await;
        let pattern = controls::control("cloudtrail-changes")
            .and_then(|control| control.required_pattern())
            .unwrap();
        member.seed_chain(&ChainSpec::new("own", pattern)).await;
    }
    let organization = Organization {
        management,
        members: Vec::new(),
    };
    (organization, ids)
}

async fn organization_run(label: &str, organization: &Organization, publish: Publish) -> Measured {
    let org = OrgSettings {
        role: MemberRole {
            name: MEMBER_ROLE.to_string(),
            external_id: None,
        },
        accounts: None,
        exclude: Default::default(),
        max_in_flight: 32,
    };
    let calls = Mutex::new(BTreeMap::<String, u64>::new());
    let judged = AtomicUsize::new(0);
    let sampler = Sampler::start();
    let started = Instant::now();
    let (summary, _) = run_organization(
        &organization.management.sdk,
        &settings(publish),
        &org,
        &|done| {
            let Some(run) = done.run else { return };
            if run.scan.snapshot.account_id == organization.management.id {
                return;
            }
            judged.fetch_add(
                usize::from(!run.scan.findings.is_empty()),
                Ordering::Relaxed,
            );
            let mut calls = calls.lock().unwrap();
            for (operation, count) in &run.scan.snapshot.api_calls_by_operation {
                *calls.entry(operation.clone()).or_default() += count;
            }
            if let Some(Ok(report)) = &run.published {
                *calls
                    .entry("securityhub:GetFindings".to_string())
                    .or_default() += report.get_findings_calls as u64;
                *calls
                    .entry("securityhub:BatchImportFindings".to_string())
                    .or_default() += report.import_calls as u64;
            }
        },
        &|_| {},
    )
    .await
    .expect("organization run");
    let wall = started.elapsed();
    let scanned = summary
        .reports
        .iter()
        .filter(|report| {
            report.account_id != organization.management.id
                && matches!(report.outcome, Outcome::Scanned { .. })
        })
        .count();
    let mut calls = calls.into_inner().unwrap();
    // One AssumeRole per member, by the scanning account's own STS client.
    calls.insert("sts:AssumeRole".to_string(), scanned as u64);
    Measured {
        label: label.to_string(),
        accounts: summary.accounts,
        wall,
        calls,
        members: scanned,
        peak_growth_mib: sampler.finish(),
        judged: judged.into_inner(),
    }
}

/// The baseline: each member scanned on its own, one after the other, with its own credentials
/// (as `trailwatch scan` in a loop over the accounts would).
async fn baseline(ids: &[String]) -> Measured {
    let mut calls = BTreeMap::<String, u64>::new();
    let mut judged = 0;
    let sampler = Sampler::start();
    let started = Instant::now();
    for id in ids {
        let member = shared_server().account(id).await;
        *calls.entry("sts:AssumeRole".to_string()).or_default() += 1;
        let run = trailwatch::run::run_account(&member.sdk, &settings(Publish::Off))
            .await
            .expect("single-account run");
        for (operation, count) in &run.scan.snapshot.api_calls_by_operation {
            *calls.entry(operation.clone()).or_default() += count;
        }
        // An organization-trail-only member is not judged: its chain is in another account.
        judged += usize::from(run.scan.findings.iter().any(|finding| {
            finding.status != trailwatch::model::findings::ComplianceStatus::NotAvailable
        }));
    }
    Measured {
        label: SCANS_BASELINE.to_string(),
        accounts: ids.len(),
        wall: started.elapsed(),
        calls,
        members: ids.len(),
        peak_growth_mib: sampler.finish(),
        judged,
    }
}

fn print(runs: &[Measured]) {
    let base = runs
        .iter()
        .find(|run| run.label == SCANS_BASELINE)
        .map(|run| run.wall.as_secs_f64() / run.members.max(1) as f64);
    println!("| run | accounts | wall | accounts/s | vs baseline (per account) | calls per member | peak RSS growth | members judged |");
    println!("|---|---|---|---|---|---|---|---|");
    for run in runs {
        let per_member: Vec<String> = run
            .calls
            .iter()
            .map(|(operation, count)| {
                format!(
                    "{operation} {:.2}",
                    *count as f64 / run.members.max(1) as f64
                )
            })
            .collect();
        let per_account = run.wall.as_secs_f64() / run.members.max(1) as f64;
        println!(
            "| {} | {} | {:.2} s | {:.0} | {} | {} | {:.1} MiB | {} / {} |",
            run.label,
            run.accounts,
            run.wall.as_secs_f64(),
            run.members as f64 / run.wall.as_secs_f64(),
            base.map_or("—".to_string(), |base| format!(
                "{:.2}×",
                per_account / base
            )),
            per_member.join(", "),
            run.peak_growth_mib,
            run.judged,
            run.members
        );
    }
}

/// What one queueing run gave.
struct Queued {
    label: String,
    accounts: usize,
    wall: Duration,
    /// Bytes of one message body.
    body_bytes: usize,
}

/// A consumer that receives and deletes a queue's messages while a run sends them (see the
/// module's documentation); [`Drain::finish`] stops it once the queue is empty.
struct Drain {
    stop: Arc<AtomicBool>,
    handle: tokio::task::JoinHandle<(usize, usize)>,
}

impl Drain {
    fn start(account: &support::TestAccount, queue_url: &str) -> Drain {
        let client = aws_sdk_sqs::Client::new(&account.sdk);
        let queue_url = queue_url.to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let handle = tokio::spawn(async move {
            let (mut drained, mut body_bytes) = (0, 0);
            loop {
                let received = client
                    .receive_message()
                    .queue_url(&queue_url)
                    .max_number_of_messages(10)
                    .send()
                    .await
                    .expect("sqs:ReceiveMessage");
                let messages = received.messages();
                if messages.is_empty() {
                    if stopping.load(Ordering::Relaxed) {
                        return (drained, body_bytes);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                body_bytes = messages[0].body().unwrap_or_default().len();
                let entries = messages
                    .iter()
                    .enumerate()
                    .map(|(n, message)| {
                        aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                            .id(n.to_string())
                            .receipt_handle(message.receipt_handle().unwrap_or_default())
                            .build()
                            .expect("entry")
                    })
                    .collect();
                client
                    .delete_message_batch()
                    .queue_url(&queue_url)
                    .set_entries(Some(entries))
                    .send()
                    .await
                    .expect("sqs:DeleteMessageBatch");
                drained += messages.len();
            }
        });
        Drain { stop, handle }
    }

    /// Messages drained, and one body's size.
    async fn finish(self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.await.expect("drain task")
    }
}

/// The function's timeout in template.yaml.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(600);

/// The configuration template.yaml gives an organization stack, with `stack`'s queue and key.
fn stack_config(stack: &ScanStack) -> Config {
    Config::from_lookup(|name| match name {
        ENV_ORGANIZATION => Some("true".to_string()),
        ENV_QUEUE_URL => Some(stack.queue.clone()),
        ENV_MESSAGE_KEY => Some(stack.key.clone()),
        ENV_MEMBER_ROLE_NAME => Some(MEMBER_ROLE.to_string()),
        ENV_REGIONS | ENV_SECURITYHUB_REGION => Some("us-east-1".to_string()),
        _ => None,
    })
    .expect("an organization stack's configuration")
}

/// The coordinator of an organization stack in `organization`'s management account, on a fresh
/// queue: everything a scheduled invocation does.
async fn coordinator_run(label: &str, organization: &Organization, members: usize) -> Queued {
    let management = &organization.management;
    let stack = create_stack(management).await;
    let config = stack_config(&stack);
    let scheduled = Invocation::Scheduled {
        time: None,
        rule: None,
    };
    let settings = trailwatch::lambda::resolve(&config, &scheduled).expect("settings");
    let org = config.organization.as_ref().expect("an organization stack");
    let drain = Drain::start(management, &stack.queue);
    let started = Instant::now();
    let summary = fanout::coordinate(&management.sdk, org, "scheduled", &settings, None, None)
        .await
        .expect("coordinator run");
    let wall = started.elapsed();
    assert_eq!(
        summary.messages_sent, members,
        "{:?}",
        summary.messages_failed
    );
    let (drained, body_bytes) = drain.finish().await;
    assert_eq!(drained, members);
    delete_queue(management, &stack).await;
    Queued {
        label: label.to_string(),
        accounts: members,
        wall,
        body_bytes,
    }
}

/// A floor: `members` messages of `body_bytes` bytes sent with SendMessageBatch alone, 10 a
/// call, one call at a time, on a fresh queue; with `sealed`, the bodies are first sealed with
/// the stack's key as the coordinator seals them — [`fanout::SEALS_IN_FLIGHT`] at once, the
/// next batch's seals running while a batch is sent — the MAC sent as the message attribute.
async fn queue_floor(
    organization: &Organization,
    members: usize,
    body_bytes: usize,
    sealed: bool,
) -> Queued {
    let management = &organization.management;
    let stack = create_stack(management).await;
    let client = aws_sdk_sqs::Client::new(&management.sdk);
    let key = MessageKey::new(&management.sdk, &stack.key);
    let key = &key;
    let drain = Drain::start(management, &stack.queue);
    let started = Instant::now();
    // Bodies differ (as the coordinator's do), so that no seal is a repeat.
    let mut batches = stream::iter(0..members)
        .map(|n| async move {
            let body = format!("{n:0width$}", width = body_bytes);
            let mac = if sealed {
                Some(key.seal(&body).await.expect("kms:GenerateMac"))
            } else {
                None
            };
            (body, mac)
        })
        .buffered(fanout::SEALS_IN_FLIGHT)
        .chunks(10);
    while let Some(batch) = batches.next().await {
        let entries = batch
            .into_iter()
            .enumerate()
            .map(|(n, (body, mac))| {
                let attribute = mac.map(|mac| {
                    aws_sdk_sqs::types::MessageAttributeValue::builder()
                        .data_type(mac::MAC_DATA_TYPE)
                        .string_value(mac)
                        .build()
                        .unwrap()
                });
                aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                    .id(n.to_string())
                    .message_body(body)
                    .set_message_attributes(
                        attribute.map(|value| [(mac::MAC_ATTRIBUTE.to_string(), value)].into()),
                    )
                    .build()
                    .unwrap()
            })
            .collect();
        let output = client
            .send_message_batch()
            .queue_url(&stack.queue)
            .set_entries(Some(entries))
            .send()
            .await
            .expect("sqs:SendMessageBatch");
        assert!(output.failed().is_empty());
    }
    let wall = started.elapsed();
    assert_eq!(drain.finish().await.0, members);
    delete_queue(management, &stack).await;
    Queued {
        label: if sealed { SEALED_FLOOR } else { SEND_FLOOR }.to_string(),
        accounts: members,
        wall,
        body_bytes,
    }
}

/// Deletes a run's queue and what is left in it: each run starts from an empty queue.
async fn delete_queue(account: &support::TestAccount, stack: &ScanStack) {
    aws_sdk_sqs::Client::new(&account.sdk)
        .delete_queue()
        .queue_url(&stack.queue)
        .send()
        .await
        .expect("sqs:DeleteQueue");
}

fn print_queued(runs: &[Queued]) {
    let base = runs
        .iter()
        .find(|run| run.label == SEND_FLOOR)
        .map(|run| run.wall.as_secs_f64() / run.accounts.max(1) as f64);
    let budget = (FUNCTION_TIMEOUT - fanout::QUEUE_MARGIN).as_secs_f64();
    println!("| run | accounts | message bytes | wall | accounts/s | vs SendMessageBatch alone (per account) | accounts queued in {budget:.0} s at this rate |");
    println!("|---|---|---|---|---|---|---|");
    for run in runs {
        let per_account = run.wall.as_secs_f64() / run.accounts.max(1) as f64;
        println!(
            "| {} | {} | {} | {:.2} s | {:.0} | {} | {:.0} |",
            run.label,
            run.accounts,
            run.body_bytes,
            run.wall.as_secs_f64(),
            run.accounts as f64 / run.wall.as_secs_f64(),
            base.map_or("—".to_string(), |base| format!(
                "{:.2}×",
                per_account / base
            )),
            budget / per_account
        );
    }
}

/// The coordinator at `members` and at a quarter of them, and its two floors.
async fn coordinator_bench(members: usize) {
    let quarter = (members / 4).max(1);
    eprintln!("coordinator bench: seeding {quarter} and {members} member accounts…");
    let (small, _) = organization(quarter).await;
    let (large, _) = organization(members).await;
    let mut runs = vec![
        coordinator_run(&format!("coordinator, {quarter} members"), &small, quarter).await,
        coordinator_run(&format!("coordinator, {members} members"), &large, members).await,
    ];
    let body_bytes = runs[1].body_bytes;
    runs.push(queue_floor(&large, members, body_bytes, false).await);
    runs.push(queue_floor(&large, members, body_bytes, true).await);
    print_queued(&runs);
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs the bench without it, as a
    // smoke test of a small organization (as criterion's benches do in test mode).
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let members: usize = match std::env::var("TRAILWATCH_BENCH_ACCOUNTS") {
        Ok(n) => n
            .parse()
            .expect("TRAILWATCH_BENCH_ACCOUNTS: a number of member accounts"),
        Err(_) if measuring => 1000,
        Err(_) => 4,
    };
    let with_baseline =
        measuring && std::env::var("TRAILWATCH_BENCH_BASELINE").as_deref() != Ok("0");
    let coordinator_members: usize = match std::env::var("TRAILWATCH_BENCH_COORDINATOR_ACCOUNTS") {
        Ok(n) => n
            .parse()
            .expect("TRAILWATCH_BENCH_COORDINATOR_ACCOUNTS: a number of member accounts"),
        Err(_) if measuring => 10_000,
        Err(_) => 4,
    };
    let scans = std::env::var("TRAILWATCH_BENCH_COORDINATOR_ONLY").as_deref() != Ok("1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 << 20)
        .build()
        .unwrap();
    runtime.block_on(async {
        if !scans {
            return;
        }
        let quarter = (members / 4).max(1);
        eprintln!("organization bench: seeding {quarter} and {members} member accounts…");
        let (small, _) = organization(quarter).await;
        let (large, ids) = organization(members).await;
        let mut runs = vec![
            organization_run(
                &format!("organization, {quarter} members, --output only"),
                &small,
                Publish::Off,
            )
            .await,
            organization_run(
                &format!("organization, {members} members, --output only"),
                &large,
                Publish::Off,
            )
            .await,
            organization_run(
                &format!("organization, {members} members, --publish"),
                &large,
                Publish::Import,
            )
            .await,
        ];
        if with_baseline {
            runs.push(baseline(&ids).await);
        }
        print(&runs);
    });
    runtime.block_on(coordinator_bench(coordinator_members));
}
