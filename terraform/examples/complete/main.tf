provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "imgresize"
      ManagedBy = "terraform"
    }
  }
}

# Everything the module can create: both buckets, the S3 → EventBridge → Step Functions → Lambda
# pipeline, the IAM-authorized API with GET /executions/{id}, alarms with an SNS topic, and the
# region's API Gateway CloudWatch role (needed once per account and region for API logs).
module "imgresize" {
  source = "../.."

  name          = var.name
  architectures = [var.architecture]
  memory_size   = var.memory_size
  default_size  = var.default_size
  cache_control = var.cache_control

  force_destroy           = var.force_destroy
  resized_expiration_days = var.resized_expiration_days
  source_suffixes         = var.source_suffixes

  api_authorization                  = var.api_authorization
  create_api_gateway_cloudwatch_role = var.create_api_gateway_cloudwatch_role

  create_sns_topic      = length(var.alarm_email_addresses) > 0
  alarm_email_addresses = var.alarm_email_addresses
  log_retention_days    = var.log_retention_days

  tags = {
    Example = "complete"
  }
}
