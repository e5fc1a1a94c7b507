//! trailwatch: checks that an AWS account really watches its own CloudTrail activity.
//!
//! The data flows one way: plan → [`collect`] (AWS APIs) → [`snapshot::Snapshot`] (plain data) →
//! [`controls::evaluate`] (pure) → [`findings::Finding`] → [`asff`] → [`publish`] (Security Hub).
//! The CLI (`trailwatch`) and the Lambda (`trailwatch-lambda`) are thin faces over [`scan`] and
//! [`handler`].

pub mod arn;
pub mod asff;
pub mod cli;
pub mod collect;
pub mod controls;
pub mod findings;
pub mod handler;
pub mod pattern_cli;
pub mod publish;
pub mod report;
pub mod scan;
pub mod snapshot;
