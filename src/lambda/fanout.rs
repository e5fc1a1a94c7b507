//! The organization run on Lambda + SQS: the scheduled invocation coordinates, the queue's
//! invocations scan.
//!
//! The coordinator ([`coordinate`]) does the organization run's first step in the central
//! account — list the accounts, scan the central account itself, read the organization trails'
//! chains once — and sends one [`AccountMessage`] per member account to the queue
//! (`SendMessageBatch`, 10 entries and the queue's message size a call), each carrying those
//! chains, packed ([`PackedChains`]), so no worker reads them again, and sealed with the stack's
//! HMAC key ([`super::mac`]); a worker ([`work`]) verifies the seal before it trusts anything of a
//! message, then scans each account of its batch through the member role
//! and imports its findings into that account's Security Hub. A record that fails transiently
//! (throttling, a network failure, Security Hub unreadable) is returned in `batchItemFailures`
//! for SQS to retry, then the queue's DLQ; an account whose role cannot be assumed gets a
//! coverage finding in the central account and its record succeeds — it would fail again.

use super::config::{Config, OrgConfig};
use super::errors::LambdaError;
use super::event::{SqsBatchResponse, SqsMessage};
use super::mac::{self, MessageKey, Unverified};
use super::trust::{check_age, check_message, Identity, Membership};
use crate::collect::access::Roles;
use crate::collect::organization::OrgAccount;
use crate::controls::{self, CisVersion};
use crate::model::snapshot::{ReadError, SharedChains, Snapshot};
use crate::run::org::{self, AccountReport, OrgSettings, Outcome};
use crate::run::{Publish, RunSettings, RunSummary, ScanOutcome};
use crate::securityhub::{FailedFinding, PublishTarget};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The message kind a worker accepts.
pub const MESSAGE_KIND: &str = "trailwatch.scan-account";
/// Kept back by the coordinator at the end of its invocation (see [`may_queue`]): one
/// `SendMessageBatch`, the coverage findings' paging and import, the answer.
pub const QUEUE_MARGIN: Duration = Duration::from_secs(30);
/// `kms:GenerateMac` requests the coordinator has in flight: KMS's shared quota for cryptographic
/// operations is thousands a second per account and region
/// (https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html), the
/// bound here is latency: 16 seals cover a batch of 10 while the previous one is sent.
pub const SEALS_IN_FLIGHT: usize = 16;
/// Most entries one `SendMessageBatch` takes.
const BATCH_ENTRIES: usize = 10;
/// Records of a batch scanned at once (the queue trigger's `BatchSize` in template.yaml is 5:
/// a whole batch runs concurrently; each account's scan keeps its own calls under that
/// account's API rates).
pub const RECORDS_IN_FLIGHT: usize = 5;
/// Kept back at the end of an invocation to answer before Lambda stops it: a record still
/// running then is abandoned and returned in `batchItemFailures`.
pub const ANSWER_MARGIN: Duration = Duration::from_secs(10);
/// The least time left (besides [`ANSWER_MARGIN`]) to start a record's scan; more when a record
/// of the batch already took longer (one and a half times the longest).
pub const MIN_TIME_TO_START: Duration = Duration::from_secs(120);

/// One account to scan, as the coordinator sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountMessage {
    /// [`MESSAGE_KIND`].
    pub kind: String,
    pub account: OrgAccount,
    /// The central account, where coverage findings go.
    pub scanning_account: String,
    pub partition: String,
    pub securityhub_region: String,
    /// The run as the coordinator resolved it.
    pub regions: Option<Vec<String>>,
    pub controls: Vec<String>,
    pub cis_version: String,
    pub dry_run: bool,
    /// Whether the central account holds an active coverage finding for this account (to
    /// archive once it scans cleanly).
    pub coverage_held: bool,
    /// The organization trails' chains, packed; `None` when they did not fit in a message (the
    /// worker then follows them itself, through the owner's member role).
    #[serde(rename = "shared_gzip", default)]
    pub shared: Option<PackedChains>,
    /// When the coordinator read those chains (its own scan's start): a message older than
    /// [`super::trust::MAX_MESSAGE_AGE`] is refused rather than imported as fresh.
    #[serde(with = "time::serde::rfc3339")]
    pub chains_read_at: time::OffsetDateTime,
}

impl AccountMessage {
    /// The message of one account to scan as `settings` say, from the central account
    /// `scanning_account`.
    pub fn new(
        account: OrgAccount,
        scanning_account: &str,
        partition: &str,
        securityhub_region: &str,
        settings: &RunSettings,
        chains_read_at: time::OffsetDateTime,
    ) -> Self {
        AccountMessage {
            kind: MESSAGE_KIND.to_string(),
            account,
            scanning_account: scanning_account.to_string(),
            partition: partition.to_string(),
            securityhub_region: securityhub_region.to_string(),
            regions: settings.regions.clone(),
            controls: settings.controls.iter().map(|c| c.id.to_string()).collect(),
            cis_version: settings.cis_version.to_string(),
            dry_run: settings.publish == Publish::DryRun,
            coverage_held: false,
            shared: None,
            chains_read_at,
        }
    }
}

