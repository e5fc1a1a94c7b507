//! A plan as a bash script of AWS CLI commands: every value filled in and shell-quoted (names
//! come from the account), in the plan's order, `set -euo pipefail`.
//!
//! Each account's steps sit in a block that runs only under that account's credentials (`aws sts
//! get-caller-identity`), so an organization's plan is run once per account it names. Command
//! and parameter names as the AWS CLI reference spells them, e.g.
//! <https://docs.aws.amazon.com/cli/latest/reference/cloudwatch/put-metric-alarm.html>,
//! <https://docs.aws.amazon.com/cli/latest/reference/logs/put-metric-filter.html>,
//! <https://docs.aws.amazon.com/cli/latest/reference/cloudtrail/update-trail.html>,
//! <https://docs.aws.amazon.com/cli/latest/reference/cloudtrail/put-event-selectors.html>,
//! <https://docs.aws.amazon.com/cli/latest/reference/sns/subscribe.html>,
//! <https://docs.aws.amazon.com/cli/latest/reference/sns/set-topic-attributes.html>,
//! <https://docs.aws.amazon.com/cli/latest/reference/kms/put-key-policy.html>.

use super::{
    advanced_selectors_json, classic_selector_json, delivery_role_policy, delivery_trust_policy,
    Action, Plan, Step, DELIVERY_POLICY_NAME,
};
use crate::remediate::simulate::planned_alarm_evaluation;
use serde_json::json;

/// The plan as a script.
pub fn render(plan: &Plan) -> String {
    let mut script = String::from("#!/usr/bin/env bash\n");
    script.push_str(&format!(
        "# trailwatch remediation plan: {} step(s). Each account's steps run only with that account's credentials;\n# run the script once per account named below. Nothing is deleted or replaced.\nset -euo pipefail\n",
        plan.steps.len()
    ));
    if plan.steps.is_empty() {
        script.push_str("echo 'trailwatch: nothing to remediate' >&2\n");
        return script;
    }
    // The AWS CLI v1 reads AWS_DEFAULT_REGION, not AWS_REGION: every command names its region.
    script.push_str(&format!(
        "caller_account=$(aws sts get-caller-identity --region {} --query Account --output text)\n",
        quote(&plan.steps[0].region)
    ));
    let mut accounts: Vec<&str> = Vec::new();
    for step in &plan.steps {
        if !accounts.contains(&step.account_id.as_str()) {
            accounts.push(&step.account_id);
        }
    }
    for account in accounts {
        script.push_str(&format!(
            "\nif [ \"$caller_account\" = {account} ]; then\n",
            account = quote(account)
        ));
        for (number, step) in plan.steps.iter().enumerate() {
            if step.account_id == account {
                script.push_str(&render_step(number + 1, step));
            }
        }
        script.push_str(&format!(
            "else\n  echo {} >&2\nfi\n",
            quote(&format!(
                "trailwatch: skipping the steps of account {account} (these credentials are for another account)"
            ))
        ));
    }
    script
}

fn render_step(number: usize, step: &Step) -> String {
    let mut text = format!(
        "  # Step {number} — {} ({}, {}): {}\n",
        step.controls.join(", "),
        step.account_id,
        step.region,
        one_line(&step.reason)
    );
    for command in commands(step) {
        text.push_str("  ");
        text.push_str(&command);
        text.push('\n');
    }
    text
}

