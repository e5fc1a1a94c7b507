"""A latency and fault proxy in front of trailwatch's moto server, for tests and benches.

Usage: fault_proxy.py LISTEN_PORT UPSTREAM_URL
  e.g. fault_proxy.py 4567 http://127.0.0.1:4566

* Binds 127.0.0.1:LISTEN_PORT (0 picks a free port) and, once listening, writes one line to standard
  output and flushes it: ``fault_proxy listening on 127.0.0.1:<port>``. A harness can wait for that
  line (and read the port from it) or poll ``GET /__proxy/stats`` until it answers.
* Forwards every request (method, path and query, headers, body) to UPSTREAM_URL
  (``http://host:port``, the moto wrapper) and returns its answer. HTTP/1.1 with keep-alive
  towards the client and towards the upstream (one upstream connection per client connection);
  request bodies may be sent with Content-Length or chunked (they are forwarded with
  Content-Length); ``Expect: 100-continue`` is honoured. Hop-by-hop headers are not forwarded;
  everything else, Host and the SigV4 headers included, is forwarded unchanged.
* One thread per client connection, so the fixed latency of one request does not delay another:
  64 requests in flight on 64 connections are delayed concurrently.
* Exits when its standard input reaches end of file, like tools/moto_wrapper.py: start it with stdin
  piped and keep the write end open for as long as the proxy should live.
* Uses only the standard library, plus botocore's service models (found through ``import botocore``)
  to name REST operations and to pick each operation's modelled throttling error. Without botocore
  those fall back to the protocol defaults below and REST operations are named
  ``<service>:Unknown`` (as is a REST request that matches no operation of the model).

Control API, on the same port, under ``/__proxy/`` (never forwarded; answers are JSON):

``POST /__proxy/config`` with a JSON body replaces the whole configuration (absent keys take their
defaults), restarts the random generator from ``seed`` and restarts the ``first`` counters. Answers
``{"ok": true, "config": <the configuration as normalized>}``, or HTTP 400 ``{"error": "..."}``
for an invalid body (the previous configuration then stays). The body, with every key shown (the
``#`` comments are not part of the JSON)::

    {
      "latency_ms": 50,                  # fixed delay before each request is handled (default 0)
      "seed": 7,                         # seed of the fault generator (default 0)
      "operations": ["*"],               # which requests the proxy interferes with at all
                                         # (latency and faults); default ["*"]
      "faults": [                        # default []: forward everything
        {"kind": "throttle", "rate": 0.2},
        {"kind": "status", "status": 503, "rate": 0.05},
        {"kind": "status", "status": 500, "rate": 0.0},
        {"kind": "reset", "rate": 0.01},
        {"kind": "slow", "rate": 0.01, "delay_ms": 2000},
        {"kind": "throttle", "operations": ["cloudtrail:GetTrailStatus"], "first": 2}
      ]
    }

  Operations are named ``service:Operation`` as IAM spells them (``cloudtrail:DescribeTrails``,
  ``cloudwatch:DescribeAlarms``, ``securityhub:BatchImportFindings``). A pattern is an fnmatch
  wildcard (``*``, ``?``, ``[...]``) compared case-insensitively: ``"*"``, ``"sns:*"``,
  ``"*:Describe*"``. Fault keys:

  * ``kind``: ``"throttle"``: answer the protocol's throttling error (below) without forwarding.
    ``"status"``: answer HTTP ``status`` (required, 400..599; the stats count it as
    ``status_<status>``) with the protocol's error shape, code ``InternalFailure`` for 500,
    ``ServiceUnavailable`` for 503, ``BadGateway`` for 502, ``GatewayTimeout`` for 504 and
    ``InternalFailure`` otherwise, without forwarding. ``"reset"``: read the request, then close
    the connection with SO_LINGER 0 (the client sees a TCP RST, no answer), without forwarding.
    ``"slow"``: forward, then hold the answer for ``delay_ms`` (required) before sending it; with
    ``"trickle": true`` the status and headers go out at once and the body follows in 10 pieces
    spread over ``delay_ms``. A slow request does reach moto (it has its side effects).
  * ``rate`` (0..1, default 1): the fraction of the eligible requests this fault takes.
  * ``operations`` (default ``["*"]``): the operations it applies to.
  * ``first`` (default: no limit): the fault is eligible only for the first N requests of each
    matching operation (counted per fault and per operation since the configuration was posted,
    whether or not the fault took them). ``{"kind": "throttle", "first": 2, "operations":
    ["sns:Publish"]}`` throttles exactly the first two Publish calls and forwards the rest.
  * ``code``, ``message`` (optional): override the error code and message of throttle and status
    faults.

  Drawing: each request within the top-level ``operations`` draws one number u in [0, 1) from a
  ``random.Random(seed)`` shared by all connections (so a run is reproducible given the same
  request order, e.g. with one client connection); the faults eligible for the request stack
  their rates in list order and the first whose cumulative range holds u takes the request; none
  does when u is past the sum. A fault replaces forwarding: a throttled, status or reset request
  never reaches moto, so it cannot have side effects (nothing is created or published twice).

``GET /__proxy/config`` answers the current configuration as normalized.

``GET /__proxy/stats`` answers::

    {
      "operations": {
        "cloudtrail:DescribeTrails": {"requests": 3, "forwarded": 2, "throttled": 1,
                                      "status_500": 0, "status_503": 0, "reset": 0, "slow": 0,
                                      "upstream_failed": 0},
        ...
      },
      "total": {"requests": ..., "forwarded": ..., ...},   # the sums over all operations
      "in_flight": 0,          # requests being handled now (control requests excluded)
      "max_in_flight": 16      # the most handled at once since the last reset
    }

  ``requests`` counts every request for the operation (control requests are not counted);
  ``forwarded`` those sent to moto (``slow`` ones included); ``throttled``, ``status_<N>``,
  ``reset``, ``slow`` the faults applied; ``upstream_failed`` the forwarded requests moto did not
  answer (the client gets HTTP 502 ``BadGateway`` in the protocol's shape). ``status_<N>`` keys
  exist for 500, 503 and every status a configured fault uses.

``POST /__proxy/reset`` zeroes the stats and keeps the configuration (the random generator and the
``first`` counters go on; post the configuration again to restart them). Answers ``{"ok": true}``.

Operation identification (service from the SigV4 credential scope ``.../<date>/<region>/<service>/
aws4_request`` of the Authorization header or the X-Amz-Credential query parameter; the signing
name ``monitoring`` is spelled ``cloudwatch`` as IAM does; unsigned requests get service
``unknown``):

* ``X-Amz-Target: <prefix>.<Operation>`` -> awsJson (1.0 or 1.1 from the request's Content-Type,
  ``application/x-amz-json-1.x``), e.g. ``CloudTrail_20131101.DescribeTrails`` ->
  ``cloudtrail:DescribeTrails``, ``AmazonSQS.SendMessageBatch`` -> ``sqs:SendMessageBatch``.
* path ``/service/<ServiceId>/operation/<Operation>`` -> Smithy RPC v2 CBOR, e.g.
  ``/service/GraniteServiceVersion20100801/operation/DescribeAlarms`` ->
  ``cloudwatch:DescribeAlarms``.
* ``Action=<Operation>`` in a form-encoded body (or in the query string) -> awsQuery (sts, sns,
  cloudwatch and sqs query clients).
* anything else -> restJson1, named by matching method and path against ``http.method`` and
  ``http.requestUri`` of the service's botocore model (``POST /findings/import`` ->
  ``securityhub:BatchImportFindings``, ``POST /listRegions`` -> ``account:ListRegions``,
  ``POST /2015-03-31/functions/f/invocations`` -> ``lambda:Invoke``).

Error shapes (``message`` is ``Rate exceeded`` for throttling; every fault answer carries
``x-amzn-RequestId`` and ``Content-Length`` and keeps the connection open; "the status" is the
status fault's, or the modelled status of the throttling error when it has one):

* awsJson 1.0/1.1: HTTP 400 (throttling) or the status, ``Content-Type`` the request's
  ``application/x-amz-json-1.x``, ``x-amzn-ErrorType: <code>``, body
  ``{"__type": "<code>", "message": "..."}``.
* awsQuery: HTTP 400 or the status, ``Content-Type: text/xml``, body ``<ErrorResponse xmlns=
  "<the service's namespace>"><Error><Type>Sender|Receiver</Type><Code><code></Code><Message>...
  </Message></Error><RequestId>...</RequestId></ErrorResponse>``.
* Smithy RPC v2 CBOR: HTTP 400 or the status, ``smithy-protocol: rpc-v2-cbor``, ``Content-Type:
  application/cbor``, body the CBOR map ``{"__type": "<code>", "message": "..."}``.
* restJson1: HTTP 429 (throttling) or the status, ``Content-Type: application/json``,
  ``x-amzn-ErrorType: <code>``, body ``{"message": "..."}``.
* awsJson and CBOR requests to a service whose model is ``awsQueryCompatible`` (CloudWatch, SQS)
  also get ``x-amzn-query-error: <query code>;Sender|Receiver``, as such services send; both SDKs
  then report the query code (``Throttling`` for a CloudWatch CBOR throttle, itself a throttling
  code for both). Sender is used below HTTP 500, Receiver from 500 up.

The throttling code: the operation's modelled error whose wire code is one of the codes both the
Rust SDK (aws-runtime ``THROTTLING_ERRORS``) and botocore (``retries.standard``) retry as
throttling, in the order ThrottlingException, Throttling, TooManyRequestsException,
ThrottledException, RequestThrottledException, RequestThrottled, RequestLimitExceeded, and
LimitExceededException when it is modelled as HTTP 429 (Security Hub's throttling error), with its
modelled HTTP status if it has one. Without such a modelled error: ``ThrottlingException`` for
awsJson and CBOR, ``Throttling`` for awsQuery, ``TooManyRequestsException`` for restJson1.
Examples: cloudtrail:DescribeTrails -> ThrottlingException (400), sts and sns calls -> Throttling
(400), organizations:ListAccounts and account:ListRegions -> TooManyRequestsException,
securityhub:GetFindings -> LimitExceededException (429), sqs:SendMessageBatch -> RequestThrottled.
"""

