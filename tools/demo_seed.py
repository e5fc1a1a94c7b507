"""Seeds the demo account on the local emulator: some CIS monitoring controls pass, some fail.

Usage: demo_seed.py ENDPOINT_URL

Everything is created through the AWS APIs (boto3, which moto brings), exactly as a user would:

* trail `audit` (multi-Region, logging, all management events) → log group `CloudTrail/audit`,
  delivered 20 minutes ago (emulator tag, see tools/moto_wrapper.py);
* trail `legacy-eu` (single-Region, eu-west-1) with no CloudWatch Logs: CIS 3.4 fails for it;
* CIS 4.5 CloudTrail changes: the CIS filter respaced and reordered, alarm, topic with a confirmed
  e-mail subscription → PASSED;
* CIS 4.7 KMS: `&&` typed for `||` between DisableKey and ScheduleKeyDeletion → FAILED, with an
  event the filter misses;
* CIS 4.9 AWS Config: a wildcard filter, alarm, topic whose only subscription awaits
  confirmation → FAILED;
* CIS 4.11 NACL: the CIS filter, but the alarm watches the metric in the wrong namespace → FAILED.
"""

import sys
import time

import boto3

ENDPOINT = sys.argv[1]
REGION = "us-east-1"
NAMESPACE = "CISBenchmark"


def client(service, region=REGION):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=ENDPOINT,
        aws_access_key_id="demo",
        aws_secret_access_key="demo",
    )


logs = client("logs")
cloudtrail = client("cloudtrail")
cloudwatch = client("cloudwatch")
sns = client("sns")
s3 = client("s3")
iam = client("iam")
securityhub = client("securityhub")

account = client("sts").get_caller_identity()["Account"]
securityhub.enable_security_hub()

s3.create_bucket(Bucket="demo-cloudtrail-logs")
s3.create_bucket(
    Bucket="demo-cloudtrail-logs-eu",
    CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
)
role = iam.create_role(
    RoleName="CloudTrailToCloudWatchLogs",
    AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
    '"Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
)["Role"]["Arn"]
logs.create_log_group(logGroupName="CloudTrail/audit")
log_group_arn = f"arn:aws:logs:{REGION}:{account}:log-group:CloudTrail/audit:*"

cloudtrail.create_trail(
    Name="audit",
    S3BucketName="demo-cloudtrail-logs",
    IsMultiRegionTrail=True,
    CloudWatchLogsLogGroupArn=log_group_arn,
    CloudWatchLogsRoleArn=role,
    TagsList=[
        {"Key": "trailwatch-test:latest-cw-delivery", "Value": str(int(time.time()) - 1200)}
    ],
)
cloudtrail.start_logging(Name="audit")
client("cloudtrail", "eu-west-1").create_trail(
    Name="legacy-eu", S3BucketName="demo-cloudtrail-logs-eu"
)
client("cloudtrail", "eu-west-1").start_logging(Name="legacy-eu")


def topic(name, endpoint):
    arn = sns.create_topic(Name=name)["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=endpoint)
    return arn


alerts = topic("sec-alerts", "secops@example.com")
unconfirmed = topic("config-alerts", "pending-config-team@example.com")


def chain(name, pattern, topic_arn, alarm_namespace=NAMESPACE):
    logs.put_metric_filter(
        logGroupName="CloudTrail/audit",
        filterName=name,
        filterPattern=pattern,
        metricTransformations=[
            {"metricName": name, "metricNamespace": NAMESPACE, "metricValue": "1"}
        ],
    )
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        MetricName=name,
        Namespace=alarm_namespace,
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic_arn],
    )


chain(
    "cloudtrail-changes",
    "{($.eventName=StopLogging)||($.eventName=StartLogging)||($.eventName=CreateTrail)"
    "||($.eventName=UpdateTrail)||($.eventName=DeleteTrail)}",
    alerts,
)
chain(
    "kms-key-changes",
    "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) && "
    "($.eventName = ScheduleKeyDeletion)) }",
    alerts,
)
chain(
    "config-changes",
    "{ $.eventSource = config.amazonaws.com && ($.eventName = Stop* || $.eventName = Delete* "
    "|| $.eventName = Put*) }",
    unconfirmed,
)
chain(
    "nacl-changes",
    "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || "
    "($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || "
    "($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    alerts,
    alarm_namespace="LogMetrics",
)
print(f"demo: seeded account {account} (trails audit and legacy-eu, four CIS chains)")
