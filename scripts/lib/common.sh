# shellcheck shell=bash
# Helpers shared by scripts/*.sh (sourced, never run). Callers set REPO_ROOT first.

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# Prints a TCP port that was free on 127.0.0.1 a moment ago (the kernel picks it, so no guessing).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True if something already listens on 127.0.0.1:$1 (a bare TCP connect, closed at once).
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True unless `ss` (iproute2) shows that the listener on 127.0.0.1:$1 is some process other than $2.
listener_is() {
  command -v ss >/dev/null || return 0
  ss -Htlnp "( sport = :$1 )" 2>/dev/null | grep -q "pid=$2,"
}

# Pids of live processes whose environment holds the line $1 (NAME=VALUE). Every process we start gets such a
# marker, inherited by its children, so a stale pid that the kernel reused for something else is never killed.
marked_pids() {
  local file pid
  for file in $(grep -lsxzF -- "$1" /proc/[0-9]*/environ 2>/dev/null || true); do
    pid=${file#/proc/}
    pid=${pid%/environ}
    [[ $pid != "$$" && $pid != "$BASHPID" ]] && echo "$pid"
  done
  return 0
}

# Stops process group $1 and any process carrying marker $2: SIGTERM, up to $3 s of grace, then SIGKILL.
stop_marked() {
  local pgid=$1 marker=$2 grace=${3:-15} deadline pids
  pids=$(marked_pids "$marker")
  [[ -n $pids ]] || return 0
  if [[ -n $pgid ]] && grep -qx "$pgid" <<<"$pids"; then
    kill -TERM -- "-$pgid" 2>/dev/null || true
  fi
  # Stragglers that left the group (e.g. called setsid) are signalled by pid.
  # shellcheck disable=SC2086 # word splitting of the pid list is intended
  kill -TERM $pids 2>/dev/null || true
  deadline=$((SECONDS + grace))
  while pids=$(marked_pids "$marker") && [[ -n $pids ]]; do
    if ((SECONDS >= deadline)); then
      log "still alive after ${grace}s, sending SIGKILL to: $(echo "$pids" | tr '\n' ' ')"
      [[ -n $pgid ]] && kill -KILL -- "-$pgid" 2>/dev/null
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
      sleep 0.5 # SIGKILL cannot be ignored; give the kernel a moment to reap
      break
    fi
    sleep 0.2
  done
  return 0
}

# Prints "export NAME=VALUE" with VALUE quoted for eval.
print_export() { printf 'export %s=%q\n' "$1" "$2"; }

# Reads a state file written by write_state into variables prefixed with S_ (no eval of arbitrary text).
read_state() {
  local key value
  [[ -f $1 ]] || return 1
  while IFS='=' read -r key value; do
    [[ $key =~ ^[a-z_]+$ ]] || continue
    printf -v "S_$key" '%s' "$value"
  done <"$1"
}

# write_state FILE key=value...: written to a temp file and renamed, so readers never see half a file.
write_state() {
  local file=$1
  shift
  printf '%s\n' "$@" >"$file.tmp.$$"
  mv -f "$file.tmp.$$" "$file"
}

# Tail of a log for error messages.
log_tail() {
  [[ -f $1 ]] || return 0
  echo "----- last ${2:-40} lines of $1 -----" >&2
  tail -n "${2:-40}" "$1" >&2
  echo "-----" >&2
}

# `stop [--all]` of a control script: stops the instance pick_state names, or with --all every instance whose
# state file is $RUNS/$1-*.state; quiet when none runs ($2 names the thing in that message). Uses the caller's
# RUNS, pick_state, stop_one and usage.
stop_command() {
  local kind=$1 what=$2 state f
  shift 2
  if [[ ${1:-} == --all ]]; then
    for f in "$RUNS/$kind"-*.state; do
      [[ ! -e $f ]] || stop_one "$f"
    done
    return 0
  fi
  [[ $# -eq 0 ]] || usage
  state=$(pick_state)
  if [[ -z $state || ! -f $state ]]; then
    log "no $what running"
    return 0
  fi
  stop_one "$state"
}

# The state file a control script acts on: $2 (an explicit state file), else the one of port $3, else the only
# $RUNS/$1-*.state there is (none: prints nothing). Several running is an error: "several $4 run (...): $5".
pick_state_file() {
  local kind=$1 state=$2 port=$3 what=$4 how=$5
  if [[ -n $state ]]; then
    echo "$state"
  elif [[ -n $port ]]; then
    echo "$RUNS/$kind-$port.state"
  else
    local files=("$RUNS/$kind"-*.state)
    [[ -e ${files[0]} ]] || return 0
    ((${#files[@]} == 1)) || die "several $what run (${files[*]##*/}): $how"
    echo "${files[0]}"
  fi
}
