//! The Lambda's logic, kept in the library so tests call it without a runtime.
//!
//! [`Config::from_env`] reads the function's environment (`TRAILWATCH_REGIONS`,
//! `TRAILWATCH_CONTROLS`, `TRAILWATCH_SECURITYHUB_REGION`, `TRAILWATCH_DRY_RUN`);
//! [`parse_event`] decides what an invocation asks for (the EventBridge scheduled event, or a
//! direct invoke with optional overrides; anything else is a [`HandlerError::Event`]); [`handle`]
//! scans the account of the SDK configuration's credentials, turns the findings into ASFF,
//! publishes them to Security Hub (or plans it, in a dry run) and returns a [`RunSummary`].
//! The standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials) is the SDK
//! configuration's business: the binary loads it once with `aws_config::load_defaults`.

use crate::asff::{self, AsffContext, AsffFinding};
use crate::collect::{CollectError, CollectPlan};
use crate::controls::{self, Control};
use crate::findings::{Finding, StatusCounts};
use crate::publish::{self, FailedFinding, PublishError, PublishOptions, PublishTarget};
use crate::scan;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Instant;

/// Comma list of regions to scan; unset or empty: the account's enabled regions.
pub const ENV_REGIONS: &str = "TRAILWATCH_REGIONS";
/// Comma list of control ids, or `default` / `all`; unset or empty: `default`.
pub const ENV_CONTROLS: &str = "TRAILWATCH_CONTROLS";
/// The Security Hub region to import into; unset or empty: the function's region.
pub const ENV_SECURITYHUB_REGION: &str = "TRAILWATCH_SECURITYHUB_REGION";
/// `true` to plan the import without calling `BatchImportFindings`.
pub const ENV_DRY_RUN: &str = "TRAILWATCH_DRY_RUN";

/// The function's configuration, from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: the account's enabled regions.
    pub regions: Option<Vec<String>>,
    pub controls: Vec<&'static Control>,
    /// `None`: the SDK configuration's region (the function's `AWS_REGION`).
    pub securityhub_region: Option<String>,
    pub dry_run: bool,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, HandlerError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable's value by name).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, HandlerError> {
        let value = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let regions = value(ENV_REGIONS)
            .map(|list| parse_regions(list.split(',').map(str::trim), ENV_REGIONS))
            .transpose()?;
        let controls = scan::select_controls(&value(ENV_CONTROLS).unwrap_or("default".into()))
            .map_err(|error| HandlerError::Config(format!("{ENV_CONTROLS}: {error}")))?;
        let securityhub_region = value(ENV_SECURITYHUB_REGION)
            .map(|region| {
                parse_regions(std::iter::once(region.as_str()), ENV_SECURITYHUB_REGION)
                    .map(|mut regions| regions.remove(0))
            })
            .transpose()?;
        let dry_run = match value(ENV_DRY_RUN) {
            None => false,
            Some(text) => parse_bool(&text).ok_or_else(|| {
                HandlerError::Config(format!(
                    "{ENV_DRY_RUN}: expected true or false, got {text:?}"
                ))
            })?,
        };
        Ok(Config {
            regions,
            controls,
            securityhub_region,
            dry_run,
        })
    }
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`), any case.
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// Region names, checked for shape (`eu-west-1`, `us-gov-west-1`, …); `what` names their source.
fn parse_regions<'a>(
    names: impl Iterator<Item = &'a str>,
    what: &str,
) -> Result<Vec<String>, HandlerError> {
    let mut regions: Vec<String> = Vec::new();
    for name in names.filter(|name| !name.is_empty()) {
        let well_formed = name.contains('-')
            && name.ends_with(|c: char| c.is_ascii_digit())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !well_formed {
            return Err(HandlerError::Config(format!(
                "{what}: {name:?} is not a region name (like eu-west-1)"
            )));
        }
        if !regions.iter().any(|region| region == name) {
            regions.push(name.to_string());
        }
    }
    if regions.is_empty() {
        return Err(HandlerError::Config(format!("{what}: no region given")));
    }
    Ok(regions)
}

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The EventBridge schedule: scan with the configuration.
    Scheduled {
        /// The event's `time`.
        time: Option<String>,
        /// The rule that fired (the event's first resource).
        rule: Option<String>,
    },
    /// A direct invoke, with overrides of the configuration.
    Direct(Overrides),
}

impl Invocation {
    /// `scheduled` or `direct`, for summaries and logs.
    pub fn trigger(&self) -> &'static str {
        match self {
            Invocation::Scheduled { .. } => "scheduled",
            Invocation::Direct(_) => "direct",
        }
    }
}

/// The body of a direct invoke: `{}` or `{"regions":[…],"controls":[…],"dry_run":…}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub regions: Option<Vec<String>>,
    pub controls: Option<Vec<String>>,
    pub dry_run: Option<bool>,
}

