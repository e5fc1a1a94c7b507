//! `trailwatch scan` (collect → evaluate → ASFF → publish, through [`crate::run`]) and
//! `trailwatch evaluate` (a saved snapshot, offline): what they print, write and exit with.

use super::render;
use super::{CliError, EvaluateArgs, Format, OutputArgs, ScanArgs};
use crate::controls::{self, Control};
use crate::model::findings::{Finding, StatusCounts};
use crate::model::snapshot::Snapshot;
use crate::run::{self, Publish, RunSettings};
use crate::securityhub::asff::{self, AsffContext, AsffFinding};
use crate::securityhub::{plan, PublishReport};
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

/// Scans the account of the standard AWS configuration (or `--profile`).
pub(crate) async fn scan(args: ScanArgs) -> Result<ExitCode, CliError> {
    let settings = settings(&args)?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(profile) = &args.profile {
        loader = loader.profile_name(profile);
    }
    let sdk = loader.load().await;
    eprintln!(
        "trailwatch: scanning {} for {} control(s) of CIS v{}…",
        settings
            .regions
            .as_ref()
            .map(|regions| format!("regions {}", regions.join(", ")))
            .unwrap_or_else(|| "the account's enabled regions".to_string()),
        settings.controls.len(),
        settings.cis_version
    );
    let account_run = run::run_account(&sdk, &settings)
        .await
        .map_err(|error| CliError::CouldNotRun(error.to_string()))?;
    let scan = &account_run.scan;
    if let Some(path) = &args.save_snapshot {
        write_json(path, &scan.snapshot)?;
        eprintln!("trailwatch: snapshot saved to {}", path.display());
    }
    let code = emit(&args.output, &scan.findings, &account_run.asff)?;
    eprintln!(
        "{}",
        render::run_summary(&scan.snapshot, &scan.findings, scan.duration.as_secs_f64())
    );
    match &account_run.published {
        None => Ok(code),
        Some(Err(error)) => Err(CliError::CouldNotRun(error.to_string())),
        Some(Ok(report)) => {
            print_publish_report(report)?;
            if report.failed.is_empty() {
                Ok(code)
            } else {
                Err(CliError::CouldNotRun(format!(
                    "Security Hub refused {} finding(s): {}",
                    report.failed.len(),
                    report.failed_ids().join(", ")
                )))
            }
        }
    }
}

/// The run settings of a `scan` command line. The baseline a run must cover to archive stale
/// findings is every enabled region and the default controls.
fn settings(args: &ScanArgs) -> Result<RunSettings, CliError> {
    let controls = select(&args.output)?;
    let regions = if args.regions.is_empty() {
        None
    } else {
        Some(
            run::region_names(args.regions.iter().map(String::as_str))
                .map_err(|error| CliError::Usage(format!("--regions: {error}")))?,
        )
    };
    let defaults = controls::select("default").map_err(|error| {
        CliError::CouldNotRun(format!("the default controls do not resolve: {error}"))
    })?;
    let archive_stale = run::covers_baseline(&controls, regions.as_deref(), &defaults, None);
    let securityhub_region = args
        .securityhub_region
        .as_deref()
        .map(|region| {
            run::region_names([region])
                .map(|mut one| one.remove(0))
                .map_err(|error| CliError::Usage(format!("--securityhub-region: {error}")))
        })
        .transpose()?;
    Ok(RunSettings {
        regions,
        controls,
        cis_version: args.output.cis_version,
        securityhub_region,
        publish: match (args.publish, args.dry_run) {
            (false, _) => Publish::Off,
            (true, true) => Publish::DryRun,
            (true, false) => Publish::Import,
        },
        archive_stale,
    })
}

/// Evaluates a snapshot saved by `scan --save-snapshot`.
pub(crate) fn evaluate(args: EvaluateArgs) -> Result<ExitCode, CliError> {
    let selected = select(&args.output)?;
    let text = std::fs::read_to_string(&args.snapshot).map_err(|error| {
        CliError::CouldNotRun(format!("cannot read {}: {error}", args.snapshot.display()))
    })?;
    let snapshot: Snapshot = serde_json::from_str(&text).map_err(|error| {
        CliError::CouldNotRun(format!(
            "{} is not a trailwatch snapshot: {error}",
            args.snapshot.display()
        ))
    })?;
    let findings = controls::evaluate(&snapshot, &selected, args.output.cis_version);
    let context = AsffContext {
        region: args
            .securityhub_region
            .clone()
            .or_else(|| snapshot.regions.first().cloned())
            .unwrap_or_else(|| "us-east-1".to_string()),
        observed_at: plan::now_rfc3339(),
        cis_version: args.output.cis_version,
    };
    let asff = asff::from_findings(&findings, &context)
        .map_err(|error| CliError::CouldNotRun(error.to_string()))?;
    emit(&args.output, &findings, &asff)
}

fn select(output: &OutputArgs) -> Result<Vec<&'static Control>, CliError> {
    controls::select(&output.controls)
        .map_err(|error| CliError::Usage(format!("--controls: {error}")))
}

/// Prints the findings in the chosen format, writes `--output`, and picks the exit code.
fn emit(
    args: &OutputArgs,
    findings: &[Finding],
    asff: &[AsffFinding],
) -> Result<ExitCode, CliError> {
    if let Some(path) = &args.output {
        write_json(path, &asff)?;
    }
    let mut stdout = io::stdout().lock();
    let written = match args.format {
        Format::Table => stdout.write_all(render::finding_table(findings).as_bytes()),
        Format::Json => serde_json::to_writer_pretty(&mut stdout, &asff)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(stdout)),
    };
    written
        .map_err(|error| CliError::CouldNotRun(format!("cannot write standard output: {error}")))?;
    Ok(if StatusCounts::of(findings).failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_publish_report(published: &PublishReport) -> Result<(), CliError> {
    eprintln!("{}", render::publish_summary(published));
    if published.dry_run {
        let stdout = io::stdout().lock();
        serde_json::to_writer_pretty(stdout, &published.planned).map_err(|error| {
            CliError::CouldNotRun(format!("cannot write standard output: {error}"))
        })?;
        println!();
    }
    Ok(())
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|error| {
        CliError::CouldNotRun(format!("cannot serialize for {}: {error}", path.display()))
    })?;
    std::fs::write(path, text + "\n")
        .map_err(|error| CliError::CouldNotRun(format!("cannot write {}: {error}", path.display())))
}
