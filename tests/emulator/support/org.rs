//! An AWS Organization on the emulator: a fresh management account creates it and its member
//! accounts through Organizations (CreateOrganization, CreateAccount — which also creates each
//! member's role, trusting the management account, as AWS does), and tests put accounts in the
//! states they need with the wrapper's account tags (see tools/moto_wrapper.py).

use super::{shared_server, AlarmSpec, TestAccount, TrailSpec};
use aws_sdk_organizations::types::{OrganizationFeatureSet, Tag};
use trailwatch::controls;

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
        let (management, ids) = Self::create_ids(members).await;
        let mut accounts = Vec::new();
        for id in ids {
            accounts.push(shared_server().account(&id).await);
        }
        Organization {
            management,
            members: accounts,
        }
    }

    /// The management account and the ids of `members` new member accounts, without a session
    /// in each (for organizations too large to seed account by account).
    pub async fn create_ids(members: usize) -> (TestAccount, Vec<String>) {
        let management = shared_server().fresh_account().await;
        let client = management.organizations();
        client
            .create_organization()
            .feature_set(OrganizationFeatureSet::All)
            .send()
            .await
            .expect("organizations:CreateOrganization");
        let mut ids = Vec::new();
        for n in 0..members {
            let status = client
                .create_account()
                .account_name(format!("member-{n}"))
                .email(format!("member-{n}@example.com"))
                .role_name(MEMBER_ROLE)
                .send()
                .await
                .expect("organizations:CreateAccount");
            ids.push(
                status
                    .create_account_status()
                    .and_then(|status| status.account_id())
                    .expect("the new account's id")
                    .to_string(),
            );
        }
        (management, ids)
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

    /// The role `name` in this account, created or with its trust policy replaced, trusting only
    /// sessions of the role `trusted_role_arn` — as `member-role.yaml` trusts the function's
    /// role. Through boto3 in the virtualenv's Python (IAM CreateRole / UpdateAssumeRolePolicy):
    /// the tests have no IAM client of their own.
    pub fn put_role_trusting(&self, name: &str, trusted_role_arn: &str) {
        const SCRIPT: &str = r#"
import json, sys, boto3
name, trusted = sys.argv[1], sys.argv[2]
iam = boto3.client("iam", region_name="us-east-1")
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"AWS": trusted}, "Action": "sts:AssumeRole"}]})
try:
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
except iam.exceptions.EntityAlreadyExistsException:
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
"#;
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let python = std::env::var_os("TRAILWATCH_TEST_PYTHON")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root.join(".venv/bin/python"));
        let output = std::process::Command::new(python)
            .args(["-c", SCRIPT, name, trusted_role_arn])
            .envs(self.aws_env())
            .output()
            .expect("python for IAM");
        assert!(
            output.status.success(),
            "iam role {name} in {}: {}",
            self.id,
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The role this account's test sessions are sessions of (the harness's bootstrap role).
    pub fn session_role_arn(&self) -> String {
        format!("arn:aws:iam::{}:role/trailwatch-test", self.id)
    }
}

/// Registers `account` as a delegated administrator of the organization (Organizations
/// RegisterDelegatedAdministrator, by the management account): it may then list the
/// organization's accounts. (moto takes only some service principals; the one used does not
/// matter to trailwatch.)
pub async fn register_delegated_administrator(organization: &Organization, account: &TestAccount) {
    organization
        .management
        .organizations()
        .register_delegated_administrator()
        .account_id(&account.id)
        .service_principal(DELEGATED_SERVICE)
        .send()
        .await
        .expect("organizations:RegisterDelegatedAdministrator");
}

/// A service principal moto takes for a delegated administrator.
const DELEGATED_SERVICE: &str = "config-multiaccountsetup.amazonaws.com";

/// The default monitoring controls.
pub const MONITORING: [&str; 4] = [
    "cloudtrail-changes",
    "kms-cmk-disable-delete",
    "config-changes",
    "nacl-changes",
];

