//! `trailwatch scan` (collect → evaluate → ASFF → publish, through [`crate::run`]) and
//! `trailwatch evaluate` (a saved snapshot, offline): what they print, write and exit with.

use super::errors;
use super::render;
use super::{CliError, EvaluateArgs, Format, OrganizationArgs, OutputArgs, ScanArgs};
use crate::collect::access::MemberRole;
use crate::controls::{self, Control};
use crate::model::findings::{Finding, StatusCounts};
use crate::model::snapshot::Snapshot;
use crate::report::{AccountFindings, RunReport, Unscanned};
use crate::run::org::{AccountDone, OrgSettings, Outcome};
use crate::run::{self, Publish, RunSettings};
use crate::securityhub::asff::{self, AsffContext, AsffFinding};
use crate::securityhub::{plan, PublishReport};
use std::collections::BTreeSet;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;
use trailwatch_core::remediate::{self, Plan as RemediationPlan};

/// Scans the account of the standard AWS configuration (or `--profile`).
pub(crate) async fn scan(args: ScanArgs) -> Result<ExitCode, CliError> {
    let settings = settings(&args)?;
    let sdk = sdk_config(args.profile.as_deref()).await;
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
        .map_err(|error| errors::run_error(error, args.profile.as_deref()))?;
    let scan = &account_run.scan;
    if let Some(path) = &args.save_snapshot {
        write_json(path, &scan.snapshot)?;
        eprintln!("trailwatch: snapshot saved to {}", path.display());
    }
    let code = emit(
        &args.output,
        &scan.snapshot,
        &scan.findings,
        &account_run.asff,
    )?;
    eprintln!(
        "{}",
        render::run_summary(&scan.snapshot, &scan.findings, scan.duration.as_secs_f64())
    );
    if let Some(error) = errors::nothing_readable(&scan.snapshot) {
        return Err(error);
    }
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

/// Scans every account of the organization (`scan --organization`): progress and a line per
/// account on stderr, each account's findings on stdout as it finishes, `--output` written as one
/// ASFF array as the accounts finish (memory stays flat in the number of accounts).
pub(crate) async fn scan_organization(args: ScanArgs) -> Result<ExitCode, CliError> {
    let settings = settings(&args)?;
    let org = organization_settings(&args.organization)?;
    let sdk = sdk_config(args.profile.as_deref()).await;
    eprintln!(
        "trailwatch: scanning the organization's accounts through role {} ({} at once) for {} control(s)…",
        org.role.name,
        org.max_in_flight,
        settings.controls.len()
    );
    let output = match &args.output.output {
        Some(path) => Some(std::sync::Mutex::new(ArrayWriter::create(path)?)),
        None => None,
    };
    let stdout_json =
        (args.output.format == Format::Json).then(|| std::sync::Mutex::new(ArrayWriter::stdout()));
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    let write = |findings: &[AsffFinding]| {
        for writer in output.iter().chain(stdout_json.iter()) {
            let mut writer = writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Err(error) = writer.extend(findings) {
                failures
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(error.to_string());
            }
        }
    };
    let failed_controls = std::sync::atomic::AtomicBool::new(false);
    // The report formats need every account before they can be written.
    let reported = std::sync::Mutex::new(Vec::<AccountFindings>::new());
    // One plan for the organization, built account by account (the snapshots are not kept);
    // only the page shows it.
    let fixes = std::sync::Mutex::new(RemediationPlan::default());
    let shows_fixes = args.output.format == Format::Html;
    let report_renderer = args.output.format.report_renderer();
    let on_account = |done: AccountDone<'_>| {
        eprintln!("trailwatch: {}", done.progress());
        let Some(run) = done.run else {
            return;
        };
        if StatusCounts::of(&run.scan.findings).failed > 0 {
            failed_controls.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        write(&run.asff);
        if report_renderer.is_some() {
            reported
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(AccountFindings {
                    account_id: run.scan.snapshot.account_id.clone(),
                    name: done.report.name.clone(),
                    findings: run.scan.findings.clone(),
                });
        }
        if shows_fixes {
            plan_fixes(
                &mut fixes
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
                &settings.controls,
                settings.cis_version,
                &run.scan.snapshot,
                &run.scan.findings,
            );
        }
        if args.output.format == Format::Table && !run.scan.findings.is_empty() {
            print!(
                "== account {}\n{}",
                run.scan.snapshot.account_id,
                render::finding_table(&run.scan.findings)
            );
        }
    };
    let (summary, coverage) =
        run::org::run_organization(&sdk, &settings, &org, &on_account, &write)
            .await
            .map_err(|error| errors::run_error(error, args.profile.as_deref()))?;
    for writer in [output, stdout_json].into_iter().flatten() {
        let writer = writer
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        writer
            .finish()
            .map_err(|error| CliError::CouldNotRun(error.to_string()))?;
    }
    if let Some(error) = failures
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .first()
    {
        return Err(CliError::CouldNotRun(error.clone()));
    }
    if let Some(render) = report_renderer {
        let unscanned = summary
            .reports
            .iter()
            .filter_map(|report| match &report.outcome {
                Outcome::NotScanned { reason, .. } => Some(Unscanned {
                    account_id: report.account_id.clone(),
                    name: report.name.clone(),
                    reason: reason.clone(),
                }),
                _ => None,
            })
            .collect();
        let report = run_report(
            settings.controls.clone(),
            settings.cis_version,
            format!("organization (scanned from {})", summary.scanning_account),
            reported
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            unscanned,
            fixes
                .into_inner()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        io::stdout()
            .lock()
            .write_all(render(&report).as_bytes())
            .map_err(|error| {
                CliError::CouldNotRun(format!("cannot write standard output: {error}"))
            })?;
    }
    eprintln!("{}", render::organization_summary(&summary));
    let refused: Vec<String> = summary
        .reports
        .iter()
        .filter_map(|report| match &report.outcome {
            Outcome::Scanned { summary } => Some(summary.failed_ids.clone()),
            _ => None,
        })
        .flatten()
        .chain(match &coverage {
            Some(Ok(report)) => report.failed_ids(),
            _ => Vec::new(),
        })
        .collect();
    if let Some(Err(error)) = coverage {
        return Err(CliError::CouldNotRun(format!(
            "the coverage findings could not be published: {error}"
        )));
    }
    if summary
        .reports
        .iter()
        .any(|report| matches!(report.outcome, Outcome::PublishFailed { .. }))
    {
        return Err(CliError::CouldNotRun(
            "some accounts' findings could not be published (see above)".to_string(),
        ));
    }
    if !refused.is_empty() {
        return Err(CliError::CouldNotRun(format!(
            "Security Hub refused {} finding(s): {}",
            refused.len(),
            refused.join(", ")
        )));
    }
    let incomplete = summary.not_scanned > 0;
    Ok(
        if failed_controls.load(std::sync::atomic::Ordering::Relaxed) || incomplete {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        },
    )
}

/// The organization settings of a `scan --organization` command line.
pub(super) fn organization_settings(args: &OrganizationArgs) -> Result<OrgSettings, CliError> {
    let ids = |list: &[String], flag: &str| -> Result<BTreeSet<String>, CliError> {
        list.iter()
            .map(|id| id.trim().to_string())
            .filter(|id| !id.is_empty())
            .map(|id| {
                if crate::model::arn::is_account_id(&id) {
                    Ok(id)
                } else {
                    Err(CliError::Usage(format!(
                        "{flag}: {id:?} is not an account id (12 digits)"
                    )))
                }
            })
            .collect()
    };
    Ok(OrgSettings {
        role: MemberRole {
            name: args.role_name.clone(),
            external_id: args.external_id.clone(),
        },
        accounts: if args.accounts.is_empty() {
            None
        } else {
            Some(ids(&args.accounts, "--accounts")?)
        },
        exclude: ids(&args.exclude_accounts, "--exclude-accounts")?,
        max_in_flight: usize::from(args.max_accounts_in_flight),
    })
}

/// An ASFF JSON array written a batch at a time.
struct ArrayWriter {
    out: Box<dyn Write + Send>,
    what: String,
    written: usize,
}

impl ArrayWriter {
    fn create(path: &Path) -> Result<Self, CliError> {
        let file = std::fs::File::create(path).map_err(|error| {
            CliError::CouldNotRun(format!("cannot write {}: {error}", path.display()))
        })?;
        Ok(ArrayWriter {
            out: Box::new(io::BufWriter::new(file)),
            what: path.display().to_string(),
            written: 0,
        })
    }

    fn stdout() -> Self {
        ArrayWriter {
            out: Box::new(io::stdout()),
            what: "standard output".to_string(),
            written: 0,
        }
    }

    fn extend(&mut self, findings: &[AsffFinding]) -> Result<(), CliError> {
        for finding in findings {
            let separator = if self.written == 0 { "[\n" } else { ",\n" };
            self.out
                .write_all(separator.as_bytes())
                .and_then(|()| {
                    serde_json::to_writer(&mut self.out, finding).map_err(io::Error::from)
                })
                .map_err(|error| {
                    CliError::CouldNotRun(format!("cannot write {}: {error}", self.what))
                })?;
            self.written += 1;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(), CliError> {
        let end = if self.written == 0 { "[]\n" } else { "\n]\n" };
        self.out
            .write_all(end.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|error| CliError::CouldNotRun(format!("cannot write {}: {error}", self.what)))
    }
}

/// The run settings of a `scan` command line.
fn settings(args: &ScanArgs) -> Result<RunSettings, CliError> {
    let mut settings = run_settings(
        &args.regions,
        select(&args.output)?,
        args.output.cis_version,
    )?;
    settings.securityhub_region = args
        .securityhub_region
        .as_deref()
        .map(|region| {
            run::region_names([region])
                .map(|mut one| one.remove(0))
                .map_err(|error| CliError::Usage(format!("--securityhub-region: {error}")))
        })
        .transpose()?;
    settings.publish = match (args.publish, args.dry_run) {
        (false, _) => Publish::Off,
        (true, true) => Publish::DryRun,
        (true, false) => Publish::Import,
    };
    Ok(settings)
}

/// The settings of a run that publishes nothing, over `--regions` (none: the enabled regions).
pub(super) fn run_settings(
    regions: &[String],
    controls: Vec<&'static Control>,
    cis_version: controls::CisVersion,
) -> Result<RunSettings, CliError> {
    let regions = if regions.is_empty() {
        None
    } else {
        Some(
            run::region_names(regions.iter().map(String::as_str))
                .map_err(|error| CliError::Usage(format!("--regions: {error}")))?,
        )
    };
    Ok(RunSettings {
        regions,
        controls,
        cis_version,
        securityhub_region: None,
        publish: Publish::Off,
    })
}

/// Evaluates a snapshot saved by `scan --save-snapshot`.
pub(crate) fn evaluate(args: EvaluateArgs) -> Result<ExitCode, CliError> {
    let selected = select(&args.output)?;
    let snapshot = read_snapshot(&args.snapshot)?;
    let findings = controls::evaluate(&snapshot, &selected, args.output.cis_version);
    let context = AsffContext {
        region: args
            .securityhub_region
            .clone()
            .or_else(|| snapshot.regions.first().cloned())
            .unwrap_or_else(|| "us-east-1".to_string()),
        observed_at: plan::now_rfc3339(),
        cis_version: args.output.cis_version,
        first_steps: trailwatch_core::remediate::first_steps(
            &snapshot,
            &findings,
            &selected,
            args.output.cis_version,
        ),
    };
    let asff = asff::from_findings(&findings, &context)
        .map_err(|error| CliError::CouldNotRun(error.to_string()))?;
    emit(&args.output, &snapshot, &findings, &asff)
}

/// A run's findings by account, for the report formats.
fn run_report(
    controls: Vec<&'static Control>,
    cis_version: controls::CisVersion,
    scope: String,
    accounts: Vec<AccountFindings>,
    unscanned: Vec<Unscanned>,
    plan: RemediationPlan,
) -> RunReport {
    RunReport {
        scope,
        generated_at: plan::now_rfc3339(),
        cis_version,
        controls,
        accounts,
        unscanned,
        plan,
    }
}

/// Adds the steps that fix the failing ones of `findings` (the run's, over `snapshot`) to
/// `plan`. No endpoint: a step that needs one says `--notify`.
fn plan_fixes(
    plan: &mut RemediationPlan,
    controls: &[&'static Control],
    version: controls::CisVersion,
    snapshot: &Snapshot,
    findings: &[Finding],
) {
    plan.add_account(
        snapshot,
        findings,
        &remediate::Request {
            controls,
            version,
            notify: None,
        },
    );
}

/// The standard AWS configuration, with `--profile` when given.
pub(super) async fn sdk_config(profile: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// Reads a snapshot saved by `scan --save-snapshot`.
pub(super) fn read_snapshot(path: &Path) -> Result<Snapshot, CliError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        CliError::CouldNotRun(format!("cannot read {}: {error}", path.display()))
    })?;
    Snapshot::from_json(&text)
        .map_err(|error| CliError::CouldNotRun(format!("{} is {error}", path.display())))
}

pub(super) fn select(output: &OutputArgs) -> Result<Vec<&'static Control>, CliError> {
    controls::select(&output.controls)
        .map_err(|error| CliError::Usage(format!("--controls: {error}")))
}

/// Prints the findings in the chosen format, writes `--output`, and picks the exit code.
fn emit(
    args: &OutputArgs,
    snapshot: &Snapshot,
    findings: &[Finding],
    asff: &[AsffFinding],
) -> Result<ExitCode, CliError> {
    if let Some(path) = &args.output {
        write_json(path, &asff)?;
    }
    let mut stdout = io::stdout().lock();
    let written = if let Some(render) = args.format.report_renderer() {
        let controls = select(args)?;
        let mut fixes = RemediationPlan::default();
        if args.format == Format::Html {
            plan_fixes(&mut fixes, &controls, args.cis_version, snapshot, findings);
        }
        let report = run_report(
            controls,
            args.cis_version,
            format!("account {}", snapshot.account_id),
            vec![AccountFindings {
                account_id: snapshot.account_id.clone(),
                name: String::new(),
                findings: findings.to_vec(),
            }],
            Vec::new(),
            fixes,
        );
        stdout.write_all(render(&report).as_bytes())
    } else if args.format == Format::Json {
        serde_json::to_writer_pretty(&mut stdout, &asff)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(stdout))
    } else {
        stdout.write_all(render::finding_table(findings).as_bytes())
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
