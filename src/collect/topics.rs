//! SNS (and KMS behind it): what decides whether an alarm's notification reaches somebody, for
//! each topic a collected alarm notifies, read in the topic's region taken from its ARN —
//! its subscriptions (ListSubscriptionsByTopic, every page) and, at the same time, its
//! attributes (GetTopicAttributes: access policy, encryption key); then each confirmed
//! subscription's filter policy (GetSubscriptionAttributes) and the key's state and policy
//! (DescribeKey, then GetKeyPolicy for an enabled customer managed key). Each is read once per
//! topic, subscription and key.
//!
//! Only a topic's owner may list its subscriptions: a topic is read with the credentials
//! [`Access`] gives for its account, and one no credentials reach is a
//! [`crate::model::snapshot::ReadErrorKind::OtherAccount`] read error.

use super::access::Access;
use super::clients::Clients;
use super::errors::read_error;
use crate::model::arn::Arn;
use crate::model::snapshot::{
    EncryptionKey, ReadError, Subscription, SubscriptionFilter, Topic, TopicAttributes,
    PENDING_CONFIRMATION,
};
use futures::future::join_all;

const OPERATION: &str = "sns:ListSubscriptionsByTopic";
const TOPIC_ATTRIBUTES: &str = "sns:GetTopicAttributes";
const SUBSCRIPTION_ATTRIBUTES: &str = "sns:GetSubscriptionAttributes";
const DESCRIBE_KEY: &str = "kms:DescribeKey";
const KEY_POLICY: &str = "kms:GetKeyPolicy";

/// One topic, its subscriptions and attributes (or why they could not be read).
/// `on_organization_chain`: an organization trail's alarm notifies it (see
/// [`Access::clients_for`]).
pub(crate) async fn read_topic(
    access: &Access<'_>,
    arn: String,
    on_organization_chain: bool,
) -> Topic {
    let (region, account_id) = match Arn::parse(&arn) {
        Ok(parsed) => (parsed.region.to_string(), parsed.account_id.to_string()),
        Err(_) => (String::new(), String::new()),
    };
    let (subscriptions, attributes) =
        match access.clients_for(&account_id, on_organization_chain).await {
            Ok(clients) => {
                let (subscriptions, attributes) = tokio::join!(
                    async {
                        let listed = list_subscriptions(&clients, &region, &arn).await?;
                        Ok(join_all(
                            listed
                                .into_iter()
                                .map(|subscription| with_filter(&clients, &region, subscription)),
                        )
                        .await)
                    },
                    topic_attributes(&clients, &region, &arn)
                );
                (subscriptions, attributes)
            }
            Err(denied) => (
                Err(denied.read_error(OPERATION, &region, &arn, "topic")),
                Err(denied.read_error(TOPIC_ATTRIBUTES, &region, &arn, "topic")),
            ),
        };
    Topic {
        arn,
        region,
        account_id,
        subscriptions,
        attributes,
    }
}

/// Every subscription of a topic, every page (the paginator stops on a repeated token).
async fn list_subscriptions(
    clients: &Clients,
    region: &str,
    arn: &str,
) -> Result<Vec<Subscription>, ReadError> {
    let mut pages = clients
        .sns(region)
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .into_paginator()
        .send();
    let mut subscriptions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| read_error(OPERATION, region, Some(arn), &error))?;
        subscriptions.extend(page.subscriptions().iter().map(subscription));
    }
    Ok(subscriptions)
}

/// A confirmed subscription with its filter policy read; others as they are.
async fn with_filter(
    clients: &Clients,
    region: &str,
    mut subscription: Subscription,
) -> Subscription {
    if !subscription.is_confirmed() {
        return subscription;
    }
    let arn = subscription.subscription_arn.as_str();
    let read = clients
        .sns(region)
        .get_subscription_attributes()
        .subscription_arn(arn)
        .send()
        .await
        .map_err(|error| read_error(SUBSCRIPTION_ATTRIBUTES, region, Some(arn), &error))
        .map(|answer| {
            let attributes = answer.attributes();
            SubscriptionFilter {
                policy: attributes.and_then(|a| a.get("FilterPolicy")).cloned(),
                scope: attributes.and_then(|a| a.get("FilterPolicyScope")).cloned(),
            }
        });
    subscription.filter = Some(read);
    subscription
}

/// The topic's access policy and encryption key, and that key's state and policy.
async fn topic_attributes(
    clients: &Clients,
    region: &str,
    arn: &str,
) -> Result<TopicAttributes, ReadError> {
    let answer = clients
        .sns(region)
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .map_err(|error| read_error(TOPIC_ATTRIBUTES, region, Some(arn), &error))?;
    let attributes = answer.attributes();
    let attribute = |name: &str| {
        attributes
            .and_then(|a| a.get(name))
            .filter(|value| !value.is_empty())
            .cloned()
    };
    let kms_master_key_id = attribute("KmsMasterKeyId");
    let key = match &kms_master_key_id {
        Some(key_id) => Some(read_key_once(clients, region, key_id).await),
        None => None,
    };
    Ok(TopicAttributes {
        policy: attribute("Policy"),
        kms_master_key_id,
        key,
    })
}

