################################################################################
# The resize function (Rust, cargo-lambda zip, custom runtime)
################################################################################

resource "aws_cloudwatch_log_group" "lambda" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default): debug logs of a resize pipeline, not audit records.
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by Step Functions, which retries and catches failures; an async DLQ would never receive anything.
  #checkov:skip=CKV_AWS_117:Talks only to S3 over its public endpoint; a VPC would add NAT or endpoint cost and no protection here.
  #checkov:skip=CKV_AWS_173:The environment holds bucket names and limits, no secrets; AWS encrypts it at rest with its own key.
  #checkov:skip=CKV_AWS_272:Code signing needs a signing profile the user owns; the zip's hash is pinned by source_code_hash.
  function_name    = var.name
  description      = "imgresize: resizes images from ${local.originals_bucket_name} into ${local.resized_bucket_name}"
  role             = aws_iam_role.lambda.arn
  filename         = local.lambda_zip_path
  source_code_hash = filebase64sha256(local.lambda_zip_path)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = var.architectures
  memory_size      = var.memory_size
  timeout          = var.timeout

  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = local.lambda_environment
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.create_buckets || (var.originals_bucket_name != null && var.resized_bucket_name != null)
      error_message = "With create_buckets = false, set both originals_bucket_name and resized_bucket_name."
    }
    precondition {
      condition     = local.originals_bucket_name != local.resized_bucket_name
      error_message = "The originals and resized buckets must differ: writing results into the source bucket re-triggers the pipeline."
    }
  }

  # The log group and the role's permissions exist before the first invocation can log.
  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}