const EXPECTED_EVENTS: &str = "trailwatch takes the EventBridge scheduled event \
(source aws.events, detail-type Scheduled Event) or a direct invoke \
{\"regions\": [...], \"controls\": [...], \"dry_run\": true|false} (every key optional)";

/// Reads an invocation event. Never panics: an unexpected shape is a [`HandlerError::Event`].
pub fn parse_event(event: &Value) -> Result<Invocation, HandlerError> {
    let Some(object) = event.as_object() else {
        return Err(HandlerError::Event(format!(
            "expected a JSON object, got {}; {EXPECTED_EVENTS}",
            json_kind(event)
        )));
    };
    if object.contains_key("source") || object.contains_key("detail-type") {
        let source = object.get("source").and_then(Value::as_str);
        let detail_type = object.get("detail-type").and_then(Value::as_str);
        if source == Some("aws.events") && detail_type == Some("Scheduled Event") {
            return Ok(Invocation::Scheduled {
                time: object
                    .get("time")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                rule: object
                    .get("resources")
                    .and_then(|resources| resources.get(0))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            });
        }
        return Err(HandlerError::Event(format!(
            "EventBridge event with source {} and detail-type {} is not handled; {EXPECTED_EVENTS}",
            source.map_or("(none)".to_string(), |s| format!("{s:?}")),
            detail_type.map_or("(none)".to_string(), |s| format!("{s:?}")),
        )));
    }
    if object.contains_key("Records") {
        return Err(HandlerError::Event(format!(
            "record batches (SQS, SNS, S3) are not handled; {EXPECTED_EVENTS}"
        )));
    }
    let overrides: Overrides = serde_json::from_value(event.clone())
        .map_err(|error| HandlerError::Event(format!("{error}; {EXPECTED_EVENTS}")))?;
    Ok(Invocation::Direct(overrides))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What one run does: the configuration with the invocation's overrides applied.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub trigger: &'static str,
    pub regions: Option<Vec<String>>,
    pub controls: Vec<&'static Control>,
    pub securityhub_region: Option<String>,
    pub dry_run: bool,
    /// Archive held findings the run no longer produces: only a run over the configured regions
    /// and controls does; a direct invoke that narrows them leaves the rest alone.
    pub archive_stale: bool,
}

impl RunSettings {
    /// Applies an invocation to the configuration.
    pub fn resolve(config: &Config, invocation: &Invocation) -> Result<Self, HandlerError> {
        let mut settings = RunSettings {
            trigger: invocation.trigger(),
            regions: config.regions.clone(),
            controls: config.controls.clone(),
            securityhub_region: config.securityhub_region.clone(),
            dry_run: config.dry_run,
            archive_stale: true,
        };
        if let Invocation::Direct(overrides) = invocation {
            settings.archive_stale = overrides.regions.is_none() && overrides.controls.is_none();
            if let Some(regions) = &overrides.regions {
                let regions = parse_regions(regions.iter().map(|r| r.trim()), "event regions")
                    .map_err(|error| HandlerError::Event(error.detail().to_string()))?;
                settings.regions = Some(regions);
            }
            if let Some(controls) = &overrides.controls {
                settings.controls = scan::select_controls(&controls.join(","))
                    .map_err(|error| HandlerError::Event(format!("event controls: {error}")))?;
            }
            if let Some(dry_run) = overrides.dry_run {
                settings.dry_run = dry_run;
            }
        }
        Ok(settings)
    }
}

