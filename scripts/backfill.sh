#!/usr/bin/env bash
# Backfill a deployed imgresize stack: resize every object already under the stack's source_prefix in
# the originals bucket, with the module's backfill state machine (a Distributed Map, terraform/backfill.tf).
#
#   cd terraform/examples/complete && terraform apply && ../../../scripts/backfill.sh
#   (or `make backfill TF_DIR=terraform/examples/complete`)
#
# 1. starts an execution of the backfill state machine (the backfill_state_machine_arn output);
# 2. waits (bounded, TIMEOUT) for it to end, printing its progress every POLL seconds;
# 3. prints the summary as one JSON line: {"status", "total", "processed", "skipped", "rejected", "failed"}.
#    With the module's default ResultWriter the children's results are files in S3: the summary is counted
#    here from the run's manifest and result files; without one the state machine counted them itself.
# Exit status 0 if the execution SUCCEEDED, 1 if not (its error and cause are printed), 2 on bad usage.
# Re-running is cheap: objects whose outputs are current are skipped by the function (one GetObject and one
# HeadObject each) and counted as "skipped".
#
# Needs: aws CLI v2, python3 (runs on macOS too); AWS credentials in the environment or the CLI's
# configuration. Settings (environment): TF_DIR (where `terraform output` runs, default: current
# directory), or BACKFILL_STATE_MACHINE_ARN itself; TIMEOUT seconds (default 86400), POLL seconds
# (default 10), NAME (the execution's name, default backfill-<UTC time>). AWS_ENDPOINT_URL points the aws
# CLI at an emulator.
set -euo pipefail

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ $# -eq 0 ]] || usage

for tool in aws python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "backfill: $tool is required" >&2; exit 2; }
done

TIMEOUT="${TIMEOUT:-86400}"
POLL="${POLL:-10}"
NAME="${NAME:-backfill-$(date -u +%Y%m%dT%H%M%SZ)}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [[ -z "${BACKFILL_STATE_MACHINE_ARN:-}" ]]; then
  command -v terraform >/dev/null 2>&1 || { echo "backfill: terraform not found; set BACKFILL_STATE_MACHINE_ARN" >&2; exit 2; }
  BACKFILL_STATE_MACHINE_ARN="$(terraform -chdir="${TF_DIR:-.}" output -raw backfill_state_machine_arn)"
fi
if [[ -z "$BACKFILL_STATE_MACHINE_ARN" || "$BACKFILL_STATE_MACHINE_ARN" == "null" ]]; then
  echo "backfill: the stack has no backfill state machine (enable_backfill = false)" >&2
  exit 2
fi

field() {  # field FILE PATH...: a value of a JSON file ("" when absent or null)
  python3 - "$@" <<'PY'
import json, sys
value = json.load(open(sys.argv[1]))
for part in sys.argv[2:]:
    value = value.get(part) if isinstance(value, dict) else None
print("" if value is None else value if isinstance(value, str) else json.dumps(value))
PY
}

EXECUTION_ARN="$(aws stepfunctions start-execution --state-machine-arn "$BACKFILL_STATE_MACHINE_ARN" \
  --name "$NAME" --input '{}' --query executionArn --output text)"
echo "backfill: started $EXECUTION_ARN" >&2

started=$(date +%s)
while :; do
  aws stepfunctions describe-execution --execution-arn "$EXECUTION_ARN" --output json >"$WORK/execution.json"
  status="$(field "$WORK/execution.json" status)"
  [[ "$status" == "RUNNING" ]] || break
  elapsed=$(($(date +%s) - started))
  if ((elapsed > TIMEOUT)); then
    echo "backfill: still RUNNING after ${TIMEOUT}s; it goes on: aws stepfunctions describe-execution --execution-arn $EXECUTION_ARN" >&2
    exit 1
  fi
  # Progress of the map run (AWS; the emulator may not list map runs).
  map_run="$(aws stepfunctions list-map-runs --execution-arn "$EXECUTION_ARN" --query 'mapRuns[0].mapRunArn' --output text 2>/dev/null || true)"
  if [[ -n "$map_run" && "$map_run" != "None" ]]; then
    aws stepfunctions describe-map-run --map-run-arn "$map_run" \
      --query 'itemCounts.[total,succeeded,failed,running]' --output text 2>/dev/null |
      awk -v t="$elapsed" '{printf "backfill: %ss: %s items, %s succeeded, %s failed, %s running\n", t, $1, $2, $3, $4}' >&2 || true
  else
    echo "backfill: ${elapsed}s: running" >&2
  fi
  sleep "$POLL"
done

output="$(field "$WORK/execution.json" output)"
echo "${output:-null}" >"$WORK/output.json"
bucket="$(field "$WORK/output.json" resultWriterDetails Bucket)"
manifest="$(field "$WORK/output.json" resultWriterDetails Key)"
if [[ -n "$bucket" && -n "$manifest" ]]; then
  # ResultWriter: manifest.json lists the result files by status; each holds the children's outputs.
  aws s3api get-object --bucket "$bucket" --key "$manifest" "$WORK/manifest.json" >/dev/null
  python3 - "$WORK/manifest.json" >"$WORK/keys.txt" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))
for status, files in manifest.get("ResultFiles", {}).items():
    for f in files:
        print(status, f["Key"])
PY
  n=0
  while read -r status key; do
    n=$((n + 1))
    aws s3api get-object --bucket "$bucket" --key "$key" "$WORK/results-$n.json" >/dev/null
    echo "$status $WORK/results-$n.json" >>"$WORK/files.txt"
  done <"$WORK/keys.txt"
  touch "$WORK/files.txt"
  # The map run's own count of items, to check the result files against (a missing file must not pass
  # for a smaller backfill).
  items=""
  map_run="$(field "$WORK/output.json" mapRunArn)"
  if [[ -n "$map_run" ]]; then
    items="$(aws stepfunctions describe-map-run --map-run-arn "$map_run" --query itemCounts.total --output text)"
  fi
  python3 - "$(field "$WORK/execution.json" status)" "$WORK/files.txt" "$items" <<'PY'
import json, sys
counts = {"processed": 0, "skipped": 0, "rejected": 0, "failed": 0}
for line in open(sys.argv[2]):
    status, path = line.split(" ", 1)
    for child in json.load(open(path.strip())):
        if status != "SUCCEEDED":
            counts["failed"] += 1
            continue
        output = json.loads(child.get("Output") or "{}")
        outcome = next((k for k in ("processed", "skipped", "rejected") if k in output), "failed")
        counts[outcome] += 1
total = sum(counts.values())
print(json.dumps({"status": sys.argv[1], "total": total, **counts}))
if sys.argv[3] not in ("", "None") and int(sys.argv[3]) != total:
    sys.exit(f"backfill: the result files hold {total} results but the map run had {sys.argv[3]} items")
PY
else
  python3 - "$(field "$WORK/execution.json" status)" "$WORK/output.json" <<'PY'
import json, sys
output = json.load(open(sys.argv[2])) or {}
summary = {k: output.get(k, 0) for k in ("total", "processed", "skipped", "rejected", "failed")}
print(json.dumps({"status": sys.argv[1], **summary}))
PY
fi

if [[ "$(field "$WORK/execution.json" status)" != "SUCCEEDED" ]]; then
  echo "backfill: $(field "$WORK/execution.json" status): $(field "$WORK/execution.json" error): $(field "$WORK/execution.json" cause)" >&2
  exit 1
fi
