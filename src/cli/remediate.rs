//! `trailwatch remediate`: the plan that completes each failing control's chain, from a scan made
//! now (one account, or `--organization`) or from saved snapshots, printed as AWS CLI commands, a
//! CloudFormation template or JSON. A summary per control goes to standard error.

use super::scan::{organization_settings, read_snapshot, run_settings, sdk_config};
use super::{CliError, PlanFormat, RemediateArgs};
use crate::controls;
use crate::model::snapshot::Snapshot;
use crate::run;
use crate::run::org::AccountDone;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;
use trailwatch_core::remediate::{self, cloudformation, Outcome, Plan, Request};

/// Plans and prints.
pub(crate) async fn run(args: RemediateArgs) -> Result<ExitCode, CliError> {
    let selected = controls::select(&args.controls)
        .map_err(|error| CliError::Usage(format!("--controls: {error}")))?;
    let snapshots = if args.snapshots.is_empty() {
        scan(&args, selected.clone()).await?
    } else {
        args.snapshots
            .iter()
            .map(|path| read_snapshot(path))
            .collect::<Result<Vec<_>, _>>()?
    };
    let plan = remediate::plan(
        &snapshots,
        &Request {
            controls: &selected,
            version: args.cis_version,
            notify: args.notify.as_ref(),
        },
    );
    let text = match args.format {
        PlanFormat::Cli => remediate::cli::render(&plan),
        PlanFormat::Json => serde_json::to_string_pretty(&plan)
            .map(|json| json + "\n")
            .map_err(|error| CliError::CouldNotRun(error.to_string()))?,
        PlanFormat::Cloudformation => cloudformation::render(&plan)
            .map_err(|error| CliError::CouldNotRun(format!("--format cloudformation: {error}")))?,
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|error| CliError::CouldNotRun(format!("cannot write standard output: {error}")))?;
    eprint!("{}", summary(&plan));
    Ok(ExitCode::SUCCESS)
}

/// Scans the account (or the organization) as `scan` would, publishing nothing.
async fn scan(
    args: &RemediateArgs,
    selected: Vec<&'static controls::Control>,
) -> Result<Vec<Snapshot>, CliError> {
    let settings = run_settings(&args.regions, selected, args.cis_version)?;
    let sdk = sdk_config(args.profile.as_deref()).await;
    if !args.organization.organization {
        let account_run = run::run_account(&sdk, &settings)
            .await
            .map_err(|error| CliError::CouldNotRun(error.to_string()))?;
        return Ok(vec![account_run.scan.snapshot]);
    }
    let org = organization_settings(&args.organization)?;
    let snapshots = Mutex::new(Vec::new());
    let on_account = |done: AccountDone<'_>| {
        eprintln!("trailwatch: {}", done.progress());
        if let Some(run) = done.run {
            snapshots
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(run.scan.snapshot.clone());
        }
    };
    run::org::run_organization(&sdk, &settings, &org, &on_account, &|_| {})
        .await
        .map_err(|error| CliError::CouldNotRun(error.to_string()))?;
    let mut snapshots = snapshots
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Accounts finish in any order; the plan lists them in a stable one.
    snapshots.sort_by(|a, b| a.account_id.cmp(&b.account_id));
    Ok(snapshots)
}

/// One line per failing control: what the plan does for it.
fn summary(plan: &Plan) -> String {
    if plan.controls.is_empty() {
        return "trailwatch: every selected control passes; nothing to remediate\n".to_string();
    }
    let mut text = format!(
        "trailwatch: {} step(s) for {} failing control finding(s):\n",
        plan.steps.len(),
        plan.controls.len()
    );
    for control in &plan.controls {
        let outcome = match control.outcome {
            Outcome::Completes => "completed by the plan",
            Outcome::CompletesOnceConfirmed => "completed once the new subscription is confirmed",
            Outcome::CompletesOnceDelivered => "completed once CloudTrail delivers",
            Outcome::ContinuesAfterRescan => {
                "fixed as far as the scan saw: run remediate again once the steps are applied"
            }
            Outcome::Stops => "needs a manual step (see the plan)",
        };
        text.push_str(&format!(
            "  {} {} ({}): {outcome}\n",
            control.account_id, control.control_id, control.status
        ));
    }
    text
}
