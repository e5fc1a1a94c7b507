//! The event-driven re-check (`EventDrivenRecheck`): an SQS batch of EventBridge events — the
//! changes that can break or repair a chain ([`crate::controls::changes::CHANGES`]) — becomes one
//! scan per affected account, of only the affected controls, whose findings update the same
//! Security Hub findings in place (same Ids, `CreatedAt` kept: the one publish path,
//! [`crate::run::publish_scan`]).
//!
//! Each record's body is an EventBridge event, parsed with `aws_lambda_events`' type and checked:
//! its `source` and `detail-type` must be on the list, its `account` the stack's own (the change
//! queue's, [`ChangeQueue`]) or, in an organization stack, a member's (one of `Accounts` when the
//! stack names them), its `region` a region of the stack's partition. What fails is
//! logged and dropped, never a failed batch: an event SQS retried would fail again. The batch's
//! changes are coalesced per account: one collection for the union of the controls their kinds
//! can affect, then the controls the fresh snapshot's chain graph says they do affect
//! ([`changes::affected_controls`]) are evaluated and published. The publish owns exactly those
//! controls ([`crate::securityhub::scope`]): a re-check never archives a finding it did not
//! re-evaluate. A scan or publish that fails returns the account's records in
//! `batchItemFailures`, for SQS to retry and then to move to the queue's DLQ (so does a message
//! the scan queue refused, and a passing failure to learn the management account: the members'
//! records).
//!
//! A member account's changes (forwarded by `change-forwarder.yaml`) are not scanned here: each
//! such account gets one account message on the organization's scan queue, narrowed to the
//! controls its changes can affect ([`fanout::AccountMessage`]), and a worker checks it (an
//! ACTIVE member), scans it through its member role and publishes those controls only — the
//! organization run's own path and trust checks. A change in the stack's own account to an
//! organization trail's chain ([`changes::on_organization_chain`]) concerns every member judged
//! on that chain: it starts the organization run ([`fanout::coordinate`]) narrowed to the
//! affected controls — the shared chain read once, one message per member. From a delegated
//! administrator the organization trails are the management account's, a member's: its changes
//! join the stack's own re-check, which checks them against those chains the same way
//! ([`management_changes`]).

use super::config::{ChangeQueue, Config, OrgConfig};
use super::errors::LambdaError;
use super::event::{Invocation, SqsBatchResponse, SqsMessage};
use super::fanout::{self, AccountMessage};
use super::trust::region_in_partition;
use crate::collect::access::Roles;
use crate::collect::organization::{management_account, MemberState, OrgAccount};
use crate::collect::{collect_with, CollectPlan, Reach};
use crate::controls::changes::{self, Change};
use crate::controls::{self, Control};
use crate::model::snapshot::{ReadError, SharedChains, Snapshot};
use crate::run::{self, Publish, RunSettings, RunSummary, ScanOutcome};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// The trigger a re-check's run summary names.
pub const TRIGGER: &str = "recheck";

/// What a re-check answers: the records to retry (the shape Lambda reads from an SQS-triggered
/// function with `ReportBatchItemFailures`), and what was done.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecheckResponse {
    #[serde(flatten)]
    pub batch: SqsBatchResponse,
    pub recheck: RecheckSummary,
}

/// What one batch of change events did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RecheckSummary {
    /// Records in the batch.
    pub records: usize,
    /// Records that were changes the re-check acts on.
    pub changes: usize,
    /// Records dropped (not on the list, another account, malformed), each logged.
    pub ignored: usize,
    /// One entry per account with changes (a stack in a delegated administrator: the
    /// management account's changes appear in the stack's own entry too).
    pub accounts: Vec<AccountRecheck>,
    /// Why the organization's management account could not be learnt, when member changes
    /// needed it (a passing failure retries the members' records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub management_unknown: Option<String>,
}

impl RecheckSummary {
    /// Collections made (at most one per account).
    pub fn scans(&self) -> usize {
        self.accounts
            .iter()
            .filter(|account| account.scanned)
            .count()
    }
}

/// The re-check of one account.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AccountRecheck {
    pub account_id: String,
    /// The changes, as `source eventName region`.
    pub changes: Vec<String>,
    /// Whether the account was scanned here (not when no control of the stack can be affected).
    pub scanned: bool,
    /// Whether a member account's re-check was queued for a worker instead.
    pub queued: bool,
    /// A change to the organization trail's chain: the members queued by the organization run
    /// it started (narrowed to the affected controls; it also re-checked this account).
    pub members_queued: Option<usize>,
    /// The controls re-evaluated and published.
    pub controls: Vec<String>,
    /// The run's summary, when controls were re-evaluated.
    pub run: Option<Box<RunSummary>>,
    /// Why the re-check failed (its records are retried).
    pub error: Option<String>,
}