/// The organization trails' chains as a message carries them: their JSON, gzip-compressed, in
/// base64 (an SQS message body is text).
///
/// Compressed rather than sent as JSON in a larger message or through an object store, measured
/// (`the_chains_of_full_log_groups_fit_a_message_once_packed` below): the chains of one
/// organization trail whose log group holds CloudWatch Logs' maximum of 100 metric filters, each
/// with an alarm, are 96 KiB of JSON and 6 KiB packed (16×); five such trails (CloudTrail's
/// limit per account and region) are 464 KiB of JSON — over the 256 KiB a queue takes by
/// default, within SQS's 1 MiB maximum — and 19 KiB packed (25×). A 1 MiB queue would carry the
/// JSON too, but every message would then cost SQS up to 8 billed 64 KiB chunks (one packed),
/// and a worker's batch of 5 would be 2.3 MB of the 6 MB Lambda hands a function; an object store
/// would add a bucket, its permissions and a read per worker for what fits 13 times over in a
/// default message. What still does not fit goes without the chains (the workers then read them
/// through the owner's member role, at the owner's API rates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PackedChains(String);

/// Most bytes packed chains unpack to: a message cannot make a worker hold more.
const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;

impl PackedChains {
    pub fn pack(chains: &SharedChains) -> Result<Self, LambdaError> {
        use std::io::Write;
        let json = serde_json::to_vec(chains).map_err(message_error)?;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(&json)
            .and_then(|()| encoder.finish())
            .map(|gzip| PackedChains(aws_smithy_types::base64::encode(gzip)))
            .map_err(|error| LambdaError::Config(format!("the chains do not compress: {error}")))
    }

    pub fn unpack(&self) -> Result<SharedChains, String> {
        use std::io::Read;
        let gzip = aws_smithy_types::base64::decode(&self.0)
            .map_err(|error| format!("the chains are not base64: {error}"))?;
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(gzip.as_slice())
            .take(MAX_UNPACKED_BYTES + 1)
            .read_to_end(&mut json)
            .map_err(|error| format!("the chains do not decompress: {error}"))?;
        if json.len() as u64 > MAX_UNPACKED_BYTES {
            return Err(format!(
                "the chains unpack to more than {MAX_UNPACKED_BYTES} bytes"
            ));
        }
        serde_json::from_slice(&json).map_err(|error| format!("the chains do not read: {error}"))
    }

    /// Bytes in the message.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the coordinator did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoordinatorSummary {
    pub trigger: String,
    pub scanning_account: String,
    /// Messages sent (one per member account to scan) and those SQS refused.
    pub messages_sent: usize,
    pub messages_failed: Vec<String>,
    /// Whether the chains went with the messages.
    pub shared_in_messages: bool,
    /// The coverage findings the coordinator itself published or archived.
    pub coverage: CoverageSummary,
    /// The central account itself, and the accounts skipped or excluded.
    pub reports: Vec<AccountReport>,
}

/// What the coordinator did with coverage findings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// Coverage findings of accounts no worker scans (asked for but not in the organization).
    pub findings: usize,
    /// Accounts whose held coverage finding no worker updates (gone, not ACTIVE, excluded).
    pub retired: Vec<String>,
    /// Of those, the findings Security Hub took as `ARCHIVED`.
    pub archived: usize,
    /// `GetFindings` requests of that publish.
    pub get_findings_calls: usize,
}

/// The organization settings of an organization stack.
fn org_settings(org: &OrgConfig) -> OrgSettings {
    OrgSettings {
        role: org.role.clone(),
        accounts: org.accounts.clone(),
        exclude: BTreeSet::new(),
        max_in_flight: 1,
    }
}

