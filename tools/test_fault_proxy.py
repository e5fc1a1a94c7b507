"""Tests of tools/fault_proxy.py against the moto wrapper, with boto3/botocore's real parsers.

Run: .venv/bin/python -m unittest tools/test_fault_proxy.py   (scripts/test.sh does)
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

import boto3
import botocore.config
import botocore.exceptions
from botocore.parsers import RpcV2CBORParser
from botocore.retries import standard

HERE = os.path.dirname(os.path.abspath(__file__))
NO_RETRIES = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
CREDENTIALS = dict(region_name="us-east-1", aws_access_key_id="testing",
                   aws_secret_access_key="testing")
# A SigV4 Authorization header as the SDKs send it; moto does not check the signature.
def authorization(service):
    return (f"AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=0")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port, process, deadline_s=30):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def setUpModule():
    global MOTO, PROXY, MOTO_URL, PROXY_URL, PROXY_PORT
    moto_port = free_port()
    MOTO = subprocess.Popen([sys.executable, os.path.join(HERE, "moto_wrapper.py"), str(moto_port)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    PROXY = subprocess.Popen([sys.executable, os.path.join(HERE, "fault_proxy.py"), "0",
                              f"http://127.0.0.1:{moto_port}"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = PROXY.stdout.readline().decode()
    assert line.startswith("fault_proxy listening on 127.0.0.1:"), line
    PROXY_PORT = int(line.rsplit(":", 1)[1])
    wait_for_port(moto_port, MOTO)
    MOTO_URL, PROXY_URL = f"http://127.0.0.1:{moto_port}", f"http://127.0.0.1:{PROXY_PORT}"


def tearDownModule():
    for process in (PROXY, MOTO):
        process.stdin.close()  # both exit when their stdin closes
    for process in (PROXY, MOTO):
        process.wait(timeout=10)
    PROXY.stdout.close()


_clients = {}


def client(service, via_proxy=True, config=NO_RETRIES):
    key = (service, via_proxy, id(config))
    if key not in _clients:
        _clients[key] = boto3.client(service, endpoint_url=PROXY_URL if via_proxy else MOTO_URL,
                                     config=config, **CREDENTIALS)
    return _clients[key]


def control(path, body=None):
    request = urllib.request.Request(
        f"{PROXY_URL}/__proxy/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def configure(**config):
    answer = control("config", config)
    assert answer["ok"], answer
    control("reset", {})


def stats(operation):
    return control("stats")["operations"].get(operation, {})


def raw_request(method, path, headers, body=b""):
    connection = http.client.HTTPConnection("127.0.0.1", PROXY_PORT, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def is_throttling(error):
    """Whether botocore's standard retry handler classifies this ClientError as throttling."""
    context = standard.RetryContext(attempt_number=1, parsed_response=error.response)
    return standard.ThrottledRetryableChecker().is_retryable(context)


def is_transient(error=None, exception=None, status=None):
    """Whether botocore's standard retry handler classifies the failure as transient."""
    http_response = None
    if status is not None:
        http_response = type("Response", (), {"status_code": status})()
    context = standard.RetryContext(
        attempt_number=1,
        parsed_response=error.response if error is not None else None,
        caught_exception=exception,
        http_response=http_response,
    )
    return standard.TransientRetryableChecker().is_retryable(context)


