//! Importing batches with `BatchImportFindings`: paced, every `FailedFindings` entry (and every
//! finding of a call that failed outright) retried with exponential backoff, what still fails
//! accounted for in the report.

use super::asff::AsffFinding;
use super::batch::batches;
use super::pacer::Pacer;
use super::{FailedFinding, PublishOptions, PublishReport, ARCHIVED};
use aws_sdk_securityhub::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_securityhub::types as sdk;
use std::collections::HashMap;
use std::time::Duration;

/// The wait before retry number `retry` (1 for the first): `initial`, doubling, at most 20 s.
pub fn backoff(retry: u32, initial: Duration) -> Duration {
    let factor = 1u32 << retry.saturating_sub(1).min(16);
    initial.saturating_mul(factor).min(Duration::from_secs(20))
}

/// Imports the batches, retrying what fails, and accounts for everything in `report`.
pub(super) async fn import_all(
    client: &aws_sdk_securityhub::Client,
    first: Vec<Vec<AsffFinding>>,
    options: &PublishOptions,
    report: &mut PublishReport,
) {
    let mut pacer = Pacer::new(options.import_calls_per_second);
    let max_attempts = options.max_attempts.max(1);
    let mut pending = first;
    let mut attempt = 1;
    loop {
        let mut rejected: Vec<(AsffFinding, String, String)> = Vec::new();
        for batch in pending {
            pacer.wait().await;
            report.import_calls += 1;
            let outcome = import_batch(client, &batch).await;
            let mut failures: HashMap<String, (String, String)> = match outcome {
                Ok(failures) => failures,
                Err((code, message)) => batch
                    .iter()
                    .map(|finding| (finding.id.clone(), (code.clone(), message.clone())))
                    .collect(),
            };
            for finding in batch {
                match failures.remove(&finding.id) {
                    Some((code, message)) => rejected.push((finding, code, message)),
                    None => {
                        report.imported += 1;
                        if finding.record_state == ARCHIVED {
                            report.archived += 1;
                        }
                    }
                }
            }
            for (id, (code, message)) in failures {
                tracing::warn!(finding_id = %id, %code, %message, "Security Hub reported a failure for a finding that was not sent");
            }
        }
        if rejected.is_empty() {
            return;
        }
        if attempt >= max_attempts {
            report
                .failed
                .extend(
                    rejected
                        .into_iter()
                        .map(|(finding, code, message)| FailedFinding {
                            archiving: finding.record_state == ARCHIVED,
                            id: finding.id,
                            code,
                            message,
                            attempts: attempt,
                        }),
                );
            return;
        }
        let wait = backoff(attempt, options.initial_backoff);
        for (finding, code, message) in &rejected {
            tracing::warn!(finding_id = %finding.id, %code, %message, attempt, retry_in_ms = wait.as_millis() as u64, "Security Hub rejected a finding; retrying");
        }
        report.retried += rejected.len();
        tokio::time::sleep(wait).await;
        let (retry_batches, oversized) = batches(
            rejected
                .into_iter()
                .map(|(finding, _, _)| finding)
                .collect(),
        );
        report.failed.extend(oversized);
        pending = retry_batches;
        attempt += 1;
    }
}

/// One `BatchImportFindings` call: the `FailedFindings` by id, or the call's error code and message.
async fn import_batch(
    client: &aws_sdk_securityhub::Client,
    batch: &[AsffFinding],
) -> Result<HashMap<String, (String, String)>, (String, String)> {
    let output = client
        .batch_import_findings()
        .set_findings(Some(batch.iter().map(to_sdk).collect()))
        .send()
        .await
        .map_err(|error| {
            let code = error.code().unwrap_or("CallFailed").to_string();
            (code, DisplayErrorContext(&error).to_string())
        })?;
    Ok(output
        .failed_findings()
        .iter()
        .map(|failed| {
            (
                failed.id().unwrap_or_default().to_string(),
                (
                    failed.error_code().unwrap_or("Unknown").to_string(),
                    failed.error_message().unwrap_or_default().to_string(),
                ),
            )
        })
        .collect())
}

/// Our ASFF finding as the SDK's `AwsSecurityFinding`.
pub fn to_sdk(finding: &AsffFinding) -> sdk::AwsSecurityFinding {
    let severity = sdk::FindingProviderSeverity::builder()
        .label(sdk::SeverityLabel::from(
            finding.finding_provider_fields.severity.label.as_str(),
        ))
        .original(&finding.finding_provider_fields.severity.original)
        .build();
    let provider_fields = sdk::FindingProviderFields::builder()
        .severity(severity)
        .set_types(Some(finding.finding_provider_fields.types.clone()))
        .build();
    let compliance = sdk::Compliance::builder()
        .status(sdk::ComplianceStatus::from(
            finding.compliance.status.as_str(),
        ))
        .set_related_requirements(Some(finding.compliance.related_requirements.clone()))
        .set_status_reasons(Some(
            finding
                .compliance
                .status_reasons
                .iter()
                .map(|reason| {
                    sdk::StatusReason::builder()
                        .reason_code(&reason.reason_code)
                        .description(&reason.description)
                        .build()
                })
                .collect(),
        ))
        .set_security_control_id(finding.compliance.security_control_id.clone())
        .build();
    let remediation = sdk::Remediation::builder()
        .recommendation(
            sdk::Recommendation::builder()
                .text(&finding.remediation.recommendation.text)
                .url(&finding.remediation.recommendation.url)
                .build(),
        )
        .build();
    let resources = finding
        .resources
        .iter()
        .map(|resource| {
            sdk::Resource::builder()
                .r#type(&resource.resource_type)
                .id(&resource.id)
                .partition(sdk::Partition::from(resource.partition.as_str()))
                .region(&resource.region)
                .build()
        })
        .collect();
    sdk::AwsSecurityFinding::builder()
        .schema_version(&finding.schema_version)
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .generator_id(&finding.generator_id)
        .aws_account_id(&finding.aws_account_id)
        .set_types(Some(finding.types.clone()))
        .created_at(&finding.created_at)
        .updated_at(&finding.updated_at)
        .first_observed_at(&finding.first_observed_at)
        .last_observed_at(&finding.last_observed_at)
        .title(&finding.title)
        .description(&finding.description)
        .finding_provider_fields(provider_fields)
        .compliance(compliance)
        .remediation(remediation)
        .set_resources(Some(resources))
        .set_product_fields(Some(
            finding
                .product_fields
                .iter()
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
        ))
        .record_state(sdk::RecordState::from(finding.record_state.as_str()))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_bounded() {
        let initial = Duration::from_millis(500);
        assert_eq!(backoff(1, initial), Duration::from_millis(500));
        assert_eq!(backoff(2, initial), Duration::from_secs(1));
        assert_eq!(backoff(3, initial), Duration::from_secs(2));
        assert_eq!(backoff(40, initial), Duration::from_secs(20));
    }
}