import fnmatch
import gzip
import http.client
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONTROL_PREFIX = "/__proxy/"
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
}
# The error codes both SDKs retry as throttling, in the order a modelled one is preferred.
# (aws-runtime 1.10 src/retries/classifiers.rs THROTTLING_ERRORS; botocore retries/standard.py
# ThrottledRetryableChecker._THROTTLED_ERROR_CODES hold the same list.)
THROTTLING_PREFERENCE = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestThrottled",
    "RequestLimitExceeded",
    "LimitExceededException",  # only when modelled as HTTP 429 (a quota error otherwise)
]
DEFAULT_THROTTLE = {
    "json": ("ThrottlingException", 400),
    "cbor": ("ThrottlingException", 400),
    "query": ("Throttling", 400),
    "rest-json": ("TooManyRequestsException", 429),
}
STATUS_CODES = {500: "InternalFailure", 502: "BadGateway", 503: "ServiceUnavailable",
                504: "GatewayTimeout"}
IAM_SERVICE_NAMES = {"monitoring": "cloudwatch"}  # SigV4 signing name -> IAM service prefix
FAULT_KINDS = {"throttle", "status", "reset", "slow"}
COUNTERS = ["requests", "forwarded", "throttled", "status_500", "status_503", "reset", "slow",
            "upstream_failed"]


