//! Collectors: the AWS API calls that fill a [`Snapshot`] of one account.
//!
//! The calls follow their dependencies and run concurrently where they can:
//!
//! ```text
//! sts:GetCallerIdentity, alongside
//! account:ListRegions (unless the plan names regions; see regions.rs for its fallback)
//!   └─> cloudtrail:DescribeTrails per region ─> distinct trails by ARN
//!         ├─> cloudtrail:GetTrailStatus (+ GetEventSelectors of multi-Region trails) per trail,
//!         │   in its home region, with its owner's credentials (an organization trail's owner
//!         │   through its member role: never the member's own)
//!         └─> logs:DescribeMetricFilters per distinct log group of a multi-Region trail, in the
//!               │ ARN's region
//!               └─> cloudwatch:DescribeAlarms per (account, region) with filters
//!                     └─> sns:ListSubscriptionsByTopic per topic the kept alarms notify
//!   └─> securityhub:DescribeHub per region, when the plan asks (CIS 4.16)
//! ```
//!
//! [`Needs`] prunes the graph to what the selected controls look at: CIS 3.4 alone reads no
//! selector, filter, alarm or topic; the monitoring controls alone read no single-Region trail's
//! status. Each stage runs at most [`CONCURRENCY`] calls at once, but a stage of one call per
//! region runs every region at once. Every failed read is kept in the
//! snapshot as a [`crate::model::snapshot::ReadError`], next to the resource it was about or in
//! `read_errors`; only a failing GetCallerIdentity, or no region to scan, fails the collection.
//! `api_calls` counts the HTTP requests sent, retries included (see `clients.rs`).

pub mod access;
mod alarms;
mod clients;
pub(crate) mod errors;
mod hub;
pub mod identity;
mod logs;
pub mod organization;
mod regions;
mod topics;
mod trails;

use crate::controls::{Check, Control};
use crate::model::arn::{strip_log_group_wildcard, Arn};
use crate::model::snapshot::{
    AlarmSet, ChainGraph, LogGroup, ReadError, ReadErrorKind, RegionSource, SharedChains, Snapshot,
    Topic, Trail, SNAPSHOT_FORMAT,
};
use access::{Access, Roles};
use clients::Clients;
use futures::stream::{self, StreamExt};
use identity::IdentityFailure;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use time::OffsetDateTime;

/// Calls in flight at once per stage within one region: well under the read APIs' rate limits
/// (≈10 TPS). A stage of one call per region (DescribeTrails, DescribeHub) runs every region at
/// once: each region's API has its own rate limits.
pub const CONCURRENCY: usize = 8;

/// Where global APIs (STS, Account) are called when the configuration names no region.
const FALLBACK_REGION: &str = "us-east-1";

/// What to collect.
#[derive(Debug, Clone)]
pub struct CollectPlan {
    /// Regions whose trails are listed; `None`: the account's enabled regions.
    pub regions: Option<Vec<String>>,
    /// What the selected controls need read.
    pub needs: Needs,
    /// Also call securityhub:DescribeHub in every region scanned.
    pub securityhub_hub: bool,
}

impl Default for CollectPlan {
    fn default() -> Self {
        CollectPlan {
            regions: None,
            needs: Needs::ALL,
            securityhub_hub: false,
        }
    }
}

impl CollectPlan {
    /// The plan that reads what `controls` need, in `regions`.
    pub fn for_controls(regions: Option<Vec<String>>, controls: &[&Control]) -> Self {
        let any =
            |wanted: fn(&Check) -> bool| controls.iter().any(|control| wanted(&control.check));
        CollectPlan {
            regions,
            needs: Needs {
                delivery: any(|check| matches!(check, Check::TrailDelivery)),
                monitoring: any(|check| matches!(check, Check::Monitoring(_))),
            },
            securityhub_hub: any(|check| matches!(check, Check::SecurityHubEnabled)),
        }
    }
}

/// The parts of the collection graph the selected controls need: asking an API only what some
/// control will look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// CIS 3.4: every trail's status (delivery to CloudWatch Logs).
    pub delivery: bool,
    /// The monitoring chains: multi-Region trails' status and selectors, their log groups'
    /// filters, the alarms and the topics.
    pub monitoring: bool,
}

impl Needs {
    /// Everything.
    pub const ALL: Needs = Needs {
        delivery: true,
        monitoring: true,
    };
}

