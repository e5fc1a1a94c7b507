//! Which credentials read which account: the one place a collector asks before it reads a
//! resource that belongs to some account (a trail's log group, an alarm's topic), and the one
//! [`ReadErrorKind::OtherAccount`] read error when no credentials of this scan reach it.
//!
//! A single-account scan reads the account of its own credentials only; anything in another
//! account is recorded as unreadable with the account's id and what would give access, never as
//! "absent". An organization scan also holds [`Roles`]: the member role it assumes in any account
//! of the organization, once per account per run.

use super::clients::Clients;
use super::errors::classify;
use crate::model::snapshot::{ReadError, ReadErrorKind};
use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;
use std::time::SystemTime;

/// The session name of every role trailwatch assumes: it names trailwatch in the member's
/// CloudTrail records.
pub const SESSION_NAME: &str = "trailwatch";

/// The role an organization scan assumes in each account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRole {
    /// The role's name: `arn:<partition>:iam::<account>:role/<name>`.
    pub name: String,
    /// The `sts:ExternalId` the role's trust policy requires, if any.
    pub external_id: Option<String>,
}

/// Why a role could not be assumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sts:AssumeRole into {role_arn} failed ({}): {message}", code.as_deref().unwrap_or("no error code"))]
pub struct AssumeError {
    pub role_arn: String,
    pub kind: ReadErrorKind,
    pub code: Option<String>,
    pub message: String,
}

impl AssumeError {
    /// Whether another attempt later may succeed (throttling, a network failure) rather than the
    /// role being missing or refusing this caller.
    pub fn is_transient(&self) -> bool {
        self.kind.may_pass()
    }
}

/// Assumes the member role in the organization's accounts with the scanning account's
/// credentials, once per account per run.
pub struct Roles {
    base: SdkConfig,
    /// The account of `base`'s own credentials: read with them, no role assumed.
    own_account: String,
    role: MemberRole,
    partition: String,
    /// Per account: the assumed configuration and when its credentials expire, or why the role
    /// refused (transient failures are not kept: the next caller tries again).
    assumed: tokio::sync::Mutex<HashMap<String, Result<Assumed, AssumeError>>>,
}

/// Credentials are assumed again this long before they expire, so that no read of a long run
/// (a CLI scan of a large organization can outlast the one-hour default session) fails with
/// `ExpiredToken`.
const REFRESH_BEFORE_EXPIRY: std::time::Duration = std::time::Duration::from_secs(5 * 60);

#[derive(Clone)]
struct Assumed {
    sdk: SdkConfig,
    expires: Option<SystemTime>,
}

impl Assumed {
    fn fresh(&self) -> bool {
        self.expires
            .is_none_or(|expires| SystemTime::now() + REFRESH_BEFORE_EXPIRY < expires)
    }
}

impl Roles {
    /// `base`: the scanning account's SDK configuration (its region is where STS is called), and
    /// `own_account` the account its credentials act as.
    pub fn new(base: &SdkConfig, own_account: &str, role: MemberRole, partition: &str) -> Self {
        Roles {
            base: base.clone(),
            own_account: own_account.to_string(),
            role,
            partition: partition.to_string(),
            assumed: tokio::sync::Mutex::default(),
        }
    }

    pub fn role(&self) -> &MemberRole {
        &self.role
    }

    /// `arn:<partition>:iam::<account>:role/<name>`.
    pub fn role_arn(&self, account_id: &str) -> String {
        format!(
            "arn:{}:iam::{account_id}:role/{}",
            self.partition, self.role.name
        )
    }

    /// An SDK configuration acting as `account_id`: through its member role, or the scanning
    /// account's own credentials for itself.
    pub async fn sdk_for(&self, account_id: &str) -> Result<SdkConfig, AssumeError> {
        if account_id == self.own_account {
            return Ok(self.base.clone());
        }
        match self.assumed.lock().await.get(account_id) {
            Some(Ok(assumed)) if assumed.fresh() => return Ok(assumed.sdk.clone()),
            Some(Err(refused)) => return Err(refused.clone()),
            Some(Ok(_)) | None => {}
        }
        let assumed = self.assume(account_id).await;
        if matches!(&assumed, Err(error) if error.is_transient()) {
            return assumed.map(|assumed| assumed.sdk);
        }
        let mut cache = self.assumed.lock().await;
        cache.insert(account_id.to_string(), assumed.clone());
        assumed.map(|assumed| assumed.sdk)
    }

