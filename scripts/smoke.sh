#!/usr/bin/env bash
# Smoke test of a deployed imgresize stack, for users with an AWS account (it cannot run offline).
#
#   cd terraform/examples/complete && terraform apply && ../../../scripts/smoke.sh
#   (or examples/existing-buckets: every value it needs is an output of both examples)
#
# 1. uploads an image (a generated 1600x1200 PNG, or -i FILE) to the originals bucket, under a key with
#    a space and an apostrophe (the S3 trigger URL-encodes keys);
# 2. waits (bounded) for the resized object, at the key the stack's key_layout output gives (prefix,
#    pattern with every placeholder), and checks its dimensions fit the target size;
# 3. POSTs {"key": ..., "size": 300} to /resize with `curl --aws-sigv4`;
# 4. polls GET /executions/{id} (bounded) until the execution ends and checks it SUCCEEDED; with
#    workflow_type = "EXPRESS" (api_executions_url is null) the POST's answer is the result: checks it is ok.
# It deletes what it uploaded and produced unless KEEP=1.
#
# Needs: aws CLI v2, curl >= 7.75 (--aws-sigv4), python3 (no GNU-only tools: runs on macOS too); AWS
# credentials in the environment or the CLI's configuration; an API with api_authorization = AWS_IAM
# (the default). The secret key reaches curl on its standard input, never on a command line.
# Settings (environment): TF_DIR (where `terraform output` runs, default: current directory), or the
# values themselves: ORIGINALS_BUCKET, RESIZED_BUCKET, RESIZE_URL, EXECUTIONS_URL, KEY_LAYOUT (the JSON of
# the key_layout output); KEY_PREFIX (default: the stack's source_prefix + "smoke/"), TIMEOUT seconds
# per wait (default 180), REGION (default: from the API URL, else AWS_REGION). AWS_ENDPOINT_URL points
# the aws CLI at an emulator.
set -euo pipefail

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
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
WORK="$(mktemp -d)"

output() {  # output NAME: a terraform output of TF_DIR, unless given in the environment
  if [[ -z "${OUTPUTS_JSON:-}" ]]; then
    command -v terraform >/dev/null 2>&1 || { echo "smoke: terraform not found; set ORIGINALS_BUCKET, RESIZED_BUCKET, RESIZE_URL, EXECUTIONS_URL" >&2; exit 2; }
    OUTPUTS_JSON="$(terraform -chdir="${TF_DIR:-.}" output -json)"
  fi
  # Terraform leaves null outputs (api_executions_url with workflow_type = "EXPRESS") out of the JSON: empty.
  python3 -c 'import json,sys; v = json.loads(sys.argv[1]).get(sys.argv[2], {}).get("value"); print("" if v is None else v if isinstance(v, str) else json.dumps(v))' "$OUTPUTS_JSON" "$1"
}
layout() {  # layout FIELD: a field of the key_layout output
  python3 -c 'import json,sys; v = json.loads(sys.argv[1])[sys.argv[2]]; print(v if isinstance(v, str) else json.dumps(v))' "$KEY_LAYOUT" "$1"
}

ORIGINALS_BUCKET="${ORIGINALS_BUCKET:-$(output originals_bucket_name)}"
RESIZED_BUCKET="${RESIZED_BUCKET:-$(output resized_bucket_name)}"
RESIZE_URL="${RESIZE_URL:-$(output api_resize_url)}"
EXECUTIONS_URL="${EXECUTIONS_URL:-$(output api_executions_url)}"
KEY_LAYOUT="${KEY_LAYOUT:-$(output key_layout)}"
DEST_PREFIX="$(layout dest_prefix)"
TARGET_SIZE="$(layout default_size)"
# Stacks deployed before renditions have no rendition_name in key_layout: theirs is `resized`.
RENDITION="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("rendition_name", "resized"))' "$KEY_LAYOUT")"
KEY_PREFIX="${KEY_PREFIX:-$(layout source_prefix)smoke/}"
if [[ -z "${REGION:-}" ]]; then
  REGION="$(python3 -c 'import sys,re; m=re.search(r"execute-api\.([a-z0-9-]+)\.amazonaws", sys.argv[1]); print(m.group(1) if m else "")' "$RESIZE_URL")"
fi
REGION="${REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}}"

# Credentials for curl's SigV4: the environment, else what the CLI resolves (profiles, SSO, roles).
if [[ -z "${AWS_ACCESS_KEY_ID:-}" ]]; then
  eval "$(aws configure export-credentials --format env)"
fi
# signed_curl URL [curl args...]: SigV4-signed request; the body goes to $WORK/body and the HTTP status to
# stdout. The key pair travels in a curl config read from standard input (printf is a shell builtin, so
# no process's arguments ever hold the secret), and the status is checked here, not with
# --fail-with-body (curl >= 7.76 only).
signed_curl() {
  local url="$1"
  shift
  local token=()
  [[ -z "${AWS_SESSION_TOKEN:-}" ]] || token=(--config "$WORK/token.cfg")
  printf 'user = "%s:%s"\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" |
    curl --config - "${token[@]}" --silent --show-error --max-time 30 --aws-sigv4 "aws:amz:${REGION}:execute-api" \
      --output "$WORK/body" --write-out '%{http_code}' "$@" "$url"
}
if [[ -n "${AWS_SESSION_TOKEN:-}" ]]; then
  (umask 077 && printf 'header = "x-amz-security-token: %s"\n' "$AWS_SESSION_TOKEN" >"$WORK/token.cfg")
