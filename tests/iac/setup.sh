#!/usr/bin/env bash
# Install the offline IaC checkers, pinned, each in its own environment under .tools/iac/:
#   .tools/iac/hcl        python-hcl2 + pytest      (tests/iac/requirements/hcl.txt)
#   .tools/iac/checkov    checkov 3.3.30            (tests/iac/requirements/checkov.txt; its own venv
#                                                    because its bc-python-hcl2 shadows python-hcl2)
#   .tools/iac/statelint  statelint 3.1.0           (tests/iac/requirements/statelint.txt)
#   .tools/iac/provider   tf 1.2.0 (plugin protocol) (tests/iac/requirements/provider.txt; runs the
#                                                    aws provider stub tests/iac/provider/stub.py)
#   .tools/iac/node       amazon-states-language-service + asl-validator (npm ci from tests/iac/asl/)
# Idempotent: each environment carries a stamp keyed on its pinned file(s) and interpreter version;
# a second run only compares stamps. Set IAC_PYTHON to choose the interpreter (default python3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tests/iac"
TOOLS="$ROOT/.tools/iac"
PY="${IAC_PYTHON:-python3}"

die() { echo "iac setup: $*" >&2; exit 1; }

command -v "$PY" >/dev/null 2>&1 || die "$PY not found: install Python 3.9-3.13 with the venv module (Debian: apt-get install python3 python3-venv)"
"$PY" -c 'import sys, venv, ensurepip; sys.exit(0 if (3, 9) <= sys.version_info[:2] <= (3, 13) else 1)' 2>/dev/null \
  || die "$PY must be Python 3.9-3.13 with venv and ensurepip (Debian: apt-get install python3-venv), or set IAC_PYTHON"
command -v node >/dev/null 2>&1 || die "node not found: install Node.js >= 18 (Debian: apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || die "npm not found: install npm (Debian: apt-get install npm)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' || die "Node.js >= 18 needed (found $(node --version))"

PYVER="$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
mkdir -p "$TOOLS"

stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

python_env() {
  local name="$1" req="$2" dir="$TOOLS/$1" want
  want="$(stamp_of "$req") python-$PYVER"
  if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$want" ]]; then
    echo "iac setup: $name up to date"
    return
  fi
  echo "iac setup: installing $name ($(grep -v '^#' "$req" | grep -c .) pinned packages)"
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --require-virtualenv -r "$req"
  echo "$want" >"$dir/.stamp"
}

node_env() {
  local dir="$TOOLS/node" want
  want="$(stamp_of "$HERE/asl/package.json" "$HERE/asl/package-lock.json") node-$(node --version)"
  if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$want" ]]; then
    echo "iac setup: node tools up to date"
    return
  fi
  echo "iac setup: installing node tools (npm ci)"
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$HERE/asl/package.json" "$HERE/asl/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$dir/.stamp"
}

python_env hcl "$HERE/requirements/hcl.txt"
python_env checkov "$HERE/requirements/checkov.txt"
python_env statelint "$HERE/requirements/statelint.txt"
python_env provider "$HERE/requirements/provider.txt"
node_env