/// API calls one run made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCalls {
    /// Made by the scan (collect).
    pub scan: u64,
    pub get_findings: u64,
    pub batch_import_findings: u64,
    pub total: u64,
}

/// What the function returns (and logs) for one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// `scheduled` or `direct`.
    pub trigger: String,
    pub account_id: String,
    pub partition: String,
    /// The regions scanned.
    pub regions: Vec<String>,
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
    /// Whether held findings this run no longer produces were archived (see
    /// [`RunSettings::archive_stale`]).
    pub archive_stale: bool,
    /// Findings new to Security Hub / updating a held one / held but no longer produced.
    pub new: usize,
    pub updated: usize,
    pub stale: usize,
    /// Import batches (planned ones in a dry run).
    pub batches: usize,
    pub duration_ms: u64,
    pub scan_duration_ms: u64,
}

/// A failure of one invocation.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("unsupported event: {0}")]
    Event(String),
    #[error("scan failed: {0}")]
    Scan(#[from] CollectError),
    #[error(
        "no Security Hub region: set {ENV_SECURITYHUB_REGION} or AWS_REGION (the function's region)"
    )]
    NoRegion,
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl HandlerError {
    /// The `errorType` the Lambda runtime reports.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Config(_) => "trailwatch.InvalidConfiguration",
            HandlerError::Event(_) => "trailwatch.UnsupportedEvent",
            HandlerError::Scan(_) => "trailwatch.ScanFailed",
            HandlerError::NoRegion => "trailwatch.NoSecurityHubRegion",
            HandlerError::Publish(_) => "trailwatch.PublishFailed",
        }
    }

    /// The message without its category prefix.
    fn detail(&self) -> String {
        match self {
            HandlerError::Config(detail) | HandlerError::Event(detail) => detail.clone(),
            other => other.to_string(),
        }
    }
}

/// One invocation: parse the event, scan, publish, summarize.
pub async fn handle(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    event: &Value,
) -> Result<RunSummary, HandlerError> {
    let invocation = parse_event(event).inspect_err(|error| {
        tracing::error!(error = %error, "rejected the invocation event");
    })?;
    if let Invocation::Scheduled { time, rule } = &invocation {
        tracing::info!(time = ?time, rule = ?rule, "scheduled run");
    }
    let settings = RunSettings::resolve(config, &invocation)?;
    let summary = run(sdk, &settings).await.inspect_err(|error| {
        tracing::error!(error = %error, "run failed");
    })?;
    tracing::info!(
        summary = %serde_json::to_string(&summary).unwrap_or_default(),
        "run complete"
    );
    Ok(summary)
}

