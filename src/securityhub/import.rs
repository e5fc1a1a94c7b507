//! Importing batches with `BatchImportFindings`: paced, every `FailedFindings` entry (and every
//! finding of a call that failed outright) retried with exponential backoff, what still fails
//! accounted for in the report.
//!
//! A finding counts as imported only when the response accounts for it ([`attribute`]): it is
//! not named in `FailedFindings`, and the response is consistent — every `FailedFindings` entry
//! names a finding of the batch, and `SuccessCount` and `FailedCount` (both required in the
//! response, API Reference "BatchImportFindings",
//! <https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html>) agree
//! with the entries. Otherwise the findings the response does not name are not known to be
//! imported: they are retried like failures, and reported as [`UNCONFIRMED_IMPORT`] if that
//! never clears up.

use super::asff::AsffFinding;
use super::batch::batches;
use super::pacer::Pacer;
use super::{FailedFinding, PublishOptions, PublishReport, ARCHIVED};
use aws_sdk_securityhub::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_securityhub::types as sdk;
use std::collections::HashMap;
use std::time::Duration;

/// Error code reported for a finding that a `BatchImportFindings` response neither names as
/// failed nor confirms as imported.
pub const UNCONFIRMED_IMPORT: &str = "UnconfirmedImport";

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
            let ids: Vec<&str> = batch.iter().map(|finding| finding.id.as_str()).collect();
            let mut failures: HashMap<String, (String, String)> =
                match import_batch(client, &batch).await {
                    Ok(response) => attribute(&ids, &response),
                    Err((code, message)) => ids
                        .iter()
                        .map(|id| (id.to_string(), (code.clone(), message.clone())))
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

/// What a `BatchImportFindings` response says, as [`attribute`] reads it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportResponse {
    /// `SuccessCount`: "The number of findings that were successfully imported."
    pub success_count: Option<i32>,
    /// `FailedCount`: "The number of findings that failed to import."
    pub failed_count: Option<i32>,
    /// `FailedFindings`, in order.
    pub failed: Vec<ImportFailure>,
}

/// One `FailedFindings` entry. `Id` is required in the response shape, but the SDK (and an
/// emulator) may still hand back an entry without one.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportFailure {
    pub id: Option<String>,
    pub code: String,
    pub message: String,
}

/// The findings of a batch (`batch_ids`, distinct) that `response` does not show as imported,
/// by Id, with an error code and message; every other finding of the batch was imported. Pure.
///
/// A finding named in `FailedFindings` failed with that entry's code. The findings not named
/// were imported only if the response accounts for every one of them: no entry lacks an Id or
/// names a finding outside the batch, `SuccessCount` equals the number of findings not named,
/// and `FailedCount` the number named. Otherwise which findings Security Hub took cannot be told,
/// and every finding not named is returned as [`UNCONFIRMED_IMPORT`], with the response's counts
/// and unattributed entries in the message, so it is retried and never counted as imported on a
/// guess.
pub fn attribute(
    batch_ids: &[&str],
    response: &ImportResponse,
) -> HashMap<String, (String, String)> {
    let mut failures: HashMap<String, (String, String)> = HashMap::new();
    let mut unattributed: Vec<&ImportFailure> = Vec::new();
    for entry in &response.failed {
        match entry.id.as_deref() {
            Some(id) if batch_ids.contains(&id) => {
                failures
                    .entry(id.to_string())
                    .or_insert_with(|| (entry.code.clone(), entry.message.clone()));
            }
            _ => unattributed.push(entry),
        }
    }
    let not_named = batch_ids.len() - failures.len();
    let accounted_for = unattributed.is_empty()
        && count_is(response.success_count, not_named)
        && count_is(response.failed_count, failures.len());
    if accounted_for {
        return failures;
    }
    let count = |value: Option<i32>| value.map_or("absent".to_string(), |n| n.to_string());
    let entries: Vec<String> = unattributed
        .iter()
        .map(|entry| {
            let which = match entry.id.as_deref() {
                Some(id) => format!("an entry for Id {id:?}"),
                None => "an entry without an Id".to_string(),
            };
            format!("{which}: {}: {}", entry.code, entry.message)
        })
        .collect();
    let message = format!(
        "the BatchImportFindings response does not account for this finding (batch of {}: \
         SuccessCount {}, FailedCount {}, {} entries naming findings of the batch{}{})",
        batch_ids.len(),
        count(response.success_count),
        count(response.failed_count),
        failures.len(),
        if entries.is_empty() {
            ""
        } else {
            "; unattributed: "
        },
        entries.join("; ")
    );
    for id in batch_ids {
        failures
            .entry(id.to_string())
            .or_insert_with(|| (UNCONFIRMED_IMPORT.to_string(), message.clone()));
    }
    failures
}

fn count_is(count: Option<i32>, expected: usize) -> bool {
    count.and_then(|count| usize::try_from(count).ok()) == Some(expected)
}

