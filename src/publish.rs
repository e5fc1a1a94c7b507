//! Publishing findings to Security Hub with `BatchImportFindings`.
//!
//! One run of [`publish`]:
//!
//! 1. reads the trailwatch findings Security Hub already holds for the account (`GetFindings`,
//!    paginated, filtered on the server *and* again here, since emulators may ignore filters);
//! 2. plans ([`plan`]): each new finding keeps the `CreatedAt` and `FirstObservedAt` of the
//!    finding with the same `Id`, `UpdatedAt`/`LastObservedAt` advance past the stored ones, and
//!    every stored active finding that this run no longer produces is re-imported with
//!    `RecordState: ARCHIVED`;
//! 3. cuts the findings into batches of at most [`MAX_BATCH_FINDINGS`] findings and
//!    [`MAX_BATCH_BYTES`] of JSON ([`batches`]); a finding over [`MAX_FINDING_BYTES`] is reported
//!    as failed, not sent;
//! 4. imports the batches, at most [`IMPORT_CALLS_PER_SECOND`] calls a second ([`Pacer`]), and
//!    retries every `FailedFindings` entry (and every finding of a call that failed outright) with
//!    exponential backoff, a bounded number of times. What still fails is logged and returned in
//!    [`PublishReport::failed`]; nothing is dropped silently.
//!
//! A dry run does steps 1–3 and returns the batches in [`PublishReport::planned`] instead of
//! importing them.

use crate::asff::{
    self, AsffFinding, AsffResource, Compliance, FindingProviderFields, FindingSeverity,
    Recommendation, Remediation, StatusReason, PRODUCT_PREFIX,
};
use aws_sdk_securityhub::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_securityhub::types as sdk;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Most findings one `BatchImportFindings` call takes.
pub const MAX_BATCH_FINDINGS: usize = 100;
/// Most bytes of JSON one `BatchImportFindings` request may carry (6 MB, counted as 6,000,000
/// bytes to stay on the safe side of either reading of "MB").
pub const MAX_BATCH_BYTES: usize = 6_000_000;
/// Most bytes of JSON one finding may take (240 KB).
pub const MAX_FINDING_BYTES: usize = 240 * 1024;
/// `BatchImportFindings` rate limit per account and region.
pub const IMPORT_CALLS_PER_SECOND: f64 = 10.0;
/// `GetFindings` rate limit per account and region.
pub const GET_FINDINGS_CALLS_PER_SECOND: f64 = 3.0;
/// `RecordState` of a finding that still holds.
pub const ACTIVE: &str = "ACTIVE";
/// `RecordState` of a finding that no longer holds.
pub const ARCHIVED: &str = "ARCHIVED";
/// Error code reported for a finding too large to send.
pub const FINDING_TOO_LARGE: &str = "FindingTooLarge";
/// The JSON around a batch's findings: `{"Findings":[` and `]}`.
const ENVELOPE_BYTES: usize = r#"{"Findings":[]}"#.len();

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
    /// Archive held findings this run no longer produces. Only a run over the configured scope
    /// should: a run narrowed to fewer regions or controls would archive what it did not look at.
    pub archive_stale: bool,
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            dry_run: false,
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
            import_calls_per_second: IMPORT_CALLS_PER_SECOND,
            get_findings_calls_per_second: GET_FINDINGS_CALLS_PER_SECOND,
            archive_stale: true,
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
    /// `BatchImportFindings` calls made, retries included.
    pub import_calls: usize,
    /// `GetFindings` calls made.
    pub get_findings_calls: usize,
    /// Findings sent again after a failure.
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
    #[error("reading existing findings with securityhub:GetFindings failed: {0}")]
    GetFindings(String),
}

/// The findings to send, after merging with what Security Hub holds.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishPlan {
    /// This run's findings, timestamps merged, followed by the archiving updates (if any).
    pub findings: Vec<AsffFinding>,
    pub new: usize,
    pub updated: usize,
    pub stale: usize,
}

