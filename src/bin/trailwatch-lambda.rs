//! `trailwatch-lambda`: the Lambda entry point. Thin: JSON logs, the configuration and the AWS
//! SDK configuration loaded once per cold start, then the runtime loop calling
//! [`trailwatch::lambda::handle`] for each event.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing_subscriber::EnvFilter;
use trailwatch::lambda::{self, Config};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_current_span(false)
        .with_target(false)
        .init();
    let config = Config::from_env().inspect_err(|error| {
        tracing::error!(error = %error, "cannot start");
    })?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let (sdk, config) = (&sdk, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = lambda::deadline_from_epoch_ms(event.context.deadline);
        lambda::handle_until(sdk, config, &event.payload, deadline)
            .await
            .map_err(Diagnostic::from)
    }))
    .await
}
