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

// The emulator harness of the integration tests, shared rather than copied; the bench uses only
// part of it.
#[allow(dead_code, unused_imports)]
#[path = "../tests/emulator/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::org::{seed_management, Organization, MEMBER_ROLE};
use support::{shared_server, ChainSpec};
use trailwatch::collect::access::MemberRole;
use trailwatch::controls::{self, CisVersion};
use trailwatch::run::org::{run_organization, OrgSettings, Outcome};
use trailwatch::run::{Publish, RunSettings};

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
        label: "baseline: single-account scans in a loop".to_string(),
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
        .find(|run| run.label.starts_with("baseline"))
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 << 20)
        .build()
        .unwrap();
    runtime.block_on(async {
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
}
