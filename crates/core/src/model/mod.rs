//! The data that flows through trailwatch, with no AWS calls in it: what a scan read from an
//! account ([`snapshot`]), the verdicts evaluated from it ([`findings`]) with the typed link that
//! stops each incomplete chain ([`missing`]), and the parts of ARNs
//! both need ([`arn`], [`alarm_rule`]). Two pure evaluators answer whether a notification gets
//! through: resource policies for one request ([`policy`]: may CloudWatch publish to the topic
//! and use its key) and subscription filter policies against the alarm notification
//! ([`notification`]).

pub mod alarm_rule;
pub mod arn;
pub mod findings;
pub mod missing;
pub mod notification;
pub mod policy;
pub mod snapshot;
