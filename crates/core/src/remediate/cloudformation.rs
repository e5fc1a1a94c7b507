//! A plan as a CloudFormation template (JSON) that creates exactly the missing resources: the
//! log group and delivery role, metric filters, alarms, topic, subscription, topic policy and
//! Security Hub hub the plan's steps create. A stack lives in one account and region, so the
//! template covers one; the steps that change an existing resource (a trail, an alarm's actions,
//! a key policy) have no CloudFormation resource and are listed in the template's `Metadata` with
//! their AWS CLI commands, to run once the stack exists. When the plan subscribes an endpoint,
//! the endpoint and its protocol are parameters (defaulting to `--notify`).
//!
//! Resource types and properties as the CloudFormation reference spells them, e.g.
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudwatch-alarm.html>,
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-logs-metricfilter.html>,
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-sns-subscription.html>.

use super::{cli, delivery_role_policy, delivery_trust_policy, Action, Plan, DELIVERY_POLICY_NAME};
use crate::remediate::simulate::planned_alarm_evaluation;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Why a plan has no template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("no step of the plan creates a resource (nothing to remediate, or only changes to existing resources): use --format cli")]
    NothingToCreate,
    #[error("the plan creates resources in {0}; a stack lives in one account and region: use --format cli, or plan one region at a time (--regions)")]
    SeveralStacks(String),
}

