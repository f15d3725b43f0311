"""CKV_IMGRESIZE_1: the function runs the cargo-lambda binary on provided.al2023, arm64 or x86_64."""
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def first(conf, key):
    value = conf.get(key)
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


class LambdaRuntimeArchitecture(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="imgresize: Lambda uses runtime provided.al2023, handler bootstrap and one architecture, arm64 or x86_64",
            id="CKV_IMGRESIZE_1",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_lambda_function"],
        )

    def scan_resource_conf(self, conf):
        if first(conf, "runtime") != "provided.al2023" or first(conf, "handler") != "bootstrap":
            return CheckResult.FAILED
        arch = first(conf, "architectures")
        if not isinstance(arch, list) or len(arch) != 1 or arch[0] not in ("arm64", "x86_64"):
            return CheckResult.FAILED
        return CheckResult.PASSED


check = LambdaRuntimeArchitecture()
