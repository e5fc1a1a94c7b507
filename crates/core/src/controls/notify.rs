//! The last links of a chain: can CloudWatch publish the alarm's notification to the topic, and
//! which confirmed subscription receives it?
//!
//! Publishing needs the topic's access policy to let `cloudwatch.amazonaws.com` publish on the
//! alarm's behalf (CloudWatch's "Notify users on alarm changes" page,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html>),
//! and, for an encrypted topic, a customer managed key — CloudWatch cannot use the AWS managed
//! `alias/aws/sns` (<https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns>) — that
//! is enabled and whose key policy lets CloudWatch use it (`kms:Decrypt`,
//! `kms:GenerateDataKey*`; <https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services>).
//! Receiving needs a confirmed subscription whose filter policy lets the notification through:
//! alarm notifications carry no message attributes, so an attribute-scoped policy with any
//! positive condition drops them ([`crate::model::notification`]).
//!
//! Each check answers `Ok(None)` (the link holds), `Ok(Some(link))` (it may hold: a WARNING
//! link the chain carries) or `Err(link)` (the chain stops: FAILED, or NOT_AVAILABLE when the
//! deciding read failed).

use crate::model::missing::{MissingLink, Subject};
use crate::model::notification::{filter_policy_passes, FilterOutcome, Scope};
use crate::model::policy::{self, Decision, Request};
use crate::model::snapshot::{Subscription, Topic};
use serde_json::{Map, Value};

/// The AWS managed key of SNS: CloudWatch cannot use it.
const SNS_MANAGED_KEY: &str = "alias/aws/sns";

/// Whether CloudWatch can publish `alarm_arn`'s notification to `topic`.
pub(super) fn cloudwatch_can_publish(
    topic: &Topic,
    alarm_arn: &str,
) -> Result<Option<MissingLink>, MissingLink> {
    let topic_arn = || topic.arn.clone();
    let attributes = topic
        .attributes
        .as_ref()
        .map_err(|error| MissingLink::Unread {
            subject: Subject::TopicAttributes {
                topic_arn: topic_arn(),
            },
            error: Box::new(error.clone()),
        })?;
    let mut undecided = None;
    if let Some(key_id) = &attributes.kms_master_key_id {
        let aws_managed = |key: String| MissingLink::TopicKeyAwsManaged {
            topic_arn: topic_arn(),
            key,
        };
        if key_id.ends_with(SNS_MANAGED_KEY) {
            return Err(aws_managed(key_id.clone()));
        }
        let key = match &attributes.key {
            Some(Ok(key)) => key,
            Some(Err(error)) => {
                return Err(MissingLink::Unread {
                    subject: Subject::EncryptionKey {
                        key: key_id.clone(),
                    },
                    error: Box::new(error.clone()),
                })
            }
            None => {
                return Err(MissingLink::NotCollected {
                    subject: Subject::EncryptionKey {
                        key: key_id.clone(),
                    },
                })
            }
        };
        if key.key_manager == "AWS" {
            return Err(aws_managed(key.arn.clone()));
        }
        if key.key_state != "Enabled" {
            return Err(MissingLink::TopicKeyNotEnabled {
                topic_arn: topic_arn(),
                key: key.arn.clone(),
                state: key.key_state.clone(),
            });
        }
        let key_policy = match &key.policy {
            Some(Ok(text)) => text,
            Some(Err(error)) => {
                return Err(MissingLink::Unread {
                    subject: Subject::KeyPolicy {
                        key: key.arn.clone(),
                    },
                    error: Box::new(error.clone()),
                })
            }
            None => {
                return Err(MissingLink::NotCollected {
                    subject: Subject::KeyPolicy {
                        key: key.arn.clone(),
                    },
                })
            }
        };
        for action in ["kms:Decrypt", "kms:GenerateDataKey"] {
            let request = Request::cloudwatch_alarm_key_use(alarm_arn, &key.arn, action);
            let decided = decide(key_policy, request, |refusal| {
                MissingLink::KeyRefusesCloudWatch {
                    topic_arn: topic_arn(),
                    key: key.arn.clone(),
                    action: action.to_string(),
                    refusal,
                }
            })?;
            undecided =
                undecided.or(
                    decided.map(|(statement, reason)| MissingLink::PublishUndecided {
                        topic_arn: topic_arn(),
                        policy: format!("the key policy of {}", key.arn),
                        statement,
                        reason,
                    }),
                );
        }
    }
    let Some(access_policy) = &attributes.policy else {
        return Ok(undecided.or(Some(MissingLink::PublishUndecided {
            topic_arn: topic_arn(),
            policy: "the topic's access policy".to_string(),
            statement: String::new(),
            reason: "GetTopicAttributes returned no Policy".to_string(),
        })));
    };
    let request = Request::cloudwatch_alarm_publish(alarm_arn, &topic.arn);
    let decided = decide(access_policy, request, |refusal| {
        MissingLink::TopicRefusesCloudWatch {
            topic_arn: topic_arn(),
            alarm_arn: alarm_arn.to_string(),
            refusal,
        }
    })?;
    Ok(undecided.or(
        decided.map(|(statement, reason)| MissingLink::PublishUndecided {
            topic_arn: topic_arn(),
            policy: "the topic's access policy".to_string(),
            statement,
            reason,
        }),
    ))
}