/// The template, pretty-printed JSON.
pub fn render(plan: &Plan) -> Result<String, TemplateError> {
    let creating: Vec<(usize, &super::Step)> = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, step)| creates(&step.action))
        .collect();
    let places: std::collections::BTreeSet<(String, String)> = creating
        .iter()
        .map(|(_, step)| (step.account_id.clone(), step.region.clone()))
        .collect();
    match places.len() {
        0 => return Err(TemplateError::NothingToCreate),
        1 => {}
        _ => {
            let list: Vec<String> = places
                .iter()
                .map(|(account, region)| format!("account {account} {region}"))
                .collect();
            return Err(TemplateError::SeveralStacks(list.join(", ")));
        }
    }
    let mut resources = Map::new();
    let mut parameters = Map::new();
    // What a resource of the template stands for: an ARN or name → its `Ref`.
    let mut refs: BTreeMap<String, Value> = BTreeMap::new();
    for (index, step) in &creating {
        let id = format!("Step{}", index + 1);
        let (logical, resource) = match &step.action {
            Action::CreateLogGroup { log_group } => {
                refs.insert(log_group.clone(), json!({"Ref": format!("{id}LogGroup")}));
                (
                    format!("{id}LogGroup"),
                    json!({"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": log_group}}),
                )
            }
            Action::CreateDeliveryRole {
                role,
                log_group_arn,
            } => (
                format!("{id}DeliveryRole"),
                json!({"Type": "AWS::IAM::Role", "Properties": {
                    "RoleName": role,
                    "AssumeRolePolicyDocument": delivery_trust_policy(),
                    "Policies": [{"PolicyName": DELIVERY_POLICY_NAME, "PolicyDocument": delivery_role_policy(log_group_arn)}],
                }}),
            ),
            Action::PutMetricFilter {
                log_group,
                filter,
                pattern,
                metric_name,
                namespace,
            } => (
                format!("{id}MetricFilter"),
                json!({"Type": "AWS::Logs::MetricFilter", "Properties": {
                    "LogGroupName": refs.get(log_group).cloned().unwrap_or_else(|| json!(log_group)),
                    "FilterName": filter,
                    "FilterPattern": pattern,
                    "MetricTransformations": [{"MetricName": metric_name, "MetricNamespace": namespace, "MetricValue": "1"}],
                }}),
            ),
            Action::CreateTopic { topic, topic_arn } => {
                refs.insert(topic_arn.clone(), json!({"Ref": format!("{id}Topic")}));
                (
                    format!("{id}Topic"),
                    json!({"Type": "AWS::SNS::Topic", "Properties": {"TopicName": topic}}),
                )
            }
            Action::Subscribe {
                topic_arn,
                protocol,
                endpoint,
            } => {
                parameters.insert(
                    "NotifyProtocol".to_string(),
                    json!({"Type": "String", "Default": protocol, "Description": "The protocol of the subscription alarms notify (SNS Subscribe Protocol)."}),
                );
                parameters.insert(
                    "NotifyEndpoint".to_string(),
                    json!({"Type": "String", "Default": endpoint, "Description": "Where alarm notifications go; the endpoint's owner confirms the subscription."}),
                );
                (
                    format!("{id}Subscription"),
                    json!({"Type": "AWS::SNS::Subscription", "Properties": {
                        "TopicArn": refs.get(topic_arn).cloned().unwrap_or_else(|| json!(topic_arn)),
                        "Protocol": {"Ref": "NotifyProtocol"},
                        "Endpoint": {"Ref": "NotifyEndpoint"},
                    }}),
                )
            }
            Action::PutMetricAlarm {
                alarm,
                metric_name,
                namespace,
                topic_arn,
            } => {
                let evaluation = planned_alarm_evaluation();
                (
                    format!("{id}Alarm"),
                    json!({"Type": "AWS::CloudWatch::Alarm", "Properties": {
                        "AlarmName": alarm,
                        "MetricName": metric_name,
                        "Namespace": namespace,
                        "Statistic": evaluation.statistic,
                        "Period": evaluation.period,
                        "EvaluationPeriods": evaluation.evaluation_periods,
                        "DatapointsToAlarm": evaluation.datapoints_to_alarm,
                        "Threshold": evaluation.threshold,
                        "ComparisonOperator": evaluation.comparison_operator,
                        "TreatMissingData": evaluation.treat_missing_data,
                        "ActionsEnabled": true,
                        "AlarmActions": [refs.get(topic_arn).cloned().unwrap_or_else(|| json!(topic_arn))],
                    }}),
                )
            }
            Action::SetTopicPolicy { topic_arn, policy } => (
                format!("{id}TopicPolicy"),
                json!({"Type": "AWS::SNS::TopicPolicy", "Properties": {
                    "Topics": [topic_arn],
                    "PolicyDocument": serde_json::from_str::<Value>(policy).unwrap_or_else(|_| json!(policy)),
                }}),
            ),
            Action::EnableSecurityHub {} => (
                format!("{id}Hub"),
                json!({"Type": "AWS::SecurityHub::Hub", "Properties": {}}),
            ),
            _ => continue,
        };
        let mut resource = resource;
        if let Some(object) = resource.as_object_mut() {
            object.insert(
                "Metadata".to_string(),
                json!({"trailwatch": {"controls": step.controls, "reason": step.reason}}),
            );
        }
        resources.insert(logical, resource);
    }
    let (account, region) = places.into_iter().next().unwrap_or_default();
    let outside: Vec<Value> = plan
        .steps
        .iter()
        .enumerate()
        .filter(|(_, step)| !creates(&step.action))
        .map(|(index, step)| {
            json!({
                "step": index + 1,
                "account": step.account_id,
                "region": step.region,
                "controls": step.controls,
                "what": step.action.to_string(),
                "commands": cli::commands(step),
            })
        })
        .collect();
    let mut template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("trailwatch remediation for account {account} in {region}: the resources the plan creates (nothing is deleted or replaced)"),
        "Resources": resources,
    });
    if !parameters.is_empty() {
        template["Parameters"] = Value::Object(parameters);
    }
    if !outside.is_empty() {
        template["Metadata"] = json!({"trailwatch": {"stepsOutsideTemplate": outside}});
    }
    Ok(serde_json::to_string_pretty(&template).unwrap_or_default() + "\n")
}

/// Whether the action creates a resource CloudFormation can manage.
fn creates(action: &Action) -> bool {
    matches!(
        action,
        Action::CreateLogGroup { .. }
            | Action::CreateDeliveryRole { .. }
            | Action::PutMetricFilter { .. }
            | Action::CreateTopic { .. }
            | Action::Subscribe { .. }
            | Action::PutMetricAlarm { .. }
            | Action::SetTopicPolicy { .. }
            | Action::EnableSecurityHub {}
    )
}
