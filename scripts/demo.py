"""The demo's driver (run by scripts/demo.sh): emulator up, buckets, uploads, the real Lambda binary
invoked with the seed's input for each photo, results downloaded into ./demo-out/, a table, and
everything stopped again, also on Ctrl-C or failure."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "target/x86_64-unknown-linux-gnu/release/imgresize-lambda"
OUT = ROOT / "demo-out"
ORIGINALS, RESIZED, SIZE = "imgresize-originals", "imgresize-resized", 1000


def exports(text: str) -> dict:
    """Reads the `export NAME=VALUE` lines the scripts print."""
    found = {}
    for line in text.splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            found[name] = shlex.split(value)[0] if value else ""
    return found


def start(script: str, *args: str, env: dict) -> dict:
    result = subprocess.run(["bash", str(ROOT / "scripts" / script), "start", *args], env=env,
                            capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise RuntimeError(f"{script} start failed:\n{result.stdout}{result.stderr}")
    return exports(result.stdout)


def stop(script: str, env: dict) -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / script), "stop"], env=env,
                   capture_output=True, timeout=60)


def photos() -> list[Path]:
    corpus = ROOT.parent / "shared" / "corpus" / "photos"
    folder = corpus if corpus.is_dir() else ROOT / "scripts" / "demo-images"
    print(f"photos from {folder.relative_to(ROOT.parent) if folder.is_relative_to(ROOT.parent) else folder}")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".webp", ".gif"})


def invoke(url: str, event: dict) -> tuple[dict, float]:
    request = urllib.request.Request(url, data=json.dumps(event).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
    except urllib.error.HTTPError as error:  # the runtime emulator answers function errors with 500
        body = error.read()
    return json.loads(body or b"{}"), (time.perf_counter() - started) * 1000


def main() -> int:
    def interrupted(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupted)

    began = time.perf_counter()
    env = dict(os.environ)
    env["EMULATOR_STATE"] = str(ROOT / ".localstack" / "demo-emulator.state")
    env["LAMBDA_EMULATOR_STATE"] = str(ROOT / ".localstack" / "demo-lambda.state")
    rows, failures = [], 0
    try:
        print("starting the AWS emulator (LocalStack, 127.0.0.1)...")
        env.update(start("emulator.sh", env=env))
        s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test",
                          config=Config(s3={"addressing_style": "path"}))
        for bucket in (ORIGINALS, RESIZED):
            s3.create_bucket(Bucket=bucket)
        print(f"buckets: s3://{ORIGINALS} -> s3://{RESIZED}")
        print("starting the real Lambda binary under cargo-lambda's runtime emulator...")
        lambda_env = start("lambda-emulator.sh", str(BOOTSTRAP), f"DEST_BUCKET={RESIZED}",
                           f"ALLOWED_SOURCE_BUCKETS={ORIGINALS}", "RUST_LOG=warn", env=env)
        url = lambda_env["LAMBDA_INVOKE_URL"]
        OUT.mkdir(exist_ok=True)
        files = photos()
        for number, path in enumerate(files, 1):
            key = f"uploads/{path.name}"
            s3.upload_file(str(path), ORIGINALS, key)
            answer, millis = invoke(url, {"bucket": ORIGINALS, "key": key, "size": SIZE})
            if answer.get("ok"):
                target = OUT / Path(answer["destKey"]).name
                s3.download_file(RESIZED, answer["destKey"], str(target))
                source = answer["source"]
                rows.append((key, f"{source['width']}x{source['height']}", source["bytes"] / 1024,
                             f"{answer['width']}x{answer['height']}", answer["bytes"] / 1024, millis))
                print(f"[{number}/{len(files)}] {key} -> s3://{RESIZED}/{answer['destKey']} ({millis:.0f} ms)")
            else:
                failures += 1
                print(f"[{number}/{len(files)}] {key}: FAILED {json.dumps(answer)}")
    except KeyboardInterrupt:
        print("\ninterrupted: stopping what was started", file=sys.stderr)
        failures += 1
    finally:
        stop("lambda-emulator.sh", env)
        stop("emulator.sh", env)

    if rows:
        print()
        print(f"{'key':<48} {'input':>11} {'KB':>8}   {'output':>11} {'KB':>7} {'ms':>7}")
        for key, size_in, kb_in, size_out, kb_out, millis in rows:
            print(f"{key:<48} {size_in:>11} {kb_in:>8.0f}   {size_out:>11} {kb_out:>7.0f} {millis:>7.0f}")
        print(f"\n{len(rows)} resized into {OUT.relative_to(ROOT)}/ , {failures} failed, "
              f"total {time.perf_counter() - began:.1f} s (emulator start included)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
