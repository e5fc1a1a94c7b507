//! The one pipeline both faces run: settings resolved once → collect → evaluate → ASFF →
//! publish → summary.
//!
//! The CLI (`trailwatch scan`) and the Lambda handler resolve their inputs (flags, environment,
//! invocation event) into [`RunSettings`] and call [`run_account`]; everything after that is the
//! same code: which Security Hub region, which findings go there, whether stale findings are
//! archived, and the [`RunSummary`] they report.

mod summary;

pub use summary::{ApiCalls, RunSummary};

use crate::collect::{collect, CollectError, CollectPlan};
use crate::controls::{self, CisVersion, Control};
use crate::model::findings::Finding;
use crate::model::snapshot::Snapshot;
use crate::securityhub::asff::{self, AsffContext, AsffFinding, UnknownControl};
use crate::securityhub::{self, PublishError, PublishOptions, PublishReport, PublishTarget};
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
    /// Archive held findings this run no longer produces (see [`covers_baseline`]).
    pub archive_stale: bool,
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

/// Whether a run covers its face's baseline scope — every baseline control, and the baseline
/// regions — so that a finding it no longer produces really is gone. Only such a run archives; a
/// run narrowed to fewer controls or other regions says nothing about the findings outside them.
pub fn covers_baseline(
    controls: &[&Control],
    regions: Option<&[String]>,
    baseline_controls: &[&Control],
    baseline_regions: Option<&[String]>,
) -> bool {
    let same_regions = match (regions, baseline_regions) {
        (None, None) => true,
        (Some(regions), Some(baseline)) => {
            regions.len() == baseline.len() && baseline.iter().all(|r| regions.contains(r))
        }
        _ => false,
    };
    same_regions
        && baseline_controls
            .iter()
            .all(|wanted| controls.iter().any(|control| control.id == wanted.id))
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
    let started = Instant::now();
    let snapshot = collect(sdk, plan).await?;
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

/// Scans the account of `sdk`'s credentials, converts the findings to ASFF and publishes them
/// as `settings` say.
pub async fn run_account(
    sdk: &aws_config::SdkConfig,
    settings: &RunSettings,
) -> Result<AccountRun, RunError> {
    let started = Instant::now();
    let plan = CollectPlan::for_controls(settings.regions.clone(), &settings.controls);
    // Boxed: the collect and publish futures are large, and the faces nest them further.
    let scan = Box::pin(scan_account(
        sdk,
        &plan,
        &settings.controls,
        settings.cis_version,
    ))
    .await?;
    let snapshot = &scan.snapshot;
    let region = securityhub_region(settings.securityhub_region.as_deref(), sdk, snapshot)
        .ok_or(RunError::NoSecurityHubRegion)?;
    let context = AsffContext {
        region: region.clone(),
        observed_at: securityhub::plan::now_rfc3339(),
        cis_version: settings.cis_version,
    };
    let asff = asff::from_findings(&scan.findings, &context)?;
    let published = match settings.publish {
        Publish::Off => None,
        Publish::DryRun | Publish::Import => {
            let target = PublishTarget {
                account_id: snapshot.account_id.clone(),
                partition: snapshot.partition.clone(),
                region: region.clone(),
            };
            let client = aws_sdk_securityhub::Client::from_conf(
                aws_sdk_securityhub::config::Builder::from(sdk)
                    .region(aws_config::Region::new(region.clone()))
                    .build(),
            );
            let options = PublishOptions {
                dry_run: settings.publish == Publish::DryRun,
                archive_stale: settings.archive_stale,
                ..PublishOptions::default()
            };
            Some(
                Box::pin(securityhub::publish(
                    &client,
                    &target,
                    asff.clone(),
                    &options,
                ))
                .await,
            )
        }
    };
    Ok(AccountRun {
        scan,
        asff,
        securityhub_region: region,
        published,
        duration: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(ids: &[&str]) -> Vec<&'static Control> {
        ids.iter()
            .map(|id| controls::control(id).unwrap())
            .collect()
    }

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

    #[test]
    fn a_run_covers_its_baseline_by_sets_not_spelling() {
        let defaults = ids(controls::DEFAULT_CONTROLS);
        let mut reordered = defaults.clone();
        reordered.reverse();
        assert!(covers_baseline(&reordered, None, &defaults, None));
        let all: Vec<&Control> = controls::catalog().iter().collect();
        assert!(covers_baseline(&all, None, &defaults, None));
        assert!(!covers_baseline(
            &ids(&["cloudtrail-changes"]),
            None,
            &defaults,
            None
        ));
        let eu = regions(&["eu-west-1"]);
        assert!(!covers_baseline(&defaults, Some(&eu), &defaults, None));
        let configured = regions(&["eu-west-1", "us-east-1"]);
        let same = regions(&["us-east-1", "eu-west-1"]);
        assert!(covers_baseline(
            &defaults,
            Some(&same),
            &defaults,
            Some(&configured)
        ));
        assert!(!covers_baseline(
            &defaults,
            Some(&eu),
            &defaults,
            Some(&configured)
        ));
        assert!(!covers_baseline(&defaults, None, &defaults, Some(&eu)));
    }
}