/// The scheduled run of an organization stack: scan the central account, send the members.
/// `own`: the central account's scan when the caller has just made it (see [`org::prepare`]).
pub async fn coordinate(
    sdk: &aws_config::SdkConfig,
    org: &OrgConfig,
    trigger: &str,
    settings: &RunSettings,
    deadline: Option<Instant>,
    own: Option<ScanOutcome>,
) -> Result<CoordinatorSummary, LambdaError> {
    let prepared = org::prepare(sdk, settings, &org_settings(org), own).await?;
    let region = prepared.own_run.securityhub_region.clone();
    let target = PublishTarget {
        account_id: prepared.scanning_account.clone(),
        partition: prepared.partition.clone(),
        region: region.clone(),
    };
    // Unknown when unreadable: then every worker looks for itself.
    let coverage_held = org::held_coverage(sdk, &target).await;
    let packed = PackedChains::pack(&prepared.shared)?;
    let key = MessageKey::new(sdk, &org.message_key);
    let message_for = |account: &OrgAccount| AccountMessage {
        // Unknown (the read failed): the worker looks, and archives a stale one.
        coverage_held: coverage_held
            .as_ref()
            .is_none_or(|held| held.contains(&account.id)),
        ..AccountMessage::new(
            account.clone(),
            &prepared.scanning_account,
            &prepared.partition,
            &region,
            settings,
            prepared.own_run.scan.snapshot.collected_at,
        )
    };
    // Each body is sealed (kms:GenerateMac, a few at once) and sent batch by batch as it is
    // built: one batch is held at a time, however many accounts the organization has.
    let mut sealed = stream::iter(&prepared.members)
        .map(|account| {
            let body = fitting_body(message_for(account), &packed, org.max_message_bytes);
            let key = &key;
            async move {
                let (body, carried) = body?;
                let mac = key.seal(&body).await;
                Ok::<_, LambdaError>((account.id.clone(), body, carried, mac))
            }
        })
        .buffered(SEALS_IN_FLIGHT);
    let mut sender = Sender::new(sdk, &org.queue_url, org.max_message_bytes);
    let mut shared_in_messages = true;
    let mut handled = 0;
    while let Some(next) = sealed.next().await {
        let remaining = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        if !may_queue(remaining) {
            break;
        }
        handled += 1;
        let (account_id, body, carried, mac) = next?;
        if !carried && shared_in_messages {
            tracing::warn!(
                packed_bytes = packed.len(),
                max_message_bytes = org.max_message_bytes,
                "the organization trails' chains do not fit in an SQS message, even packed: workers read them through the owner's member role"
            );
        }
        shared_in_messages &= carried;
        sender.push(account_id, body, mac).await;
    }
    drop(sealed);
    // In the members' order (the seals are taken in order): those after the last one handled.
    let not_queued: Vec<String> = prepared.members[handled..]
        .iter()
        .map(|account| account.id.clone())
        .collect();
    let (messages_sent, failed) = sender.finish().await;
    let coverage = retire_coverage(
        sdk,
        settings.publish,
        &target,
        coverage_held.as_ref(),
        &prepared,
    )
    .await;
    for report in &prepared.reports {
        match &report.outcome {
            Outcome::PublishFailed { .. } => {
                tracing::error!(account_id = %report.account_id, outcome = %report.describe(), "account")
            }
            _ => {
                tracing::info!(account_id = %report.account_id, outcome = %report.describe(), "account")
            }
        }
    }
    for account_id in &failed {
        tracing::error!(account_id = %account_id, "the account's message could not be sent: it is not scanned this run");
    }
    if !not_queued.is_empty() {
        const NAMED: usize = 20;
        let named = not_queued[..not_queued.len().min(NAMED)].join(", ");
        let more = if not_queued.len() > NAMED {
            ", …"
        } else {
            ""
        };
        let error = LambdaError::OutOfTime(format!(
            "{} of {} member accounts were not queued before the invocation's deadline ({named}{more}); the {messages_sent} queued stay queued. The invocation fails so that Lambda retries it (or the schedule runs it again); that run queues every account again, so those already queued are scanned twice — the same findings, updated in place",
            not_queued.len(),
            prepared.members.len(),
        ));
        tracing::error!(not_queued = %not_queued.join(","), error = %error, "the coordinator ran out of time");
        return Err(error);
    }
    Ok(CoordinatorSummary {
        trigger: trigger.to_string(),
        scanning_account: prepared.scanning_account,
        messages_sent,
        messages_failed: failed,
        shared_in_messages,
        coverage,
        reports: prepared.reports,
    })
}

/// The coverage findings no worker of this run updates, in the one place that lists the
/// organization: the accounts left alone (asked for in `Accounts` but not in the organization,
/// or the central account's own publish failing) get theirs, and the held coverage findings of
/// accounts that are not sent to a worker — gone from the organization, not ACTIVE, excluded —
/// are archived ([`org::retired_coverage`]).
async fn retire_coverage(
    sdk: &aws_config::SdkConfig,
    mode: Publish,
    target: &PublishTarget,
    held: Option<&BTreeSet<String>>,
    prepared: &org::Prepared,
) -> CoverageSummary {
    let findings = org::coverage_findings(
        &target.account_id,
        &target.partition,
        &target.region,
        &prepared.reports,
        org::Retries::Later,
    );
    let retired = held
        .map(|held| org::retired_coverage(held, &prepared.members, &prepared.reports))
        .unwrap_or_default();
    let mut owned = retired.clone();
    owned.extend(
        findings
            .iter()
            .map(|finding| finding.resource.account_id.clone()),
    );
    let mut summary = CoverageSummary {
        findings: findings.len(),
        retired: retired.into_iter().collect(),
        ..CoverageSummary::default()
    };
    if owned.is_empty() {
        return summary;
    }
    // Once per run, in the one place: a paging through every held finding (the coordinator
    // read them all a moment ago), rather than a request per 20 retired accounts.
    match org::publish_coverage(sdk, mode, target, &findings, owned, org::CoverageRead::All).await {
        Ok(Some(Ok(report))) => {
            summary.archived = report.archived;
            summary.get_findings_calls = report.get_findings_calls;
        }
        Ok(Some(Err(error))) => {
            tracing::error!(error = %error, "the coverage findings could not be published");
        }
        Ok(None) => {}
        Err(error) => {
            tracing::error!(error = %error, "the coverage findings could not be built");
        }
    }
    summary
}

/// The body of `message` (built without chains) with `packed` when the message fits the
/// queue's `max_bytes` with them and its MAC attribute, else without them; and whether they went.
/// Each message is measured on its own (names differ in length), by arithmetic: the chains are
/// serialized only into a message they fit.
fn fitting_body(
    mut message: AccountMessage,
    packed: &PackedChains,
    max_bytes: usize,
) -> Result<(String, bool), LambdaError> {
    message.shared = None;
    let without = serde_json::to_string(&message).map_err(message_error)?;
    // `null` becomes the packed chains as a JSON string: base64, nothing to escape.
    let with_bytes = without.len() - "null".len() + packed.len() + 2;
    if with_bytes + mac::ATTRIBUTE_BYTES > max_bytes {
        return Ok((without, false));
    }
    message.shared = Some(packed.clone());
    let body = serde_json::to_string(&message).map_err(message_error)?;
    debug_assert_eq!(body.len(), with_bytes);
    Ok((body, true))
}

fn message_error(error: serde_json::Error) -> LambdaError {
    LambdaError::Config(format!("an account message does not serialize: {error}"))
}

