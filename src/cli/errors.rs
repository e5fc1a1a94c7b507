//! The messages a person reads when a command cannot do its work: one line saying what failed and
//! what to do about it, in terms of the command line and the standard AWS settings. The SDK's
//! full error is kept as the detail, printed with `--verbose` (or when `RUST_LOG` is set).

use super::CliError;
use crate::collect::identity::{IdentityCause, IdentityFailure};
use crate::collect::CollectError;
use crate::model::snapshot::{ReadErrorKind, Snapshot};
use crate::run::RunError;

/// A run that could not start or finish, as the user reads it. `profile`: `--profile`, if given.
pub(crate) fn run_error(error: RunError, profile: Option<&str>) -> CliError {
    match error {
        RunError::Collect(CollectError::Identity(failure)) => CliError::Explained {
            message: identity_message(&failure, profile),
            detail: failure.detail.clone(),
        },
        other => CliError::CouldNotRun(other.to_string()),
    }
}

/// What failed about the credentials' first call, and what to do.
fn identity_message(failure: &IdentityFailure, profile: Option<&str>) -> String {
    let profile = profile
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .filter(|profile| !profile.is_empty());
    let with_profile = profile
        .as_deref()
        .map(|profile| format!(" --profile {profile}"))
        .unwrap_or_default();
    let region = &failure.region;
    match &failure.cause {
        IdentityCause::NoCredentials => "no AWS credentials found: pass --profile (or set AWS_PROFILE) naming a profile of ~/.aws/config, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure`".to_string(),
        IdentityCause::SsoSession => format!(
            "the AWS SSO (IAM Identity Center) session{} has expired or was never started: run `aws sso login{with_profile}`, then scan again",
            profile
                .as_deref()
                .map(|profile| format!(" of profile {profile}"))
                .unwrap_or_default()
        ),
        IdentityCause::CredentialProvider { reason } => format!(
            "the AWS credentials could not be loaded ({reason}): check the profile{with_profile} in ~/.aws/config"
        ),
        IdentityCause::ExpiredCredentials { code } => format!(
            "the AWS credentials have expired ({code}): get new ones (a new session token, `aws sso login{with_profile}`, or your credential tool) and scan again"
        ),
        IdentityCause::RejectedCredentials { code } => format!(
            "AWS does not recognise the credentials in {region} ({code}): check the access key (AWS_ACCESS_KEY_ID, or the profile's), and that {region} is enabled for the account"
        ),
        IdentityCause::AccessDenied { code } => format!(
            "sts:GetCallerIdentity was denied in {region} ({code}): it needs no permission, so a service control policy or session policy denies it; scan with credentials it does not"
        ),
        IdentityCause::Unreachable {
            endpoint: Some(endpoint),
            reason,
        } => format!(
            "cannot reach the AWS endpoint {endpoint} ({reason}): check AWS_ENDPOINT_URL (or the profile's endpoint_url); unset it to reach AWS itself"
        ),
        IdentityCause::Unreachable {
            endpoint: None,
            reason,
        } if !failure.region_known => format!(
            "cannot reach AWS STS in region {region} ({reason}): {region} is not an AWS region; set AWS_REGION (or the profile's region) to one, e.g. us-east-1"
        ),
        IdentityCause::Unreachable {
            endpoint: None,
            reason,
        } => format!(
            "cannot reach AWS STS in region {region} ({reason}): check the network connection and any proxy (HTTPS_PROXY)"
        ),
        IdentityCause::Other { .. } => format!("{failure}; run with --verbose for the detail"),
    }
}

/// When the account's trails could not be listed in any region scanned because every
/// DescribeTrails was denied, the scan saw nothing: the line that says so and what to grant.
pub(crate) fn nothing_readable(snapshot: &Snapshot) -> Option<CliError> {
    let failures: Vec<_> = snapshot.trail_listing_failures().collect();
    let denied = !failures.is_empty()
        && failures.len() >= snapshot.regions.len()
        && failures
            .iter()
            .all(|error| error.kind == ReadErrorKind::AccessDenied);
    if !denied {
        return None;
    }
    let first = failures[0];
    Some(CliError::Explained {
        message: format!(
            "access denied: the credentials of account {} may not call {} ({} in {} region(s)), so nothing could be checked: grant them trailwatch's read permissions (the policy in member-role.yaml) and scan again",
            snapshot.account_id,
            first.operation,
            first.code.as_deref().unwrap_or("AccessDenied"),
            failures.len()
        ),
        detail: failures
            .iter()
            .map(|error| format!("{} in {}: {}", error.operation, error.region, error.message))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}
