"""Self-check of tools/moto_wrapper.py's CloudWatch patches: the Smithy RPC v2 CBOR bridge and
composite alarms, over the three protocols a client may speak (boto3's awsJson1_0, awsQuery, and
CBOR as the Rust SDK sends it); and of its Organizations, organization-trail and STS-trust patches,
through boto3.

Usage: python tools/test_moto_wrapper.py   (scripts/test.sh runs it with the virtualenv's Python)

Starts the wrapper on a free loopback port. The query and CBOR requests are built and their answers
read with botocore's own serializers and parsers, from botocore's CloudWatch model. The SQS patch
(queue attributes computed when read) is checked in process, beside stock moto's own property.
"""

import datetime
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import create_loader
from botocore.model import ServiceModel
from botocore.parsers import QueryParser, RpcV2CBORParser
from botocore.serialize import QuerySerializer, RpcV2CBORSerializer

WRAPPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moto_wrapper.py")
MODEL = ServiceModel(create_loader().load_service_model("cloudwatch", "service-2"), "cloudwatch")
SERIALIZERS = {"query": QuerySerializer, "cbor": RpcV2CBORSerializer}
PARSERS = {"query": QueryParser, "cbor": RpcV2CBORParser}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Wrapper:
    """The wrapper as a child process; it exits when its standard input closes."""

    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="moto-wrapper-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, WRAPPER, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto wrapper did not start; see {self.log.name}")
                time.sleep(0.1)

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.log.close()
        os.unlink(self.log.name)

    def log_text(self):
        with open(self.log.name, encoding="utf-8", errors="replace") as log:
            return log.read()


class Answer:
    def __init__(self, status, headers, body, parsed):
        self.status, self.headers, self.body, self.parsed = status, headers, body, parsed


class MotoWrapperTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wrapper = Wrapper()

    @classmethod
    def tearDownClass(cls):
        cls.wrapper.stop()

    def boto3(self, region):
        return boto3.client(
            "cloudwatch",
            region_name=region,
            endpoint_url=self.wrapper.endpoint,
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="secret",
        )

    def send(self, path, body, headers, region):
        headers = dict(headers)
        # moto reads the region (and the account) from the SigV4 credential scope, not checked.
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/{region}/monitoring/"
            "aws4_request, SignedHeaders=host, Signature=0"
        )
        request = urllib.request.Request(
            self.wrapper.endpoint + path, data=body, headers=headers, method="POST"
        )
        try:
            response = urllib.request.urlopen(request, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            headers = {name.lower(): value for name, value in response.headers.items()}
            return response.status, headers, response.read()

    def call(self, protocol, operation, params, region="us-east-1"):
        """`operation` in `protocol` ("query" or "cbor"), serialized and parsed by botocore."""
        model = MODEL.operation_model(operation)
        request = SERIALIZERS[protocol]().serialize_to_request(params, model)
        body = request["body"]
        headers = dict(request["headers"])
        if protocol == "query":
            body = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        status, headers, raw = self.send(request["url_path"], body, headers, region)
        parsed = PARSERS[protocol]().parse(
            {"body": raw, "headers": headers, "status_code": status}, model.output_shape
        )
        parsed.pop("ResponseMetadata", None)
        return Answer(status, headers, raw, parsed)

    def cbor_raw(self, operation, body, region="us-east-1"):
        headers = {
            "smithy-protocol": "rpc-v2-cbor",
            "Content-Type": "application/cbor",
            "Accept": "application/cbor",
        }
        path = f"/service/GraniteServiceVersion20100801/operation/{operation}"
        return self.send(path, body, headers, region)

    def assertCborError(self, status, headers, body, want_status, want_code):
        self.assertEqual(status, want_status)
        self.assertEqual(headers.get("smithy-protocol"), "rpc-v2-cbor")
        self.assertEqual(headers.get("content-type"), "application/cbor")
        error = RpcV2CBORParser()._initial_body_parse(body)
        self.assertTrue(error["__type"].endswith("#" + want_code), error)
        self.assertTrue(error["message"], error)

    # --- composite alarms, per protocol ---------------------------------------------------------

    def check_composite_alarms(self, put_metric, put_composite, describe, delete, names, region):
        # Actions name topics of the alarm's own region: AWS (and the wrapper) refuse others.
        child, parent = names
        alerts = f"arn:aws:sns:{region}:123456789012:alerts"
        ok = f"arn:aws:sns:{region}:123456789012:ok"
        put_metric(
            AlarmName=child, MetricName="M", Namespace="N", Statistic="Sum", Period=300,
            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        )
        put_composite(
            AlarmName=parent, AlarmRule=f'ALARM("{child}")',
            AlarmActions=[alerts],
            OKActions=[ok],
        )
        composite = describe(AlarmTypes=["CompositeAlarm"])
        self.assertEqual(composite.get("MetricAlarms", []), [])
        [alarm] = composite["CompositeAlarms"]
        self.assertEqual(alarm["AlarmName"], parent)
        self.assertEqual(alarm["AlarmRule"], f'ALARM("{child}")')
        self.assertTrue(alarm["AlarmArn"].endswith(f":alarm:{parent}"), alarm["AlarmArn"])
        self.assertIs(alarm["ActionsEnabled"], True)
        self.assertEqual(alarm["AlarmActions"], [alerts])
        self.assertEqual(alarm["OKActions"], [ok])
        self.assertEqual(alarm["InsufficientDataActions"], [])
        self.assertEqual(alarm["StateValue"], "INSUFFICIENT_DATA")
        self.assertIsInstance(alarm["StateUpdatedTimestamp"], datetime.datetime)

        default = describe()
        self.assertEqual([a["AlarmName"] for a in default["MetricAlarms"]], [child])
        self.assertEqual(default.get("CompositeAlarms", []), [])

        both = describe(AlarmTypes=["CompositeAlarm", "MetricAlarm"])
        self.assertEqual([a["AlarmName"] for a in both["MetricAlarms"]], [child])
        self.assertEqual([a["AlarmName"] for a in both["CompositeAlarms"]], [parent])

        # An update keeps the state and overwrites the configuration.
        put_composite(AlarmName=parent, AlarmRule="TRUE", ActionsEnabled=False)
        [updated] = describe(AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
        self.assertEqual((updated["AlarmRule"], updated["ActionsEnabled"]), ("TRUE", False))
        self.assertEqual(updated["AlarmActions"], [])
        self.assertEqual(updated["StateValue"], "INSUFFICIENT_DATA")

        delete(AlarmNames=[parent])
        self.assertEqual(describe(AlarmTypes=["CompositeAlarm"]).get("CompositeAlarms", []), [])
        self.assertEqual(
            [a["AlarmName"] for a in describe(AlarmTypes=["MetricAlarm"])["MetricAlarms"]],
            [child],
        )

    def test_composite_alarms_over_json(self):
        client = self.boto3("eu-west-1")
        self.assertEqual(client.meta.service_model.resolved_protocol, "json")
        self.check_composite_alarms(
            client.put_metric_alarm, client.put_composite_alarm, client.describe_alarms,
            client.delete_alarms, ("json-child", "json-parent"), "eu-west-1",
        )

    def over(self, protocol, region):
        def operation(name):
            def call(**params):
                answer = self.call(protocol, name, params, region)
                self.assertEqual(answer.status, 200, answer.body)
                return answer.parsed

            return call

        return [operation(name) for name in
                ("PutMetricAlarm", "PutCompositeAlarm", "DescribeAlarms", "DeleteAlarms")]

    def test_composite_alarms_over_query(self):
        names = ("query-child", "query-parent")
        self.check_composite_alarms(*self.over("query", "eu-west-2"), names, "eu-west-2")

    def test_composite_alarms_over_cbor(self):
        names = ("cbor-child", "cbor-parent")
        self.check_composite_alarms(*self.over("cbor", "eu-west-3"), names, "eu-west-3")

    # --- the CBOR bridge ------------------------------------------------------------------------

    def test_cbor_answers_say_so_and_carry_timestamps_as_tag_1(self):
        region = "ca-central-1"
        put = {"AlarmName": "tagged", "AlarmRule": "FALSE"}
        self.assertEqual(self.call("cbor", "PutCompositeAlarm", put, region).status, 200)
        answer = self.call("cbor", "DescribeAlarms", {"AlarmTypes": ["CompositeAlarm"]}, region)
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.headers.get("smithy-protocol"), "rpc-v2-cbor")
        self.assertEqual(answer.headers.get("content-type"), "application/cbor")
        # Without a shape to guide it, botocore's CBOR decoder makes a datetime only of tag 1.
        raw = RpcV2CBORParser()._initial_body_parse(answer.body)
        [alarm] = raw["CompositeAlarms"]
        for member in ("StateUpdatedTimestamp", "AlarmConfigurationUpdatedTimestamp"):
            self.assertIsInstance(alarm[member], datetime.datetime, member)

    def test_cbor_request_timestamps_reach_moto(self):
        region = "sa-east-1"
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        put = self.call("cbor", "PutMetricData", {
            "Namespace": "Probe",
            "MetricData": [{"MetricName": "Hits", "Value": 3.0,
                            "Timestamp": now - datetime.timedelta(seconds=30)}],
        }, region)
        self.assertEqual(put.status, 200, put.body)
        answer = self.call("cbor", "GetMetricStatistics", {
            "Namespace": "Probe", "MetricName": "Hits", "Statistics": ["Sum"], "Period": 60,
            "StartTime": now - datetime.timedelta(minutes=10),
            "EndTime": now + datetime.timedelta(minutes=1),
        }, region)
        self.assertEqual(answer.status, 200, answer.body)
        self.assertEqual([point["Sum"] for point in answer.parsed["Datapoints"]], [3.0])
        self.assertIsInstance(answer.parsed["Datapoints"][0]["Timestamp"], datetime.datetime)

    def test_cbor_unknown_operation(self):
        self.assertCborError(*self.cbor_raw("NoSuchOperation", b"\xa0"), 404,
                             "UnknownOperationException")

    def test_cbor_body_that_does_not_decode(self):
        self.assertCborError(*self.cbor_raw("DescribeAlarms", b"\xa1\x63"), 400,
                             "SerializationException")

    def test_cbor_error_from_moto(self):
        answer = self.call("cbor", "GetDashboard", {"DashboardName": "missing"})
        self.assertCborError(answer.status, answer.headers, answer.body, 404, "ResourceNotFound")
        self.assertEqual(answer.headers.get("x-amzn-query-error"), "ResourceNotFound;Sender")
        self.assertEqual(answer.parsed["Error"]["Code"], "ResourceNotFound")

    def test_cbor_requests_are_logged_on_their_own_route(self):
        self.call("cbor", "ListDashboards", {})
        self.assertIn(
            "POST /service/GraniteServiceVersion20100801/operation/ListDashboards",
            self.wrapper.log_text(),
        )



# --- Organizations, organization trails, STS trust ------------------------------------------------

ROOT_CREDENTIALS = ("test", "test", None)  # what the Rust harness bootstraps with
_next_account = iter(range(310_000_000_000, 320_000_000_000))


def new_account_id():
    return f"{next(_next_account):012d}"


def trust(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal, condition=None, effect="Allow"):
    statement = {"Effect": effect, "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return statement


class OrganizationTest(unittest.TestCase):
    """The Organizations, organization-trail and STS-trust patches, through boto3."""

    @classmethod
    def setUpClass(cls):
        cls.wrapper = Wrapper()

    @classmethod
    def tearDownClass(cls):
        cls.wrapper.stop()

    def client(self, service, credentials=ROOT_CREDENTIALS, region="us-east-1", **config):
        key, secret, token = credentials
        return boto3.client(
            service, region_name=region, endpoint_url=self.wrapper.endpoint,
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
            config=Config(retries={"total_max_attempts": 1}, **config),
        )

    def assume(self, account_id, role="trailwatch-test", credentials=ROOT_CREDENTIALS, **params):
        answer = self.client("sts", credentials).assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{role}", RoleSessionName="check", **params
        )["Credentials"]
        return answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"]

    def assertDenied(self, call, code):
        with self.assertRaises(ClientError) as raised:
            call()
        self.assertEqual(raised.exception.response["Error"]["Code"], code,
                         raised.exception.response["Error"])
        return raised.exception.response

    def organization(self, members, feature_set="ALL"):
        """A new organization: (management account id, its credentials, member account ids)."""
        management = new_account_id()
        credentials = self.assume(management)
        organizations = self.client("organizations", credentials)
        organizations.create_organization(FeatureSet=feature_set)
        ids = [
            organizations.create_account(AccountName=f"member-{n}", Email=f"m{n}@example.com")[
                "CreateAccountStatus"]["AccountId"]
            for n in range(members)
        ]
        return management, credentials, ids

    def org_trail(self, credentials, name, region="us-east-1", multi_region=True, tags=()):
        account = self.client("sts", credentials).get_caller_identity()["Account"]
        cloudtrail = self.client("cloudtrail", credentials, region)
        trail = cloudtrail.create_trail(
            Name=name, S3BucketName="org-trail-logs", IsMultiRegionTrail=multi_region,
            IsOrganizationTrail=True,
            CloudWatchLogsLogGroupArn=f"arn:aws:logs:{region}:{account}:log-group:org:*",
            CloudWatchLogsRoleArn=f"arn:aws:iam::{account}:role/CloudTrailToLogs",
            TagsList=[{"Key": key, "Value": value} for key, value in tags],
        )
        return trail["TrailARN"]

    def member(self, management_credentials, member_id):
        """The member as the management account reaches it: its OrganizationAccountAccessRole
        (created by CreateAccount, trusting the management account)."""
        return self.assume(member_id, "OrganizationAccountAccessRole", management_credentials)

    # --- organization trails seen from members ---------------------------------------------------

    def test_member_lists_the_organization_trail_as_its_owner_has_it(self):
        _, management, [member_id] = self.organization(1)
        arn = self.org_trail(management, "org-everywhere")
        [owned] = self.client("cloudtrail", management).describe_trails()["trailList"]
        member = self.member(management, member_id)
        for region in ("us-east-1", "eu-west-1"):
            [seen] = self.client("cloudtrail", member, region).describe_trails()["trailList"]
            self.assertEqual(seen, owned)
            self.assertEqual(seen["TrailARN"], arn)
            self.assertTrue(seen["IsOrganizationTrail"])
            self.assertEqual(seen["HomeRegion"], "us-east-1")
            self.assertEqual(seen["CloudWatchLogsLogGroupArn"], owned["CloudWatchLogsLogGroupArn"])
            self.assertNotIn(member_id, seen["TrailARN"])
        # Not the member's own trail.
        hidden = self.client("cloudtrail", member).describe_trails(includeShadowTrails=False)
        self.assertEqual(hidden["trailList"], [])

    def test_single_region_organization_trail_is_seen_in_its_home_region_only(self):
        _, management, [member_id] = self.organization(1)
        arn = self.org_trail(management, "org-home-only", region="eu-west-2", multi_region=False)
        member = self.member(management, member_id)
        listed = self.client("cloudtrail", member, "eu-west-2").describe_trails()["trailList"]
        self.assertEqual([trail["TrailARN"] for trail in listed], [arn])
        elsewhere = self.client("cloudtrail", member, "us-east-1").describe_trails()
        self.assertEqual(elsewhere["trailList"], [])

    def test_member_reads_the_trail_status_by_arn_only_and_never_its_selectors(self):
        _, management, [member_id] = self.organization(1)
        arn = self.org_trail(
            management, "org-status", tags=[("trailwatch-test:latest-cw-delivery", "1700000000")]
        )
        self.client("cloudtrail", management).start_logging(Name=arn)
        member = self.client("cloudtrail", self.member(management, member_id))
        status = member.get_trail_status(Name=arn)
        self.assertTrue(status["IsLogging"])
        self.assertEqual(status["LatestCloudWatchLogsDeliveryTime"].timestamp(), 1700000000)
        # GetEventSelectors on another account's organization trail is refused to a member
        # (reported of AWS; the code is the wrapper's guess); its owner reads them.
        self.assertDenied(lambda: member.get_event_selectors(TrailName=arn),
                          "TrailNotFoundException")
        selectors = self.client("cloudtrail", management).get_event_selectors(TrailName=arn)
        self.assertEqual(selectors["TrailARN"], arn)
        self.assertEqual(selectors["EventSelectors"][0]["ReadWriteType"], "All")
        # Names resolve in the caller's account.
        self.assertDenied(lambda: member.get_trail_status(Name="org-status"),
                          "TrailNotFoundException")
        self.assertDenied(lambda: member.get_event_selectors(TrailName="org-status"),
                          "TrailNotFoundException")

    def test_member_calls_are_throttled_by_the_trail_tag(self):
        _, management, [member_id] = self.organization(1)
        arn = self.org_trail(management, "org-throttled", tags=[("trailwatch-test:throttle", "1")])
        member = self.client("cloudtrail", self.member(management, member_id))
        self.assertDenied(lambda: member.get_trail_status(Name=arn), "ThrottlingException")
        self.assertIn("IsLogging", member.get_trail_status(Name=arn))

    def test_closed_and_suspended_members_do_not_see_the_trail(self):
        _, management, [closed, suspended, closing] = self.organization(3)
        organizations = self.client("organizations", management)
        sessions = {m: self.member(management, m) for m in (closed, suspended, closing)}
        arn = self.org_trail(management, "org-states")
        organizations.close_account(AccountId=closed)
        for member, state in ((suspended, "SUSPENDED"), (closing, "PENDING_CLOSURE")):
            organizations.tag_resource(
                ResourceId=member, Tags=[{"Key": "trailwatch-test:state", "Value": state}]
            )
        # Sessions opened before: a PENDING_CLOSURE account still works and sees it; the others not.
        def listed(member):
            trails = self.client("cloudtrail", sessions[member]).describe_trails()["trailList"]
            return [trail["TrailARN"] for trail in trails]

        self.assertEqual(listed(closing), [arn])
        self.assertEqual(listed(closed), [])
        self.assertEqual(listed(suspended), [])
        member = self.client("cloudtrail", sessions[closed])
        self.assertDenied(lambda: member.get_trail_status(Name=arn), "TrailNotFoundException")
        # And no new session reaches them, whatever the role.
        for member in (closed, suspended):
            self.assertDenied(lambda: self.member(management, member), "AccessDenied")
            self.assertDenied(lambda: self.assume(member), "AccessDenied")
        self.member(management, closing)

    def test_only_the_management_account_creates_organization_trails(self):
        _, management, [member_id] = self.organization(1)
        member = self.member(management, member_id)
        self.assertDenied(lambda: self.org_trail(member, "not-mine"),
                          "NotOrganizationMasterAccountException")
        self.assertDenied(
            lambda: self.client("cloudtrail", member).update_trail(
                Name="anything", IsOrganizationTrail=True),
            "NotOrganizationMasterAccountException",
        )
        self.assertDenied(lambda: self.org_trail(self.assume(new_account_id()), "no-org"),
                          "OrganizationsNotInUseException")
        _, billing_only, _ = self.organization(0, feature_set="CONSOLIDATED_BILLING")
        self.assertDenied(lambda: self.org_trail(billing_only, "billing-only"),
                          "OrganizationNotInAllFeaturesModeException")
        # A member's own trail is its own business.
        self.client("cloudtrail", member).create_trail(Name="own", S3BucketName="own-logs")

    # --- Organizations: accounts -------------------------------------------------------------

    def test_list_accounts_pages_at_20_with_status_and_state(self):
        management, credentials, members = self.organization(21)
        organizations = self.client("organizations", credentials)
        organizations.close_account(AccountId=members[0])
        first = organizations.list_accounts()
        self.assertEqual(len(first["Accounts"]), 20)
        second = organizations.list_accounts(NextToken=first["NextToken"])
        self.assertEqual(len(second["Accounts"]), 2)
        self.assertNotIn("NextToken", second)
        accounts = {a["Id"]: a for a in first["Accounts"] + second["Accounts"]}
        self.assertEqual(set(accounts), {management, *members})
        self.assertEqual((accounts[members[0]]["State"], accounts[members[0]]["Status"]),
                         ("CLOSED", "SUSPENDED"))
        for account_id in [management, *members[1:]]:
            self.assertEqual((accounts[account_id]["State"], accounts[account_id]["Status"]),
                             ("ACTIVE", "ACTIVE"))
        paged = [
            len(page["Accounts"])
            for page in organizations.get_paginator("list_accounts").paginate(
                PaginationConfig={"PageSize": 5})
        ]
        self.assertEqual(paged, [5, 5, 5, 5, 2])
        loose = self.client("organizations", credentials, parameter_validation=False)
        response = self.assertDenied(lambda: loose.list_accounts(MaxResults=21),
                                     "InvalidInputException")
        self.assertEqual(response["Reason"], "MAX_VALUE_EXCEEDED")
        response = self.assertDenied(lambda: organizations.list_accounts(NextToken="nonsense"),
                                     "InvalidInputException")
        self.assertEqual(response["Reason"], "INVALID_NEXT_TOKEN")

    def test_account_state_control(self):
        _, credentials, [member_id] = self.organization(1)
        organizations = self.client("organizations", credentials)

        def state():
            described = organizations.describe_account(AccountId=member_id)["Account"]
            listing = organizations.list_accounts()["Accounts"]
            [listed] = [a for a in listing if a["Id"] == member_id]
            self.assertEqual((listed["State"], listed["Status"]),
                             (described["State"], described["Status"]))
            return described["State"], described["Status"]

        def tag(value):
            organizations.tag_resource(ResourceId=member_id,
                                       Tags=[{"Key": "trailwatch-test:state", "Value": value}])

        tag("PENDING_ACTIVATION")
        self.assertEqual(state(), ("PENDING_ACTIVATION", "ACTIVE"))
        tag("PENDING_CLOSURE")
        self.assertEqual(state(), ("PENDING_CLOSURE", "PENDING_CLOSURE"))
        organizations.close_account(AccountId=member_id)  # the tag holds it in PENDING_CLOSURE
        self.assertEqual(state(), ("PENDING_CLOSURE", "PENDING_CLOSURE"))
        organizations.untag_resource(ResourceId=member_id, TagKeys=["trailwatch-test:state"])
        self.assertEqual(state(), ("CLOSED", "SUSPENDED"))
        self.assertDenied(lambda: organizations.close_account(AccountId=member_id),
                          "AccountAlreadyClosedException")
        self.assertDenied(lambda: tag("GONE"), "InvalidInputException")

    def test_only_the_management_account_lists_accounts(self):
        _, management, [member_id] = self.organization(1)
        member = self.client("organizations", self.member(management, member_id))
        self.assertDenied(member.list_accounts, "AccessDeniedException")
        self.assertDenied(lambda: member.describe_account(AccountId=member_id),
                          "AccessDeniedException")
        outsider = self.client("organizations", self.assume(new_account_id()))
        self.assertDenied(outsider.list_accounts, "AWSOrganizationsNotInUseException")

    # --- STS trust ----------------------------------------------------------------------------

    def role(self, account_id, name, policy, **params):
        iam = self.client("iam", self.assume(account_id))
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=policy, **params)
        return role["Role"]["Arn"]

    def test_assume_role_into_a_missing_role_is_denied(self):
        target = new_account_id()
        response = self.assertDenied(lambda: self.assume(target, "nobody"), "AccessDenied")
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertEqual(
            response["Error"]["Message"],
            "User: arn:aws:sts::123456789012:user/moto is not authorized to perform: "
            f"sts:AssumeRole on resource: arn:aws:iam::{target}:role/nobody",
        )
        self.assertIn(f"AssumeRole into arn:aws:iam::{target}:role/nobody", self.wrapper.log_text())

    def test_assume_role_follows_the_trust_policy_principal(self):
        target, caller_account = new_account_id(), new_account_id()
        caller = self.assume(caller_account)
        caller_arn = f"arn:aws:sts::{caller_account}:assumed-role/trailwatch-test/check"
        iam = f"arn:aws:iam::{caller_account}"
        for name, statements in {
            "by-account": [allow({"AWS": f"{iam}:root"})],
            "by-id": [allow({"AWS": caller_account})],
            "by-role": [allow({"AWS": f"{iam}:role/trailwatch-test"})],
            "by-session": [allow({"AWS": caller_arn})],
            "by-anyone": [allow("*")],
            "by-other-role": [allow({"AWS": f"{iam}:role/other"})],
            "by-other-account": [allow({"AWS": f"arn:aws:iam::{target}:root"})],
            "by-service": [allow({"Service": "lambda.amazonaws.com"})],
            "denied-explicitly": [allow("*"), allow({"AWS": caller_account}, effect="Deny")],
        }.items():
            self.role(target, name, trust(*statements))
        for name in ("by-account", "by-id", "by-role", "by-session", "by-anyone"):
            assumed = self.client("sts", self.assume(target, name, caller)).get_caller_identity()
            self.assertEqual(assumed["Account"], target)  # they act as the role's account
            self.assertEqual(assumed["Arn"], f"arn:aws:sts::{target}:assumed-role/{name}/check")
        for name in ("by-other-role", "by-other-account", "by-service", "denied-explicitly"):
            response = self.assertDenied(lambda: self.assume(target, name, caller), "AccessDenied")
            self.assertEqual(
                response["Error"]["Message"],
                f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: "
                f"arn:aws:iam::{target}:role/{name}",
            )

    def test_assume_role_checks_the_external_id(self):
        target, caller_account = new_account_id(), new_account_id()
        caller = self.assume(caller_account)
        self.role(target, "needs-id", trust(allow(
            {"AWS": caller_account}, {"StringEquals": {"sts:ExternalId": "s3cret-42"}})))
        self.role(target, "no-id", trust(allow({"AWS": caller_account})))
        self.assertDenied(lambda: self.assume(target, "needs-id", caller), "AccessDenied")
        self.assertDenied(lambda: self.assume(target, "needs-id", caller, ExternalId="wrong-id"),
                          "AccessDenied")
        self.assume(target, "needs-id", caller, ExternalId="s3cret-42")
        self.assume(target, "no-id", caller, ExternalId="not-asked-for")  # AWS accepts it too

    def test_assume_role_conditions_on_the_caller(self):
        management, credentials, [member_id] = self.organization(1)
        organization_id = self.client("organizations", credentials).describe_organization()[
            "Organization"]["Id"]
        target = new_account_id()
        self.role(target, "org-only", trust(allow(
            "*", {"StringEquals": {"aws:PrincipalOrgID": organization_id}})))
        self.role(target, "not-from-management", trust(allow(
            "*", {"StringNotEquals": {"aws:PrincipalAccount": management}})))
        self.role(target, "session-name", trust(allow(
            "*", {"StringLike": {"sts:RoleSessionName": "che*"}})))
        self.role(target, "id-if-any", trust(allow(
            "*", {"StringEqualsIfExists": {"sts:ExternalId": "only-this"}})))
        member = self.member(credentials, member_id)
        self.assume(target, "org-only", member)
        self.assertDenied(lambda: self.assume(target, "org-only"), "AccessDenied")
        self.assume(target, "not-from-management", member)
        self.assertDenied(lambda: self.assume(target, "not-from-management", credentials),
                          "AccessDenied")
        self.assume(target, "session-name")
        self.assume(target, "id-if-any")
        self.assertDenied(lambda: self.assume(target, "id-if-any", ExternalId="another"),
                          "AccessDenied")

    def test_unsupported_conditions_deny(self):
        target = new_account_id()
        self.role(target, "by-ip", trust(allow("*", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
        self.assertDenied(lambda: self.assume(target, "by-ip"), "AccessDenied")
        self.assertIn("condition operator IpAddress is not evaluated", self.wrapper.log_text())

    def test_bootstrap_role_needs_no_role(self):
        target = new_account_id()
        assumed = self.client("sts", self.assume(target)).get_caller_identity()
        self.assertEqual((assumed["Account"], assumed["Arn"]),
                         (target, f"arn:aws:sts::{target}:assumed-role/trailwatch-test/check"))
        # Also from an assumed session, and with a session policy (TestAccount::denying).
        self.assume(target, credentials=self.assume(new_account_id()),
                    Policy=json.dumps({"Statement": [{"Effect": "Deny", "Action": "sns:*",
                                                      "Resource": "*"}]}))

    def test_deny_assume_role_account_tag(self):
        _, management, [member_id] = self.organization(1)
        organizations = self.client("organizations", management)
        organizations.tag_resource(ResourceId=member_id, Tags=[
            {"Key": "trailwatch-test:deny-assume-role", "Value": "OrganizationAccountAccessRole"}])
        self.assertDenied(lambda: self.member(management, member_id), "AccessDenied")
        self.assume(member_id)  # other roles are not named
        organizations.tag_resource(ResourceId=member_id, Tags=[
            {"Key": "trailwatch-test:deny-assume-role", "Value": "*"}])
        self.assertDenied(lambda: self.assume(member_id), "AccessDenied")
        organizations.untag_resource(ResourceId=member_id,
                                     TagKeys=["trailwatch-test:deny-assume-role"])
        self.member(management, member_id)

    def test_assume_role_validates_its_parameters(self):
        sts = self.client("sts", parameter_validation=False)
        arn = f"arn:aws:iam::{new_account_id()}:role/trailwatch-test"
        for name in ("x", "y" * 65, "has space", "caf\u00e9"):
            response = self.assertDenied(
                lambda: sts.assume_role(RoleArn=arn, RoleSessionName=name), "ValidationError")
            self.assertIn("at 'roleSessionName' failed to satisfy constraint",
                          response["Error"]["Message"])
        sts.assume_role(RoleArn=arn, RoleSessionName="a_b+c=d,e.f@g-h")
        self.assertDenied(
            lambda: sts.assume_role(RoleArn=arn, RoleSessionName="ok", DurationSeconds=60),
            "ValidationError",
        )

    def test_assume_role_duration_limits(self):
        target = new_account_id()
        self.role(target, "short", trust(allow("*")))
        self.role(target, "long", trust(allow("*")), MaxSessionDuration=7200)
        response = self.assertDenied(lambda: self.assume(target, "short", DurationSeconds=7200),
                                     "ValidationError")
        self.assertEqual(
            response["Error"]["Message"],
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        )
        self.assume(target, "long", DurationSeconds=7200)
        chained = self.assume(new_account_id())
        response = self.assertDenied(
            lambda: self.assume(target, "long", chained, DurationSeconds=7200), "ValidationError")
        self.assertEqual(
            response["Error"]["Message"],
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by "
            "role chaining.",
        )
        self.assume(target, "long", chained, DurationSeconds=3600)

    # --- Security Hub GetFindings filters ---------------------------------------------------------

    def test_get_findings_applies_string_filters_before_paging(self):
        account = new_account_id()
        hub = self.client("securityhub", self.assume(account))
        product = f"arn:aws:securityhub:us-east-1:{account}:product/{account}/default"

        def finding(n, generator):
            return {
                "SchemaVersion": "2018-10-08", "Id": f"trailwatch/aws/{account}/{generator}/{n}",
                "ProductArn": product, "GeneratorId": f"trailwatch/{generator}",
                "AwsAccountId": account, "Types": ["Software and Configuration Checks"],
                "CreatedAt": "2026-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z",
                "Severity": {"Label": "LOW"}, "Title": "t", "Description": "d",
                "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{n:012d}"}],
            }

        for start in range(0, 250, 100):
            hub.batch_import_findings(
                Findings=[finding(n, "scan-coverage") for n in range(start, min(start + 100, 250))])
        hub.batch_import_findings(Findings=[finding(0, "nacl-changes")])
        wanted = [f"trailwatch/aws/{account}/scan-coverage/{n}" for n in (7, 123, 249)]
        page = hub.get_findings(
            Filters={"Id": [{"Value": id, "Comparison": "EQUALS"} for id in wanted]},
            MaxResults=100)
        self.assertEqual(sorted(f["Id"] for f in page["Findings"]), sorted(wanted))
        self.assertNotIn("NextToken", page)
        # Different fields are ANDed; PREFIX and EQUALS on one field ORed; negations ANDed.
        both = {"Id": [{"Value": wanted[0], "Comparison": "EQUALS"}],
                "GeneratorId": [{"Value": "trailwatch/nacl", "Comparison": "PREFIX"}]}
        self.assertEqual(hub.get_findings(Filters=both)["Findings"], [])
        others = hub.get_findings(Filters={"GeneratorId": [
            {"Value": "trailwatch/scan-coverage", "Comparison": "NOT_EQUALS"}]})["Findings"]
        self.assertEqual([f["GeneratorId"] for f in others], ["trailwatch/nacl-changes"])
        # Paging goes over the filtered findings only.
        prefix = {"GeneratorId": [{"Value": "trailwatch/scan", "Comparison": "PREFIX"}]}
        first = hub.get_findings(Filters=prefix, MaxResults=100)
        second = hub.get_findings(Filters=prefix, MaxResults=100, NextToken=first["NextToken"])
        third = hub.get_findings(Filters=prefix, MaxResults=100, NextToken=second["NextToken"])
        self.assertEqual([len(p["Findings"]) for p in (first, second, third)], [100, 100, 50])
        self.assertNotIn("NextToken", third)


class SqsAttributesTest(unittest.TestCase):
    """The wrapper's lazily computed SQS queue attributes answer what stock moto's do, for every
    kind of queue and message state (in process: moto's own property beside the wrapper's)."""

    def test_same_attributes_as_stock_moto(self):
        from moto.sqs import models as sqs_models

        stock = sqs_models.Queue.attributes
        sys.path.insert(0, os.path.dirname(WRAPPER))
        try:
            import moto_wrapper  # noqa: F401 (patches moto on import)
        finally:
            sys.path.pop(0)

        self.assertIsNot(sqs_models.Queue.attributes, stock)
        backend = sqs_models.sqs_backends["123456789012"]["us-east-1"]
        dead = backend.create_queue("dead")
        queues = [
            backend.create_queue("plain"),
            backend.create_queue("fifo.fifo", FifoQueue="true", ContentBasedDeduplication="true"),
            backend.create_queue("kms", KmsMasterKeyId="alias/aws/sqs"),
            backend.create_queue(
                "redriven",
                Policy=json.dumps({"Version": "2012-10-17", "Statement": []}),
                RedrivePolicy=json.dumps({"deadLetterTargetArn": dead.queue_arn,
                                          "maxReceiveCount": 3}),
            ),
        ]
        for queue in queues:
            group = {"group_id": "g"} if queue.fifo_queue else {}
            for n in range(3):
                backend.send_message(queue.name, f"visible {n}", **group)
            if not queue.fifo_queue:
                backend.send_message(queue.name, "delayed", delay_seconds=600)
            backend.receive_message(queue.name, 1, 0, 600, [])
            with self.subTest(queue=queue.name):
                attributes = queue.attributes
                self.assertEqual(dict(attributes), stock.fget(queue))
                self.assertEqual(attributes.get("ApproximateNumberOfMessagesNotVisible"), 1)
                self.assertEqual(attributes.get("ApproximateNumberOfMessages"), 2)
                self.assertNotIn("NoSuchAttribute", attributes)
                self.assertIn("QueueArn", attributes)
                self.assertEqual(
                    backend.get_queue_attributes(queue.name, ["All"]),
                    stock.fget(queue),
                )


if __name__ == "__main__":
    unittest.main()