/// The inside of a control's CIS pattern (without the braces).
pub fn cis_inner(id: &str) -> &'static str {
    controls::control(id)
        .and_then(|control| control.required_pattern())
        .unwrap()
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
}

/// The management account's monitoring: organization trail → `CloudTrail/org` → one filter per
/// monitoring control (CloudTrail's narrowed to `narrowed_to`) → alarm → `org-alerts` → a
/// confirmed subscription.
pub async fn seed_management(management: &TestAccount, narrowed_to: &str) {
    let group = management
        .create_log_group("us-east-1", "CloudTrail/org")
        .await;
    management
        .create_trail(&TrailSpec::new("org").organization().log_group(&group))
        .await;
    let topic = management.create_topic("us-east-1", "org-alerts").await;
    management
        .subscribe(&topic, "email", "soc@example.com")
        .await;
    for id in MONITORING {
        let pattern = if id == "cloudtrail-changes" {
            format!(
                "{{ ({}) && $.recipientAccountId = \"{narrowed_to}\" }}",
                cis_inner(id)
            )
        } else {
            format!("{{ {} }}", cis_inner(id))
        };
        let metric = format!("org-{id}");
        management
            .put_metric_filter(
                "us-east-1",
                "CloudTrail/org",
                &format!("org-{id}"),
                &pattern,
                &metric,
                "CISBenchmark",
            )
            .await;
        let mut alarm = AlarmSpec::new(&format!("org-{id}"), &metric, "CISBenchmark");
        alarm.alarm_actions.push(topic.clone());
        management.put_alarm("us-east-1", &alarm).await;
    }
}

/// What template.yaml creates for an organization stack that the tests need: the scan queue and
/// the HMAC key that seals its messages.
pub struct ScanStack {
    pub queue: String,
    /// The key's ARN.
    pub key: String,
}

pub async fn create_stack(account: &TestAccount) -> ScanStack {
    let queue = aws_sdk_sqs::Client::new(&account.sdk)
        .create_queue()
        .queue_name("trailwatch-accounts")
        .send()
        .await
        .expect("sqs:CreateQueue")
        .queue_url()
        .unwrap()
        .to_string();
    let key = aws_sdk_kms::Client::new(&account.sdk)
        .create_key()
        .key_spec(aws_sdk_kms::types::KeySpec::Hmac256)
        .key_usage(aws_sdk_kms::types::KeyUsageType::GenerateVerifyMac)
        .description("trailwatch scan messages")
        .send()
        .await
        .expect("kms:CreateKey")
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    ScanStack { queue, key }
}

/// Seeds `management`'s Security Hub with an active coverage finding for each of `accounts` (not
/// scanned: the role refused), as an earlier organization run leaves them; how many it imported.
pub async fn seed_coverage(management: &TestAccount, accounts: &[&String]) -> usize {
    use trailwatch::run::org::{
        coverage_findings, publish_coverage, AccountReport, CoverageRead, Outcome, Retries,
    };
    use trailwatch::run::Publish;
    use trailwatch::securityhub::PublishTarget;
    let target = PublishTarget {
        account_id: management.id.clone(),
        partition: "aws".to_string(),
        region: "us-east-1".to_string(),
    };
    let reports: Vec<AccountReport> = accounts
        .iter()
        .map(|id| AccountReport {
            account_id: id.to_string(),
            name: String::new(),
            outcome: Outcome::NotScanned {
                reason: "sts:AssumeRole failed (AccessDenied)".to_string(),
                transient: false,
            },
        })
        .collect();
    let findings = coverage_findings(&management.id, "aws", "us-east-1", &reports, Retries::None);
    let owned = reports.iter().map(|r| r.account_id.clone()).collect();
    publish_coverage(
        &management.sdk,
        Publish::Import,
        &target,
        &findings,
        owned,
        CoverageRead::All,
    )
    .await
    .expect("coverage findings")
    .expect("published")
    .expect("imported")
    .imported
}
