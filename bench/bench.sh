#!/usr/bin/env bash
# `make bench` in one line: install the peers if needed (seconds when they are), then run the driver.
#   bench/bench.sh            full run -> bench/report.md, bench/chart.svg
#   bench/bench.sh --quick    smoke test (one image, 3 runs) -> bench/out/report-quick.md
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh"
exec python3 "$here/run.py" "$@"
