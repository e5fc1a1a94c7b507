#!/usr/bin/env bash
# Installs what trailwatch's tests, demo and build need into ./.venv (moto's AWS emulator,
# cfn-lint, cargo-lambda, the SAM CLI), pinned in requirements-dev.txt. Idempotent: reruns only
# when the pins change.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
stamp="$venv/.requirements-dev.sha256"
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "setup: installing Python test tools into $venv (moto, cfn-lint, cargo-lambda, aws-sam-cli)" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-dev.txt
echo "$want" > "$stamp"
