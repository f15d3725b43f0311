"""CKV_IMGRESIZE_6: no IAM statement allows an action with a wildcard ("*", "s3:*", "s3:Get*")."""
import json
import re

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.data.base_check import BaseDataCheck
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def flatten(value):
    while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    return value if isinstance(value, list) else [value]


def allows_wildcard(statements):
    for st in statements:
        effect = st.get("effect", st.get("Effect", "Allow"))
        effect = flatten(effect)[0] if isinstance(effect, list) else effect
        if str(effect).lower() != "allow":
            continue
        actions = st.get("actions", st.get("Action", []))
        if any("*" in str(a) for a in flatten(actions)):
            return True
        if st.get("not_actions") or st.get("NotAction"):
            return True  # NotAction with Allow grants everything else
    return False


class PolicyDocumentNoWildcardActions(BaseDataCheck):
    def __init__(self):
        super().__init__(
            name="imgresize: IAM policy documents allow no wildcard actions",
            id="CKV_IMGRESIZE_6",
            categories=[CheckCategories.IAM],
            supported_data=["aws_iam_policy_document"],
        )

    def scan_data_conf(self, conf):
        statements = [s for s in conf.get("statement", []) if isinstance(s, dict)]
        for dyn in conf.get("dynamic", []) or []:
            for body in (dyn.values() if isinstance(dyn, dict) else []):
                for content in (body.get("content", []) if isinstance(body, dict) else []):
                    if isinstance(content, dict):
                        statements.append(content)
        return CheckResult.FAILED if allows_wildcard(statements) else CheckResult.PASSED


class InlinePolicyNoWildcardActions(BaseResourceCheck):
    """The same rule for policies written inline as JSON (jsonencode or heredoc)."""

    def __init__(self):
        super().__init__(
            name="imgresize: inline IAM policies allow no wildcard actions",
            id="CKV_IMGRESIZE_6",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy"],
        )

    def scan_resource_conf(self, conf):
        policy = conf.get("policy", [None])
        policy = policy[0] if isinstance(policy, list) and policy else policy
        if isinstance(policy, str):
            try:
                policy = json.loads(policy)
            except ValueError:
                text = re.sub(r"\s+", "", policy).replace("'", '"')
                if re.search(r'"Effect":"Allow"[^{}]*"Action":(\[[^\]]*\*[^\]]*\]|"[^"]*\*[^"]*")', text):
                    return CheckResult.FAILED
                return CheckResult.PASSED
        if isinstance(policy, dict):
            st = policy.get("Statement", [])
            return CheckResult.FAILED if allows_wildcard(st if isinstance(st, list) else [st]) else CheckResult.PASSED
        return CheckResult.PASSED


check = PolicyDocumentNoWildcardActions()
inline_check = InlinePolicyNoWildcardActions()
