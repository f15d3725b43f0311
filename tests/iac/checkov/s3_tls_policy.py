"""CKV_IMGRESIZE_5: a bucket policy denies every request made without TLS (aws:SecureTransport false).

checkov hands the policy over either parsed, as JSON text, or (for jsonencode() with references)
as a Python-like rendering of the object; all three are normalised before matching.
"""
import json
import re

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def statements(policy):
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except ValueError:
            return None
    if isinstance(policy, dict):
        st = policy.get("Statement", [])
        return st if isinstance(st, list) else [st]
    return None


def denies_insecure_transport(statement):
    if not isinstance(statement, dict) or statement.get("Effect") != "Deny":
        return False
    cond = (statement.get("Condition") or {}).get("Bool") or {}
    return str(cond.get("aws:SecureTransport")).lower() == "false" and statement.get("Principal") in ("*", {"AWS": "*"})


DENY_TLS = re.compile(
    r'"effect":"deny"[^{}]*"principal":"\*"[^{}]*"condition":\{"bool":\{"aws:securetransport":"false"\}\}')


class TlsOnlyBucketPolicy(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="imgresize: bucket policy denies requests without TLS (aws:SecureTransport = false)",
            id="CKV_IMGRESIZE_5",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf):
        policy = conf.get("policy", [None])
        policy = policy[0] if isinstance(policy, list) and policy else policy
        parsed = statements(policy)
        if parsed is not None:
            return CheckResult.PASSED if any(denies_insecure_transport(s) for s in parsed) else CheckResult.FAILED
        text = re.sub(r"\s+", "", str(policy)).replace("'", '"').lower()
        return CheckResult.PASSED if DENY_TLS.search(text) else CheckResult.FAILED


check = TlsOnlyBucketPolicy()