class Throttling(unittest.TestCase):
    def setUp(self):
        configure(faults=[{"kind": "throttle"}])

    def assert_throttled(self, call, code, status):
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            call()
        error = caught.exception
        self.assertEqual(error.response["Error"]["Code"], code)
        self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], status)
        self.assertIn(code, standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES)
        self.assertTrue(is_throttling(error))

    def test_every_code_the_proxy_picks_is_throttling_for_botocore(self):
        sys.path.insert(0, HERE)
        import fault_proxy

        codes = set(fault_proxy.THROTTLING_PREFERENCE)
        codes |= {code for code, _ in fault_proxy.DEFAULT_THROTTLE.values()}
        self.assertLessEqual(codes, set(standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES))

    def test_json_protocol(self):
        self.assert_throttled(client("cloudtrail").describe_trails, "ThrottlingException", 400)
        self.assert_throttled(client("organizations").list_accounts,
                              "TooManyRequestsException", 400)
        self.assertEqual(stats("cloudtrail:DescribeTrails")["throttled"], 1)
        self.assertEqual(stats("organizations:ListAccounts")["throttled"], 1)

    def test_json_answer_is_in_the_request_json_version(self):
        for version, service, target in [
            ("1.1", "cloudtrail", "CloudTrail_20131101.DescribeTrails"),
            ("1.0", "sqs", "AmazonSQS.ListQueues"),
        ]:
            status, headers, body = raw_request("POST", "/", {
                "Content-Type": f"application/x-amz-json-{version}",
                "X-Amz-Target": target,
                "Authorization": authorization(service),
            }, b"{}")
            self.assertEqual(status, 400)
            self.assertEqual(headers["Content-Type"], f"application/x-amz-json-{version}")
            self.assertEqual(json.loads(body)["__type"], headers["x-amzn-ErrorType"])

    def test_query_protocol(self):
        self.assert_throttled(client("sns").list_topics, "Throttling", 400)
        self.assert_throttled(client("sts").get_caller_identity, "Throttling", 400)
        status, headers, body = raw_request("POST", "/", {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": authorization("sts"),
        }, b"Action=GetCallerIdentity&Version=2011-06-15")
        self.assertEqual((status, headers["Content-Type"]), (400, "text/xml"))
        self.assertIn(b"<Error><Type>Sender</Type><Code>Throttling</Code>", body)
        self.assertEqual(stats("sts:GetCallerIdentity")["throttled"], 2)

    def test_rest_json_protocol(self):
        # Security Hub models its throttling as LimitExceededException, HTTP 429.
        self.assert_throttled(client("securityhub").get_findings, "LimitExceededException", 429)
        self.assert_throttled(client("account").list_regions, "TooManyRequestsException", 429)
        self.assertEqual(stats("securityhub:GetFindings")["throttled"], 1)
        self.assertEqual(stats("account:ListRegions")["throttled"], 1)

    def test_cbor_protocol(self):
        status, headers, body = raw_request(
            "POST", "/service/GraniteServiceVersion20100801/operation/DescribeAlarms", {
                "Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor",
                "Accept": "application/cbor", "Authorization": authorization("monitoring"),
            }, b"\xa0")
        self.assertEqual(status, 400)
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(headers["Content-Type"], "application/cbor")
        decoded = RpcV2CBORParser()._initial_body_parse(body)
        self.assertEqual(decoded, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        # CloudWatch is awsQueryCompatible: its query code travels in x-amzn-query-error.
        self.assertEqual(headers["x-amzn-query-error"], "Throttling;Sender")
        self.assertEqual(stats("cloudwatch:DescribeAlarms")["throttled"], 1)
        # botocore's own CloudWatch client speaks CBOR and reads it as throttling.
        self.assert_throttled(client("cloudwatch").describe_alarms, "Throttling", 400)


class OtherFaults(unittest.TestCase):
    def test_503_and_500_in_the_protocol_shape(self):
        configure(faults=[
            {"kind": "status", "status": 503, "operations": ["sts:*", "cloudtrail:*"]},
            {"kind": "status", "status": 500},
        ])
        for call, code, status in [
            (client("sts").get_caller_identity, "ServiceUnavailable", 503),
            (client("cloudtrail").describe_trails, "ServiceUnavailable", 503),
            (client("securityhub").get_findings, "InternalFailure", 500),
        ]:
            with self.assertRaises(botocore.exceptions.ClientError) as caught:
                call()
            response = caught.exception.response
            self.assertEqual(response["Error"]["Code"], code)
            self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], status)
            self.assertTrue(is_transient(caught.exception, status=status))
        self.assertEqual(stats("sts:GetCallerIdentity")["status_503"], 1)
        self.assertEqual(stats("securityhub:GetFindings")["status_500"], 1)

    def test_reset_is_a_tcp_reset(self):
        configure(faults=[{"kind": "reset", "operations": ["sts:GetCallerIdentity"]}])
        with self.assertRaises(botocore.exceptions.ConnectionClosedError) as caught:
            client("sts").get_caller_identity()
        self.assertTrue(is_transient(exception=caught.exception))
        with socket.create_connection(("127.0.0.1", PROXY_PORT), timeout=5) as raw:
            body = b"Action=GetCallerIdentity&Version=2011-06-15"
            raw.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
                        b"urlencoded\r\nAuthorization: " + authorization("sts").encode() +
                        b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            with self.assertRaises(ConnectionResetError):  # an RST, not an orderly close
                raw.recv(1024)
        self.assertEqual(stats("sts:GetCallerIdentity")["reset"], 2)
        # The proxy keeps serving other connections.
        client("sns").list_topics()

    def test_slow_answers(self):
        configure(faults=[{"kind": "slow", "delay_ms": 300, "operations": ["sns:ListTopics"]},
                          {"kind": "slow", "delay_ms": 300, "trickle": True,
                           "operations": ["sts:*"]}])
        for call in (client("sns").list_topics, client("sts").get_caller_identity):
            started = time.monotonic()
            call()
            self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(stats("sns:ListTopics")["slow"], 1)
        self.assertEqual(stats("sts:GetCallerIdentity")["forwarded"], 1)


