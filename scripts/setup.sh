#!/usr/bin/env bash
# Installs what the project needs, pinned, into ignored directories of the repo (plus rustup targets and nasm).
# Idempotent: each part records a stamp (hash of its pinned inputs) and is skipped while the stamp matches.
#
# Usage: scripts/setup.sh [build|emulator|arm64|newman|judge|all|freeze-emulator]     (default: all)
#   build            rustup targets, nasm, .venv-build with cargo-lambda + ziglang (requirements/build.txt)
#   emulator         .venv-localstack on CPython 3.13 with LocalStack (requirements/localstack.txt), and
#                    the arm64 part, so the emulator can run the arm64 function
#   arm64            qemu-user and libc6-arm64-cross (apt), to run the arm64 bootstrap on x86_64
#   newman           .tools/newman: Postman's runner, npm ci from tests/newman/ (the chain suite runs the collection)
#   judge            .tools/judge: Pillow (LittleCMS) for the colour tests (requirements/judge.txt)
#   all              build + emulator (with arm64) + newman + judge + tests/iac/setup.sh when it exists
#   freeze-emulator  maintainers: resolve requirements/localstack.in afresh and rewrite localstack.txt
# Environment: BUILD_PYTHON (default python3), LOCALSTACK_PYTHON (default: a working python3.13).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/common.sh
. "$REPO_ROOT/scripts/lib/common.sh"

REQ_DIR=$REPO_ROOT/scripts/requirements
BUILD_VENV=$REPO_ROOT/.venv-build
LS_VENV=$REPO_ROOT/.venv-localstack
JUDGE_VENV=$REPO_ROOT/.tools/judge
RUST_TARGETS=(aarch64-unknown-linux-gnu x86_64-unknown-linux-gnu)
# Quiet, non-interactive pip that never asks and never nags about its own version.
PIP_FLAGS=(--disable-pip-version-check --no-input --progress-bar off -q)

stamp_of() { # Hash of everything that decides a part's content: files and interpreter version.
  cat "$@" | sha256sum | cut -d' ' -f1
}

# True when VENV was made for exactly STAMP; otherwise VENV is created afresh from PYTHON (a fresh venv holds
# exactly the pinned set) and the caller installs into it, then writes the stamp.
venv_current_or_fresh() { # venv stamp python label
  local venv=$1 stamp=$2 py=$3 label=$4
  if [[ -f $venv/.stamp && $(<"$venv/.stamp") == "$stamp" ]]; then
    log "$label up to date ($venv)"
    return 0
  fi
  log "creating $venv with Python $("$py" -c 'import sys; print(sys.version.split()[0])') ($py)"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  return 1
}

# --- build ------------------------------------------------------------------------------------------------