/// A failure that leaves nothing to evaluate.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The credentials' account could not be established.
    #[error("{0}")]
    Identity(Box<IdentityFailure>),
    /// Neither the plan nor the account names a region to scan.
    #[error("no region to scan: {0}")]
    NoRegion(String),
}

/// What an organization scan adds to the collection of one account.
#[derive(Clone, Copy, Default)]
pub struct Reach<'a> {
    /// The account and partition, when known already (from Organizations): no GetCallerIdentity.
    pub account: Option<(&'a str, &'a str)>,
    /// The member roles, to read resources of other accounts of the organization.
    pub roles: Option<&'a Roles>,
    /// The organization trails' chains, read once for every member: taken from here, not read.
    pub shared: Option<&'a SharedChains>,
}

/// Reads one account — the account of `sdk`'s credentials — into a snapshot.
pub async fn collect(
    sdk: &aws_config::SdkConfig,
    plan: &CollectPlan,
) -> Result<Snapshot, CollectError> {
    collect_with(sdk, plan, Reach::default()).await
}

/// Reads one account with what an organization scan knows and can reach.
pub async fn collect_with(
    sdk: &aws_config::SdkConfig,
    plan: &CollectPlan,
    reach: Reach<'_>,
) -> Result<Snapshot, CollectError> {
    let collected_at = OffsetDateTime::now_utc();
    let clients = Clients::new(sdk);
    let global_region = clients
        .home_region()
        .unwrap_or_else(|| FALLBACK_REGION.to_string());
    // The identity is first needed once the trails are listed: ask for it alongside.
    let clients = &clients;
    let listing = async {
        let (regions, source, regions_error) =
            regions::scope(clients, plan.regions.as_deref(), &global_region).await;
        let listings: Vec<_> = stream::iter(regions.clone())
            .map(|region| async move {
                let listing = trails::describe_trails(clients, &region).await;
                (region, listing)
            })
            .buffer_unordered(regions.len().max(1))
            .collect()
            .await;
        (regions, source, regions_error, listings)
    };
    let known_identity = async {
        match reach.account {
            Some((account_id, partition)) => Ok((account_id.to_string(), partition.to_string())),
            None => identity(clients, &global_region).await,
        }
    };
    let (identity, (regions, region_source, regions_error, listings)) =
        futures::join!(known_identity, listing);
    let (account_id, partition) = identity?;
    let mut read_errors: Vec<ReadError> = regions_error.into_iter().collect();
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

    let probing = matches!(region_source, RegionSource::KnownRegions { .. });
    let mut scanned = Vec::new();
    let mut listed = BTreeMap::new();
    for (region, listing) in listings {
        match listing {
            Ok(found) => {
                scanned.push(region);
                for trail in found {
                    listed.entry(trail.arn.clone()).or_insert(trail);
                }
            }
            // A region guessed from the partition's list that the account has not enabled.
            Err(error) if probing && error.kind == ReadErrorKind::RegionUnavailable => {}
            Err(error) => {
                scanned.push(region);
                read_errors.push(error);
            }
        }
    }
    scanned.sort_by_key(|region| regions.iter().position(|r| r == region));

    // Distinct log groups of trails that can complete a chain (multi-Region ones), keyed without
    // CloudTrail's `:*`, named as the first trail names them; and which of them organization
    // trails deliver to (the only chains followed into other accounts).
    let mut log_group_arns = BTreeMap::new();
    let mut organization_log_groups = BTreeSet::new();
    if plan.needs.monitoring {
        for trail in listed.values().filter(|trail| trail.is_multi_region) {
            if let Some(arn) = &trail.log_group_arn {
                let key = strip_log_group_wildcard(arn).to_string();
                if trail.is_organization_trail {
                    organization_log_groups.insert(key.clone());
                }
                log_group_arns.entry(key).or_insert_with(|| arn.clone());
            }
        }
    }

    let access = Access::new(&account_id, clients, reach.roles);
    let access = &access;
    let trails_read = stream::iter(listed.into_values())
        .map(|trail| async move {
            match reach
                .shared
                .and_then(|shared| shared.chains.trail(&trail.arn))
            {
                Some(shared) => shared.clone(),
                None => trails::read_trail(access, trail, plan.needs).await,
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<Trail>>();
    let monitoring_read = monitoring(
        access,
        reach.shared,
        &partition,
        log_group_arns.into_values(),
        &organization_log_groups,
    );
    let hubs_read = async {
        if plan.securityhub_hub {
            Some(hub::describe_hubs(clients, &scanned).await)
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
        regions: scanned,
        region_source,
        chains: ChainGraph {
            trails,
            log_groups: monitoring.log_groups,
            alarm_sets: monitoring.alarm_sets,
            topics: monitoring.topics,
        },
        securityhub,
        read_errors,
        api_calls: clients.api_calls(),
        api_calls_by_operation: clients.api_calls_by_operation(),
    })
}

/// The account id and partition of `sdk`'s credentials (sts:GetCallerIdentity).
pub async fn identity_of(sdk: &aws_config::SdkConfig) -> Result<(String, String), CollectError> {
    let clients = Clients::new(sdk);
    let region = clients
        .home_region()
        .unwrap_or_else(|| FALLBACK_REGION.to_string());
    identity(&clients, &region).await
}

/// The account id and partition of the credentials.
async fn identity(clients: &Clients, region: &str) -> Result<(String, String), CollectError> {
    let identity = clients
        .sts(region)
        .get_caller_identity()
        .send()
        .await
        .map_err(|error| {
            CollectError::Identity(Box::new(IdentityFailure::of(
                &error,
                region,
                clients.endpoint_url(),
            )))
        })?;
    let account_id = identity
        .account()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| CollectError::Identity(Box::new(IdentityFailure::no_account(region))))?
        .to_string();
    let partition = identity
        .arn()
        .and_then(|arn| Arn::parse(arn).ok())
        .map(|arn| arn.partition.to_string())
        .unwrap_or_else(|| "aws".to_string());
    Ok((account_id, partition))
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
    shared: Option<&SharedChains>,
    partition: &str,
    log_group_arns: impl Iterator<Item = String>,
    organization_log_groups: &BTreeSet<String>,
) -> Monitoring {
    let on_organization_chain =
        |arn: &str| organization_log_groups.contains(strip_log_group_wildcard(arn));
    let mut read_errors = Vec::new();
    let mut log_groups = Vec::new();
    let read: Vec<_> = stream::iter(log_group_arns)
        .map(|arn| async move {
            match shared.and_then(|shared| shared.chains.log_group(&arn)) {
                Some(group) => Ok(group.clone()),
                None => logs::read_log_group(access, &arn, on_organization_chain(&arn)).await,
            }
        })
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

    // The metric names the filters publish, per (account, region) where alarms on them would live,
    // and the (account, region) of an organization trail's log group.
    let mut metrics: BTreeMap<(String, String), HashSet<String>> = BTreeMap::new();
    let organization_places: BTreeSet<(String, String)> = log_groups
        .iter()
        .filter(|group| on_organization_chain(&group.arn))
        .map(|group| (group.account_id.clone(), group.region.clone()))
        .collect();
    let organization_places = &organization_places;
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
            if let Some(set) =
                shared.and_then(|shared| shared.chains.alarm_set(&account_id, &region))
            {
                return set.clone();
            }
            let on_chain = organization_places.contains(&(account_id.clone(), region.clone()));
            let read = match access.clients_for(&account_id, on_chain).await {
                Ok(clients) => alarms::alarms_on(&clients, &region, &metrics).await,
                Err(denied) => Err(denied.read_error(
                    "cloudwatch:DescribeAlarms",
                    &region,
                    &account_id,
                    &format!("the alarm list of {region}"),
                )),
            };
            let (alarms, composite_alarms) = match read {
                Ok(read) => (Ok(read.metric), read.composite),
                Err(error) => (Err(error), Vec::new()),
            };
            AlarmSet {
                region,
                account_id,
                alarms,
                composite_alarms,
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    alarm_sets.sort_by(|a, b| (&a.account_id, &a.region).cmp(&(&b.account_id, &b.region)));

    let topic_arns = crate::model::snapshot::notified_topic_arns(&alarm_sets, partition);
    let organization_topics = crate::model::snapshot::notified_topic_arns(
        alarm_sets.iter().filter(|set| {
            organization_places.contains(&(set.account_id.clone(), set.region.clone()))
        }),
        partition,
    );
    let organization_topics = &organization_topics;
    let mut topics: Vec<Topic> = stream::iter(topic_arns)
        .map(|arn| async move {
            match shared.and_then(|shared| shared.chains.topic(&arn)) {
                Some(topic) => topic.clone(),
                None => {
                    let on_chain = organization_topics.contains(&arn);
                    topics::read_topic(access, arn, on_chain).await
                }
            }
        })
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