/// Scans the account of `sdk`'s credentials and publishes (or plans) its findings.
pub async fn run(
    sdk: &aws_config::SdkConfig,
    settings: &RunSettings,
) -> Result<RunSummary, HandlerError> {
    let started = Instant::now();
    let securityhub_region = settings
        .securityhub_region
        .clone()
        .or_else(|| sdk.region().map(|region| region.to_string()))
        .ok_or(HandlerError::NoRegion)?;
    let plan = CollectPlan {
        regions: settings.regions.clone(),
    };
    let outcome = scan::scan_account(sdk, &plan, &settings.controls).await?;
    let snapshot = &outcome.snapshot;
    let asff = asff_findings(&outcome.findings, &securityhub_region);

    let target = PublishTarget {
        account_id: snapshot.account_id.clone(),
        partition: snapshot.partition.clone(),
        region: securityhub_region.clone(),
    };
    let client = aws_sdk_securityhub::Client::from_conf(
        aws_sdk_securityhub::config::Builder::from(sdk)
            .region(aws_config::Region::new(securityhub_region.clone()))
            .build(),
    );
    let options = PublishOptions {
        dry_run: settings.dry_run,
        archive_stale: settings.archive_stale,
        ..PublishOptions::default()
    };
    let report = publish::publish(&client, &target, asff, &options).await?;

    let get_findings = report.get_findings_calls as u64;
    let batch_import_findings = report.import_calls as u64;
    Ok(RunSummary {
        trigger: settings.trigger.to_string(),
        account_id: snapshot.account_id.clone(),
        partition: snapshot.partition.clone(),
        regions: snapshot.regions.clone(),
        controls: settings
            .controls
            .iter()
            .map(|control| control.id.to_string())
            .collect(),
        securityhub_region,
        dry_run: settings.dry_run,
        findings: StatusCounts::of(&outcome.findings),
        read_errors: snapshot.read_errors.len(),
        api_calls: ApiCalls {
            scan: snapshot.api_calls,
            get_findings,
            batch_import_findings,
            total: snapshot.api_calls + get_findings + batch_import_findings,
        },
        published: report.imported - report.archived,
        archived: report.archived,
        failed: report.failed.len(),
        failed_ids: report.failed_ids(),
        failures: report.failed,
        archive_stale: settings.archive_stale,
        new: report.new,
        updated: report.updated,
        stale: report.stale,
        batches: report.batches,
        duration_ms: started.elapsed().as_millis() as u64,
        scan_duration_ms: outcome.duration.as_millis() as u64,
    })
}

