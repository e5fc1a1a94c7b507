#!/usr/bin/env bash
# Installs what trailwatch's tests, demo and build need into ./.venv (moto's AWS emulator,
# cfn-lint, cargo-lambda, the SAM CLI), pinned in requirements-dev.txt, the AWS CLI into
# ./.venv-awscli (requirements-awscli.txt), and Debian's `chromium` (the HTML report's browser
# tests) when it is missing. Idempotent: reinstalls only when the pins change.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium > /dev/null; then
  echo "setup: installing Debian's chromium (headless browser for the HTML report tests)" >&2
  sudo_if_needed=""
  [ "$(id -u)" = 0 ] || sudo_if_needed="sudo"
  $sudo_if_needed apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_if_needed apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core > /dev/null
fi
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
