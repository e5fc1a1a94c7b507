//! Which regions a scan lists trails in: the configured ones, else the account's enabled regions
//! (`account:ListRegions`), else — when that call fails, as it does under an SCP that denies
//! `account:*` — every region of the partition this build knows, probed with the scan's own
//! DescribeTrails calls (a region the account has not enabled answers as if the credentials were
//! unknown, and is dropped). The scope actually scanned is recorded with how it was chosen, so a
//! shrunken or guessed scope is reported, never silent.
//!
//! The fallback is a list, not `ec2:DescribeRegions`: the EC2 client is the largest crate of the
//! AWS SDK and would be linked for this one call.

use super::clients::Clients;
use super::errors;
use crate::model::snapshot::{ReadError, RegionSource};

/// The regions of each partition, as of this build (AWS Regions and Availability Zones,
/// "Regions" table, late 2026).
const KNOWN_REGIONS: &[(&str, &[&str])] = &[
    (
        "aws",
        &[
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-6",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
        ],
    ),
    ("aws-cn", &["cn-north-1", "cn-northwest-1"]),
    ("aws-us-gov", &["us-gov-east-1", "us-gov-west-1"]),
];

/// Whether `region` is a region of its partition, as this build knows them.
pub(crate) fn is_known(region: &str) -> bool {
    let partition = partition_of(region);
    KNOWN_REGIONS
        .iter()
        .any(|(name, regions)| *name == partition && regions.contains(&region))
}

/// The partition a region belongs to, from its name.
pub(crate) fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The regions to list trails in, how they were chosen, and the ListRegions failure that made
/// the choice a guess (if it did).
pub(crate) async fn scope(
    clients: &Clients,
    configured: Option<&[String]>,
    global_region: &str,
) -> (Vec<String>, RegionSource, Option<ReadError>) {
    if let Some(configured) = configured {
        return (distinct(configured), RegionSource::Configured, None);
    }
    match enabled_regions(clients, global_region).await {
        Ok(regions) => (regions, RegionSource::Enabled, None),
        Err(error) => {
            let partition = partition_of(global_region);
            let known = KNOWN_REGIONS
                .iter()
                .find(|(name, _)| *name == partition)
                .map(|(_, regions)| regions.iter().map(|r| r.to_string()).collect())
                .unwrap_or_default();
            let reason = format!(
                "{} failed ({}): listed trails in the {} regions of partition {partition} this trailwatch knows, skipping those the account has not enabled; a region launched since is not covered",
                error.operation,
                error.code.as_deref().unwrap_or(&error.message),
                KNOWN_REGIONS
                    .iter()
                    .find(|(name, _)| *name == partition)
                    .map_or(0, |(_, regions)| regions.len()),
            );
            (known, RegionSource::KnownRegions { reason }, Some(error))
        }
    }
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
    let mut seen = std::collections::HashSet::new();
    regions
        .iter()
        .map(|region| region.trim().to_string())
        .filter(|region| !region.is_empty() && seen.insert(region.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_regions_keep_order_and_drop_blanks() {
        let given = ["us-east-1", " eu-west-1", "", "us-east-1"].map(String::from);
        assert_eq!(distinct(&given), ["us-east-1", "eu-west-1"]);
    }

    #[test]
    fn partitions_are_read_from_region_names() {
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of("eu-west-1"), "aws");
        for (partition, regions) in KNOWN_REGIONS {
            assert!(regions
                .iter()
                .all(|region| partition_of(region) == *partition));
            assert!(
                regions.windows(2).all(|pair| pair[0] < pair[1]),
                "{partition} sorted"
            );
        }
    }
}
