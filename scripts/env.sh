# shellcheck shell=bash
# Source this (`. scripts/env.sh`) to use the project's build tools: puts .venv-build/bin (cargo-lambda, and the
# python that runs `python3 -m ziglang`) first on PATH and points cargo-zigbuild at the venv's zig directly, so
# it is found even if a later PATH change hides the venv. Safe to source more than once. Run
# `scripts/setup.sh build` first.

_imgresize_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case ":$PATH:" in
  *":$_imgresize_root/.venv-build/bin:"*) ;;
  *) PATH="$_imgresize_root/.venv-build/bin:$PATH" ;;
esac
export PATH
for _imgresize_zig in "$_imgresize_root"/.venv-build/lib/python3*/site-packages/ziglang/zig; do
  [[ -x $_imgresize_zig ]] && export CARGO_ZIGBUILD_ZIG_PATH="$_imgresize_zig"
done
unset _imgresize_root _imgresize_zig
