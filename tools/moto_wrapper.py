"""moto's AWS emulator for trailwatch's tests, with the few behaviours stock moto 5.2.5 lacks.

Usage: moto_wrapper.py PORT   (binds 127.0.0.1:PORT; the Rust harness in tests/emulator/support starts it)

The server exits when its standard input reaches end of file, so a test process that dies (or
whose harness lives in a static that is never dropped) takes its server with it.

Every patch below is a measured gap between moto 5.2.5 and AWS that trailwatch's collectors read,
except two that change only moto's speed at scale, not what it answers: requests find their
account and session policy by access key (an index, not a scan of every account), and an SQS
queue's attributes are computed when read (not on every message sent or received).
Test-only controls are spelled so that no real account would carry them by accident:

* Trail tag ``trailwatch-test:latest-cw-delivery`` = epoch seconds: GetTrailStatus answers
  ``LatestCloudWatchLogsDeliveryTime`` with it. Without the tag there is no delivery time (the honest
  default: a test that wants "delivered recently" says so). Tag
  ``trailwatch-test:latest-cw-delivery-error`` = text answers ``LatestCloudWatchLogsDeliveryError``.
  Tag ``trailwatch-test:throttle`` = N makes the trail's first N GetTrailStatus calls fail with
  ThrottlingException (to exercise the SDK's retries).
* An SNS subscription whose endpoint contains ``pending`` is listed with SubscriptionArn
  ``PendingConfirmation`` (stock moto reports every subscription as confirmed).
* The Deny statements of an AssumeRole session policy (the ``Policy`` parameter) are enforced:
  credentials assumed with ``{"Effect": "Deny", "Action": "cloudwatch:DescribeAlarms", …}`` get
  AccessDenied for that call, as in AWS. (moto's full IAM enforcement is global to the server and
  would need IAM users in every test's account.)
* Calls to a region that ListRegions reports DISABLED (af-south-1, ap-east-1, me-south-1) fail with
  UnrecognizedClientException, as AWS answers for an opt-in region the account has not enabled.
* Security Hub fault injection: BatchImportFindings reports a finding whose ``Id`` contains
  ``trailwatch-test-reject-<N>`` in ``FailedFindings`` (ErrorCode ``InvalidInput``) the first N
  times it is sent, then takes it. Finding ids carry resource ARNs, so a trail named e.g.
  ``audit-trailwatch-test-reject-99`` makes its CIS 3.4 finding fail (stock moto only rejects a
  finding without Resources, which trailwatch never sends).
* Security Hub GetFindings token cycle: in an account that holds a finding whose ``Id`` contains
  ``trailwatch-test-token-cycle``, the last page of GetFindings answers, instead of no NextToken,
  the token of the second page again. With two pages that is the request's own token (a repeat the
  SDK's paginator stops on); with three or more it is an earlier one, a cycle a client that only
  compares a token with the one it sent follows forever. Only a request that carries a NextToken
  is changed, so the first page (and a one-page account) is answered as stock moto answers it.
* Security Hub GetFindings applies its string ``Filters`` (EQUALS, PREFIX, CONTAINS and their
  negations) on the finding's top-level string fields (Id, AwsAccountId, ProductArn, GeneratorId,
  RecordState, …) before paging, as AWS does; stock moto ignores every filter.
* CloudWatch over Smithy RPC v2 CBOR, the protocol aws-sdk-cloudwatch speaks since 1.100: stock
  moto serves CloudWatch only as awsQuery and awsJson1_0 on ``POST /``. A request to
  ``/service/GraniteServiceVersion20100801/operation/<Op>`` with ``smithy-protocol: rpc-v2-cbor``
  is decoded, replayed to moto (in process) as awsJson1_0, and its answer re-encoded as CBOR —
  timestamps as tag 1, errors as a map with ``__type`` and ``message`` plus moto's
  ``x-amzn-query-error`` — all guided by botocore's CloudWatch model through botocore's own CBOR
  and JSON codecs (no CBOR library of our own). The server's access log shows these requests on
  their CBOR route.
* CloudWatch composite alarms: PutCompositeAlarm (stock moto has none); DescribeAlarms honours
  ``AlarmTypes`` and, as AWS, answers only metric alarms when it is omitted (stock moto answers
  every kind, always); DeleteAlarms removes composite alarms too (stock behaviour).
* PutMetricAlarm and PutCompositeAlarm refuse an SNS action in another region than the alarm's,
  with AWS's ValidationError "Invalid region … specified" (stock moto stores it).
* Organizations account tag ``trailwatch-test:state`` = PENDING_ACTIVATION, ACTIVE, SUSPENDED,
  PENDING_CLOSURE or CLOSED (TagResource on the account id, by the management account) sets the
  account's ``State``, and the ``Status`` AWS answers beside it, in DescribeAccount, ListAccounts
  and ListAccountsForParent; it also decides whether the account sees the organization's trails
  and can be AssumeRole'd into (PENDING_CLOSURE accounts still work; the others do not). Without
  it accounts are ACTIVE, and CloseAccount makes them CLOSED (Status SUSPENDED) at once; the tag
  wins while it is set, so tag PENDING_CLOSURE, CloseAccount, untag walks an account through.
* Organizations account tag ``trailwatch-test:throttle-assume-role`` (any value): every AssumeRole
  into the account is answered Throttling, for retry paths.
* Organizations account tag ``trailwatch-test:deny-assume-role`` = role names (space- or
  comma-separated; ``*`` for every role): AssumeRole into those roles of that account is denied
  (AccessDenied), for cases that are not about trust policies.
* STS AssumeRole is answered as AWS does (the role must exist and its trust policy allow the
  caller, ExternalId conditions included; see "STS trust" below), except for the Rust harness's
  bootstrap role ``arn:aws:iam::<id>:role/trailwatch-test``, which needs no role and no trust.
* Organization trails: a member of an organization sees the management account's organization
  trails in DescribeTrails (shadow trails included, the default) with the owner's ARN and
  settings, and reads GetTrailStatus by that ARN (the trail tags above apply); GetEventSelectors
  by that ARN is refused (TrailNotFoundException), as AWS is reported to refuse it;
  only the management account may create one. ListAccounts pages at 20 and, like DescribeAccount,
  answers only the management account (and delegated administrators).

``tools/test_moto_wrapper.py`` checks the CloudWatch patches over awsJson1_0 (boto3), awsQuery and
CBOR, and the Organizations, organization-trail and STS-trust patches with boto3; scripts/test.sh
runs it.

Filter-pattern matching is deliberately not emulated: deciding coverage is trailwatch's job.
"""

import datetime
import fnmatch
import gzip
import io
import json
import os
import re
import sys
import threading
import traceback

from botocore.model import OperationNotFoundError
from botocore.parsers import JSONParser, RpcV2CBORParser
from botocore.serialize import JSONSerializer, RpcV2CBORSerializer
from botocore.utils import parse_timestamp
from werkzeug.http import HTTP_STATUS_CODES
from moto.account.responses import AccountResponse
from moto.account import urls as account_urls
from moto.cloudtrail import models as cloudtrail_models
from moto.cloudtrail.responses import CloudTrailResponse
from moto.cloudwatch.responses import CloudWatchResponse
from moto.logs.exceptions import ResourceNotFoundException as LogsResourceNotFound
from moto.logs.responses import LogsResponse
from moto.securityhub import models as securityhub_models
from moto.sns.responses import SNSResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.core.utils import get_service_model
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sts.models import sts_backends

DELIVERY_TAG = "trailwatch-test:latest-cw-delivery"
DELIVERY_ERROR_TAG = "trailwatch-test:latest-cw-delivery-error"
THROTTLE_TAG = "trailwatch-test:throttle"
_throttled = {}  # trail name or ARN as asked -> GetTrailStatus calls throttled so far
_throttled_lock = threading.Lock()


class Throttling(ServiceException):
    code = "ThrottlingException"
    message = "Rate exceeded"


# --- CloudTrail -------------------------------------------------------------------------------


