//! trailwatch's own check beside the CIS controls, in organization scans: every active account of
//! the organization was scanned. An account that could not be (its member role missing or
//! refusing the scan, an ExternalId mismatch, every region failing) gets a finding of this check
//! in the scanning account's Security Hub, naming it and the exact reason; the finding is archived
//! once the account scans cleanly again. It is decided by the organization run, not from a
//! snapshot.

use super::catalog::{Check, Control, Severity};

/// The check's declaration.
pub static SCAN_COVERAGE: Control = Control {
    id: "scan-coverage",
    title: "trailwatch should scan every active account of the organization",
    security_hub: None,
    severity: Severity::Medium,
    check: Check::ScanCoverage,
    remediation: "Deploy member-role.yaml to the account (the StackSet does it for every account of the organization or of the targeted OUs; the management account needs the stack deployed by hand), keep its trust policy naming the trailwatch function's role, and give the role and trailwatch the same ExternalId if one is set.",
    remediation_url: "https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html",
};
