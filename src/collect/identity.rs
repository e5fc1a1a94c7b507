//! Why a scan's first call, `sts:GetCallerIdentity`, failed — typed by what the user can do about
//! it (no credentials, an SSO session to renew, expired or rejected keys, an endpoint that cannot
//! be reached, a region that does not exist), with the SDK's full error kept as detail.
//!
//! Every scan starts with this call, so every problem of the user's setup shows up here first.
//! GetCallerIdentity itself needs no permission ("No permissions are required to perform this
//! operation", https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html),
//! so a denial here is an explicit deny (an SCP or a session policy), not a missing grant.

use super::errors;
use super::regions;
use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::error::Error;
use std::fmt;

/// What went wrong, by what the user does about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityCause {
    /// No provider of the default chain (environment, profile, web identity, container,
    /// instance metadata) had credentials.
    NoCredentials,
    /// The profile signs in with IAM Identity Center and its SSO session has expired or was never
    /// started (the SDK found no usable cached token).
    SsoSession,
    /// A credential provider (profile, credential_process, assume-role chain) failed otherwise.
    CredentialProvider { reason: String },
    /// AWS answered that the credentials have expired.
    ExpiredCredentials { code: String },
    /// AWS does not recognise the credentials (wrong key, or a region not enabled for the
    /// account, which answers the same way).
    RejectedCredentials { code: String },
    /// An explicit deny (GetCallerIdentity needs no permission).
    AccessDenied { code: String },
    /// The request never got an answer: connection refused, no such host, timeout.
    Unreachable {
        /// `AWS_ENDPOINT_URL` (or the profile's endpoint) when one is configured.
        endpoint: Option<String>,
        /// The innermost cause, e.g. `Connection refused (os error 111)`.
        reason: String,
    },
    /// Anything else: the service's code and message.
    Other { message: String },
}

/// A failed identity call: its cause, the region it was sent to, and the SDK's full error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFailure {
    pub cause: IdentityCause,
    pub region: String,
    /// Whether `region` is a region this build knows (a typo in AWS_REGION shows here).
    pub region_known: bool,
    /// Everything the SDK said, for `--verbose` and the logs.
    pub detail: String,
}

impl IdentityFailure {
    /// Classifies a failed GetCallerIdentity sent to `region`, with `endpoint` configured.
    pub(crate) fn of<E, R>(error: &SdkError<E, R>, region: &str, endpoint: Option<&str>) -> Self
    where
        E: ProvideErrorMetadata + Error + 'static,
        R: fmt::Debug + 'static,
    {
        let cause = match credentials_error(error) {
            Some(CredentialsError::CredentialsNotLoaded(_)) => IdentityCause::NoCredentials,
            // The SSO token provider's errors are private types; their text is the only handle
            // ("the SSO token has expired and cannot be refreshed", "failed to load the cached
            // SSO token" in aws-config's sso/token.rs).
            Some(_) if chain_text(error).contains("SSO") => IdentityCause::SsoSession,
            Some(credentials) => IdentityCause::CredentialProvider {
                reason: innermost(credentials),
            },
            None => match (error.code(), error) {
                (Some(code), _) => by_code(code, error.message()),
                (None, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) => {
                    IdentityCause::Unreachable {
                        endpoint: endpoint.map(str::to_string),
                        reason: innermost(error),
                    }
                }
                (None, _) => IdentityCause::Other {
                    message: innermost(error),
                },
            },
        };
        IdentityFailure {
            cause,
            region: region.to_string(),
            region_known: regions::is_known(region),
            detail: DisplayErrorContext(error).to_string(),
        }
    }

    /// A GetCallerIdentity answer that names no account.
    pub(crate) fn no_account(region: &str) -> Self {
        IdentityFailure {
            cause: IdentityCause::Other {
                message: "the answer names no account".to_string(),
            },
            region: region.to_string(),
            region_known: regions::is_known(region),
            detail: String::new(),
        }
    }
}

/// The cause of an error the service answered with `code`.
fn by_code(code: &str, message: Option<&str>) -> IdentityCause {
    let code_owned = code.to_string();
    match code {
        // https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
        "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
            IdentityCause::ExpiredCredentials { code: code_owned }
        }
        "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "UnrecognizedClientException"
        | "MissingAuthenticationToken" => IdentityCause::RejectedCredentials { code: code_owned },
        _ if errors::classify(Some(code), false)
            == crate::model::snapshot::ReadErrorKind::AccessDenied =>
        {
            IdentityCause::AccessDenied { code: code_owned }
        }
        _ => IdentityCause::Other {
            message: match message {
                Some(message) if !message.is_empty() => format!("{code}: {message}"),
                _ => code_owned,
            },
        },
    }
}

/// The credential provider's error, if the request failed for want of credentials.
fn credentials_error<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a CredentialsError> {
    let mut current: Option<&(dyn Error + 'static)> = Some(error);
    while let Some(error) = current {
        if let Some(credentials) = error.downcast_ref::<CredentialsError>() {
            return Some(credentials);
        }
        current = error.source();
    }
    None
}

/// Every message of the error's source chain, joined.
fn chain_text(error: &(dyn Error + 'static)) -> String {
    DisplayErrorContext(error).to_string()
}

/// The last message of the source chain: the root cause (`Connection refused (os error 111)`).
fn innermost(error: &(dyn Error + 'static)) -> String {
    let mut last = error;
    while let Some(source) = last.source() {
        last = source;
    }
    last.to_string()
}

impl fmt::Display for IdentityFailure {
    /// One line: what failed and why, without the SDK's dump.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let region = &self.region;
        match &self.cause {
            IdentityCause::NoCredentials => f.write_str("no AWS credentials found"),
            IdentityCause::SsoSession => {
                f.write_str("the AWS SSO (IAM Identity Center) session has expired or was never started")
            }
            IdentityCause::CredentialProvider { reason } => {
                write!(f, "the AWS credentials could not be loaded: {reason}")
            }
            IdentityCause::ExpiredCredentials { code } => {
                write!(f, "the AWS credentials have expired ({code})")
            }
            IdentityCause::RejectedCredentials { code } => {
                write!(f, "AWS does not recognise the credentials in {region} ({code})")
            }
            IdentityCause::AccessDenied { code } => write!(
                f,
                "sts:GetCallerIdentity was denied in {region} ({code}): a policy explicitly denies it"
            ),
            IdentityCause::Unreachable {
                endpoint: Some(endpoint),
                reason,
            } => write!(f, "cannot reach the AWS endpoint {endpoint}: {reason}"),
            IdentityCause::Unreachable {
                endpoint: None,
                reason,
            } => write!(f, "cannot reach AWS STS in region {region}: {reason}"),
            IdentityCause::Other { message } => {
                write!(f, "sts:GetCallerIdentity failed in {region}: {message}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_name_their_cause() {
        assert!(matches!(
            by_code(
                "ExpiredToken",
                Some("The security token included in the request is expired")
            ),
            IdentityCause::ExpiredCredentials { .. }
        ));
        assert!(matches!(
            by_code("InvalidClientTokenId", None),
            IdentityCause::RejectedCredentials { .. }
        ));
        assert!(matches!(
            by_code("AccessDenied", None),
            IdentityCause::AccessDenied { .. }
        ));
        assert_eq!(
            by_code("InternalFailure", Some("oops")),
            IdentityCause::Other {
                message: "InternalFailure: oops".to_string()
            }
        );
    }
}
