//! The organization run: every active account of an AWS Organization, from the management
//! account (or a delegated administrator).
//!
//! 1. [`prepare`]: the scanning account's identity, the organization's accounts (ListAccounts,
//!    every page), which of them to scan ([`plan_accounts`]), and a scan of the scanning account
//!    itself with its own credentials — which reads the organization trails' chains once
//!    ([`SharedChains`]), following a log group into another account through its member role.
//! 2. [`scan_member`] for each other account, at most `max_in_flight` at once: assume its member
//!    role, collect what it alone has (its trails; the organization trails' chains come from
//!    step 1), evaluate it on the records delivered for it, publish into its own Security Hub.
//! 3. [`coverage_findings`]: every account that could not be scanned gets a finding in the
//!    scanning account's Security Hub, archived once the account scans cleanly again, or once it
//!    is no longer one to scan ([`retired_coverage`]).
//!
//! The CLI runs all three in one process ([`run_organization`]); the Lambda runs step 1 as the
//! coordinator and step 2 in the workers its SQS queue triggers.

use super::{
    publish, publish_reading, publish_scan, run_account_with, AccountRun, Publish, RunError,
    RunSettings, RunSummary, ScanOutcome,
};
use crate::collect::access::{MemberRole, Roles};
use crate::collect::organization::{self, MemberState, OrgAccount};
use crate::collect::Reach;
use crate::controls::scan_coverage::SCAN_COVERAGE;
use crate::controls::CisVersion;
use crate::model::findings::{ComplianceStatus, Evidence, Finding, ResourceKind, ResourceRef};
use crate::model::missing::MissingLink;
use crate::model::snapshot::{ReadError, SharedChains};
use crate::securityhub::asff::{self, AsffContext, AsffFinding};
use crate::securityhub::scope::Scope;
use crate::securityhub::{plan, HeldRead, PublishError, PublishReport, PublishTarget};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::time::Instant;

/// How an organization run picks and reaches its accounts.
#[derive(Debug, Clone)]
pub struct OrgSettings {
    pub role: MemberRole,
    /// Scan only these accounts (`--accounts`); `None`: every account.
    pub accounts: Option<BTreeSet<String>>,
    /// Never scan these (`--exclude-accounts`).
    pub exclude: BTreeSet<String>,
    /// Accounts scanned at once.
    pub max_in_flight: usize,
}

/// The control id of the coverage findings.
pub const COVERAGE_ID: &str = SCAN_COVERAGE.id;

/// The default of `--max-accounts-in-flight`: each account's scan keeps its own calls under the
/// per-account API rates, so the bound is the scanning process, not AWS.
pub const DEFAULT_MAX_IN_FLIGHT: u16 = 16;

/// What happened to one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountReport {
    pub account_id: String,
    pub name: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The outcome of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Scanned; the summary says what was found and published.
    Scanned { summary: Box<RunSummary> },
    /// Scanned, but its findings could not be published (Security Hub could not be read).
    PublishFailed {
        summary: Box<RunSummary>,
        reason: String,
        /// Throttling or a network failure: another attempt may publish; otherwise (Security
        /// Hub not enabled, access denied) the account gets a [`SCAN_COVERAGE`] finding.
        transient: bool,
    },
    /// Could not be scanned; `transient` failures (throttling, network) may pass on a retry,
    /// the others get a [`SCAN_COVERAGE`] finding in the scanning account.
    NotScanned { reason: String, transient: bool },
    /// Not active (suspended, closing, …): skipped, no findings.
    Skipped { state: MemberState },
    /// Left out by `--accounts` / `--exclude-accounts`.
    Excluded,
}

impl AccountReport {
    /// The sentence a progress line or log gives for this account.
    pub fn describe(&self) -> String {
        let what = match &self.outcome {
            Outcome::Scanned { summary } => format!(
                "scanned: {} finding(s), {} failed, {} not available; {} API call(s)",
                summary.findings.passed
                    + summary.findings.failed
                    + summary.findings.warning
                    + summary.findings.not_available,
                summary.findings.failed,
                summary.findings.not_available,
                summary.api_calls.total
            ),
            Outcome::PublishFailed { reason, .. } => {
                format!("scanned, but not published: {reason}")
            }
            Outcome::NotScanned { reason, .. } => format!("not scanned: {reason}"),
            Outcome::Skipped { state } => format!("skipped: {}", state.as_str()),
            Outcome::Excluded => "excluded".to_string(),
        };
        format!("account {} ({}) {what}", self.account_id, self.name)
    }
}

