#!/usr/bin/env bash
# Installs the benchmark's peers: Debian packages, one Python virtual environment per contender, sharp from
# the committed package-lock.json, and the `dssim` CLI. Idempotent and pinned: every step is keyed on a stamp
# (a hash of the files that pin it), so a second run does nothing and takes seconds.
#
#   bench/setup.sh                    install or update what is missing
#   BENCH_SKIP_DSSIM=1 bench/setup.sh skip the `cargo install dssim` step (the bench then reports DSSIM as n/a)
#
# Everything goes under <repo>/.tools/bench/ (ignored by git). Nothing is installed by hand.
set -euo pipefail

BENCH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$BENCH")"
TOOLS="${IMGRESIZE_BENCH_TOOLS:-$ROOT/.tools/bench}"
STAMPS="$TOOLS/stamps"
REQ="$BENCH/requirements"
# Debian's interpreter: python3-venv and python3-dev come from apt (below), so the venvs are reproducible.
PY="${BENCH_PYTHON:-/usr/bin/python3}"
DSSIM_VERSION="3.5.1"
# Pillow-SIMD is source only: AVX2 build where the CPU has it (as its README says); NEON is automatic on arm64.
SIMD_CC="cc"
if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then SIMD_CC="cc -mavx2"; fi

APT_PKGS=(
  libturbojpeg0     # the floor: libjpeg-turbo's TurboJPEG API, used in process through PyTurboJPEG
  libvips-dev       # pyvips in API mode (pulls libvips42)
  libjpeg-dev       # building Pillow-SIMD
  zlib1g-dev        # building Pillow-SIMD
  python3-venv python3-dev build-essential pkg-config
  util-linux        # taskset
  time              # /usr/bin/time -f %M (peak RSS)
)

log() { printf '[bench/setup] %s\n' "$*" >&2; }
die() { printf '[bench/setup] error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$STAMPS"
SECONDS=0

# stamp_key FILE... : hash of the given files plus this script's pins
stamp_key() { cat "$@" | { cat; echo "py=$($PY -c 'import sys; print(sys.version)' 2>/dev/null) cc=${SIMD_CC:-} dssim=$DSSIM_VERSION"; } | sha256sum | cut -c1-16; }
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { echo "$2" >"$STAMPS/$1"; }

# ---------------------------------------------------------------- Debian packages
missing=()
for p in "${APT_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "apt: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    SUDO="sudo"
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt: all ${#APT_PKGS[@]} packages present"
fi

[ -x "$PY" ] || die "$PY not found (install Debian's python3, or set BENCH_PYTHON)"
command -v taskset >/dev/null || die "taskset missing (util-linux)"
[ -x /usr/bin/time ] || die "/usr/bin/time missing (package time)"

# ---------------------------------------------------------------- Python venvs (one per contender family)
# make_venv NAME REQFILE [extra pip args...]
make_venv() {
  local name="$1" req="$2"; shift 2
  local venv="$TOOLS/venv-$name"
  local key; key="$(stamp_key "$REQ/build.txt" "$req")"
  if stamp_ok "venv-$name" "$key" && [ -x "$venv/bin/python" ]; then
    log "venv-$name: up to date"; return 0
  fi
  log "venv-$name: installing $(grep -v '^#' "$req" | tr '\n' ' ')"
  rm -rf "$venv"
  "$PY" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --no-deps -r "$REQ/build.txt"
  # One package at a time, in the file's order, so a source build can rely on the lines above it; no wheel
  # cache, so a build never comes from an earlier build made under other conditions (flags, headers).
  local pkg
  for pkg in $(grep -Ev '^\s*(#|$)' "$req"); do
    "$venv/bin/python" -m pip install -q --no-cache-dir --no-deps --no-build-isolation "$@" "$pkg"
  done
  "$venv/bin/python" -m pip check >/dev/null || { "$venv/bin/python" -m pip check; die "venv-$name: inconsistent"; }
  stamp_set "venv-$name" "$key"
}

make_venv pillow "$REQ/pillow.txt"
make_venv pyvips "$REQ/pyvips.txt"
make_venv turbo "$REQ/turbo.txt"
# (a fresh Pillow-SIMD build takes about 1-3 minutes)
CC="$SIMD_CC" make_venv pillow-simd "$REQ/pillow-simd.txt" --no-binary pillow-simd

# sanity: each venv imports its library (cheap; catches a broken shared-library link)
"$TOOLS/venv-pillow/bin/python" -c 'import PIL.Image, PIL.features as f; assert f.check("jpg")' \
  || die "venv-pillow broken"
"$TOOLS/venv-pillow-simd/bin/python" -c 'import PIL.Image, PIL.features as f; assert f.check("jpg"), "no JPEG"' \
  || die "venv-pillow-simd broken (JPEG support missing?)"
"$TOOLS/venv-pyvips/bin/python" -c 'import pyvips, sys; pyvips.API_mode or print("[bench/setup] warning: pyvips in ABI mode", file=sys.stderr)' \
  || die "venv-pyvips broken"

# ---------------------------------------------------------------- sharp (npm ci from the committed lock file)
command -v node >/dev/null || die "node not found: install Node.js >= 20.9 (sharp 0.35 needs it)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)' \
  || die "node $(node --version) is too old: sharp 0.35 needs >= 20.9"
NODE_DIR="$TOOLS/node"
key="$(stamp_key "$BENCH/package.json" "$BENCH/package-lock.json")-node$(node -p 'process.versions.node.split(".")[0]')"
if stamp_ok node "$key" && [ -d "$NODE_DIR/node_modules/sharp" ]; then
  log "node: up to date"
else
  log "node: npm ci (sharp)"
  mkdir -p "$NODE_DIR"
  cp "$BENCH/package.json" "$BENCH/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  (cd "$NODE_DIR" && node -e 'require("sharp")') || die "sharp does not load"
  stamp_set node "$key"
fi

# ---------------------------------------------------------------- dssim (quality metric), from crates.io
DSSIM_BIN="$TOOLS/cargo/bin/dssim"
if [ -x "$DSSIM_BIN" ] && stamp_ok dssim "$DSSIM_VERSION"; then
  log "dssim: up to date ($DSSIM_VERSION)"
elif [ "${BENCH_SKIP_DSSIM:-0}" = "1" ]; then
  log "dssim: skipped (BENCH_SKIP_DSSIM=1); the report will show DSSIM as n/a"
elif ! command -v cargo >/dev/null; then
  log "dssim: cargo not found, skipped; the report will show DSSIM as n/a"
else
  log "dssim: cargo install dssim $DSSIM_VERSION (a few minutes, once)"
  # Its own target dir, so it never touches the project's build.
  CARGO_TARGET_DIR="$TOOLS/cargo-target" cargo install --locked --quiet dssim --version "$DSSIM_VERSION" --root "$TOOLS/cargo"
  rm -rf "$TOOLS/cargo-target"
  stamp_set dssim "$DSSIM_VERSION"
fi

log "ready in ${SECONDS}s: run the bench with: python3 bench/run.py [--quick]"