/// Seals `messages` (as the coordinator does: a worker refuses an unsealed one) and sends them
/// to the organization's scan queue; the accounts whose message could not be sealed or SQS
/// refused (twice).
pub async fn queue_messages(
    sdk: &aws_config::SdkConfig,
    org: &OrgConfig,
    messages: &[AccountMessage],
) -> Result<Vec<String>, LambdaError> {
    let key = MessageKey::new(sdk, &org.message_key);
    let mut sender = Sender::new(sdk, &org.queue_url, org.max_message_bytes);
    for message in messages {
        let body = serde_json::to_string(message).map_err(message_error)?;
        let mac = key.seal(&body).await;
        sender.push(message.account.id.clone(), body, mac).await;
    }
    Ok(sender.finish().await.1)
}

/// Sends account messages in batches of at most [`BATCH_ENTRIES`] entries and the queue's
/// message size in all (`OrgConfig::max_message_bytes`; SQS takes a batch of up to 1 MiB),
/// each batch as soon as it is full; an entry SQS refuses is sent once more.
struct Sender<'a> {
    client: aws_sdk_sqs::Client,
    queue_url: &'a str,
    max_bytes: usize,
    /// The batch being filled: account id, message body and its MAC.
    batch: Vec<(String, String, String)>,
    bytes: usize,
    sent: usize,
    /// Accounts whose message SQS refused twice.
    failed: Vec<String>,
}

impl<'a> Sender<'a> {
    fn new(sdk: &aws_config::SdkConfig, queue_url: &'a str, max_bytes: usize) -> Self {
        Sender {
            client: aws_sdk_sqs::Client::new(sdk),
            queue_url,
            max_bytes,
            batch: Vec::new(),
            bytes: 0,
            sent: 0,
            failed: Vec::new(),
        }
    }

    /// Adds a message to the batch, sending the batch first when it is full; a message whose
    /// seal failed (`mac`'s error) is not sent — a worker would refuse it — and its account
    /// counts as failed.
    async fn push(&mut self, account_id: String, body: String, mac: Result<String, String>) {
        let mac = match mac {
            Ok(mac) => mac,
            Err(reason) => {
                tracing::error!(account_id = %account_id, reason = %reason, "the account's message could not be sealed: it is not sent");
                self.failed.push(account_id);
                return;
            }
        };
        let bytes = body.len() + mac::ATTRIBUTE_BYTES;
        if self.batch.len() == BATCH_ENTRIES || self.bytes + bytes > self.max_bytes {
            self.flush().await;
        }
        self.bytes += bytes;
        self.batch.push((account_id, body, mac));
    }

    /// Messages sent, and the accounts whose message could not be.
    async fn finish(mut self) -> (usize, Vec<String>) {
        self.flush().await;
        (self.sent, self.failed)
    }

    async fn flush(&mut self) {
        use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
        let mut pending = std::mem::take(&mut self.batch);
        self.bytes = 0;
        let entries = pending.len();
        for attempt in 1..=2 {
            if pending.is_empty() {
                break;
            }
            let request: Vec<SendMessageBatchRequestEntry> = pending
                .iter()
                .enumerate()
                .map(|(position, (_, body, mac))| {
                    let mac = MessageAttributeValue::builder()
                        .data_type(mac::MAC_DATA_TYPE)
                        .string_value(mac)
                        .build()
                        .expect("the data type is set");
                    SendMessageBatchRequestEntry::builder()
                        .id(position.to_string())
                        .message_body(body)
                        .message_attributes(mac::MAC_ATTRIBUTE, mac)
                        .build()
                        .expect("id and body are set")
                })
                .collect();
            let refused: BTreeSet<usize> = match self
                .client
                .send_message_batch()
                .queue_url(self.queue_url)
                .set_entries(Some(request))
                .send()
                .await
            {
                Ok(output) => output
                    .failed()
                    .iter()
                    .filter_map(|entry| entry.id().parse().ok())
                    .collect(),
                Err(error) => {
                    tracing::warn!(error = %aws_smithy_types::error::display::DisplayErrorContext(&error), attempt, "sqs:SendMessageBatch failed");
                    (0..pending.len()).collect()
                }
            };
            pending = pending
                .into_iter()
                .enumerate()
                .filter(|(position, _)| refused.contains(position))
                .map(|(_, entry)| entry)
                .collect();
        }
        self.sent += entries - pending.len();
        self.failed
            .extend(pending.into_iter().map(|(account_id, _, _)| account_id));
    }
}

/// Whether the coordinator may queue one more account with `remaining` time left before the
/// invocation's deadline (`None`: no deadline): it keeps [`QUEUE_MARGIN`] to send the batch it
/// holds, archive the retired coverage findings and answer. Pure.
pub fn may_queue(remaining: Option<Duration>) -> bool {
    remaining.is_none_or(|remaining| remaining >= QUEUE_MARGIN)
}

/// Whether a record may start with `remaining` time left before the invocation's deadline
/// (`None`: no deadline), when the longest record of the batch so far took `longest`. Pure.
pub fn may_start(remaining: Option<Duration>, longest: Duration) -> bool {
    remaining.is_none_or(|remaining| {
        remaining >= MIN_TIME_TO_START.max(longest + longest / 2) + ANSWER_MARGIN
    })
}

