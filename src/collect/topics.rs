//! SNS: the subscriptions of each topic a collected alarm notifies (ListSubscriptionsByTopic,
//! every page), read in the topic's region taken from its ARN.
//!
//! A topic in another account is not read (only its owner may list its subscriptions; org mode
//! comes later): it is recorded as a [`ReadErrorKind::OtherAccount`] read error.

use super::clients::Clients;
use super::errors::read_error;
use crate::arn::Arn;
use crate::snapshot::{Alarm, ReadError, ReadErrorKind, Subscription, Topic};
use std::collections::BTreeSet;

/// The SNS topic ARNs among the alarms' actions (alarm, OK and insufficient-data), sorted.
pub(crate) fn topic_arns<'a>(alarms: impl IntoIterator<Item = &'a Alarm>) -> BTreeSet<String> {
    alarms
        .into_iter()
        .flat_map(|alarm| {
            alarm
                .alarm_actions
                .iter()
                .chain(&alarm.ok_actions)
                .chain(&alarm.insufficient_data_actions)
        })
        .filter(|action| Arn::parse(action).is_ok_and(|arn| arn.service == "sns"))
        .cloned()
        .collect()
}

const OPERATION: &str = "sns:ListSubscriptionsByTopic";

/// One topic and its subscriptions (or why they could not be listed); `scanned_account` is the
/// account whose credentials the scan uses.
pub(crate) async fn read_topic(clients: &Clients, scanned_account: &str, arn: String) -> Topic {
    let (region, account_id) = match Arn::parse(&arn) {
        Ok(parsed) => (parsed.region.to_string(), parsed.account_id.to_string()),
        Err(_) => (String::new(), String::new()),
    };
    let subscriptions = if account_id == scanned_account {
        list_subscriptions(clients, &region, &arn).await
    } else {
        Err(ReadError {
            operation: OPERATION.to_string(),
            region: region.clone(),
            resource: Some(arn.clone()),
            kind: ReadErrorKind::OtherAccount,
            code: None,
            message: format!(
                "topic is in account {account_id}; this scan reads account {scanned_account} only"
            ),
        })
    };
    Topic {
        arn,
        region,
        account_id,
        subscriptions,
    }
}

/// Every subscription of a topic of the scanned account, following `NextToken`.
async fn list_subscriptions(
    clients: &Clients,
    region: &str,
    arn: &str,
) -> Result<Vec<Subscription>, ReadError> {
    let client = clients.sns(region);
    let mut subscriptions = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let page = client
            .list_subscriptions_by_topic()
            .topic_arn(arn)
            .set_next_token(next_token.clone())
            .send()
            .await
            .map_err(|error| read_error(OPERATION, region, Some(arn), &error))?;
        subscriptions.extend(page.subscriptions().iter().map(subscription));
        match page.next_token() {
            Some(token) if !token.is_empty() && next_token.as_deref() != Some(token) => {
                next_token = Some(token.to_string())
            }
            _ => return Ok(subscriptions),
        }
    }
}

/// An SDK subscription → [`Subscription`].
pub(crate) fn subscription(subscription: &aws_sdk_sns::types::Subscription) -> Subscription {
    Subscription {
        subscription_arn: subscription
            .subscription_arn()
            .unwrap_or("PendingConfirmation")
            .to_string(),
        protocol: subscription.protocol().unwrap_or_default().to_string(),
        endpoint: subscription.endpoint().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_sns_topics_from_every_kind_of_action() {
        let alarm = Alarm {
            arn: "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a".into(),
            name: "a".into(),
            actions_enabled: true,
            alarm_actions: vec![
                "arn:aws:sns:us-east-1:111122223333:alerts".into(),
                "arn:aws:automate:us-east-1:ec2:stop".into(),
            ],
            ok_actions: vec!["arn:aws:sns:eu-west-1:111122223333:ok".into()],
            insufficient_data_actions: vec!["arn:aws:sns:us-east-1:111122223333:alerts".into()],
            metrics: vec![],
        };
        let arns: Vec<String> = topic_arns([&alarm]).into_iter().collect();
        assert_eq!(
            arns,
            [
                "arn:aws:sns:eu-west-1:111122223333:ok",
                "arn:aws:sns:us-east-1:111122223333:alerts"
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
