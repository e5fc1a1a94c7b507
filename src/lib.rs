//! trailwatch: checks that an AWS account really watches its own CloudTrail activity.
//!
//! The data flows one way, and the modules follow it: plan ([`run`]) → [`collect`] (AWS APIs) →
//! [`model::snapshot::Snapshot`] (plain data) → [`controls::evaluate`] (pure) →
//! [`model::findings::Finding`] → [`securityhub`] (ASFF, `BatchImportFindings`), or [`report`]
//! (the formats people and other tools read). The CLI
//! ([`cli`], binary `trailwatch`) and the Lambda ([`lambda`], binary `trailwatch-lambda`) are thin
//! faces over the one pipeline in [`run`].

pub mod cli;
pub mod collect;
pub mod lambda;
pub mod report;
mod requests;
pub mod run;
pub mod securityhub;

pub use trailwatch_core::{controls, model};