fi

fail() { echo "smoke: FAIL: $*" >&2; exit 1; }
step() { echo "smoke: $*"; }

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
SUFFIXES="$(layout source_suffixes)"
python3 - "$SUFFIXES" ".$EXT" <<'PY' || fail "the stack only resizes keys ending in $SUFFIXES: pass -i with such a file"
import json, sys
suffixes = json.loads(sys.argv[1])
sys.exit(0 if not suffixes or any(sys.argv[2].endswith(s) for s in suffixes) else 1)
PY
KEY="${KEY_PREFIX}${RUN}/${STEM}.${EXT}"
# The function's key layout, placeholders filled in one pass as lambda/src/keys.rs does.
# `{name}` is the first rendition's (`resized` unless renditions are configured).
EXPECT_KEY="${EXPECT_KEY:-$(python3 - "$(layout dest_key_pattern)" "$KEY" "$OUT_EXT" "$TARGET_SIZE" "$DEST_PREFIX" "$RENDITION" <<'PY'
import re, sys
pattern, key, ext, size, prefix, rendition = sys.argv[1:]
folder, _, name = key.rpartition("/")
values = {"{dir}": folder + "/" if folder else "", "{stem}": name.rsplit(".", 1)[0], "{ext}": ext, "{size}": size,
          "{name}": rendition}
print(prefix + re.sub(r"\{(dir|stem|ext|size|name)\}", lambda m: values[m.group(0)], pattern))
PY
)}"

cleanup() {
  if [[ "${KEEP:-0}" != "1" ]]; then
    aws s3api delete-object --bucket "$ORIGINALS_BUCKET" --key "$KEY" >/dev/null 2>&1 || true
    aws s3api delete-object --bucket "$RESIZED_BUCKET" --key "$EXPECT_KEY" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT


step "uploading s3://$ORIGINALS_BUCKET/$KEY"
START="$(date +%s)"
aws s3api put-object --bucket "$ORIGINALS_BUCKET" --key "$KEY" --body "$IMAGE" >/dev/null

step "waiting up to ${TIMEOUT}s for s3://$RESIZED_BUCKET/$EXPECT_KEY (S3 → EventBridge → Step Functions → Lambda)"
# `date -d @N` is GNU-only: python formats the time on macOS too.
SINCE="$(python3 -c 'import datetime,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1]), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))' $((START - 5)))"
deadline=$(($(date +%s) + TIMEOUT))
until aws s3api head-object --bucket "$RESIZED_BUCKET" --key "$EXPECT_KEY" \
  --if-modified-since "$SINCE" >/dev/null 2>&1; do
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
CODE="$(signed_curl "$RESIZE_URL" -H 'content-type: application/json' --data "$BODY")" || fail "POST /resize: curl failed"
RESPONSE="$(cat "$WORK/body")"
[[ "$CODE" == 200 ]] || fail "POST /resize answered $CODE: $RESPONSE"
if [[ -z "$EXECUTIONS_URL" || "$EXECUTIONS_URL" == null ]]; then
  # EXPRESS: StartSyncExecution ran the resize; the answer is the function's.
  python3 -c 'import json,sys; a = json.loads(sys.argv[1]); sys.exit(0 if a.get("ok") is True else 1)' "$RESPONSE" \
    || fail "POST /resize (Express) answered without ok: $RESPONSE"
  step "POST answered (Express): $RESPONSE"
  step "OK in $(($(date +%s) - START))s"
  exit 0
fi
NAME="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["executionArn"].rsplit(":", 1)[1])' "$RESPONSE")" \
  || fail "POST /resize answered without an executionArn: $RESPONSE"
step "execution $NAME started"

deadline=$(($(date +%s) + TIMEOUT))
while :; do
  CODE="$(signed_curl "${EXECUTIONS_URL}${NAME}")" || fail "GET /executions/$NAME: curl failed"
  DESCRIBE="$(cat "$WORK/body")"
  [[ "$CODE" == 200 ]] || fail "GET /executions/$NAME answered $CODE: $DESCRIBE"
  STATUS="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("status", "?"))' "$DESCRIBE")"
  [[ "$STATUS" != "RUNNING" ]] && break
  (($(date +%s) < deadline)) || fail "execution still RUNNING after ${TIMEOUT}s"
  sleep 2
done
[[ "$STATUS" == "SUCCEEDED" ]] || fail "execution ended $STATUS: $DESCRIBE"
step "execution SUCCEEDED: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("output"))' "$DESCRIBE")"
step "OK in $(($(date +%s) - START))s"