/// A policy's decision on `request`: `Ok(None)` allowed, `Ok(Some((statement, reason)))`
/// undecided, `Err` refused (the refusal named by `refused`).
fn decide(
    policy_text: &str,
    request: Result<Request, crate::model::arn::ArnError>,
    refused: impl Fn(String) -> MissingLink,
) -> Result<Option<(String, String)>, MissingLink> {
    let request = match request {
        Ok(request) => request,
        Err(error) => return Ok(Some((String::new(), format!("the alarm ARN: {error}")))),
    };
    match policy::evaluate(policy_text, &request) {
        Ok(Decision::Allowed { .. }) => Ok(None),
        Ok(Decision::ExplicitlyDenied { statement }) => {
            Err(refused(format!("statement {statement} denies it")))
        }
        Ok(Decision::NotAllowed) => Err(refused("no statement allows it".to_string())),
        Ok(Decision::Undecided { statement, reason }) => Ok(Some((statement, reason))),
        Err(error) => Ok(Some((String::new(), error.to_string()))),
    }
}

/// The confirmed subscription that receives the notification `body`, with a WARNING link when
/// only a subscription whose filter cannot be decided might; `Err` when none does (FAILED) or
/// the deciding read failed (NOT_AVAILABLE). `confirmed` is not empty.
pub(super) fn receiving_subscription<'a>(
    topic_arn: &str,
    confirmed: &[&'a Subscription],
    body: &Value,
) -> Result<(&'a Subscription, Option<MissingLink>), MissingLink> {
    let mut maybe: Option<(&Subscription, MissingLink)> = None;
    let mut unread: Option<MissingLink> = None;
    let mut dropped: Option<(&Subscription, String)> = None;
    for subscription in confirmed {
        let endpoint = || masked_endpoint(subscription);
        let filter = match &subscription.filter {
            Some(Ok(filter)) => filter,
            Some(Err(error)) => {
                unread.get_or_insert(MissingLink::Unread {
                    subject: Subject::SubscriptionFilter {
                        subscription: endpoint(),
                    },
                    error: Box::new(error.clone()),
                });
                continue;
            }
            None => {
                unread.get_or_insert(MissingLink::NotCollected {
                    subject: Subject::SubscriptionFilter {
                        subscription: endpoint(),
                    },
                });
                continue;
            }
        };
        let Some(policy_text) = filter.policy.as_deref().filter(|text| text.trim() != "{}") else {
            return Ok((subscription, None));
        };
        let scope = match filter.scope.as_deref() {
            Some("MessageBody") => Scope::MessageBody,
            _ => Scope::MessageAttributes,
        };
        // Alarm notifications carry no message attributes.
        match filter_policy_passes(policy_text, scope, body, &Map::new()) {
            Ok(FilterOutcome::Delivers) => return Ok((subscription, None)),
            Ok(FilterOutcome::Drops { key }) => {
                dropped.get_or_insert((subscription, key));
            }
            Ok(FilterOutcome::Undecided { key, reason }) => {
                maybe.get_or_insert((
                    subscription,
                    MissingLink::SubscriptionFilterUndecided {
                        subscription: endpoint(),
                        key,
                        reason,
                    },
                ));
            }
            Err(error) => {
                maybe.get_or_insert((
                    subscription,
                    MissingLink::SubscriptionFilterUndecided {
                        subscription: endpoint(),
                        key: String::new(),
                        reason: error.to_string(),
                    },
                ));
            }
        }
    }
    if let Some((subscription, link)) = maybe {
        return Ok((subscription, Some(link)));
    }
    if let Some(link) = unread {
        return Err(link);
    }
    let (subscription, key) = dropped.expect("every confirmed subscription was judged");
    Err(MissingLink::SubscriptionFiltersOut {
        topic_arn: topic_arn.to_string(),
        subscription: masked_endpoint(subscription),
        confirmed: confirmed.len(),
        key,
    })
}

