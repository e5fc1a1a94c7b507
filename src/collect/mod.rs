//! Collectors: AWS API calls that fill a [`Snapshot`]. (Being written.)

use crate::snapshot::Snapshot;

/// What to collect.
#[derive(Debug, Clone, Default)]
pub struct CollectPlan {
    /// Regions whose trails are listed; `None`: the account's enabled regions.
    pub regions: Option<Vec<String>>,
}

/// A failure that leaves nothing to evaluate (no identity, no region to scan).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CollectError(pub String);

/// Reads one account into a snapshot.
pub async fn collect(
    _sdk: &aws_config::SdkConfig,
    _plan: &CollectPlan,
) -> Result<Snapshot, CollectError> {
    Err(CollectError("collect: not written yet".into()))
}
