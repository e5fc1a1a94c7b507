//! The run summary both faces report: the Lambda returns and logs it as JSON, the CLI prints it.

use super::{AccountRun, RunSettings};
use crate::model::findings::StatusCounts;
use crate::model::snapshot::RegionSource;
use crate::securityhub::scope::Scope;
use crate::securityhub::FailedFinding;
use serde::{Deserialize, Serialize};

/// API calls one run made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCalls {
    /// Made by the scan (collect).
    pub scan: u64,
    pub get_findings: u64,
    pub batch_import_findings: u64,
    pub total: u64,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// What started the run: `scheduled`, `direct` (Lambda) or `cli`.
    pub trigger: String,
    pub account_id: String,
    pub partition: String,
    /// The regions scanned, and how they were chosen (a guessed scope says why).
    pub regions: Vec<String>,
    pub region_source: RegionSource,
    /// Regions whose trails could not be listed: their trails were not checked.
    pub regions_unlisted: Vec<String>,
    pub controls: Vec<String>,
    pub securityhub_region: String,
    pub dry_run: bool,
    /// Findings of this run, per compliance status.
    pub findings: StatusCounts,
    /// Reads that failed during the scan (their findings are NOT_AVAILABLE).
    pub read_errors: usize,
    pub api_calls: ApiCalls,
    /// Findings of this run Security Hub took (0 in a dry run).
    pub published: usize,
    /// Stale findings archived (0 in a dry run).
    pub archived: usize,
    /// Findings that failed every attempt.
    pub failed: usize,
    pub failed_ids: Vec<String>,
    pub failures: Vec<FailedFinding>,
    /// What the run owns in Security Hub: the held findings of this scope it no longer produced
    /// were archived (see [`crate::securityhub::scope`]).
    pub scope: Scope,
    /// Findings new to Security Hub / updating a held one / held but no longer produced.
    pub new: usize,
    pub updated: usize,
    pub stale: usize,
    /// Import batches (planned ones in a dry run).
    pub batches: usize,
    pub duration_ms: u64,
    pub scan_duration_ms: u64,
}

impl RunSummary {
    /// The summary of a run; `published` must be `Some(Ok)` or `None` (a failed publish is the
    /// face's error to report, not a summary).
    pub fn new(trigger: &str, settings: &RunSettings, run: &AccountRun) -> Self {
        let snapshot = &run.scan.snapshot;
        let report = run
            .published
            .as_ref()
            .and_then(|published| published.as_ref().ok());
        let get_findings = report.map_or(0, |report| report.get_findings_calls as u64);
        let batch_import_findings = report.map_or(0, |report| report.import_calls as u64);
        let count = |pick: fn(&crate::securityhub::PublishReport) -> usize| report.map_or(0, pick);
        RunSummary {
            trigger: trigger.to_string(),
            account_id: snapshot.account_id.clone(),
            partition: snapshot.partition.clone(),
            regions: snapshot.regions.clone(),
            region_source: snapshot.region_source.clone(),
            regions_unlisted: snapshot.unlisted_regions(),
            controls: settings
                .controls
                .iter()
                .map(|control| control.id.to_string())
                .collect(),
            securityhub_region: run.securityhub_region.clone(),
            dry_run: report.is_some_and(|report| report.dry_run),
            findings: StatusCounts::of(&run.scan.findings),
            read_errors: snapshot.failed_reads().len(),
            api_calls: ApiCalls {
                scan: snapshot.api_calls,
                get_findings,
                batch_import_findings,
                total: snapshot.api_calls + get_findings + batch_import_findings,
            },
            published: count(|report| report.imported - report.archived),
            archived: count(|report| report.archived),
            failed: count(|report| report.failed.len()),
            failed_ids: report.map(|report| report.failed_ids()).unwrap_or_default(),
            failures: report
                .map(|report| report.failed.clone())
                .unwrap_or_default(),
            scope: super::scope_of(settings, snapshot),
            new: count(|report| report.new),
            updated: count(|report| report.updated),
            stale: count(|report| report.stale),
            batches: count(|report| report.batches),
            duration_ms: run.duration.as_millis() as u64,
            scan_duration_ms: run.scan.duration.as_millis() as u64,
        }
    }
}