/// A batch from the queue: each record one account, scanned through its member role, at most
/// [`RECORDS_IN_FLIGHT`] at once. Before `deadline` a record is started only when
/// [`may_start`] allows it, and one still running [`ANSWER_MARGIN`] before it is abandoned;
/// both come back in `batchItemFailures` (SQS delivers them again; the others are done), so a
/// timeout never returns the whole batch.
pub async fn work(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    org: &OrgConfig,
    records: &[SqsMessage],
    deadline: Option<Instant>,
) -> SqsBatchResponse {
    // The scanning account and partition are the worker's own, never a message's.
    let own = match crate::collect::identity_of(sdk).await {
        Ok((account, partition)) => Identity { account, partition },
        Err(error) => {
            tracing::error!(error = %error, "the worker's own identity could not be read: the batch is returned");
            let mut response = SqsBatchResponse::default();
            response.set_failures(
                records
                    .iter()
                    .filter_map(|record| record.message_id.clone()),
            );
            return response;
        }
    };
    let membership = Membership::new(sdk);
    let key = MessageKey::new(sdk, &org.message_key);
    let worker = Worker {
        own: &own,
        membership: &membership,
        key: &key,
    };
    let longest_ms = AtomicU64::new(0);
    let stop_at = deadline.map(|deadline| deadline.checked_sub(ANSWER_MARGIN).unwrap_or(deadline));
    let mut results: Vec<(usize, bool)> = stream::iter(records.iter().enumerate())
        .map(|(position, record)| {
            let remaining = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            let longest = Duration::from_millis(longest_ms.load(Ordering::Relaxed));
            let start = may_start(remaining, longest);
            let (longest_ms, worker) = (&longest_ms, &worker);
            async move {
                if !start {
                    tracing::warn!(message_id = ?record.message_id, remaining = ?remaining, "too little time left to scan the record: returned for a later delivery");
                    return (position, false);
                }
                let started = Instant::now();
                let scan = scan_record(sdk, config, org, worker, record);
                let done = match stop_at {
                    None => scan.await,
                    Some(stop_at) => match tokio::time::timeout_at(stop_at.into(), scan).await {
                        Ok(done) => done,
                        Err(_) => {
                            tracing::warn!(message_id = ?record.message_id, "the invocation's deadline came before the record's scan ended: returned for a later delivery");
                            false
                        }
                    },
                };
                longest_ms.fetch_max(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                (position, done)
            }
        })
        .buffer_unordered(RECORDS_IN_FLIGHT)
        .collect()
        .await;
    // In the batch's order, for logs and tests.
    results.sort_unstable();
    let mut response = SqsBatchResponse::default();
    for (position, _) in results.into_iter().filter(|(_, done)| !done) {
        response.add_failure(records[position].message_id.clone().unwrap_or_default());
    }
    response
}

/// What a worker knows of itself for one invocation.
struct Worker<'a> {
    own: &'a Identity,
    membership: &'a Membership,
    /// The stack's HMAC key: a message is read only once its MAC verifies.
    key: &'a MessageKey,
}

