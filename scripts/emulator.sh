#!/usr/bin/env bash
# The local AWS emulator (LocalStack in host mode, 127.0.0.1 only) for tests, `make demo` and the e2e suite.
#
# Usage:
#   eval "$(scripts/emulator.sh start [NAME=VALUE ...])"   start; prints `export AWS_ENDPOINT_URL=...` etc.
#   scripts/emulator.sh status                              exit 0 if running and healthy, 3 if not running
#   scripts/emulator.sh env                                 print the export lines of the running instance
#   scripts/emulator.sh stop [--all]                        stop it (safe to repeat); --all stops every instance
# NAME=VALUE arguments add to or override LocalStack's environment (e.g. SFN_MOCK_CONFIG=/abs/file DEBUG=1;
# LocalStack runs in its run directory, so give absolute paths). The init scripts in
# scripts/localstack/init/start.d/ (LocalStack bug workarounds, and the registration of the project's Lambda
# runtime executor: functions run as local processes, see scripts/localstack/local_process_executor.py) are
# installed into every instance; start fails unless they all ran successfully.
# Environment: EMULATOR_PORT (default: a free port), EMULATOR_STATE (state file; `start` exports it, so later
# calls in the same shell address the same instance), EMULATOR_START_TIMEOUT (seconds, default 120),
# EMULATOR_KEEP_LOG=1 (stop keeps the log as .localstack/emulator-<port>.log), EMULATOR_WATCH_PID (stop the
# emulator by itself once that process is gone: for test processes that may be killed).
# Several instances can run at once; each has its state under .localstack/run-<port>/, its temporary files
# too (TMPDIR: LocalStack unzips every Lambda function there), so stop removes them.
set -euo pipefail
set +m # no job control: a background child stays in our group, so `setsid` needs no fork and $! is its pid

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/common.sh
. "$REPO_ROOT/scripts/lib/common.sh"

VENV=$REPO_ROOT/.venv-localstack
RUNS=$REPO_ROOT/.localstack
INIT_SRC=$REPO_ROOT/scripts/localstack/init
START_TIMEOUT=${EMULATOR_START_TIMEOUT:-120}
REGION=us-east-1
S_pid='' S_pgid='' S_port='' S_dir='' # filled by read_state from a state file

usage() { die "usage: scripts/emulator.sh start [NAME=VALUE ...] | status | env | stop [--all]"; }

# The state file to act on: $EMULATOR_STATE, else the one of $EMULATOR_PORT, else the only one there is.
pick_state() { pick_state_file emulator "${EMULATOR_STATE:-}" "${EMULATOR_PORT:-}" "emulators" "choose one with EMULATOR_STATE or EMULATOR_PORT, or stop --all"; }

is_alive() { [[ -n $(marked_pids "IMGRESIZE_EMULATOR=$S_dir") ]]; }

healthy() { curl -fs --max-time 3 -o /dev/null "http://127.0.0.1:$1/_localstack/health"; }

print_env() {
  print_export AWS_ENDPOINT_URL "http://127.0.0.1:$S_port"
  print_export AWS_ACCESS_KEY_ID test
  print_export AWS_SECRET_ACCESS_KEY test
  print_export AWS_REGION "$REGION"
  print_export AWS_DEFAULT_REGION "$REGION"
  print_export EMULATOR_STATE "$1"
}

# Stops the instance of state file $1 (grace $2 s before SIGKILL) and removes its run directory; quiet if it
# is already gone.
stop_one() {
  local state=$1
  read_state "$state" || return 0
  stop_marked "$S_pgid" "IMGRESIZE_EMULATOR=$S_dir" "${2:-${EMULATOR_STOP_GRACE:-20}}"
  # Only ever delete a run directory of ours; EMULATOR_KEEP_LOG=1 keeps its log for debugging.
  if [[ $S_dir == "$RUNS"/run-* ]]; then
    [[ ${EMULATOR_KEEP_LOG:-0} == 1 && -f $S_dir/localstack.log ]] &&
      mv -f "$S_dir/localstack.log" "$RUNS/emulator-$S_port.log" && log "log kept: $RUNS/emulator-$S_port.log"
    rm -rf "$S_dir"
  fi
  rm -f "$state"
  log "stopped emulator on port $S_port"
}

