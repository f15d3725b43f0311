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
  function_name = var.name
  description   = "imgresize: resizes images from ${local.originals_bucket_name} into ${local.resized_bucket_name}"
  role          = aws_iam_role.lambda.arn

  # The package: a local zip (hashed here, so a new build redeploys), or a zip in S3 (a release
  # artifact; redeployed when its object version or the given hash changes). Only the chosen form's
  # arguments are set: the provider refuses filename together with s3_*.
  filename          = var.lambda_zip_path
  s3_bucket         = var.lambda_s3_bucket
  s3_key            = var.lambda_s3_key
  s3_object_version = var.lambda_s3_object_version
  source_code_hash  = var.lambda_zip_path != null && var.lambda_s3_key == null ? filebase64sha256(var.lambda_zip_path) : var.lambda_source_code_hash

  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = var.architectures
  memory_size   = var.memory_size
  timeout       = local.function_timeout

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
      condition     = try(length(var.renditions), 0) <= 1 || strcontains(var.dest_key_pattern, "{name}")
      error_message = "dest_key_pattern must contain {name} when renditions names more than one rendition, or their outputs would share keys."
    }
  }

  # The log group and the role's permissions exist before the first invocation can log.
  depends_on = [
    aws_cloudwatch_log_group.lambda,
    aws_iam_role_policy.lambda,
  ]
}