/// `protocol:endpoint` with the endpoint masked: enough for its owner to recognise it, useless
/// to anyone else (an e-mail's first letter and domain, a URL's scheme and host, a phone
/// number's last two digits, an ARN's resource name).
pub fn masked_endpoint(subscription: &Subscription) -> String {
    format!(
        "{}:{}",
        subscription.protocol,
        mask(&subscription.protocol, &subscription.endpoint)
    )
}

fn mask(protocol: &str, endpoint: &str) -> String {
    match protocol {
        "email" | "email-json" => match endpoint.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}…@{domain}")
            }
            None => "…".to_string(),
        },
        "http" | "https" => match endpoint.split_once("://") {
            Some((scheme, rest)) => {
                let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
                // Credentials in the authority stay hidden too.
                let host = host.rsplit('@').next().unwrap_or(host);
                format!("{scheme}://{host}/…")
            }
            None => "…".to_string(),
        },
        "sms" => {
            let digits: Vec<char> = endpoint.chars().filter(char::is_ascii_digit).collect();
            let last: String = digits[digits.len().saturating_sub(2)..].iter().collect();
            format!("…{last}")
        }
        _ => match endpoint.rsplit_once([':', '/']) {
            Some((_, name)) if endpoint.starts_with("arn:") => format!("…:{name}"),
            _ => "…".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(protocol: &str, endpoint: &str) -> Subscription {
        Subscription {
            subscription_arn: "arn:aws:sns:us-east-1:111122223333:t:1".to_string(),
            protocol: protocol.to_string(),
            endpoint: endpoint.to_string(),
            filter: None,
        }
    }

    #[test]
    fn endpoints_are_masked_for_every_protocol() {
        for (protocol, endpoint, masked) in [
            ("email", "security@example.com", "email:s…@example.com"),
            ("email-json", "x@corp.example", "email-json:x…@corp.example"),
            (
                "https",
                "https://user:secret@hooks.example.com/services/T0/B0/KEY?token=1",
                "https:https://hooks.example.com/…",
            ),
            ("sms", "+15555550123", "sms:…23"),
            (
                "sqs",
                "arn:aws:sqs:us-east-1:444455556666:alerts",
                "sqs:…:alerts",
            ),
            (
                "lambda",
                "arn:aws:lambda:us-east-1:444455556666:function:pager",
                "lambda:…:pager",
            ),
            ("application", "not an arn", "application:…"),
        ] {
            let shown = masked_endpoint(&subscription(protocol, endpoint));
            assert_eq!(shown, masked, "{protocol}");
            assert!(!shown.contains("secret") && !shown.contains("444455556666"));
        }
    }
}
