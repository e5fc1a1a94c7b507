//! Security Hub: our findings in ASFF ([`asff`]), and publishing them with `BatchImportFindings`.
//!
//! One [`publish`] of one account's findings into one Security Hub region:
//!
//! 1. [`read`]: the trailwatch findings Security Hub already holds for the account (`GetFindings`,
//!    every page, filtered on the server *and* again here, since emulators may ignore filters),
//!    or only those with the Ids a publish names ([`HeldRead::Ids`]: a publish of a few known
//!    findings into an account holding many);
//! 2. [`plan`]: each new finding keeps the `CreatedAt` and `FirstObservedAt` of the finding with
//!    the same `Id`, `UpdatedAt`/`LastObservedAt` advance past the stored ones, and every stored
//!    active finding that this run no longer produces is re-imported with `RecordState: ARCHIVED`;
//!    top-level `Severity` and `Types` go only with findings Security Hub does not hold yet;
//! 3. [`batch`]: batches of at most [`batch::MAX_BATCH_FINDINGS`] findings and
//!    [`batch::MAX_BATCH_BYTES`] of JSON; a finding over [`batch::MAX_FINDING_BYTES`] is reported as
//!    failed, not sent;
//! 4. [`import`]: the batches, at most [`IMPORT_CALLS_PER_SECOND`] calls a second ([`pacer`]),
//!    retrying every `FailedFindings` entry (and every finding of a call that failed outright, or
//!    that a response with unattributable failures does not account for) with exponential
//!    backoff, a bounded number of times. What still fails is logged and returned in
//!    [`PublishReport::failed`]; nothing is dropped silently.
//!
//! Before planning, every finding given and every finding read back is brought within Security
//! Hub's documented field limits ([`limits`]: texts cut with a visible marker, long identifiers
//! shortened deterministically), so what is planned and batched is what Security Hub accepts.
//!
//! A dry run does steps 1–3 and returns the batches in [`PublishReport::planned`] instead of
//! importing them.

pub mod asff;
pub mod batch;
pub mod import;
pub mod limits;
pub mod pacer;
pub mod plan;
pub mod read;
pub mod scope;

use asff::AsffFinding;
use scope::Scope;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `BatchImportFindings` rate limit per account and region.
pub const IMPORT_CALLS_PER_SECOND: f64 = 10.0;
/// `GetFindings` rate limit per account and region.
pub const GET_FINDINGS_CALLS_PER_SECOND: f64 = 3.0;
/// `RecordState` of a finding that still holds.
pub const ACTIVE: &str = "ACTIVE";
/// `RecordState` of a finding that no longer holds.
pub const ARCHIVED: &str = "ARCHIVED";

/// Where findings are published: one account's findings in one Security Hub region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishTarget {
    pub account_id: String,
    /// `aws`, `aws-us-gov` or `aws-cn`.
    pub partition: String,
    /// The Security Hub region the findings are imported into.
    pub region: String,
}

impl PublishTarget {
    /// The default product ARN, the only one an account may import its own findings under.
    pub fn product_arn(&self) -> String {
        asff::default_product_arn(&self.partition, &self.region, &self.account_id)
    }
}

/// How to publish.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    /// Plan and batch, but do not call `BatchImportFindings`.
    pub dry_run: bool,
    /// How many times a finding is sent before it is reported as failed (at least 1).
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles for each further one.
    pub initial_backoff: Duration,
    /// `BatchImportFindings` calls per second.
    pub import_calls_per_second: f64,
    /// `GetFindings` calls per second.
    pub get_findings_calls_per_second: f64,
    /// The held findings this publish owns: those of them it no longer produces are archived.
    /// `None`: archive nothing.
    pub scope: Option<Scope>,
    /// Which held findings are read back.
    pub held: HeldRead,
}

/// Which of the findings Security Hub holds a publish reads back (to keep their `CreatedAt`, and
/// to archive those of its scope it no longer produces).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HeldRead {
    /// Every trailwatch finding of the account, every page.
    #[default]
    All,
    /// Only the findings with these Ids (as Security Hub holds them, within [`limits`]): one
    /// request per [`read::IDS_PER_REQUEST`], however many findings the account holds. Only these
    /// can be archived.
    Ids(std::collections::BTreeSet<String>),
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            dry_run: false,
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            import_calls_per_second: IMPORT_CALLS_PER_SECOND,
            get_findings_calls_per_second: GET_FINDINGS_CALLS_PER_SECOND,
            scope: None,
            held: HeldRead::All,
        }
    }
}

