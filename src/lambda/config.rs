//! The function's configuration, read once per cold start from the environment `template.yaml`
//! sets: `TRAILWATCH_REGIONS`, `TRAILWATCH_CONTROLS`, `TRAILWATCH_CIS_VERSION`,
//! `TRAILWATCH_SECURITYHUB_REGION`, `TRAILWATCH_DRY_RUN`, and for an organization stack
//! `TRAILWATCH_ORGANIZATION`, `TRAILWATCH_QUEUE_URL`, `TRAILWATCH_MEMBER_ROLE_NAME`,
//! `TRAILWATCH_EXTERNAL_ID`, `TRAILWATCH_ACCOUNTS`, `TRAILWATCH_MESSAGE_KEY`, and with
//! `EventDrivenRecheck` `TRAILWATCH_CHANGE_QUEUE_ARN`. The standard AWS environment (`AWS_REGION`,
//! `AWS_ENDPOINT_URL`, credentials) is the SDK configuration's business.

use super::errors::LambdaError;
use crate::collect::access::MemberRole;
use crate::controls::{self, CisVersion, Control};
use crate::run;
use std::collections::BTreeSet;

/// Comma list of regions to scan; unset or empty: the account's enabled regions.
pub const ENV_REGIONS: &str = "TRAILWATCH_REGIONS";
/// Comma list of control ids, or `default` / `all`; unset or empty: `default`.
pub const ENV_CONTROLS: &str = "TRAILWATCH_CONTROLS";
/// The CIS benchmark version (`7.0.0`, `v1.4.0`, `1.4`); unset or empty: the newest known.
pub const ENV_CIS_VERSION: &str = "TRAILWATCH_CIS_VERSION";
/// The Security Hub region to import into; unset or empty: the function's region.
pub const ENV_SECURITYHUB_REGION: &str = "TRAILWATCH_SECURITYHUB_REGION";
/// `true` to plan the import without calling `BatchImportFindings`.
pub const ENV_DRY_RUN: &str = "TRAILWATCH_DRY_RUN";
/// `true`: the scheduled run coordinates an organization run over `TRAILWATCH_QUEUE_URL`.
pub const ENV_ORGANIZATION: &str = "TRAILWATCH_ORGANIZATION";
/// The SQS queue the coordinator sends one message per account to (and that triggers workers).
pub const ENV_QUEUE_URL: &str = "TRAILWATCH_QUEUE_URL";
/// The KMS HMAC key (id or ARN) that seals the account messages the coordinator sends and that
/// workers verify them with ([`super::mac`]); required in an organization stack.
pub const ENV_MESSAGE_KEY: &str = "TRAILWATCH_MESSAGE_KEY";
/// The member role assumed in each account; unset or empty: `trailwatch-scan`.
pub const ENV_MEMBER_ROLE_NAME: &str = "TRAILWATCH_MEMBER_ROLE_NAME";
/// The `sts:ExternalId` the member roles require; unset or empty: none.
pub const ENV_EXTERNAL_ID: &str = "TRAILWATCH_EXTERNAL_ID";
/// Comma list of the account ids to scan; unset or empty: every active account.
pub const ENV_ACCOUNTS: &str = "TRAILWATCH_ACCOUNTS";
/// The scan queue's `maxReceiveCount` (template.yaml sets both from one mapping): a record whose
/// scan hit transient read failures is retried until its last receive; unset: every receive is
/// the last (failures are published at once).
pub const ENV_MAX_RECEIVE_COUNT: &str = "TRAILWATCH_MAX_RECEIVE_COUNT";
/// The scan queue's `MaximumMessageSize` in bytes (template.yaml sets both from one mapping): an
/// account message whose chains do not fit is sent without them; unset: 262,144 (256 KiB, the
/// default of a queue that does not set it).
pub const ENV_MAX_MESSAGE_BYTES: &str = "TRAILWATCH_MAX_MESSAGE_BYTES";
/// The ARN of the queue of change events (template.yaml's `EventDrivenRecheck`): a batch from it
/// is a re-check ([`super::recheck`]); unset: the function takes no change events.
pub const ENV_CHANGE_QUEUE_ARN: &str = "TRAILWATCH_CHANGE_QUEUE_ARN";
/// The default of [`ENV_MAX_MESSAGE_BYTES`].
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 262_144;
/// The largest `MaximumMessageSize` SQS allows (1 MiB).
pub const SQS_MAX_MESSAGE_BYTES: usize = 1_048_576;
/// The member role's name when none is configured.
pub const DEFAULT_MEMBER_ROLE: &str = "trailwatch-scan";

