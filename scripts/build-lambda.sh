#!/usr/bin/env bash
# Builds the deployable Lambda the way users do (README "Build and deploy"): `sam validate --lint`
# then `sam build`, whose BuildMethod rust-cargolambda runs `cargo lambda build --release --arm64
# --bin trailwatch-lambda` in this directory (target/ is reused; no Docker), and checks that the
# bootstrap SAM deploys exists. CI runs it after scripts/test.sh. SAM passes cargo-lambda no flags
# but the binary: the Lambda's own build settings (no default features, i.e. no SSO client, and
# panic = "abort", opt-level = "z") are in Cargo.toml's [package.metadata.lambda.bin.trailwatch-lambda.build],
# which cargo-lambda reads whichever way it is run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# sam and cargo-lambda (PyPI, pinned in requirements-dev.txt) come from the venv.
export PATH="$PWD/.venv/bin:$PATH"
# No usage data sent from CI or builds (SAM CLI sends none unless this is 1).
export SAM_CLI_TELEMETRY=0
# Neither command needs AWS credentials or a region: `sam validate --lint` is a local cfn-lint
# run and `sam build` calls no AWS API, so none are set here (both pass with no network at all).
rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' \
  || rustup target add aarch64-unknown-linux-gnu
echo "== sam validate --lint" >&2
sam validate --lint
echo "== sam build" >&2
started=$(date +%s)
sam build
echo "sam build took $(( $(date +%s) - started ))s" >&2
bootstrap=.aws-sam/build/TrailwatchFunction/bootstrap
test -x "$bootstrap" || { echo "build-lambda: sam build did not produce $bootstrap" >&2; exit 1; }
file "$bootstrap" 2>/dev/null || true
# The README's goal for the deployed bootstrap is < 15 MB (Performance).
echo "build-lambda: $bootstrap is $(stat -c %s "$bootstrap") bytes" >&2
