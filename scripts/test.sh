#!/usr/bin/env bash
# `make test`: every suite a contributor must keep green, one summary line each.
#
# Suites run in order and all of them run, so one failure does not hide another; the exit status is
# non-zero if any failed. Builds happen once: the x86_64 build feeds the e2e, load and bench suites.
set -uo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT" || exit 2
export IMGRESIZE_REQUIRE_BUILD=1 CARGO_TERM_COLOR=never
# One build of each crate per run: incremental state (over 1 GB for the test binaries) is never read again.
# A value the caller exports wins.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

# A full run writes several GB (build caches, the tools, the emulator); a full disk shows up as a linker crash
# in whichever suite comes next, so say how much there was and how much the run took.
disk_report() {
  local free checkout target
  free=$(df -h --output=avail . | tail -1 | tr -d ' ')
  checkout=$(du -sh . 2>/dev/null | cut -f1)
  target=$(du -sh target 2>/dev/null | cut -f1)
  echo "disk: $free free; this checkout holds $checkout (target/: ${target:-none})"
}
disk_report

names=() results=() times=()
run_suite() {
  local name=$1 started=$SECONDS status
  shift
  echo
  echo "=== $name: $*"
  "$@"
  status=$?
  names+=("$name") times+=($((SECONDS - started)))
  if ((status == 0)); then results+=(passed); else results+=("FAILED (exit $status)"); fi
}

run_suite setup bash scripts/setup.sh all
run_suite fmt cargo fmt --all -- --check
run_suite clippy cargo clippy --workspace --all-targets -- -D warnings
run_suite build bash scripts/build.sh
run_suite rust-tests cargo test --workspace --no-fail-fast
run_suite iac bash tests/iac/run.sh
run_suite bench-smoke bash bench/bench.sh --quick
[[ ! -f scripts/fuzz.sh ]] || run_suite fuzz-smoke bash scripts/fuzz.sh --smoke

echo
echo "=== summary"
passed=0 failed=0
for i in "${!names[@]}"; do
  printf '  %-12s %-20s %4ds\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"
  if [[ ${results[$i]} == passed ]]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "suites: $passed passed, $failed failed"
disk_report
((failed == 0))