ensure_rust_targets() {
  local installed missing=() t
  installed=$(rustup target list --installed)
  for t in "${RUST_TARGETS[@]}"; do
    grep -qx "$t" <<<"$installed" || missing+=("$t")
  done
  if ((${#missing[@]})); then
    log "adding rust targets: ${missing[*]}"
    rustup target add "${missing[@]}"
  fi
}

# nasm assembles the SIMD parts of the JPEG codec; only apt can provide it.
ensure_nasm() {
  command -v nasm >/dev/null && return 0
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  log "installing nasm with apt-get"
  # The package lists may be missing or stale on a fresh machine: refresh once, only if the install fails.
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q nasm >/dev/null ||
    {
      "${sudo[@]}" apt-get update -q >/dev/null &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q nasm >/dev/null
    } || die "could not install nasm (apt-get install nasm)"
}

# Installs Debian packages that are missing (apt-get; refreshes the package lists once if the install fails).
ensure_apt() { # purpose, packages...
  local purpose=$1 missing=() package sudo=()
  shift
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  ((EUID == 0)) || sudo=(sudo)
  log "installing ${missing[*]} with apt-get ($purpose)"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
    {
      "${sudo[@]}" apt-get update -q >/dev/null &&
        DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    } || die "could not install ${missing[*]} (apt-get install ${missing[*]})"
}

# The arm64 bootstrap runs here under user-mode emulation (tests/tests/bootstraps.rs): Debian's qemu-user and
# the aarch64 glibc (with its loader, /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1) of libc6-arm64-cross.
setup_arm64() {
  ensure_apt "arm64 bootstrap under emulation" qemu-user libc6-arm64-cross
  [[ -x /usr/bin/qemu-aarch64 && -f /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] ||
    die "qemu-user or libc6-arm64-cross installed but qemu-aarch64 or the aarch64 loader is missing"
  log "arm64 emulation: $(/usr/bin/qemu-aarch64 --version | head -n1)"
}

setup_build() {
  command -v rustup >/dev/null || die "rustup is missing: install Rust from https://rustup.rs first"
  ensure_rust_targets
  ensure_nasm

  local py=${BUILD_PYTHON:-python3} pyver stamp
  command -v "$py" >/dev/null || die "$py is missing: install Python 3 (3.9 or newer), or set BUILD_PYTHON"
  pyver=$("$py" -c 'import sys; assert sys.version_info >= (3, 9); print(sys.version.split()[0])') ||
    die "$py does not run or is older than 3.9: install Python 3.9+ or set BUILD_PYTHON"
  stamp=$( (echo "python $pyver" && cat "$REQ_DIR/build.txt") | stamp_of -)
  if ! venv_current_or_fresh "$BUILD_VENV" "$stamp" "$py" "build tools"; then
    "$BUILD_VENV/bin/python" -m pip install "${PIP_FLAGS[@]}" --no-deps --only-binary :all: \
      -r "$REQ_DIR/build.txt"
    verify_build
    echo "$stamp" >"$BUILD_VENV/.stamp"
  fi
  log "build env: source scripts/env.sh   (puts .venv-build/bin first on PATH, sets CARGO_ZIGBUILD_ZIG_PATH)"
}

# cargo-lambda must find zig through the venv; `cargo lambda system` reports what it found.
verify_build() {
  local out
  # shellcheck source=scripts/env.sh
  out=$(. "$REPO_ROOT/scripts/env.sh" && cargo-lambda lambda system 2>&1) ||
    die "cargo lambda system failed: $out"
  grep -qi 'zig' <<<"$out" || die "cargo lambda system did not report zig: $out"
  log "cargo lambda system: $(tr -s ' \n' ' ' <<<"$out" | cut -c1-200)"
}

# --- emulator ---------------------------------------------------------------------------------------------

# LocalStack 2026.x needs Python >= 3.12 and localstack.txt was frozen on 3.13: use exactly 3.13.
find_python313() {
  local c
  for c in "${LOCALSTACK_PYTHON:-}" "$(command -v python3.13 || true)" \
    "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13.*/bin/python3.13; do
    # A pyenv shim exists even when 3.13 is not selected and then fails: run it to be sure.
    [[ -n $c && -x $c ]] && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null &&
      { echo "$c"; return 0; }
  done
  die "CPython 3.13 not found. Install it (e.g. 'pyenv install 3.13.0', or Debian's python3.13 + python3.13-venv)" \
    "or set LOCALSTACK_PYTHON=/path/to/python3.13"
}

setup_emulator() {
  local py pyver stamp req=$REQ_DIR/localstack.txt
  # The emulator's Lambda executor runs arm64 functions (the module's default) under qemu-user.
  setup_arm64
  [[ -f $req ]] || die "$req is missing: run 'scripts/setup.sh freeze-emulator' to create it"
  py=$(find_python313)
  pyver=$("$py" -c 'import sys; print(sys.version.split()[0])')
  stamp=$( (echo "python $pyver" && cat "$req") | stamp_of -)
  venv_current_or_fresh "$LS_VENV" "$stamp" "$py" "emulator" && return 0
  # The file is the complete frozen set, so --no-deps installs exactly it; pip check proves it is consistent.
  "$LS_VENV/bin/python" -m pip install "${PIP_FLAGS[@]}" --no-deps -r "$req"
  "$LS_VENV/bin/python" -m pip check >/dev/null || die "$("$LS_VENV/bin/python" -m pip check)"
  verify_emulator
  echo "$stamp" >"$LS_VENV/.stamp"
}

# Import the pieces that failed on a wrong Python or wrong pins (see NOTES): the runtime entry point, the
# events target we patch at start, cbor2's private decoder and pyOpenSSL's certificate support.
verify_emulator() {
  "$LS_VENV/bin/python" -c '
import cbor2._decoder, OpenSSL.crypto, service_identity, boto3
import localstack.runtime.main
from localstack.services.events.target import StatesTargetSender
assert callable(StatesTargetSender.send_event)
' || die "LocalStack venv is broken (imports failed, see above)"
}

# Maintainers only: resolve localstack.in in a scratch venv and write the complete frozen set.
freeze_emulator() {
  local py
  py=$(find_python313)
  SCRATCH=$(mktemp -d)
  trap 'rm -rf "$SCRATCH"' EXIT
  local scratch=$SCRATCH
  "$py" -m venv "$scratch/venv"
  "$scratch/venv/bin/python" -m pip install "${PIP_FLAGS[@]}" -r "$REQ_DIR/localstack.in"
  "$scratch/venv/bin/python" -m pip check
  {
    echo "# Complete, frozen requirements of .venv-localstack (CPython $("$py" -c 'import platform; print(platform.python_version())')),"
    echo "# generated from localstack.in by 'scripts/setup.sh freeze-emulator'. Do not edit by hand."
    "$scratch/venv/bin/python" -m pip freeze --all --exclude pip --exclude setuptools --exclude wheel |
      LC_ALL=C sort -f
  } >"$REQ_DIR/localstack.txt"
  log "wrote scripts/requirements/localstack.txt ($(grep -vc '^#' "$REQ_DIR/localstack.txt") packages)"
}

# --- newman ---------------------------------------------------------------------------------------------

# Postman's command-line runner, pinned by tests/newman/package-lock.json, for the chain suite's run of the
# collection users import (terraform/examples/complete/imgresize.postman_collection.json).
setup_newman() {
  local dir=$REPO_ROOT/.tools/newman src=$REPO_ROOT/tests/newman stamp
  command -v npm >/dev/null || die "npm is missing: install Node.js 20 with npm (Debian: apt-get install nodejs npm)"
  stamp=$( (node --version && cat "$src/package.json" "$src/package-lock.json") | stamp_of -)
  if [[ -f $dir/.stamp && $(<"$dir/.stamp") == "$stamp" ]]; then
    log "newman up to date ($dir)"
    return 0
  fi
  log "installing newman into $dir (npm ci)"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$src/package.json" "$src/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci of newman failed"
  echo "$stamp" >"$dir/.stamp"
}

# --- judge ------------------------------------------------------------------------------------------------

# The colour tests judge outputs with LittleCMS, not with the colour crate the engine uses.
setup_judge() {
  local py=${BUILD_PYTHON:-python3} pyver stamp
  pyver=$("$py" -c 'import sys; print(sys.version.split()[0])') || die "$py does not run"
  stamp=$( (echo "python $pyver" && cat "$REQ_DIR/judge.txt") | stamp_of -)
  venv_current_or_fresh "$JUDGE_VENV" "$stamp" "$py" "colour judge" && return 0
  "$JUDGE_VENV/bin/python" -m pip install "${PIP_FLAGS[@]}" --no-deps --only-binary :all: -r "$REQ_DIR/judge.txt"
  "$JUDGE_VENV/bin/python" -c 'from PIL import ImageCms; ImageCms.createProfile("sRGB")' ||
    die "the colour judge's Pillow has no working ImageCms"
  echo "$stamp" >"$JUDGE_VENV/.stamp"
}

# --- main -------------------------------------------------------------------------------------------------

main() {
  local part=${1:-all}
  case $part in
    build | emulator | arm64 | newman | judge | all | freeze-emulator) ;;
    *) die "usage: scripts/setup.sh [build|emulator|arm64|newman|judge|all|freeze-emulator]" ;;
  esac
  # Two setups at once (e.g. parallel make targets) would trample each other's venvs: serialise, bounded.
  mkdir -p "$REPO_ROOT/.tools"
  exec 9>"$REPO_ROOT/.tools/setup.lock"
  flock -w 900 9 || die "another scripts/setup.sh held the lock for 15 minutes"

  local t0=$SECONDS
  case $part in
    build) setup_build ;;
    emulator) setup_emulator ;;
    arm64) setup_arm64 ;;
    newman) setup_newman ;;
    judge) setup_judge ;;
    freeze-emulator) freeze_emulator ;;
    all)
      setup_build
      setup_emulator
      setup_newman
      setup_judge
      if [[ -f $REPO_ROOT/tests/iac/setup.sh ]]; then
        bash "$REPO_ROOT/tests/iac/setup.sh"
      fi
      ;;
  esac
  log "$part done in $((SECONDS - t0))s"
}

main "$@"
