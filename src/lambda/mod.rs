//! The Lambda's logic, kept in the library so tests call it without a runtime; the binary
//! (`src/bin/trailwatch-lambda.rs`) only wires [`handle`] into `lambda_runtime`.
//!
//! [`config`] reads the function's environment once per cold start; [`event`] decides what an
//! invocation asks for; [`handle`] resolves both into [`RunSettings`], runs the one pipeline
//! ([`crate::run::run_account`]) — or, in an organization stack, coordinates it or scans the
//! accounts of an SQS batch ([`fanout`]), or re-checks what a batch of change events concerns
//! ([`recheck`]) — and answers a [`Response`]. Failures are
//! [`LambdaError`]s, each kind its own `errorType`.

pub mod config;
pub mod errors;
pub mod event;
pub mod fanout;
pub mod mac;
pub mod recheck;
pub mod trust;

pub use config::Config;
pub use errors::LambdaError;
pub use event::{parse_event, Invocation, Overrides};

use crate::controls;
use crate::run::{self, Publish, RunSettings, RunSummary};
pub use event::{SqsBatchResponse, SqsMessage};
use fanout::CoordinatorSummary;
use serde::Serialize;
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What an invocation answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// A single-account stack's run.
    Run(Box<RunSummary>),
    /// An organization stack's coordinator.
    Coordinated(Box<CoordinatorSummary>),
    /// An organization stack's worker: the records to retry.
    Batch(SqsBatchResponse),
    /// A batch of change events: the records to retry, and what was re-checked.
    Rechecked(Box<recheck::RecheckResponse>),
}

/// One invocation without a deadline: [`handle_until`] with none.
pub async fn handle(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    event: &Value,
) -> Result<Response, LambdaError> {
    handle_until(sdk, config, event, None).await
}

/// The invocation's deadline from the runtime's `Context::deadline` (milliseconds since the
/// epoch); `None` for 0 (no deadline known), and for a deadline already past when the invocation
/// arrives: Lambda's is at least the function's timeout (≥ 1 s) away, so a past one comes from a
/// runtime emulator that does not set it (cargo-lambda's local runtime), and planning by it would
/// return every record unscanned.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Option<Instant> {
    if deadline_ms == 0 {
        return None;
    }
    let at = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    match at.duration_since(SystemTime::now()) {
        Ok(left) if !left.is_zero() => Some(Instant::now() + left),
        _ => {
            tracing::warn!(
                deadline_ms,
                "the invocation's deadline has already passed: planning without one"
            );
            None
        }
    }
}

/// One invocation: parse the event, run, summarize. `deadline` (the runtime's, see
/// [`deadline_from_epoch_ms`]) bounds a worker's batch: records are not started when too little
/// time is left, and come back in `batchItemFailures`; and a coordinator's queueing: accounts it
/// has no time left to queue make the invocation fail (to be retried), naming them — and, in a
/// re-check that starts the organization run, that change's records are retried.
pub async fn handle_until(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    event: &Value,
    deadline: Option<Instant>,
) -> Result<Response, LambdaError> {
    let invocation = parse_event(event).inspect_err(|error| {
        tracing::error!(error = %error, "rejected the invocation event");
    })?;
    if let Invocation::Scheduled { time, rule } = &invocation {
        tracing::info!(time = ?time, rule = ?rule, "scheduled run");
    }
    let change_queue = match &invocation {
        Invocation::Sqs(records) => recheck::change_queue_of(config, records),
        _ => None,
    };
    let response = match (&invocation, &config.organization, change_queue) {
        (Invocation::Sqs(records), _, Some(queue)) => Response::Rechecked(Box::new(
            Box::pin(recheck::work(sdk, config, queue, records, deadline)).await?,
        )),
        (Invocation::Sqs(records), Some(org), None) => {
            Response::Batch(Box::pin(fanout::work(sdk, config, org, records, deadline)).await)
        }
        (Invocation::Sqs(_), None, None) => {
            let error = LambdaError::Event(format!(
                "an SQS batch is an organization stack's work; set {} (and {})",
                config::ENV_ORGANIZATION,
                config::ENV_QUEUE_URL
            ));
            tracing::error!(error = %error, "rejected the invocation event");
            return Err(error);
        }
        (_, Some(org), _) => {
            let settings = resolve(config, &invocation)?;
            let summary = Box::pin(fanout::coordinate(
                sdk,
                org,
                invocation.trigger(),
                &settings,
                deadline,
                None,
            ))
            .await
            .inspect_err(|error| tracing::error!(error = %error, "run failed"))?;
            Response::Coordinated(Box::new(summary))
        }
        (_, None, _) => {
            let settings = resolve(config, &invocation)?;
            let summary = Box::pin(run(sdk, invocation.trigger(), &settings))
                .await
                .inspect_err(|error| tracing::error!(error = %error, "run failed"))?;
            Response::Run(Box::new(summary))
        }
    };
    tracing::info!(
        response = %serde_json::to_string(&response).unwrap_or_default(),
        "run complete"
    );
    Ok(response)
}

