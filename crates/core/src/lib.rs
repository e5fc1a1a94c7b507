//! trailwatch's pure core: what a scan read from an account ([`model::snapshot`]), the controls
//! that judge it ([`controls`]) and the findings with their typed evidence
//! ([`model::findings`], [`model::missing::MissingLink`]).
//!
//! Nothing here calls AWS or depends on an AWS SDK crate: the crate boundary keeps it so. The
//! `trailwatch` crate collects snapshots and publishes findings around it.

pub mod controls;
pub mod model;
pub mod remediate;
