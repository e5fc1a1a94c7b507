//! CloudTrail: DescribeTrails in each scanned region (shadow trails included), then GetTrailStatus
//! and GetEventSelectors for each distinct trail in its home region, addressed by ARN, with the
//! credentials of the account that owns it.
//!
//! A trail's ARN names its owner. A member sees an organization trail of the management account
//! in DescribeTrails, but its reads of that trail go through the owner's access ([`Access`]: the
//! owner's member role in an organization scan), never the member's own credentials: the API
//! reference lets a member call GetTrailStatus by ARN but is silent on GetEventSelectors, which
//! cloud-custodian's maintainers report fails for another account's organization trail
//! (cloud-custodian PR #6394). Without access to the owner both reads are
//! [`ReadErrorKind::OtherAccount`], naming the account.

use super::access::Access;
use super::clients::Clients;
use super::errors::read_error;
use super::Needs;
use crate::model::snapshot::{
    AdvancedEventSelector, AdvancedFieldSelector, ClassicEventSelector, EventSelectors, Fetched,
    ReadError, ReadErrorKind, Trail, TrailStatus,
};
use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::operation::get_trail_status::GetTrailStatusOutput;
use time::OffsetDateTime;

/// A trail as DescribeTrails lists it, before its status and selectors are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListedTrail {
    pub arn: String,
    pub name: String,
    pub home_region: String,
    pub is_multi_region: bool,
    pub is_organization_trail: bool,
    pub log_group_arn: Option<String>,
}

/// DescribeTrails(includeShadowTrails) in one region. The API does not paginate.
pub(crate) async fn describe_trails(
    clients: &Clients,
    region: &str,
) -> Result<Vec<ListedTrail>, ReadError> {
    let output = clients
        .cloudtrail(region)
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map_err(|error| read_error("cloudtrail:DescribeTrails", region, None, &error))?;
    Ok(output
        .trail_list()
        .iter()
        .filter_map(|trail| listed_trail(trail, region))
        .collect())
}

/// The parts of a DescribeTrails entry trailwatch uses; `None` without an ARN (never seen).
fn listed_trail(trail: &aws_sdk_cloudtrail::types::Trail, region: &str) -> Option<ListedTrail> {
    let arn = trail.trail_arn()?.to_string();
    let home_region = trail
        .home_region()
        .or_else(|| crate::model::arn::region_of(&arn))
        .unwrap_or(region)
        .to_string();
    Some(ListedTrail {
        name: trail.name().unwrap_or(&arn).to_string(),
        arn,
        home_region,
        is_multi_region: trail.is_multi_region_trail().unwrap_or(false),
        is_organization_trail: trail.is_organization_trail().unwrap_or(false),
        log_group_arn: trail
            .cloud_watch_logs_log_group_arn()
            .filter(|arn| !arn.is_empty())
            .map(str::to_string),
    })
}

/// GetTrailStatus and GetEventSelectors of one trail, concurrently, in its home region, with its
/// owner's credentials: each only if a control of the plan can look at it (selectors and a
/// single-Region trail's status matter to no monitoring chain).
pub(crate) async fn read_trail(access: &Access<'_>, listed: ListedTrail, needs: Needs) -> Trail {
    let region = listed.home_region.as_str();
    let arn = listed.arn.as_str();
    let chain_candidate = needs.monitoring && listed.is_multi_region;
    let wants_status = needs.delivery || chain_candidate;
    // The owner's clients, asked for only when a read is needed; an organization trail's own
    // reads are on its chain.
    let reader = if wants_status || chain_candidate {
        match crate::model::arn::Arn::parse(arn) {
            Ok(parsed) if !parsed.account_id.is_empty() => Some(
                access
                    .clients_for(parsed.account_id, listed.is_organization_trail)
                    .await,
            ),
            _ => Some(Ok(access.own())),
        }
    } else {
        None
    };
    let what = format!("trail {}", listed.name);
    // Why a needed read cannot be made: no access to the owner.
    let unreadable = |operation: &str| match &reader {
        Some(Err(denied)) => denied.read_error(operation, region, arn, &what),
        _ => not_needed(operation, region, arn),
    };
    let client = match &reader {
        Some(Ok(clients)) => Some(clients.cloudtrail(region)),
        _ => None,
    };
    let status = async {
        if !wants_status {
            return Err(not_needed("cloudtrail:GetTrailStatus", region, arn));
        }
        let Some(client) = &client else {
            return Err(unreadable("cloudtrail:GetTrailStatus"));
        };
        client
            .get_trail_status()
            .name(arn)
            .send()
            .await
            .map(|output| trail_status(&output))
            .map_err(|error| read_error("cloudtrail:GetTrailStatus", region, Some(arn), &error))
    };
    let selectors = async {
        if !chain_candidate {
            return Err(not_needed("cloudtrail:GetEventSelectors", region, arn));
        }
        let Some(client) = &client else {
            return Err(unreadable("cloudtrail:GetEventSelectors"));
        };
        client
            .get_event_selectors()
            .trail_name(arn)
            .send()
            .await
            .map(|output| event_selectors(&output))
            .map_err(|error| read_error("cloudtrail:GetEventSelectors", region, Some(arn), &error))
    };
    let (status, event_selectors): (Fetched<TrailStatus>, Fetched<EventSelectors>) =
        futures::join!(status, selectors);
    Trail {
        arn: listed.arn.clone(),
        name: listed.name,
        home_region: listed.home_region.clone(),
        is_multi_region: listed.is_multi_region,
        is_organization_trail: listed.is_organization_trail,
        log_group_arn: listed.log_group_arn,
        status,
        event_selectors,
    }
}

