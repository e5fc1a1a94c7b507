//! Reading back what Security Hub holds: every trailwatch finding of one account under its
//! default product (`GetFindings`, every page through the SDK's paginator), or only those with
//! given Ids (`Id` EQUALS filters), in our ASFF shape.
//!
//! Paging ends when a response carries no `NextToken` ("For subsequent calls to the operation, to
//! continue listing data, set the value of this parameter to the value returned from the previous
//! response", API Reference "GetFindings",
//! <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindings.html>), or when it
//! carries a token this read was given before: a service (or emulator) that answers an old token
//! would otherwise be paged forever. The SDK's paginator catches only a token answered to the very
//! request that sent it (`stop_on_duplicate_token`, set explicitly below); [`RepeatedTokenGuard`]
//! catches any repeat, a cycle over several pages too. Each page is then read once.

use super::asff::{
    AsffFinding, AsffResource, Compliance, FindingProviderFields, FindingSeverity, Recommendation,
    Remediation, StatusReason, PRODUCT_PREFIX,
};
use super::pacer::Pacer;
use super::{PublishError, PublishTarget, ACTIVE};
use aws_sdk_securityhub::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_securityhub::types as sdk;
use std::collections::{BTreeSet, HashSet};

/// Every trailwatch finding Security Hub holds for the target account (the reads paced at the
/// documented rate).
pub async fn held(
    client: &aws_sdk_securityhub::Client,
    target: &PublishTarget,
) -> Result<Vec<AsffFinding>, PublishError> {
    let mut pacer = Pacer::new(super::GET_FINDINGS_CALLS_PER_SECOND);
    read_existing(client, target, &mut pacer).await
}

pub(super) async fn read_existing(
    client: &aws_sdk_securityhub::Client,
    target: &PublishTarget,
    pacer: &mut Pacer,
) -> Result<Vec<AsffFinding>, PublishError> {
    let filters = ours(target)
        .generator_id(string_filter(
            sdk::StringFilterComparison::Prefix,
            &format!("{PRODUCT_PREFIX}/"),
        ))
        .build();
    read_pages(client, target, filters, pacer).await
}

/// Most values one field of a `GetFindings` filter takes ("For each attribute, you can provide up
/// to 20 filter values", API Reference "GetFindings").
pub const IDS_PER_REQUEST: usize = 20;

/// The trailwatch findings Security Hub holds for the target account among `ids` (EQUALS filters
/// on `Id`, [`IDS_PER_REQUEST`] a request): one request per 20 ids however many findings the
/// account holds, where [`read_existing`] pages through all of them.
pub(super) async fn read_ids(
    client: &aws_sdk_securityhub::Client,
    target: &PublishTarget,
    ids: &BTreeSet<String>,
    pacer: &mut Pacer,
) -> Result<Vec<AsffFinding>, PublishError> {
    let wanted: Vec<&String> = ids.iter().collect();
    let mut found = Vec::new();
    for chunk in wanted.chunks(IDS_PER_REQUEST) {
        let filters = ours(target)
            .set_id(Some(
                chunk
                    .iter()
                    .map(|id| string_filter(sdk::StringFilterComparison::Equals, id))
                    .collect(),
            ))
            .build();
        found.extend(
            read_pages(client, target, filters, pacer)
                .await?
                .into_iter()
                // The client-side half of the filter, as for every read.
                .filter(|finding| ids.contains(&finding.id)),
        );
    }
    Ok(found)
}

fn string_filter(comparison: sdk::StringFilterComparison, value: &str) -> sdk::StringFilter {
    sdk::StringFilter::builder()
        .comparison(comparison)
        .value(value)
        .build()
}

/// The filters every read has: the target account, under its default product.
fn ours(target: &PublishTarget) -> sdk::builders::AwsSecurityFindingFiltersBuilder {
    sdk::AwsSecurityFindingFilters::builder()
        .aws_account_id(string_filter(
            sdk::StringFilterComparison::Equals,
            &target.account_id,
        ))
        .product_arn(string_filter(
            sdk::StringFilterComparison::Equals,
            &target.product_arn(),
        ))
}