/// Which accounts of `accounts` to scan, and the reports of those left alone: inactive accounts
/// are skipped, and `--accounts` / `--exclude-accounts` narrow the rest. Pure.
pub fn plan_accounts(
    accounts: &[OrgAccount],
    org: &OrgSettings,
) -> (Vec<OrgAccount>, Vec<AccountReport>) {
    let mut scan = Vec::new();
    let mut left = Vec::new();
    for account in accounts {
        let report = |outcome| AccountReport {
            account_id: account.id.clone(),
            name: account.name.clone(),
            outcome,
        };
        let wanted = org
            .accounts
            .as_ref()
            .is_none_or(|only| only.contains(&account.id))
            && !org.exclude.contains(&account.id);
        if !wanted {
            left.push(report(Outcome::Excluded));
        } else if !account.state.is_active() {
            left.push(report(Outcome::Skipped {
                state: account.state,
            }));
        } else {
            scan.push(account.clone());
        }
    }
    // An account asked for by id that the organization does not list is named, not forgotten.
    let listed: BTreeSet<&str> = accounts.iter().map(|account| account.id.as_str()).collect();
    for id in org.accounts.iter().flatten() {
        if !listed.contains(id.as_str()) && !org.exclude.contains(id) {
            left.push(AccountReport {
                account_id: id.clone(),
                name: String::new(),
                outcome: Outcome::NotScanned {
                    reason: "organizations:ListAccounts does not list it: not an account of this organization".to_string(),
                    transient: false,
                },
            });
        }
    }
    (scan, left)
}

/// Step 1 done: who scans, what to scan, and what was read once.
pub struct Prepared {
    pub scanning_account: String,
    pub partition: String,
    pub roles: Roles,
    /// The accounts to scan besides the scanning account.
    pub members: Vec<OrgAccount>,
    /// Reports of the accounts left alone, and of the scanning account's own run.
    pub reports: Vec<AccountReport>,
    /// The scanning account's own run (it publishes only when the account is one to scan).
    pub own_run: AccountRun,
    pub shared: SharedChains,
}

/// Step 1: identity, accounts, plan, and the scanning account's own scan — made here, or
/// `own`: one already made of the account of `sdk`'s credentials for `settings.controls` (a
/// re-check's, which read that account a moment ago to decide that the run is needed), then
/// published as this run's.
pub async fn prepare(
    sdk: &aws_config::SdkConfig,
    settings: &RunSettings,
    org: &OrgSettings,
    own: Option<ScanOutcome>,
) -> Result<Prepared, RunError> {
    let (scanning_account, partition) = match &own {
        Some(scan) => (
            scan.snapshot.account_id.clone(),
            scan.snapshot.partition.clone(),
        ),
        None => crate::collect::identity_of(sdk).await?,
    };
    let accounts = organization::list_accounts(sdk)
        .await
        .map_err(|error| RunError::Organization(Box::new(error)))?;
    let (mut members, mut reports) = plan_accounts(&accounts, org);
    let roles = Roles::new(sdk, &scanning_account, org.role.clone(), &partition);
    let scans_itself = members.iter().any(|account| account.id == scanning_account);
    members.retain(|account| account.id != scanning_account);
    // The scanning account is always read — it holds (or sees) the organization trails — but
    // publishes only when it is one of the accounts to scan.
    let own_settings = RunSettings {
        publish: if scans_itself {
            settings.publish
        } else {
            Publish::Off
        },
        ..settings.clone()
    };
    let reach = Reach {
        account: Some((&scanning_account, &partition)),
        roles: Some(&roles),
        shared: None,
    };
    let own_run = match own {
        Some(scan) => {
            // The run's time is the scan's and its publish's, as when the scan is made here.
            let now = Instant::now();
            let scan_started = now.checked_sub(scan.duration).unwrap_or(now);
            Box::pin(publish_scan(sdk, &own_settings, scan, scan_started)).await?
        }
        None => Box::pin(run_account_with(sdk, &own_settings, reach)).await?,
    };
    let shared = SharedChains::of(&own_run.scan.snapshot);
    if scans_itself {
        let name = accounts
            .iter()
            .find(|account| account.id == scanning_account)
            .map(|account| account.name.clone())
            .unwrap_or_default();
        reports.push(report_of(&scanning_account, &name, settings, &own_run));
    }
    Ok(Prepared {
        scanning_account,
        partition,
        roles,
        members,
        reports,
        own_run,
        shared,
    })
}

