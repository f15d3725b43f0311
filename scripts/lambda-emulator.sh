#!/usr/bin/env bash
# Runs a prebuilt Lambda `bootstrap` under cargo-lambda's runtime emulator (`cargo lambda watch
# --only-lambda-apis`, 127.0.0.1 only), for `make demo`, the e2e and load tests.
#
# Usage:
#   eval "$(scripts/lambda-emulator.sh start BINARY [NAME=VALUE ...])"
#       starts the emulator and BINARY; prints `export LAMBDA_INVOKE_URL=http://127.0.0.1:PORT/2015-03-31/
#       functions/_/invocations` and `export LAMBDA_EMULATOR_STATE=...`
#   scripts/lambda-emulator.sh invoke JSON|@FILE   POSTs the event, prints the response body. Exit 0 on
#       success, 1 on a function error (the emulator answers HTTP 500 {"errorType","errorMessage"}) or failure.
#   scripts/lambda-emulator.sh stop [--all]        stops everything it started (safe to repeat)
#   scripts/lambda-emulator.sh status              exit 0 if running, 3 if not
# BINARY gets a clean environment (like Lambda's): the runtime variables the emulator prints, AWS_REGION,
# PATH, LANG, TZ, HOME (the run dir, so no ~/.aws profile leaks in), the caller's AWS_ENDPOINT_URL,
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, RUST_LOG and RUST_BACKTRACE if set (so
# `eval "$(scripts/emulator.sh start)"` first points it at the emulator), then the NAME=VALUE pairs.
# Only the function name `_` is served: with --only-lambda-apis cargo-lambda routes other names to binaries
# of a Cargo project instead.
# Environment: LAMBDA_EMULATOR_PORT (default: free port), LAMBDA_EMULATOR_STATE, LAMBDA_START_TIMEOUT
# (default 30 s), LAMBDA_INVOKE_TIMEOUT (curl --max-time, default 120 s), AWS_REGION (default us-east-1),
# LAMBDA_KEEP_LOG=1 (stop keeps watch.log/function.log as .localstack/lambda-<port>-*.log).
set -euo pipefail
set +m # no job control: a background child stays in our group, so `setsid` needs no fork and $! is its pid

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/common.sh
. "$REPO_ROOT/scripts/lib/common.sh"

RUNS=$REPO_ROOT/.localstack
START_TIMEOUT=${LAMBDA_START_TIMEOUT:-30}
FUNCTION=_
S_pgid='' S_watch_pgid='' S_port='' S_dir='' S_url='' # filled by read_state

usage() { die "usage: scripts/lambda-emulator.sh start BINARY [NAME=VALUE ...] | invoke JSON|@FILE | status | stop [--all]"; }

pick_state() { pick_state_file lambda "${LAMBDA_EMULATOR_STATE:-}" "${LAMBDA_EMULATOR_PORT:-}" "Lambda emulators" "choose one with LAMBDA_EMULATOR_STATE or stop --all"; }

is_alive() { [[ -n $(marked_pids "IMGRESIZE_LAMBDA=$S_dir") ]]; }

stop_one() { # state file, optional grace seconds
  read_state "$1" || return 0
  stop_marked "$S_pgid" "IMGRESIZE_LAMBDA=$S_dir" "${2:-10}"
  stop_marked "$S_watch_pgid" "IMGRESIZE_LAMBDA=$S_dir" "${2:-10}"
  if [[ $S_dir == "$RUNS"/lambda-* ]]; then
    if [[ ${LAMBDA_KEEP_LOG:-0} == 1 ]]; then
      local f
      for f in "$S_dir"/*.log; do
        [[ -f $f ]] && mv -f "$f" "$RUNS/lambda-$S_port-${f##*/}" && log "log kept: $RUNS/lambda-$S_port-${f##*/}"
      done
    fi
    rm -rf "$S_dir"
  fi
  rm -f "$1"
  log "stopped Lambda emulator on port $S_port"
}

START_STATE=''
on_start_exit() {
  local rc=$?
  trap - EXIT INT TERM
  if ((rc != 0)) && [[ -n $START_STATE ]]; then
    log_tail "${S_dir:-/nonexistent}/watch.log" 20
    log_tail "${S_dir:-/nonexistent}/function.log" 20
    stop_one "$START_STATE" 3
    # Children interrupted before they could exec (no marker yet) are still ours: end them by pid.
    [[ -n $S_pgid ]] && kill -KILL "$S_pgid" 2>/dev/null
    [[ -n $S_watch_pgid ]] && kill -KILL "$S_watch_pgid" 2>/dev/null
  fi
  exit "$rc"
}

# True once BINARY holds a connection to the runtime API: that is its long-poll for the next event.
# Without `ss` (iproute2) fall back to "still alive half a second after exec".
polling() {
  if command -v ss >/dev/null; then
    ss -Htnp state established "( dport = :$S_port )" 2>/dev/null | grep -q "pid=$S_pgid,"
  else
    sleep 0.5
    kill -0 "$S_pgid" 2>/dev/null
  fi
}

cmd_start() {
  (($# >= 1)) || usage
  local binary=$1 arg
  shift
  for arg in "$@"; do [[ $arg == [A-Za-z_]*=* ]] || usage; done
  [[ -f $binary && -x $binary ]] || die "not an executable file: $binary"
  binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
  # shellcheck source=scripts/env.sh
  . "$REPO_ROOT/scripts/env.sh"
  command -v cargo-lambda >/dev/null || die "cargo-lambda is not installed: run scripts/setup.sh build"

  local port state
  port=${LAMBDA_EMULATOR_PORT:-$(free_port)}
  state=${LAMBDA_EMULATOR_STATE:-$RUNS/lambda-$port.state}
  if read_state "$state" && is_alive; then
    die "a Lambda emulator already runs for $state (port $S_port): stop it first"
  fi
  stop_one "$state" 2>/dev/null # leftovers of a crashed run
  ! port_in_use "$port" || die "port $port on 127.0.0.1 is already in use"
  trap on_start_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  START_STATE=$state
  S_pgid='' S_watch_pgid='' S_port=$port S_dir=$RUNS/lambda-$port
  rm -rf "$S_dir"
  mkdir -p "$S_dir/project/src" "$S_dir/home"

  # `cargo lambda watch` insists on a Cargo project even with --only-lambda-apis: give it a tiny one of its
  # own (its own [workspace], so the repo's workspace is not involved and nothing is ever compiled).
  printf '%s\n' '[package]' 'name = "lambda-emulator"' 'version = "0.0.0"' 'edition = "2021"' \
    'publish = false' '' '[[bin]]' 'name = "not-a-function"' 'path = "src/main.rs"' '' '[workspace]' \
    >"$S_dir/project/Cargo.toml"
  echo 'fn main() {}' >"$S_dir/project/src/main.rs"

  IMGRESIZE_LAMBDA="$S_dir" setsid env --chdir="$S_dir/project" NO_COLOR=1 \
    cargo-lambda lambda watch --only-lambda-apis --invoke-address 127.0.0.1 --invoke-port "$S_port" \
    </dev/null >"$S_dir/watch.log" 2>&1 &
  S_watch_pgid=$!
  write_state "$state" "pgid=" "watch_pgid=$S_watch_pgid" "port=$S_port" "dir=$S_dir"

  # The emulator prints the variables the function needs, then starts serving.
  local deadline=$((SECONDS + START_TIMEOUT))
  # A bare TCP connect, not an HTTP probe: any path it does not know is a function URL call that would wait
  # for the function.
  until grep -q 'starting Runtime server' "$S_dir/watch.log" &&
    (exec 3<>"/dev/tcp/127.0.0.1/$S_port") 2>/dev/null; do
    kill -0 "$S_watch_pgid" 2>/dev/null || die "cargo lambda watch exited"
    ((SECONDS < deadline)) || die "cargo lambda watch did not start within ${START_TIMEOUT}s"
    sleep 0.2
  done
  local rt_env=()
  mapfile -t rt_env < <(sed 's/\x1b\[[0-9;]*m//g' "$S_dir/watch.log" |
    sed -n 's/^[[:space:]]*INFO[[:space:]]\{1,\}\(AWS_LAMBDA_[A-Z_]*=[^[:space:]]*\)$/\1/p')
  printf '%s\n' "${rt_env[@]}" | grep -q '^AWS_LAMBDA_RUNTIME_API=' ||
    die "could not read AWS_LAMBDA_RUNTIME_API from cargo lambda watch's output"

  local region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}} pass=() name
  for name in AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN RUST_LOG RUST_BACKTRACE; do
    [[ -n ${!name:-} ]] && pass+=("$name=${!name}")
  done
  IMGRESIZE_LAMBDA="$S_dir" setsid env -i --chdir="$(dirname "$binary")" \
    PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 TZ=:UTC HOME="$S_dir/home" \
    IMGRESIZE_LAMBDA="$S_dir" LAMBDA_TASK_ROOT="$(dirname "$binary")" \
    AWS_REGION="$region" AWS_DEFAULT_REGION="$region" AWS_EC2_METADATA_DISABLED=true \
    "${rt_env[@]}" "${pass[@]}" "$@" \
    "$binary" </dev/null >"$S_dir/function.log" 2>&1 &
  S_pgid=$!
  S_url=http://127.0.0.1:$S_port/2015-03-31/functions/$FUNCTION/invocations
  write_state "$state" "pgid=$S_pgid" "watch_pgid=$S_watch_pgid" "port=$S_port" "dir=$S_dir" "url=$S_url"

  until polling; do
    kill -0 "$S_pgid" 2>/dev/null || die "$binary exited (see its log above)"
    ((SECONDS < deadline)) || die "$binary did not poll the runtime API within ${START_TIMEOUT}s"
    sleep 0.1
  done
  START_STATE='' # success: keep both running
  log "Lambda emulator ready: POST $S_url (function log: $S_dir/function.log)"
  print_export LAMBDA_INVOKE_URL "$S_url"
  print_export LAMBDA_EMULATOR_STATE "$state"
}

cmd_invoke() {
  (($# == 1)) || usage
  local state out code
  state=$(pick_state)
  if [[ -z $state ]] || ! read_state "$state"; then
    die "no Lambda emulator is running"
  fi
  out=$(mktemp)
  # shellcheck disable=SC2064 # expand now: $out is local
  trap "rm -f '$out'" EXIT
  code=$(curl -sS --max-time "${LAMBDA_INVOKE_TIMEOUT:-120}" -o "$out" -w '%{http_code}' \
    -H 'Content-Type: application/json' --data-binary "$1" "$S_url") || die "invoke failed (curl exit $?)"
  cat "$out"
  [[ $(tail -c1 "$out") == '' ]] || echo
  case $code in
    200) ;;
    *)
      log "function error (HTTP $code)"
      return 1
      ;;
  esac
}

cmd_status() {
  local state
  state=$(pick_state)
  if [[ -z $state ]] || ! read_state "$state" || ! is_alive; then
    echo "not running"
    return 3
  fi
  echo "running: port=$S_port function_pid=$S_pgid url=$S_url dir=$S_dir state=$state"
}

cmd_stop() { stop_command lambda "Lambda emulator" "$@"; }

case ${1:-} in
  start) shift && cmd_start "$@" ;;
  invoke) shift && cmd_invoke "$@" ;;
  status) cmd_status ;;
  stop) shift && cmd_stop "$@" ;;
  *) usage ;;
esac
