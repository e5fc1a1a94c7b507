//! The one pipeline both faces run: settings resolved once → collect → evaluate → ASFF →
//! publish → summary.
//!
//! The CLI (`trailwatch scan`) and the Lambda handler resolve their inputs (flags, environment,
//! invocation event) into [`RunSettings`] and call [`run_account`]; everything after that is the
//! same code: which Security Hub region, which findings go there, whether stale findings are
//! archived, and the [`RunSummary`] they report.

pub mod org;
mod summary;

pub use summary::{ApiCalls, RunSummary};

use crate::collect::{collect_with, CollectError, CollectPlan, Reach};
use crate::controls::{self, CisVersion, Control};
use crate::model::findings::Finding;
use crate::model::snapshot::{ReadError, RegionSource, Snapshot};
use crate::securityhub::asff::{self, AsffContext, AsffFinding, UnknownControl};
use crate::securityhub::scope::Scope;
use crate::securityhub::{
    self, HeldRead, PublishError, PublishOptions, PublishReport, PublishTarget,
};
use std::time::{Duration, Instant};

/// What one run does, resolved once from a face's inputs.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// Regions whose trails are listed; `None`: the account's enabled regions.
    pub regions: Option<Vec<String>>,
    pub controls: Vec<&'static Control>,
    /// The benchmark version whose patterns are required and whose requirements are reported.
    pub cis_version: CisVersion,
    /// Where findings are imported; `None`: see [`securityhub_region`].
    pub securityhub_region: Option<String>,
    pub publish: Publish,
}

/// Whether and how a run writes to Security Hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// Not at all (the CLI without `--publish`).
    Off,
    /// Read Security Hub and plan the batches, import nothing.
    DryRun,
    /// Import the findings.
    Import,
}

/// Region names, trimmed, checked for shape (`eu-west-1`, `us-gov-west-1`, …), without blanks
/// or repeats, in the given order. `Err` names the first malformed name, or says none was given.
pub fn region_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut regions: Vec<String> = Vec::new();
    for name in names
        .into_iter()
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        let well_formed = name.contains('-')
            && name.ends_with(|c: char| c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !well_formed {
            return Err(format!("{name:?} is not a region name (like eu-west-1)"));
        }
        if !regions.iter().any(|region| region == name) {
            regions.push(name.to_string());
        }
    }
    if regions.is_empty() {
        return Err("no region given".to_string());
    }
    Ok(regions)
}

