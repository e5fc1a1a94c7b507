"""Self-check of tools/moto_wrapper.py's CloudWatch patches: the Smithy RPC v2 CBOR bridge and
composite alarms, over the three protocols a client may speak (boto3's awsJson1_0, awsQuery, and
CBOR as the Rust SDK sends it).

Usage: python tools/test_moto_wrapper.py   (scripts/test.sh runs it with the virtualenv's Python)

Starts the wrapper on a free loopback port. The query and CBOR requests are built and their answers
read with botocore's own serializers and parsers, from botocore's CloudWatch model.
"""

import datetime
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

    def check_composite_alarms(self, put_metric, put_composite, describe, delete, names):
        child, parent = names
        put_metric(
            AlarmName=child, MetricName="M", Namespace="N", Statistic="Sum", Period=300,
            EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanThreshold",
        )
        put_composite(
            AlarmName=parent, AlarmRule=f'ALARM("{child}")',
            AlarmActions=["arn:aws:sns:us-east-1:123456789012:alerts"],
            OKActions=["arn:aws:sns:us-east-1:123456789012:ok"],
        )
        composite = describe(AlarmTypes=["CompositeAlarm"])
        self.assertEqual(composite.get("MetricAlarms", []), [])
        [alarm] = composite["CompositeAlarms"]
        self.assertEqual(alarm["AlarmName"], parent)
        self.assertEqual(alarm["AlarmRule"], f'ALARM("{child}")')
        self.assertTrue(alarm["AlarmArn"].endswith(f":alarm:{parent}"), alarm["AlarmArn"])
        self.assertIs(alarm["ActionsEnabled"], True)
        self.assertEqual(alarm["AlarmActions"], ["arn:aws:sns:us-east-1:123456789012:alerts"])
        self.assertEqual(alarm["OKActions"], ["arn:aws:sns:us-east-1:123456789012:ok"])
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
            client.delete_alarms, ("json-child", "json-parent"),
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
        self.check_composite_alarms(*self.over("query", "eu-west-2"), names)

    def test_composite_alarms_over_cbor(self):
        names = ("cbor-child", "cbor-parent")
        self.check_composite_alarms(*self.over("cbor", "eu-west-3"), names)

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


if __name__ == "__main__":
    unittest.main()