def _trail_tags(backend, name):
    """Tags of the trail named `name` (name or ARN), looked up in its home region's backend."""
    for trail in backend.describe_trails(include_shadow_trails=True):
        if name in (trail.trail_name, trail.arn):
            home = cloudtrail_models.cloudtrail_backends[trail.account_id][trail.region_name]
            tags = home.tagging_service.list_tags_for_resource(trail.arn)["TagsList"]
            return {tag["Key"]: tag["Value"] for tag in tags}
    return {}


_stock_get_trail_status = CloudTrailResponse.get_trail_status


def get_trail_status(self):
    # Stock moto never reports LatestCloudWatchLogsDeliveryTime (nor …Error): tests set them with
    # trail tags. The throttle tag is fault injection: the first N calls are throttled.
    name = self._get_param("Name")
    tags = _trail_tags(self.cloudtrail_backend, name)
    if THROTTLE_TAG in tags:
        with _throttled_lock:
            done = _throttled.get(name, 0)
            _throttled[name] = done + 1
        if done < int(tags[THROTTLE_TAG]):
            raise Throttling()
    answer = json.loads(_stock_get_trail_status(self))
    if DELIVERY_TAG in tags:
        answer["LatestCloudWatchLogsDeliveryTime"] = int(tags[DELIVERY_TAG])
    if DELIVERY_ERROR_TAG in tags:
        answer["LatestCloudWatchLogsDeliveryError"] = tags[DELIVERY_ERROR_TAG]
    return json.dumps(answer)


CloudTrailResponse.get_trail_status = get_trail_status


def get_event_selectors(self):
    # AWS gives a trail that never had selectors put the default one (all management events,
    # read and write); stock moto answers none.
    answer = json.loads(_stock_get_event_selectors(self))
    if not answer.get("EventSelectors") and not answer.get("AdvancedEventSelectors"):
        answer["EventSelectors"] = [
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [],
                "ExcludeManagementEventSources": [],
            }
        ]
    # AWS answers only the kind the trail uses; stock moto returns both keys, one empty.
    answer = {key: value for key, value in answer.items() if value}
    return json.dumps(answer)


_stock_get_event_selectors = CloudTrailResponse.get_event_selectors
CloudTrailResponse.get_event_selectors = get_event_selectors


def put_event_selectors(self, event_selectors, advanced_event_selectors):
    # AWS replaces a trail's selectors of either kind; stock moto keeps old advanced selectors
    # when classic ones are put.
    self.event_selectors = event_selectors or []
    self.advanced_event_selectors = advanced_event_selectors or []


cloudtrail_models.Trail.put_event_selectors = put_event_selectors


def check_bucket_exists(self):
    # CreateTrail needs an existing S3 bucket in AWS and in moto. trailwatch never reads the
    # bucket, and creating one would make the Rust tests link aws-sdk-s3 for nothing: accept any.
    pass


cloudtrail_models.Trail.check_bucket_exists = check_bucket_exists


# --- CloudWatch Logs --------------------------------------------------------------------------


def describe_metric_filters(self):
    # Stock moto returns every filter at once and echoes the request's nextToken back (a client
    # that sends one would loop forever). AWS pages at `limit` (default and max 50).
    # Stock moto also answers an empty list for a log group that does not exist, where AWS
    # answers ResourceNotFoundException.
    group = self._get_param("logGroupName")
    if group is not None and group not in self.logs_backend.groups:
        raise LogsResourceNotFound()
    answer = json.loads(_stock_describe_metric_filters(self))
    start = int(self._get_param("nextToken") or 0)
    limit = int(self._get_param("limit") or 50)
    filters = answer["metricFilters"]
    page = {"metricFilters": filters[start : start + limit]}
    if start + limit < len(filters):
        page["nextToken"] = str(start + limit)
    return json.dumps(page)


_stock_describe_metric_filters = LogsResponse.describe_metric_filters
LogsResponse.describe_metric_filters = describe_metric_filters


# --- SNS --------------------------------------------------------------------------------------


def list_subscriptions_by_topic(self):
    # Stock moto reports every subscription confirmed; AWS lists an unconfirmed one with
    # SubscriptionArn "PendingConfirmation". Endpoints containing "pending" stay unconfirmed.
    subscriptions, next_token = self.backend.list_subscriptions_by_topic(
        self._get_param("TopicArn"), next_token=self._get_param("NextToken")
    )
    listed = [
        {
            "SubscriptionArn": "PendingConfirmation" if "pending" in sub.endpoint else sub.arn,
            "Owner": sub.owner,
            "Protocol": sub.protocol,
            "Endpoint": sub.endpoint,
            "TopicArn": sub.topic_arn,
        }
        for sub in subscriptions
    ]
    return ActionResult({"Subscriptions": listed, "NextToken": next_token})


SNSResponse.list_subscriptions_by_topic = list_subscriptions_by_topic


# --- Security Hub -----------------------------------------------------------------------------

REJECT_MARKER = re.compile(r"trailwatch-test-reject-(\d+)")
_rejections = {}  # finding Id -> times rejected so far
_rejections_lock = threading.Lock()


def _to_reject(finding):
    """Whether this import of `finding` is one of the first N its Id asks to be rejected."""
    finding_id = finding.get("Id", "") if isinstance(finding, dict) else ""
    marker = REJECT_MARKER.search(finding_id)
    if not marker:
        return False
    with _rejections_lock:
        done = _rejections.get(finding_id, 0)
        if done >= int(marker.group(1)):
            return False
        _rejections[finding_id] = done + 1
        return True


def batch_import_findings(self, findings):
    # Fault injection for FailedFindings (see the module's docstring).
    rejected = [finding for finding in findings if _to_reject(finding)]
    accepted = [finding for finding in findings if not any(finding is r for r in rejected)]
    failed_count, success_count, failed = _stock_batch_import_findings(self, accepted)
    failed = failed + [
        {
            "Id": finding["Id"],
            "ErrorCode": "InvalidInput",
            "ErrorMessage": "rejected by the test emulator (trailwatch-test-reject-N in the Id)",
        }
        for finding in rejected
    ]
    return failed_count + len(rejected), success_count, failed


_stock_batch_import_findings = securityhub_models.SecurityHubBackend.batch_import_findings
securityhub_models.SecurityHubBackend.batch_import_findings = batch_import_findings


# --- Security Hub: GetFindings string filters ------------------------------------------------
#
# Stock moto ignores GetFindings' Filters ("Filters and SortCriteria is not yet implemented") and
# pages through every finding of the account. AWS applies them: a StringFilter "EQUALS" matches
# the value exactly, "PREFIX" a value that starts with it, "CONTAINS" one that contains it, and
# their negations "NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS"; "Filters using EQUALS, PREFIX
# and CONTAINS on the same field are joined by OR … Filters using NOT_EQUALS, PREFIX_NOT_EQUALS
# and NOT_CONTAINS on the same field are joined by AND", and filters on different fields by AND
# (API reference, "StringFilter",
# https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_StringFilter.html). Here every
# string filter on a top-level string field of the finding (Id, AwsAccountId, ProductArn,
# GeneratorId, RecordState, …) is applied before paging, so a read by Id costs one page however
# many findings the account holds. A filter on any other field (e.g. ResourceId, which AWS maps
# into Resources) is not applied (logged), as stock moto applies none.

_POSITIVE = {
    "EQUALS": lambda value, wanted: value == wanted,
    "PREFIX": lambda value, wanted: value.startswith(wanted),
    "CONTAINS": lambda value, wanted: wanted in value,
}
_NEGATIVE = {
    "NOT_EQUALS": lambda value, wanted: value != wanted,
    "PREFIX_NOT_EQUALS": lambda value, wanted: not value.startswith(wanted),
    "NOT_CONTAINS": lambda value, wanted: wanted not in value,
}


def _passes_string_filters(data, filters):
    for field, conditions in (filters or {}).items():
        if not isinstance(conditions, list) or not all(
            isinstance(c, dict) and "Value" in c and "Comparison" in c for c in conditions
        ):
            continue
        value = data.get(field)
        if not isinstance(value, str):
            continue
        positive = [c for c in conditions if c["Comparison"] in _POSITIVE]
        negative = [c for c in conditions if c["Comparison"] in _NEGATIVE]
        if positive and not any(_POSITIVE[c["Comparison"]](value, c["Value"]) for c in positive):
            return False
        if not all(_NEGATIVE[c["Comparison"]](value, c["Value"]) for c in negative):
            return False
    return True


