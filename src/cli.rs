//! The `trailwatch` command line: scan an account, evaluate a saved snapshot, list the controls,
//! and drive the filter-pattern engine.
//!
//! Exit codes: 0 nothing failed; 1 at least one control FAILED (scan, evaluate) or the pattern is
//! invalid (`pattern check`); 2 usage error; 3 the command could not run (no credentials, an
//! unreadable snapshot, an output file that cannot be written, findings Security Hub refused).

use crate::asff::{self, AsffContext, AsffFinding};
use crate::collect::CollectPlan;
use crate::controls;
use crate::findings::{Finding, StatusCounts};
use crate::publish::{self, PublishOptions, PublishReport, PublishTarget};
use crate::snapshot::Snapshot;
use crate::{pattern_cli, report, scan};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Checks that an AWS account really watches its own CloudTrail activity (CIS AWS Foundations
/// Benchmark monitoring controls) and reports the findings in ASFF for Security Hub.
#[derive(Debug, Parser)]
#[command(
    name = "trailwatch",
    version,
    about,
    long_about = None,
    after_help = "Exit status: 0 nothing failed; 1 a control FAILED (scan, evaluate) or the pattern is invalid (pattern check); 2 usage error; 3 could not run (credentials, unreadable snapshot, unwritable output, findings Security Hub refused)."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan the account of the current AWS credentials (honours AWS_PROFILE, AWS_REGION,
    /// AWS_ENDPOINT_URL and the other standard AWS settings).
    Scan(ScanArgs),
    /// Evaluate a snapshot saved by `scan --save-snapshot`, offline.
    Evaluate(EvaluateArgs),
    /// List the controls trailwatch knows, with their CIS and Security Hub mappings.
    Controls,
    /// The CloudWatch Logs filter-pattern engine.
    #[command(subcommand)]
    Pattern(PatternCommand),
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// Regions whose trails are listed, comma-separated (default: the account's enabled regions).
    #[arg(long, value_delimiter = ',')]
    regions: Vec<String>,
    /// AWS shared-config profile to use.
    #[arg(long)]
    profile: Option<String>,
    /// Save the collected snapshot (JSON) to this file.
    #[arg(long, value_name = "FILE")]
    save_snapshot: Option<PathBuf>,
    /// Import the findings into Security Hub (BatchImportFindings); after a full run (no
    /// --regions, --controls default or all) also archive trailwatch findings it no longer produced.
    #[arg(long)]
    publish: bool,
    /// With --publish: read Security Hub and plan the batches, but import nothing; print the plan.
    #[arg(long, requires = "publish")]
    dry_run: bool,
    /// Security Hub region to publish to (default: the region of the AWS configuration).
    #[arg(long)]
    securityhub_region: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// The snapshot file (JSON) to evaluate.
    snapshot: PathBuf,
    /// Security Hub region named in the ASFF ProductArn (default: the snapshot's first region).
    #[arg(long)]
    securityhub_region: Option<String>,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
struct OutputArgs {
    /// Controls to evaluate: comma-separated ids, `default` (the five seed controls) or `all`.
    #[arg(long, default_value = "default")]
    controls: String,
    /// How findings are printed on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write the findings to this file as an ASFF JSON array (what goes to Security Hub).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per finding and a summary.
    Table,
    /// The findings as an ASFF JSON array.
    Json,
}

#[derive(Debug, Subcommand)]
enum PatternCommand {
    /// Print "valid", or the parse error with a caret under the fault (exit 1).
    Check {
        /// The filter pattern (put `--` before a pattern that begins with `-`).
        #[arg(allow_hyphen_values = true)]
        pattern: String,
    },
    /// Read JSON Lines {"pattern": …, "event": {…}} on stdin; write {"match": bool} per line.
    Match,
    /// Read JSON Lines {"pattern": …, "required": … | "control": id} on stdin; write
    /// {"covers": true|false|null, "counterexample": …, "reason": …} per line.
    Covers,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Scan(args) => run_scan(args).await,
        Command::Evaluate(args) => run_evaluate(args),
        Command::Controls => {
            print!("{}", report::control_table(controls::catalog()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Pattern(command) => run_pattern(command),
    };
    result.unwrap_or_else(|message| {
        eprintln!("trailwatch: {message}");
        ExitCode::from(3)
    })
}

async fn run_scan(args: ScanArgs) -> Result<ExitCode, String> {
    let selected = scan::select_controls(&args.output.controls)?;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(profile) = &args.profile {
        loader = loader.profile_name(profile);
    }
    let sdk = loader.load().await;
    let plan = CollectPlan {
        regions: (!args.regions.is_empty()).then(|| args.regions.clone()),
    };
    eprintln!(
        "trailwatch: scanning {} for {} control(s)…",
        plan.regions
            .as_ref()
            .map(|regions| format!("regions {}", regions.join(", ")))
            .unwrap_or_else(|| "the account's enabled regions".to_string()),
        selected.len()
    );
    let outcome = scan::scan_account(&sdk, &plan, &selected)
        .await
        .map_err(|error| format!("scan failed: {error}"))?;
    if let Some(path) = &args.save_snapshot {
        write_json(path, &outcome.snapshot)?;
        eprintln!("trailwatch: snapshot saved to {}", path.display());
    }
    let region = args
        .securityhub_region
        .clone()
        .or_else(|| sdk.region().map(|region| region.to_string()))
        .or_else(|| outcome.snapshot.regions.first().cloned())
        .ok_or("no Security Hub region: pass --securityhub-region or set AWS_REGION")?;
    let asff = to_asff(&outcome.findings, &region);
    let code = emit(&args.output, &outcome.findings, &asff)?;
    eprintln!(
        "{}",
        report::run_summary(
            &outcome.snapshot,
            &outcome.findings,
            outcome.duration.as_secs_f64()
        )
    );
    if args.publish {
        let target = PublishTarget {
            account_id: outcome.snapshot.account_id.clone(),
            partition: outcome.snapshot.partition.clone(),
            region: region.clone(),
        };
        let hub_config = aws_sdk_securityhub::config::Builder::from(&sdk)
            .region(aws_config::Region::new(region))
            .build();
        let client = aws_sdk_securityhub::Client::from_conf(hub_config);
        // A scan narrowed to some controls or regions says nothing about the findings outside
        // them: archive stale findings only after a full run.
        let full_run =
            args.regions.is_empty() && matches!(args.output.controls.trim(), "default" | "all");
        let options = PublishOptions {
            dry_run: args.dry_run,
            archive_stale: full_run,
            ..PublishOptions::default()
        };
        let published = publish::publish(&client, &target, asff, &options)
            .await
            .map_err(|error| error.to_string())?;
        print_publish_report(&published)?;
        if !published.failed.is_empty() {
            return Err(format!(
                "Security Hub refused {} finding(s): {}",
                published.failed.len(),
                published.failed_ids().join(", ")
            ));
        }
    }
    Ok(code)
}

fn run_evaluate(args: EvaluateArgs) -> Result<ExitCode, String> {
    let selected = scan::select_controls(&args.output.controls)?;
    let text = std::fs::read_to_string(&args.snapshot)
        .map_err(|error| format!("cannot read {}: {error}", args.snapshot.display()))?;
    let snapshot: Snapshot = serde_json::from_str(&text).map_err(|error| {
        format!(
            "{} is not a trailwatch snapshot: {error}",
            args.snapshot.display()
        )
    })?;
    let findings = controls::evaluate(&snapshot, &selected);
    let region = args
        .securityhub_region
        .clone()
        .or_else(|| snapshot.regions.first().cloned())
        .unwrap_or_else(|| "us-east-1".to_string());
    let asff = to_asff(&findings, &region);
    emit(&args.output, &findings, &asff)
}

fn run_pattern(command: PatternCommand) -> Result<ExitCode, String> {
    let stdin = io::stdin().lock();
    let stdout = io::stdout().lock();
    match command {
        PatternCommand::Check { pattern } => {
            let (text, valid) = pattern_cli::check(&pattern);
            println!("{text}");
            Ok(if valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PatternCommand::Match => pattern_cli::run_match(stdin, stdout)
            .map(|()| ExitCode::SUCCESS)
            .map_err(|error| format!("pattern match: {error}")),
        PatternCommand::Covers => pattern_cli::run_covers(stdin, stdout, |id| {
            controls::control(id)?.coverage_pattern()
        })
        .map(|()| ExitCode::SUCCESS)
        .map_err(|error| format!("pattern covers: {error}")),
    }
}

/// The findings in ASFF, observed now.
fn to_asff(findings: &[Finding], region: &str) -> Vec<AsffFinding> {
    let context = AsffContext {
        region: region.to_string(),
        observed_at: publish::now_rfc3339(),
    };
    findings
        .iter()
        .filter_map(|finding| {
            let control = controls::control(&finding.control_id)?;
            Some(asff::to_asff(finding, control, &context))
        })
        .collect()
}

/// Prints the findings in the chosen format, writes `--output`, and picks the exit code.
fn emit(args: &OutputArgs, findings: &[Finding], asff: &[AsffFinding]) -> Result<ExitCode, String> {
    if let Some(path) = &args.output {
        write_json(path, &asff)?;
    }
    let mut stdout = io::stdout().lock();
    let written = match args.format {
        Format::Table => stdout.write_all(report::finding_table(findings).as_bytes()),
        Format::Json => serde_json::to_writer_pretty(&mut stdout, &asff)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(stdout)),
    };
    written.map_err(|error| format!("cannot write standard output: {error}"))?;
    Ok(if StatusCounts::of(findings).failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_publish_report(published: &PublishReport) -> Result<(), String> {
    eprintln!("{}", report::publish_summary(published));
    if published.dry_run {
        let stdout = io::stdout().lock();
        serde_json::to_writer_pretty(stdout, &published.planned)
            .map_err(|error| format!("cannot write standard output: {error}"))?;
        println!();
    }
    Ok(())
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|error| format!("cannot serialize for {}: {error}", path.display()))?;
    std::fs::write(path, text + "\n")
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn pattern_check_accepts_a_leading_dash_after_double_dash() {
        let cli = Cli::try_parse_from(["trailwatch", "pattern", "check", "--", "-ERROR"]).unwrap();
        match cli.command {
            Command::Pattern(PatternCommand::Check { pattern }) => assert_eq!(pattern, "-ERROR"),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn regions_take_a_comma_list() {
        let cli = Cli::try_parse_from(["trailwatch", "scan", "--regions", "us-east-1,eu-west-1"])
            .unwrap();
        match cli.command {
            Command::Scan(args) => assert_eq!(args.regions, ["us-east-1", "eu-west-1"]),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn dry_run_requires_publish() {
        assert!(Cli::try_parse_from(["trailwatch", "scan", "--dry-run"]).is_err());
    }
}
