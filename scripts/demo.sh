#!/usr/bin/env bash
# `make demo`: the real Lambda binary resizing real photos on a local AWS emulator, no account needed.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
bash scripts/setup.sh build
bash scripts/setup.sh emulator
# The demo runs the function on this machine, so only the x86_64 build is needed.
bash scripts/build.sh x86_64
exec .venv-localstack/bin/python scripts/demo.py "$@"
