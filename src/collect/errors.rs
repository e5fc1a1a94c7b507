//! Failed AWS calls as data: every SDK error becomes a [`ReadError`] with a [`ReadErrorKind`]
//! that says what the failure means for the verdict.
//!
//! The classification is by the service's error code, which is stable across services (AWS spells
//! the same failure slightly differently in each: `AccessDenied`, `AccessDeniedException`,
//! `AuthorizationError`, …); transport failures (no connection to a region's endpoint) mean the
//! region cannot be read.

use crate::model::snapshot::{ReadError, ReadErrorKind};
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Which category an error code (or a transport failure, `code == None`) falls in.
pub(crate) fn classify(code: Option<&str>, dispatch_failure: bool) -> ReadErrorKind {
    let Some(code) = code else {
        return if dispatch_failure {
            ReadErrorKind::RegionUnavailable
        } else {
            ReadErrorKind::Other
        };
    };
    match code {
        c if c.starts_with("AccessDenied")
            || c.starts_with("UnauthorizedOperation")
            || c == "AuthorizationError"
            || c == "UnauthorizedException" =>
        {
            ReadErrorKind::AccessDenied
        }
        c if c.starts_with("Throttl")
            || c == "TooManyRequestsException"
            || c == "RequestLimitExceeded" =>
        {
            ReadErrorKind::Throttled
        }
        // A region that is not enabled for the account answers as if the credentials were unknown.
        "OptInRequired" | "UnrecognizedClientException" | "InvalidClientTokenId" => {
            ReadErrorKind::RegionUnavailable
        }
        c if c.contains("NotFound") => ReadErrorKind::NotFound,
        _ => ReadErrorKind::Other,
    }
}

/// Turns a failed call into a [`ReadError`]: `operation` like `cloudtrail:GetTrailStatus`, the
/// region it was sent to, and the resource it was about.
pub(crate) fn read_error<E, R>(
    operation: &str,
    region: &str,
    resource: Option<&str>,
    error: &SdkError<E, R>,
) -> ReadError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().map(str::to_string);
    let dispatch_failure = matches!(error, SdkError::DispatchFailure(_));
    let message = match error.message() {
        Some(message) if !message.is_empty() => message.to_string(),
        _ => DisplayErrorContext(error).to_string(),
    };
    ReadError {
        operation: operation.to_string(),
        region: region.to_string(),
        resource: resource.map(str::to_string),
        kind: classify(code.as_deref(), dispatch_failure),
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReadErrorKind::*;

    #[test]
    fn classifies_error_codes_across_services() {
        let table = [
            (Some("AccessDenied"), false, AccessDenied),
            (Some("AccessDeniedException"), false, AccessDenied),
            (Some("UnauthorizedOperation"), false, AccessDenied),
            (Some("AuthorizationError"), false, AccessDenied),
            (Some("Throttling"), false, Throttled),
            (Some("ThrottlingException"), false, Throttled),
            (Some("TooManyRequestsException"), false, Throttled),
            (Some("TrailNotFoundException"), false, NotFound),
            (Some("ResourceNotFoundException"), false, NotFound),
            (Some("NotFound"), false, NotFound),
            (Some("OptInRequired"), false, RegionUnavailable),
            (
                Some("UnrecognizedClientException"),
                false,
                RegionUnavailable,
            ),
            (Some("InvalidParameterException"), false, Other),
            (None, true, RegionUnavailable),
            (None, false, Other),
        ];
        for (code, dispatch, kind) in table {
            assert_eq!(classify(code, dispatch), kind, "{code:?} {dispatch}");
        }
    }
}