/// The function's configuration, from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `None`: the account's enabled regions.
    pub regions: Option<Vec<String>>,
    pub controls: Vec<&'static Control>,
    pub cis_version: CisVersion,
    /// `None`: the SDK configuration's region (the function's `AWS_REGION`).
    pub securityhub_region: Option<String>,
    pub dry_run: bool,
    /// `Some` in an organization stack.
    pub organization: Option<OrgConfig>,
    /// `Some` with `EventDrivenRecheck`.
    pub change_queue: Option<ChangeQueue>,
}

/// The queue of change events, and the account and partition its ARN names: the stack's own,
/// the only account whose events the re-check acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeQueue {
    pub arn: String,
    pub account: String,
    pub partition: String,
}

impl ChangeQueue {
    /// Reads an SQS queue ARN (`arn:aws:sqs:us-east-1:111122223333:name`).
    pub fn parse(arn: &str) -> Result<Self, String> {
        let parsed = crate::model::arn::Arn::parse(arn).map_err(|error| error.to_string())?;
        let region_ok = run::region_names([parsed.region]).is_ok();
        if parsed.service != "sqs"
            || !region_ok
            || !crate::model::arn::is_account_id(parsed.account_id)
        {
            return Err(format!(
                "{arn:?} is not an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)"
            ));
        }
        Ok(ChangeQueue {
            arn: arn.to_string(),
            account: parsed.account_id.to_string(),
            partition: parsed.partition.to_string(),
        })
    }
}

/// An organization stack's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgConfig {
    pub queue_url: String,
    /// The HMAC key of [`ENV_MESSAGE_KEY`].
    pub message_key: String,
    pub role: MemberRole,
    /// `None`: every active account.
    pub accounts: Option<BTreeSet<String>>,
    /// The queue's `maxReceiveCount` (1 when not configured).
    pub max_receive_count: u32,
    /// The queue's `MaximumMessageSize`, in bytes.
    pub max_message_bytes: usize,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, LambdaError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable's value by name).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LambdaError> {
        let value = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_string())
                .filter(|value| !value.is_empty())
        };
        let invalid = |name: &str, error: String| LambdaError::Config(format!("{name}: {error}"));
        let regions = value(ENV_REGIONS)
            .map(|list| run::region_names(list.split(',')))
            .transpose()
            .map_err(|error| invalid(ENV_REGIONS, error))?;
        let controls = controls::select(&value(ENV_CONTROLS).unwrap_or("default".into()))
            .map_err(|error| invalid(ENV_CONTROLS, error.to_string()))?;
        let cis_version = value(ENV_CIS_VERSION)
            .map(|text| CisVersion::parse(&text))
            .transpose()
            .map_err(|error| invalid(ENV_CIS_VERSION, error.to_string()))?
            .unwrap_or_else(CisVersion::newest);
        let securityhub_region = value(ENV_SECURITYHUB_REGION)
            .map(|region| run::region_names([region.as_str()]).map(|mut one| one.remove(0)))
            .transpose()
            .map_err(|error| invalid(ENV_SECURITYHUB_REGION, error))?;
        let dry_run = match value(ENV_DRY_RUN) {
            None => false,
            Some(text) => parse_bool(&text).ok_or_else(|| {
                invalid(ENV_DRY_RUN, format!("expected true or false, got {text:?}"))
            })?,
        };
        let organization = match value(ENV_ORGANIZATION) {
            None => false,
            Some(text) => parse_bool(&text).ok_or_else(|| {
                invalid(
                    ENV_ORGANIZATION,
                    format!("expected true or false, got {text:?}"),
                )
            })?,
        };
        let organization = if organization {
            let queue_url = value(ENV_QUEUE_URL).ok_or_else(|| {
                invalid(
                    ENV_QUEUE_URL,
                    format!("required when {ENV_ORGANIZATION} is true"),
                )
            })?;
            let message_key = value(ENV_MESSAGE_KEY).ok_or_else(|| {
                invalid(
                    ENV_MESSAGE_KEY,
                    format!("required when {ENV_ORGANIZATION} is true (the KMS HMAC key that seals the queue's messages)"),
                )
            })?;
            let accounts = value(ENV_ACCOUNTS)
                .map(|list| account_ids(&list))
                .transpose()
                .map_err(|error| invalid(ENV_ACCOUNTS, error))?;
            let max_receive_count = match value(ENV_MAX_RECEIVE_COUNT) {
                None => 1,
                Some(text) => text
                    .parse::<u32>()
                    .ok()
                    .filter(|count| (1..=1000).contains(count))
                    .ok_or_else(|| {
                        invalid(
                            ENV_MAX_RECEIVE_COUNT,
                            format!("expected a count from 1 to 1000, got {text:?}"),
                        )
                    })?,
            };
            let max_message_bytes = match value(ENV_MAX_MESSAGE_BYTES) {
                None => DEFAULT_MAX_MESSAGE_BYTES,
                Some(text) => text
                    .parse::<usize>()
                    .ok()
                    .filter(|bytes| (1024..=SQS_MAX_MESSAGE_BYTES).contains(bytes))
                    .ok_or_else(|| {
                        invalid(
                            ENV_MAX_MESSAGE_BYTES,
                            format!(
                                "expected a size in bytes from 1024 to {SQS_MAX_MESSAGE_BYTES}, got {text:?}"
                            ),
                        )
                    })?,
            };
            Some(OrgConfig {
                queue_url,
                message_key,
                max_receive_count,
                max_message_bytes,
                role: MemberRole {
                    name: value(ENV_MEMBER_ROLE_NAME).unwrap_or(DEFAULT_MEMBER_ROLE.to_string()),
                    external_id: value(ENV_EXTERNAL_ID),
                },
                accounts,
            })
        } else {
            None
        };
        let change_queue = value(ENV_CHANGE_QUEUE_ARN)
            .map(|arn| ChangeQueue::parse(&arn))
            .transpose()
            .map_err(|error| invalid(ENV_CHANGE_QUEUE_ARN, error))?;
        Ok(Config {
            regions,
            controls,
            cis_version,
            securityhub_region,
            dry_run,
            organization,
            change_queue,
        })
    }
}