/// The report of a finished account run.
fn report_of(
    account_id: &str,
    name: &str,
    settings: &RunSettings,
    run: &AccountRun,
) -> AccountReport {
    let summary = Box::new(RunSummary::new("organization", settings, run));
    let outcome = match &run.published {
        Some(Err(error)) => Outcome::PublishFailed {
            summary,
            reason: error.to_string(),
            transient: error.is_transient(),
        },
        _ => Outcome::Scanned { summary },
    };
    AccountReport {
        account_id: account_id.to_string(),
        name: name.to_string(),
        outcome,
    }
}

/// One member's scan (step 2): its report, and its run when it was scanned.
pub async fn scan_member(
    roles: &Roles,
    partition: &str,
    shared: &SharedChains,
    settings: &RunSettings,
    account: &OrgAccount,
) -> (AccountReport, Option<AccountRun>) {
    scan_member_unless(roles, partition, shared, settings, account, |_| None).await
}

/// [`scan_member`], except that `hold` sees the scan before anything is published: when it
/// gives a reason, nothing is published and the account is reported not scanned (transient,
/// with that reason) — its findings wait for another attempt.
pub async fn scan_member_unless(
    roles: &Roles,
    partition: &str,
    shared: &SharedChains,
    settings: &RunSettings,
    account: &OrgAccount,
    hold: impl FnOnce(&AccountRun) -> Option<String>,
) -> (AccountReport, Option<AccountRun>) {
    let not_scanned = |reason: String, transient: bool| AccountReport {
        account_id: account.id.clone(),
        name: account.name.clone(),
        outcome: Outcome::NotScanned { reason, transient },
    };
    let sdk = match roles.sdk_for(&account.id).await {
        Ok(sdk) => sdk,
        Err(error) => {
            let transient = error.is_transient();
            return (not_scanned(error.to_string(), transient), None);
        }
    };
    let reach = Reach {
        account: Some((&account.id, partition)),
        roles: Some(roles),
        shared: Some(shared),
    };
    let unpublished = RunSettings {
        publish: Publish::Off,
        ..settings.clone()
    };
    match Box::pin(run_account_with(&sdk, &unpublished, reach)).await {
        Err(error) => (not_scanned(error.to_string(), false), None),
        Ok(mut run) => {
            if let Some(reason) = hold(&run) {
                return (not_scanned(reason, true), Some(run));
            }
            let snapshot = &run.scan.snapshot;
            let target = PublishTarget {
                account_id: snapshot.account_id.clone(),
                partition: snapshot.partition.clone(),
                region: run.securityhub_region.clone(),
            };
            let scope = super::scope_of(settings, snapshot);
            run.published = publish(&sdk, settings.publish, &target, run.asff.clone(), scope).await;
            let snapshot = &run.scan.snapshot;
            if snapshot.regions.is_empty() {
                let reason = "no region of the account could be listed or probed (account:ListRegions and cloudtrail:DescribeTrails failed)".to_string();
                return (not_scanned(reason, false), None);
            }
            if snapshot.unlisted_regions().len() == snapshot.regions.len() {
                let failures: Vec<&ReadError> = snapshot.trail_listing_failures().collect();
                // Throttled or failed for a reason without a verdict in every region, after the
                // SDK's retries: worth another attempt, not a fact about the account.
                let transient =
                    !failures.is_empty() && failures.iter().all(|error| error.kind.may_pass());
                let reason = every_region_failed(&failures);
                // Published as they are (every one NOT_AVAILABLE with its reason), and named in
                // the scanning account: nothing of the account was seen.
                return (not_scanned(reason, transient), Some(run));
            }
            (
                report_of(&account.id, &account.name, settings, &run),
                Some(run),
            )
        }
    }
}

fn every_region_failed(failures: &[&ReadError]) -> String {
    let listed: Vec<String> = failures
        .iter()
        .map(|error| {
            format!(
                "{}: {}",
                error.region,
                error.code.as_deref().unwrap_or(&error.message)
            )
        })
        .collect();
    format!(
        "cloudtrail:DescribeTrails failed in every region scanned ({})",
        listed.join(", ")
    )
}

