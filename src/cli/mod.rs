//! The `trailwatch` command line: scan an account, evaluate a saved snapshot, list the controls,
//! and drive the filter-pattern engine. [`run`] maps every outcome to an exit code:
//!
//! 0 nothing failed; 1 at least one control FAILED (scan, evaluate), an account of an organization
//! scan could not be scanned, or the pattern is invalid (`pattern check`); 2 usage error; 3 the
//! command could not run (no credentials, an unreadable snapshot, an output file that cannot be
//! written, findings Security Hub refused).

mod errors;
mod pattern;
mod remediate;
mod render;
mod scan;

use crate::controls::{self, CisVersion};
use clap::{Args, Parser, Subcommand, ValueEnum};
use pattern::PatternCommand;
use std::path::PathBuf;
use std::process::ExitCode;

/// Checks that an AWS account really watches its own CloudTrail activity (CIS AWS Foundations
/// Benchmark monitoring controls) and reports the findings in ASFF for Security Hub.
#[derive(Debug, Parser)]
#[command(
    name = "trailwatch",
    version,
    about,
    long_about = None,
    after_help = "Exit status: 0 nothing failed; 1 a control FAILED (scan, evaluate), an account of an organization scan could not be scanned, or the pattern is invalid (pattern check); 2 usage error; 3 could not run (credentials, unreadable snapshot, unwritable output, findings Security Hub refused)."
)]
pub struct Cli {
    /// On an error, also print what the AWS SDK said; log the run's progress to stderr (as
    /// RUST_LOG=trailwatch=debug would; RUST_LOG, when set, decides what is logged).
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Scan the account of the current AWS credentials (honours AWS_PROFILE, AWS_REGION,
    /// AWS_ENDPOINT_URL and the other standard AWS settings), or with --organization every
    /// account of its AWS Organization.
    Scan(ScanArgs),
    /// Evaluate a snapshot saved by `scan --save-snapshot`, offline.
    Evaluate(EvaluateArgs),
    /// Plan the fix of every failing control: the ordered, non-destructive steps that complete
    /// each broken chain with the account's own resources, as AWS CLI commands, a CloudFormation
    /// template or JSON. Scans now (same options as `scan`), or reads saved snapshots.
    Remediate(RemediateArgs),
    /// List the controls trailwatch knows, with their CIS number in each benchmark version and
    /// their Security Hub control; with --cis-version, also each control's pattern in force.
    Controls(ControlsArgs),
    /// The CloudWatch Logs filter-pattern engine.
    #[command(subcommand)]
    Pattern(PatternCommand),
}

#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    /// Regions whose trails are listed, comma-separated (default: the account's enabled regions).
    #[arg(long, value_delimiter = ',')]
    pub(crate) regions: Vec<String>,
    /// AWS shared-config profile to use.
    #[arg(long)]
    pub(crate) profile: Option<String>,
    /// Save the collected snapshot (JSON) to this file.
    #[arg(long, value_name = "FILE", conflicts_with = "organization")]
    pub(crate) save_snapshot: Option<PathBuf>,
    /// Import the findings into Security Hub (BatchImportFindings), each account's into its own
    /// Security Hub. Held trailwatch findings of the run's own controls, accounts and listed regions
    /// that it no longer produces are archived; nothing outside that scope is touched.
    #[arg(long)]
    pub(crate) publish: bool,
    /// With --publish: read Security Hub and plan the batches, but import nothing; print the plan.
    #[arg(long, requires = "publish")]
    pub(crate) dry_run: bool,
    /// Security Hub region to publish to (default: the region of the AWS configuration, else
    /// the first region scanned).
    #[arg(long)]
    pub(crate) securityhub_region: Option<String>,
    #[command(flatten)]
    pub(crate) organization: OrganizationArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct OrganizationArgs {
    /// Scan every ACTIVE account of the AWS Organization (run with the management account's or a
    /// delegated administrator's credentials): each through its member role, the scanning account
    /// with its own credentials; accounts that cannot be scanned get a finding in the scanning
    /// account.
    #[arg(long)]
    pub(crate) organization: bool,
    /// The member role assumed in each account: arn:<partition>:iam::<id>:role/<name>.
    #[arg(long, default_value = "trailwatch-scan", requires = "organization")]
    pub(crate) role_name: String,
    /// The sts:ExternalId the member role's trust policy requires.
    #[arg(long, requires = "organization")]
    pub(crate) external_id: Option<String>,
    /// Scan only these accounts (comma-separated ids).
    #[arg(long, value_delimiter = ',', requires = "organization")]
    pub(crate) accounts: Vec<String>,
    /// Never scan these accounts (comma-separated ids).
    #[arg(long, value_delimiter = ',', requires = "organization")]
    pub(crate) exclude_accounts: Vec<String>,
    /// Accounts scanned at once.
    #[arg(long, default_value_t = crate::run::org::DEFAULT_MAX_IN_FLIGHT, value_parser = clap::value_parser!(u16).range(1..=256), requires = "organization")]
    pub(crate) max_accounts_in_flight: u16,
}

#[derive(Debug, Args)]
pub(crate) struct EvaluateArgs {
    /// The snapshot file (JSON) to evaluate.
    pub(crate) snapshot: PathBuf,
    /// Security Hub region named in the ASFF ProductArn (default: the snapshot's first region).
    #[arg(long)]
    pub(crate) securityhub_region: Option<String>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RemediateArgs {
    /// Snapshots saved by `scan --save-snapshot` to plan from, offline (one per account; an
    /// organization's members together). None: scan now.
    #[arg(value_name = "SNAPSHOT", conflicts_with_all = ["regions", "profile", "organization"])]
    pub(crate) snapshots: Vec<PathBuf>,
    /// Regions whose trails are listed, comma-separated (default: the account's enabled regions).
    #[arg(long, value_delimiter = ',')]
    pub(crate) regions: Vec<String>,
    /// AWS shared-config profile to scan with.
    #[arg(long)]
    pub(crate) profile: Option<String>,
    #[command(flatten)]
    pub(crate) organization: OrganizationArgs,
    /// Controls to plan for: comma-separated ids, `default` (the five seed controls) or `all`.
    #[arg(long, default_value = "default")]
    pub(crate) controls: String,
    #[arg(long, value_name = "VERSION", value_parser = cis_version, help = cis_version_help("whose pattern the new metric filters use"),
        default_value_t = CisVersion::newest())]
    pub(crate) cis_version: CisVersion,
    /// How the plan is printed.
    #[arg(long, value_enum, default_value_t = PlanFormat::Cli)]
    pub(crate) format: PlanFormat,
    /// The endpoint a new subscription delivers to, e.g. email:security@example.com (the
    /// endpoint's owner confirms it). Without it, a step that needs one stops the plan.
    #[arg(long, value_name = "PROTOCOL:ENDPOINT", value_parser = notify_endpoint)]
    pub(crate) notify: Option<trailwatch_core::remediate::Endpoint>,
}

