//! CloudWatch Logs: the metric filters of each log group a trail delivers to, read in the log
//! group's own region (from its ARN) with DescribeMetricFilters, every page.
//!
//! A log group in another account is not read: org mode (assuming a role there) comes later, so it
//! is recorded as a [`ReadErrorKind::OtherAccount`] read error, never as "no filters".

use super::clients::Clients;
use super::errors::read_error;
use crate::arn::LogGroupArn;
use crate::snapshot::{LogGroup, MetricFilter, MetricTransformation, ReadError, ReadErrorKind};

const OPERATION: &str = "logs:DescribeMetricFilters";

/// Reads the filters of the log group a trail names (`arn` exactly as the trail has it).
/// `Err` only when the ARN is not a log group ARN (then there is no [`LogGroup`] to hang it on).
pub(crate) async fn read_log_group(
    clients: &Clients,
    account_id: &str,
    arn: &str,
) -> Result<LogGroup, ReadError> {
    let parsed = LogGroupArn::parse(arn).map_err(|error| ReadError {
        operation: OPERATION.to_string(),
        region: crate::arn::region_of(arn).unwrap_or_default().to_string(),
        resource: Some(arn.to_string()),
        kind: ReadErrorKind::Other,
        code: None,
        message: error.to_string(),
    })?;
    let metric_filters = if parsed.account_id != account_id {
        Err(ReadError {
            operation: OPERATION.to_string(),
            region: parsed.region.clone(),
            resource: Some(arn.to_string()),
            kind: ReadErrorKind::OtherAccount,
            code: None,
            message: format!(
                "log group {} is in account {}; this scan reads account {} only",
                parsed.name, parsed.account_id, account_id
            ),
        })
    } else {
        describe_metric_filters(clients, &parsed.region, &parsed.name, arn).await
    };
    Ok(LogGroup {
        arn: arn.to_string(),
        name: parsed.name,
        region: parsed.region,
        account_id: parsed.account_id,
        metric_filters,
    })
}

/// Every metric filter of one log group, following `nextToken`.
async fn describe_metric_filters(
    clients: &Clients,
    region: &str,
    name: &str,
    arn: &str,
) -> Result<Vec<MetricFilter>, ReadError> {
    let client = clients.logs(region);
    let mut filters = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let page = client
            .describe_metric_filters()
            .log_group_name(name)
            .set_next_token(next_token.clone())
            .send()
            .await
            .map_err(|error| read_error(OPERATION, region, Some(arn), &error))?;
        filters.extend(page.metric_filters().iter().map(metric_filter));
        match page.next_token() {
            // A token equal to the one sent would page forever (an emulator bug seen in moto).
            Some(token) if !token.is_empty() && next_token.as_deref() != Some(token) => {
                next_token = Some(token.to_string())
            }
            _ => return Ok(filters),
        }
    }
}

/// An SDK metric filter → [`MetricFilter`]; dimension names sorted.
pub(crate) fn metric_filter(filter: &aws_sdk_cloudwatchlogs::types::MetricFilter) -> MetricFilter {
    MetricFilter {
        name: filter.filter_name().unwrap_or_default().to_string(),
        pattern: filter.filter_pattern().unwrap_or_default().to_string(),
        metric_transformations: filter
            .metric_transformations()
            .iter()
            .map(|transformation| {
                let mut dimension_keys: Vec<String> = transformation
                    .dimensions()
                    .map(|dimensions| dimensions.keys().cloned().collect())
                    .unwrap_or_default();
                dimension_keys.sort();
                MetricTransformation {
                    metric_name: transformation.metric_name().to_string(),
                    metric_namespace: transformation.metric_namespace().to_string(),
                    metric_value: transformation.metric_value().to_string(),
                    dimension_keys,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatchlogs::types as sdk;

    #[test]
    fn maps_a_metric_filter_with_sorted_dimension_keys() {
        let filter = sdk::MetricFilter::builder()
            .filter_name("cis-4-5")
            .filter_pattern("{ $.eventName = CreateTrail }")
            .metric_transformations(
                sdk::MetricTransformation::builder()
                    .metric_name("TrailChanges")
                    .metric_namespace("CISBenchmark")
                    .metric_value("1")
                    .dimensions("user", "$.userIdentity.arn")
                    .dimensions("account", "$.recipientAccountId")
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(
            metric_filter(&filter),
            MetricFilter {
                name: "cis-4-5".into(),
                pattern: "{ $.eventName = CreateTrail }".into(),
                metric_transformations: vec![MetricTransformation {
                    metric_name: "TrailChanges".into(),
                    metric_namespace: "CISBenchmark".into(),
                    metric_value: "1".into(),
                    dimension_keys: vec!["account".into(), "user".into()],
                }],
            }
        );
    }
}