class Forwarding(unittest.TestCase):
    def test_latency_is_applied_concurrently(self):
        configure(latency_ms=200)
        started = time.monotonic()
        client("sts").get_caller_identity()
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        # 16 connections at once: delayed together, not one after another.
        errors = []

        def call():
            try:
                connection = http.client.HTTPConnection("127.0.0.1", PROXY_PORT, timeout=10)
                connection.request("POST", "/", "Action=ListTopics", {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Authorization": authorization("sns")})
                response = connection.getresponse()
                response.read()
                connection.close()
                errors.append(None if response.status == 200 else response.status)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=call) for _ in range(16)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        self.assertEqual(errors, [None] * 16)
        self.assertGreaterEqual(elapsed, 0.2)
        self.assertLess(elapsed, 1.5)
        self.assertGreaterEqual(control("stats")["max_in_flight"], 8)

    def test_faulted_request_never_reaches_moto(self):
        configure(faults=[{"kind": "throttle", "operations": ["sns:CreateTopic"]},
                          {"kind": "status", "status": 503, "operations": ["sns:Publish"]},
                          {"kind": "reset", "operations": ["logs:CreateLogGroup"]}])
        with self.assertRaises(botocore.exceptions.ClientError):
            client("sns").create_topic(Name="never-created")
        with self.assertRaises(botocore.exceptions.ConnectionClosedError):
            client("logs").create_log_group(logGroupName="never-created")
        direct = client("sns", via_proxy=False).list_topics()["Topics"]
        self.assertFalse([t for t in direct if t["TopicArn"].endswith(":never-created")])
        groups = client("logs", via_proxy=False).describe_log_groups(
            logGroupNamePrefix="never-created")["logGroups"]
        self.assertEqual(groups, [])
        counted = stats("sns:CreateTopic")
        self.assertEqual((counted["requests"], counted["throttled"], counted["forwarded"]),
                         (1, 1, 0))

    def test_first_n_requests_per_operation(self):
        configure(faults=[{"kind": "throttle", "first": 2,
                           "operations": ["cloudtrail:GetTrailStatus", "sts:GetCallerIdentity"]}])
        outcomes = []
        for _ in range(4):
            try:
                client("sts").get_caller_identity()
                outcomes.append("ok")
            except botocore.exceptions.ClientError as error:
                outcomes.append(error.response["Error"]["Code"])
        self.assertEqual(outcomes, ["Throttling", "Throttling", "ok", "ok"])
        self.assertEqual(
            {k: stats("sts:GetCallerIdentity")[k] for k in ("requests", "throttled", "forwarded")},
            {"requests": 4, "throttled": 2, "forwarded": 2},
        )
        # The SDK's retries get through: two throttled attempts, then the call succeeds.
        configure(faults=[{"kind": "throttle", "first": 2, "operations": ["cloudtrail:*"]}])
        retrying = botocore.config.Config(retries={"total_max_attempts": 3, "mode": "standard"})
        client("cloudtrail", config=retrying).describe_trails()
        self.assertEqual(stats("cloudtrail:DescribeTrails")["throttled"], 2)
        self.assertEqual(stats("cloudtrail:DescribeTrails")["forwarded"], 1)

    def test_seeded_faults_are_reproducible(self):
        def pattern():
            configure(seed=7, faults=[{"kind": "throttle", "rate": 0.3},
                                      {"kind": "status", "status": 503, "rate": 0.2}])
            codes = []
            for _ in range(30):
                status, _, _ = raw_request("POST", "/", {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Authorization": authorization("sns")}, b"Action=ListTopics")
                codes.append(status)
            return codes

        first = pattern()
        self.assertEqual(first, pattern())
        self.assertEqual(stats("sns:ListTopics")["throttled"], first.count(400))
        self.assertEqual(stats("sns:ListTopics")["status_503"], first.count(503))
        self.assertEqual(stats("sns:ListTopics")["forwarded"], first.count(200))
        self.assertTrue(0 < first.count(400) < 30 and 0 < first.count(503) < 30)

    def test_chunked_request_body(self):
        configure()

        def chunks():
            yield b"Action=List"
            yield b"Topics&Version=2010-03-31"

        connection = http.client.HTTPConnection("127.0.0.1", PROXY_PORT, timeout=10)
        connection.request("POST", "/", body=chunks(), encode_chunked=True, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": authorization("sns")})
        response = connection.getresponse()
        self.assertEqual(response.status, 200)
        self.assertIn(b"<ListTopicsResponse", response.read())
        # Keep-alive: a second request on the same connection.
        connection.request("POST", "/", body=b"Action=ListTopics", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": authorization("sns")})
        self.assertEqual(connection.getresponse().status, 200)
        connection.close()
        self.assertEqual(stats("sns:ListTopics")["forwarded"], 2)

    def test_operation_names(self):
        configure()
        client("securityhub").enable_security_hub()
        unvalidated = botocore.config.Config(retries={"total_max_attempts": 1},
                                             parameter_validation=False)
        try:  # the name is what counts here, not whether moto takes an empty batch
            client("securityhub", config=unvalidated).batch_import_findings(Findings=[])
        except botocore.exceptions.ClientError:
            pass
        client("securityhub").describe_hub()
        client("account").list_regions()
        client("logs").describe_metric_filters()
        client("cloudwatch").describe_alarms()  # botocore speaks CBOR to CloudWatch
        raw_request("POST", "/", {"Content-Type": "application/x-www-form-urlencoded",
                                  "Authorization": authorization("monitoring")},
                    b"Action=DescribeAlarms&Version=2010-08-01")  # the Rust SDK 1.99: query
        raw_request("POST", "/2015-03-31/functions/f/invocations",
                    {"Authorization": authorization("lambda")}, b"{}")
        names = control("stats")["operations"]
        self.assertEqual(names["cloudwatch:DescribeAlarms"]["requests"], 2)
        self.assertIn("lambda:Invoke", names)
        expected = {"securityhub:EnableSecurityHub", "securityhub:BatchImportFindings",
                    "securityhub:DescribeHub", "account:ListRegions",
                    "logs:DescribeMetricFilters", "cloudwatch:DescribeAlarms"}
        self.assertLessEqual(expected, set(names))


class Control(unittest.TestCase):
    def test_stats_reset_and_config(self):
        configure(latency_ms=0)
        client("sts").get_caller_identity()
        client("sts").get_caller_identity()
        snapshot = control("stats")
        self.assertEqual(snapshot["operations"]["sts:GetCallerIdentity"]["requests"], 2)
        self.assertEqual(snapshot["total"]["requests"], 2)
        self.assertEqual(control("reset", {}), {"ok": True})
        self.assertEqual(control("stats")["operations"], {})
        self.assertEqual(control("stats")["total"]["requests"], 0)

    def test_invalid_config_is_refused_and_the_old_one_kept(self):
        configure(latency_ms=5)
        with self.assertRaises(urllib.error.HTTPError) as caught:
            control("config", {"faults": [{"kind": "status"}]})
        self.assertEqual(caught.exception.code, 400)
        self.assertIn("status", json.loads(caught.exception.read())["error"])
        self.assertEqual(control("config")["latency_ms"], 5)


if __name__ == "__main__":
    unittest.main()
