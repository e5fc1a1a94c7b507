#!/usr/bin/env bash
# The demo: the real trailwatch Lambda handler, run by cargo-lambda's local runtime with a real
# EventBridge scheduled event, against a local AWS emulator (moto) seeded with a demo account
# where some CIS monitoring controls pass and some fail. Prints the findings as Security Hub holds
# them afterwards (target/demo-findings.json), and writes the same account as one HTML page beside
# them (target/demo-findings.html, from `trailwatch scan --format html`), printing its path.
# Needs only Rust and Python 3: scripts/setup.sh installs the rest into ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
venv_bin="$PWD/.venv/bin"
work=$(mktemp -d)
free_port() { "$venv_bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "demo: building the Lambda (first build of the AWS SDK takes several minutes)…" >&2
# The function as it is deployed: without the command line's features (`cli`); `watch` below
# builds the same, and does not read Cargo.toml's `package.metadata.lambda`.
cargo build --quiet --no-default-features --bin trailwatch-lambda
cargo build --quiet --bin trailwatch

moto_port=$(free_port)
endpoint="http://127.0.0.1:$moto_port"
# The wrapper exits when its stdin closes; a fifo held open by `sleep` keeps it alive.
mkfifo "$work/moto-stdin"
sleep 100000 > "$work/moto-stdin" & pids+=($!)
"$venv_bin/python" tools/moto_wrapper.py "$moto_port" < "$work/moto-stdin" > "$work/moto.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do
  "$venv_bin/python" -c "import urllib.request; urllib.request.urlopen('$endpoint/moto-api/')" 2>/dev/null && break
  sleep 0.2
done
echo "demo: AWS emulator on $endpoint" >&2

export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
"$venv_bin/python" tools/demo_seed.py "$endpoint"

lambda_port=$(free_port)
# The function's environment, as template.yaml would set it (a file: --env-var splits on commas).
cat > "$work/lambda.env" <<ENV
AWS_ENDPOINT_URL=$endpoint
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=demo
AWS_SECRET_ACCESS_KEY=demo
TRAILWATCH_REGIONS=us-east-1,eu-west-1
RUST_LOG=info
ENV
"$venv_bin/cargo-lambda" lambda watch --ignore-changes -A 127.0.0.1 -P "$lambda_port" \
  --bin trailwatch-lambda --no-default-features --env-file "$work/lambda.env" \
  > "$work/lambda.log" 2>&1 & pids+=($!)
for _ in $(seq 300); do
  (echo > "/dev/tcp/127.0.0.1/$lambda_port") 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/lambda.log" >&2; exit 1; }
  sleep 0.2
done

echo "demo: invoking trailwatch-lambda with events/scheduled.json (EventBridge Scheduled Event)…" >&2
"$venv_bin/cargo-lambda" lambda invoke -A 127.0.0.1 -P "$lambda_port" \
  --data-file events/scheduled.json --output-format json trailwatch-lambda > "$work/summary.json" || {
  echo "demo: the invocation failed; the function's log follows" >&2
  cat "$work/lambda.log" >&2
  exit 1
}
echo "demo: the handler returned this run summary:"
cat "$work/summary.json"
echo
mkdir -p target
"$venv_bin/python" tools/show_findings.py "$endpoint" target/demo-findings.json

echo "demo: the same account as one page (trailwatch scan --format html)…" >&2
status=0
AWS_ENDPOINT_URL="$endpoint" cargo run --quiet --bin trailwatch -- \
  scan --regions us-east-1,eu-west-1 --format html > target/demo-findings.html || status=$?
# Exit 1 means a control FAILED, which the demo account is seeded to show.
if [ "$status" -gt 1 ]; then
  echo "demo: trailwatch scan --format html failed (exit $status)" >&2
  exit 1
fi
echo "demo: the page of the demo account: $PWD/target/demo-findings.html"
echo >&2
echo "demo: the plan that completes the failing chains (trailwatch remediate --format cli; --format cloudformation or json for the other forms):" >&2
cargo build --quiet --bin trailwatch
AWS_ENDPOINT_URL="$endpoint" cargo run --quiet --bin trailwatch -- remediate \
  --regions us-east-1,eu-west-1 --controls default --notify email:secops@example.com