/// A finding Security Hub did not take, after every attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedFinding {
    pub id: String,
    /// Security Hub's `ErrorCode` (or the API error's code when the whole call failed).
    pub code: String,
    pub message: String,
    /// How many times it was sent (0: never sent, e.g. too large).
    pub attempts: u32,
    /// Whether it was an archiving update of a stale finding.
    pub archiving: bool,
}

/// What [`publish`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PublishReport {
    pub dry_run: bool,
    /// trailwatch findings Security Hub already held for the account (active or archived).
    pub existing: usize,
    /// Findings of this run whose `Id` Security Hub did not hold yet.
    pub new: usize,
    /// Findings of this run that update a held finding (keeping its `CreatedAt`).
    pub updated: usize,
    /// Held active findings this run no longer produces (archived unless
    /// [`PublishOptions::archive_stale`] is off).
    pub stale: usize,
    /// Findings Security Hub accepted, archiving updates included.
    pub imported: usize,
    /// Stale findings Security Hub accepted as `ARCHIVED`.
    pub archived: usize,
    /// Findings that failed every attempt.
    pub failed: Vec<FailedFinding>,
    /// Batches of the first attempt (planned ones in a dry run).
    pub batches: usize,
    /// `BatchImportFindings` requests sent: one per batch and per retry of rejected findings,
    /// and every retry the SDK made of each (throttling, 5xx, transport errors).
    pub import_calls: usize,
    /// `GetFindings` requests sent: one per page, and every retry the SDK made of each.
    pub get_findings_calls: usize,
    /// Findings sent again after a failure (a `FailedFindings` entry, or a call that failed
    /// after the SDK's retries).
    pub retried: usize,
    /// Dry run only: the batches that would have been imported, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<Vec<AsffFinding>>,
}

impl PublishReport {
    /// Ids of the findings that failed, for summaries.
    pub fn failed_ids(&self) -> Vec<String> {
        self.failed.iter().map(|failed| failed.id.clone()).collect()
    }
}

/// A failure that stops publishing before anything is imported.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The findings already in Security Hub could not be read, so their `CreatedAt` would be lost.
    #[error("reading existing findings with securityhub:GetFindings failed: {message}")]
    GetFindings {
        /// The service's error code; `None` when no answer came (a network failure).
        code: Option<String>,
        message: String,
    },
}

impl PublishError {
    /// Whether another attempt later may succeed (throttling, a network or service failure)
    /// rather than Security Hub refusing this account (not enabled: `InvalidAccessException`;
    /// access denied).
    pub fn is_transient(&self) -> bool {
        let PublishError::GetFindings { code, .. } = self;
        code.as_deref().is_none_or(is_transient_code)
    }
}

impl FailedFinding {
    /// Whether sending it again later may succeed (throttling, an internal error of the service,
    /// no answer at all) rather than Security Hub refusing the finding itself.
    pub fn is_transient(&self) -> bool {
        self.code.is_empty() || is_transient_code(&self.code)
    }
}

/// An error code of a failure that passes: throttling, or the service failing internally.
fn is_transient_code(code: &str) -> bool {
    matches!(
        crate::collect::errors::classify(Some(code), false),
        crate::model::snapshot::ReadErrorKind::Throttled
    ) || matches!(
        code,
        "InternalException" | "InternalFailure" | "InternalServerError" | "ServiceUnavailable"
    )
}

