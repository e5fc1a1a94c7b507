//! Why an invocation failed, by kind: each kind is one `errorType` the Lambda runtime reports
//! (`trailwatch.InvalidConfiguration`, …), so alarms and retries can tell them apart.

use crate::run::RunError;
use crate::securityhub::PublishError;

/// A failure of one invocation.
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("unsupported event: {0}")]
    Event(String),
    /// The coordinator's deadline came before every account was queued.
    #[error("out of time: {0}")]
    OutOfTime(String),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl LambdaError {
    /// The `errorType` the Lambda runtime reports.
    pub fn error_type(&self) -> &'static str {
        match self {
            LambdaError::Config(_) => "trailwatch.InvalidConfiguration",
            LambdaError::Event(_) => "trailwatch.UnsupportedEvent",
            LambdaError::OutOfTime(_) => "trailwatch.CoordinatorOutOfTime",
            LambdaError::Run(RunError::Collect(_)) => "trailwatch.ScanFailed",
            LambdaError::Run(RunError::Organization(_)) => "trailwatch.OrganizationUnreadable",
            LambdaError::Run(RunError::NoSecurityHubRegion) => "trailwatch.NoSecurityHubRegion",
            LambdaError::Run(RunError::Asff(_)) => "trailwatch.InternalError",
            LambdaError::Publish(_) => "trailwatch.PublishFailed",
        }
    }
}

impl From<LambdaError> for lambda_runtime::Diagnostic {
    fn from(error: LambdaError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: error.error_type().to_string(),
            error_message: error.to_string(),
        }
    }
}
