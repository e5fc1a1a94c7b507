//! Collectors: the AWS API calls that fill a [`Snapshot`] of one account.
//!
//! The calls follow their dependencies and run concurrently where they can:
//!
//! ```text
//! sts:GetCallerIdentity ─> account:ListRegions (unless the plan names regions)
//!   └─> cloudtrail:DescribeTrails per region ─> distinct trails by ARN
//!         ├─> cloudtrail:GetTrailStatus + GetEventSelectors per trail, in its home region
//!         └─> logs:DescribeMetricFilters per distinct log group, in the ARN's region
//!               └─> cloudwatch:DescribeAlarms per (account, region) with filters
//!                     └─> sns:ListSubscriptionsByTopic per topic the kept alarms notify
//!   └─> securityhub:DescribeHub per region, when the plan asks (CIS 4.16)
//! ```
//!
//! Each stage runs at most [`CONCURRENCY`] calls at once. Every failed read is kept in the
//! snapshot as a [`crate::model::snapshot::ReadError`], next to the resource it was about or in
//! `read_errors`; only a failing GetCallerIdentity, or no region to scan, fails the collection.
//! `api_calls` counts the HTTP requests sent, retries included (see `clients.rs`).

mod access;
mod alarms;
mod clients;
mod errors;
mod hub;
mod logs;
mod topics;
mod trails;

use crate::controls::{Check, Control};
use crate::model::arn::{strip_log_group_wildcard, Arn};
use crate::model::snapshot::{
    AlarmSet, LogGroup, ReadError, Snapshot, Topic, Trail, SNAPSHOT_FORMAT,
};
use access::Access;
use aws_smithy_types::error::display::DisplayErrorContext;
use clients::Clients;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashSet};
use time::OffsetDateTime;

/// Calls in flight at once per stage: well under the read APIs' rate limits (≈10 TPS).
pub const CONCURRENCY: usize = 8;

/// Where global APIs (STS, Account) are called when the configuration names no region.
const FALLBACK_REGION: &str = "us-east-1";

/// What to collect.
#[derive(Debug, Clone, Default)]
pub struct CollectPlan {
    /// Regions whose trails are listed; `None`: the account's enabled regions.
    pub regions: Option<Vec<String>>,
    /// Also call securityhub:DescribeHub in every region scanned.
    pub securityhub_hub: bool,
}

impl CollectPlan {
    /// The plan that reads what `controls` need, in `regions`.
    pub fn for_controls(regions: Option<Vec<String>>, controls: &[&Control]) -> Self {
        CollectPlan {
            regions,
            securityhub_hub: controls
                .iter()
                .any(|control| matches!(control.check, Check::SecurityHubEnabled)),
        }
    }
}

/// A failure that leaves nothing to evaluate.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The credentials' account could not be established.
    #[error("sts:GetCallerIdentity failed: {0}")]
    Identity(String),
    /// Neither the plan nor the account names a region to scan.
    #[error("no region to scan: {0}")]
    NoRegion(String),
}

/// Reads one account — the account of `sdk`'s credentials — into a snapshot.
pub async fn collect(
    sdk: &aws_config::SdkConfig,
    plan: &CollectPlan,
) -> Result<Snapshot, CollectError> {
    let collected_at = OffsetDateTime::now_utc();
    let clients = Clients::new(sdk);
    let global_region = clients
        .home_region()
        .unwrap_or_else(|| FALLBACK_REGION.to_string());
    let (account_id, partition) = identity(&clients, &global_region).await?;
    let mut read_errors = Vec::new();

    let regions = match &plan.regions {
        Some(regions) => distinct(regions),
        None => match enabled_regions(&clients, &global_region).await {
            Ok(regions) => regions,
            Err(error) => {
                read_errors.push(error);
                clients.home_region().into_iter().collect()
            }
        },
    };
    if regions.is_empty() {
        return Err(CollectError::NoRegion(
            match (&plan.regions, read_errors.pop()) {
                (Some(_), _) => "the plan names no region".to_string(),
                (None, Some(error)) => format!(
                    "account:ListRegions failed ({}) and the configuration names no region",
                    error.message
                ),
                (None, None) => "account:ListRegions names no enabled region".to_string(),
            },
        ));
    }

    let mut listed = BTreeMap::new();
    let listings: Vec<_> = stream::iter(&regions)
        .map(|region| trails::describe_trails(&clients, region))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for listing in listings {
        match listing {
            Ok(found) => {
                for trail in found {
                    listed.entry(trail.arn.clone()).or_insert(trail);
                }
            }
            Err(error) => read_errors.push(error),
        }
    }

    // Distinct log groups, keyed without CloudTrail's `:*`, named as the first trail names them.
    let mut log_group_arns = BTreeMap::new();
    for trail in listed.values() {
        if let Some(arn) = &trail.log_group_arn {
            log_group_arns
                .entry(strip_log_group_wildcard(arn).to_string())
                .or_insert_with(|| arn.clone());
        }
    }

    let trails_read = stream::iter(listed.into_values())
        .map(|trail| trails::read_trail(&clients, trail))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<Trail>>();
    let access = Access::new(&account_id, &clients);
    let monitoring_read = monitoring(&access, log_group_arns.into_values());
    let hubs_read = async {
        if plan.securityhub_hub {
            Some(hub::describe_hubs(&clients, &regions).await)
        } else {
            None
        }
    };
    let (mut trails, monitoring, securityhub) =
        futures::join!(trails_read, monitoring_read, hubs_read);
    trails.sort_by(|a, b| a.arn.cmp(&b.arn));
    read_errors.extend(monitoring.read_errors);
    read_errors.sort_by(|a, b| {
        (&a.operation, &a.region, &a.resource).cmp(&(&b.operation, &b.region, &b.resource))
    });

    Ok(Snapshot {
        format: SNAPSHOT_FORMAT,
        account_id,
        partition,
        collected_at,
        regions,
        trails,
        log_groups: monitoring.log_groups,
        alarm_sets: monitoring.alarm_sets,
        topics: monitoring.topics,
        securityhub,
        read_errors,
        api_calls: clients.api_calls(),
    })
}