/// Whether a transient failure is tried again later: on the Lambda, SQS redelivers its record;
/// a CLI run does not, so there it counts like any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retries {
    Later,
    None,
}

/// Step 3's findings: one per account that could not be scanned or whose findings could not be
/// published (transient failures excluded when they are retried), in the scanning account, naming
/// the account and the reason.
pub fn coverage_findings(
    scanning_account: &str,
    partition: &str,
    region: &str,
    reports: &[AccountReport],
    retries: Retries,
) -> Vec<Finding> {
    let counts = |transient: bool| !transient || retries == Retries::None;
    reports
        .iter()
        .filter_map(|report| match &report.outcome {
            Outcome::NotScanned { reason, transient } if counts(*transient) => Some((
                report,
                "could not be scanned, so none of its CIS monitoring controls were checked",
                reason,
            )),
            Outcome::PublishFailed {
                reason, transient, ..
            } if counts(*transient) => Some((
                report,
                "was scanned, but its findings could not be published into its own Security Hub",
                reason,
            )),
            _ => None,
        })
        .map(|(report, what_happened, reason)| {
            coverage_finding(
                scanning_account,
                partition,
                region,
                &report.account_id,
                format!(
                    "account {}{} {what_happened}: {reason}",
                    report.account_id,
                    if report.name.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", report.name)
                    }
                ),
                reason,
            )
        })
        .collect()
}

/// The coverage finding of `account_id` in the scanning account.
fn coverage_finding(
    scanning_account: &str,
    partition: &str,
    region: &str,
    account_id: &str,
    summary: String,
    reason: &str,
) -> Finding {
    Finding {
        control_id: SCAN_COVERAGE.id.to_string(),
        account_id: scanning_account.to_string(),
        partition: partition.to_string(),
        resource: ResourceRef {
            kind: ResourceKind::Account,
            id: format!("AWS::::Account:{account_id}"),
            name: account_id.to_string(),
            region: region.to_string(),
            account_id: account_id.to_string(),
        },
        status: ComplianceStatus::NotAvailable,
        summary,
        evidence: Evidence::missing(MissingLink::AccountNotScanned {
            account_id: account_id.to_string(),
            reason: reason.to_string(),
        }),
    }
}

/// The Security Hub `Id` of `account_id`'s coverage finding in `target` (the scanning account):
/// known without reading anything, so a publish of a few accounts' coverage reads only those.
pub fn coverage_id(target: &PublishTarget, account_id: &str) -> String {
    let finding = coverage_finding(
        &target.account_id,
        &target.partition,
        &target.region,
        account_id,
        String::new(),
        "",
    );
    let id = asff::finding_id(&finding);
    crate::securityhub::limits::shortened_identifier(&id, crate::securityhub::limits::ID_MAX)
        .unwrap_or(id)
}

/// Which held coverage findings a publish of `owned` accounts' reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageRead {
    /// Every trailwatch finding of the scanning account: for a publish that owns most of them
    /// (the command line's, once per run).
    All,
    /// Only the coverage findings of the owned accounts, by `Id`: for a publish of a few (a
    /// worker's one account), which must not page through every account's.
    ById,
}

/// Publishes the coverage findings of the accounts `owned` by this publish into the scanning
/// account's Security Hub, archiving those of owned accounts without a finding now (scanned
/// cleanly, or no longer to be scanned).
pub async fn publish_coverage(
    sdk: &aws_config::SdkConfig,
    mode: Publish,
    target: &PublishTarget,
    findings: &[Finding],
    owned: BTreeSet<String>,
    read: CoverageRead,
) -> Result<Option<Result<PublishReport, PublishError>>, RunError> {
    let asff = coverage_asff(findings, &target.region)?;
    let held = match read {
        CoverageRead::All => HeldRead::All,
        CoverageRead::ById => HeldRead::Ids(
            owned
                .iter()
                .map(|account_id| coverage_id(target, account_id))
                .collect(),
        ),
    };
    let scope = Scope {
        controls: [SCAN_COVERAGE.id.to_string()].into(),
        accounts: owned,
        regions: BTreeSet::new(),
    };
    Ok(publish_reading(sdk, mode, target, asff, scope, held).await)
}