/// Reads what Security Hub holds, merges, batches and (unless dry run) imports `findings`.
///
/// `findings` are this run's complete output for `target.account_id`: unless
/// `options.archive_stale` is off, every held active trailwatch finding of the account that is not
/// among them is archived.
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
    let mut read_pacer = Pacer::new(options.get_findings_calls_per_second);
    let existing = read_existing(client, target, &mut read_pacer, &mut report).await?;
    report.existing = existing.len();

    let now = now_rfc3339();
    let plan = plan(findings, &existing, &now, options.archive_stale);
    report.new = plan.new;
    report.updated = plan.updated;
    report.stale = plan.stale;

    let (batches, oversized) = batches(plan.findings);
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
        import_all(client, batches, options, &mut report).await;
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

/// Reads every trailwatch finding Security Hub holds for the target account.
async fn read_existing(
    client: &aws_sdk_securityhub::Client,
    target: &PublishTarget,
    pacer: &mut Pacer,
    report: &mut PublishReport,
) -> Result<Vec<AsffFinding>, PublishError> {
    let product_arn = target.product_arn();
    let filter = |comparison: sdk::StringFilterComparison, value: &str| {
        sdk::StringFilter::builder()
            .comparison(comparison)
            .value(value)
            .build()
    };
    let filters = sdk::AwsSecurityFindingFilters::builder()
        .aws_account_id(filter(
            sdk::StringFilterComparison::Equals,
            &target.account_id,
        ))
        .product_arn(filter(sdk::StringFilterComparison::Equals, &product_arn))
        .generator_id(filter(
            sdk::StringFilterComparison::Prefix,
            &format!("{PRODUCT_PREFIX}/"),
        ))
        .build();
    let mut found = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        pacer.wait().await;
        report.get_findings_calls += 1;
        let page = client
            .get_findings()
            .filters(filters.clone())
            .max_results(100)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|error| PublishError::GetFindings(DisplayErrorContext(&error).to_string()))?;
        found.extend(
            page.findings()
                .iter()
                .map(from_sdk)
                .filter(|finding| is_ours(finding, target, &product_arn)),
        );
        match page.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => break,
        }
    }
    Ok(found)
}

/// The client-side half of the `GetFindings` filter.
fn is_ours(finding: &AsffFinding, target: &PublishTarget, product_arn: &str) -> bool {
    let prefix = format!("{PRODUCT_PREFIX}/");
    finding.aws_account_id == target.account_id
        && finding.product_arn == product_arn
        && finding.generator_id.starts_with(&prefix)
        && finding.id.starts_with(&prefix)
}

/// Merges this run's findings with the held ones (`existing`) at time `now` (RFC 3339), and
/// (if `archive_stale`) adds the archiving updates of held active findings it no longer has.
///
/// Pure. Findings with an `Id` already seen in `findings` are dropped (the first wins).
pub fn plan(
    findings: Vec<AsffFinding>,
    existing: &[AsffFinding],
    now: &str,
    archive_stale: bool,
) -> PublishPlan {
    let held: HashMap<&str, &AsffFinding> = existing
        .iter()
        .map(|finding| (finding.id.as_str(), finding))
        .collect();
    let mut seen = HashSet::new();
    let mut merged = Vec::with_capacity(findings.len());
    let (mut new, mut updated) = (0, 0);
    for mut finding in findings {
        if !seen.insert(finding.id.clone()) {
            tracing::warn!(finding_id = %finding.id, "duplicate finding id in one run; keeping the first");
            continue;
        }
        match held.get(finding.id.as_str()) {
            Some(previous) => {
                keep_history(&mut finding, previous);
                updated += 1;
            }
            None => new += 1,
        }
        merged.push(finding);
    }
    let mut stale = 0;
    for previous in existing {
        if previous.record_state == ARCHIVED || seen.contains(&previous.id) {
            continue;
        }
        seen.insert(previous.id.clone());
        if archive_stale {
            merged.push(archived(previous, now));
        }
        stale += 1;
    }
    PublishPlan {
        findings: merged,
        new,
        updated,
        stale,
    }
}