/// The account id and partition of the credentials.
async fn identity(clients: &Clients, region: &str) -> Result<(String, String), CollectError> {
    let identity = clients
        .sts(region)
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| CollectError::Identity(DisplayErrorContext(&error).to_string()))?;
    let account_id = identity
        .account()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| CollectError::Identity("the answer names no account".into()))?
        .to_string();
    let partition = identity
        .arn()
        .and_then(|arn| Arn::parse(arn).ok())
        .map(|arn| arn.partition.to_string())
        .unwrap_or_else(|| "aws".to_string());
    Ok((account_id, partition))
}

/// account:ListRegions, enabled ones (by default or opted in), every page, sorted.
async fn enabled_regions(clients: &Clients, region: &str) -> Result<Vec<String>, ReadError> {
    use aws_sdk_account::types::RegionOptStatus;
    let mut pages = clients
        .account(region)
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .send();
    let mut regions = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|error| errors::read_error("account:ListRegions", region, None, &error))?;
        regions.extend(
            page.regions()
                .iter()
                .filter_map(|region| region.region_name().map(str::to_string)),
        );
    }
    regions.sort();
    regions.dedup();
    Ok(regions)
}

/// The plan's regions, trimmed, without blanks or repeats, in the given order.
fn distinct(regions: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    regions
        .iter()
        .map(|region| region.trim().to_string())
        .filter(|region| !region.is_empty() && seen.insert(region.clone()))
        .collect()
}

/// What the monitoring half of the graph read.
struct Monitoring {
    log_groups: Vec<LogGroup>,
    alarm_sets: Vec<AlarmSet>,
    topics: Vec<Topic>,
    read_errors: Vec<ReadError>,
}

/// Log groups → alarms on their filters' metrics → the topics those alarms notify.
async fn monitoring(
    access: &Access<'_>,
    log_group_arns: impl Iterator<Item = String>,
) -> Monitoring {
    let mut read_errors = Vec::new();
    let mut log_groups = Vec::new();
    let read: Vec<_> = stream::iter(log_group_arns)
        .map(|arn| async move { logs::read_log_group(access, &arn).await })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    for group in read {
        match group {
            Ok(group) => log_groups.push(group),
            Err(error) => read_errors.push(error),
        }
    }
    log_groups.sort_by(|a, b| a.arn.cmp(&b.arn));

    // The metric names the filters publish, per (account, region) where alarms on them would live.
    let mut metrics: BTreeMap<(String, String), HashSet<String>> = BTreeMap::new();
    for group in &log_groups {
        let Ok(filters) = &group.metric_filters else {
            continue;
        };
        for transformation in filters.iter().flat_map(|f| &f.metric_transformations) {
            metrics
                .entry((group.account_id.clone(), group.region.clone()))
                .or_default()
                .insert(transformation.metric_name.clone());
        }
    }

    let mut alarm_sets: Vec<AlarmSet> = stream::iter(metrics)
        .map(|((account_id, region), metrics)| async move {
            let alarms = match access.clients_for(&account_id) {
                Ok(clients) => alarms::alarms_on(clients, &region, &metrics).await,
                Err(denied) => Err(denied.read_error(
                    "cloudwatch:DescribeAlarms",
                    &region,
                    &account_id,
                    &format!("the alarm list of {region}"),
                )),
            };
            AlarmSet {
                region,
                account_id,
                alarms,
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    alarm_sets.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));

    let topic_arns = topics::topic_arns(
        alarm_sets
            .iter()
            .filter_map(|set| set.alarms.as_ref().ok())
            .flatten(),
    );
    let mut topics: Vec<Topic> = stream::iter(topic_arns)
        .map(|arn| topics::read_topic(access, arn))
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    topics.sort_by(|a, b| a.arn.cmp(&b.arn));

    Monitoring {
        log_groups,
        alarm_sets,
        topics,
        read_errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_regions_keep_order_and_drop_blanks() {
        let given = ["us-east-1", " eu-west-1", "", "us-east-1"].map(String::from);
        assert_eq!(distinct(&given), ["us-east-1", "eu-west-1"]);
    }
}
