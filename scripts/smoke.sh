#!/usr/bin/env bash
# Smoke test of a deployed imgresize stack, for users with an AWS account (it cannot run offline).
#
#   cd terraform/examples/complete && terraform apply && ../../../scripts/smoke.sh
#
# 1. uploads an image (a generated 1600x1200 PNG, or -i FILE) to the originals bucket, under a key with
#    a space and an apostrophe (the S3 trigger URL-encodes keys);
# 2. waits (bounded) for the resized object and checks its dimensions fit the target size;
# 3. POSTs {"key": ..., "size": 300} to /resize with `curl --aws-sigv4`;
# 4. polls GET /executions/{id} (bounded) until the execution ends and checks it SUCCEEDED.
# It deletes what it uploaded and produced unless KEEP=1.
#
# Needs: aws CLI v2, curl >= 7.75 (--aws-sigv4), python3; AWS credentials in the environment or the
# CLI's configuration; an API with api_authorization = AWS_IAM (the default).
# Settings (environment): TF_DIR (where `terraform output` runs, default: current directory), or the
# values themselves: ORIGINALS_BUCKET, RESIZED_BUCKET, RESIZE_URL, EXECUTIONS_URL; DEST_PREFIX
# (default output/), TARGET_SIZE (default 1000), KEY_PREFIX (default smoke/: must pass the stack's
# source_prefix/source_suffixes filters), TIMEOUT seconds per wait (default 180).
set -euo pipefail

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
IMAGE=""
while getopts "i:h" opt; do
  case "$opt" in
    i) IMAGE="$OPTARG" ;;
    *) usage ;;
  esac
done

for tool in aws curl python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "smoke: $tool is required" >&2; exit 2; }
done

TIMEOUT="${TIMEOUT:-180}"
DEST_PREFIX="${DEST_PREFIX:-output/}"
TARGET_SIZE="${TARGET_SIZE:-1000}"
KEY_PREFIX="${KEY_PREFIX:-smoke/}"
WORK="$(mktemp -d)"

output() {  # output NAME: a terraform output of TF_DIR, unless given in the environment
  if [[ -z "${OUTPUTS_JSON:-}" ]]; then
    command -v terraform >/dev/null 2>&1 || { echo "smoke: terraform not found; set ORIGINALS_BUCKET, RESIZED_BUCKET, RESIZE_URL, EXECUTIONS_URL" >&2; exit 2; }
    OUTPUTS_JSON="$(terraform -chdir="${TF_DIR:-.}" output -json)"
  fi
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]]["value"])' "$OUTPUTS_JSON" "$1"
}

ORIGINALS_BUCKET="${ORIGINALS_BUCKET:-$(output originals_bucket_name)}"
RESIZED_BUCKET="${RESIZED_BUCKET:-$(output resized_bucket_name)}"
RESIZE_URL="${RESIZE_URL:-$(output api_resize_url)}"
EXECUTIONS_URL="${EXECUTIONS_URL:-$(output api_executions_url)}"
REGION="$(python3 -c 'import sys,re; m=re.search(r"execute-api\.([a-z0-9-]+)\.amazonaws", sys.argv[1]); print(m.group(1) if m else "")' "$RESIZE_URL")"
REGION="${REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}}"

# Credentials for curl's SigV4: the environment, else what the CLI resolves (profiles, SSO, roles).
if [[ -z "${AWS_ACCESS_KEY_ID:-}" ]]; then
  eval "$(aws configure export-credentials --format env)"
fi
SIGV4=(--aws-sigv4 "aws:amz:${REGION}:execute-api" --user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}")
if [[ -n "${AWS_SESSION_TOKEN:-}" ]]; then
  SIGV4+=(-H "x-amz-security-token: ${AWS_SESSION_TOKEN}")
fi

RUN="run-$(date +%s)-$RANDOM"
STEM="bob's photo"
if [[ -z "$IMAGE" ]]; then
  IMAGE="$WORK/source.png"
  python3 - "$IMAGE" <<'PY'
import struct, sys, zlib
w, h = 1600, 1200
rows = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 255 // w, y * 255 // h, 128)) for y in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
    + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