/// One record; `false` when it goes back to the queue: to be retried, or — refused — to stay
/// there until its last receive moves it to the dead-letter queue, where it is kept (14 days)
/// as evidence, with the reason logged at ERROR on every receive. Refusing costs one
/// DescribeAccount call per receive at most; maxReceiveCount bounds the receives.
async fn scan_record(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    org: &OrgConfig,
    worker: &Worker<'_>,
    record: &SqsMessage,
) -> bool {
    let body = record.body.as_deref().unwrap_or_default();
    let message_id = record.message_id.as_deref().unwrap_or_default();
    let refuse = |reason: &str| {
        tracing::error!(message_id = %message_id, reason = %reason, "refused the account message: it goes to the dead-letter queue after its last receive; nothing is imported for it");
        false
    };
    // Nothing of the message is trusted, nor even read, before its MAC verifies.
    let mac = record
        .message_attributes
        .get(mac::MAC_ATTRIBUTE)
        .and_then(|attribute| attribute.string_value.as_deref());
    match worker.key.verify(body, mac).await {
        Ok(()) => {}
        Err(Unverified::Refused(reason)) => return refuse(&reason),
        Err(Unverified::Unanswered(reason)) => {
            tracing::warn!(message_id = %message_id, reason = %reason, "the message's MAC could not be verified: nothing of it is trusted; returned for a later delivery");
            return false;
        }
    }
    let mut message: AccountMessage = match serde_json::from_str(body) {
        Ok(message) if message_is_ours(&message) => message,
        Ok(_) => return refuse("not a trailwatch account message"),
        Err(error) => return refuse(&format!("not a trailwatch account message: {error}")),
    };
    if let Err(reason) = check_message(&message, worker.own, config)
        .and_then(|()| check_age(message.chains_read_at, time::OffsetDateTime::now_utc()))
    {
        return refuse(&reason);
    }
    if message.scanning_account != worker.own.account || message.partition != worker.own.partition {
        tracing::warn!(message_id = %message_id, claimed_account = %message.scanning_account, claimed_partition = %message.partition, account = %worker.own.account, partition = %worker.own.partition, "the message names another scanning account or partition: the worker's own identity is used");
    }
    message.scanning_account = worker.own.account.clone();
    message.partition = worker.own.partition.clone();
    if let Err(reason) = worker.membership.check(&message.account.id).await {
        return refuse(&reason);
    }
    let settings = match message_settings(&message, config) {
        Ok(settings) => settings,
        Err(error) => return refuse(&format!("the message's run settings: {error}")),
    };
    // The function runs in the scanning account: it reads that account with its own credentials.
    let roles = Roles::new(
        sdk,
        &message.scanning_account,
        org.role.clone(),
        &message.partition,
    );
    let carried = match message
        .shared
        .as_ref()
        .map(PackedChains::unpack)
        .transpose()
    {
        Ok(carried) => carried,
        Err(reason) => return refuse(&format!("the message's chains: {reason}")),
    };
    let empty = SharedChains::default();
    let shared = carried.as_ref().unwrap_or(&empty);
    let receive = receive_count(record);
    let last_receive = receive >= org.max_receive_count;
    let (report, run) = org::scan_member_unless(
        &roles,
        &message.partition,
        shared,
        &settings,
        &message.account,
        |run| {
            if last_receive {
                return None;
            }
            let passing = passing_failures(&run.scan.snapshot, carried.as_ref());
            (!passing.is_empty()).then(|| {
                format!(
                    "reads that may pass on another attempt failed ({}); nothing is published before receive {} of {}",
                    passing.join("; "),
                    org.max_receive_count,
                    org.max_receive_count
                )
            })
        },
    )
    .await;
    let summary = run
        .as_ref()
        .map(|run| RunSummary::new("sqs", &settings, run));
    tracing::info!(
        account_id = %report.account_id,
        outcome = %report.describe(),
        summary = %summary.as_ref().and_then(|s| serde_json::to_string(s).ok()).unwrap_or_default(),
        "account"
    );
    let retry = match &report.outcome {
        Outcome::NotScanned { transient, .. } | Outcome::PublishFailed { transient, .. } => {
            *transient
        }
        // Findings Security Hub refused for a passing reason (throttling, an internal error)
        // are sent again with the record's next delivery; the others are in the logs.
        Outcome::Scanned { .. } => run
            .as_ref()
            .and_then(|run| run.published.as_ref())
            .and_then(|published| published.as_ref().ok())
            .is_some_and(|published| published.failed.iter().any(FailedFinding::is_transient)),
        Outcome::Skipped { .. } | Outcome::Excluded => false,
    };
    if retry {
        tracing::warn!(account_id = %report.account_id, message_id = %message_id, "the account is retried with the record's next delivery");
        return false;
    }
    let coverage = org::coverage_findings(
        &message.scanning_account,
        &message.partition,
        &message.securityhub_region,
        std::slice::from_ref(&report),
        org::Retries::Later,
    );
    if coverage.is_empty() && !message.coverage_held {
        return true;
    }
    let target = PublishTarget {
        account_id: message.scanning_account.clone(),
        partition: message.partition.clone(),
        region: message.securityhub_region.clone(),
    };
    // Read by Id: this account's coverage finding only, not every account's (GetFindings is
    // limited to 3 requests a second in the central account, which every worker shares).
    let published = org::publish_coverage(
        sdk,
        settings.publish,
        &target,
        &coverage,
        [message.account.id.clone()].into(),
        org::CoverageRead::ById,
    )
    .await;
    match published {
        Ok(None) | Ok(Some(Ok(_))) => true,
        Ok(Some(Err(error))) => {
            tracing::error!(account_id = %message.account.id, error = %error, "the coverage finding could not be published; retrying");
            false
        }
        Err(error) => {
            tracing::error!(account_id = %message.account.id, error = %error, "the coverage finding could not be built");
            true
        }
    }
}

/// The record's `ApproximateReceiveCount` (1 when absent or unreadable).
fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}

