#!/usr/bin/env bash
# Fuzzes the engine, the request parser and the key mapping with cargo-fuzz (libFuzzer, nightly).
#
# Usage:
#   scripts/fuzz.sh [SECONDS] [TARGET...]   full run: each target SECONDS (default 600) in turn (`make fuzz`)
#   scripts/fuzz.sh --smoke [TARGET...]     bounded smoke, FUZZ_SMOKE_SECONDS (default 30) each (`make test`)
#   scripts/fuzz.sh --list                  the targets
# Targets: engine (bytes -> decode/orient/resize/encode under the production limits), request (JSON -> the
# whole handler on an in-memory store), keys (strings -> key decoding and destination keys).
#
# Installs cargo-fuzz (pinned) into .tools/fuzz on first use. Seeds fuzz/corpus/<target>/ (git-ignored) from
# fuzz/seeds/<target>/ and, for the engine, from ../shared/corpus when present; the corpus grows across runs.
# One fuzzer at a time (one job): the machine has 2 cores. Memory is limited like the Lambda's:
# -rss_limit_mb=FUZZ_RSS_MB (default 1024, the module's memory_size) also caps any single malloc, so an input
# whose decode would allocate past the pixel budget is a crash. -timeout=60 s per input is the module's timeout.
# Crashes land in fuzz/artifacts/<target>/ and fail the run; logs in fuzz/target/logs/. Exit status: 0 when
# every target ran clean.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
# shellcheck source=scripts/lib/common.sh
. scripts/lib/common.sh

CARGO_FUZZ_VERSION=0.13.2
TOOLS=$REPO_ROOT/.tools/fuzz
TOOLCHAIN=${FUZZ_TOOLCHAIN:-nightly}
RSS_MB=${FUZZ_RSS_MB:-1024}
TARGETS=(engine request keys)
SHARED_CORPUS=${IMGRESIZE_CORPUS:-$REPO_ROOT/../shared/corpus}

declare -A MAX_LEN=([engine]=131072 [request]=8192 [keys]=4096)
declare -A TIMEOUT=([engine]=60 [request]=10 [keys]=10)

seconds=600 smoke=0 chosen=()
for arg in "$@"; do
  case $arg in
    --smoke) smoke=1 ;;
    --list) printf '%s\n' "${TARGETS[@]}" && exit 0 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' && exit 0 ;;
    [0-9]*) seconds=$arg ;;
    *)
      [[ " ${TARGETS[*]} " == *" $arg "* ]] || die "unknown target '$arg' (one of: ${TARGETS[*]})"
      chosen+=("$arg")
      ;;
  esac
done
((smoke)) && seconds=${FUZZ_SMOKE_SECONDS:-30}
((${#chosen[@]})) || chosen=("${TARGETS[@]}")

# --- tools: a nightly toolchain and a pinned cargo-fuzz --------------------------------------------------
if ! rustup run "$TOOLCHAIN" rustc --version >/dev/null 2>&1; then
  log "installing the $TOOLCHAIN toolchain (cargo-fuzz needs it for -Zsanitizer)"
  rustup toolchain install "$TOOLCHAIN" --profile minimal >&2 ||
    die "no $TOOLCHAIN toolchain: install it with 'rustup toolchain install $TOOLCHAIN --profile minimal'"
fi
mkdir -p "$TOOLS"
(
  flock 9
  if [[ $("$TOOLS/bin/cargo-fuzz" --version 2>/dev/null) != "cargo-fuzz $CARGO_FUZZ_VERSION" ]]; then
    log "installing cargo-fuzz $CARGO_FUZZ_VERSION into .tools/fuzz"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION" --root "$TOOLS" >&2
  fi
) 9>"$TOOLS/.lock"
export PATH="$TOOLS/bin:$PATH"

# --- seed corpora (fuzz/corpus is git-ignored; files are only ever added) ----------------------------------
seed() {
  local target=$1 dir=fuzz/corpus/$1 file
  mkdir -p "$dir"
  [[ ! -d fuzz/seeds/$target ]] || cp -n fuzz/seeds/"$target"/* "$dir"/ 2>/dev/null || true
  if [[ $target == engine ]]; then
    if [[ -f $SHARED_CORPUS/SOURCES.md ]]; then
      # Every file that fits in max_len, named after its folder so the origin stays visible.
      for file in "$SHARED_CORPUS"/*/*; do
        [[ -f $file && $(stat -c %s "$file") -le ${MAX_LEN[engine]} ]] || continue
        cp -n "$file" "$dir/shared-$(basename "$(dirname "$file")")-$(basename "$file")"
      done
    else
      log "no corpus at $SHARED_CORPUS: seeding the engine from fuzz/seeds only"
    fi
  fi
  find "$dir" -type f | wc -l
}

# AddressSanitizer keeps 256 MB of freed memory in quarantine by default: that would count against the
# Lambda-sized RSS limit without being the engine's. A smaller quarantine still catches recent use-after-free.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=32}

# --- build once, then run each target in turn --------------------------------------------------------------
log "building the fuzz targets (cargo +$TOOLCHAIN fuzz build, address sanitizer)"
cargo "+$TOOLCHAIN" fuzz build --fuzz-dir fuzz >&2

mkdir -p fuzz/target/logs
status=0 summary=()
for target in "${chosen[@]}"; do
  count=$(seed "$target")
  logfile=fuzz/target/logs/$target.log
  dict=()
  [[ ! -f fuzz/dicts/$target.dict ]] || dict=("-dict=fuzz/dicts/$target.dict")
  log "fuzzing $target for ${seconds}s from $count seeds (log: $logfile)"
  started=$SECONDS
  rc=0
  cargo "+$TOOLCHAIN" fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -max_len="${MAX_LEN[$target]}" -timeout="${TIMEOUT[$target]}" \
    -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$RSS_MB" -print_final_stats=1 "${dict[@]}" \
    >"$logfile" 2>&1 || rc=$?
  elapsed=$((SECONDS - started))
  # libFuzzer's last status line ("#N DONE cov: C ft: F corp: ...") and its final stats.
  last=$(grep -E '^#[0-9]+' "$logfile" | tail -n 1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -n 1)
  peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$logfile" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | tail -n 1 || true)
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | tail -n 1 || true)
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$last" | tail -n 1 || true)
  if ((rc == 0)); then
    result=clean
  else
    result="FAILED (exit $rc)"
    status=1
    grep -E 'ERROR: libFuzzer|panicked at|SUMMARY|Test unit written to|out-of-memory|timeout' "$logfile" |
      head -n 12 >&2 || true
  fi
  summary+=("$(printf '%-8s %-16s %5ss  execs=%-10s %-10s %-10s %-18s peak_rss=%sMB' "$target" "$result" \
    "$elapsed" "${execs:-?}" "${cov:-cov: ?}" "${ft:-ft: ?}" "${corp:-corp: ?}" "${peak:-?}")")
done

echo "fuzz summary (${seconds}s per target, rss limit ${RSS_MB} MB):"
printf '  %s\n' "${summary[@]}"
exit "$status"