/// The key `key_id` names, read once per collection however many topics it encrypts.
async fn read_key_once(
    clients: &Clients,
    topic_region: &str,
    key_id: &str,
) -> Result<EncryptionKey, ReadError> {
    let cell = {
        let mut keys = clients
            .keys
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.entry(format!("{topic_region}/{key_id}"))
            .or_default()
            .clone()
    };
    cell.get_or_init(|| read_key(clients, topic_region, key_id))
        .await
        .clone()
}

/// DescribeKey (any of the four forms `KmsMasterKeyId` may take), then the key policy of an
/// enabled customer managed key. A key named by ARN is read in its own region.
async fn read_key(
    clients: &Clients,
    topic_region: &str,
    key_id: &str,
) -> Result<EncryptionKey, ReadError> {
    let region = Arn::parse(key_id)
        .map(|arn| arn.region.to_string())
        .unwrap_or_else(|_| topic_region.to_string());
    let kms = clients.kms(&region);
    let described = kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .map_err(|error| read_error(DESCRIBE_KEY, &region, Some(key_id), &error))?;
    let metadata = described.key_metadata();
    let key = EncryptionKey {
        arn: metadata.and_then(|m| m.arn()).unwrap_or(key_id).to_string(),
        key_manager: metadata
            .and_then(|m| m.key_manager())
            .map(|manager| manager.as_str().to_string())
            .unwrap_or_default(),
        key_state: metadata
            .and_then(|m| m.key_state())
            .map(|state| state.as_str().to_string())
            .unwrap_or_default(),
        policy: None,
    };
    if key.key_manager != "CUSTOMER" || key.key_state != "Enabled" {
        return Ok(key);
    }
    let policy = kms
        .get_key_policy()
        .key_id(&key.arn)
        .policy_name("default")
        .send()
        .await
        .map_err(|error| read_error(KEY_POLICY, &region, Some(&key.arn), &error))
        .map(|answer| answer.policy().unwrap_or_default().to_string());
    Ok(EncryptionKey {
        policy: Some(policy),
        ..key
    })
}

/// An SDK subscription → [`Subscription`].
pub(crate) fn subscription(subscription: &aws_sdk_sns::types::Subscription) -> Subscription {
    Subscription {
        subscription_arn: subscription
            .subscription_arn()
            .unwrap_or(PENDING_CONFIRMATION)
            .to_string(),
        protocol: subscription.protocol().unwrap_or_default().to_string(),
        endpoint: subscription.endpoint().unwrap_or_default().to_string(),
        filter: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_alarm_actions_naming_a_topic_in_the_alarms_region_are_read() {
        use crate::model::snapshot::{Alarm, CompositeAlarm};
        let alarm = Alarm {
            arn: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a".into(),
            name: "a".into(),
            actions_enabled: true,
            alarm_actions: vec![
                "arn:aws:sns:us-east-1:111122223333:alerts".into(),
                "arn:aws:sns:eu-west-1:111122223333:far".into(),
                "arn:aws-cn:sns:us-east-1:111122223333:other-partition".into(),
                "arn:aws:automate:us-east-1:ec2:stop".into(),
            ],
            ok_actions: vec!["arn:aws:sns:us-east-1:111122223333:ok".into()],
            insufficient_data_actions: vec!["arn:aws:sns:us-east-1:111122223333:data".into()],
            metrics: vec![],
            evaluation: Default::default(),
        };
        let composite = CompositeAlarm {
            arn: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:c".into(),
            name: "c".into(),
            actions_enabled: true,
            alarm_actions: vec!["arn:aws:sns:us-east-1:444455556666:central".into()],
            rule: "ALARM(a)".into(),
            actions_suppressor: None,
        };
        let set = crate::model::snapshot::AlarmSet {
            region: "us-east-1".into(),
            account_id: "111122223333".into(),
            alarms: Ok(vec![alarm]),
            composite_alarms: vec![composite],
        };
        let arns: Vec<String> = crate::model::snapshot::notified_topic_arns(&[set], "aws")
            .into_iter()
            .collect();
        assert_eq!(
            arns,
            [
                "arn:aws:sns:us-east-1:111122223333:alerts",
                "arn:aws:sns:us-east-1:444455556666:central"
            ]
        );
    }

    #[test]
    fn maps_a_pending_subscription() {
        let pending = aws_sdk_sns::types::Subscription::builder()
            .subscription_arn("PendingConfirmation")
            .protocol("email")
            .endpoint("sec@example.com")
            .build();
        let mapped = subscription(&pending);
        assert!(!mapped.is_confirmed());
        assert_eq!(mapped.endpoint, "sec@example.com");
    }
}