# --- botocore service models --------------------------------------------------------------------


class ServiceModel:
    """What the proxy needs of one botocore service model."""

    def __init__(self, model):
        metadata = model.get("metadata", {})
        self.query_compatible = "awsQueryCompatible" in metadata
        self.xml_namespace = metadata.get("xmlNamespace")
        self.shapes = model.get("shapes", {})
        self.operations = model.get("operations", {})
        # (method, literal score, path regex, required query {key: value or None}, name)
        self.routes = []
        for name, operation in self.operations.items():
            http_trait = operation.get("http", {})
            uri = http_trait.get("requestUri")
            if not uri:
                continue
            path, _, query = uri.partition("?")
            pattern, score = "", 0
            for segment in path.strip("/").split("/") if path.strip("/") else []:
                label = re.fullmatch(r"\{([^}]+?)(\+?)\}", segment)
                if label and label.group(2):
                    pattern += "/.+"
                elif label:
                    pattern += "/[^/]+"
                else:
                    pattern += "/" + re.escape(segment)
                    score += 1 + len(segment)
            required = {}
            for part in query.split("&") if query else []:
                key, eq, value = part.partition("=")
                required[key] = value if eq else None
                score += 1
            method = http_trait.get("method", "POST")
            self.routes.append((method, score, re.compile(f"{pattern}/?"), required, name))
        self.routes.sort(key=lambda route: -route[1])
        self._throttle_cache = {}

    def rest_operation(self, method, path, query):
        for route_method, _, regex, required, name in self.routes:
            if route_method != method or not regex.fullmatch(path):
                continue
            if all(key in query and (value is None or value in query[key])
                   for key, value in required.items()):
                return name
        return None

    def throttling_error(self, operation):
        """(wire code, query code, HTTP status or None) of the operation's modelled throttling
        error, or None."""
        if operation in self._throttle_cache:
            return self._throttle_cache[operation]
        found = None
        candidates = {}
        for error in self.operations.get(operation, {}).get("errors", []):
            shape = self.shapes.get(error.get("shape"), {})
            trait = shape.get("error", {})
            wire = trait.get("code", error.get("shape"))
            status = trait.get("httpStatusCode")
            if wire == "LimitExceededException" and status != 429:
                continue
            candidates.setdefault(wire, (wire, wire, status))
        for code in THROTTLING_PREFERENCE:
            if code in candidates:
                found = candidates[code]
                break
        self._throttle_cache[operation] = found
        return found