/// Parses `--notify`.
fn notify_endpoint(text: &str) -> Result<trailwatch_core::remediate::Endpoint, String> {
    trailwatch_core::remediate::Endpoint::parse(text).map_err(|error| error.to_string())
}

/// The forms of a remediation plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PlanFormat {
    /// A bash script of AWS CLI commands (`set -euo pipefail`), every value filled in.
    Cli,
    /// A CloudFormation template creating exactly the missing resources.
    Cloudformation,
    /// The plan as JSON, for tools.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ControlsArgs {
    #[arg(long, value_name = "VERSION", value_parser = cis_version,
        help = cis_version_help("whose requirements, patterns and sources to show"))]
    pub(crate) cis_version: Option<CisVersion>,
    #[arg(long, value_name = "FRAMEWORK", conflicts_with = "cis_version", help = framework_help())]
    pub(crate) framework: Option<String>,
}

/// The `--framework` help, naming the frameworks the mapping files define.
fn framework_help() -> String {
    format!(
        "List a compliance framework's requirements, the controls that serve each, and the source of each mapping: {}",
        controls::known_frameworks()
    )
}

#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Controls to evaluate: comma-separated ids, `default` (the five seed controls) or `all`.
    #[arg(long, default_value = "default")]
    pub(crate) controls: String,
    #[arg(long, value_name = "VERSION", value_parser = cis_version, help = cis_version_help(FINDINGS_VERSION),
        default_value_t = CisVersion::newest())]
    pub(crate) cis_version: CisVersion,
    /// How findings are printed on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
    /// Also write the findings to this file as an ASFF JSON array (what goes to Security Hub).
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

/// The `--cis-version` help: what the version decides, then the versions the mapping files
/// define.
fn cis_version_help(decides: &str) -> String {
    format!(
        "CIS AWS Foundations Benchmark version {decides}: {} (also written 1.4 or v1.4.0)",
        controls::known_versions()
    )
}

