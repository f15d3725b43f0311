"""CKV_IMGRESIZE_2: the originals bucket's notification sends events to EventBridge."""
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class NotificationToEventBridge(BaseResourceCheck):
    def __init__(self):
        super().__init__(
            name="imgresize: aws_s3_bucket_notification has eventbridge = true",
            id="CKV_IMGRESIZE_2",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_s3_bucket_notification"],
        )

    def scan_resource_conf(self, conf):
        value = conf.get("eventbridge", [False])
        value = value[0] if isinstance(value, list) and value else value
        return CheckResult.PASSED if value is True else CheckResult.FAILED


check = NotificationToEventBridge()
