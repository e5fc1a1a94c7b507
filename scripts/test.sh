#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs the Python test tools (moto's emulator,
# cfn-lint, cargo-lambda, the SAM CLI) into ./.venv, then checks formatting and lints, lints the
# CloudFormation templates (template.yaml, member-role.yaml) and checks their permissions and
# alarm notifications (tools/test_templates.py), self-checks the emulator's patches
# (tools/test_moto_wrapper.py) and the fault proxy (tools/test_fault_proxy.py), and runs every
# Rust test (unit, property, emulator and Lambda-runtime tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== cargo fmt --check" >&2
cargo fmt --all --check
echo "== cargo clippy -D warnings" >&2
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== the pure core depends on no AWS SDK crate" >&2
if cargo tree -p trailwatch-core --edges normal --prefix none | grep -E '^aws-'; then
  echo "crates/core must not depend on AWS crates (above)" >&2
  exit 1
fi
echo "== the Lambda's build (no default features) has no SSO client; nothing has the legacy HTTP stack" >&2
# The Lambda is built without feature `cli` (Cargo.toml, package.metadata.lambda); the AWS SDK
# crates without their default `rustls` feature (hyper 0.14 / rustls 0.21 / rustls-webpki 0.101).
if cargo tree -p trailwatch --no-default-features --edges normal --prefix none \
  | grep -E '^aws-sdk-sso(oidc)? '; then
  echo "the Lambda's build must not compile the SSO clients (above)" >&2
  exit 1
fi
if cargo tree --workspace --edges normal --prefix none \
  | grep -E '^(hyper v0\.|h2 v0\.3|rustls v0\.2[0-2]\.|hyper-rustls v0\.2[0-4]\.|rustls-webpki v0\.10[0-2]\.)'; then
  echo "the legacy hyper 0.14 / rustls 0.21 stack is back (above): an AWS SDK crate's default features?" >&2
  exit 1
fi
echo "== cfn-lint template.yaml member-role.yaml change-forwarder.yaml" >&2
cfn-lint template.yaml member-role.yaml change-forwarder.yaml
echo "== tools/test_templates.py, tools/test_moto_wrapper.py, tools/test_fault_proxy.py" >&2
python -m unittest tools/test_templates.py tools/test_moto_wrapper.py tools/test_fault_proxy.py
echo "== cargo test" >&2
cargo test --workspace --all-targets