/// The accounts whose held coverage finding nothing of this run will update, and which the run
/// archives (the Lambda's coordinator, and the command line's [`run_organization`]): every
/// account in `held` (the scanning account's active coverage findings) that is not among the
/// `members` sent to be scanned — it left the organization, is not ACTIVE, or is excluded — nor
/// one that `reports` gives a coverage finding now. Pure.
pub fn retired_coverage(
    held: &BTreeSet<String>,
    members: &[OrgAccount],
    reports: &[AccountReport],
) -> BTreeSet<String> {
    let kept: BTreeSet<&str> = members
        .iter()
        .map(|account| account.id.as_str())
        .chain(reports.iter().filter_map(|report| {
            matches!(
                report.outcome,
                Outcome::NotScanned { .. } | Outcome::PublishFailed { .. }
            )
            .then_some(report.account_id.as_str())
        }))
        .collect();
    held.iter()
        .filter(|account_id| !kept.contains(account_id.as_str()))
        .cloned()
        .collect()
}

/// The accounts with an active coverage finding in the scanning account (`target`); `None` when
/// the read failed.
pub async fn held_coverage(
    sdk: &aws_config::SdkConfig,
    target: &PublishTarget,
) -> Option<BTreeSet<String>> {
    match super::held_findings(sdk, target).await {
        Ok(held) => Some(
            held.iter()
                .filter(|finding| {
                    finding.generator_id == asff::generator_id(COVERAGE_ID)
                        && finding.record_state == crate::securityhub::ACTIVE
                })
                .filter_map(|finding| finding.resources.first())
                .filter_map(|resource| resource.id.strip_prefix("AWS::::Account:"))
                .map(str::to_string)
                .collect(),
        ),
        Err(error) => {
            tracing::warn!(error = %error, "the held coverage findings could not be read");
            None
        }
    }
}

/// The coverage findings in ASFF.
pub fn coverage_asff(findings: &[Finding], region: &str) -> Result<Vec<AsffFinding>, RunError> {
    let context = AsffContext {
        region: region.to_string(),
        observed_at: plan::now_rfc3339(),
        // Not a CIS control: no benchmark version names it.
        cis_version: CisVersion::newest(),
        first_steps: Default::default(),
    };
    Ok(asff::from_findings(findings, &context)?)
}

/// What a whole organization run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgSummary {
    pub scanning_account: String,
    pub partition: String,
    /// Accounts the organization lists.
    pub accounts: usize,
    pub scanned: usize,
    pub not_scanned: usize,
    pub skipped: usize,
    pub excluded: usize,
    /// Coverage findings in the scanning account, and what publishing them did.
    pub coverage_findings: usize,
    pub coverage_published: Option<usize>,
    pub coverage_archived: Option<usize>,
    pub duration_ms: u64,
    /// Every account and its outcome.
    pub reports: Vec<AccountReport>,
}

impl OrgSummary {
    fn new(
        scanning_account: &str,
        partition: &str,
        reports: Vec<AccountReport>,
        coverage: usize,
        coverage_report: Option<&PublishReport>,
        started: Instant,
    ) -> Self {
        let count =
            |pick: fn(&Outcome) -> bool| reports.iter().filter(|r| pick(&r.outcome)).count();
        OrgSummary {
            scanning_account: scanning_account.to_string(),
            partition: partition.to_string(),
            accounts: reports.len(),
            scanned: count(|o| {
                matches!(o, Outcome::Scanned { .. } | Outcome::PublishFailed { .. })
            }),
            not_scanned: count(|o| matches!(o, Outcome::NotScanned { .. })),
            skipped: count(|o| matches!(o, Outcome::Skipped { .. })),
            excluded: count(|o| matches!(o, Outcome::Excluded)),
            coverage_findings: coverage,
            coverage_published: coverage_report.map(|r| r.imported - r.archived),
            coverage_archived: coverage_report.map(|r| r.archived),
            duration_ms: started.elapsed().as_millis() as u64,
            reports,
        }
    }
}

/// One account done, as the face sees it: its report, and its run when it was scanned (the run
/// is dropped after the callback: memory stays flat in the number of accounts).
pub struct AccountDone<'a> {
    pub report: &'a AccountReport,
    pub run: Option<&'a AccountRun>,
    /// Accounts done so far, and how many there are in all.
    pub done: usize,
    pub total: usize,
}