/// Keeps the held finding's creation times and makes the update's times later than its own.
fn keep_history(finding: &mut AsffFinding, previous: &AsffFinding) {
    if !previous.created_at.is_empty() {
        finding.created_at = previous.created_at.clone();
    }
    let first_observed = if previous.first_observed_at.is_empty() {
        &previous.created_at
    } else {
        &previous.first_observed_at
    };
    if !first_observed.is_empty() {
        finding.first_observed_at = first_observed.clone();
    }
    finding.updated_at = later_than(&finding.updated_at, &previous.updated_at);
    finding.last_observed_at = later_than(&finding.last_observed_at, &previous.last_observed_at);
}

/// The archiving update of a held finding that this run no longer produces. Its observation
/// times stay: it was last observed when it was last produced.
fn archived(previous: &AsffFinding, now: &str) -> AsffFinding {
    let mut finding = previous.clone();
    finding.record_state = ARCHIVED.to_string();
    finding.updated_at = later_than(now, &previous.updated_at);
    finding
}

/// `candidate` if it is later than `previous`, else one millisecond after `previous` (Security
/// Hub ignores an update whose `UpdatedAt` is not later). Unparsable times leave `candidate`.
fn later_than(candidate: &str, previous: &str) -> String {
    let (Ok(at), Ok(before)) = (
        OffsetDateTime::parse(candidate, &Rfc3339),
        OffsetDateTime::parse(previous, &Rfc3339),
    ) else {
        return candidate.to_string();
    };
    if at > before {
        return candidate.to_string();
    }
    format_rfc3339(before + time::Duration::milliseconds(1))
        .unwrap_or_else(|| candidate.to_string())
}

/// The current time in RFC 3339, to the millisecond, as Security Hub writes its own.
pub fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now
        .replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now);
    format_rfc3339(now).unwrap_or_default()
}