/// What `--cis-version` decides for `scan` and `evaluate`.
const FINDINGS_VERSION: &str =
    "whose pattern text each control requires and whose requirement numbers the findings name";

/// Parses `--cis-version`.
fn cis_version(text: &str) -> Result<CisVersion, String> {
    CisVersion::parse(text).map_err(|error| error.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// One line per finding and a summary.
    Table,
    /// The findings as an ASFF JSON array.
    Json,
    /// One self-contained HTML page: a summary, then each control's chain drawn link by link,
    /// the broken link marked with its reason.
    Html,
    /// OCSF Compliance Finding events (OCSF 1.5.0), a JSON array: for Security Lake and SIEMs.
    Ocsf,
    /// One row per finding (RFC 4180), for a spreadsheet.
    Csv,
}

impl Format {
    /// The renderer of a format written once the whole run is known (from every account's
    /// findings); `None` for table and JSON, which are written as findings arrive.
    pub(crate) fn report_renderer(self) -> Option<fn(&crate::report::RunReport) -> String> {
        match self {
            Format::Html => Some(crate::report::html::render),
            Format::Ocsf => Some(crate::report::ocsf::render),
            Format::Csv => Some(crate::report::csv::render),
            Format::Table | Format::Json => None,
        }
    }
}

/// Why a command stopped, by the exit code it means.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command line asks for something that does not exist (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The command could not do its work (exit 3).
    #[error("{0}")]
    CouldNotRun(String),
    /// The command could not do its work (exit 3): one line for the user, and the underlying
    /// error, printed with `--verbose`.
    #[error("{message}")]
    Explained { message: String, detail: String },
}

impl CliError {
    fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::CouldNotRun(_) | CliError::Explained { .. } => ExitCode::from(3),
        }
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitCode {
    let rust_log = std::env::var_os("RUST_LOG").is_some();
    let verbose = cli.verbose || rust_log;
    if verbose {
        let filter = if rust_log {
            tracing_subscriber::EnvFilter::from_default_env()
        } else {
            tracing_subscriber::EnvFilter::new("warn,trailwatch=debug")
        };
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let result = match cli.command {
        Command::Scan(args) if args.organization.organization => {
            scan::scan_organization(args).await
        }
        Command::Scan(args) => scan::scan(args).await,
        Command::Evaluate(args) => scan::evaluate(args),
        Command::Remediate(args) => remediate::run(args).await,
        Command::Controls(args) => match args.framework.as_deref() {
            Some(name) => controls::Framework::parse(name)
                .map(|framework| {
                    print!("{}", render::framework_table(framework));
                    ExitCode::SUCCESS
                })
                .map_err(|unknown| CliError::Usage(unknown.to_string())),
            None => {
                print!(
                    "{}",
                    render::control_table(controls::catalog(), args.cis_version)
                );
                Ok(ExitCode::SUCCESS)
            }
        },
        Command::Pattern(command) => pattern::run(command),
    };
    result.unwrap_or_else(|error| {
        eprintln!("trailwatch: {error}");
        match &error {
            CliError::Explained { detail, .. } if verbose && !detail.is_empty() => {
                eprintln!("trailwatch: detail: {detail}");
            }
            _ => {}
        }
        error.exit_code()
    })
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

    #[test]
    fn cis_version_defaults_to_the_newest_and_accepts_short_spellings() {
        let version = |args: &[&str]| match Cli::try_parse_from(args).unwrap().command {
            Command::Evaluate(args) => args.output.cis_version.to_string(),
            other => panic!("parsed as {other:?}"),
        };
        assert_eq!(version(&["trailwatch", "evaluate", "s.json"]), "7.0.0");
        assert_eq!(
            version(&["trailwatch", "evaluate", "s.json", "--cis-version", "v1.4"]),
            "1.4.0"
        );
        let error =
            Cli::try_parse_from(["trailwatch", "scan", "--cis-version", "1.1.0"]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("unknown CIS version \"1.1.0\"; known: 1.2.0, 1.3.0"),
            "{error}"
        );
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn cis_version_help_lists_exactly_the_known_versions() {
        let mut command = Cli::command();
        let scan = command.find_subcommand_mut("scan").unwrap();
        let help = scan.render_long_help().to_string();
        let listed = format!("{} (also written", controls::known_versions());
        assert!(help.contains(&listed), "{help}");
        assert!(help.contains("[default: 7.0.0]"), "{help}");
    }
}
