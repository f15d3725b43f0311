################################################################################
# Backfill: a Distributed Map over the objects already in the originals bucket (under source_prefix),
# one child execution per object invoking the resize function. The function skips objects whose
# outputs are current (same source ETag, same settings), so a re-run costs one GetObject and one
# HeadObject per finished object. Rejections are successful children (outcome "rejected"); only real
# failures count against backfill_tolerated_failure_percentage.
################################################################################

locals {
  backfill_name = "${var.name}-backfill"
  # Built from parts, not from the resource: the role's policy names the machine's own executions, and
  # the machine needs the role (and, for logging, its policy) before it can be created.
  backfill_state_machine_arn  = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.backfill_name}"
  backfill_execution_arn_base = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${local.backfill_name}"
  backfill_results_arn        = "${local.resized_bucket_arn}/${var.backfill_results_prefix}*"

  # Template choices (templates/backfill.asl.json): AWS takes every field; the emulator suite renders
  # the same file without the ones LocalStack's parser rejects.
  backfill_tolerated_failure = "\"ToleratedFailurePercentage\": ${var.backfill_tolerated_failure_percentage},\n      "
  backfill_result_writer = var.backfill_results_prefix == "" ? "" : format("\"ResultWriter\": %s,\n      ", jsonencode({
    Resource   = "arn:${local.partition}:states:::s3:putObject"
    Parameters = { Bucket = local.resized_bucket_name, Prefix = var.backfill_results_prefix }
  }))
}

resource "aws_cloudwatch_log_group" "backfill" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default): debug logs of a resize pipeline, not audit records.
  count = var.enable_backfill ? 1 : 0

  name              = "/aws/vendedlogs/states/${local.backfill_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

resource "aws_sfn_state_machine" "backfill" {
  count = var.enable_backfill ? 1 : 0

  name     = local.backfill_name
  type     = "STANDARD"
  role_arn = aws_iam_role.backfill[0].arn

  definition = templatefile("${path.module}/templates/backfill.asl.json", {
    partition               = local.partition
    function_arn            = aws_lambda_function.this.arn
    bucket                  = local.originals_bucket_name
    prefix                  = var.source_prefix
    max_concurrency         = var.backfill_max_concurrency
    tolerated_failure       = local.backfill_tolerated_failure
    result_writer           = local.backfill_result_writer
    child_execution_type    = var.backfill_child_execution_type
    retry_interval_seconds  = var.retry_interval_seconds
    retry_max_attempts      = var.retry_max_attempts
    retry_backoff_rate      = format("%.2f", var.retry_backoff_rate)
    retry_max_delay_seconds = var.retry_max_delay_seconds
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.backfill[0].arn}:*"
    include_execution_data = var.sfn_include_execution_data
    level                  = var.sfn_log_level
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.backfill]
}

resource "aws_iam_role" "backfill" {
  count = var.enable_backfill ? 1 : 0

  name                 = local.backfill_name
  path                 = var.iam_role_path
  description          = "imgresize backfill: list the originals, run one child execution per object, invoke the resize function"
  assume_role_policy   = data.aws_iam_policy_document.sfn_assume.json
  permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "backfill" {
  # Logging and tracing as the resize machine's role (iam.tf).
  source_policy_documents = [data.aws_iam_policy_document.sfn_logging.json]

  statement {
    sid       = "InvokeResizeFunction"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn]
  }

  # ItemReader (and the first one-key look): ListObjectsV2 of the originals bucket, only under the
  # module's prefix. Without a prefix the whole bucket is the module's: no condition (a request
  # without a prefix has no s3:prefix key, which a StringLike condition would refuse).
  statement {
    sid       = "ListOriginalsUnderPrefix"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.originals_bucket_arn]

    dynamic "condition" {
      for_each = var.source_prefix == "" ? [] : [var.source_prefix]

      content {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${condition.value}*"]
      }
    }
  }

  # A Distributed Map runs its children as executions of the map's own state machine (AWS's
  # documented policy for Distributed Map: StartExecution on the machine, Describe/Stop on its
  # executions).
  statement {
    sid       = "StartChildExecutions"
    effect    = "Allow"
    actions   = ["states:StartExecution"]
    resources = [local.backfill_state_machine_arn]
  }

  statement {
    sid       = "ManageChildExecutions"
    effect    = "Allow"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = ["${local.backfill_execution_arn_base}/*"]
  }

  # ResultWriter: the children's results as JSON files under backfill_results_prefix (multipart).
  dynamic "statement" {
    for_each = var.backfill_results_prefix == "" ? [] : [local.backfill_results_arn]

    content {
      sid       = "WriteBackfillResults"
      effect    = "Allow"
      actions   = ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
      resources = [statement.value]
    }
  }

  # SSE-KMS buckets: the ResultWriter's objects are encrypted with the bucket's key, through S3 only.
  dynamic "statement" {
    for_each = var.backfill_results_prefix == "" || length(local.s3_kms_key_arns) == 0 ? [] : [local.s3_kms_key_arns]

    content {
      sid       = "BucketKeysThroughS3"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = statement.value

      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.${local.dns_suffix}"]
      }
    }
  }
}

resource "aws_iam_role_policy" "backfill" {
  count = var.enable_backfill ? 1 : 0

  name   = local.backfill_name
  role   = aws_iam_role.backfill[0].id
  policy = data.aws_iam_policy_document.backfill.json
}