class Models:
    """botocore's service models, loaded on first use and looked up by SigV4 signing name."""

    def __init__(self):
        self._lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._by_signing_name = {}
        self._index = None  # signing name -> model directory, built only if a guess fails
        try:
            import botocore

            self._data = os.path.join(os.path.dirname(botocore.__file__), "data")
        except ImportError:
            self._data = None

    def _model_file(self, directory):
        base = os.path.join(self._data, directory)
        try:
            versions = sorted(v for v in os.listdir(base) if os.path.isdir(os.path.join(base, v)))
        except OSError:
            return None
        for version in reversed(versions):
            for name in ("service-2.json", "service-2.json.gz"):
                candidate = os.path.join(base, version, name)
                if os.path.exists(candidate):
                    return candidate
        return None

    @staticmethod
    def _read(path):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as handle:
            return json.loads(handle.read())

    @staticmethod
    def _signing_name(model):
        metadata = model.get("metadata", {})
        return metadata.get("signingName") or metadata.get("endpointPrefix")

    def _load(self, signing_name):
        if self._data is None:
            return None
        guesses = [signing_name, IAM_SERVICE_NAMES.get(signing_name, signing_name)]
        for directory in dict.fromkeys(guesses):
            path = self._model_file(directory)
            if path:
                model = self._read(path)
                if self._signing_name(model) == signing_name:
                    return ServiceModel(model)
        with self._index_lock:
            if self._index is None:  # a service whose directory is not named after it: scan
                index = {}          # every model once (about 2 s)
                for directory in sorted(os.listdir(self._data)):
                    path = self._model_file(directory)
                    if path:
                        try:
                            index.setdefault(self._signing_name(self._read(path)), path)
                        except (OSError, ValueError):
                            pass
                self._index = index
        path = self._index.get(signing_name)
        return ServiceModel(self._read(path)) if path else None

    def get(self, signing_name):
        with self._lock:
            if signing_name in self._by_signing_name:
                return self._by_signing_name[signing_name]
        # Loaded outside the lock, so requests to services already loaded are not held up (two
        # threads may load the same model once each; the first one stored is kept).
        try:
            model = self._load(signing_name)
        except (OSError, ValueError):
            model = None
        with self._lock:
            return self._by_signing_name.setdefault(signing_name, model)


