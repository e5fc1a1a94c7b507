//! Amazon Resource Names: the few parts trailwatch reads out of them.
//!
//! Where a trail delivers is known only from its `CloudWatchLogsLogGroupArn`; the log group's
//! region and account come from that ARN, not from where the trail was found.

use std::fmt;

/// The fields of `arn:partition:service:region:account-id:resource`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account_id: &'a str,
    pub resource: &'a str,
}

/// Why a string is not an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnError(pub String);

impl fmt::Display for ArnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not an ARN: {:?}", self.0)
    }
}

impl std::error::Error for ArnError {}

impl<'a> Arn<'a> {
    /// Splits an ARN; the resource part keeps any further `:` it contains.
    pub fn parse(text: &'a str) -> Result<Self, ArnError> {
        let mut parts = text.splitn(6, ':');
        let fields: Vec<&str> = parts.by_ref().collect();
        match fields.as_slice() {
            ["arn", partition, service, region, account_id, resource]
                if !partition.is_empty() && !service.is_empty() && !resource.is_empty() =>
            {
                Ok(Arn {
                    partition,
                    service,
                    region,
                    account_id,
                    resource,
                })
            }
            _ => Err(ArnError(text.to_string())),
        }
    }
}

/// A CloudWatch Logs log group ARN as trails name it: `…:log-group:NAME:*` or `…:log-group:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupArn {
    pub partition: String,
    pub region: String,
    pub account_id: String,
    pub name: String,
}

impl LogGroupArn {
    /// Parses a log group ARN, rejecting ARNs of anything else.
    pub fn parse(text: &str) -> Result<Self, ArnError> {
        let arn = Arn::parse(text)?;
        let name = arn
            .resource
            .strip_prefix("log-group:")
            .map(|rest| rest.strip_suffix(":*").unwrap_or(rest))
            .filter(|name| arn.service == "logs" && !name.is_empty())
            .ok_or_else(|| ArnError(text.to_string()))?;
        Ok(LogGroupArn {
            partition: arn.partition.to_string(),
            region: arn.region.to_string(),
            account_id: arn.account_id.to_string(),
            name: name.to_string(),
        })
    }
}

/// A log group ARN without the `:*` that CloudTrail appends.
pub fn strip_log_group_wildcard(arn: &str) -> &str {
    arn.strip_suffix(":*").unwrap_or(arn)
}

/// Whether an alarm action is an SNS topic CloudWatch can notify from an alarm in `partition` and
/// `region`: CloudWatch notifies topics in the alarm's own region only (PutMetricAlarm refuses
/// another region's topic with "Invalid region … specified"); another account's topic is
/// allowed (its topic policy decides).
pub fn is_notifiable_topic(action: &str, partition: &str, region: &str) -> bool {
    Arn::parse(action)
        .is_ok_and(|arn| arn.service == "sns" && arn.partition == partition && arn.region == region)
}

/// Whether `id` is an AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|byte| byte.is_ascii_digit())
}

/// The region part of an ARN, or `None` if the text is not an ARN.
pub fn region_of(text: &str) -> Option<&str> {
    Arn::parse(text).ok().map(|arn| arn.region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_log_group_arns_with_and_without_wildcard() {
        let table = [
            (
                "arn:aws:logs:eu-west-1:111122223333:log-group:CloudTrail/org:*",
                ("aws", "eu-west-1", "111122223333", "CloudTrail/org"),
            ),
            (
                "arn:aws-us-gov:logs:us-gov-west-1:111122223333:log-group:a:b",
                ("aws-us-gov", "us-gov-west-1", "111122223333", "a:b"),
            ),
            (
                "arn:aws-cn:logs:cn-north-1:111122223333:log-group:trail",
                ("aws-cn", "cn-north-1", "111122223333", "trail"),
            ),
        ];
        for (text, (partition, region, account, name)) in table {
            let arn = LogGroupArn::parse(text).unwrap();
            assert_eq!(
                (
                    arn.partition.as_str(),
                    arn.region.as_str(),
                    arn.account_id.as_str(),
                    arn.name.as_str()
                ),
                (partition, region, account, name),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_log_group_arn() {
        for text in [
            "",
            "CloudTrail/org",
            "arn:aws:sns:us-east-1:111122223333:topic",
            "arn:aws:logs:us-east-1:111122223333:log-group:",
            "arn:aws:logs:us-east-1:111122223333:log-group::*",
        ] {
            assert!(LogGroupArn::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn region_of_reads_the_fourth_field() {
        assert_eq!(
            region_of("arn:aws:sns:ap-south-1:111122223333:alerts"),
            Some("ap-south-1")
        );
        assert_eq!(region_of("alerts"), None);
    }
}
