//! trailwatch's own finding type: one verdict on one control for one resource, with its evidence.
//!
//! Findings are produced by the evaluator from a snapshot and turned into ASFF only at the edge
//! (`asff`). The evidence is structured (the chain links found, what is missing, a counterexample
//! event) and also rendered as one exact sentence, the `summary`, which is what users read.

use crate::model::missing::MissingLink;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Security Hub's `Compliance.Status` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComplianceStatus {
    Passed,
    Warning,
    Failed,
    NotAvailable,
}

impl ComplianceStatus {
    /// The ASFF spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ComplianceStatus::Passed => "PASSED",
            ComplianceStatus::Warning => "WARNING",
            ComplianceStatus::Failed => "FAILED",
            ComplianceStatus::NotAvailable => "NOT_AVAILABLE",
        }
    }
}

impl fmt::Display for ComplianceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kinds of resource a finding or a chain link names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Account,
    Trail,
    LogGroup,
    MetricFilter,
    Alarm,
    CompositeAlarm,
    Topic,
    Subscription,
}

impl ResourceKind {
    /// How the kind is named in an evidence sentence.
    pub fn noun(self) -> &'static str {
        match self {
            ResourceKind::Account => "account",
            ResourceKind::Trail => "trail",
            ResourceKind::LogGroup => "log group",
            ResourceKind::MetricFilter => "filter",
            ResourceKind::Alarm => "alarm",
            ResourceKind::CompositeAlarm => "composite alarm",
            ResourceKind::Topic => "topic",
            ResourceKind::Subscription => "subscription",
        }
    }
}

/// A resource named by a finding: what it is, its identifier (an ARN where one exists), the
/// short name shown in sentences, and where it lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    pub kind: ResourceKind,
    /// ARN where the resource has one; for a metric filter `<log group ARN>:metric-filter:<name>`.
    pub id: String,
    pub name: String,
    pub region: String,
    pub account_id: String,
}

/// Why the finding has its status: the chain found and what it lacks.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// The links of the complete chain (PASSED) or of the best candidate (otherwise), in order.
    pub chain: Vec<ResourceRef>,
    /// The missing, broken, unreadable or undecided link; `None` when the chain is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<MissingLink>,
}

impl Evidence {
    /// Evidence that names only what is missing.
    pub fn missing(link: MissingLink) -> Self {
        Evidence {
            chain: Vec::new(),
            missing: Some(link),
        }
    }

    /// For a filter (or an alarm's dimension pins) that does not cover the CIS pattern: an event
    /// the chain would miss.
    pub fn counterexample(&self) -> Option<&serde_json::Value> {
        self.missing.as_ref()?.counterexample()
    }
}

/// One verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The control's id, e.g. `cloudtrail-changes`.
    pub control_id: String,
    pub account_id: String,
    pub partition: String,
    /// The resource the verdict is about (the account, or a trail for CIS 3.4).
    pub resource: ResourceRef,
    pub status: ComplianceStatus,
    /// The evidence sentence: exact, and what the user reads first.
    pub summary: String,
    pub evidence: Evidence,
}

impl Finding {
    /// A stable identity: a rerun over the same resource yields the same key.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.partition, self.account_id, self.control_id, self.resource.id
        )
    }
}

/// Counts of findings per status, for run summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusCounts {
    pub passed: usize,
    pub warning: usize,
    pub failed: usize,
    pub not_available: usize,
}

impl StatusCounts {
    pub fn of(findings: &[Finding]) -> Self {
        let mut counts = StatusCounts::default();
        for finding in findings {
            match finding.status {
                ComplianceStatus::Passed => counts.passed += 1,
                ComplianceStatus::Warning => counts.warning += 1,
                ComplianceStatus::Failed => counts.failed += 1,
                ComplianceStatus::NotAvailable => counts.not_available += 1,
            }
        }
        counts
    }
}
