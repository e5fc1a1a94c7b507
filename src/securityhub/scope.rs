//! What a publish owns: the held findings it may archive. A run archives a finding it no longer
//! produces only inside its own scope — its controls, the accounts it judged, and for per-trail
//! findings the regions whose trails it listed successfully — so a narrowed run, a run whose
//! reads failed somewhere, and another publisher with other controls never archive what they did
//! not look at.

use super::asff::{AsffFinding, PRODUCT_PREFIX};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The held findings a publish may archive (the default, empty scope owns none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Control ids the run evaluated.
    pub controls: BTreeSet<String>,
    /// Accounts the findings are about (the `AWS::::Account:<id>` a finding names, else its
    /// `AwsAccountId`).
    pub accounts: BTreeSet<String>,
    /// Regions whose trails were listed: a per-trail finding is owned only when its trail's
    /// region is one of them.
    pub regions: BTreeSet<String>,
}

impl Scope {
    /// Whether `finding` is one this run could have produced, had it still applied.
    pub fn owns(&self, finding: &AsffFinding) -> bool {
        let prefix = format!("{PRODUCT_PREFIX}/");
        let control = finding
            .product_fields
            .get(&format!("{PRODUCT_PREFIX}/ControlId"))
            .map(String::as_str)
            .or_else(|| finding.generator_id.strip_prefix(&prefix));
        let Some(control) = control else {
            return false;
        };
        let subject = finding.resources.first();
        let account = subject
            .and_then(|resource| resource.id.strip_prefix("AWS::::Account:"))
            .unwrap_or(&finding.aws_account_id);
        let region_owned = match subject {
            Some(resource) if resource.resource_type == "AwsCloudTrailTrail" => {
                self.regions.contains(&resource.region)
            }
            _ => true,
        };
        self.controls.contains(control) && self.accounts.contains(account) && region_owned
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::securityhub::fixtures::{finding, T1};

    fn scope() -> Scope {
        Scope {
            controls: ["cloudtrail-changes", "trail-cw-logs"]
                .map(String::from)
                .into(),
            accounts: ["111122223333".to_string()].into(),
            regions: ["us-east-1".to_string()].into(),
        }
    }

    #[test]
    fn a_run_owns_its_controls_accounts_and_listed_regions() {
        let account_level = finding("a", T1);
        assert!(scope().owns(&account_level));

        let mut other_control = finding("a", T1);
        other_control
            .product_fields
            .insert("trailwatch/ControlId".into(), "nacl-changes".into());
        assert!(!scope().owns(&other_control), "another control's finding");

        let mut member = finding("a", T1);
        member.resources[0].id = "AWS::::Account:444455556666".into();
        assert!(!scope().owns(&member), "about another account");

        let mut trail = finding("t", T1);
        trail
            .product_fields
            .insert("trailwatch/ControlId".into(), "trail-cw-logs".into());
        trail.resources[0].resource_type = "AwsCloudTrailTrail".into();
        trail.resources[0].id = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/t".into();
        trail.resources[0].region = "eu-west-1".into();
        assert!(!scope().owns(&trail), "its region was not listed");
        trail.resources[0].region = "us-east-1".into();
        assert!(scope().owns(&trail));

        let mut foreign = finding("x", T1);
        foreign.product_fields.clear();
        foreign.generator_id = "aws-foundational-security-best-practices/v/1.0.0".into();
        assert!(!scope().owns(&foreign));
    }
}
