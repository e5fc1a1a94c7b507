//! The data that flows through trailwatch, with no AWS calls in it: what a scan read from an
//! account ([`snapshot`]), the verdicts evaluated from it ([`findings`]), and the parts of ARNs
//! both need ([`arn`], [`alarm_rule`]).

pub mod alarm_rule;
pub mod arn;
pub mod findings;
pub mod snapshot;