_stock_backend_get_findings = securityhub_models.SecurityHubBackend.get_findings


@securityhub_models.paginate(pagination_model=securityhub_models.SecurityHubBackend.PAGINATION_MODEL)
def get_findings(self, filters=None, sort_criteria=None, max_results=None):
    # The stock method's checks of MaxResults, on its first page (its own paging is not used).
    _stock_backend_get_findings(self, max_results=max_results)
    unapplied = sorted(
        field
        for field in (filters or {})
        if not any(isinstance(f.data.get(field), str) for f in self.findings)
    )
    if unapplied and self.findings:
        print(f"GetFindings: filters not applied: {unapplied}", file=sys.stderr)
    return [f.as_dict() for f in self.findings if _passes_string_filters(f.data, filters)]


securityhub_models.SecurityHubBackend.get_findings = get_findings


# --- Security Hub: GetFindings token cycle (fault injection, see the module's docstring) -------

from moto.securityhub.responses import SecurityHubResponse  # noqa: E402 (kept with its patch)

TOKEN_CYCLE_MARKER = "trailwatch-test-token-cycle"


def get_findings(self):
    answer = json.loads(_stock_get_findings(self))
    backend = self.securityhub_backend
    last_page_of_several = self._get_param("NextToken") and not answer.get("NextToken")
    if last_page_of_several and any(TOKEN_CYCLE_MARKER in finding.id for finding in backend.findings):
        # The token stock moto gives the first page of the same request: the second page's.
        _, second_page_token = backend.get_findings(
            filters=self._get_param("Filters"),
            sort_criteria=self._get_param("SortCriteria"),
            max_results=self._get_param("MaxResults"),
            next_token=None,
        )
        answer["NextToken"] = second_page_token
    return json.dumps(answer)


_stock_get_findings = SecurityHubResponse.get_findings
SecurityHubResponse.get_findings = get_findings


# --- SQS at depth ----------------------------------------------------------------------------
#
# Scale, not behaviour: stock moto builds a queue's whole attribute map (Queue.attributes) on every
# SendMessage (to read ContentBasedDeduplication) and up to three times for every message
# ReceiveMessage returns (its retention-period check asks GetQueueAttributes for one name), and the
# whole map includes ApproximateNumberOfMessages, …Delayed and …NotVisible: three passes over every
# message in the queue. Each message sent or received cost time in proportion to the queue's
# depth (a queue filled to n messages, n² in all), so the coordinator bench at 10,000 accounts
# measured moto, not trailwatch (py-spy: 94% of the wrapper's time in Queue.attributes). Here the
# map is computed when read, one attribute at a time: the same names and values as stock moto's
# (bools as "true"/"false", RedrivePolicy as JSON), each count taken only when it is asked for.
# (moto's /moto-api/data.json no longer lists queue attributes; nothing here reads it.)
from collections.abc import Mapping  # noqa: E402 (kept with its patch)

from moto.core.utils import camelcase_to_underscores  # noqa: E402
from moto.sqs import models as sqs_models  # noqa: E402


class QueueAttributes(Mapping):
    """A queue's attributes as stock moto's Queue.attributes answers them, each read on access."""

    def __init__(self, queue):
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:
            names += queue.KMS_ATTRIBUTES
        self._names = dict.fromkeys(names)

    def __getitem__(self, name):
        if name not in self._names:
            raise KeyError(name)
        queue = self._queue
        if name == "RedrivePolicy" and queue.redrive_policy:
            return json.dumps(queue.redrive_policy)
        value = getattr(queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __contains__(self, name):
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)


sqs_models.Queue.attributes = property(QueueAttributes)


# --- Session policies -------------------------------------------------------------------------


class AccessDeniedByPolicy(ServiceException):
    code = "AccessDenied"


# Scale, not behaviour: moto finds each request's account by scanning every account's IAM access
# keys (moto.iam.models.get_account_id_from), and the session-policy check below would scan every
# account's assumed roles: O(accounts) per request, so a bench of a 1,000-account organization
# measured the emulator rather than trailwatch. Both are indexed by access key here (keys are
# unique, and a cached account is checked to still hold the key before it is trusted).
from moto.iam import models as iam_models
from moto.sts import models as sts_models

_ASSUMED_BY_KEY = {}


def _indexing_assumed_roles(method):
    def assume(self, *args, **kwargs):
        role = method(self, *args, **kwargs)
        _ASSUMED_BY_KEY[role.access_key_id] = role
        return role

    return assume


for _name in ("assume_role", "assume_role_with_saml"):  # web identity calls assume_role
    setattr(sts_models.STSBackend, _name,
            _indexing_assumed_roles(getattr(sts_models.STSBackend, _name)))

_stock_get_account_id_from = iam_models.get_account_id_from
_ACCOUNT_BY_KEY = {}


def get_account_id_from(access_key):
    account_id = _ACCOUNT_BY_KEY.get(access_key)
    if account_id is not None and any(
        access_key in iam_models.iam_backends[account_id][partition].access_keys
        for partition in iam_models.PARTITION_NAMES
    ):
        return account_id
    account_id = _stock_get_account_id_from(access_key)
    if account_id != iam_models.DEFAULT_ACCOUNT_ID:
        _ACCOUNT_BY_KEY[access_key] = account_id
    return account_id


iam_models.get_account_id_from = get_account_id_from


def _denied_action(response):
    """`service:Action` if the request's credentials come from an AssumeRole whose session policy
    denies it, else None."""
    access_key = response.get_access_key()
    action = f"{response.service_name}:{response._get_action()}"
    role = _ASSUMED_BY_KEY.get(access_key)
    if role is None or not role.policy:
        return None
    statements = json.loads(role.policy).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        if statement.get("Effect") == "Deny" and any(
            fnmatch.fnmatch(action.lower(), pattern.lower()) for pattern in actions
        ):
            return action, role
    return None


_stock_call_action = BaseResponse.call_action


class UnrecognizedClient(ServiceException):
    code = "UnrecognizedClientException"


def call_action(self):
    # Stock moto serves every region name; AWS rejects the credentials in a disabled region.
    if self.region in DISABLED_REGIONS:
        return self.serialized(
            ActionResult(UnrecognizedClient("The security token included in the request is invalid."))
        )
    # Stock moto ignores session policies unless IAM enforcement is on for the whole server.
    denied = _denied_action(self)
    if denied:
        action, role = denied
        return self.serialized(
            ActionResult(
                AccessDeniedByPolicy(
                    f"User: {role.arn} is not authorized to perform: {action} "
                    "with an explicit deny in a session policy"
                )
            )
        )
    return _stock_call_action(self)


BaseResponse.call_action = call_action


# --- CloudWatch: composite alarms -------------------------------------------------------------


def put_composite_alarm(self):
    # Stock moto 5.2.5 has no PutCompositeAlarm (its Alarm model has a `rule`, but no action sets
    # it). Composite alarms share the metric alarms' table, keyed by name, as in AWS (names are
    # unique per Region across both kinds), so stock DeleteAlarms removes them too. As AWS
    # documents: a new alarm starts in INSUFFICIENT_DATA; an update leaves the state alone,
    # overwrites the rest of the configuration and ignores Tags.
    backend = self.cloudwatch_backend
    name = self._get_param("AlarmName")
    previous = backend.alarms.get(name)
    alarm = backend.put_metric_alarm(
        name=name,
        namespace=None,
        metric_name=None,
        comparison_operator=None,
        evaluation_periods=None,
        period=None,
        threshold=None,
        statistic=None,
        description=self._get_param("AlarmDescription"),
        dimensions=[],
        alarm_actions=self._get_param("AlarmActions", []),
        ok_actions=self._get_param("OKActions", []),
        insufficient_data_actions=self._get_param("InsufficientDataActions", []),
        actions_enabled=self._get_bool_param("ActionsEnabled"),
        rule=self._get_param("AlarmRule"),
        tags=None if previous else self._get_param("Tags", []),
    )
    alarm.actions_suppressor = self._get_param("ActionsSuppressor")
    alarm.actions_suppressor_wait_period = self._get_param("ActionsSuppressorWaitPeriod")
    alarm.actions_suppressor_extension_period = self._get_param(
        "ActionsSuppressorExtensionPeriod"
    )
    if previous is None:
        alarm.state_value = "INSUFFICIENT_DATA"
        alarm.state_reason = "Unchecked: Initial alarm creation"
        alarm.state_transitioned_timestamp = alarm.state_updated_timestamp
    else:
        for kept in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp",
                     "history"):
            setattr(alarm, kept, getattr(previous, kept))
        alarm.state_transitioned_timestamp = getattr(
            previous, "state_transitioned_timestamp", previous.state_updated_timestamp
        )
    return EmptyResult()