/// The change queue, when an SQS batch comes from it (Lambda sets each record's
/// `eventSourceARN` to the queue's ARN).
pub fn change_queue_of<'a>(config: &'a Config, records: &[SqsMessage]) -> Option<&'a ChangeQueue> {
    config.change_queue.as_ref().filter(|queue| {
        records
            .iter()
            .all(|record| record.event_source_arn.as_deref() == Some(queue.arn.as_str()))
    })
}

/// Reads one record's body as a change of the stack's own account, or in an organization stack
/// (`organization`) of a member account. `Err` says why it is ignored.
pub fn read_change(
    queue: &ChangeQueue,
    organization: Option<&OrgConfig>,
    body: &str,
) -> Result<Change, String> {
    let event: EventBridgeEvent<Value> = serde_json::from_str(body)
        .map_err(|error| format!("the body is not an EventBridge event: {error}"))?;
    let account = event.account.as_deref().unwrap_or_default();
    if account != queue.account {
        let Some(org) = organization else {
            return Err(format!(
                "the event is about account {account:?}; this stack re-checks only its own, {}",
                queue.account
            ));
        };
        if !crate::model::arn::is_account_id(account) {
            return Err(format!("{account:?} is not an account id (12 digits)"));
        }
        if org
            .accounts
            .as_ref()
            .is_some_and(|only| !only.contains(account))
        {
            return Err(format!(
                "{account} is not one of the stack's accounts (TRAILWATCH_ACCOUNTS)"
            ));
        }
    }
    let region = event.region.as_deref().unwrap_or_default();
    if !region_in_partition(region, &queue.partition) {
        return Err(format!(
            "{region:?} is not a region of the partition {}",
            queue.partition
        ));
    }
    changes::classify(
        &event.source,
        &event.detail_type,
        account,
        region,
        &event.detail,
    )
    .map_err(|reason| reason.to_string())
}

/// The controls of `stack` (in its order) that are in any of `lists`.
fn union(stack: &[&'static Control], lists: &[Vec<&'static Control>]) -> Vec<&'static Control> {
    stack
        .iter()
        .copied()
        .filter(|control| lists.iter().flatten().any(|other| other.id == control.id))
        .collect()
}

/// Re-checks the accounts a batch of change events concerns.
pub async fn work(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    queue: &ChangeQueue,
    records: &[SqsMessage],
    deadline: Option<Instant>,
) -> Result<RecheckResponse, LambdaError> {
    let stack = super::resolve(
        config,
        &Invocation::Scheduled {
            time: None,
            rule: None,
        },
    )?;
    let mut summary = RecheckSummary {
        records: records.len(),
        ..RecheckSummary::default()
    };
    // Per account: its changes and the ids of their records.
    let mut by_account: BTreeMap<String, (Vec<Change>, Vec<String>)> = BTreeMap::new();
    for record in records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.as_deref().unwrap_or_default();
        match read_change(queue, config.organization.as_ref(), body) {
            Ok(change) => {
                tracing::info!(message_id = %id, account_id = %change.account, region = %change.region, source = change.kind.source, name = %change.name, "change event");
                let entry = by_account.entry(change.account.clone()).or_default();
                entry.0.push(change);
                entry.1.push(id);
                summary.changes += 1;
            }
            Err(reason) => {
                tracing::warn!(message_id = %id, %reason, "ignored an event");
                summary.ignored += 1;
            }
        }
    }
    // Records to retry, each once.
    let mut retry: BTreeSet<String> = BTreeSet::new();
    let members: BTreeMap<_, _> = by_account
        .extract_if(.., |account_id, _| *account_id != queue.account)
        .collect();
    if let Some(org) = &config.organization {
        // From a delegated administrator, the management account's changes are checked against
        // the organization trails' chains too, by the stack's own re-check below.
        match Box::pin(management_changes(sdk, &stack, queue, &members)).await {
            Ok(None) => {}
            Ok(Some((changes, ids))) => {
                let own = by_account.entry(queue.account.clone()).or_default();
                own.0.extend(changes);
                own.1.extend(ids);
            }
            Err(error) => {
                // A passing failure: the members' records are retried. A refusal would be
                // refused again: the organization trails' chains wait for the schedule.
                let retried = error.kind.may_pass();
                tracing::error!(error = %error.code_and_message(), operation = %error.operation, retried, "the management account is unknown: its changes are not checked against the organization trails' chains");
                if retried {
                    retry.extend(members.values().flat_map(|(_, ids)| ids.iter().cloned()));
                }
                summary.management_unknown = Some(error.code_and_message());
            }
        }
        let queued = Box::pin(queue_members(sdk, org, queue, &stack, members)).await;
        for recheck in queued {
            if recheck.account.error.is_some() {
                retry.extend(recheck.ids);
            }
            summary.accounts.push(recheck.account);
        }
    }
    for (account_id, (changes, ids)) in by_account {
        let org = config.organization.as_ref();
        let recheck = Box::pin(recheck_account(
            sdk,
            &stack,
            org,
            queue,
            &account_id,
            &changes,
            deadline,
        ))
        .await;
        if let Some(error) = &recheck.error {
            tracing::error!(account_id = %account_id, %error, "re-check failed: its records are retried");
            retry.extend(ids);
        }
        summary.accounts.push(recheck);
    }
    let mut batch = SqsBatchResponse::default();
    for id in retry {
        batch.add_failure(id);
    }
    Ok(RecheckResponse {
        batch,
        recheck: summary,
    })
}

