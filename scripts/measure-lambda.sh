#!/usr/bin/env bash
# Measures the Lambda (issue item 15): the size of the deployable release arm64 bootstrap, and —
# with the x86_64 release build of the same binary, on this machine — the cold start to the first
# handled event and the peak RSS, under an emulated Lambda Runtime API against the moto emulator
# seeded with the demo account (tools/demo_seed.py). Prints a markdown table.
#
#   bash scripts/measure-lambda.sh [--skip-arm64-build] [--runs N]
#
# 1. `cargo lambda build --release --arm64 --bin trailwatch-lambda` (as `sam build` and
#    scripts/build-lambda.sh do; a first build takes 15–20 min on two cores, a rebuild seconds)
#    and the size of target/lambda/trailwatch-lambda/bootstrap. --skip-arm64-build reports the
#    bootstrap already there.
# 2. `cargo build --release --bin trailwatch-lambda --no-default-features` with panic = "abort"
#    (x86_64, the profile and features the arm64 build uses).
# 3. N times (default 5): start a fresh function process with AWS_LAMBDA_RUNTIME_API pointing at a
#    small Runtime API emulator (the endpoints lambda_runtime uses: GET invocation/next, POST
#    invocation/<id>/response|error, POST init/error), the environment template.yaml sets (plus the
#    emulator's endpoint and credentials, TRAILWATCH_REGIONS=us-east-1,eu-west-1 as the demo), and
#    hand it events/scheduled.json five times: the first is the cold invoke, the others warm.
#    Measured: spawn → first GET next (init), spawn → first response (cold start to the first
#    handled event), each warm invoke (next → response: the in-run baseline), and the function
#    process's VmHWM from /proc/<pid>/status at the first GET next (after init) and after the last
#    response (peak RSS).
# cargo-lambda's own local runtime (`cargo lambda watch`, as scripts/demo.sh uses) serves the same
# Runtime API, but it spawns the function itself on the first invoke (through `cargo run`), so the
# process's start and memory cannot be observed from outside as exactly; the emulator here is the
# Runtime API's documented protocol and nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5
build_arm64=1
while [ $# -gt 0 ]; do
  case "$1" in
    --skip-arm64-build) build_arm64=0 ;;
    --runs) runs="$2"; shift ;;
    *) echo "usage: $0 [--skip-arm64-build] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

if [ "$build_arm64" = 1 ]; then
  rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' \
    || rustup target add aarch64-unknown-linux-gnu
  echo "measure-lambda: cargo lambda build --release --arm64 (slow the first time)…" >&2
  cargo lambda build --release --arm64 --bin trailwatch-lambda >&2
fi
bootstrap=target/lambda/trailwatch-lambda/bootstrap
echo "measure-lambda: cargo build --release --bin trailwatch-lambda (x86_64)…" >&2
# The Lambda's build settings (Cargo.toml, package.metadata.lambda): no default features (no
# `cli`: SSO, credential_process), panic = "abort" and opt-level = "z", as cargo-lambda builds
# the bootstrap.
cargo build --release --bin trailwatch-lambda --no-default-features \
  --config 'profile.release.panic="abort"' --config 'profile.release.opt-level="z"' >&2
binary=target/release/trailwatch-lambda

exec .venv/bin/python - "$binary" "$bootstrap" "$runs" <<'PY'
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

binary, bootstrap, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
EVENTS_PER_PROCESS = 5
MB = 1024 * 1024
event = open("events/scheduled.json", "rb").read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


# --- moto, seeded with the demo account ----------------------------------------------------------
moto_port = free_port()
endpoint = f"http://127.0.0.1:{moto_port}"
os.makedirs("target/tmp", exist_ok=True)
moto_log = open(f"target/tmp/measure-lambda-moto-{moto_port}.log", "wb")
moto = subprocess.Popen([sys.executable, "tools/moto_wrapper.py", str(moto_port)],
                        stdin=subprocess.PIPE, stdout=moto_log, stderr=moto_log)
for _ in range(150):
    try:
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit(f"moto did not start; see {moto_log.name}")
creds = {"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_REGION": "us-east-1",
         "AWS_DEFAULT_REGION": "us-east-1"}
subprocess.run([sys.executable, "tools/demo_seed.py", endpoint], check=True,
               env={**os.environ, **creds}, stdout=subprocess.DEVNULL)


# --- the Runtime API emulator --------------------------------------------------------------------
class Invocation:
    """One function process's invocations: what the emulator handed out and got back."""

    def __init__(self, events):
        self.lock = threading.Condition()
        self.pending = list(range(events))
        self.pid = None
        self.next_at = {}      # invoke index -> time its GET next was answered
        self.answered_at = {}  # invoke index -> time its response arrived
        self.ids = {}
        self.errors = []
        self.hwm_after_init = None
        self.done = threading.Event()


current = None