CloudWatchResponse.put_composite_alarm = put_composite_alarm


def _composite_alarm(alarm):
    """A composite alarm as DescribeAlarms' CompositeAlarm shape names its members."""
    return {
        "ActionsEnabled": alarm.actions_enabled,
        "AlarmActions": alarm.alarm_actions,
        "AlarmArn": alarm.alarm_arn,
        "AlarmConfigurationUpdatedTimestamp": alarm.configuration_updated_timestamp,
        "AlarmDescription": alarm.description,
        "AlarmName": alarm.name,
        "AlarmRule": alarm.rule,
        "InsufficientDataActions": alarm.insufficient_data_actions,
        "OKActions": alarm.ok_actions,
        "StateReason": alarm.state_reason,
        "StateReasonData": alarm.state_reason_data,
        "StateUpdatedTimestamp": alarm.state_updated_timestamp,
        "StateValue": alarm.state_value,
        "StateTransitionedTimestamp": getattr(
            alarm, "state_transitioned_timestamp", alarm.state_updated_timestamp
        ),
        "ActionsSuppressor": getattr(alarm, "actions_suppressor", None),
        "ActionsSuppressorWaitPeriod": getattr(alarm, "actions_suppressor_wait_period", None),
        "ActionsSuppressorExtensionPeriod": getattr(
            alarm, "actions_suppressor_extension_period", None
        ),
    }


def describe_alarms(self):
    # AWS answers only the kinds AlarmTypes asks for, and only metric alarms when it is omitted;
    # stock moto ignores AlarmTypes and always answers both kinds. (Both lists stay in the answer,
    # the unasked one empty, as in AWS's.)
    wanted = self._get_param("AlarmTypes") or ["MetricAlarm"]
    answer = _stock_describe_alarms(self).result
    return ActionResult(
        {
            "MetricAlarms": answer["MetricAlarms"] if "MetricAlarm" in wanted else [],
            "CompositeAlarms": [_composite_alarm(alarm) for alarm in answer["CompositeAlarms"]]
            if "CompositeAlarm" in wanted
            else [],
        }
    )


_stock_describe_alarms = CloudWatchResponse.describe_alarms
CloudWatchResponse.describe_alarms = describe_alarms


# --- CloudWatch: alarm actions in the alarm's region ------------------------------------------


class InvalidActionRegion(ServiceException):
    code = "ValidationError"


def _same_region_actions(put):
    # AWS refuses an alarm whose SNS action names a topic in another region than the alarm's:
    # PutMetricAlarm and PutCompositeAlarm answer ValidationError "Invalid region <topic region>
    # specified. Only <alarm region> is supported." (seen answered by the API for a ca-central-1
    # topic on a us-west-2 alarm; the PutMetricAlarm reference lists the SNS action as
    # arn:aws:sns:region:account-id:sns-topic-name without saying so). Stock moto stores it.
    def checked(self):
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            for action in self._get_param(key, []) or []:
                parts = action.split(":")
                if len(parts) > 3 and parts[2] == "sns" and parts[3] != self.region:
                    raise InvalidActionRegion(
                        f"Invalid region {parts[3]} specified. Only {self.region} is supported."
                    )
        return put(self)

    return checked


CloudWatchResponse.put_metric_alarm = _same_region_actions(CloudWatchResponse.put_metric_alarm)
CloudWatchResponse.put_composite_alarm = _same_region_actions(
    CloudWatchResponse.put_composite_alarm
)


# --- CloudWatch: Smithy RPC v2 CBOR -----------------------------------------------------------
#
# AWS serves CloudWatch over Smithy RPC v2 CBOR (besides awsJson1_0 and awsQuery), and the current
# aws-sdk-cloudwatch speaks nothing else. Stock moto routes only `POST /` for CloudWatch and has no
# CBOR codec, so the wrapper bridges: a request to /service/<prefix>/operation/<Op> carrying
# `smithy-protocol: rpc-v2-cbor` is decoded, replayed to moto as awsJson1_0 (which moto serves for
# CloudWatch, as it does for boto3), and moto's answer is re-encoded as CBOR. Both directions are
# guided by botocore's service model through botocore's own codecs (RpcV2CBORParser and
# RpcV2CBORSerializer for CBOR, JSONSerializer and JSONParser for JSON), so timestamps travel as
# CBOR tag 1 (epoch seconds) and blobs as byte strings, exactly as the model says.

CBOR_ROUTE = re.compile(r"^/service/(?P<service>[^/]+)/operation/(?P<operation>[^/]+)$")
CBOR_SERVICES = {"GraniteServiceVersion20100801": "cloudwatch"}  # targetPrefix -> botocore name
# The Smithy namespace of the error shape IDs in `__type`; clients (the Rust SDK, botocore) keep
# only what follows the `#`.
CBOR_ERROR_NAMESPACE = {"cloudwatch": "com.amazonaws.cloudwatch"}


def _utc_timestamp(value):
    """A decoded timestamp (epoch seconds, from CBOR tag 1 or moto's JSON) as a UTC datetime."""
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    return parse_timestamp(value).astimezone(datetime.timezone.utc)


def _cbor_map(items):
    """CBOR for a flat map of text to text (the error body), with botocore's CBOR primitives."""
    encoder = RpcV2CBORSerializer()
    body = bytearray(encoder._get_initial_byte(encoder.MAP_MAJOR_TYPE, len(items)))
    for key, value in items.items():
        encoder._serialize_type_string(body, key, None, None)
        encoder._serialize_type_string(body, value, None, None)
    return bytes(body)


def _cbor_response(start_response, status, body, headers=()):
    """An RPC v2 CBOR response: every one, success or error, says `smithy-protocol`."""
    reason = HTTP_STATUS_CODES.get(status, "Unknown")
    # Of moto's JSON answer only the request id and x-amzn-query-error carry over (X-Amzn-Errortype
    # is the JSON protocol's own; moto's `status` and `server` are its bookkeeping).
    headers = [
        (name, value)
        for name, value in headers
        if name.lower().startswith("x-amzn-") and name.lower() != "x-amzn-errortype"
    ] + [("smithy-protocol", "rpc-v2-cbor"), ("Content-Length", str(len(body)))]
    if body:
        headers.append(("Content-Type", "application/cbor"))
    start_response(f"{status} {reason}", headers)
    return [body]


def _cbor_error(start_response, service, status, code, message, headers=()):
    # An RPC v2 CBOR error is a CBOR map whose `__type` is the error's shape ID; CloudWatch is
    # awsQueryCompatible, so AWS also sends the query error code in x-amzn-query-error, which the
    # SDKs prefer (moto's JSON errors carry that header already and it is passed on).
    namespace = CBOR_ERROR_NAMESPACE.get(service, "com.amazonaws")
    body = _cbor_map({"__type": f"{namespace}#{code}", "message": message})
    return _cbor_response(start_response, status, body, headers)


