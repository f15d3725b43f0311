#!/usr/bin/env bash
# Offline checks of the Terraform module (terraform/ and terraform/examples/*): real Terraform (fmt,
# validate, plan) against a provider stub built from the AWS provider's schema, plus schema, security
# and contract checks. Terraform missing: its check prints SKIP and passes.
# Installs its pinned tools first (tests/iac/setup.sh, a no-op once done). One summary line per check;
# exit status 1 if any check fails (its output is printed below the summary).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
T="$ROOT/.tools/iac"
export PYTHONDONTWRITEBYTECODE=1

if ! setup_out="$("$ROOT/tests/iac/setup.sh" 2>&1)"; then
  echo "$setup_out"
  echo "FAIL  iac setup"
  exit 1
fi

OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
failed=()
total_start=$(date +%s%N)
secs() { local ms=$((($(date +%s%N) - $1) / 1000000)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

# check NAME SUMMARY-PATTERN COMMAND...: run it, print PASS/FAIL, its time and a one-line summary.
check() {
  local name="$1" pattern="$2"
  shift 2
  local start rc summary
  start=$(date +%s%N)
  "$@" >"$OUT/$name.log" 2>&1
  rc=$?
  summary="$(grep -E "$pattern" "$OUT/$name.log" | tail -n 1)"
  if [[ $rc -eq 0 ]] && grep -q '^SKIP' "$OUT/$name.log"; then
    printf 'SKIP  %-12s %5ss  %s\n' "$name" "$(secs "$start")" "$(grep -m1 '^SKIP' "$OUT/$name.log")"
  elif [[ $rc -eq 0 ]]; then
    printf 'PASS  %-12s %5ss  %s\n' "$name" "$(secs "$start")" "${summary:-ok}"
  else
    printf 'FAIL  %-12s %5ss  %s\n' "$name" "$(secs "$start")" "${summary:-exit status $rc}"
    failed+=("$name")
  fi
}

check schema 'schema check' "$T/hcl/bin/python" tests/iac/check_schema.py
# Real Terraform (fmt, init, validate, plan against the provider stub; broken fixtures must fail).
# Its plans are kept for the pytest check (test_terraform.py), which runs after it.
export IAC_PLANS="$OUT/plans"
check terraform 'terraform check' python3 tests/iac/terraform.py --plans "$IAC_PLANS"
check pytest '(passed|failed|error)' "$T/hcl/bin/python" -m pytest -q -p no:cacheprovider tests/iac
check checkov 'Passed checks' env LOG_LEVEL=ERROR "$T/checkov/bin/checkov" --directory terraform --directory tests/iac/consumer --framework terraform \
  --skip-download --external-checks-dir tests/iac/checkov --compact --quiet
# Both state machines: the resize one and the backfill's Distributed Map (rendered with the AWS choices).
render_both() {
  "$T/hcl/bin/python" tests/iac/render.py --sample state_machine.asl.json -o "$OUT/state_machine.asl.json" &&
    "$T/hcl/bin/python" tests/iac/render.py --sample backfill.asl.json -o "$OUT/backfill.asl.json"
}
check render 'rendered' render_both
check statelint 'error' "$T/statelint/bin/statelint" "$OUT/state_machine.asl.json" "$OUT/backfill.asl.json"
check asl-service 'valid|error' env NODE_PATH="$T/node/node_modules" node tests/iac/asl/validate_asl.js "$OUT/state_machine.asl.json" "$OUT/backfill.asl.json"

printf 'iac checks: 8 run, %d failed, %ss\n' "${#failed[@]}" "$(secs "$total_start")"
for name in "${failed[@]}"; do
  echo "---- $name ----"
  tail -n 60 "$OUT/$name.log"
done
[[ ${#failed[@]} -eq 0 ]]