/// The management account's changes and their records, when the stack is deployed in a
/// delegated administrator and the batch holds any (`members`: the batch's changes of accounts
/// other than the stack's, by account). The organization trails are the management account's, a
/// member's here, so its changes can touch the chain every member is judged on: the stack's own
/// re-check takes them too, reads the stack's account — which sees those trails and reads their
/// chains through the management account's member role — and, when one is on such a chain,
/// starts the narrowed organization run, as for its own change. The management account's own
/// re-check is queued besides, as any member's.
///
/// `organizations:DescribeOrganization` names the management account, asked only when a
/// member's change can affect a control of the stack; in a stack in the management account
/// itself the answer is the stack's own account, never a member.
async fn management_changes(
    sdk: &aws_config::SdkConfig,
    stack: &RunSettings,
    queue: &ChangeQueue,
    members: &BTreeMap<String, (Vec<Change>, Vec<String>)>,
) -> Result<Option<(Vec<Change>, Vec<String>)>, ReadError> {
    if members
        .values()
        .all(|(changes, _)| candidates(stack, changes).is_empty())
    {
        return Ok(None);
    }
    let management = management_account(sdk).await?;
    if management == queue.account {
        return Ok(None);
    }
    Ok(members.get(&management).cloned())
}

/// A member's re-check as queued, and its records.
struct Queued {
    account: AccountRecheck,
    ids: Vec<String>,
}

/// One account message per member account on the organization's scan queue, narrowed to the
/// controls its changes can affect (none: nothing is queued).
async fn queue_members(
    sdk: &aws_config::SdkConfig,
    org: &OrgConfig,
    queue: &ChangeQueue,
    stack: &RunSettings,
    members: BTreeMap<String, (Vec<Change>, Vec<String>)>,
) -> Vec<Queued> {
    let securityhub_region = stack
        .securityhub_region
        .clone()
        .or_else(|| sdk.region().map(|region| region.to_string()));
    let now = time::OffsetDateTime::now_utc();
    let mut queued = Vec::new();
    let mut messages = Vec::new();
    for (account_id, (changes, ids)) in members {
        let mut account = AccountRecheck {
            account_id: account_id.clone(),
            changes: described(&account_id, &changes),
            ..AccountRecheck::default()
        };
        let controls = candidates(stack, &changes);
        account.controls = controls
            .iter()
            .map(|control| control.id.to_string())
            .collect();
        match (&securityhub_region, controls.is_empty()) {
            (_, true) => {}
            (None, false) => account.error = Some("no Security Hub region".to_string()),
            (Some(region), false) => {
                let settings = RunSettings {
                    controls,
                    ..stack.clone()
                };
                let member = OrgAccount {
                    id: account_id.clone(),
                    name: String::new(),
                    state: MemberState::Active,
                };
                messages.push(AccountMessage::new(
                    member,
                    &queue.account,
                    &queue.partition,
                    region,
                    &settings,
                    now,
                ));
                account.queued = true;
            }
        }
        queued.push(Queued { account, ids });
    }
    let failed = match fanout::queue_messages(sdk, org, &messages).await {
        Ok(failed) => failed,
        Err(error) => {
            tracing::error!(%error, "the members' messages could not be built");
            messages
                .iter()
                .map(|message| message.account.id.clone())
                .collect()
        }
    };
    for entry in &mut queued {
        if failed.contains(&entry.account.account_id) {
            entry.account.queued = false;
            entry.account.error = Some("the scan queue refused the account's message".to_string());
        }
    }
    queued
}

