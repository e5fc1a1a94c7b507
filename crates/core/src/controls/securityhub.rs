//! CIS 4.16 (v6.0.0 and v7.0.0: 5.16), "Ensure AWS Security Hub is enabled": in every region the
//! scan covers, DescribeHub names the account's hub.
//!
//! One account-level finding. FAILED names the regions where Security Hub answered that there is
//! no hub (`InvalidAccessException` "… is not subscribed to AWS Security Hub", the benchmark's own
//! example, or `ResourceNotFoundException`); NOT_AVAILABLE names the region and error where the
//! call was denied, throttled or failed, or says the scan did not read Security Hub at all. A
//! region known to lack Security Hub fails the control whatever other regions could not be read.

use super::catalog::Control;
use super::evidence::{account_finding, missing_finding};
use crate::model::findings::{ComplianceStatus, Evidence, Finding};
use crate::model::missing::{MissingLink, Subject};
use crate::model::snapshot::{Hub, ReadError, Snapshot};

pub fn evaluate(snapshot: &Snapshot, control: &Control) -> Finding {
    let Some(hubs) = &snapshot.securityhub else {
        return missing_finding(
            snapshot,
            control,
            MissingLink::NotCollected {
                subject: Subject::SecurityHub,
            },
        );
    };
    let mut enabled = Vec::new();
    let mut not_enabled = Vec::new();
    let mut unread = Vec::new();
    for region in &snapshot.regions {
        match hubs
            .iter()
            .find(|hub| &hub.region == region)
            .map(|hub| &hub.hub)
        {
            Some(Ok(Hub::Enabled { .. })) => enabled.push(region.as_str()),
            Some(Ok(Hub::NotEnabled { code, message })) => {
                not_enabled.push(format!("{region} ({code}: {message})"))
            }
            Some(Err(error)) => unread.push(unread_region(error)),
            None => unread.push(format!("{region} (not read by this scan)")),
        }
    }
    if !not_enabled.is_empty() {
        let link = MissingLink::SecurityHubNotEnabled {
            regions: not_enabled,
            unread,
        };
        return missing_finding(snapshot, control, link);
    }
    if !unread.is_empty() {
        let link = MissingLink::SecurityHubUnread { regions: unread };
        return missing_finding(snapshot, control, link);
    }
    account_finding(
        snapshot,
        control,
        ComplianceStatus::Passed,
        format!(
            "Security Hub is enabled in every region scanned: {}",
            enabled.join(", ")
        ),
        Evidence::default(),
    )
}

/// `eu-west-1 (securityhub:DescribeHub: AccessDeniedException: …)`.
fn unread_region(error: &ReadError) -> String {
    format!(
        "{} ({}: {})",
        error.region,
        error.operation,
        error.code_and_message()
    )
}