    async fn assume(&self, account_id: &str) -> Result<Assumed, AssumeError> {
        let role_arn = self.role_arn(account_id);
        let answer = aws_sdk_sts::Client::new(&self.base)
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(SESSION_NAME)
            .set_external_id(self.role.external_id.clone())
            .send()
            .await;
        let output = answer.map_err(|error| AssumeError {
            role_arn: role_arn.clone(),
            // STS answers from the scanning account's own region: a failure without an error
            // code (no connection, a timeout) is the network's, worth another attempt — not a
            // region the member cannot be read in.
            kind: match error.code() {
                None => ReadErrorKind::Other,
                code => classify(code, false),
            },
            code: error.code().map(str::to_string),
            message: error
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| DisplayErrorContext(&error).to_string()),
        })?;
        let Some(credentials) = output.credentials() else {
            return Err(AssumeError {
                role_arn,
                kind: ReadErrorKind::Other,
                code: None,
                message: "the answer carries no credentials".to_string(),
            });
        };
        let expires = SystemTime::try_from(*credentials.expiration()).ok();
        let credentials = Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_string()),
            expires,
            "trailwatch-member-role",
        );
        Ok(Assumed {
            sdk: self
                .base
                .to_builder()
                .credentials_provider(SharedCredentialsProvider::new(credentials))
                .build(),
            expires,
        })
    }
}

/// The accounts a collection can read, and with which clients.
pub(crate) struct Access<'a> {
    /// The scanned account, read with the scan's own credentials.
    scanned_account: &'a str,
    own: &'a Clients,
    /// In an organization scan: the member roles of other accounts.
    roles: Option<&'a Roles>,
    foreign: tokio::sync::Mutex<HashMap<String, Result<Arc<Clients>, AssumeError>>>,
}

/// Clients for one account: the scan's own, or another account's through its role.
pub(crate) enum Reader<'a> {
    Own(&'a Clients),
    Foreign(Arc<Clients>),
}

impl Deref for Reader<'_> {
    type Target = Clients;

    fn deref(&self) -> &Clients {
        match self {
            Reader::Own(clients) => clients,
            Reader::Foreign(clients) => clients,
        }
    }
}

/// No credentials of this scan reach an account.
pub(crate) struct NoAccess {
    account_id: String,
    scanned_account: String,
    /// Why the member role did not help, in an organization scan.
    assume_error: Option<AssumeError>,
    /// The resource is off every organization trail's chain: another account's resources are
    /// followed only there, so that an account's own alarm cannot make this scan read (and put
    /// into this account's findings) what another account holds.
    off_organization_chain: bool,
}

impl<'a> Access<'a> {
    pub(crate) fn new(
        scanned_account: &'a str,
        own: &'a Clients,
        roles: Option<&'a Roles>,
    ) -> Self {
        Access {
            scanned_account,
            own,
            roles,
            foreign: tokio::sync::Mutex::default(),
        }
    }

    /// The scanned account's own clients.
    pub(crate) fn own(&self) -> Reader<'a> {
        Reader::Own(self.own)
    }

    /// The clients that read `account_id`'s resources. Another account's are read only when
    /// the resource is on an organization trail's chain (`on_organization_chain`): its log group,
    /// the alarms on that log group's metrics, the topics those alarms notify.
    pub(crate) async fn clients_for(
        &self,
        account_id: &str,
        on_organization_chain: bool,
    ) -> Result<Reader<'a>, NoAccess> {
        if account_id == self.scanned_account {
            return Ok(Reader::Own(self.own));
        }
        let no_access = |assume_error| NoAccess {
            account_id: account_id.to_string(),
            scanned_account: self.scanned_account.to_string(),
            assume_error,
            off_organization_chain: false,
        };
        let Some(roles) = self.roles else {
            return Err(no_access(None));
        };
        if !on_organization_chain {
            return Err(NoAccess {
                off_organization_chain: true,
                ..no_access(None)
            });
        }
        let mut foreign = self.foreign.lock().await;
        if !foreign.contains_key(account_id) {
            let clients = roles
                .sdk_for(account_id)
                .await
                .map(|sdk| Arc::new(self.own.for_credentials(&sdk)));
            foreign.insert(account_id.to_string(), clients);
        }
        match &foreign[account_id] {
            Ok(clients) => Ok(Reader::Foreign(Arc::clone(clients))),
            Err(error) => Err(no_access(Some(error.clone()))),
        }
    }
}

impl NoAccess {
    /// The read error of `operation` on `resource` (`what` names it in the message, e.g.
    /// "log group CloudTrail/org").
    pub(crate) fn read_error(
        &self,
        operation: &str,
        region: &str,
        resource: &str,
        what: &str,
    ) -> ReadError {
        let (code, message) = match &self.assume_error {
            None if self.off_organization_chain => (
                None,
                format!(
                    "{what} is in account {}, and is not on an organization trail's chain: trailwatch follows another account's resources only there",
                    self.account_id
                ),
            ),
            Some(error) => (
                error.code.clone(),
                format!(
                    "{what} is in account {}, which this scan could not read: {error}",
                    self.account_id
                ),
            ),
            None => (
                None,
                format!(
                    "{what} is in account {}; this scan reads account {} only (a scan with --organization from the organization's management account or its delegated administrator follows it through the account's member role)",
                    self.account_id, self.scanned_account
                ),
            ),
        };
        ReadError {
            operation: operation.to_string(),
            region: region.to_string(),
            resource: Some(resource.to_string()),
            kind: ReadErrorKind::OtherAccount,
            code,
            message,
        }
    }
}
