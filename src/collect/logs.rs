//! CloudWatch Logs: the metric filters of each log group a trail delivers to, read in the log
//! group's own region (from its ARN) with DescribeMetricFilters, every page.
//!
//! A log group is read with the credentials [`Access`] gives for its account; one no credentials
//! reach is a [`ReadErrorKind::OtherAccount`] read error, never "no filters".

use super::access::Access;
use super::clients::Clients;
use super::errors::read_error;
use crate::model::arn::LogGroupArn;
use crate::model::snapshot::{
    LogGroup, MetricFilter, MetricTransformation, ReadError, ReadErrorKind,
};

const OPERATION: &str = "logs:DescribeMetricFilters";

/// Reads the filters of the log group a trail names (`arn` exactly as the trail has it).
/// `Err` only when the ARN is not a log group ARN (then there is no [`LogGroup`] to hang it on).
pub(crate) async fn read_log_group(
    access: &Access<'_>,
    arn: &str,
    on_organization_chain: bool,
) -> Result<LogGroup, ReadError> {
    let parsed = LogGroupArn::parse(arn).map_err(|error| ReadError {
        operation: OPERATION.to_string(),
        region: crate::model::arn::region_of(arn)
            .unwrap_or_default()
            .to_string(),
        resource: Some(arn.to_string()),
        kind: ReadErrorKind::Other,
        code: None,
        message: error.to_string(),
    })?;
    let metric_filters = match access
        .clients_for(&parsed.account_id, on_organization_chain)
        .await
    {
        Ok(clients) => describe_metric_filters(&clients, &parsed.region, &parsed.name, arn).await,
        Err(denied) => Err(denied.read_error(
            OPERATION,
            &parsed.region,
            arn,
            &format!("log group {}", parsed.name),
        )),
    };
    Ok(LogGroup {
        arn: arn.to_string(),
        name: parsed.name,
        region: parsed.region,
        account_id: parsed.account_id,
        metric_filters,
    })
}

/// Every metric filter of one log group, every page. The paginator stops on a token equal to the
/// one sent, which would otherwise page forever (an emulator bug seen in moto).
async fn describe_metric_filters(
    clients: &Clients,
    region: &str,
    name: &str,
    arn: &str,
) -> Result<Vec<MetricFilter>, ReadError> {
    let mut pages = clients
        .logs(region)
        .describe_metric_filters()
        .log_group_name(name)
        .into_paginator()
        .send();
    let mut filters = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| read_error(OPERATION, region, Some(arn), &error))?;
        filters.extend(page.metric_filters().iter().map(metric_filter));
    }
    Ok(filters)
}

/// An SDK metric filter → [`MetricFilter`].
pub(crate) fn metric_filter(filter: &aws_sdk_cloudwatchlogs::types::MetricFilter) -> MetricFilter {
    MetricFilter {
        name: filter.filter_name().unwrap_or_default().to_string(),
        pattern: filter.filter_pattern().unwrap_or_default().to_string(),
        metric_transformations: filter
            .metric_transformations()
            .iter()
            .map(|transformation| MetricTransformation {
                metric_name: transformation.metric_name().to_string(),
                metric_namespace: transformation.metric_namespace().to_string(),
                metric_value: transformation.metric_value().to_string(),
                default_value: transformation.default_value(),
                unit: transformation.unit().map(|unit| unit.as_str().to_string()),
                dimensions: transformation
                    .dimensions()
                    .map(|dimensions| {
                        dimensions
                            .iter()
                            .map(|(name, field)| (name.clone(), field.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudwatchlogs::types as sdk;

    #[test]
    fn maps_a_metric_filter_with_its_dimensions() {
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
                    default_value: None,
                    unit: None,
                    dimensions: [
                        ("account".to_string(), "$.recipientAccountId".to_string()),
                        ("user".to_string(), "$.userIdentity.arn".to_string()),
                    ]
                    .into(),
                }],
            }
        );
    }
}