MODELS = Models()


# --- requests: which operation, which protocol ---------------------------------------------------

CREDENTIAL_SCOPE = re.compile(r"Credential=[^,\s]*?/([^/,\s]+)/aws4_request")
CBOR_PATH = re.compile(r"/service/([^/]+)/operation/([^/?]+)")
ACTION = re.compile(rb"(?:^|&)Action=([^&]*)")


class Call:
    """One request as the proxy sees it: its operation and protocol."""

    def __init__(self, method, target, headers, body):
        parsed = urllib.parse.urlsplit(target)
        self.path = parsed.path
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        scope = CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
        if not scope and "X-Amz-Credential" in query:
            scope = CREDENTIAL_SCOPE.search("Credential=" + query["X-Amz-Credential"][0])
        self.signing_name = scope.group(1) if scope else None
        self.service = IAM_SERVICE_NAMES.get(self.signing_name, self.signing_name) or "unknown"
        content_type = headers.get("Content-Type", "").lower()
        self.json_version = "1.0" if "json-1.0" in content_type else "1.1"
        amz_target = headers.get("X-Amz-Target")
        cbor = CBOR_PATH.fullmatch(self.path)
        form = content_type.startswith("application/x-www-form-urlencoded")
        action = ACTION.search(body) if form else None
        if amz_target:
            self.protocol, self.operation = "json", amz_target.rsplit(".", 1)[-1]
        elif cbor and ("smithy-protocol" in headers or "cbor" in content_type):
            self.protocol, self.operation = "cbor", cbor.group(2)
        elif action or "Action" in query:
            self.protocol = "query"
            raw = action.group(1).decode("latin-1") if action else query["Action"][0]
            self.operation = urllib.parse.unquote_plus(raw)
        else:
            self.protocol = "rest-json"
            model = self.model()
            self.operation = (model and model.rest_operation(method, self.path, query)) or "Unknown"
        self.name = f"{self.service}:{self.operation}"

    def model(self):
        return MODELS.get(self.signing_name) if self.signing_name else None


def cbor_text(text):
    data = text.encode("utf-8")
    n = len(data)
    if n < 24:
        head = bytes([0x60 | n])
    elif n < 0x100:
        head = bytes([0x78, n])
    elif n < 0x10000:
        head = bytes([0x79]) + struct.pack(">H", n)
    else:
        head = bytes([0x7A]) + struct.pack(">I", n)
    return head + data


def cbor_text_map(pairs):
    """A CBOR map (major type 5) of text strings, definite length."""
    assert len(pairs) < 24
    return bytes([0xA0 | len(pairs)]) + b"".join(cbor_text(k) + cbor_text(v) for k, v in pairs)


def xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def error_response(call, status, code, message, query_code=None):
    """(status, headers, body) of an error in the request's protocol."""
    request_id = str(uuid.uuid4())
    fault = "Sender" if status < 500 else "Receiver"
    headers = [("x-amzn-RequestId", request_id)]
    if call.protocol == "json":
        headers += [("Content-Type", f"application/x-amz-json-{call.json_version}"),
                    ("x-amzn-ErrorType", code)]
        body = json.dumps({"__type": code, "message": message}).encode()
    elif call.protocol == "cbor":
        headers += [("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")]
        body = cbor_text_map([("__type", code), ("message", message)])
    elif call.protocol == "query":
        model = call.model()
        xmlns = f' xmlns="{model.xml_namespace}"' if model and model.xml_namespace else ""
        headers += [("Content-Type", "text/xml")]
        body = (
            f"<ErrorResponse{xmlns}><Error><Type>{fault}</Type><Code>{xml_escape(code)}</Code>"
            f"<Message>{xml_escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    else:
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
        body = json.dumps({"message": message}).encode()
    if call.protocol in ("json", "cbor"):
        model = call.model()
        if model and model.query_compatible:
            headers.append(("x-amzn-query-error", f"{query_code or code};{fault}"))
    return status, headers, body


def throttle_response(call, fault):
    code, default_status = DEFAULT_THROTTLE[call.protocol]
    query_code, status = "Throttling", None
    model = call.model()
    modelled = model.throttling_error(call.operation) if model else None
    if modelled:
        code, query_code, status = modelled
    status = status or default_status
    if fault.get("code"):
        code = query_code = fault["code"]
    return error_response(call, status, code, fault.get("message") or "Rate exceeded", query_code)


def status_response(call, status, fault=None):
    code = (fault or {}).get("code") or STATUS_CODES.get(status, "InternalFailure")
    message = (fault or {}).get("message") or {
        503: "Service Unavailable", 502: "Bad Gateway", 504: "Gateway Timeout"
    }.get(status, "Internal Failure")
    return error_response(call, status, code, message)


# --- configuration and stats ---------------------------------------------------------------------


def _patterns(value, where):
    if value is None:
        return ["*"]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ValueError(f"{where}: operations must be a list of strings")
    return value


def _number(value, where, low, high=None, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        integer and value != int(value)
    ):
        raise ValueError(f"{where} must be a{'n integer' if integer else ' number'}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{where} must be within {low}..{high if high is not None else ''}")
    return int(value) if integer else value


def normalize_config(raw):
    if not isinstance(raw, dict):
        raise ValueError("the configuration must be a JSON object")
    unknown = set(raw) - {"latency_ms", "seed", "operations", "faults"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    config = {
        "latency_ms": _number(raw.get("latency_ms", 0), "latency_ms", 0),
        "seed": raw.get("seed", 0),
        "operations": _patterns(raw.get("operations"), "config"),
        "faults": [],
    }
    if not isinstance(config["seed"], (int, str)) or isinstance(config["seed"], bool):
        raise ValueError("seed must be an integer or a string")
    faults = raw.get("faults", [])
    if not isinstance(faults, list):
        raise ValueError("faults must be a list")
    for index, fault in enumerate(faults):
        where = f"faults[{index}]"
        if not isinstance(fault, dict):
            raise ValueError(f"{where} must be an object")
        unknown = set(fault) - {"kind", "rate", "operations", "first", "status", "delay_ms",
                                "trickle", "code", "message"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
        kind = fault.get("kind")
        if kind not in FAULT_KINDS:
            raise ValueError(f"{where}.kind must be one of {sorted(FAULT_KINDS)}")
        out = {
            "kind": kind,
            "rate": _number(fault.get("rate", 1), f"{where}.rate", 0, 1),
            "operations": _patterns(fault.get("operations"), where),
        }
        if fault.get("first") is not None:
            out["first"] = _number(fault["first"], f"{where}.first", 0, integer=True)
        if kind == "status":
            if "status" not in fault:
                raise ValueError(f"{where}: a status fault needs status")
            out["status"] = _number(fault["status"], f"{where}.status", 400, 599, integer=True)
        if kind == "slow":
            if "delay_ms" not in fault:
                raise ValueError(f"{where}: a slow fault needs delay_ms")
            out["delay_ms"] = _number(fault["delay_ms"], f"{where}.delay_ms", 0)
            out["trickle"] = bool(fault.get("trickle", False))
        for key in ("code", "message"):
            if key in fault:
                if kind not in ("throttle", "status") or not isinstance(fault[key], str):
                    raise ValueError(
                        f"{where}.{key} must be a string, on a throttle or status fault"
                    )
                out[key] = fault[key]
        config["faults"].append(out)
    return config


def matches(patterns, name):
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.configure({})
        self.reset_stats()

    def configure(self, raw):
        config = normalize_config(raw)
        with self.lock:
            self.config = config
            self.rng = random.Random(config["seed"])
            self.first_seen = {}  # (fault index, operation) -> eligible requests so far

    def reset_stats(self):
        with self.lock:
            self.stats = {}
            self.in_flight = 0
            self.max_in_flight = 0

    def _counters(self, operation):
        counters = self.stats.get(operation)
        if counters is None:
            counters = self.stats[operation] = dict.fromkeys(COUNTERS, 0)
        return counters

    def count(self, operation, counter):
        with self.lock:
            counters = self._counters(operation)
            counters[counter] = counters.get(counter, 0) + 1

    def begin(self, operation):
        """Counts the request; answers (latency in seconds, the fault that takes it or None)."""
        with self.lock:
            self._counters(operation)["requests"] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            config = self.config
            if not matches(config["operations"], operation):
                return 0.0, None
            draw = self.rng.random()
            chosen, cumulative = None, 0.0
            for index, fault in enumerate(config["faults"]):
                if not matches(fault["operations"], operation):
                    continue
                if "first" in fault:
                    key = (index, operation)
                    seen = self.first_seen.get(key, 0)
                    self.first_seen[key] = seen + 1
                    if seen >= fault["first"]:
                        continue
                cumulative += fault["rate"]
                if chosen is None and draw < cumulative:
                    chosen = fault
            return config["latency_ms"] / 1000.0, chosen

    def end(self):
        with self.lock:
            self.in_flight -= 1

    def snapshot(self):
        with self.lock:
            faults = self.config["faults"]
            statuses = {f"status_{f['status']}" for f in faults if f["kind"] == "status"}
            statuses |= {key for counters in self.stats.values() for key in counters}
            keys = COUNTERS + sorted(statuses - set(COUNTERS))
            operations = {
                name: {key: counters.get(key, 0) for key in keys}
                for name, counters in sorted(self.stats.items())
            }
            total = {key: sum(op[key] for op in operations.values()) for key in keys}
            return {
                "operations": operations,
                "total": total,
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
            }


STATE = State()


# --- the server ---------------------------------------------------------------------------------


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "trailwatch-fault-proxy"
    disable_nagle_algorithm = True
    upstream = None  # per connection: (host, port)
    _conn = None

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline(65537)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers are dropped
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)  # the CRLF after the chunk
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status, headers, body, reason=None, trickle_s=None):
        self.send_response_only(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n")
        if self.command == "HEAD":
            return self.flush_headers()
        if trickle_s and body:
            self.flush_headers()
            pieces = 10
            step = max(1, -(-len(body) // pieces))
            for start in range(0, len(body), step):
                time.sleep(trickle_s / pieces)
                self.wfile.write(body[start:start + step])
                self.wfile.flush()
        else:
            # Status line, headers and body in one write: no Nagle / delayed-ACK stall.
            self._headers_buffer.append(body)
            self.flush_headers()

    def _send_json(self, status, value):
        self._send(status, [("Content-Type", "application/json")], json.dumps(value).encode())

    def _control(self, body):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/__proxy/config" and self.command == "POST":
            try:
                STATE.configure(json.loads(body or b"{}"))
            except ValueError as error:  # json.JSONDecodeError is a ValueError
                return self._send_json(400, {"error": str(error)})
            return self._send_json(200, {"ok": True, "config": STATE.config})
        if path == "/__proxy/config" and self.command == "GET":
            return self._send_json(200, STATE.config)
        if path == "/__proxy/stats" and self.command == "GET":
            return self._send_json(200, STATE.snapshot())
        if path == "/__proxy/reset" and self.command == "POST":
            STATE.reset_stats()
            return self._send_json(200, {"ok": True})
        return self._send_json(404, {"error": f"no control endpoint {self.command} {path}"})

    def _reset_connection(self):
        """Drops the connection with a TCP RST (SO_LINGER 0), without answering."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        os.close(self.connection.detach())

    def _forward(self, body):
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP
                   and k.lower() != "content-length"]
        for attempt in range(2):
            fresh = self._conn is None
            if fresh:
                self._conn = http.client.HTTPConnection(*self.upstream, timeout=300)
                self._conn.connect()
                self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                self._conn.putrequest(self.command, self.path, skip_host=True,
                                      skip_accept_encoding=True)
                for name, value in headers:
                    self._conn.putheader(name, value)
                if body or self.command in ("POST", "PUT", "PATCH"):
                    self._conn.putheader("Content-Length", str(len(body)))
                self._conn.endheaders(body)
                response = self._conn.getresponse()
                data = response.read()
                if response.will_close:
                    self._conn.close()
                    self._conn = None
                # A HEAD answer keeps moto's Content-Length; any other gets the body's own.
                out = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP
                       and (k.lower() != "content-length" or self.command == "HEAD")]
                return response.status, response.reason, out, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive upstream connection moto closed while idle: retry once, fresh.
                self._conn.close()
                self._conn = None
                if fresh or attempt:
                    return None
            except OSError:
                if self._conn:
                    self._conn.close()
                self._conn = None
                return None
        return None

    def _handle(self):
        body = self._read_body()
        if self.path.startswith(CONTROL_PREFIX):
            return self._control(body)
        call = Call(self.command, self.path, self.headers, body)
        latency, fault = STATE.begin(call.name)
        try:
            if latency:
                time.sleep(latency)
            kind = fault["kind"] if fault else None
            if kind == "throttle":
                STATE.count(call.name, "throttled")
                return self._send(*throttle_response(call, fault))
            if kind == "status":
                STATE.count(call.name, f"status_{fault['status']}")
                return self._send(*status_response(call, fault["status"], fault))
            if kind == "reset":
                STATE.count(call.name, "reset")
                return self._reset_connection()
            answer = self._forward(body)
            if answer is None:
                STATE.count(call.name, "upstream_failed")
                return self._send(*status_response(call, 502))
            STATE.count(call.name, "forwarded")
            status, reason, headers, data = answer
            if kind == "slow":
                STATE.count(call.name, "slow")
                delay_s = fault["delay_ms"] / 1000.0
                if fault["trickle"]:
                    return self._send(status, headers, data, reason, trickle_s=delay_s)
                time.sleep(delay_s)
            return self._send(status, headers, data, reason)
        finally:
            STATE.end()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        if self._conn is not None:
            self._conn.close()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # A client that drops its connection mid-request is routine in fault tests.
        if not isinstance(sys.exc_info()[1], (ConnectionError, OSError)):
            super().handle_error(request, client_address)


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: fault_proxy.py LISTEN_PORT UPSTREAM_URL")
    upstream = urllib.parse.urlsplit(sys.argv[2])
    if upstream.scheme != "http" or not upstream.hostname:
        sys.exit("UPSTREAM_URL must be http://host:port")
    ProxyHandler.upstream = (upstream.hostname, upstream.port or 80)
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    server = Server(("127.0.0.1", int(sys.argv[1])), ProxyHandler)
    print(f"fault_proxy listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