def _forward(dispatcher, environ):
    """Calls moto's own WSGI app (no network) and collects its (status, headers, body)."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = list(headers)
        return chunks.append

    chunks = []
    result = _stock_dispatch(dispatcher, environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return answer["status"], answer["headers"], b"".join(chunks)


def _serve_cbor(dispatcher, environ, start_response, prefix, operation):
    service = CBOR_SERVICES[prefix]
    service_model = get_service_model(service)
    try:
        operation_model = service_model.operation_model(operation)
    except OperationNotFoundError:
        # What a Smithy server answers for an operation its service does not have.
        return _cbor_error(
            start_response, service, 404, "UnknownOperationException",
            f"operation {operation} is not part of {prefix}",
        )
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    try:
        if environ.get("HTTP_CONTENT_ENCODING", "").lower() == "gzip":
            body = gzip.decompress(body)  # the SDK compresses PutMetricData
        params = {}
        if body:
            params = RpcV2CBORParser(timestamp_parser=_utc_timestamp).parse(
                {"body": body, "headers": {}, "status_code": 200}, operation_model.input_shape
            )
            params.pop("ResponseMetadata", None)
    except Exception as error:  # botocore raises several kinds for bytes that are not CBOR
        # The awsJson/RPC v2 name for a body that does not decode.
        return _cbor_error(
            start_response, service, 400, "SerializationException",
            f"cannot decode the CBOR body of {operation}: {error}",
        )
    request = JSONSerializer().serialize_to_request(params, operation_model)
    inner = {
        key: value
        for key, value in environ.items()
        if key not in ("HTTP_SMITHY_PROTOCOL", "HTTP_ACCEPT", "HTTP_CONTENT_ENCODING")
    }
    inner.update(
        {
            "PATH_INFO": "/",
            "RAW_URI": "/",
            "REQUEST_URI": "/",
            "QUERY_STRING": "",
            "CONTENT_TYPE": request["headers"]["Content-Type"],
            "HTTP_X_AMZ_TARGET": request["headers"]["X-Amz-Target"],
            "CONTENT_LENGTH": str(len(request["body"])),
            "wsgi.input": io.BytesIO(request["body"]),
        }
    )
    try:
        status, headers, answer = _forward(dispatcher, inner)
    except Exception as error:  # e.g. moto's NotImplementedError for an action it lacks
        traceback.print_exc()
        # Stock moto lets the exception out as an HTML 500; a CBOR client gets a CBOR error.
        return _cbor_error(start_response, service, 500, "InternalFailure", f"moto: {error}")
    if status >= 300:
        try:
            error = json.loads(answer or b"{}")
        except ValueError:
            error = {"message": answer.decode("utf-8", "replace")}
        code = error.get("__type") or dict(headers).get("X-Amzn-Errortype") or "InternalFailure"
        code = code.split(":", 1)[0].rsplit("#", 1)[-1]
        message = error.get("message") or error.get("Message") or ""
        return _cbor_error(start_response, service, status, code, message, headers)
    output_shape = operation_model.output_shape
    if output_shape is None:
        return _cbor_response(start_response, status, b"", headers)
    parsed = JSONParser(timestamp_parser=_utc_timestamp).parse(
        {"body": answer, "headers": {}, "status_code": status}, output_shape
    )
    parsed.pop("ResponseMetadata", None)
    encoded = RpcV2CBORSerializer()._serialize_body_params(parsed, output_shape)
    return _cbor_response(start_response, status, encoded, headers)


_stock_dispatch = DomainDispatcherApplication.__call__


def dispatch(self, environ, start_response):
    route = CBOR_ROUTE.match(environ.get("PATH_INFO", ""))
    if (
        route
        and route.group("service") in CBOR_SERVICES
        and environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor"
    ):
        return _serve_cbor(
            self, environ, start_response, route.group("service"), route.group("operation")
        )
    return _stock_dispatch(self, environ, start_response)


DomainDispatcherApplication.__call__ = dispatch


# --- Account ----------------------------------------------------------------------------------

# What ListRegions answers for every account: the regions enabled by default in the aws
# partition, one opted-in region, and opt-in regions left disabled.
REGIONS = [
    (region, "ENABLED_BY_DEFAULT")
    for region in [
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1",
        "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2",
        "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
    ]
] + [
    ("eu-south-1", "ENABLED"),
    ("af-south-1", "DISABLED"),
    ("ap-east-1", "DISABLED"),
    ("me-south-1", "DISABLED"),
]
DISABLED_REGIONS = {name for name, status in REGIONS if status == "DISABLED"}


def list_regions(self):
    # Stock moto has no account:ListRegions (rest-json POST /listRegions).
    wanted = self._get_param("RegionOptStatusContains") or [status for _, status in REGIONS]
    regions = [
        {"RegionName": name, "RegionOptStatus": status}
        for name, status in REGIONS
        if status in wanted
    ]
    start = int(self._get_param("NextToken") or 0)
    limit = int(self._get_param("MaxResults") or 50)
    page = {"Regions": regions[start : start + limit]}
    if start + limit < len(regions):
        page["NextToken"] = str(start + limit)
    return ActionResult(page)


AccountResponse.list_regions = list_regions
account_urls.url_paths["{0}/listRegions$"] = AccountResponse.dispatch


# --- Organizations ----------------------------------------------------------------------------
#
# moto's Organizations backend is global: one OrganizationsBackend per (account, partition); the
# management account's holds the organization and its FakeAccounts, and
# `organizations_backends.master_accounts` maps every member created or invited into it to
# (management account id, partition). A member's own backend holds nothing.

from moto.organizations import models as organizations_models
from moto.organizations.exceptions import (
    AccountAlreadyClosedException,
    AWSOrganizationsNotInUseException,
)
from moto.organizations.models import organizations_backends
from moto.organizations.responses import OrganizationsResponse

STATE_TAG = "trailwatch-test:state"
# Account State -> the Status AWS answers beside it until Status is retired (2026-09-09). The API
# reference (botocore organizations model, Account.State/Status) lists both enums; the
# Organizations User Guide "Monitor the state of your AWS accounts"
# (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_account_state.html)
# describes the states, and the AWS what's-new "AWS Organizations now provides account state
# information for member accounts" says State adds "'SUSPENDED' for AWS-enforced suspension,
# 'PENDING_CLOSURE' for in-process closure requests, and 'CLOSED' for accounts in their 90-day
# reinstatement window". The AWS Cloud Operations blog post announcing State (read in a
# third-party copy) says the old Status "ACTIVE" covered accounts "not necessarily fully
# activated" and "SUSPENDED" failed "to distinguish between customer-initiated account closures
# and AWS-initiated suspensions": hence PENDING_ACTIVATION -> ACTIVE and CLOSED -> SUSPENDED.
STATUS_OF_STATE = {
    "PENDING_ACTIVATION": "ACTIVE",
    "ACTIVE": "ACTIVE",
    "SUSPENDED": "SUSPENDED",
    "PENDING_CLOSURE": "PENDING_CLOSURE",
    "CLOSED": "SUSPENDED",
}
# States in which an account works: PENDING_CLOSURE "remains functional and can still be used to
# access AWS services while the closure request is processed"; PENDING_ACTIVATION and SUSPENDED
# accounts are "unusable" (the same User Guide page); a closed account "will no longer be able to
# access AWS services" (AWS Account Management Reference Guide, "Close an AWS account",
# https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-closing.html).
USABLE_STATES = {"ACTIVE", "PENDING_CLOSURE"}
LIST_ACCOUNTS_MAX = 20  # ListAccounts MaxResults: min 1, max 20 (API reference)


class OrganizationsAccessDenied(ServiceException):
    code = "AccessDeniedException"
    message = "You don't have permissions to perform the requested operation."


class OrganizationsBadInput(ServiceException):
    """InvalidInputException with its Reason member (the API reference's reasons and texts)."""

    code = "InvalidInputException"

    def __init__(self, reason, message):
        super().__init__(message)
        self.reason = reason


def _organization(account_id):
    """(management account id, the organization's backend) for an account in an organization."""
    if account_id in organizations_backends.master_accounts:
        master, partition = organizations_backends.master_accounts[account_id]
        return master, organizations_backends[master][partition]
    if account_id in organizations_backends:
        for backend in list(organizations_backends[account_id].values()):
            if backend.org is not None:
                return account_id, backend
    return None


def _org_account(account_id):
    """The FakeAccount of `account_id` in its organization, or None."""
    organization = _organization(account_id)
    if organization is None:
        return None
    return next((a for a in organization[1].accounts if a.id == account_id), None)


def _account_state(account):
    """An account's State: the test control tag's when set, else moto's."""
    return account.tags.get(STATE_TAG) or account.state


def _delegated_admin(backend, account_id):
    # moto keeps an admin entry even when registering its service principal failed: only an
    # entry with a service counts.
    return any(admin.account.id == account_id and admin.services for admin in backend.admins)


def _may_read_organization(response):
    """The organization's backend, if the caller may read its accounts: "You can only call this
    operation from the management account or a member account that is a delegated
    administrator" (API reference, ListAccounts and DescribeAccount). Stock moto answers a
    member's ListAccounts with an empty list, and an account outside any organization's too."""
    caller = response.current_account
    organization = _organization(caller)
    if organization is None:
        raise AWSOrganizationsNotInUseException()
    master, backend = organization
    if caller != master and not _delegated_admin(backend, caller):
        raise OrganizationsAccessDenied()
    return backend


_stock_account_describe = organizations_models.FakeAccount.describe


def account_describe(self):
    # Both State and Status, consistent with each other as AWS answers them now; the state tag
    # (a test control, see the module docstring) overrides moto's state.
    answer = _stock_account_describe(self)
    state = _account_state(self)
    answer["State"] = state
    answer["Status"] = STATUS_OF_STATE[state]
    return answer


organizations_models.FakeAccount.describe = account_describe


def account_close(self):
    # CloseAccount: "While the close account request is in progress, Account status will indicate
    # PENDING_CLOSURE. When the close account request completes, the status will change to
    # SUSPENDED" (API reference, CloseAccount); the State of a closed account is CLOSED (see
    # STATUS_OF_STATE). Stock moto sets State SUSPENDED, which AWS keeps for AWS-enforced
    # suspensions. Closure completes at once here; a test that wants an account caught in
    # PENDING_CLOSURE tags it (the tag wins until it is removed, so tag + CloseAccount + untag
    # walks the whole way).
    if self.status == "SUSPENDED" or self.state == "CLOSED":
        raise AccountAlreadyClosedException()
    self.state = "CLOSED"
    self.status = "SUSPENDED"


organizations_models.FakeAccount.close = account_close

_stock_organizations_tag_resource = organizations_models.OrganizationsBackend.tag_resource


def organizations_tag_resource(self, **kwargs):
    # A misspelt state would silently not apply: refuse it (test control only).
    for tag in kwargs.get("Tags", []):
        if tag.get("Key") == STATE_TAG and tag.get("Value") not in STATUS_OF_STATE:
            raise OrganizationsBadInput(
                "INVALID_ENUM", f"{STATE_TAG} must be one of {', '.join(STATUS_OF_STATE)}"
            )
    return _stock_organizations_tag_resource(self, **kwargs)


organizations_models.OrganizationsBackend.tag_resource = organizations_tag_resource


def list_accounts(self):
    # Stock moto pages at 100 by default, accepts any MaxResults and answers members. AWS pages at
    # MaxResults 1-20 (the API reference gives no default; AWS answers 20) and answers only the
    # management account and delegated administrators. Tokens here are offsets.
    backend = _may_read_organization(self)
    limit = self._get_int_param("MaxResults")
    if limit is None:
        limit = LIST_ACCOUNTS_MAX
    if limit > LIST_ACCOUNTS_MAX:
        raise OrganizationsBadInput(
            "MAX_VALUE_EXCEEDED",
            "You provided a numeric parameter that has a larger value than allowed.",
        )
    if limit < 1:
        raise OrganizationsBadInput(
            "MIN_VALUE_EXCEEDED",
            "You provided a numeric parameter that has a smaller value than allowed.",
        )
    accounts = sorted(backend.accounts, key=lambda account: account.create_time)
    token = self._get_param("NextToken")
    if token is None:
        start = 0
    elif token.isdigit() and int(token) <= len(accounts):
        start = int(token)
    else:
        raise OrganizationsBadInput(
            "INVALID_NEXT_TOKEN",
            "Get the value for the NextToken parameter from the response to a previous call of the "
            "operation.",
        )
    page = {"Accounts": [account.describe() for account in accounts[start : start + limit]]}
    if start + limit < len(accounts):
        page["NextToken"] = str(start + limit)
    return json.dumps(page)


OrganizationsResponse.list_accounts = list_accounts


def describe_account(self):
    # Same caller rule as ListAccounts (stock moto looks in the caller's own, empty, backend and
    # answers a member AccountNotFoundException).
    backend = _may_read_organization(self)
    return json.dumps(backend.describe_account(**self.request_params))


OrganizationsResponse.describe_account = describe_account


# --- Organization trails ----------------------------------------------------------------------
#
# AWS: "When you create an organization trail, a trail with the name that you give it is created
# in every AWS account that belongs to your organization. Users with CloudTrail permissions in
# member accounts can see this trail … when they run AWS CLI commands such as describe-trail" and
# "the ARN of the trail created in the management account … is the ARN for the trail in all member
# accounts as well" (CloudTrail User Guide, "Creating a trail for an organization",
# https://docs.aws.amazon.com/awscloudtrail/latest/userguide/creating-trail-organization.html).
# Stock moto shows the trail to its owner only. Here an organization trail of the management
# account is listed, as its owner has it, to every member whose State is usable (ACTIVE or
# PENDING_CLOSURE; see USABLE_STATES): in every Region for a multi-Region trail, in its home Region
# otherwise. AWS documents no field hidden from members, so none is.


class OrganizationsNotInUse(ServiceException):
    code = "OrganizationsNotInUseException"
    message = (
        "This exception is thrown when the request is made from an Amazon Web Services account "
        "that is not a member of an organization."
    )


class NotOrganizationMasterAccount(ServiceException):
    code = "NotOrganizationMasterAccountException"
    message = (
        "This exception is thrown when the Amazon Web Services account making the request to "
        "create or update an organization trail or event data store is not the management "
        "account for an organization in Organizations."
    )


class OrganizationNotInAllFeaturesMode(ServiceException):
    code = "OrganizationNotInAllFeaturesModeException"
    message = (
        "This exception is thrown when Organizations is not configured to support all features. "
        "All features must be enabled in Organizations to support creating an organization trail "
        "or event data store."
    )


def _org_trails_seen_by(account_id, region):
    """The organization trails of `account_id`'s organization that it sees as a member in
    `region` (none for the management account, which lists them as its own)."""
    organization = _organization(account_id)
    if organization is None or organization[0] == account_id:
        return []
    account = _org_account(account_id)
    if account is None or _account_state(account) not in USABLE_STATES:
        return []
    owner = organization[0]
    if owner not in cloudtrail_models.cloudtrail_backends:
        return []
    return [
        trail
        for backend in list(cloudtrail_models.cloudtrail_backends[owner].values())
        for trail in list(backend.trails.values())
        if trail.is_org_trail and (trail.is_multi_region or trail.region_name == region)
    ]


def _org_trail_owner(account_id, region, name):
    """The owner's account id if `name` is the ARN of an organization trail `account_id` sees in
    `region`. A bare name never is: names resolve in the caller's account ("If the trail is an
    organization trail and you are a member account …, you must provide the full ARN of that
    trail, and not just the name", API reference, GetTrailStatus)."""
    if not isinstance(name, str) or not name.startswith("arn:"):
        return None
    return next(
        (t.account_id for t in _org_trails_seen_by(account_id, region) if t.arn == name), None
    )


_org_stock_describe_trails = CloudTrailResponse.describe_trails


def org_describe_trails(self):
    # includeShadowTrails: "A shadow trail is the replication in a Region of a trail that was
    # created in a different Region, or in the case of an organization trail, the replication of
    # an organization trail in member accounts. If you do not include shadow trails, organization
    # trails in a member account and Region replication trails will not be returned. The default
    # is true." (API reference, DescribeTrails)
    answer = json.loads(_org_stock_describe_trails(self))
    if self._get_bool_param("includeShadowTrails", True):
        listed = {trail["TrailARN"] for trail in answer["trailList"]}
        answer["trailList"] += [
            trail.description(include_region=True)
            for trail in _org_trails_seen_by(self.current_account, self.region)
            if trail.arn not in listed
        ]
    return json.dumps(answer)


CloudTrailResponse.describe_trails = org_describe_trails


def _as_org_trail_owner(method, parameter):
    """`method` answered from the trail owner's account when a member names an organization trail
    it sees by ARN: the whole (already patched) handler runs as the owner, so the delivery-time
    and throttle tags apply too (the throttle count is shared by everyone asking by that ARN)."""

    def answer(self):
        owner = _org_trail_owner(self.current_account, self.region, self._get_param(parameter))
        if owner is not None:
            self.current_account = owner
        return method(self)

    return answer


class OrgTrailSelectorsRefused(ServiceException):
    code = "TrailNotFoundException"

    def __init__(self, name, account_id):
        super().__init__(f"Unknown trail: {name} for the user: {account_id}")


def _refusing_org_trail_selectors(method):
    """GetEventSelectors refused to a member that names an organization trail it sees."""

    def answer(self):
        name = self._get_param("TrailName")
        if _org_trail_owner(self.current_account, self.region, name) is not None:
            raise OrgTrailSelectorsRefused(name, self.current_account)
        return method(self)

    return answer


# GetTrailStatus from a member with the ARN: allowed (API reference, quoted above).
# GetEventSelectors: the API reference says nothing of members; cloud-custodian's maintainers
# report that it fails for an organization trail of another account ("this api call will fail
# for an organization trail from a different account", cloud-custodian PR #6394, review of
# c7n/resources/cloudtrail.py). So a member is refused here, and a scan must read the selectors
# through the trail's owner. The error AWS answers is not documented either: TrailNotFoundException
# (what CloudTrail answers for a trail the caller's account does not hold) is a guess, which
# trailwatch must not depend on — it never asks a member for them.
CloudTrailResponse.get_trail_status = _as_org_trail_owner(
    CloudTrailResponse.get_trail_status, "Name"
)
CloudTrailResponse.get_event_selectors = _refusing_org_trail_selectors(
    CloudTrailResponse.get_event_selectors
)


def _check_org_trail_owner(response):
    # IsOrganizationTrail "cannot be true unless the call is made on behalf of an Amazon Web
    # Services account that is the management account or delegated administrator account for an
    # organization in Organizations" (API reference, CreateTrail); the errors are the API
    # reference's. Stock moto lets any account create one. moto has no CloudTrail delegated
    # administrators (RegisterOrganizationDelegatedAdmin is not implemented, and Organizations'
    # RegisterDelegatedAdministrator refuses cloudtrail.amazonaws.com), so only the management
    # account may. Trusted access for CloudTrail (CloudTrailAccessNotEnabledException) is not
    # checked.
    if not response._get_bool_param("IsOrganizationTrail", False):
        return
    caller = response.current_account
    organization = _organization(caller)
    if organization is None:
        raise OrganizationsNotInUse()
    if organization[0] != caller:
        raise NotOrganizationMasterAccount()
    if organization[1].org.feature_set != "ALL":
        raise OrganizationNotInAllFeaturesMode()


def _checking_org_trail_owner(method):
    def answer(self):
        _check_org_trail_owner(self)
        return method(self)

    return answer


CloudTrailResponse.create_trail = _checking_org_trail_owner(CloudTrailResponse.create_trail)
CloudTrailResponse.update_trail = _checking_org_trail_owner(CloudTrailResponse.update_trail)


# --- STS trust --------------------------------------------------------------------------------
#
# Stock moto lets every AssumeRole through, into roles that need not exist. AWS answers it only
# when the role exists in the account of its ARN and the role's trust policy (its
# AssumeRolePolicyDocument, a resource-based policy whose Principal says who may assume it) allows
# the caller; anything else is AccessDenied, "User: <caller arn> is not authorized to perform:
# sts:AssumeRole on resource: <role arn>", HTTP 403, the same answer for a missing role, a caller
# the policy does not name and a missing or wrong external ID (AWS documents no other message; the
# wrong-ExternalId reports in aws-facts.md Q11 show this one). A denied call's reason goes to the
# server's log. What is evaluated:
#
# * Principal (IAM User Guide, "AWS JSON policy elements: Principal",
#   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
#   "*" or {"AWS": "*"}; an account, as `arn:aws:iam::<id>:root` or the bare id ("The account ARN
#   and the shortened account ID behave the same way. Both delegate permissions to the account"),
#   matching any caller in it; a role ARN, matching sessions of that role; a user or assumed-role
#   session ARN. Service and federated principals match no IAM caller. NotPrincipal is honoured.
#   The caller's identity-based policies, which AWS also needs when the trust names an account,
#   are not evaluated (the harness's callers have none); session-policy denies are (above).
# * Action / NotAction against sts:AssumeRole, wildcards allowed; Deny beats Allow.
# * Condition (IAM User Guide, "IAM JSON policy elements: Condition operators",
#   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
#   String(Not)Equals(IgnoreCase), String(Not)Like, Arn(Not)Equals, Arn(Not)Like, each also
#   …IfExists, and Null, on the keys sts:ExternalId (the call's ExternalId; "anyone who wants to
#   assume the role must be a principal in the role and must include the correct external ID",
#   IAM User Guide, "How to use an external ID when granting access to your AWS resources to a
#   third party"), sts:RoleSessionName, aws:PrincipalAccount, aws:PrincipalArn (a role session's
#   is its role's ARN) and aws:PrincipalOrgID. "If the key that you specify in a policy condition
#   is not present in the request context, the values do not match", except that a negated
#   operator then matches and …IfExists passes. Any other operator or key: the statement is not
#   applied (logged), so an Allow that needs it denies.
#
# Exceptions and test controls (module docstring): the harness's bootstrap role
# `arn:aws:iam::<id>:role/trailwatch-test` needs neither to exist nor to trust anyone (the Rust
# harness makes every test account by assuming it with the static keys test/test). No role of an
# organization's account whose State is not usable (see USABLE_STATES) can be assumed, the
# bootstrap role included: AWS answers AccessDenied for them (third-party report:
# CrowdStrike/cloud-resource-estimator issue #25, a closed member). An organization account
# tagged `trailwatch-test:deny-assume-role` denies AssumeRole into the roles its value names
# (space- or comma-separated names, `*` for all), the bootstrap role too if named.
#
# Also checked, as the API reference
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html) constrains them and
# stock moto does not (it checks only RoleSessionName's 64-character maximum): RoleSessionName
# 2-64 characters of [\w+=,.@-], ExternalId 2-1224 of [\w+=,.@:/-], DurationSeconds 900-43200, at
# most the role's MaxSessionDuration, and at most an hour for role chaining (a role session
# assuming a role), with the ValidationError texts AWS answers.

