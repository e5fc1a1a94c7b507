//! AWS Organizations: the accounts of the organization (ListAccounts, every page), with the state
//! each is in, and its management account (DescribeOrganization). `State` replaces `Status` in
//! the API (the reference retires `Status` on 2026-09-09); an answer with only `Status` is read
//! through it.

use super::clients::Clients;
use super::errors::read_error;
use crate::model::snapshot::{ReadError, ReadErrorKind};
use aws_sdk_organizations::types::{Account, AccountState, AccountStatus};
use serde::{Deserialize, Serialize};

/// One account of the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    pub state: MemberState,
}

/// The states an account can be in, as `State` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberState {
    PendingActivation,
    Active,
    Suspended,
    PendingClosure,
    Closed,
    /// A state this build does not know.
    Other,
}

impl MemberState {
    /// Only an active account can be scanned; the others are skipped and listed as such.
    pub fn is_active(self) -> bool {
        self == MemberState::Active
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MemberState::PendingActivation => "PENDING_ACTIVATION",
            MemberState::Active => "ACTIVE",
            MemberState::Suspended => "SUSPENDED",
            MemberState::PendingClosure => "PENDING_CLOSURE",
            MemberState::Closed => "CLOSED",
            MemberState::Other => "OTHER",
        }
    }
}

/// The Organizations client, in the credentials' home region (us-east-1 when unknown), and
/// that region.
fn organizations(sdk: &aws_config::SdkConfig) -> (aws_sdk_organizations::Client, String) {
    let clients = Clients::new(sdk);
    let region = clients
        .home_region()
        .unwrap_or_else(|| "us-east-1".to_string());
    (clients.organizations(&region), region)
}

/// Every account of the organization, in the order Organizations lists them.
pub async fn list_accounts(sdk: &aws_config::SdkConfig) -> Result<Vec<OrgAccount>, ReadError> {
    let (client, region) = organizations(sdk);
    let mut pages = client.list_accounts().into_paginator().send();
    let mut accounts = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|error| read_error("organizations:ListAccounts", &region, None, &error))?;
        accounts.extend(page.accounts().iter().filter_map(org_account));
    }
    Ok(accounts)
}

/// The organization's management account (`organizations:DescribeOrganization`, which any
/// account of the organization may call:
/// https://docs.aws.amazon.com/organizations/latest/APIReference/API_DescribeOrganization.html).
pub async fn management_account(sdk: &aws_config::SdkConfig) -> Result<String, ReadError> {
    let (client, region) = organizations(sdk);
    let answer = client
        .describe_organization()
        .send()
        .await
        .map_err(|error| read_error("organizations:DescribeOrganization", &region, None, &error))?;
    answer
        .organization()
        .and_then(|organization| organization.master_account_id())
        .map(str::to_string)
        .ok_or_else(|| ReadError {
            operation: "organizations:DescribeOrganization".to_string(),
            region: region.clone(),
            resource: None,
            kind: ReadErrorKind::Other,
            code: None,
            message: "the answer names no management account".to_string(),
        })
}

fn org_account(account: &Account) -> Option<OrgAccount> {
    Some(OrgAccount {
        id: account.id()?.to_string(),
        name: account.name().unwrap_or_default().to_string(),
        state: state(account),
    })
}

fn state(account: &Account) -> MemberState {
    match (account.state(), account.status()) {
        (Some(AccountState::PendingActivation), _) => MemberState::PendingActivation,
        (Some(AccountState::Active), _) => MemberState::Active,
        (Some(AccountState::Suspended), _) => MemberState::Suspended,
        (Some(AccountState::PendingClosure), _) => MemberState::PendingClosure,
        (Some(AccountState::Closed), _) => MemberState::Closed,
        (Some(_), _) => MemberState::Other,
        (None, Some(AccountStatus::Active)) => MemberState::Active,
        (None, Some(AccountStatus::Suspended)) => MemberState::Suspended,
        (None, Some(AccountStatus::PendingClosure)) => MemberState::PendingClosure,
        (None, _) => MemberState::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_wins_over_status_and_status_stands_in_for_it() {
        let both = Account::builder()
            .id("111122223333")
            .state(AccountState::Closed)
            .status(AccountStatus::Suspended)
            .build();
        assert_eq!(state(&both), MemberState::Closed);
        let status_only = Account::builder()
            .id("111122223333")
            .status(AccountStatus::PendingClosure)
            .build();
        assert_eq!(state(&status_only), MemberState::PendingClosure);
        assert_eq!(
            state(&Account::builder().id("1").build()),
            MemberState::Other
        );
        assert!(MemberState::Active.is_active());
        assert!(!MemberState::PendingClosure.is_active());
    }
}