/// Reads what Security Hub holds, merges, batches and (unless dry run) imports `findings`.
///
/// `findings` are this run's complete output within `options.scope`: every held active
/// trailwatch finding of that scope that is not among them is archived.
pub async fn publish(
    client: &aws_sdk_securityhub::Client,
    target: &PublishTarget,
    findings: Vec<AsffFinding>,
    options: &PublishOptions,
) -> Result<PublishReport, PublishError> {
    let mut report = PublishReport {
        dry_run: options.dry_run,
        ..PublishReport::default()
    };
    // Every request counted, the SDK's retries included (`crate::requests`).
    let requests = crate::requests::RequestCounter::default();
    let client = &aws_sdk_securityhub::Client::from_conf(
        client
            .config()
            .to_builder()
            .interceptor(requests.clone())
            .build(),
    );
    let mut read_pacer = pacer::Pacer::new(options.get_findings_calls_per_second);
    let existing = match &options.held {
        HeldRead::All => read::read_existing(client, target, &mut read_pacer).await,
        HeldRead::Ids(ids) => read::read_ids(client, target, ids, &mut read_pacer).await,
    };
    report.get_findings_calls = requests.of("securityhub:GetFindings") as usize;
    let existing = existing?;
    report.existing = existing.len();

    // Both inputs of the plan within the limits, so is everything it plans: a shortened Id is
    // matched against the held one, and archiving updates of held findings fit too.
    let findings: Vec<AsffFinding> = findings.into_iter().map(limits::within_limits).collect();
    let existing: Vec<AsffFinding> = existing.into_iter().map(limits::within_limits).collect();

    let now = plan::now_rfc3339();
    let owns = |held: &AsffFinding| options.scope.as_ref().is_some_and(|scope| scope.owns(held));
    let plan = plan::plan(findings, &existing, &now, &owns);
    report.new = plan.new;
    report.updated = plan.updated;
    report.stale = plan.stale;

    let (batches, oversized) = batch::batches(plan.findings);
    report.batches = batches.len();
    report.failed.extend(oversized);
    tracing::info!(
        account_id = %target.account_id,
        region = %target.region,
        existing = report.existing,
        new = report.new,
        updated = report.updated,
        stale = report.stale,
        batches = report.batches,
        dry_run = options.dry_run,
        "publish plan"
    );
    if options.dry_run {
        report.planned = batches;
    } else {
        import::import_all(client, batches, options, &mut report).await;
        report.import_calls = requests.of("securityhub:BatchImportFindings") as usize;
    }
    for failed in &report.failed {
        tracing::error!(
            finding_id = %failed.id,
            code = %failed.code,
            message = %failed.message,
            attempts = failed.attempts,
            "Security Hub did not take the finding"
        );
    }
    Ok(report)
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! A finding as trailwatch writes it, for the unit tests of the publishing steps.

    use super::asff::{
        self, AsffFinding, AsffResource, Compliance, FindingProviderFields, FindingSeverity,
        Recommendation, Remediation, StatusReason,
    };
    use super::ACTIVE;
    use std::collections::BTreeMap;

    pub fn finding(id: &str, at: &str) -> AsffFinding {
        let mut product_fields = BTreeMap::new();
        product_fields.insert(
            "trailwatch/ControlId".to_string(),
            "cloudtrail-changes".to_string(),
        );
        AsffFinding {
            schema_version: asff::SCHEMA_VERSION.to_string(),
            id: format!("trailwatch/aws/111122223333/{id}"),
            product_arn: "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
                .to_string(),
            generator_id: "trailwatch/cloudtrail-changes".to_string(),
            aws_account_id: "111122223333".to_string(),
            types: Some(vec![asff::CIS_FINDING_TYPE.to_string()]),
            severity: Some(FindingSeverity {
                label: "LOW".to_string(),
                original: "LOW".to_string(),
            }),
            created_at: at.to_string(),
            updated_at: at.to_string(),
            first_observed_at: at.to_string(),
            last_observed_at: at.to_string(),
            title: "title".to_string(),
            description: "FAILED: no trail".to_string(),
            finding_provider_fields: FindingProviderFields {
                severity: FindingSeverity {
                    label: "LOW".to_string(),
                    original: "LOW".to_string(),
                },
                types: vec![asff::CIS_FINDING_TYPE.to_string()],
            },
            compliance: Compliance {
                status: "FAILED".to_string(),
                related_requirements: vec!["CIS AWS Foundations Benchmark v1.4.0/4.5".to_string()],
                status_reasons: vec![StatusReason {
                    reason_code: "CHAIN_INCOMPLETE".to_string(),
                    description: "no trail".to_string(),
                }],
                security_control_id: Some("CloudWatch.5".to_string()),
            },
            remediation: Remediation {
                recommendation: Recommendation {
                    text: "fix it".to_string(),
                    url: "https://example.com/fix".to_string(),
                },
            },
            resources: vec![AsffResource {
                resource_type: "AwsAccount".to_string(),
                id: "AWS::::Account:111122223333".to_string(),
                partition: "aws".to_string(),
                region: "eu-west-1".to_string(),
            }],
            product_fields,
            record_state: ACTIVE.to_string(),
        }
    }

    pub fn json_len(finding: &AsffFinding) -> usize {
        serde_json::to_vec(finding).unwrap().len()
    }

    pub const T1: &str = "2026-01-01T00:00:00Z";
    pub const T2: &str = "2026-01-02T00:00:00Z";
}