from moto.iam.models import iam_backends
from moto.sts.exceptions import STSValidationError
from moto.sts.responses import TokenResponse

BOOTSTRAP_ROLE = "trailwatch-test"
DENY_ASSUME_TAG = "trailwatch-test:deny-assume-role"
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]+)$")
CHAINED_MAX_SECONDS = 3600


class AssumeRoleDenied(ServiceException):
    code = "AccessDenied"


class UnsupportedCondition(Exception):
    pass


def _string_constraint_errors(value, member, shortest, longest, pattern):
    """AWS's ValidationError clauses for a string parameter's length and pattern constraints."""
    clause = f"Value '{value}' at '{member}' failed to satisfy constraint: Member must"
    errors = []
    if len(value) < shortest:
        errors.append(f"{clause} have length greater than or equal to {shortest}")
    if len(value) > longest:
        errors.append(f"{clause} have length less than or equal to {longest}")
    if not re.fullmatch(pattern, value, re.ASCII):
        errors.append(f"{clause} satisfy regular expression pattern: {pattern}")
    return errors


def _assume_role_validation_errors(response):
    """AWS's ValidationError clauses for the AssumeRole parameters, in parameter order."""
    errors = []
    name = response._get_param("RoleSessionName")
    if name is None:
        errors.append("Value null at 'roleSessionName' failed to satisfy constraint: "
                      "Member must not be null")
    else:
        errors += _string_constraint_errors(name, "roleSessionName", 2, 64, r"[\w+=,.@-]*")
    external_id = response._get_param("ExternalId")
    if external_id is not None:
        errors += _string_constraint_errors(
            external_id, "externalId", 2, 1224, r"[\w+=,.@:/-]*")
    duration = response._get_int_param("DurationSeconds")
    if duration is not None and duration < 900:
        errors.append(f"Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
                      "Member must have value greater than or equal to 900")
    if duration is not None and duration > 43200:
        errors.append(f"Value '{duration}' at 'durationSeconds' failed to satisfy constraint: "
                      "Member must have value less than or equal to 43200")
    return errors