# Run-time failure handling while starting: stop what was started and leave no state behind.
START_STATE=''
on_start_exit() {
  local rc=$?
  trap - EXIT INT TERM
  if ((rc != 0)) && [[ -n $START_STATE ]]; then
    log_tail "${S_dir:-/nonexistent}/localstack.log"
    # Half-started LocalStack may ignore SIGTERM and has nothing worth a graceful stop: short grace.
    stop_one "$START_STATE" 3
    # Interrupted before the child could exec (no marker yet): it is still our own child, end it by pid.
    [[ -n ${S_pgid:-} ]] && kill -KILL "$S_pgid" 2>/dev/null
  fi
  exit "$rc"
}

# Waits until LocalStack answers and its start.d scripts ran; fails early if the process died.
# Returns 2 if another process holds the port (so the caller can pick another one).
wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT)) init
  while ((SECONDS < deadline)); do
    if ! kill -0 "$S_pgid" 2>/dev/null; then # our own child, started moments ago
      log "LocalStack exited during start-up"
      return 1
    fi
    if healthy "$S_port" &&
      init=$(curl -fs --max-time 3 "http://127.0.0.1:$S_port/_localstack/init") &&
      "$VENV/bin/python" -c '
import json, sys
init = json.loads(sys.argv[1])
if not init["completed"].get("READY"):
    sys.exit(1)
bad = [s["name"] for s in init["scripts"] if s["state"] != "SUCCESSFUL"]
if bad:
    print("init scripts failed:", ", ".join(bad), file=sys.stderr)
    sys.exit(3)
' "$init"; then
      # Someone else may have grabbed the port between our check and LocalStack's bind.
      listener_is "$S_port" "$S_pgid" || return 2
      return 0
    else
      (($? == 3)) && return 1
    fi
    sleep 0.5
  done
  log "LocalStack did not become healthy within ${START_TIMEOUT}s"
  return 1
}

# Stops the instance of state file $2 once process $1 is gone: a test process killed by ^C or a signal
# cannot run its own cleanup. Detached, with no stdio, so callers reading our output see EOF at once.
start_watchdog() {
  local watched=$1 state=$2
  EMULATOR_STATE="$state" setsid bash -c '
    while kill -0 "$0" 2>/dev/null; do sleep 2; done
    exec bash "$1" stop' "$watched" "$REPO_ROOT/scripts/emulator.sh" </dev/null >/dev/null 2>&1 &
}