/// The changes of `account_id`'s entry as `source eventName region`, for the summary; a change
/// of another account (the management account's, in the stack's own entry) names its account.
fn described(account_id: &str, changes: &[Change]) -> Vec<String> {
    changes
        .iter()
        .map(|change| {
            let text = format!("{} {} {}", change.kind.source, change.name, change.region);
            if change.account == account_id {
                text
            } else {
                format!("{text} in {}", change.account)
            }
        })
        .collect()
}

/// The controls of the stack any of `changes` can affect.
fn candidates(stack: &RunSettings, changes: &[Change]) -> Vec<&'static Control> {
    let lists: Vec<_> = changes
        .iter()
        .map(|change| changes::candidate_controls(change.kind, &stack.controls))
        .collect();
    union(&stack.controls, &lists)
}

/// The stack's own account (the change queue's), read for `candidates` as the organization run
/// reads it: in an organization stack, the resources of other accounts on its organization
/// trails' chains through their member role.
async fn collect_own(
    sdk: &aws_config::SdkConfig,
    stack: &RunSettings,
    organization: Option<&OrgConfig>,
    queue: &ChangeQueue,
    candidates: &[&'static Control],
) -> Result<Snapshot, String> {
    let plan = CollectPlan::for_controls(stack.regions.clone(), candidates);
    let roles =
        organization.map(|org| Roles::new(sdk, &queue.account, org.role.clone(), &queue.partition));
    let reach = Reach {
        roles: roles.as_ref(),
        ..Reach::default()
    };
    let snapshot = Box::pin(collect_with(sdk, &plan, reach))
        .await
        .map_err(|error| format!("scan failed: {error}"))?;
    if snapshot.account_id != queue.account {
        return Err(format!(
            "the function's credentials are account {}'s, not {}'s",
            snapshot.account_id, queue.account
        ));
    }
    Ok(snapshot)
}

/// The controls of `candidates` that `changes` affect, by the snapshot's chain graph.
fn affected(
    snapshot: &Snapshot,
    changes: &[Change],
    candidates: &[&'static Control],
) -> Vec<&'static Control> {
    let lists: Vec<_> = changes
        .iter()
        .map(|change| {
            changes::affected_controls(&snapshot.chains, &snapshot.partition, change, candidates)
        })
        .collect();
    union(candidates, &lists)
}

/// One account's re-check: collect once for every control its changes can affect, then evaluate
/// and publish the ones they do affect.
async fn recheck_account(
    sdk: &aws_config::SdkConfig,
    stack: &RunSettings,
    organization: Option<&OrgConfig>,
    queue: &ChangeQueue,
    account_id: &str,
    changes: &[Change],
    deadline: Option<Instant>,
) -> AccountRecheck {
    let mut recheck = AccountRecheck {
        account_id: account_id.to_string(),
        changes: described(account_id, changes),
        ..AccountRecheck::default()
    };
    let candidates = candidates(stack, changes);
    if candidates.is_empty() {
        tracing::info!(
            account_id,
            "no control of the stack can be affected: nothing to re-check"
        );
        return recheck;
    }
    let started = Instant::now();
    let snapshot = match Box::pin(collect_own(sdk, stack, organization, queue, &candidates)).await {
        Ok(snapshot) => snapshot,
        Err(error) => {
            recheck.error = Some(error);
            return recheck;
        }
    };
    recheck.scanned = true;
    let affected = affected(&snapshot, changes, &candidates);
    recheck.controls = affected
        .iter()
        .map(|control| control.id.to_string())
        .collect();
    if affected.is_empty() {
        tracing::info!(
            account_id,
            "the changes touch no chain of the stack's controls"
        );
        return recheck;
    }
    let mut settings = RunSettings {
        controls: affected,
        ..stack.clone()
    };
    let findings = controls::evaluate(&snapshot, &settings.controls, settings.cis_version);
    let scan = ScanOutcome {
        snapshot,
        findings,
        duration: started.elapsed(),
    };
    // A change to an organization trail's chain: every member judged on it too, through the
    // organization run narrowed to these controls (the chain read once, one message per member),
    // which takes this account's scan as its own instead of reading the account again.
    if let Some(org) = organization {
        let shared = SharedChains::of(&scan.snapshot);
        let on_shared = changes.iter().any(|change| {
            changes::on_organization_chain(
                &shared.chains,
                &scan.snapshot.chains,
                &scan.snapshot.partition,
                change,
            )
        });
        if on_shared {
            let coordinated =
                fanout::coordinate(sdk, org, TRIGGER, &settings, deadline, Some(scan));
            match Box::pin(coordinated).await {
                Ok(coordinated) => recheck.members_queued = Some(coordinated.messages_sent),
                Err(error) => recheck.error = Some(error.to_string()),
            }
            return recheck;
        }
    }
    // As the organization run: the stack's own account publishes only when it is one of the
    // accounts to scan.
    if organization
        .and_then(|org| org.accounts.as_ref())
        .is_some_and(|only| !only.contains(account_id))
    {
        settings.publish = Publish::Off;
    }
    match Box::pin(run::publish_scan(sdk, &settings, scan, started)).await {
        Ok(account_run) => {
            if let Some(Err(error)) = &account_run.published {
                recheck.error = Some(format!("publish failed: {error}"));
            }
            recheck.run = Some(Box::new(RunSummary::new(TRIGGER, &settings, &account_run)));
        }
        Err(error) => recheck.error = Some(error.to_string()),
    }
    recheck
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn queue() -> ChangeQueue {
        ChangeQueue::parse("arn:aws:sqs:us-east-1:111122223333:trailwatch-changes").unwrap()
    }

    fn sample(name: &str) -> String {
        let path = format!("{}/events/changes/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn every_sample_is_a_change_of_its_account() {
        let dir = format!("{}/events/changes", env!("CARGO_MANIFEST_DIR"));
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".json"))
            .collect();
        names.sort();
        assert!(names.len() >= 8, "{names:?}");
        for name in names {
            let change = read_change(&queue(), None, &sample(&name))
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(change.account, "111122223333", "{name}");
        }
    }

    #[test]
    fn an_organization_stack_takes_its_members_events() {
        let member = sample("stop-logging.json").replace("111122223333", "444455556666");
        let org = |accounts: Option<&str>| OrgConfig {
            queue_url: "https://sqs.us-east-1.amazonaws.com/111122223333/trailwatch".into(),
            role: crate::collect::access::MemberRole {
                name: "trailwatch-scan".into(),
                external_id: None,
            },
            accounts: accounts.map(|id| [id.to_string()].into()),
            max_receive_count: 1,
            max_message_bytes: 262_144,
            message_key: "arn:aws:kms:us-east-1:111122223333:key/mac".into(),
        };
        assert!(read_change(&queue(), None, &member).is_err());
        let change = read_change(&queue(), Some(&org(None)), &member).unwrap();
        assert_eq!(change.account, "444455556666");
        let error = read_change(&queue(), Some(&org(Some("555566667777"))), &member).unwrap_err();
        assert!(error.contains("not one of the stack's accounts"), "{error}");
        let forged = sample("stop-logging.json").replace("111122223333", "../etc");
        let error = read_change(&queue(), Some(&org(None)), &forged).unwrap_err();
        assert!(error.contains("not an account id"), "{error}");
    }

    #[test]
    fn events_not_ours_are_ignored_with_a_reason() {
        let event = |account: &str, region: &str| {
            json!({
                "version": "0",
                "id": "6f87d04b-9f74-4f04-a780-7acf4b0a9b38",
                "detail-type": "AWS API Call via CloudTrail",
                "source": "aws.cloudtrail",
                "account": account,
                "time": "2026-12-06T05:00:00Z",
                "region": region,
                "resources": [],
                "detail": {"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging",
                           "requestParameters": {"name": "main"}}
            })
            .to_string()
        };
        assert!(read_change(&queue(), None, &event("111122223333", "eu-west-1")).is_ok());
        for (body, reason) in [
            (
                event("444455556666", "eu-west-1"),
                "about account \"444455556666\"",
            ),
            (
                event("111122223333", "cn-north-1"),
                "not a region of the partition aws",
            ),
            (event("111122223333", "Mars"), "not a region"),
            ("{}".to_string(), "not an EventBridge event"),
            ("not json".to_string(), "not an EventBridge event"),
            (
                sample("stop-logging.json").replace("StopLogging", "LookupEvents"),
                "not on the re-check's list",
            ),
        ] {
            let error = read_change(&queue(), None, &body).unwrap_err();
            assert!(error.contains(reason), "{error}");
        }
    }
}