def _caller(response):
    """(ARN, account id, AssumedRole or None, IAM user or None) of the request's credentials, as
    moto knows them: an AssumeRole session by its access key, an IAM user by hers, else moto's
    default identity (account 123456789012 for the static keys test/test)."""
    key = response.get_access_key()
    account = response.current_account
    backend = sts_backends[account][response.partition]
    assumed = backend.get_assumed_role_from_access_key(key)
    _, arn, account = backend.get_caller_identity(key, response.region)
    user = None
    if assumed is None and account in iam_backends:
        user = iam_backends[account][response.partition].get_user_from_access_key_id(key)
    return arn, account, assumed, user


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _names_caller(principal, caller):
    """Whether a Principal element names the caller."""
    arn, account, assumed, user = caller
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for entry in _as_list(principal.get("AWS", [])):
        if entry == "*" or entry in (account, f"arn:aws:iam::{account}:root"):
            return True
        if entry == arn or (assumed is not None and entry == assumed.role_arn):
            return True
        if user is not None and entry == user.arn:
            return True
    return False


STRING_TESTS = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringEqualsIgnoreCase": lambda value, wanted: value.lower() == wanted.lower(),
    "StringLike": lambda value, wanted: fnmatch.fnmatchcase(value, wanted),
    "ArnEquals": lambda value, wanted: value == wanted,
    "ArnLike": lambda value, wanted: fnmatch.fnmatchcase(value, wanted),
}
NEGATED_TESTS = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _condition_holds(operator, key, wanted, context):
    if_exists = operator.endswith("IfExists")
    base = operator[: -len("IfExists")] if if_exists else operator
    negated = base in NEGATED_TESTS
    test = STRING_TESTS.get(NEGATED_TESTS.get(base, base))
    if test is None and operator != "Null":
        raise UnsupportedCondition(f"condition operator {operator}")
    if key.lower() not in context:
        raise UnsupportedCondition(f"condition key {key}")
    value = context[key.lower()]
    if operator == "Null":
        return (value is None) == (str(_as_list(wanted)[0]).lower() == "true")
    if value is None:
        return if_exists or negated
    matched = any(test(value, str(one)) for one in _as_list(wanted))
    return not matched if negated else matched


