#!/usr/bin/env bash
# Release artifacts for consumers of the Terraform module who do not build from source:
#
#   dist/imgresize-<version>-arm64.zip    the function for architectures = ["arm64"] (the module's default)
#   dist/imgresize-<version>-x86_64.zip   the function for architectures = ["x86_64"]
#   dist/SHA256SUMS                       `sha256sum -c SHA256SUMS` checks both
#
# <version> is lambda/Cargo.toml's. Pass a zip to the module as lambda_zip_path, or upload it to a bucket
# and pass lambda_s3_bucket/lambda_s3_key (with lambda_source_code_hash = `base64sha256` of the file, so a
# new zip under the same key redeploys). Builds only what is missing unless REBUILD=1.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

version=$(awk -F'"' '/^version *=/ { print $2; exit }' lambda/Cargo.toml)
[[ -n $version ]] || { echo "release.sh: no version in lambda/Cargo.toml" >&2; exit 1; }

dist=dist
rm -rf "$dist.tmp"
mkdir -p "$dist.tmp"
for arch in arm64 x86_64; do
  zip_path=target/lambda/$arch/imgresize-lambda/bootstrap.zip
  if [[ ${REBUILD:-0} == 1 || ! -f $zip_path ]]; then
    bash scripts/build.sh "$arch"
  fi
  cp "$zip_path" "$dist.tmp/imgresize-$version-$arch.zip"
done
(cd "$dist.tmp" && sha256sum -- *.zip >SHA256SUMS && sha256sum --quiet -c SHA256SUMS)
# Replaced whole, so dist/ never mixes two versions' files.
rm -rf "$dist"
mv "$dist.tmp" "$dist"
echo "release $version:"
sed 's/^/  /' "$dist/SHA256SUMS"
