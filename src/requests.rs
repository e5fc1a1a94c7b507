//! Counting the HTTP requests SDK clients send, per `service:Operation` (`cloudtrail:DescribeTrails`,
//! `securityhub:GetFindings`): an interceptor that sees every attempt of every call, so the SDK's
//! own retries (throttling, 5xx, transport errors) count — the numbers are what the account's API
//! rate limits saw. The collection's clients share one counter per run (`collect/clients.rs`); a
//! publish counts its own Security Hub requests with another.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Requests sent, in all and per `service:Operation`; clones share the counts.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestCounter(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    total: AtomicU64,
    by_operation: Mutex<BTreeMap<String, u64>>,
}

impl RequestCounter {
    /// Requests sent so far, every operation.
    pub(crate) fn total(&self) -> u64 {
        self.0.total.load(Ordering::Relaxed)
    }

    /// Requests sent so far, per `service:Operation`.
    pub(crate) fn by_operation(&self) -> BTreeMap<String, u64> {
        self.by_operation_locked().clone()
    }

    /// Requests sent so far for one `service:Operation`.
    pub(crate) fn of(&self, operation: &str) -> u64 {
        self.by_operation_locked()
            .get(operation)
            .copied()
            .unwrap_or(0)
    }

    fn by_operation_locked(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.0
            .by_operation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The IAM prefix of a service as the SDK's operation metadata names it (`CloudTrail` →
/// `cloudtrail`, `CloudWatch Logs` → `logs`, `SecurityHub` → `securityhub`).
fn service_prefix(service: &str) -> String {
    match service {
        "CloudWatch Logs" => "logs".to_string(),
        other => other.to_ascii_lowercase(),
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "trailwatch::requests::RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.total.fetch_add(1, Ordering::Relaxed);
        if let Some(metadata) = cfg.load::<Metadata>() {
            let operation = format!("{}:{}", service_prefix(metadata.service()), metadata.name());
            *self.by_operation_locked().entry(operation).or_default() += 1;
        }
        Ok(())
    }
}