def _statement_applies(statement, caller, context):
    if "Action" in statement:
        actions = _as_list(statement["Action"])
        if not any(fnmatch.fnmatch("sts:assumerole", a.lower()) for a in actions):
            return False
    elif "NotAction" in statement:
        not_actions = _as_list(statement["NotAction"])
        if any(fnmatch.fnmatch("sts:assumerole", a.lower()) for a in not_actions):
            return False
    else:
        return False
    if "Principal" in statement:
        if not _names_caller(statement["Principal"], caller):
            return False
    elif "NotPrincipal" in statement:
        if _names_caller(statement["NotPrincipal"], caller):
            return False
    else:
        return False
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, wanted in tests.items():
            if not _condition_holds(operator, key, wanted, context):
                return False
    return True


def _trust_denial(role, caller, context):
    """Why the role's trust policy does not let the caller assume it, or None if it does."""
    try:
        policy = json.loads(role.assume_role_policy_document)
    except (TypeError, ValueError):
        return "its trust policy is not JSON"
    allowed = False
    for statement in _as_list(policy.get("Statement", [])):
        try:
            applies = _statement_applies(statement, caller, context)
        except UnsupportedCondition as unsupported:
            print(f"moto_wrapper: trust policy of {role.arn}: {unsupported} is not evaluated; "
                  "the statement is not applied", file=sys.stderr)
            applies = False
        if applies and statement.get("Effect") == "Deny":
            return "its trust policy denies it explicitly"
        allowed = allowed or (applies and statement.get("Effect") == "Allow")
    return None if allowed else "no statement of its trust policy allows it"


def _assume_role_denial(response, caller, role_arn):
    """Why AWS would refuse this AssumeRole, or None. The role of the returned reason is only for
    the server's log: AWS's answer is the same AccessDenied whatever the reason."""
    target = ROLE_ARN.match(role_arn or "")
    if target is None:
        return None  # not an IAM role ARN: left to moto
    account_id, name = target.groups()
    account = _org_account(account_id)
    if account is not None:
        state = _account_state(account)
        if state not in USABLE_STATES:
            return f"account {account_id} is {state}"
        denied = re.split(r"[\s,]+", account.tags.get(DENY_ASSUME_TAG, "").strip())
        if name in denied or "*" in denied:
            return f"account {account_id}'s tag {DENY_ASSUME_TAG} names it"
    if role_arn == f"arn:aws:iam::{account_id}:role/{BOOTSTRAP_ROLE}":
        return None
    role = None
    if account_id in iam_backends:
        role = next(
            (r for r in iam_backends[account_id]["aws"].get_roles() if r.arn == role_arn), None
        )
    if role is None:
        return "the role does not exist"
    arn, caller_account, assumed, _ = caller
    organization = _organization(caller_account)
    context = {
        "sts:externalid": response._get_param("ExternalId"),
        "sts:rolesessionname": response._get_param("RoleSessionName"),
        "aws:principalaccount": caller_account,
        "aws:principalarn": assumed.role_arn if assumed is not None else arn,
        "aws:principalorgid": organization[1].org.id if organization else None,
    }
    return _trust_denial(role, caller, context)


def _duration_error(response, caller, role_arn):
    """AWS's ValidationError text for a DurationSeconds over the role's or role chaining's limit."""
    duration = response._get_int_param("DurationSeconds")
    if duration is None:
        return None
    if caller[2] is not None and duration > CHAINED_MAX_SECONDS:
        return (
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
            "role chaining."
        )
    target = ROLE_ARN.match(role_arn or "")
    if target is not None and target.group(1) in iam_backends:
        role = next(
            (r for r in iam_backends[target.group(1)]["aws"].get_roles() if r.arn == role_arn), None
        )
        if role is not None and duration > int(role.max_session_duration or 3600):
            return "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    return None


_stock_assume_role = TokenResponse.assume_role


# Test control: an account tagged `trailwatch-test:throttle-assume-role` answers every AssumeRole
# into it with Throttling, as STS does under load: a transient failure, for retry paths.
THROTTLE_ASSUME_TAG = "trailwatch-test:throttle-assume-role"


class AssumeRoleThrottled(ServiceException):
    code = "Throttling"
    message = "Rate exceeded"


def assume_role(self):
    target = ROLE_ARN.match(self._get_param("RoleArn") or "")
    account = _org_account(target.group(1)) if target else None
    if account is not None and THROTTLE_ASSUME_TAG in account.tags:
        status, headers, body = self.serialized(ActionResult(AssumeRoleThrottled()))
        headers["status"] = 400
        return body, headers
    errors = _assume_role_validation_errors(self)
    if errors:
        count = f"{len(errors)} validation error{'s' if len(errors) > 1 else ''} detected"
        raise STSValidationError(f"{count}: " + "; ".join(errors))
    role_arn = self._get_param("RoleArn")
    caller = _caller(self)
    denial = _assume_role_denial(self, caller, role_arn)
    if denial is not None:
        print(f"moto_wrapper: AssumeRole into {role_arn} by {caller[0]} denied: {denial}",
              file=sys.stderr)
        status, headers, body = self.serialized(
            ActionResult(
                AssumeRoleDenied(
                    f"User: {caller[0]} is not authorized to perform: sts:AssumeRole on resource: "
                    f"{role_arn}"
                )
            )
        )
        headers["status"] = 403  # AWS's status for AccessDenied; the STS model has no such shape
        return body, headers
    duration_error = _duration_error(self, caller, role_arn)
    if duration_error is not None:
        raise STSValidationError(duration_error)
    return _stock_assume_role(self)


TokenResponse.assume_role = assume_role


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    from moto.server import main as moto_main

    port = sys.argv[1]
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    moto_main(["--host", "127.0.0.1", "--port", port])


if __name__ == "__main__":
    main()