fn format_rfc3339(at: OffsetDateTime) -> Option<String> {
    at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

/// Cuts findings into batches of at most [`MAX_BATCH_FINDINGS`] findings and [`MAX_BATCH_BYTES`]
/// of JSON, keeping their order. Pure. Findings over [`MAX_FINDING_BYTES`] (or that cannot be
/// serialized) are returned as failures instead.
pub fn batches(findings: Vec<AsffFinding>) -> (Vec<Vec<AsffFinding>>, Vec<FailedFinding>) {
    let mut batches: Vec<Vec<AsffFinding>> = Vec::new();
    let mut failed = Vec::new();
    let mut current: Vec<AsffFinding> = Vec::new();
    let mut current_bytes = ENVELOPE_BYTES;
    for finding in findings {
        let size = match serde_json::to_vec(&finding) {
            Ok(json) => json.len(),
            Err(error) => {
                failed.push(never_sent(
                    &finding,
                    "SerializationError",
                    error.to_string(),
                ));
                continue;
            }
        };
        if size > MAX_FINDING_BYTES {
            let message = format!("the finding takes {size} bytes of JSON; Security Hub takes at most {MAX_FINDING_BYTES}");
            failed.push(never_sent(&finding, FINDING_TOO_LARGE, message));
            continue;
        }
        // A comma separates the finding from the one before it.
        let added = size + usize::from(!current.is_empty());
        if !current.is_empty()
            && (current.len() == MAX_BATCH_FINDINGS || current_bytes + added > MAX_BATCH_BYTES)
        {
            batches.push(std::mem::take(&mut current));
            current_bytes = ENVELOPE_BYTES;
        }
        current_bytes += size + usize::from(!current.is_empty());
        current.push(finding);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    (batches, failed)
}

fn never_sent(finding: &AsffFinding, code: &str, message: String) -> FailedFinding {
    FailedFinding {
        id: finding.id.clone(),
        code: code.to_string(),
        message,
        attempts: 0,
        archiving: finding.record_state == ARCHIVED,
    }
}

/// The wait before retry number `retry` (1 for the first): `initial`, doubling, at most 20 s.
pub fn backoff(retry: u32, initial: Duration) -> Duration {
    let factor = 1u32 << retry.saturating_sub(1).min(16);
    initial.saturating_mul(factor).min(Duration::from_secs(20))
}

/// Imports the batches, retrying what fails, and accounts for everything in `report`.
async fn import_all(
    client: &aws_sdk_securityhub::Client,
    first: Vec<Vec<AsffFinding>>,
    options: &PublishOptions,
    report: &mut PublishReport,
) {
    let mut pacer = Pacer::new(options.import_calls_per_second);
    let max_attempts = options.max_attempts.max(1);
    let mut pending = first;
    let mut attempt = 1;
    loop {
        let mut rejected: Vec<(AsffFinding, String, String)> = Vec::new();
        for batch in pending {
            pacer.wait().await;
            report.import_calls += 1;
            let outcome = import_batch(client, &batch).await;
            let mut failures: HashMap<String, (String, String)> = match outcome {
                Ok(failures) => failures,
                Err((code, message)) => batch
                    .iter()
                    .map(|finding| (finding.id.clone(), (code.clone(), message.clone())))
                    .collect(),
            };
            for finding in batch {
                match failures.remove(&finding.id) {
                    Some((code, message)) => rejected.push((finding, code, message)),
                    None => {
                        report.imported += 1;
                        if finding.record_state == ARCHIVED {
                            report.archived += 1;
                        }
                    }
                }
            }
            for (id, (code, message)) in failures {
                tracing::warn!(finding_id = %id, %code, %message, "Security Hub reported a failure for a finding that was not sent");
            }
        }
        if rejected.is_empty() {
            return;
        }
        if attempt >= max_attempts {
            report
                .failed
                .extend(
                    rejected
                        .into_iter()
                        .map(|(finding, code, message)| FailedFinding {
                            archiving: finding.record_state == ARCHIVED,
                            id: finding.id,
                            code,
                            message,
                            attempts: attempt,
                        }),
                );
            return;
        }
        let wait = backoff(attempt, options.initial_backoff);
        for (finding, code, message) in &rejected {
            tracing::warn!(finding_id = %finding.id, %code, %message, attempt, retry_in_ms = wait.as_millis() as u64, "Security Hub rejected a finding; retrying");
        }
        report.retried += rejected.len();
        tokio::time::sleep(wait).await;
        let (retry_batches, oversized) = batches(
            rejected
                .into_iter()
                .map(|(finding, _, _)| finding)
                .collect(),
        );
        report.failed.extend(oversized);
        pending = retry_batches;
        attempt += 1;
    }
}

/// One `BatchImportFindings` call: the `FailedFindings` by id, or the call's error code and message.
async fn import_batch(
    client: &aws_sdk_securityhub::Client,
    batch: &[AsffFinding],
) -> Result<HashMap<String, (String, String)>, (String, String)> {
    let output = client
        .batch_import_findings()
        .set_findings(Some(batch.iter().map(to_sdk).collect()))
        .send()
        .await
        .map_err(|error| {
            let code = error.code().unwrap_or("CallFailed").to_string();
            (code, DisplayErrorContext(&error).to_string())
        })?;
    Ok(output
        .failed_findings()
        .iter()
        .map(|failed| {
            (
                failed.id().unwrap_or_default().to_string(),
                (
                    failed.error_code().unwrap_or("Unknown").to_string(),
                    failed.error_message().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect())
}

/// A token bucket: on average `per_second` calls a second, with bursts of as many.
///
/// [`Pacer::reserve`] is the pure part (it takes the time as an argument and returns how long to
/// wait), [`Pacer::wait`] sleeps for it.
#[derive(Debug, Clone)]
pub struct Pacer {
    per_second: f64,
    burst: f64,
    tokens: f64,
    updated: Option<Instant>,
}

impl Pacer {
    /// A bucket that starts full; `per_second` below 0.001 counts as 0.001.
    pub fn new(per_second: f64) -> Self {
        let per_second = per_second.max(0.001);
        let burst = per_second.floor().max(1.0);
        Pacer {
            per_second,
            burst,
            tokens: burst,
            updated: None,
        }
    }

    /// Takes a token at `now`; returns how long the caller must wait before its call.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        if let Some(updated) = self.updated {
            let elapsed = now.saturating_duration_since(updated).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        }
        self.updated = Some(self.updated.map_or(now, |updated| updated.max(now)));
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.per_second)
        }
    }

    /// Waits until a call is allowed.
    pub async fn wait(&mut self) {
        let delay = self.reserve(Instant::now());
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

/// Our ASFF finding as the SDK's `AwsSecurityFinding`.
pub fn to_sdk(finding: &AsffFinding) -> sdk::AwsSecurityFinding {
    let severity = sdk::FindingProviderSeverity::builder()
        .label(sdk::SeverityLabel::from(
            finding.finding_provider_fields.severity.label.as_str(),
        ))
        .original(&finding.finding_provider_fields.severity.original)
        .build();
    let provider_fields = sdk::FindingProviderFields::builder()
        .severity(severity)
        .set_types(Some(finding.finding_provider_fields.types.clone()))
        .build();
    let compliance = sdk::Compliance::builder()
        .status(sdk::ComplianceStatus::from(
            finding.compliance.status.as_str(),
        ))
        .set_related_requirements(Some(finding.compliance.related_requirements.clone()))
        .set_status_reasons(Some(
            finding
                .compliance
                .status_reasons
                .iter()
                .map(|reason| {
                    sdk::StatusReason::builder()
                        .reason_code(&reason.reason_code)
                        .description(&reason.description)
                        .build()
                })
                .collect(),
        ))
        .set_security_control_id(finding.compliance.security_control_id.clone())
        .build();
    let remediation = sdk::Remediation::builder()
        .recommendation(
            sdk::Recommendation::builder()
                .text(&finding.remediation.recommendation.text)
                .url(&finding.remediation.recommendation.url)
                .build(),
        )
        .build();
    let resources = finding
        .resources
        .iter()
        .map(|resource| {
            sdk::Resource::builder()
                .r#type(&resource.resource_type)
                .id(&resource.id)
                .partition(sdk::Partition::from(resource.partition.as_str()))
                .region(&resource.region)
                .build()
        })
        .collect();
    sdk::AwsSecurityFinding::builder()
        .schema_version(&finding.schema_version)
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .generator_id(&finding.generator_id)
        .aws_account_id(&finding.aws_account_id)
        .set_types(Some(finding.types.clone()))
        .created_at(&finding.created_at)
        .updated_at(&finding.updated_at)
        .first_observed_at(&finding.first_observed_at)
        .last_observed_at(&finding.last_observed_at)
        .title(&finding.title)
        .description(&finding.description)
        .finding_provider_fields(provider_fields)
        .compliance(compliance)
        .remediation(remediation)
        .set_resources(Some(resources))
        .set_product_fields(Some(
            finding
                .product_fields
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        ))
        .record_state(sdk::RecordState::from(finding.record_state.as_str()))
        .build()
}

/// A finding as Security Hub returns it, in our ASFF shape. Only the fields trailwatch writes
/// are kept, and of `ProductFields` only the `trailwatch/` keys (Security Hub adds its own).
pub fn from_sdk(finding: &sdk::AwsSecurityFinding) -> AsffFinding {
    let text = |value: Option<&str>| value.unwrap_or_default().to_string();
    let provider = finding.finding_provider_fields();
    let (label, original) = match provider.and_then(|fields| fields.severity()) {
        Some(severity) => (
            severity.label().map(|label| label.as_str().to_string()),
            severity.original().map(str::to_string),
        ),
        None => (
            finding
                .severity()
                .and_then(|severity| severity.label())
                .map(|label| label.as_str().to_string()),
            finding
                .severity()
                .and_then(|severity| severity.original())
                .map(str::to_string),
        ),
    };
    let label = label.unwrap_or_default();
    let provider_types = match provider.map(|fields| fields.types()) {
        Some(types) if !types.is_empty() => types.to_vec(),
        _ => finding.types().to_vec(),
    };
    let compliance = finding.compliance();
    let recommendation = finding
        .remediation()
        .and_then(|remediation| remediation.recommendation());
    AsffFinding {
        schema_version: text(finding.schema_version()),
        id: text(finding.id()),
        product_arn: text(finding.product_arn()),
        generator_id: text(finding.generator_id()),
        aws_account_id: text(finding.aws_account_id()),
        types: finding.types().to_vec(),
        created_at: text(finding.created_at()),
        updated_at: text(finding.updated_at()),
        first_observed_at: text(finding.first_observed_at()),
        last_observed_at: text(finding.last_observed_at()),
        title: text(finding.title()),
        description: text(finding.description()),
        finding_provider_fields: FindingProviderFields {
            severity: FindingSeverity {
                original: original.unwrap_or_else(|| label.clone()),
                label,
            },
            types: provider_types,
        },
        compliance: Compliance {
            status: text(
                compliance
                    .and_then(|compliance| compliance.status())
                    .map(|status| status.as_str()),
            ),
            related_requirements: compliance
                .map(|compliance| compliance.related_requirements().to_vec())
                .unwrap_or_default(),
            status_reasons: compliance
                .map(|compliance| compliance.status_reasons())
                .unwrap_or_default()
                .iter()
                .map(|reason| StatusReason {
                    reason_code: text(reason.reason_code()),
                    description: text(reason.description()),
                })
                .collect(),
            security_control_id: compliance
                .and_then(|compliance| compliance.security_control_id())
                .map(str::to_string),
        },
        remediation: Remediation {
            recommendation: Recommendation {
                text: text(recommendation.and_then(|r| r.text())),
                url: text(recommendation.and_then(|r| r.url())),
            },
        },
        resources: finding
            .resources()
            .iter()
            .map(|resource| AsffResource {
                resource_type: text(resource.r#type()),
                id: text(resource.id()),
                partition: text(resource.partition().map(|partition| partition.as_str())),
                region: text(resource.region()),
            })
            .collect(),
        product_fields: finding
            .product_fields()
            .map(|fields| {
                fields
                    .iter()
                    .filter(|(key, _)| key.starts_with(&format!("{PRODUCT_PREFIX}/")))
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        record_state: finding
            .record_state()
            .map_or(ACTIVE, |state| state.as_str())
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn finding(id: &str, at: &str) -> AsffFinding {
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
            types: vec![asff::CIS_FINDING_TYPE.to_string()],
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

    fn json_len(finding: &AsffFinding) -> usize {
        serde_json::to_vec(finding).unwrap().len()
    }

    const T1: &str = "2026-01-01T00:00:00Z";
    const T2: &str = "2026-01-02T00:00:00Z";

    #[test]
    fn batches_hold_at_most_100_findings_in_order() {
        let findings: Vec<_> = (0..250).map(|n| finding(&format!("f{n}"), T1)).collect();
        let ids: Vec<_> = findings.iter().map(|f| f.id.clone()).collect();
        let (batches, failed) = batches(findings);
        assert!(failed.is_empty());
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![100, 100, 50]
        );
        let flat: Vec<_> = batches.iter().flatten().map(|f| f.id.clone()).collect();
        assert_eq!(flat, ids);
    }

    #[test]
    fn batches_stay_under_six_megabytes() {
        // Findings of ~200 KB each: 29 fit in 6,000,000 bytes, 30 do not.
        let big = |n: usize| {
            let mut f = finding(&format!("big{n}"), T1);
            f.product_fields
                .insert("trailwatch/Padding".to_string(), "x".repeat(200_000));
            f
        };
        let findings: Vec<_> = (0..70).map(big).collect();
        let size = json_len(&findings[0]);
        let per_batch = (MAX_BATCH_BYTES - ENVELOPE_BYTES + 1) / (size + 1);
        let (batches, failed) = batches(findings);
        assert!(failed.is_empty());
        assert!(per_batch < MAX_BATCH_FINDINGS);
        assert_eq!(batches[0].len(), per_batch);
        for batch in &batches {
            let request = serde_json::json!({ "Findings": batch });
            assert!(serde_json::to_vec(&request).unwrap().len() <= MAX_BATCH_BYTES);
        }
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 70);
    }

    #[test]
    fn an_oversized_finding_is_reported_not_sent() {
        let mut huge = finding("huge", T1);
        huge.description = "x".repeat(MAX_FINDING_BYTES);
        let (batches, failed) = batches(vec![finding("a", T1), huge, finding("b", T1)]);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].len(), 2);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].code, FINDING_TOO_LARGE);
        assert_eq!(failed[0].attempts, 0);
        assert!(failed[0].id.ends_with("/huge"));
    }

    #[test]
    fn no_findings_no_batches() {
        let (batches, failed) = batches(Vec::new());
        assert!(batches.is_empty() && failed.is_empty());
    }

    #[test]
    fn an_update_keeps_creation_times_and_advances_the_others() {
        let mut held = finding("a", T1);
        held.first_observed_at = "2025-12-31T00:00:00Z".to_string();
        let plan = plan(vec![finding("a", T2), finding("b", T2)], &[held], T2, true);
        assert_eq!((plan.new, plan.updated, plan.stale), (1, 1, 0));
        let a = &plan.findings[0];
        assert_eq!(a.created_at, T1);
        assert_eq!(a.first_observed_at, "2025-12-31T00:00:00Z");
        assert_eq!(a.updated_at, T2);
        assert_eq!(a.last_observed_at, T2);
        let b = &plan.findings[1];
        assert_eq!((b.created_at.as_str(), b.updated_at.as_str()), (T2, T2));
    }

    #[test]
    fn an_update_is_later_than_the_held_finding_even_with_a_slow_clock() {
        let held = finding("a", T2);
        let plan = plan(vec![finding("a", T1)], &[held], T1, true);
        let a = &plan.findings[0];
        assert_eq!(a.created_at, T2);
        assert_eq!(a.updated_at, "2026-01-02T00:00:00.001Z");
        assert_eq!(a.last_observed_at, "2026-01-02T00:00:00.001Z");
    }

    #[test]
    fn held_findings_no_longer_produced_are_archived_once() {
        let mut already_archived = finding("gone-long-ago", T1);
        already_archived.record_state = ARCHIVED.to_string();
        let held = vec![finding("kept", T1), finding("gone", T1), already_archived];
        let plan = plan(vec![finding("kept", T2)], &held, T2, true);
        assert_eq!((plan.new, plan.updated, plan.stale), (0, 1, 1));
        assert_eq!(plan.findings.len(), 2);
        let gone = &plan.findings[1];
        assert!(gone.id.ends_with("/gone"));
        assert_eq!(gone.record_state, ARCHIVED);
        assert_eq!(gone.updated_at, T2);
        assert_eq!(gone.created_at, T1);
        assert_eq!(
            gone.last_observed_at, T1,
            "an archived finding was last seen before"
        );
    }

    #[test]
    fn a_narrowed_run_counts_stale_findings_but_archives_none() {
        let held = vec![finding("kept", T1), finding("gone", T1)];
        let plan = plan(vec![finding("kept", T2)], &held, T2, false);
        assert_eq!((plan.new, plan.updated, plan.stale), (0, 1, 1));
        assert_eq!(plan.findings.len(), 1);
        assert_eq!(plan.findings[0].record_state, ACTIVE);
    }

    #[test]
    fn an_archived_finding_produced_again_becomes_active_with_its_history() {
        let mut held = finding("back", T1);
        held.record_state = ARCHIVED.to_string();
        let plan = plan(vec![finding("back", T2)], &[held], T2, true);
        assert_eq!((plan.new, plan.updated, plan.stale), (0, 1, 0));
        assert_eq!(plan.findings[0].record_state, ACTIVE);
        assert_eq!(plan.findings[0].created_at, T1);
    }

    #[test]
    fn duplicate_ids_in_one_run_are_sent_once() {
        let plan = plan(vec![finding("a", T1), finding("a", T2)], &[], T2, true);
        assert_eq!(plan.findings.len(), 1);
        assert_eq!(plan.findings[0].updated_at, T1);
    }

    #[test]
    fn only_trailwatch_findings_of_the_account_and_product_are_ours() {
        let target = PublishTarget {
            account_id: "111122223333".to_string(),
            partition: "aws".to_string(),
            region: "eu-west-1".to_string(),
        };
        let product = target.product_arn();
        assert!(is_ours(&finding("a", T1), &target, &product));
        let mut other_account = finding("a", T1);
        other_account.aws_account_id = "444455556666".to_string();
        assert!(!is_ours(&other_account, &target, &product));
        let mut other_generator = finding("a", T1);
        other_generator.generator_id = "aws-foundational-security-best-practices".to_string();
        assert!(!is_ours(&other_generator, &target, &product));
        let mut other_region = finding("a", T1);
        other_region.product_arn = asff::default_product_arn("aws", "us-east-1", "111122223333");
        assert!(!is_ours(&other_region, &target, &product));
    }

    #[test]
    fn sdk_round_trip_keeps_every_field() {
        let ours = finding("a", T1);
        let sdk_finding = to_sdk(&ours);
        assert_eq!(sdk_finding.resources().len(), 1);
        assert_eq!(
            sdk_finding.compliance().and_then(|c| c.status()),
            Some(&sdk::ComplianceStatus::Failed)
        );
        assert_eq!(from_sdk(&sdk_finding), ours);
    }

    #[test]
    fn security_hub_product_fields_are_not_taken_back() {
        let ours = finding("a", T1);
        let mut fields: HashMap<String, String> = ours.product_fields.clone().into_iter().collect();
        fields.insert("aws/securityhub/FindingId".to_string(), "x".to_string());
        let held = sdk::AwsSecurityFinding::builder()
            .id(&ours.id)
            .set_product_fields(Some(fields))
            .build();
        assert_eq!(from_sdk(&held).product_fields, ours.product_fields);
        assert_eq!(from_sdk(&held).record_state, ACTIVE);
    }

    #[test]
    fn pacer_spaces_calls_beyond_the_burst() {
        let start = Instant::now();
        let mut pacer = Pacer::new(10.0);
        let waits: Vec<u128> = (0..12).map(|_| pacer.reserve(start).as_millis()).collect();
        assert_eq!(&waits[..10], &[0; 10]);
        assert_eq!(&waits[10..], &[100, 200]);
        // A second later the debt is paid and eight tokens have come back.
        let later = start + Duration::from_secs(1);
        let waits: Vec<u128> = (0..9).map(|_| pacer.reserve(later).as_millis()).collect();
        assert_eq!(&waits[..8], &[0; 8]);
        assert_eq!(waits[8], 100);
    }

    #[test]
    fn pacer_keeps_a_steady_rate() {
        let start = Instant::now();
        let mut pacer = Pacer::new(3.0);
        let mut now = start;
        let mut calls = 0;
        // Call as soon as allowed for ten seconds: at most the burst plus 3 a second.
        while now < start + Duration::from_secs(10) {
            now += pacer.reserve(now);
            calls += 1;
        }
        assert!(calls <= 3 + 30 + 1, "{calls} calls");
        assert!(calls >= 30, "{calls} calls");
    }

    #[test]
    fn backoff_doubles_and_is_bounded() {
        let initial = Duration::from_millis(500);
        assert_eq!(backoff(1, initial), Duration::from_millis(500));
        assert_eq!(backoff(2, initial), Duration::from_secs(1));
        assert_eq!(backoff(3, initial), Duration::from_secs(2));
        assert_eq!(backoff(40, initial), Duration::from_secs(20));
    }

    #[test]
    fn now_is_rfc3339_to_the_millisecond() {
        let now = now_rfc3339();
        assert!(OffsetDateTime::parse(&now, &Rfc3339).is_ok(), "{now}");
        assert!(now.ends_with('Z'));
    }
}
