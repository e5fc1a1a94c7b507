//! What a worker trusts of a queue message whose seal verified ([`super::mac`]): nothing it can
//! check for itself. The scanning
//! account and partition come from the worker's own identity (STS GetCallerIdentity), never from
//! the message; the account to scan must be a well-formed id (12 digits), not the scanning
//! account (the coordinator scans that), one of `TRAILWATCH_ACCOUNTS` when the stack names them,
//! and an ACTIVE account of the organization (`organizations:DescribeAccount`, once per account
//! and invocation); the regions must be the partition's. A message that fails is refused: see
//! [`super::fanout::work`] for where it goes.

use super::config::Config;
use super::fanout::AccountMessage;
use crate::model::arn::is_account_id;
use aws_sdk_organizations::operation::describe_account::DescribeAccountError;
use aws_sdk_organizations::types::{AccountState, AccountStatus};
use aws_smithy_types::error::display::DisplayErrorContext;
use std::collections::HashMap;
use std::sync::Mutex;

/// The worker's own account and partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub partition: String,
}

/// Whether `region` is a region name of `partition` (by the partitions' name prefixes:
/// `cn-` for `aws-cn`, `us-gov-` for `aws-us-gov`, `us-iso-` for `aws-iso`, `us-isob-` for
/// `aws-iso-b`, `eu-isoe-` for `aws-iso-e`, `us-isof-` for `aws-iso-f`, any other for `aws`).
pub fn region_in_partition(region: &str, partition: &str) -> bool {
    const PREFIXES: [(&str, &str); 6] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
    ];
    let owner = PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, owner)| owner);
    owner == partition && crate::run::region_names([region]).is_ok()
}

/// The checks that need no call: `Err` says why the message is refused. Pure.
pub fn check_message(
    message: &AccountMessage,
    own: &Identity,
    config: &Config,
) -> Result<(), String> {
    let account = &message.account.id;
    if !is_account_id(account) {
        return Err(format!("{account:?} is not an account id (12 digits)"));
    }
    if *account == own.account {
        return Err(format!(
            "{account} is the scanning account, which the coordinator scans itself"
        ));
    }
    if let Some(only) = config
        .organization
        .as_ref()
        .and_then(|org| org.accounts.as_ref())
    {
        if !only.contains(account) {
            return Err(format!(
                "{account} is not one of the stack's accounts (TRAILWATCH_ACCOUNTS)"
            ));
        }
    }
    let regions = message.regions.iter().flatten();
    for region in regions.chain([&message.securityhub_region]) {
        if !region_in_partition(region, &own.partition) {
            return Err(format!(
                "{region:?} is not a region of the partition {}",
                own.partition
            ));
        }
    }
    if let Some(configured) = &config.securityhub_region {
        if *configured != message.securityhub_region {
            return Err(format!(
                "the message imports into {}, the stack into {configured} (TRAILWATCH_SECURITYHUB_REGION)",
                message.securityhub_region
            ));
        }
    }
    Ok(())
}

/// The oldest a message's chains may be when a worker scans it. The queue redelivers a record
/// returned in `batchItemFailures` after its visibility timeout (3600 s in template.yaml, six
/// times the function's 600 s timeout), and moves it to the dead-letter queue after its 5th
/// receive: the 5th receive comes 4 hours or more after the first, so 6 hours lets every
/// receive through with 2 hours for a backlog (MaxConcurrency), and no more — beyond it the
/// chains the message carries (alarms, subscriptions read by the coordinator) are too old to be
/// imported as this run's verdicts. Keep the schedule at least this far apart (the default is a
/// day) so one run's messages are done before the next run's are sent.
pub const MAX_MESSAGE_AGE: time::Duration = time::Duration::hours(6);