/// The failed reads of `snapshot` another attempt may get past (throttling, a network or service
/// failure: [`crate::model::snapshot::ReadErrorKind::may_pass`]), each as `operation in region (code)`, leaving out those
/// the message's chains carry (another attempt reads those chains again from the message). Any
/// of them may have turned a verdict into NOT_AVAILABLE.
pub fn passing_failures(snapshot: &Snapshot, shared: Option<&SharedChains>) -> Vec<String> {
    let carried: Vec<&ReadError> = shared
        .map(|shared| shared.chains.failed_reads())
        .unwrap_or_default();
    let mut found: Vec<String> = snapshot
        .failed_reads()
        .into_iter()
        .filter(|error| error.kind.may_pass() && !carried.contains(error))
        .map(|error| {
            format!(
                "{} in {} ({})",
                error.operation,
                error.region,
                error.code.as_deref().unwrap_or(&error.message)
            )
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

fn message_is_ours(message: &AccountMessage) -> bool {
    message.kind == MESSAGE_KIND
}

/// The run a message asks for, which like a direct invoke may only narrow the stack's own
/// configuration (a forged or stale message cannot widen what the stack scans, nor switch off
/// its dry run).
fn message_settings(message: &AccountMessage, config: &Config) -> Result<RunSettings, String> {
    let regions = match &message.regions {
        None if config.regions.is_some() => {
            return Err(
                "regions: the message asks for every enabled region; the stack scans a list"
                    .to_string(),
            )
        }
        None => None,
        Some(names) => Some(super::narrow_regions(
            config.regions.as_deref(),
            crate::run::region_names(names.iter().map(String::as_str))?,
        )?),
    };
    let selected = controls::select(&message.controls.join(",")).map_err(|e| e.to_string())?;
    Ok(RunSettings {
        regions,
        controls: super::narrow_controls(&config.controls, selected)?,
        securityhub_region: Some(message.securityhub_region.clone()),
        // A message cannot switch off the stack's dry run; one sent before the stack turned
        // DryRun on is planned, not refused.
        publish: if config.dry_run || message.dry_run {
            Publish::DryRun
        } else {
            Publish::Import
        },
        cis_version: CisVersion::parse(&message.cis_version).map_err(|e| e.to_string())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::organization::MemberState;

    /// A member's message, chains left out.
    fn member_message(name: &str) -> AccountMessage {
        AccountMessage {
            kind: MESSAGE_KIND.to_string(),
            account: OrgAccount {
                id: "111122223333".to_string(),
                name: name.to_string(),
                state: MemberState::Active,
            },
            scanning_account: "999988887777".to_string(),
            partition: "aws".to_string(),
            securityhub_region: "eu-west-1".to_string(),
            regions: Some(vec!["eu-west-1".to_string()]),
            controls: vec!["cloudtrail-changes".to_string()],
            cis_version: "1.4.0".to_string(),
            dry_run: false,
            coverage_held: true,
            shared: None,
            chains_read_at: time::macros::datetime!(2026-05-01 06:00 UTC),
        }
    }

    #[test]
    fn a_message_round_trips_and_carries_the_run() {
        let message = AccountMessage {
            shared: Some(PackedChains::pack(&SharedChains::default()).unwrap()),
            ..member_message("prod")
        };
        let body = serde_json::to_string(&message).unwrap();
        let back: AccountMessage = serde_json::from_str(&body).unwrap();
        assert_eq!(back, message);
        let config = Config::from_lookup(|_| None).unwrap();
        let settings = message_settings(&back, &config).unwrap();
        assert_eq!(settings.controls[0].id, "cloudtrail-changes");
        assert_eq!(settings.cis_version.to_string(), "1.4.0");
        assert_eq!(settings.publish, Publish::Import);
        let mut wrong = message.clone();
        wrong.controls = vec!["nope".to_string()];
        assert!(message_settings(&wrong, &config)
            .unwrap_err()
            .contains("unknown control"));
        // A message may not widen the stack's configuration.
        let stack = Config::from_lookup(|name| match name {
            super::super::config::ENV_REGIONS => Some("us-east-1".to_string()),
            super::super::config::ENV_CONTROLS => Some("cloudtrail-changes".to_string()),
            super::super::config::ENV_DRY_RUN => Some("true".to_string()),
            _ => None,
        })
        .unwrap();
        let error = message_settings(&back, &stack).unwrap_err();
        assert!(error.contains("refused eu-west-1"), "{error}");
        let mut everywhere = message.clone();
        everywhere.regions = None;
        assert!(message_settings(&everywhere, &stack).is_err());
        let mut wider = message.clone();
        wider.regions = Some(vec!["us-east-1".to_string()]);
        assert_eq!(
            message_settings(&wider, &stack).unwrap().publish,
            Publish::DryRun
        );
        wider.controls.push("nacl-changes".to_string());
        let error = message_settings(&wider, &stack).unwrap_err();
        assert!(error.contains("refused nacl-changes"), "{error}");
    }

    /// The chains of `trails` organization trails, each on its own log group full to CloudWatch
    /// Logs' quota of 100 metric filters (the CIS patterns in turn, with their ids in the names),
    /// each filter's metric watched by one alarm with the CIS settings notifying one of 5 topics
    /// with an access policy and 3 subscriptions.
    fn full_chains(trails: usize) -> SharedChains {
        use crate::model::snapshot::*;
        let account = "111122223333";
        let region = "us-east-1";
        let cis: Vec<(&str, &str)> = crate::controls::catalog()
            .iter()
            .filter_map(|control| Some((control.id, control.required_pattern()?)))
            .collect();
        let topic = |n: usize| format!("arn:aws:sns:{region}:{account}:cis-alerts-{n}");
        let mut graph = ChainGraph::default();
        let mut alarms = Vec::new();
        for t in 0..trails {
            let group = format!("aws-controltower/CloudTrailLogs-{t}");
            let group_arn = format!("arn:aws:logs:{region}:{account}:log-group:{group}:*");
            graph.trails.push(Trail {
                arn: format!("arn:aws:cloudtrail:{region}:{account}:trail/organization-trail-{t}"),
                name: format!("organization-trail-{t}"),
                home_region: region.to_string(),
                is_multi_region: true,
                is_organization_trail: true,
                log_group_arn: Some(group_arn.clone()),
                status: Ok(TrailStatus {
                    is_logging: true,
                    latest_cloudwatch_logs_delivery_time: Some(
                        time::macros::datetime!(2026-11-23 11:00 UTC),
                    ),
                    latest_cloudwatch_logs_delivery_error: None,
                }),
                event_selectors: Ok(EventSelectors {
                    classic: vec![ClassicEventSelector {
                        read_write_type: "All".to_string(),
                        include_management_events: true,
                        exclude_management_event_sources: vec![],
                    }],
                    advanced: vec![],
                }),
            });
            let filters = (0..100)
                .map(|n| {
                    let (id, pattern) = cis[n % cis.len()];
                    MetricFilter {
                        name: format!("{group}-{id}-{n}"),
                        pattern: pattern.to_string(),
                        metric_transformations: vec![MetricTransformation {
                            metric_name: format!("{id}-{t}-{n}"),
                            metric_namespace: "CISBenchmark".to_string(),
                            metric_value: "1".to_string(),
                            default_value: None,
                            unit: None,
                            dimensions: Default::default(),
                        }],
                    }
                })
                .collect();
            graph.log_groups.push(LogGroup {
                arn: group_arn,
                name: group,
                region: region.to_string(),
                account_id: account.to_string(),
                metric_filters: Ok(filters),
            });
            for n in 0..100 {
                let (id, _) = cis[n % cis.len()];
                alarms.push(Alarm {
                    arn: format!("arn:aws:cloudwatch:{region}:{account}:alarm:{id}-{t}-{n}"),
                    name: format!("{id}-{t}-{n}"),
                    actions_enabled: true,
                    alarm_actions: vec![topic(n % 5)],
                    ok_actions: vec![],
                    insufficient_data_actions: vec![],
                    metrics: vec![AlarmMetric {
                        metric_name: format!("{id}-{t}-{n}"),
                        namespace: "CISBenchmark".to_string(),
                        dimensions: Default::default(),
                        account_id: None,
                    }],
                    evaluation: AlarmEvaluation {
                        statistic: Some("Sum".to_string()),
                        period: Some(300),
                        evaluation_periods: Some(1),
                        comparison_operator: Some("GreaterThanOrEqualToThreshold".to_string()),
                        threshold: Some(1.0),
                        treat_missing_data: Some("notBreaching".to_string()),
                        ..AlarmEvaluation::default()
                    },
                });
            }
        }
        graph.alarm_sets.push(AlarmSet {
            region: region.to_string(),
            account_id: account.to_string(),
            alarms: Ok(alarms),
            composite_alarms: vec![],
        });
        graph.topics = (0..5)
            .map(|n| Topic {
                arn: topic(n),
                region: region.to_string(),
                account_id: account.to_string(),
                subscriptions: Ok((0..3)
                    .map(|s| Subscription {
                        subscription_arn: format!("{}:5f1c-{n}-{s}", topic(n)),
                        protocol: "email".to_string(),
                        endpoint: format!("secops-{s}@example.com"),
                        filter: Some(Ok(SubscriptionFilter {
                            policy: None,
                            scope: None,
                        })),
                    })
                    .collect()),
                attributes: Ok(TopicAttributes {
                    policy: Some(
                        serde_json::json!({"Statement": [{
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            "Action": "SNS:Publish",
                            "Resource": topic(n),
                            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
                        }]})
                        .to_string(),
                    ),
                    kms_master_key_id: None,
                    key: None,
                }),
            })
            .collect();
        SharedChains { chains: graph }
    }

    /// The measurement behind [`PackedChains`]: JSON and packed sizes of the chains of one and
    /// of five full organization-trail log groups (printed with `--nocapture`), and the round
    /// trip.
    #[test]
    fn the_chains_of_full_log_groups_fit_a_message_once_packed() {
        for trails in [1, 5] {
            let chains = full_chains(trails);
            let json = serde_json::to_vec(&chains).unwrap().len();
            let packed = PackedChains::pack(&chains).unwrap();
            println!(
                "{trails} full log group(s): JSON {json} B ({:.0} KiB), packed {} B ({:.0} KiB), {:.1}x",
                json as f64 / 1024.0,
                packed.len(),
                packed.len() as f64 / 1024.0,
                json as f64 / packed.len() as f64
            );
            assert_eq!(packed.unpack().unwrap(), chains);
            assert!(
                packed.len() < super::super::config::DEFAULT_MAX_MESSAGE_BYTES / 2,
                "{trails}: {} B packed",
                packed.len()
            );
        }
        // Five full log groups do not fit the default message as JSON.
        assert!(
            serde_json::to_vec(&full_chains(5)).unwrap().len()
                > super::super::config::DEFAULT_MAX_MESSAGE_BYTES
        );
        assert!(PackedChains("not base64!".to_string()).unpack().is_err());
    }

    #[test]
    fn each_message_carries_the_chains_exactly_when_it_fits_with_them() {
        let packed = PackedChains::pack(&full_chains(1)).unwrap();
        let sealed_size = |message: &AccountMessage| {
            serde_json::to_string(message).unwrap().len() + mac::ATTRIBUTE_BYTES
        };
        for name in [
            "a",
            "a name of fifty characters, as long as AWS allows",
            "é—unicode",
        ] {
            let full = AccountMessage {
                shared: Some(packed.clone()),
                ..member_message(name)
            };
            let limit = sealed_size(&full);
            let (body, carried) = fitting_body(member_message(name), &packed, limit).unwrap();
            assert!(carried, "{name}");
            assert_eq!(serde_json::from_str::<AccountMessage>(&body).unwrap(), full);
            let (body, carried) = fitting_body(member_message(name), &packed, limit - 1).unwrap();
            assert!(!carried, "{name}");
            assert_eq!(
                serde_json::from_str::<AccountMessage>(&body).unwrap(),
                member_message(name)
            );
        }
    }

    #[test]
    fn accounts_are_queued_only_with_time_to_finish() {
        let secs = Duration::from_secs;
        assert!(may_queue(None));
        assert!(may_queue(Some(secs(30))));
        assert!(!may_queue(Some(secs(29))));
        assert!(!may_queue(Some(Duration::ZERO)));
    }

    #[test]
    fn records_start_only_with_time_for_them() {
        let secs = Duration::from_secs;
        assert!(may_start(None, secs(3600)));
        assert!(may_start(Some(secs(600)), Duration::ZERO));
        assert!(may_start(Some(secs(130)), Duration::ZERO));
        assert!(!may_start(Some(secs(129)), Duration::ZERO));
        // A record of the batch took 200 s: the next needs 300 s and the margin.
        assert!(!may_start(Some(secs(300)), secs(200)));
        assert!(may_start(Some(secs(310)), secs(200)));
    }

    #[test]
    fn the_batch_response_has_the_shape_lambda_reads() {
        let mut response = SqsBatchResponse::default();
        response.add_failure("059f36b4-87a3-44ab-83d2-661975830a7d");
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "059f36b4-87a3-44ab-83d2-661975830a7d"}]})
        );
    }
}
