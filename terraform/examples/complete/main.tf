provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "imgresize"
      ManagedBy = "terraform"
    }
  }
}

locals {
  # The zip `make build` writes for the chosen architecture, in this repository (a consumer of a
  # release passes the released zip's path, or an S3 object, instead).
  lambda_zip_path = coalesce(var.lambda_zip_path, "${path.root}/../../../target/lambda/${var.architecture}/imgresize-lambda/bootstrap.zip")
}

# Everything the module can create: both buckets, the S3 → EventBridge → Step Functions → Lambda
# pipeline, the IAM-authorized API with GET /executions/{id}, and alarms with an SNS topic.
# Nothing account-wide: API logs stay off unless the region's API Gateway CloudWatch role is already
# set (enable_api_logging = true) or this stack is the one meant to own it
# (create_api_gateway_cloudwatch_role = true); see the module's README, "API logs".
module "imgresize" {
  source = "../.."

  name            = var.name
  architectures   = [var.architecture]
  lambda_zip_path = local.lambda_zip_path
  memory_size     = var.memory_size
  default_size    = var.default_size
  workflow_type   = var.workflow_type
  cache_control   = var.cache_control

  force_destroy           = var.force_destroy
  resized_expiration_days = var.resized_expiration_days
  source_suffixes         = var.source_suffixes

  api_authorization                  = var.api_authorization
  enable_api_logging                 = var.enable_api_logging
  create_api_gateway_cloudwatch_role = var.create_api_gateway_cloudwatch_role

  alarm_email_addresses = var.alarm_email_addresses
  log_retention_days    = var.log_retention_days

  tags = {
    Example = "complete"
  }
}
