//! The data that flows through trailwatch, with no AWS calls in it: what a scan read from an
//! account ([`snapshot`]), the verdicts evaluated from it ([`findings`]) with the typed link that
//! stops each incomplete chain ([`missing`]), and the parts of ARNs
//! both need ([`arn`], [`alarm_rule`]). Resource policies are evaluated for one request
//! ([`policy`]: may CloudWatch publish to the topic and use its key).

pub mod alarm_rule;
pub mod arn;
pub mod findings;
pub mod missing;
pub mod policy;
pub mod snapshot;