/// A comma list of 12-digit account ids.
fn account_ids(list: &str) -> Result<BTreeSet<String>, String> {
    let ids: BTreeSet<String> = list
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            if crate::model::arn::is_account_id(id) {
                Ok(id.to_string())
            } else {
                Err(format!("{id:?} is not an account id (12 digits)"))
            }
        })
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err("no account id given".to_string());
    }
    Ok(ids)
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`), any case.
fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cis_version(value: Option<&str>) -> Result<String, String> {
        Config::from_lookup(|name| match name {
            ENV_CIS_VERSION => value.map(str::to_string),
            _ => None,
        })
        .map(|config| config.cis_version.to_string())
        .map_err(|error| error.to_string())
    }

    #[test]
    fn cis_version_defaults_to_the_newest_and_names_the_known_ones_when_wrong() {
        assert_eq!(cis_version(None), Ok("7.0.0".to_string()));
        assert_eq!(cis_version(Some(" ")), Ok("7.0.0".to_string()));
        assert_eq!(cis_version(Some("v1.4")), Ok("1.4.0".to_string()));
        assert_eq!(cis_version(Some("4.0.1")), Ok("4.0.1".to_string()));
        let error = cis_version(Some("2.1")).unwrap_err();
        assert!(
            error.contains("TRAILWATCH_CIS_VERSION: unknown CIS version \"2.1\"; known: 1.2.0,"),
            "{error}"
        );
    }

    fn organization(vars: &[(&str, &str)]) -> Result<Option<OrgConfig>, String> {
        Config::from_lookup(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
        .map(|config| config.organization)
        .map_err(|error| error.to_string())
    }

    #[test]
    fn the_change_queue_arn_names_the_stacks_account() {
        let queue =
            ChangeQueue::parse("arn:aws:sqs:eu-west-1:111122223333:trailwatch-changes").unwrap();
        assert_eq!(
            (queue.account.as_str(), queue.partition.as_str()),
            ("111122223333", "aws")
        );
        for bad in [
            "arn:aws:sns:eu-west-1:111122223333:topic",
            "arn:aws:sqs:eu-west-1:1111:queue",
            "https://sqs.eu-west-1.amazonaws.com/111122223333/queue",
        ] {
            let error =
                Config::from_lookup(|name| (name == ENV_CHANGE_QUEUE_ARN).then(|| bad.to_string()))
                    .unwrap_err();
            assert!(
                error.to_string().contains(ENV_CHANGE_QUEUE_ARN),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn an_organization_stack_needs_its_queue_and_takes_its_role_and_accounts() {
        assert_eq!(organization(&[]), Ok(None));
        assert_eq!(organization(&[(ENV_ORGANIZATION, "false")]), Ok(None));
        let error = organization(&[(ENV_ORGANIZATION, "true")]).unwrap_err();
        assert!(error.contains("TRAILWATCH_QUEUE_URL: required"), "{error}");
        let queue = "https://sqs.us-east-1.amazonaws.com/111122223333/trailwatch";
        let key = "arn:aws:kms:us-east-1:111122223333:key/5f1c0000-0000-4000-8000-000000000001";
        let error =
            organization(&[(ENV_ORGANIZATION, "true"), (ENV_QUEUE_URL, queue)]).unwrap_err();
        assert!(
            error.contains("TRAILWATCH_MESSAGE_KEY: required"),
            "{error}"
        );
        let config = organization(&[
            (ENV_ORGANIZATION, "TRUE"),
            (ENV_QUEUE_URL, queue),
            (ENV_MESSAGE_KEY, key),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.role.name, DEFAULT_MEMBER_ROLE);
        assert_eq!((config.role.external_id, config.accounts), (None, None));
        let config = organization(&[
            (ENV_ORGANIZATION, "true"),
            (ENV_QUEUE_URL, queue),
            (ENV_MESSAGE_KEY, key),
            (ENV_MEMBER_ROLE_NAME, "audit"),
            (ENV_EXTERNAL_ID, "s3cret"),
            (ENV_ACCOUNTS, "111111111111, 222222222222"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.role.name, "audit");
        assert_eq!(config.role.external_id.as_deref(), Some("s3cret"));
        assert_eq!(config.accounts.unwrap().len(), 2);
        assert_eq!(config.max_receive_count, 1);
        let config = organization(&[
            (ENV_ORGANIZATION, "true"),
            (ENV_QUEUE_URL, queue),
            (ENV_MESSAGE_KEY, key),
            (ENV_MAX_RECEIVE_COUNT, "5"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.max_receive_count, 5);
        assert_eq!(config.max_message_bytes, DEFAULT_MAX_MESSAGE_BYTES);
        let config = organization(&[
            (ENV_ORGANIZATION, "true"),
            (ENV_QUEUE_URL, queue),
            (ENV_MESSAGE_KEY, key),
            (ENV_MAX_MESSAGE_BYTES, "1048576"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.max_message_bytes, 1_048_576);
        let error = organization(&[
            (ENV_ORGANIZATION, "true"),
            (ENV_QUEUE_URL, queue),
            (ENV_MESSAGE_KEY, key),
            (ENV_MAX_MESSAGE_BYTES, "2097152"),
        ])
        .unwrap_err();
        assert!(error.contains("TRAILWATCH_MAX_MESSAGE_BYTES"), "{error}");
        let error = organization(&[
            (ENV_ORGANIZATION, "true"),
            (ENV_QUEUE_URL, queue),
            (ENV_MESSAGE_KEY, key),
            (ENV_MAX_RECEIVE_COUNT, "0"),
        ])
        .unwrap_err();
        assert!(error.contains("TRAILWATCH_MAX_RECEIVE_COUNT"), "{error}");
        let error = organization(&[
            (ENV_ORGANIZATION, "true"),
            (ENV_QUEUE_URL, queue),
            (ENV_MESSAGE_KEY, key),
            (ENV_ACCOUNTS, "1234"),
        ])
        .unwrap_err();
        assert!(error.contains("\"1234\" is not an account id"), "{error}");
        let error = organization(&[(ENV_ORGANIZATION, "maybe")]).unwrap_err();
        assert!(error.contains("TRAILWATCH_ORGANIZATION"), "{error}");
    }
}