/// Every page of one `GetFindings` query, each read once, paced.
async fn read_pages(
    client: &aws_sdk_securityhub::Client,
    target: &PublishTarget,
    filters: sdk::AwsSecurityFindingFilters,
    pacer: &mut Pacer,
) -> Result<Vec<AsffFinding>, PublishError> {
    let product_arn = target.product_arn();
    let mut pages = client
        .get_findings()
        .filters(filters)
        .max_results(100)
        .into_paginator()
        .stop_on_duplicate_token(true)
        .send();
    let mut found = Vec::new();
    let mut tokens = RepeatedTokenGuard::default();
    let mut pages_read = 0;
    loop {
        // The paginator sends a page's request when it is polled: pace before each poll.
        pacer.wait().await;
        let Some(page) = pages.next().await else {
            break;
        };
        pages_read += 1;
        let page = page.map_err(|error| PublishError::GetFindings {
            code: error.code().map(str::to_string),
            message: DisplayErrorContext(&error).to_string(),
        })?;
        found.extend(
            page.findings()
                .iter()
                .map(from_sdk)
                .filter(|finding| is_ours(finding, target, &product_arn)),
        );
        if tokens.repeats(page.next_token()) {
            tracing::warn!(
                account_id = %target.account_id,
                pages_read,
                "GetFindings answered a NextToken it had given before; paging stops, with every page read once"
            );
            break;
        }
    }
    Ok(found)
}

/// The `NextToken`s one paging has been given.
#[derive(Debug, Default)]
struct RepeatedTokenGuard(HashSet<String>);

impl RepeatedTokenGuard {
    /// Whether a page's `next_token` was given before, so that following it would read pages
    /// again (and, in a cycle, forever). No token, or an empty one, ends paging anyway.
    fn repeats(&mut self, next_token: Option<&str>) -> bool {
        match next_token {
            Some(token) if !token.is_empty() => !self.0.insert(token.to_string()),
            _ => false,
        }
    }
}

/// The client-side half of the `GetFindings` filter.
fn is_ours(finding: &AsffFinding, target: &PublishTarget, product_arn: &str) -> bool {
    let prefix = format!("{PRODUCT_PREFIX}/");
    finding.aws_account_id == target.account_id
        && finding.product_arn == product_arn
        && finding.generator_id.starts_with(&prefix)
        && finding.id.starts_with(&prefix)
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
        types: Some(finding.types().to_vec()).filter(|types| !types.is_empty()),
        severity: finding.severity().map(|severity| {
            let label = severity
                .label()
                .map(|label| label.as_str().to_string())
                .unwrap_or_default();
            FindingSeverity {
                original: severity
                    .original()
                    .map_or_else(|| label.clone(), str::to_string),
                label,
            }
        }),
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
    use crate::securityhub::asff;
    use crate::securityhub::fixtures::{finding, T1};
    use crate::securityhub::import::to_sdk;
    use std::collections::HashMap;

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
    fn a_token_given_twice_is_a_repeat_however_far_apart() {
        let mut tokens = RepeatedTokenGuard::default();
        let answers = [Some("t1"), Some("t2"), Some("t3"), Some("t2")];
        let repeats: Vec<bool> = answers.iter().map(|token| tokens.repeats(*token)).collect();
        assert_eq!(repeats, [false, false, false, true]);
        // Right away, as the SDK's own check sees it.
        let mut tokens = RepeatedTokenGuard::default();
        assert!(!tokens.repeats(Some("t1")));
        assert!(tokens.repeats(Some("t1")));
        // The last page's missing or empty token is never a repeat.
        let mut tokens = RepeatedTokenGuard::default();
        for last in [None, Some(""), None, Some("")] {
            assert!(!tokens.repeats(last));
        }
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
}
