//! An AWS Organization on the emulator: a fresh management account creates it and its member
//! accounts through Organizations (CreateOrganization, CreateAccount — which also creates each
//! member's role, trusting the management account, as AWS does), and tests put accounts in the
//! states they need with the wrapper's account tags (see tools/moto_wrapper.py).

use super::{shared_server, TestAccount};
use aws_sdk_organizations::types::{OrganizationFeatureSet, Tag};

/// The member role every member gets: trailwatch's default `--role-name`.
pub const MEMBER_ROLE: &str = "trailwatch-scan";
/// Wrapper control: an account's Organizations state.
pub const STATE_TAG: &str = "trailwatch-test:state";
/// Wrapper control: AssumeRole into the named roles of an account is denied.
pub const DENY_ASSUME_TAG: &str = "trailwatch-test:deny-assume-role";
/// Wrapper control: every AssumeRole into the account is answered Throttling.
pub const THROTTLE_ASSUME_TAG: &str = "trailwatch-test:throttle-assume-role";

/// An organization: its management account and members.
pub struct Organization {
    pub management: TestAccount,
    pub members: Vec<TestAccount>,
}

impl Organization {
    /// A fresh management account creates an organization (all features) and `members` accounts,
    /// each with the role [`MEMBER_ROLE`].
    pub async fn create(members: usize) -> Organization {
        let management = shared_server().fresh_account().await;
        let client = management.organizations();
        client
            .create_organization()
            .feature_set(OrganizationFeatureSet::All)
            .send()
            .await
            .expect("organizations:CreateOrganization");
        let mut accounts = Vec::new();
        for n in 0..members {
            let status = client
                .create_account()
                .account_name(format!("member-{n}"))
                .email(format!("member-{n}@example.com"))
                .role_name(MEMBER_ROLE)
                .send()
                .await
                .expect("organizations:CreateAccount");
            let id = status
                .create_account_status()
                .and_then(|status| status.account_id())
                .expect("the new account's id")
                .to_string();
            accounts.push(shared_server().account(&id).await);
        }
        Organization {
            management,
            members: accounts,
        }
    }

    /// Tags a member account (Organizations TagResource, by the management account).
    pub async fn tag(&self, account: &TestAccount, key: &str, value: &str) {
        self.management
            .organizations()
            .tag_resource()
            .resource_id(&account.id)
            .tags(Tag::builder().key(key).value(value).build().expect("tag"))
            .send()
            .await
            .expect("organizations:TagResource");
    }
}

impl TestAccount {
    /// An Organizations client acting as this account.
    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.sdk)
    }
}