/// One `BatchImportFindings` call: its response, or the call's error code and message.
async fn import_batch(
    client: &aws_sdk_securityhub::Client,
    batch: &[AsffFinding],
) -> Result<ImportResponse, (String, String)> {
    let output = client
        .batch_import_findings()
        .set_findings(Some(batch.iter().map(to_sdk).collect()))
        .send()
        .await
        .map_err(|error| {
            let code = error.code().unwrap_or("CallFailed").to_string();
            (code, DisplayErrorContext(&error).to_string())
        })?;
    Ok(ImportResponse {
        success_count: output.success_count(),
        failed_count: output.failed_count(),
        failed: output
            .failed_findings()
            .iter()
            .map(|failed| ImportFailure {
                id: failed.id().filter(|id| !id.is_empty()).map(str::to_string),
                code: failed.error_code().unwrap_or("Unknown").to_string(),
                message: failed.error_message().unwrap_or_default().to_string(),
            })
            .collect(),
    })
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
        .set_types(finding.types.clone())
        .set_severity(finding.severity.as_ref().map(|severity| {
            sdk::Severity::builder()
                .label(sdk::SeverityLabel::from(severity.label.as_str()))
                .original(&severity.original)
                .build()
        }))
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
    //! [`attribute`] over the responses the API Reference's "BatchImportFindings" page allows
    //! (<https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html>:
    //! `FailedCount` and `SuccessCount` required, `FailedFindings` entries with a required `Id`)
    //! and those it does not, which an answer may still carry; and [`to_sdk`] and [`backoff`].

    use super::*;

    fn entry(id: Option<&str>, code: &str) -> ImportFailure {
        ImportFailure {
            id: id.map(str::to_string),
            code: code.to_string(),
            message: format!("{code} message"),
        }
    }

    fn response(success: i32, failed: i32, entries: Vec<ImportFailure>) -> ImportResponse {
        ImportResponse {
            success_count: Some(success),
            failed_count: Some(failed),
            failed: entries,
        }
    }

    /// The failed Ids, sorted, with their codes.
    fn codes(failures: &HashMap<String, (String, String)>) -> Vec<(&str, &str)> {
        let mut codes: Vec<(&str, &str)> = failures
            .iter()
            .map(|(id, (code, _))| (id.as_str(), code.as_str()))
            .collect();
        codes.sort();
        codes
    }

    const BATCH: &[&str] = &["a", "b", "c"];

    #[test]
    fn a_consistent_response_names_the_failures_and_confirms_the_rest() {
        assert!(attribute(BATCH, &response(3, 0, vec![])).is_empty());
        let failures = attribute(
            BATCH,
            &response(2, 1, vec![entry(Some("b"), "InvalidInput")]),
        );
        assert_eq!(codes(&failures), [("b", "InvalidInput")]);
        assert_eq!(failures["b"].1, "InvalidInput message");
    }

    #[test]
    fn an_entry_without_an_id_leaves_every_unnamed_finding_unconfirmed() {
        // One of a, b, c failed, but which one Security Hub does not say.
        let failures = attribute(BATCH, &response(2, 1, vec![entry(None, "InvalidInput")]));
        assert_eq!(
            codes(&failures),
            [
                ("a", UNCONFIRMED_IMPORT),
                ("b", UNCONFIRMED_IMPORT),
                ("c", UNCONFIRMED_IMPORT)
            ]
        );
        let message = &failures["a"].1;
        assert!(
            message.contains("SuccessCount 2, FailedCount 1"),
            "{message}"
        );
        assert!(
            message.contains("an entry without an Id: InvalidInput: InvalidInput message"),
            "{message}"
        );
    }

    #[test]
    fn a_named_failure_keeps_its_code_beside_an_unattributed_one() {
        let failures = attribute(
            BATCH,
            &response(
                1,
                2,
                vec![
                    entry(Some("b"), "InvalidInput"),
                    entry(None, "InternalError"),
                ],
            ),
        );
        assert_eq!(
            codes(&failures),
            [
                ("a", UNCONFIRMED_IMPORT),
                ("b", "InvalidInput"),
                ("c", UNCONFIRMED_IMPORT)
            ]
        );
    }

    #[test]
    fn an_entry_for_a_finding_not_sent_leaves_the_batch_unconfirmed() {
        let failures = attribute(
            &["a", "b"],
            &response(1, 1, vec![entry(Some("x"), "InvalidInput")]),
        );
        assert_eq!(
            codes(&failures),
            [("a", UNCONFIRMED_IMPORT), ("b", UNCONFIRMED_IMPORT)]
        );
        assert!(failures["a"]
            .1
            .contains("an entry for Id \"x\": InvalidInput"));
    }

    #[test]
    fn counts_that_disagree_with_the_entries_confirm_nothing() {
        // No entry, yet one failure counted; or more successes than findings not named; or no
        // counts at all.
        for disagreeing in [
            response(2, 1, vec![]),
            response(3, 1, vec![entry(Some("b"), "InvalidInput")]),
            ImportResponse::default(),
        ] {
            let failures = attribute(BATCH, &disagreeing);
            assert_eq!(failures.len(), 3, "{disagreeing:?}");
            assert_eq!(failures["a"].0, UNCONFIRMED_IMPORT, "{disagreeing:?}");
        }
    }

    #[test]
    fn top_level_severity_and_types_reach_the_sdk_only_when_given() {
        let new = crate::securityhub::fixtures::finding("f", crate::securityhub::fixtures::T1);
        let created = to_sdk(&new);
        assert_eq!(created.types(), new.types.as_deref().unwrap());
        assert_eq!(
            created.severity().and_then(|severity| severity.label()),
            Some(&sdk::SeverityLabel::Low)
        );
        let update = AsffFinding {
            types: None,
            severity: None,
            ..new
        };
        let updated = to_sdk(&update);
        assert!(updated.types().is_empty() && updated.severity().is_none());
        let provider = updated.finding_provider_fields().unwrap();
        assert_eq!(provider.types(), update.finding_provider_fields.types);
        assert!(provider.severity().is_some());
    }

    #[test]
    fn backoff_doubles_and_is_bounded() {
        let initial = Duration::from_millis(500);
        assert_eq!(backoff(1, initial), Duration::from_millis(500));
        assert_eq!(backoff(2, initial), Duration::from_secs(1));
        assert_eq!(backoff(3, initial), Duration::from_secs(2));
        assert_eq!(backoff(40, initial), Duration::from_secs(20));
    }
}
