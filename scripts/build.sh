#!/usr/bin/env bash
# Builds the Lambda zips with cargo-lambda: `scripts/build.sh [arm64|x86_64 ...]` (default: both).
#
#   target/lambda/arm64/imgresize-lambda/bootstrap.zip    what the Terraform module deploys by default
#   target/lambda/x86_64/imgresize-lambda/bootstrap.zip   for architectures = ["x86_64"]
#
# The x86_64 build also yields the binaries this machine can run, from the same compiler and flags as the
# zip: target/x86_64-unknown-linux-gnu/release/{imgresize-lambda,imgresize} (demo, e2e, load test, bench).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"
MAX_ZIP_BYTES=$((10 * 1024 * 1024))

bash scripts/setup.sh build >&2
# shellcheck source=scripts/env.sh
. scripts/env.sh

# The C flags libjpeg's unwinding needs (-fexceptions -funwind-tables) are in .cargo/config.toml [env], where a
# plain `cargo lambda build` sees them too: this script adds no flags of its own, so what it builds is what
# a user building by hand gets (tests/tests/artifacts.rs checks both).

arches=("$@")
((${#arches[@]})) || arches=(arm64 x86_64)

for arch in "${arches[@]}"; do
  case $arch in
    arm64) flags=(--arm64 --bin imgresize-lambda) ;;
    # --bins: the CLI comes out of the same compilation; its zip is dropped below.
    x86_64) flags=(--x86-64 --bins) ;;
    *) echo "build.sh: unknown architecture '$arch' (arm64 or x86_64)" >&2 && exit 2 ;;
  esac
  started=$SECONDS
  cargo lambda build --release --output-format zip --lambda-dir "target/lambda/$arch" "${flags[@]}"
  rm -rf "target/lambda/$arch/imgresize"
  zip_path=target/lambda/$arch/imgresize-lambda/bootstrap.zip
  size=$(stat -c %s "$zip_path")
  awk -v a="$arch" -v p="$zip_path" -v s="$size" -v t=$((SECONDS - started)) \
    'BEGIN { printf "built %s: %s (%d bytes, %.1f MB) in %ds\n", a, p, s, s / 1048576, t }'
  if ((size > MAX_ZIP_BYTES)); then
    echo "build.sh: $zip_path is over 10 MB" >&2
    exit 1
  fi
done