/// A failure that leaves a run with nothing to report.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("scan failed: {0}")]
    Collect(#[from] CollectError),
    #[error("the organization's accounts could not be listed ({} in {}: {}); run the organization scan with the management account's credentials, or a delegated administrator's", .0.operation, .0.region, .0.message)]
    Organization(Box<ReadError>),
    #[error("no Security Hub region: configure one, or set AWS_REGION")]
    NoSecurityHubRegion,
    #[error(transparent)]
    Asff(#[from] UnknownControl),
}

/// What a scan read and decided, before anything goes to Security Hub.
#[derive(Debug)]
pub struct ScanOutcome {
    pub snapshot: Snapshot,
    pub findings: Vec<Finding>,
    pub duration: Duration,
}

/// Collects the account of `sdk`'s credentials and evaluates `controls` on it, as `cis_version`
/// defines them.
pub async fn scan_account(
    sdk: &aws_config::SdkConfig,
    plan: &CollectPlan,
    controls: &[&'static Control],
    cis_version: CisVersion,
) -> Result<ScanOutcome, CollectError> {
    scan_account_with(sdk, plan, controls, cis_version, Reach::default()).await
}

/// [`scan_account`] with what an organization scan knows and can reach.
pub async fn scan_account_with(
    sdk: &aws_config::SdkConfig,
    plan: &CollectPlan,
    controls: &[&'static Control],
    cis_version: CisVersion,
    reach: Reach<'_>,
) -> Result<ScanOutcome, CollectError> {
    let started = Instant::now();
    let snapshot = collect_with(sdk, plan, reach).await?;
    let findings = controls::evaluate(&snapshot, controls, cis_version);
    Ok(ScanOutcome {
        snapshot,
        findings,
        duration: started.elapsed(),
    })
}

/// One account's run, end to end.
#[derive(Debug)]
pub struct AccountRun {
    pub scan: ScanOutcome,
    /// The findings as they go to Security Hub (and to `--output`).
    pub asff: Vec<AsffFinding>,
    pub securityhub_region: String,
    /// `None` when the run does not publish; an `Err` when Security Hub could not be read (nothing
    /// was imported then, and the findings above are all the run has).
    pub published: Option<Result<PublishReport, PublishError>>,
    pub duration: Duration,
}

/// The Security Hub region of a run: the one configured, else the SDK configuration's region,
/// else the first region scanned.
pub fn securityhub_region(
    configured: Option<&str>,
    sdk: &aws_config::SdkConfig,
    snapshot: &Snapshot,
) -> Option<String> {
    configured
        .map(str::to_string)
        .or_else(|| sdk.region().map(|region| region.to_string()))
        .or_else(|| snapshot.regions.first().cloned())
}

/// What a run over `snapshot` owns in Security Hub: its controls, its account, and the regions
/// whose trails it listed.
pub fn scope_of(settings: &RunSettings, snapshot: &Snapshot) -> Scope {
    let unlisted = snapshot.unlisted_regions();
    Scope {
        controls: settings
            .controls
            .iter()
            .map(|control| control.id.to_string())
            .collect(),
        accounts: [snapshot.account_id.clone()].into(),
        regions: snapshot
            .regions
            .iter()
            .filter(|region| !unlisted.contains(region))
            .cloned()
            .collect(),
    }
}

/// Scans the account of `sdk`'s credentials, converts the findings to ASFF and publishes them
/// as `settings` say.
pub async fn run_account(
    sdk: &aws_config::SdkConfig,
    settings: &RunSettings,
) -> Result<AccountRun, RunError> {
    run_account_with(sdk, settings, Reach::default()).await
}

/// [`run_account`] with what an organization scan knows and can reach.
pub async fn run_account_with(
    sdk: &aws_config::SdkConfig,
    settings: &RunSettings,
    reach: Reach<'_>,
) -> Result<AccountRun, RunError> {
    let started = Instant::now();
    let plan = CollectPlan::for_controls(settings.regions.clone(), &settings.controls);
    // Boxed: the collect and publish futures are large, and the faces nest them further.
    let scan = Box::pin(scan_account_with(
        sdk,
        &plan,
        &settings.controls,
        settings.cis_version,
        reach,
    ))
    .await?;
    publish_scan(sdk, settings, scan, started).await
}

/// The rest of a run over a scan already made: ASFF, then publish (or plan) as `settings` say,
/// owning only `settings.controls` (see [`scope_of`]). The event-driven re-check
/// ([`crate::lambda::recheck`]) evaluates fewer controls than it collected for, and publishes
/// through here so its scope is exactly the controls it re-evaluated.
pub async fn publish_scan(
    sdk: &aws_config::SdkConfig,
    settings: &RunSettings,
    scan: ScanOutcome,
    started: Instant,
) -> Result<AccountRun, RunError> {
    let snapshot = &scan.snapshot;
    if let RegionSource::KnownRegions { reason } = &snapshot.region_source {
        tracing::warn!(account_id = %snapshot.account_id, %reason, "scan scope guessed");
    }
    let unlisted = snapshot.unlisted_regions();
    if !unlisted.is_empty() {
        tracing::warn!(account_id = %snapshot.account_id, regions = ?unlisted, "trails not listed; those regions' findings are kept as they are");
    }
    let region = securityhub_region(settings.securityhub_region.as_deref(), sdk, snapshot)
        .ok_or(RunError::NoSecurityHubRegion)?;
    let context = AsffContext {
        region: region.clone(),
        observed_at: securityhub::plan::now_rfc3339(),
        cis_version: settings.cis_version,
        first_steps: trailwatch_core::remediate::first_steps(
            &scan.snapshot,
            &scan.findings,
            &settings.controls,
            settings.cis_version,
        ),
    };
    let asff = asff::from_findings(&scan.findings, &context)?;
    let target = PublishTarget {
        account_id: snapshot.account_id.clone(),
        partition: snapshot.partition.clone(),
        region: region.clone(),
    };
    let scope = scope_of(settings, snapshot);
    let published = publish(sdk, settings.publish, &target, asff.clone(), scope).await;
    Ok(AccountRun {
        scan,
        asff,
        securityhub_region: region,
        published,
        duration: started.elapsed(),
    })
}

/// Publishes (or plans) `findings` into `target`'s Security Hub with `sdk`'s credentials, owning
/// `scope`; `None` when the run does not publish.
pub async fn publish(
    sdk: &aws_config::SdkConfig,
    mode: Publish,
    target: &PublishTarget,
    findings: Vec<AsffFinding>,
    scope: Scope,
) -> Option<Result<PublishReport, PublishError>> {
    publish_reading(sdk, mode, target, findings, scope, HeldRead::All).await
}

/// [`publish`], reading back only the held findings `held` names.
pub async fn publish_reading(
    sdk: &aws_config::SdkConfig,
    mode: Publish,
    target: &PublishTarget,
    findings: Vec<AsffFinding>,
    scope: Scope,
    held: HeldRead,
) -> Option<Result<PublishReport, PublishError>> {
    if mode == Publish::Off {
        return None;
    }
    let client = aws_sdk_securityhub::Client::from_conf(
        aws_sdk_securityhub::config::Builder::from(sdk)
            .region(aws_config::Region::new(target.region.clone()))
            .build(),
    );
    let options = PublishOptions {
        dry_run: mode == Publish::DryRun,
        scope: Some(scope),
        held,
        ..PublishOptions::default()
    };
    // Boxed: the publish future is large, and the faces nest it further.
    Some(Box::pin(securityhub::publish(&client, target, findings, &options)).await)
}

/// Every trailwatch finding `target`'s Security Hub holds, read with `sdk`'s credentials.
pub async fn held_findings(
    sdk: &aws_config::SdkConfig,
    target: &PublishTarget,
) -> Result<Vec<AsffFinding>, PublishError> {
    let client = aws_sdk_securityhub::Client::from_conf(
        aws_sdk_securityhub::config::Builder::from(sdk)
            .region(aws_config::Region::new(target.region.clone()))
            .build(),
    );
    securityhub::read::held(&client, target).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn region_names_are_checked_and_deduplicated() {
        assert_eq!(
            region_names(["eu-west-1", " us-east-1", "", "eu-west-1"]),
            Ok(regions(&["eu-west-1", "us-east-1"]))
        );
        assert_eq!(
            region_names(["us-gov-west-1"]),
            Ok(regions(&["us-gov-west-1"]))
        );
        for bad in ["Mars", "EU", "eu west 1", "eu-west"] {
            let error = region_names([bad]).unwrap_err();
            assert!(error.contains("is not a region name"), "{bad}: {error}");
        }
        assert_eq!(region_names([" ", ""]), Err("no region given".to_string()));
    }
}
