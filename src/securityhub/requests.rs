//! Counting the HTTP requests a publish sends, per operation: every attempt of every call, the
//! SDK's own retries (throttling, 5xx, transport errors) included, as the collection counts its
//! calls (`collect/clients.rs`). [`PublishReport::get_findings_calls`] and
//! [`PublishReport::import_calls`] are these counts, so a run summary adds up every request
//! Security Hub saw.
//!
//! [`PublishReport::get_findings_calls`]: super::PublishReport::get_findings_calls
//! [`PublishReport::import_calls`]: super::PublishReport::import_calls

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Requests sent, per operation name (`GetFindings`, `BatchImportFindings`).
#[derive(Debug, Clone, Default)]
pub(super) struct RequestCounter(Arc<Mutex<BTreeMap<String, usize>>>);

impl RequestCounter {
    /// `client` with this counter on every request it sends.
    pub(super) fn counting(
        &self,
        client: &aws_sdk_securityhub::Client,
    ) -> aws_sdk_securityhub::Client {
        aws_sdk_securityhub::Client::from_conf(
            client
                .config()
                .to_builder()
                .interceptor(self.clone())
                .build(),
        )
    }

    /// Requests sent so far for `operation`.
    pub(super) fn of(&self, operation: &str) -> usize {
        let counts = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.get(operation).copied().unwrap_or(0)
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "trailwatch::securityhub::RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            let mut counts = self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            *counts.entry(metadata.name().to_string()).or_default() += 1;
        }
        Ok(())
    }
}
