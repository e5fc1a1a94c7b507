//! Reports of a whole run for people and for other tools, one renderer per format: [`html`] (one
//! self-contained page), [`csv`] (a row per finding) and [`ocsf`] (OCSF Compliance Finding
//! events). Each takes a [`RunReport`] — the run's findings by account — so `scan`,
//! `scan --organization` and `evaluate` render the same way.

pub mod csv;
pub mod html;
pub mod ocsf;

use crate::controls::{CisVersion, Control};
use crate::model::findings::{ComplianceStatus, Finding, StatusCounts};
use crate::model::missing::{MissingLink, Subject};
use trailwatch_core::remediate::Plan;

/// One run's findings, by account, and what it could not scan.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// What was scanned, e.g. `account 111122223333` or `organization (from 111122223333)`.
    pub scope: String,
    /// When the report was made (RFC 3339).
    pub generated_at: String,
    pub cis_version: CisVersion,
    pub controls: Vec<&'static Control>,
    pub accounts: Vec<AccountFindings>,
    /// Accounts of an organization run that were not scanned (or not published), with why.
    pub unscanned: Vec<Unscanned>,
    /// The remediation plan of the failing controls, planned without an endpoint (`trailwatch
    /// remediate --notify` gives one); the page shows it beside the chains.
    pub plan: Plan,
}

/// The findings of one account.
#[derive(Debug, Clone)]
pub struct AccountFindings {
    pub account_id: String,
    /// The account's name in the organization, when known.
    pub name: String,
    pub findings: Vec<Finding>,
}

/// An account an organization run could not scan.
#[derive(Debug, Clone)]
pub struct Unscanned {
    pub account_id: String,
    pub name: String,
    pub reason: String,
}

/// Statuses, worst first: the order pages and tables list them in.
pub const STATUS_ORDER: [ComplianceStatus; 4] = [
    ComplianceStatus::Failed,
    ComplianceStatus::NotAvailable,
    ComplianceStatus::Warning,
    ComplianceStatus::Passed,
];

/// A status's place in [`STATUS_ORDER`].
pub fn severity_rank(status: ComplianceStatus) -> usize {
    STATUS_ORDER
        .iter()
        .position(|candidate| *candidate == status)
        .unwrap_or(STATUS_ORDER.len())
}

impl AccountFindings {
    pub fn counts(&self) -> StatusCounts {
        StatusCounts::of(&self.findings)
    }

    /// The worst status among the account's findings (PASSED when it has none).
    pub fn worst(&self) -> ComplianceStatus {
        self.findings
            .iter()
            .map(|finding| finding.status)
            .min_by_key(|status| severity_rank(*status))
            .unwrap_or(ComplianceStatus::Passed)
    }
}

impl RunReport {
    /// The accounts, failures first: by worst status, then most failed findings, then id.
    pub fn accounts_worst_first(&self) -> Vec<&AccountFindings> {
        let mut accounts: Vec<&AccountFindings> = self.accounts.iter().collect();
        accounts.sort_by(|a, b| {
            let (ca, cb) = (a.counts(), b.counts());
            (
                severity_rank(a.worst()),
                usize::MAX - ca.failed,
                &a.account_id,
            )
                .cmp(&(
                    severity_rank(b.worst()),
                    usize::MAX - cb.failed,
                    &b.account_id,
                ))
        });
        accounts
    }

    /// The CIS requirement a control is under the run's version (`5.5`), if it is a CIS control.
    pub fn cis_number(&self, control_id: &str) -> Option<&'static str> {
        let control = self
            .controls
            .iter()
            .find(|control| control.id == control_id)?;
        control
            .version_in_force(self.cis_version)
            .requirement(control.id)
            .map(|requirement| requirement.id.as_str())
    }
}

/// The link of a chain where `missing` breaks it, named as the chain names its links (`alarm`,
/// `topic`, …): the link a page marks as broken.
pub fn broken_link_noun(missing: &MissingLink) -> &'static str {
    use MissingLink::*;
    match missing {
        NoTrail
        | NoMultiRegionTrail { .. }
        | TrailNotMultiRegion { .. }
        | TrailNotLogging { .. }
        | TrailMissesManagementEvents { .. } => "trail",
        TrailNotSendingToLogs { .. } | LogGroupMissing { .. } => "log group",
        NoMetricFilter { .. }
        | FilterDoesNotCover { .. }
        | FilterPublishesNoMetric { .. }
        | FilterUndecided { .. }
        | PinnedFilterUndecided { .. } => "filter",
        NoAlarmOnMetric { .. }
        | AlarmPinsMissEvents { .. }
        | AlarmActionsDisabled { .. }
        | AlarmNeverFires { .. }
        | AlarmFiringUndecided { .. } => "alarm",
        CompositeDoesNotFollow { .. }
        | CompositeActionsDisabled { .. }
        | CompositeRuleUndecided { .. }
        | CompositeRuleUnreadable { .. }
        | CompositeActionsSuppressible { .. } => "composite alarm",
        TopicsOutsideAlarmRegion { .. }
        | NotifiesOnlyOutsideAlarmState { .. }
        | NoTopicAction { .. }
        | TopicMissing { .. }
        | TopicKeyAwsManaged { .. }
        | TopicKeyNotEnabled { .. }
        | KeyRefusesCloudWatch { .. }
        | TopicRefusesCloudWatch { .. }
        | PublishUndecided { .. } => "topic",
        NoSubscription { .. }
        | NoConfirmedSubscription { .. }
        | SubscriptionFiltersOut { .. }
        | SubscriptionFilterUndecided { .. } => "subscription",
        NoDeliveryRecorded { .. } | DeliveryStale { .. } => "delivery",
        SecurityHubNotEnabled { .. } | SecurityHubUnread { .. } => "Security Hub",
        Unread { subject, .. } | NotCollected { subject } => subject_noun(subject),
        ScopeIncomplete { .. } => "scope",
        ControlPatternInvalid { .. } | NoControlPattern => "control",
        AccountNotScanned { .. } => "account",
    }
}

/// The chain link a read was about.
fn subject_noun(subject: &Subject) -> &'static str {
    match subject {
        Subject::Trails
        | Subject::TrailStatus { .. }
        | Subject::DeliveryStatus { .. }
        | Subject::EventSelectors { .. } => "trail",
        Subject::LogGroup { .. } => "log group",
        Subject::MetricFilters { .. } => "filter",
        Subject::Alarms { .. } => "alarm",
        Subject::Topic { .. }
        | Subject::TopicAttributes { .. }
        | Subject::EncryptionKey { .. }
        | Subject::KeyPolicy { .. } => "topic",
        Subject::Subscriptions { .. } | Subject::SubscriptionFilter { .. } => "subscription",
        Subject::SecurityHub => "Security Hub",
    }
}