/// `Err` when chains read at `read_at` are too old (or from the future, beyond a clock skew of
/// 5 minutes) to be imported at `now`. Pure.
pub fn check_age(read_at: time::OffsetDateTime, now: time::OffsetDateTime) -> Result<(), String> {
    let age = now - read_at;
    if age > MAX_MESSAGE_AGE {
        Err(format!(
            "the message's chains were read at {read_at}, {} minutes ago: older than {} hours, too old to import as fresh",
            age.whole_minutes(),
            MAX_MESSAGE_AGE.whole_hours()
        ))
    } else if age < -time::Duration::minutes(5) {
        Err(format!(
            "the message's chains are dated {read_at}, in the future"
        ))
    } else {
        Ok(())
    }
}

/// Whether an account is an ACTIVE account of the organization, asked once per account and
/// invocation (`organizations:DescribeAccount`).
pub struct Membership {
    client: aws_sdk_organizations::Client,
    known: Mutex<HashMap<String, Result<(), String>>>,
}

impl Membership {
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Membership {
            client: aws_sdk_organizations::Client::new(sdk),
            known: Mutex::new(HashMap::new()),
        }
    }

    /// `Err` says why the account is refused (not in the organization, not ACTIVE, or the
    /// question could not be answered).
    pub async fn check(&self, account: &str) -> Result<(), String> {
        if let Some(known) = self.known.lock().expect("not poisoned").get(account) {
            return known.clone();
        }
        let answer = match self.client.describe_account().account_id(account).send().await {
            Ok(output) => {
                let described = output.account();
                let state = described.and_then(|account| account.state());
                let status = described.and_then(|account| account.status());
                match (state, status) {
                    (Some(AccountState::Active), _) | (None, Some(AccountStatus::Active)) => Ok(()),
                    (Some(state), _) => Err(format!("account {account} is {}, not ACTIVE", state.as_str())),
                    (None, Some(status)) => Err(format!("account {account} is {}, not ACTIVE", status.as_str())),
                    (None, None) => Err(format!("organizations:DescribeAccount gives no state for {account}")),
                }
            }
            Err(error) => match error.as_service_error() {
                Some(DescribeAccountError::AccountNotFoundException(_)) => Err(format!(
                    "account {account} is not an account of the organization (organizations:DescribeAccount: AccountNotFoundException)"
                )),
                _ => Err(format!(
                    "organizations:DescribeAccount for {account} failed: {}",
                    DisplayErrorContext(&error)
                )),
            },
        };
        self.known
            .lock()
            .expect("not poisoned")
            .insert(account.to_string(), answer.clone());
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_and_regions_are_checked() {
        assert!(is_account_id("111122223333"));
        for bad in [
            "11112222333",
            "1111222233334",
            "11112222333a",
            "",
            "../../etc",
        ] {
            assert!(!is_account_id(bad), "{bad}");
        }
        assert!(region_in_partition("eu-west-1", "aws"));
        assert!(region_in_partition("cn-north-1", "aws-cn"));
        assert!(region_in_partition("us-gov-west-1", "aws-us-gov"));
        assert!(!region_in_partition("cn-north-1", "aws"));
        assert!(!region_in_partition("us-gov-west-1", "aws"));
        assert!(!region_in_partition("eu-west-1", "aws-cn"));
        assert!(!region_in_partition("EU", "aws"));
    }

    #[test]
    fn chains_older_than_the_bound_are_refused() {
        let now = time::macros::datetime!(2026-05-01 12:00 UTC);
        assert_eq!(check_age(now, now), Ok(()));
        assert_eq!(check_age(now - time::Duration::hours(6), now), Ok(()));
        let error = check_age(now - time::Duration::minutes(361), now).unwrap_err();
        assert!(
            error.contains("361 minutes ago: older than 6 hours"),
            "{error}"
        );
        assert!(check_age(now + time::Duration::minutes(4), now).is_ok());
        assert!(check_age(now + time::Duration::hours(1), now)
            .unwrap_err()
            .contains("in the future"));
    }
}
