#!/usr/bin/env bash
# Builds the deployable Lambda with cargo-lambda (release, arm64, provided.al2023) and checks that
# the bootstrap exists. `sam build` does the same through BuildMethod rust-cargolambda.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' \
  || rustup target add aarch64-unknown-linux-gnu
cargo lambda build --release --arm64 --bin trailwatch-lambda
bootstrap=target/lambda/trailwatch-lambda/bootstrap
test -x "$bootstrap" || { echo "build-lambda: $bootstrap was not produced" >&2; exit 1; }
file "$bootstrap" 2>/dev/null || ls -l "$bootstrap"