/// Runs the pipeline and publishes (or plans) the findings; a publish that could not start is
/// the invocation's error.
pub async fn run(
    sdk: &aws_config::SdkConfig,
    trigger: &str,
    settings: &RunSettings,
) -> Result<RunSummary, LambdaError> {
    let account_run = run::run_account(sdk, settings).await?;
    if let Some(Err(error)) = account_run.published {
        return Err(error.into());
    }
    Ok(RunSummary::new(trigger, settings, &account_run))
}

/// The configuration with the invocation's overrides applied. An invoke may only narrow what
/// the stack allows, never widen it: regions and controls must be among the configured ones (a
/// stack without a region list scans every enabled region, so any region name narrows it), and
/// `dry_run: false` cannot switch off a stack deployed with `DryRun=true`. A refusal is a
/// [`LambdaError::Event`] naming what was refused.
pub fn resolve(config: &Config, invocation: &Invocation) -> Result<RunSettings, LambdaError> {
    let mut regions = config.regions.clone();
    let mut selected = config.controls.clone();
    let mut dry_run = config.dry_run;
    if let Invocation::Direct(overrides) = invocation {
        if let Some(names) = &overrides.regions {
            let asked = run::region_names(names.iter().map(String::as_str))
                .map_err(|error| LambdaError::Event(format!("event regions: {error}")))?;
            regions = Some(
                narrow_regions(config.regions.as_deref(), asked)
                    .map_err(|error| LambdaError::Event(format!("event regions: {error}")))?,
            );
        }
        if let Some(ids) = &overrides.controls {
            let asked = controls::select(&ids.join(","))
                .map_err(|error| LambdaError::Event(format!("event controls: {error}")))?;
            selected = narrow_controls(&config.controls, asked)
                .map_err(|error| LambdaError::Event(format!("event controls: {error}")))?;
        }
        if let Some(dry) = overrides.dry_run {
            dry_run = narrow_dry_run(config.dry_run, dry)
                .map_err(|error| LambdaError::Event(format!("event dry_run: {error}")))?;
        }
    }
    Ok(RunSettings {
        regions,
        controls: selected,
        cis_version: config.cis_version,
        securityhub_region: config.securityhub_region.clone(),
        publish: if dry_run {
            Publish::DryRun
        } else {
            Publish::Import
        },
    })
}

/// `asked` when the stack's regions (`None`: every enabled region) include all of them; `Err`
/// names those outside.
pub fn narrow_regions(
    configured: Option<&[String]>,
    asked: Vec<String>,
) -> Result<Vec<String>, String> {
    let Some(configured) = configured else {
        return Ok(asked);
    };
    let outside: Vec<&str> = asked
        .iter()
        .filter(|region| !configured.contains(region))
        .map(String::as_str)
        .collect();
    if outside.is_empty() {
        Ok(asked)
    } else {
        Err(format!(
            "refused {}: the stack scans only {} ({}); an invoke may narrow that list, not widen it",
            outside.join(", "),
            configured.join(", "),
            config::ENV_REGIONS
        ))
    }
}

