//! SNS: the subscriptions of each topic a collected alarm notifies (ListSubscriptionsByTopic,
//! every page), read in the topic's region taken from its ARN.
//!
//! Only a topic's owner may list its subscriptions: a topic is read with the credentials
//! [`Access`] gives for its account, and one no credentials reach is a
//! [`crate::model::snapshot::ReadErrorKind::OtherAccount`] read error.

use super::access::Access;
use super::clients::Clients;
use super::errors::read_error;
use crate::model::arn::Arn;
use crate::model::snapshot::{ReadError, Subscription, Topic, PENDING_CONFIRMATION};

const OPERATION: &str = "sns:ListSubscriptionsByTopic";

/// One topic and its subscriptions (or why they could not be listed).
pub(crate) async fn read_topic(access: &Access<'_>, arn: String) -> Topic {
    let (region, account_id) = match Arn::parse(&arn) {
        Ok(parsed) => (parsed.region.to_string(), parsed.account_id.to_string()),
        Err(_) => (String::new(), String::new()),
    };
    let subscriptions = match access.clients_for(&account_id).await {
        Ok(clients) => list_subscriptions(&clients, &region, &arn).await,
        Err(denied) => Err(denied.read_error(OPERATION, &region, &arn, "topic")),
    };
    Topic {
        arn,
        region,
        account_id,
        subscriptions,
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

/// An SDK subscription → [`Subscription`].
pub(crate) fn subscription(subscription: &aws_sdk_sns::types::Subscription) -> Subscription {
    Subscription {
        subscription_arn: subscription
            .subscription_arn()
            .unwrap_or(PENDING_CONFIRMATION)
            .to_string(),
        protocol: subscription.protocol().unwrap_or_default().to_string(),
        endpoint: subscription.endpoint().unwrap_or_default().to_string(),
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