fi
EXT="${IMAGE##*.}"
EXT="$(echo "$EXT" | tr 'A-Z' 'a-z')"
case "$EXT" in jpg | jpeg) OUT_EXT="jpg" ;; png | gif | bmp) OUT_EXT="png" ;; webp) OUT_EXT="webp" ;; *) OUT_EXT="$EXT" ;; esac
KEY="${KEY_PREFIX}${RUN}/${STEM}.${EXT}"
EXPECT_KEY="${EXPECT_KEY:-${DEST_PREFIX}${STEM}_resized.${OUT_EXT}}"

cleanup() {
  if [[ "${KEEP:-0}" != "1" ]]; then
    aws s3api delete-object --bucket "$ORIGINALS_BUCKET" --key "$KEY" >/dev/null 2>&1 || true
    aws s3api delete-object --bucket "$RESIZED_BUCKET" --key "$EXPECT_KEY" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
step() { echo "smoke: $*"; }

step "uploading s3://$ORIGINALS_BUCKET/$KEY"
START="$(date +%s)"
aws s3api put-object --bucket "$ORIGINALS_BUCKET" --key "$KEY" --body "$IMAGE" >/dev/null

step "waiting up to ${TIMEOUT}s for s3://$RESIZED_BUCKET/$EXPECT_KEY (S3 → EventBridge → Step Functions → Lambda)"
deadline=$(($(date +%s) + TIMEOUT))
until aws s3api head-object --bucket "$RESIZED_BUCKET" --key "$EXPECT_KEY" \
  --if-modified-since "$(date -u -d "@$((START - 5))" +%Y-%m-%dT%H:%M:%SZ)" >/dev/null 2>&1; do
  (($(date +%s) < deadline)) || fail "no resized object after ${TIMEOUT}s: check the state machine's executions and the function's logs"
  sleep 3
done
aws s3api get-object --bucket "$RESIZED_BUCKET" --key "$EXPECT_KEY" "$WORK/resized" >/dev/null
python3 - "$WORK/resized" "$TARGET_SIZE" <<'PY' || fail "resized object has unexpected dimensions"
import struct, sys
data = open(sys.argv[1], "rb").read()
limit = int(sys.argv[2])
if data[:8] == b"\x89PNG\r\n\x1a\n":
    w, h = struct.unpack(">II", data[16:24])
elif data[:2] == b"\xff\xd8":
    i = 2
    while i < len(data):
        marker, size = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            break
        i += 2 + size
elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
    print("smoke: WebP output, dimensions not checked")
    sys.exit(0)
else:
    sys.exit("unknown output format")
print(f"smoke: resized object is {w}x{h}")
sys.exit(0 if max(w, h) <= limit else 1)
PY

step "POST $RESIZE_URL"
BODY="$(python3 -c 'import json,sys; print(json.dumps({"key": sys.argv[1], "size": 300}))' "$KEY")"
RESPONSE="$(curl --silent --show-error --fail-with-body --max-time 30 "${SIGV4[@]}" \
  -H 'content-type: application/json' --data "$BODY" "$RESIZE_URL")" || fail "POST /resize: $RESPONSE"
NAME="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["executionArn"].rsplit(":", 1)[1])' "$RESPONSE")" \
  || fail "POST /resize answered without an executionArn: $RESPONSE"
step "execution $NAME started"

deadline=$(($(date +%s) + TIMEOUT))
while :; do
  DESCRIBE="$(curl --silent --show-error --fail-with-body --max-time 30 "${SIGV4[@]}" "${EXECUTIONS_URL}${NAME}")" \
    || fail "GET /executions/$NAME: $DESCRIBE"
  STATUS="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("status", "?"))' "$DESCRIBE")"
  [[ "$STATUS" != "RUNNING" ]] && break
  (($(date +%s) < deadline)) || fail "execution still RUNNING after ${TIMEOUT}s"
  sleep 2
done
[[ "$STATUS" == "SUCCEEDED" ]] || fail "execution ended $STATUS: $DESCRIBE"
step "execution SUCCEEDED: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("output"))' "$DESCRIBE")"
step "OK in $(($(date +%s) - START))s"