/// The step's commands, each one line.
pub fn commands(step: &Step) -> Vec<String> {
    let region = &step.region;
    let aws = |service: &str, operation: &str, args: &[(&str, Option<&str>)]| {
        let mut line = format!("aws {service} {operation} --region {}", quote(region));
        for (flag, value) in args {
            line.push_str(&format!(" --{flag}"));
            if let Some(value) = value {
                line.push(' ');
                line.push_str(&quote(value));
            }
        }
        line
    };
    match &step.action {
        Action::MakeTrailMultiRegion { trail } => vec![aws(
            "cloudtrail",
            "update-trail",
            &[("name", Some(trail)), ("is-multi-region-trail", None)],
        )],
        Action::StartLogging { trail } => {
            vec![aws("cloudtrail", "start-logging", &[("name", Some(trail))])]
        }
        Action::AddManagementEventSelector { trail, selectors } => {
            let selectors = advanced_selectors_json(selectors).to_string();
            vec![aws(
                "cloudtrail",
                "put-event-selectors",
                &[
                    ("trail-name", Some(trail)),
                    ("advanced-event-selectors", Some(&selectors)),
                ],
            )]
        }
        Action::PutManagementEventSelector { trail, selector } => {
            let selectors = json!([classic_selector_json(selector)]).to_string();
            vec![aws(
                "cloudtrail",
                "put-event-selectors",
                &[
                    ("trail-name", Some(trail)),
                    ("event-selectors", Some(&selectors)),
                ],
            )]
        }
        Action::CreateLogGroup { log_group } => vec![aws(
            "logs",
            "create-log-group",
            &[("log-group-name", Some(log_group))],
        )],
        Action::CreateDeliveryRole {
            role,
            log_group_arn,
        } => {
            let trust = delivery_trust_policy().to_string();
            let permissions = delivery_role_policy(log_group_arn).to_string();
            vec![
                aws(
                    "iam",
                    "create-role",
                    &[
                        ("role-name", Some(role)),
                        ("assume-role-policy-document", Some(&trust)),
                    ],
                ),
                aws(
                    "iam",
                    "put-role-policy",
                    &[
                        ("role-name", Some(role)),
                        ("policy-name", Some(DELIVERY_POLICY_NAME)),
                        ("policy-document", Some(&permissions)),
                    ],
                ),
            ]
        }
        Action::SendTrailToLogs {
            trail,
            log_group_arn,
            role_arn,
        } => vec![aws(
            "cloudtrail",
            "update-trail",
            &[
                ("name", Some(trail)),
                ("cloud-watch-logs-log-group-arn", Some(log_group_arn)),
                ("cloud-watch-logs-role-arn", Some(role_arn)),
            ],
        )],
        Action::PutMetricFilter {
            log_group,
            filter,
            pattern,
            metric_name,
            namespace,
        } => {
            let transformations = json!([{
                "metricName": metric_name,
                "metricNamespace": namespace,
                "metricValue": "1",
            }])
            .to_string();
            vec![aws(
                "logs",
                "put-metric-filter",
                &[
                    ("log-group-name", Some(log_group)),
                    ("filter-name", Some(filter)),
                    ("filter-pattern", Some(pattern)),
                    ("metric-transformations", Some(&transformations)),
                ],
            )]
        }
        Action::PutMetricAlarm {
            alarm,
            metric_name,
            namespace,
            topic_arn,
        } => {
            let evaluation = planned_alarm_evaluation();
            let number = |n: Option<i32>| n.unwrap_or(1).to_string();
            let (period, periods, datapoints) = (
                number(evaluation.period),
                number(evaluation.evaluation_periods),
                number(evaluation.datapoints_to_alarm),
            );
            let threshold = evaluation.threshold.unwrap_or(1.0).to_string();
            vec![aws(
                "cloudwatch",
                "put-metric-alarm",
                &[
                    ("alarm-name", Some(alarm)),
                    ("metric-name", Some(metric_name)),
                    ("namespace", Some(namespace)),
                    ("statistic", evaluation.statistic.as_deref()),
                    ("period", Some(&period)),
                    ("evaluation-periods", Some(&periods)),
                    ("datapoints-to-alarm", Some(&datapoints)),
                    ("threshold", Some(&threshold)),
                    (
                        "comparison-operator",
                        evaluation.comparison_operator.as_deref(),
                    ),
                    (
                        "treat-missing-data",
                        evaluation.treat_missing_data.as_deref(),
                    ),
                    ("actions-enabled", None),
                    ("alarm-actions", Some(topic_arn)),
                ],
            )]
        }
        Action::EnableAlarmActions { alarm } => vec![aws(
            "cloudwatch",
            "enable-alarm-actions",
            &[("alarm-names", Some(alarm))],
        )],
        Action::CreateTopic { topic, .. } => {
            vec![aws("sns", "create-topic", &[("name", Some(topic))])]
        }
        Action::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => vec![aws(
            "sns",
            "subscribe",
            &[
                ("topic-arn", Some(topic_arn)),
                ("protocol", Some(protocol)),
                ("notification-endpoint", Some(endpoint)),
            ],
        )],
        Action::SetTopicPolicy { topic_arn, policy } => vec![aws(
            "sns",
            "set-topic-attributes",
            &[
                ("topic-arn", Some(topic_arn)),
                ("attribute-name", Some("Policy")),
                ("attribute-value", Some(policy)),
            ],
        )],
        Action::PutKeyPolicy { key_arn, policy } => vec![aws(
            "kms",
            "put-key-policy",
            &[
                ("key-id", Some(key_arn)),
                ("policy-name", Some("default")),
                ("policy", Some(policy)),
            ],
        )],
        Action::EnableSecurityHub {} => vec![aws("securityhub", "enable-security-hub", &[])],
        Action::Manual { .. } => vec![format!(
            "echo {} >&2",
            quote(&format!(
                "trailwatch: {}",
                one_line(&step.action.to_string())
            ))
        )],
    }
}

/// A word the shell takes literally: unquoted when it holds only characters the shell never
/// interprets, otherwise in single quotes (a `'` inside written `'\''`).
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@,+=%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Text for a `#` comment: newlines would end it.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}
