#!/usr/bin/env bash
# `make demo`: the seed's flow on a local AWS emulator, no account needed. Builds the x86_64 function, starts
# LocalStack (which runs the real `bootstrap` through the project's executor, scripts/localstack/), deploys
# the module's resources with the tests' deployer and drives uploads and one API call through them
# (tests/examples/demo.rs: an example, not a binary, so the Lambda build's --bins leaves it out).
# Everything started here is stopped on exit, also on Ctrl-C or failure.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh

bash scripts/setup.sh build
bash scripts/setup.sh emulator
# The demo runs the function on this machine, so only the x86_64 build is needed.
bash scripts/build.sh x86_64
# Build the driver before the emulator starts, so its start-up time is not spent waiting on rustc.
cargo build -q -p imgresize-tests --example demo

STATE=$REPO_ROOT/.localstack/demo-$$.state
stop_emulator() { EMULATOR_STATE=$STATE bash scripts/emulator.sh stop >/dev/null 2>&1 || true; }
trap stop_emulator EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# The watchdog stops the emulator even if this shell is killed outright.
eval "$(EMULATOR_STATE=$STATE EMULATOR_WATCH_PID=$$ bash scripts/emulator.sh start)"
rm -rf demo-out
mkdir -p demo-out
started=$SECONDS
# What the deployer created (names, rendered templates, the function's environment) goes to a log, not the
# terminal; on failure its end is shown.
if ! target/debug/examples/demo "$@" 2>demo-out/deploy.log; then
  tail -n 40 demo-out/deploy.log >&2
  die "the demo failed (whole log: demo-out/deploy.log)"
fi
log "demo done in $((SECONDS - started))s (emulator start not included); what was deployed: demo-out/deploy.log"
