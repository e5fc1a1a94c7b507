//! securityhub:DescribeHub in each scanned region, for CIS 4.16 / 5.16 ("Security Hub is
//! enabled"). Read only when a selected control needs it ([`super::CollectPlan::securityhub_hub`]).
//!
//! Security Hub answers DescribeHub for an account without a hub in the region with
//! `InvalidAccessException` ("Account … is not subscribed to AWS Security Hub", as the benchmark's
//! audit procedure shows); `ResourceNotFoundException` is in the operation's documented errors
//! too. Both are an answer — [`Hub::NotEnabled`] — not a failed read; any other error (denied,
//! throttled after the SDK's retries, a region not reachable) is a [`ReadError`].

use super::clients::Clients;
use super::errors;
use crate::model::snapshot::{Hub, ReadError, SecurityHubRegion};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::stream::{self, StreamExt};

/// The error codes with which DescribeHub says the region has no hub.
const NOT_ENABLED: &[&str] = &["InvalidAccessException", "ResourceNotFoundException"];

/// DescribeHub in every region, in the order given.
pub(crate) async fn describe_hubs(clients: &Clients, regions: &[String]) -> Vec<SecurityHubRegion> {
    let mut read: Vec<(usize, SecurityHubRegion)> = stream::iter(regions.iter().enumerate())
        .map(|(position, region)| async move {
            let hub = describe_hub(clients, region).await;
            (
                position,
                SecurityHubRegion {
                    region: region.clone(),
                    hub,
                },
            )
        })
        // One call per region, each region its own rate limit: all at once.
        .buffer_unordered(regions.len().max(1))
        .collect()
        .await;
    read.sort_by_key(|(position, _)| *position);
    read.into_iter().map(|(_, hub)| hub).collect()
}

async fn describe_hub(clients: &Clients, region: &str) -> Result<Hub, ReadError> {
    match clients.securityhub(region).describe_hub().send().await {
        Ok(output) => Ok(Hub::Enabled {
            hub_arn: output.hub_arn().unwrap_or_default().to_string(),
        }),
        Err(error) => match error.code() {
            Some(code) if NOT_ENABLED.contains(&code) => Ok(Hub::NotEnabled {
                code: code.to_string(),
                message: error.message().unwrap_or_default().to_string(),
            }),
            _ => Err(errors::read_error(
                "securityhub:DescribeHub",
                region,
                None,
                &error,
            )),
        },
    }
}
