"""The custom checkov policies (tests/iac/checkov/) fail on a fixture that breaks each of them.
The module itself is scanned by run.sh (zero failed checks)."""
import json
import os
import subprocess

import pytest

from conftest import HERE, REPO

CHECKOV = REPO / ".tools" / "iac" / "checkov" / "bin" / "checkov"
CUSTOM = ["CKV_IMGRESIZE_1", "CKV_IMGRESIZE_2", "CKV2_IMGRESIZE_3", "CKV2_IMGRESIZE_4", "CKV_IMGRESIZE_5", "CKV_IMGRESIZE_6"]


@pytest.fixture(scope="module")
def failed():
    if not CHECKOV.exists():
        pytest.skip("checkov is not installed: run tests/iac/setup.sh")
    proc = subprocess.run(
        [str(CHECKOV), "-d", str(HERE / "fixtures" / "checkov_violations"), "--framework", "terraform",
         "--skip-download", "--external-checks-dir", str(HERE / "checkov"), "--check", ",".join(CUSTOM),
         "--output", "json", "--quiet"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "LOG_LEVEL": "ERROR"})
    assert proc.returncode == 1, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    reports = report if isinstance(report, list) else [report]
    return {(c["check_id"], c["resource"]) for r in reports for c in r["results"]["failed_checks"]}


@pytest.mark.parametrize("check_id,resource", [
    ("CKV_IMGRESIZE_1", "aws_lambda_function.wrong_runtime"),
    ("CKV_IMGRESIZE_2", "aws_s3_bucket_notification.no_eventbridge"),
    ("CKV2_IMGRESIZE_3", "aws_s3_bucket.no_pab"),
    ("CKV2_IMGRESIZE_3", "aws_s3_bucket.weak"),
    ("CKV2_IMGRESIZE_4", "aws_s3_bucket.no_pab"),
    ("CKV_IMGRESIZE_5", "aws_s3_bucket_policy.weak"),
    ("CKV_IMGRESIZE_6", "aws_iam_policy_document.wildcard"),
    ("CKV_IMGRESIZE_6", "aws_iam_role_policy.wildcard"),
])
def test_custom_policy_fails_on_violation(failed, check_id, resource):
    assert (check_id, resource) in failed, sorted(failed)


def test_every_skip_in_the_module_has_a_reason():
    import re
    for tf in (REPO / "terraform").rglob("*.tf"):
        for line in tf.read_text().splitlines():
            if "checkov:skip" in line:
                assert re.fullmatch(r"\s*#checkov:skip=CKV2?_[A-Z0-9_]+:\S.{15,}", line), f"{tf.name}: {line.strip()}"
