//! Reading Security Hub back: every finding the emulator holds for an account, as the console
//! would list them (GetFindings, all pages).

use aws_config::SdkConfig;
use aws_sdk_securityhub::types::AwsSecurityFinding;
use std::collections::BTreeMap;

/// Every finding Security Hub holds for the account of `sdk`, in `sdk`'s region.
pub async fn held_findings(sdk: &SdkConfig) -> Vec<AwsSecurityFinding> {
    let client = aws_sdk_securityhub::Client::new(sdk);
    let mut findings = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let page = client
            .get_findings()
            .max_results(100)
            .set_next_token(next_token.take())
            .send()
            .await
            .expect("securityhub:GetFindings on moto");
        findings.extend(page.findings().iter().cloned());
        match page.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return findings,
        }
    }
}

/// The held findings by Id: (RecordState, CreatedAt, UpdatedAt). Asserts that no Id is held twice.
pub async fn held_by_id(sdk: &SdkConfig) -> BTreeMap<String, (String, String, String)> {
    let findings = held_findings(sdk).await;
    let by_id: BTreeMap<_, _> = findings
        .iter()
        .map(|finding| {
            (
                finding.id().unwrap().to_string(),
                (
                    finding.record_state().unwrap().as_str().to_string(),
                    finding.created_at().unwrap().to_string(),
                    finding.updated_at().unwrap().to_string(),
                ),
            )
        })
        .collect();
    assert_eq!(by_id.len(), findings.len(), "duplicated finding ids");
    by_id
}