/// `asked` when the stack's controls include all of them; `Err` names those outside.
pub fn narrow_controls(
    configured: &[&'static controls::Control],
    asked: Vec<&'static controls::Control>,
) -> Result<Vec<&'static controls::Control>, String> {
    let outside: Vec<&str> = asked
        .iter()
        .filter(|control| !configured.iter().any(|c| c.id == control.id))
        .map(|control| control.id)
        .collect();
    if outside.is_empty() {
        Ok(asked)
    } else {
        let configured: Vec<&str> = configured.iter().map(|control| control.id).collect();
        Err(format!(
            "refused {}: the stack checks only {} ({}); an invoke may narrow that list, not widen it",
            outside.join(", "),
            configured.join(", "),
            config::ENV_CONTROLS
        ))
    }
}

/// A dry run asked for, or the stack's: `false` cannot switch off a stack's dry run.
pub fn narrow_dry_run(configured: bool, asked: bool) -> Result<bool, String> {
    if configured && !asked {
        Err(format!(
            "refused false: the stack is deployed with DryRun=true ({}=true); an invoke may ask for a dry run, not switch one off",
            config::ENV_DRY_RUN
        ))
    } else {
        Ok(configured || asked)
    }
}

#[cfg(test)]
mod tests {
    use super::config::{ENV_CONTROLS, ENV_DRY_RUN, ENV_REGIONS, ENV_SECURITYHUB_REGION};
    use super::*;
    use crate::controls::Control;
    use serde_json::json;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, LambdaError> {
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
        assert!(matches!(error, LambdaError::Config(_)));
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
        let config = config(&[(ENV_REGIONS, "eu-central-1,us-east-1")]).unwrap();
        let settings = resolve(
            &config,
            &Invocation::Direct(Overrides {
                regions: Some(vec!["us-east-1".into()]),
                controls: Some(vec!["config-changes".into()]),
                dry_run: Some(true),
            }),
        )
        .unwrap();
        assert_eq!(settings.regions, Some(vec!["us-east-1".to_string()]));
        assert_eq!(ids(&settings.controls), ["config-changes"]);
        assert_eq!(settings.publish, Publish::DryRun);
        let scheduled = Invocation::Scheduled {
            time: None,
            rule: None,
        };
        let settings = resolve(&config, &scheduled).unwrap();
        assert_eq!(
            settings.regions,
            Some(vec!["eu-central-1".to_string(), "us-east-1".to_string()])
        );
        assert_eq!(settings.publish, Publish::Import);
    }

    #[test]
    fn an_invoke_may_narrow_the_stack_but_never_widen_it() {
        let stack = config(&[
            (ENV_REGIONS, "eu-west-1,us-east-1"),
            (ENV_CONTROLS, "cloudtrail-changes,config-changes"),
            (ENV_DRY_RUN, "true"),
        ])
        .unwrap();
        let resolve_event =
            |event: Value| parse_event(&event).and_then(|invocation| resolve(&stack, &invocation));
        let narrowed = resolve_event(json!({
            "regions": ["us-east-1"],
            "controls": ["config-changes"],
            "dry_run": true
        }))
        .unwrap();
        assert_eq!(narrowed.regions, Some(vec!["us-east-1".to_string()]));
        assert_eq!(ids(&narrowed.controls), ["config-changes"]);
        assert_eq!(narrowed.publish, Publish::DryRun);
        for (event, refused) in [
            (
                json!({"dry_run": false}),
                "refused false: the stack is deployed with DryRun=true",
            ),
            (
                json!({"regions": ["us-east-1", "ap-south-1"]}),
                "refused ap-south-1: the stack scans only eu-west-1, us-east-1",
            ),
            (
                json!({"controls": ["nacl-changes"]}),
                "refused nacl-changes: the stack checks only cloudtrail-changes, config-changes",
            ),
            (json!({"controls": ["all"]}), "refused "),
        ] {
            let error = resolve_event(event.clone()).unwrap_err();
            assert!(matches!(error, LambdaError::Event(_)), "{event}: {error:?}");
            assert!(error.to_string().contains(refused), "{event}: {error}");
        }
        // A stack without a region list scans every enabled region: any region narrows it; and
        // a stack that imports may be asked for a dry run, or to import.
        let open = config(&[]).unwrap();
        let settings = resolve(
            &open,
            &Invocation::Direct(Overrides {
                regions: Some(vec!["ap-south-1".into()]),
                controls: None,
                dry_run: Some(false),
            }),
        )
        .unwrap();
        assert_eq!(settings.regions, Some(vec!["ap-south-1".to_string()]));
        assert_eq!(settings.publish, Publish::Import);
    }

