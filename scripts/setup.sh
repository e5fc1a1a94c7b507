#!/usr/bin/env bash
# Installs what trailwatch's tests, demo and build need into ./.venv (moto's AWS emulator,
# cfn-lint, cargo-lambda, the SAM CLI), pinned in requirements-dev.txt, and the AWS CLI into
# ./.venv-awscli (requirements-awscli.txt). Idempotent: reinstalls only when the pins change.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
stamp="$venv/.requirements-dev.sha256"
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if ! { [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; }; then
  echo "setup: installing Python test tools into $venv (moto, cfn-lint, cargo-lambda, aws-sam-cli)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# The AWS CLI for the remediation tests, in a venv of its own (see requirements-awscli.txt).
cli_venv=.venv-awscli
cli_stamp="$cli_venv/.requirements-awscli.sha256"
cli_want=$(sha256sum requirements-awscli.txt | cut -d' ' -f1)
if ! { [ -x "$cli_venv/bin/aws" ] && [ -f "$cli_stamp" ] && [ "$(cat "$cli_stamp")" = "$cli_want" ]; }; then
  echo "setup: installing the AWS CLI into $cli_venv" >&2
  python3 -m venv "$cli_venv"
  "$cli_venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-awscli.txt
  echo "$cli_want" > "$cli_stamp"
fi
