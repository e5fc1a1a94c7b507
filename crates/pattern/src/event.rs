//! CloudTrail event template.