    #[test]
    fn the_runtime_deadline_becomes_an_instant() {
        assert_eq!(deadline_from_epoch_ms(0), None);
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let deadline = deadline_from_epoch_ms(now_ms + 300_000).unwrap();
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(290) && left <= Duration::from_secs(300),
            "{left:?}"
        );
        // A deadline already past on arrival is no deadline Lambda sets (a local emulator's).
        assert_eq!(deadline_from_epoch_ms(now_ms - 5_000), None);
    }

    #[test]
    fn an_sqs_batch_is_read_with_its_attributes() {
        let event = json!({"Records": [{
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEB",
            "body": "{}",
            "attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1545082649183"},
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:111122223333:trailwatch",
            "awsRegion": "us-east-1"
        }]});
        let Invocation::Sqs(records) = parse_event(&event).unwrap() else {
            panic!("not an SQS batch");
        };
        assert_eq!(records[0].attributes["ApproximateReceiveCount"], "3");
        let mut without_id = event.clone();
        without_id["Records"][0]
            .as_object_mut()
            .unwrap()
            .remove("messageId");
        let error = parse_event(&without_id).unwrap_err();
        assert!(error.to_string().contains("no messageId"), "{error}");
    }

    #[test]
    fn bad_overrides_are_event_errors() {
        let config = config(&[]).unwrap();
        let resolve_event =
            |event: Value| parse_event(&event).and_then(|invocation| resolve(&config, &invocation));
        for (event, expected) in [
            (json!({"controls": ["nope"]}), "unknown control id"),
            (json!({"regions": []}), "no region"),
            (json!({"regions": ["EU"]}), "not a region name"),
            (json!({"regions": "eu-west-1"}), "invalid type"),
            (json!({"dry_run": "yes"}), "invalid type"),
            (json!({"region": ["eu-west-1"]}), "unknown field `region`"),
        ] {
            let error = resolve_event(event.clone()).unwrap_err();
            assert!(matches!(error, LambdaError::Event(_)), "{event}: {error:?}");
            assert!(error.to_string().contains(expected), "{event}: {error}");
        }
    }

    #[test]
    fn other_events_are_rejected_with_what_is_expected() {
        for event in [
            sample("malformed.json"),
            json!({"source": "aws.s3", "detail-type": "Object Created", "detail": {}}),
            json!({"source": "aws.events", "detail-type": "Something Else"}),
            json!({"Records": [{"EventSource": "aws:sns", "Sns": {}}]}),
            json!({"Records": []}),
            json!([1, 2]),
            json!("scan"),
            json!(null),
        ] {
            let error = parse_event(&event).unwrap_err();
            assert!(matches!(error, LambdaError::Event(_)), "{event}");
            assert!(error.to_string().contains("Scheduled Event"), "{error}");
            assert_eq!(error.error_type(), "trailwatch.UnsupportedEvent");
        }
    }
}