impl AccountDone<'_> {
    /// The progress line a command prints as the account finishes: `[3/40] <the account's
    /// outcome>`.
    pub fn progress(&self) -> String {
        format!("[{}/{}] {}", self.done, self.total, self.report.describe())
    }
}

/// The whole run in one process: [`prepare`], every member with at most
/// `org.max_in_flight` at once, then the coverage findings. `on_account` sees each account as it
/// finishes; `on_coverage` sees the coverage findings (for `--output`).
pub async fn run_organization(
    sdk: &aws_config::SdkConfig,
    settings: &RunSettings,
    org: &OrgSettings,
    on_account: &(dyn Fn(AccountDone<'_>) + Sync),
    on_coverage: &(dyn Fn(&[AsffFinding]) + Sync),
) -> Result<(OrgSummary, Option<Result<PublishReport, PublishError>>), RunError> {
    let started = Instant::now();
    let prepared = prepare(sdk, settings, org, None).await?;
    let total = prepared.reports.len() + prepared.members.len();
    let mut reports = prepared.reports;
    for (done, report) in reports.iter().enumerate() {
        let run = (report.account_id == prepared.scanning_account).then_some(&prepared.own_run);
        on_account(AccountDone {
            report,
            run,
            done: done + 1,
            total,
        });
    }
    let roles = &prepared.roles;
    let (partition, shared) = (&prepared.partition, &prepared.shared);
    let mut members = stream::iter(&prepared.members)
        .map(|account| scan_member(roles, partition, shared, settings, account))
        .buffer_unordered(org.max_in_flight.max(1));
    while let Some((report, run)) = members.next().await {
        on_account(AccountDone {
            report: &report,
            run: run.as_ref(),
            done: reports.len() + 1,
            total,
        });
        reports.push(report);
    }
    drop(members);

    let region = prepared.own_run.securityhub_region.clone();
    let coverage = coverage_findings(
        &prepared.scanning_account,
        partition,
        &region,
        &reports,
        Retries::None,
    );
    let coverage_asff = coverage_asff(&coverage, &region)?;
    on_coverage(&coverage_asff);
    let target = PublishTarget {
        account_id: prepared.scanning_account.clone(),
        partition: partition.clone(),
        region,
    };
    // The accounts judged now, and — as the Lambda's coordinator does — those whose held
    // coverage finding nobody updates any more (gone from the organization, not ACTIVE,
    // excluded), to archive. Not read when nothing is published.
    let mut owned: BTreeSet<String> = reports
        .iter()
        .filter(|report| !matches!(report.outcome, Outcome::Skipped { .. } | Outcome::Excluded))
        .map(|report| report.account_id.clone())
        .collect();
    if settings.publish != Publish::Off {
        if let Some(held) = held_coverage(sdk, &target).await {
            owned.extend(retired_coverage(&held, &prepared.members, &reports));
        }
    }
    // Once per run, owning nearly every coverage finding: one paging through them all.
    let published = publish_coverage(
        sdk,
        settings.publish,
        &target,
        &coverage,
        owned,
        CoverageRead::All,
    )
    .await?;
    let coverage_report = published.as_ref().and_then(|p| p.as_ref().ok());
    let summary = OrgSummary::new(
        &prepared.scanning_account,
        partition,
        reports,
        coverage.len(),
        coverage_report,
        started,
    );
    Ok((summary, published))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, state: MemberState) -> OrgAccount {
        OrgAccount {
            id: id.to_string(),
            name: format!("name-{id}"),
            state,
        }
    }

    fn org(accounts: Option<&[&str]>, exclude: &[&str]) -> OrgSettings {
        OrgSettings {
            role: MemberRole {
                name: "trailwatch-scan".to_string(),
                external_id: None,
            },
            accounts: accounts.map(|ids| ids.iter().map(|id| id.to_string()).collect()),
            exclude: exclude.iter().map(|id| id.to_string()).collect(),
            max_in_flight: 4,
        }
    }

    #[test]
    fn inactive_accounts_are_skipped_and_the_lists_narrow_the_rest() {
        let accounts = [
            account("111111111111", MemberState::Active),
            account("222222222222", MemberState::Suspended),
            account("333333333333", MemberState::Active),
            account("444444444444", MemberState::PendingClosure),
            account("555555555555", MemberState::Active),
        ];
        let (scan, left) = plan_accounts(&accounts, &org(None, &["333333333333"]));
        let ids: Vec<&str> = scan.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["111111111111", "555555555555"]);
        let outcomes: Vec<(&str, &Outcome)> = left
            .iter()
            .map(|r| (r.account_id.as_str(), &r.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [
                (
                    "222222222222",
                    &Outcome::Skipped {
                        state: MemberState::Suspended
                    }
                ),
                ("333333333333", &Outcome::Excluded),
                (
                    "444444444444",
                    &Outcome::Skipped {
                        state: MemberState::PendingClosure
                    }
                ),
            ]
        );
        let (scan, left) = plan_accounts(&accounts, &org(Some(&["555555555555"]), &[]));
        assert_eq!(scan.len(), 1);
        assert_eq!(left.len(), 4);
    }

    #[test]
    fn an_account_asked_for_that_the_organization_does_not_list_is_not_scanned() {
        let accounts = [account("111111111111", MemberState::Active)];
        let wanted = org(
            Some(&["111111111111", "777777777777", "888888888888"]),
            &["888888888888"],
        );
        let (scan, left) = plan_accounts(&accounts, &wanted);
        assert_eq!(scan.len(), 1);
        let [report] = left.as_slice() else {
            panic!("one report expected: {left:?}");
        };
        assert_eq!(report.account_id, "777777777777");
        assert!(
            matches!(&report.outcome, Outcome::NotScanned { reason, transient: false } if reason.contains("ListAccounts")),
            "{report:?}"
        );
        let findings = coverage_findings("999999999999", "aws", "us-east-1", &left, Retries::Later);
        assert_eq!(findings[0].summary.split(':').next(), Some("account 777777777777 could not be scanned, so none of its CIS monitoring controls were checked"));
    }

    #[test]
    fn only_lasting_failures_get_a_coverage_finding() {
        let report = |id: &str, outcome| AccountReport {
            account_id: id.to_string(),
            name: "n".to_string(),
            outcome,
        };
        let reports = [
            report(
                "111111111111",
                Outcome::NotScanned {
                    reason: "sts:AssumeRole into arn:aws:iam::111111111111:role/trailwatch-scan failed (AccessDenied): denied".into(),
                    transient: false,
                },
            ),
            report(
                "222222222222",
                Outcome::NotScanned {
                    reason: "throttled".into(),
                    transient: true,
                },
            ),
            report(
                "333333333333",
                Outcome::Skipped {
                    state: MemberState::Suspended,
                },
            ),
            report(
                "444444444444",
                Outcome::PublishFailed {
                    summary: Box::default(),
                    reason: "InvalidAccessException: not subscribed to AWS Security Hub".into(),
                    transient: false,
                },
            ),
            report(
                "555555555555",
                Outcome::PublishFailed {
                    summary: Box::default(),
                    reason: "ThrottlingException".into(),
                    transient: true,
                },
            ),
        ];
        let accounts = |findings: &[Finding]| -> Vec<String> {
            findings
                .iter()
                .map(|f| f.resource.account_id.clone())
                .collect()
        };
        // The CLI does not retry: a transient failure is named too.
        let once = coverage_findings("999999999999", "aws", "us-east-1", &reports, Retries::None);
        assert_eq!(
            accounts(&once),
            [
                "111111111111",
                "222222222222",
                "444444444444",
                "555555555555"
            ]
        );
        let findings =
            coverage_findings("999999999999", "aws", "us-east-1", &reports, Retries::Later);
        assert_eq!(accounts(&findings), ["111111111111", "444444444444"]);
        assert!(
            findings[1]
                .summary
                .contains("was scanned, but its findings could not be published")
                && findings[1].summary.contains("InvalidAccessException"),
            "{}",
            findings[1].summary
        );
        let finding = &findings[0];
        assert_eq!(finding.account_id, "999999999999");
        assert_eq!(finding.resource.id, "AWS::::Account:111111111111");
        assert_eq!(finding.status, ComplianceStatus::NotAvailable);
        assert!(
            finding.summary.contains("AccessDenied"),
            "{}",
            finding.summary
        );
        let asff = coverage_asff(&findings, "us-east-1").unwrap();
        assert_eq!(asff[0].aws_account_id, "999999999999");
        assert_eq!(asff[0].resources[0].id, "AWS::::Account:111111111111");
    }
}