cmd_start() {
  local arg
  for arg in "$@"; do [[ $arg == [A-Za-z_]*=* ]] || usage; done
  [[ -x $VENV/bin/python ]] || die "LocalStack is not installed: run scripts/setup.sh emulator"
  mkdir -p "$RUNS"
  trap on_start_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  local rc port state attempt
  for attempt in 1 2 3; do
    ((attempt == 1)) || log "attempt $attempt"
    port=${EMULATOR_PORT:-$(free_port)}
    # Hypercorn does not fail when the port is taken: LocalStack would report Ready and never answer.
    if port_in_use "$port"; then
      [[ -z ${EMULATOR_PORT:-} ]] || die "port $port on 127.0.0.1 is already in use (EMULATOR_PORT)"
      continue
    fi
    state=${EMULATOR_STATE:-$RUNS/emulator-$port.state}
    if read_state "$state" && is_alive; then
      die "an emulator already runs for $state (port $S_port): stop it first"
    fi
    stop_one "$state" 2>/dev/null # leftovers of a crashed run
    START_STATE=$state
    S_pgid='' # set only once we launched our own child (the cleanup trap relies on it)
    S_port=$port
    S_dir=$RUNS/run-$S_port
    rm -rf "$S_dir"
    mkdir -p "$S_dir/fs/etc/localstack" "$S_dir/home" "$S_dir/tmp"
    cp -R "$INIT_SRC" "$S_dir/fs/etc/localstack/init"

    # LAMBDA_RETRY_BASE_DELAY: Lambda retries a failed asynchronous call after 1 and 2 minutes; here after 1
    # and 2 seconds, so a test sees every attempt and the failure record within seconds.
    # A clean environment: the caller's AWS_* settings (e.g. a previous eval) must not leak into LocalStack.
    # The marker (set before setsid runs, so no moment without it once exec'd) lets stop find every process
    # of this run, and only those; setsid gives the run its own process group, away from the terminal's ^C.
    IMGRESIZE_EMULATOR="$S_dir" setsid env -i --chdir="$S_dir" \
      PATH="$VENV/bin:/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 HOME="$S_dir/home" \
      TMPDIR="$S_dir/tmp" \
      IMGRESIZE_EMULATOR="$S_dir" \
      OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$S_dir/fs" \
      GATEWAY_SERVER=hypercorn GATEWAY_LISTEN="127.0.0.1:$S_port" \
      DNS_ADDRESS=0 DISABLE_EVENTS=1 SKIP_SSL_CERT_DOWNLOAD=1 \
      SERVICES=s3,events,stepfunctions,apigateway,iam,sts,lambda,logs,sqs \
      LAMBDA_RUNTIME_EXECUTOR=local-process IMGRESIZE_LOCALSTACK_LIB="$REPO_ROOT/scripts/localstack" \
      LAMBDA_RETRY_BASE_DELAY=1 \
      AWS_DEFAULT_REGION="$REGION" \
      "$@" \
      "$VENV/bin/python" -m localstack.runtime.main </dev/null >"$S_dir/localstack.log" 2>&1 &
    S_pgid=$! # setsid made the process a group leader: its pid is the group id
    write_state "$START_STATE" "pid=$S_pgid" "pgid=$S_pgid" "port=$S_port" "dir=$S_dir"

    local t0=$SECONDS
    rc=0
    wait_ready || rc=$?
    if ((rc == 0)); then
      log "emulator healthy on 127.0.0.1:$S_port after $((SECONDS - t0))s (pid $S_pgid, log $S_dir/localstack.log)"
      START_STATE='' # success: keep it running
      [[ -z ${EMULATOR_WATCH_PID:-} ]] || start_watchdog "$EMULATOR_WATCH_PID" "$state"
      print_env "$state"
      return 0
    fi
    if ((rc == 2)) && [[ -z ${EMULATOR_PORT:-} ]]; then
      log "port $S_port was taken meanwhile, trying another one"
      stop_one "$START_STATE" 2>/dev/null
      continue
    fi
    exit 1
  done
  die "no free port after 3 attempts"
}

cmd_status() {
  local state
  state=$(pick_state)
  if [[ -z $state ]] || ! read_state "$state" || ! is_alive; then
    echo "not running"
    return 3
  fi
  local rss
  rss=$(ps -o rss= -g "$S_pgid" 2>/dev/null | awk '{s += $1} END {printf "%d", s / 1024}')
  if healthy "$S_port"; then
    echo "running: port=$S_port pid=$S_pid rss=${rss}MB dir=$S_dir state=$state"
  else
    echo "running but not healthy: port=$S_port pid=$S_pid dir=$S_dir state=$state"
    return 1
  fi
}

cmd_env() {
  local state
  state=$(pick_state)
  if [[ -z $state ]] || ! read_state "$state" || ! is_alive; then
    die "no emulator is running"
  fi
  print_env "$state"
}

cmd_stop() { stop_command emulator "emulator" "$@"; }

case ${1:-} in
  start) shift && cmd_start "$@" ;;
  status) cmd_status ;;
  env) cmd_env ;;
  stop) shift && cmd_stop "$@" ;;
  *) usage ;;
esac