/// The findings in ASFF for Security Hub in `region`, observed now.
fn asff_findings(findings: &[Finding], region: &str) -> Vec<AsffFinding> {
    let context = AsffContext {
        region: region.to_string(),
        observed_at: publish::now_rfc3339(),
    };
    findings
        .iter()
        .filter_map(|finding| match controls::control(&finding.control_id) {
            Some(control) => Some(asff::to_asff(finding, control, &context)),
            None => {
                tracing::error!(control_id = %finding.control_id, "finding of an unknown control not published");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, HandlerError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    fn ids(controls: &[&Control]) -> Vec<&'static str> {
        controls.iter().map(|control| control.id).collect()
    }

    fn sample(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn empty_environment_means_defaults() {
        let config = config(&[]).unwrap();
        assert_eq!(config.regions, None);
        assert_eq!(ids(&config.controls), controls::DEFAULT_CONTROLS);
        assert_eq!(config.securityhub_region, None);
        assert!(!config.dry_run);
        let blank = self::config(&[(ENV_REGIONS, " "), (ENV_CONTROLS, ""), (ENV_DRY_RUN, "")]);
        assert_eq!(blank.unwrap().regions, None);
    }

    #[test]
    fn environment_is_read() {
        let config = config(&[
            (ENV_REGIONS, "eu-west-1, us-east-1,,eu-west-1"),
            (ENV_CONTROLS, "nacl-changes,cloudtrail-changes"),
            (ENV_SECURITYHUB_REGION, "eu-central-1"),
            (ENV_DRY_RUN, "TRUE"),
        ])
        .unwrap();
        assert_eq!(
            config.regions,
            Some(vec!["eu-west-1".to_string(), "us-east-1".to_string()])
        );
        assert_eq!(
            ids(&config.controls),
            ["nacl-changes", "cloudtrail-changes"]
        );
        assert_eq!(config.securityhub_region.as_deref(), Some("eu-central-1"));
        assert!(config.dry_run);
        let all = self::config(&[(ENV_CONTROLS, "all")]).unwrap();
        assert_eq!(all.controls.len(), controls::catalog().len());
    }

    #[test]
    fn bad_environment_is_a_clear_error() {
        let error = config(&[(ENV_CONTROLS, "nope")]).unwrap_err();
        assert!(matches!(error, HandlerError::Config(_)));
        assert!(error.to_string().contains("TRAILWATCH_CONTROLS"), "{error}");
        assert!(error.to_string().contains("nope"), "{error}");
        let error = config(&[(ENV_DRY_RUN, "maybe")]).unwrap_err();
        assert!(error.to_string().contains("TRAILWATCH_DRY_RUN"), "{error}");
        let error = config(&[(ENV_REGIONS, "eu-west-1,Mars")]).unwrap_err();
        assert!(error.to_string().contains("\"Mars\""), "{error}");
        let error = config(&[(ENV_SECURITYHUB_REGION, "eu west 1")]).unwrap_err();
        assert!(
            error.to_string().contains(ENV_SECURITYHUB_REGION),
            "{error}"
        );
        let error = config(&[(ENV_REGIONS, ",")]).unwrap_err();
        assert!(error.to_string().contains("no region"), "{error}");
    }

    #[test]
    fn the_sample_scheduled_event_is_a_scheduled_run() {
        let invocation = parse_event(&sample("scheduled.json")).unwrap();
        let Invocation::Scheduled { time, rule } = invocation else {
            panic!("not scheduled: {invocation:?}");
        };
        assert!(time.is_some());
        assert!(rule.unwrap().starts_with("arn:aws:events:"));
    }

    #[test]
    fn direct_invokes_carry_overrides() {
        assert_eq!(
            parse_event(&json!({})).unwrap(),
            Invocation::Direct(Overrides::default())
        );
        let invocation = parse_event(&sample("direct-invoke.json")).unwrap();
        let Invocation::Direct(overrides) = &invocation else {
            panic!("not direct: {invocation:?}");
        };
        assert!(overrides.regions.is_some());
        let config = config(&[(ENV_REGIONS, "eu-central-1")]).unwrap();
        let settings = RunSettings::resolve(
            &config,
            &Invocation::Direct(Overrides {
                regions: Some(vec!["us-east-1".into()]),
                controls: Some(vec!["config-changes".into()]),
                dry_run: Some(true),
            }),
        )
        .unwrap();
        assert_eq!(settings.trigger, "direct");
        assert_eq!(settings.regions, Some(vec!["us-east-1".to_string()]));
        assert_eq!(ids(&settings.controls), ["config-changes"]);
        assert!(settings.dry_run);
        assert!(!settings.archive_stale, "a narrowed run archives nothing");
        let plain = RunSettings::resolve(
            &config,
            &Invocation::Direct(Overrides {
                dry_run: Some(false),
                ..Overrides::default()
            }),
        )
        .unwrap();
        assert!(plain.archive_stale);
        let scheduled = Invocation::Scheduled {
            time: None,
            rule: None,
        };
        let settings = RunSettings::resolve(&config, &scheduled).unwrap();
        assert!(settings.archive_stale);
        assert_eq!(settings.regions, Some(vec!["eu-central-1".to_string()]));
        assert!(!settings.dry_run);
    }

    #[test]
    fn bad_overrides_are_event_errors() {
        let config = config(&[]).unwrap();
        let resolve = |event: Value| {
            parse_event(&event).and_then(|invocation| RunSettings::resolve(&config, &invocation))
        };
        for (event, expected) in [
            (json!({"controls": ["nope"]}), "unknown control id"),
            (json!({"regions": []}), "no region"),
            (json!({"regions": ["EU"]}), "not a region name"),
            (json!({"regions": "eu-west-1"}), "invalid type"),
            (json!({"dry_run": "yes"}), "invalid type"),
            (json!({"region": ["eu-west-1"]}), "unknown field `region`"),
        ] {
            let error = resolve(event.clone()).unwrap_err();
            assert!(
                matches!(error, HandlerError::Event(_)),
                "{event}: {error:?}"
            );
            assert!(error.to_string().contains(expected), "{event}: {error}");
        }
    }

    #[test]
    fn other_events_are_rejected_with_what_is_expected() {
        for event in [
            sample("malformed.json"),
            json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}),
            json!({"source": "aws.events", "detail-type": "Something Else"}),
            json!({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}),
            json!([1, 2]),
            json!("scan"),
            json!(null),
        ] {
            let error = parse_event(&event).unwrap_err();
            assert!(matches!(error, HandlerError::Event(_)), "{event}");
            assert!(error.to_string().contains("Scheduled Event"), "{error}");
            assert_eq!(error.error_type(), "trailwatch.UnsupportedEvent");
        }
    }
}