/// The read error of a call the plan did not need.
fn not_needed(operation: &str, region: &str, arn: &str) -> ReadError {
    ReadError {
        operation: operation.to_string(),
        region: region.to_string(),
        resource: Some(arn.to_string()),
        kind: ReadErrorKind::NotNeeded,
        code: None,
        message: "not read: no control of this scan needed it".to_string(),
    }
}

/// GetTrailStatus → [`TrailStatus`].
pub(crate) fn trail_status(output: &GetTrailStatusOutput) -> TrailStatus {
    TrailStatus {
        is_logging: output.is_logging().unwrap_or(false),
        latest_cloudwatch_logs_delivery_time: output
            .latest_cloud_watch_logs_delivery_time()
            .and_then(|at| OffsetDateTime::from_unix_timestamp(at.secs()).ok()),
        latest_cloudwatch_logs_delivery_error: output
            .latest_cloud_watch_logs_delivery_error()
            .filter(|error| !error.is_empty())
            .map(str::to_string),
    }
}

/// GetEventSelectors → [`EventSelectors`] (classic or advanced, as the trail has them).
pub(crate) fn event_selectors(output: &GetEventSelectorsOutput) -> EventSelectors {
    EventSelectors {
        classic: output
            .event_selectors()
            .iter()
            .map(|selector| ClassicEventSelector {
                read_write_type: selector
                    .read_write_type()
                    .map(|kind| kind.as_str())
                    .unwrap_or("All")
                    .to_string(),
                include_management_events: selector.include_management_events().unwrap_or(true),
                exclude_management_event_sources: selector
                    .exclude_management_event_sources()
                    .to_vec(),
            })
            .collect(),
        advanced: output
            .advanced_event_selectors()
            .iter()
            .map(|selector| AdvancedEventSelector {
                name: selector.name().map(str::to_string),
                field_selectors: selector
                    .field_selectors()
                    .iter()
                    .map(|field| AdvancedFieldSelector {
                        field: field.field().to_string(),
                        equals: field.equals().to_vec(),
                        starts_with: field.starts_with().to_vec(),
                        ends_with: field.ends_with().to_vec(),
                        not_equals: field.not_equals().to_vec(),
                        not_starts_with: field.not_starts_with().to_vec(),
                        not_ends_with: field.not_ends_with().to_vec(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::types::{self as sdk, ReadWriteType};
    use aws_smithy_types::DateTime;

    #[test]
    fn maps_trail_status() {
        let output = GetTrailStatusOutput::builder()
            .is_logging(true)
            .latest_cloud_watch_logs_delivery_time(DateTime::from_secs(1_700_000_000))
            .latest_cloud_watch_logs_delivery_error("")
            .build();
        assert_eq!(
            trail_status(&output),
            TrailStatus {
                is_logging: true,
                latest_cloudwatch_logs_delivery_time: Some(
                    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
                ),
                latest_cloudwatch_logs_delivery_error: None,
            }
        );
        let never = trail_status(&GetTrailStatusOutput::builder().build());
        assert!(!never.is_logging);
        assert_eq!(never.latest_cloudwatch_logs_delivery_time, None);
    }

    #[test]
    fn maps_classic_and_advanced_selectors() {
        let output = GetEventSelectorsOutput::builder()
            .event_selectors(
                sdk::EventSelector::builder()
                    .read_write_type(ReadWriteType::WriteOnly)
                    .include_management_events(true)
                    .exclude_management_event_sources("kms.amazonaws.com")
                    .build(),
            )
            .advanced_event_selectors(
                sdk::AdvancedEventSelector::builder()
                    .name("mgmt")
                    .field_selectors(
                        sdk::AdvancedFieldSelector::builder()
                            .field("eventCategory")
                            .equals("Management")
                            .build()
                            .unwrap(),
                    )
                    .field_selectors(
                        sdk::AdvancedFieldSelector::builder()
                            .field("eventSource")
                            .not_equals("kms.amazonaws.com")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build();
        let selectors = event_selectors(&output);
        assert_eq!(
            selectors.classic,
            vec![ClassicEventSelector {
                read_write_type: "WriteOnly".into(),
                include_management_events: true,
                exclude_management_event_sources: vec!["kms.amazonaws.com".into()],
            }]
        );
        assert_eq!(
            selectors.advanced,
            vec![AdvancedEventSelector {
                name: Some("mgmt".into()),
                field_selectors: vec![
                    AdvancedFieldSelector {
                        field: "eventCategory".into(),
                        equals: vec!["Management".into()],
                        ..Default::default()
                    },
                    AdvancedFieldSelector {
                        field: "eventSource".into(),
                        not_equals: vec!["kms.amazonaws.com".into()],
                        ..Default::default()
                    },
                ],
            }]
        );
    }

    #[test]
    fn listed_trail_takes_home_region_from_the_arn_when_absent() {
        let trail = sdk::Trail::builder()
            .name("org")
            .trail_arn("arn:aws:cloudtrail:eu-west-1:111122223333:trail/org")
            .is_multi_region_trail(true)
            .is_organization_trail(true)
            .cloud_watch_logs_log_group_arn("")
            .build();
        let listed = listed_trail(&trail, "us-east-1").unwrap();
        assert_eq!(listed.home_region, "eu-west-1");
        assert!(listed.is_multi_region && listed.is_organization_trail);
        assert_eq!(listed.log_group_arn, None);
    }
}
