"""moto's AWS emulator for trailwatch's tests, with the few behaviours stock moto 5.2.5 lacks.

Usage: moto_wrapper.py PORT   (binds 127.0.0.1:PORT; the Rust harness in tests/emulator/support starts it)

The server exits when its standard input reaches end of file, so a test process that dies (or
whose harness lives in a static that is never dropped) takes its server with it.

Every patch below is a measured gap between moto 5.2.5 and AWS that trailwatch's collectors read.
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

``tools/test_moto_wrapper.py`` checks the CloudWatch patches over awsJson1_0 (boto3), awsQuery and
CBOR; scripts/test.sh runs it.

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


# --- Session policies -------------------------------------------------------------------------


class AccessDeniedByPolicy(ServiceException):
    code = "AccessDenied"


def _denied_action(response):
    """`service:Action` if the request's credentials come from an AssumeRole whose session policy
    denies it, else None."""
    access_key = response.get_access_key()
    action = f"{response.service_name}:{response._get_action()}"
    for account_id in list(sts_backends.keys()):
        for backend in list(sts_backends[account_id].values()):
            role = backend.get_assumed_role_from_access_key(access_key)
            if role is None or not role.policy:
                continue
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