class RuntimeApi(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        inv = current
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self._reply(404)
        with inv.lock:
            if not inv.next_at:  # the first poll: init is done
                inv.hwm_after_init = vm_hwm_kib(inv.pid)
            if not inv.pending:
                inv.done.set()
                inv.lock.wait()  # held until the process is killed
                return
            index = inv.pending.pop(0)
            request_id = str(uuid.uuid4())
            inv.ids[request_id] = index
            inv.next_at[index] = time.perf_counter()
        deadline_ms = int((time.time() + 600) * 1000)
        self._reply(200, event, [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", request_id),
            ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn",
             "arn:aws:lambda:us-east-1:123456789012:function:trailwatch"),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
        ])

    def do_POST(self):
        inv = current
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.split("/")
        now = time.perf_counter()
        if self.path.endswith("/response") and len(parts) == 6:
            with inv.lock:
                inv.answered_at[inv.ids[parts[4]]] = now
        else:
            inv.errors.append((self.path, body[:500]))
        self._reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])


api = ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
api.daemon_threads = True
threading.Thread(target=api.serve_forever, daemon=True).start()
api_address = f"127.0.0.1:{api.server_address[1]}"

env = {
    "PATH": os.environ["PATH"],
    "AWS_LAMBDA_RUNTIME_API": api_address,
    "AWS_LAMBDA_FUNCTION_NAME": "trailwatch",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/trailwatch",
    "AWS_LAMBDA_LOG_STREAM_NAME": "measure",
    "AWS_ENDPOINT_URL": endpoint,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    "TRAILWATCH_REGIONS": "us-east-1,eu-west-1",
    "RUST_LOG": "info",
    **creds,
}

results = []
log = open("target/tmp/measure-lambda-function.log", "wb")
for run in range(runs):
    current = Invocation(EVENTS_PER_PROCESS)
    with current.lock:
        spawned = time.perf_counter()
        process = subprocess.Popen([binary], env=env, stdout=log, stderr=log)
        current.pid = process.pid
    if not current.done.wait(300):
        process.kill()
        sys.exit(f"the function did not finish its invocations; see {log.name}")
    hwm_peak = vm_hwm_kib(process.pid)
    process.kill()
    process.wait()
    with current.lock:
        current.lock.notify_all()
    if current.errors or len(current.answered_at) != EVENTS_PER_PROCESS:
        sys.exit(f"invocation errors: {current.errors}; see {log.name}")
    first_next = current.next_at[0]
    warm = [current.answered_at[i] - current.next_at[i] for i in range(1, EVENTS_PER_PROCESS)]
    results.append({
        "init": first_next - spawned,
        "cold_handle": current.answered_at[0] - first_next,
        "cold_start": current.answered_at[0] - spawned,
        "warm": statistics.median(warm),
        "hwm_init": current.hwm_after_init,
        "hwm_peak": hwm_peak,
    })
    print(f"measure-lambda: run {run + 1}/{runs}: {json.dumps(results[-1])}", file=sys.stderr)

moto.kill()


def med(key):
    return statistics.median(r[key] for r in results)


def span(key, scale=1000, unit="ms"):
    values = [r[key] * scale for r in results]
    return f"{statistics.median(values):.0f} {unit} ({min(values):.0f}–{max(values):.0f})"


size = os.path.getsize(bootstrap) if os.path.exists(bootstrap) else None
x86_size = os.path.getsize(binary)
print()
print(f"Lambda, {runs} function processes × {EVENTS_PER_PROCESS} scheduled events each; "
      "median (min–max).")
print()
print("| measure | value | baseline (same run) | ratio | goal |")
print("|---|---:|---:|---:|---:|")
if size is not None:
    print(f"| release arm64 bootstrap size | {size / MB:.1f} MB ({size} B) | x86_64 release binary "
          f"{x86_size / MB:.1f} MB | {size / x86_size:.2f}× | < 15 MB ({size / (15 * MB):.2f}× the goal) |")
else:
    print(f"| release arm64 bootstrap size | not built ({bootstrap}) | | | < 15 MB |")
print(f"| init: spawn → first GET next | {span('init')} | | | |")
print(f"| cold start: spawn → first response | {span('cold_start')} | warm invoke "
      f"{span('warm')} | {med('cold_start') / med('warm'):.2f}× | |")
print(f"| first event handled (next → response) | {span('cold_handle')} | warm invoke "
      f"{span('warm')} | {med('cold_handle') / med('warm'):.2f}× | |")
print(f"| peak RSS (VmHWM) after {EVENTS_PER_PROCESS} events | "
      f"{span('hwm_peak', 1 / 1024, 'MB')} | after init {span('hwm_init', 1 / 1024, 'MB')} | "
      f"{med('hwm_peak') / med('hwm_init'):.2f}× | < 64 MB ({med('hwm_peak') / 1024 / 64:.2f}× the goal) |")
PY
