################################################################################
# One role per caller, each allowed only what its hop needs, on this module's own ARNs.
#
# Service principals are the literal names AWS documents: lambda, states, events and apigateway are
# "<service>.amazonaws.com" in every partition, aws-cn and aws-us-gov included (only a few services,
# such as logs in aws-cn, differ; see the AWS provider's aws_service_principal). Building them from
# the partition's DNS suffix gave "lambda.amazonaws.com.cn", which IAM rejects in China.
################################################################################

################################################################################
# Lambda: read originals, write resized, log to its own group, send X-Ray traces
################################################################################

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name                 = "${var.name}-lambda"
  path                 = var.iam_role_path
  description          = "imgresize function: read originals, write resized images"
  assume_role_policy   = data.aws_iam_policy_document.lambda_assume.json
  permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "lambda" {
  statement {
    sid       = "WriteOwnLogGroup"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }

  # Required "*": X-Ray trace segments and telemetry have no resource ARN; AWS documents
  # these two actions with Resource "*" only (AWSXRayDaemonWriteAccess).
  statement {
    sid       = "XRayWrite"
    effect    = "Allow"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "ReadOriginals"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${local.originals_bucket_arn}/${var.source_prefix}*"]
  }

  # With ListBucket a missing key is a 404 (NOT_FOUND), not a 403 (ACCESS_DENIED), so a POST for a
  # mistyped key gets the right answer. It cannot be narrowed to source_prefix: S3 checks ListBucket
  # for a GetObject of a missing key without an s3:prefix in the request context, so a prefix
  # condition would turn every 404 back into a 403. It lets the function list key names (not read
  # objects) in the whole bucket.
  statement {
    sid       = "ListOriginals"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.originals_bucket_arn]
  }

  # Conditional writes (If-None-Match / If-Match) need nothing beyond s3:PutObject.
  statement {
    sid       = "WriteResized"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["${local.resized_bucket_arn}/${var.dest_prefix}*"]
  }

  # The function deletes only its own outputs, under the prefix it writes: when one output of an upload
  # cannot be written, the ones this invocation wrote (all or nothing, lambda/src/handler.rs
  # remove_written); with delete sync, those whose metadata names a deleted original (lambda/src/delete.rs;
  # ListResized below lets it list the candidates).
  statement {
    sid       = "RemoveOwnPartialOutputs"
    effect    = "Allow"
    actions   = ["s3:DeleteObject"]
    resources = ["${local.resized_bucket_arn}/${var.dest_prefix}*"]
  }

  # Before resizing, the function reads the head of the output it would write (HeadObject needs
  # s3:GetObject) to skip duplicates and late events (lambda/src/provenance.rs).
  statement {
    sid       = "ReadOwnOutputs"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${local.resized_bucket_arn}/${var.dest_prefix}*"]
  }

  # Without it the HeadObject of an output not yet written is a 403, not a 404: every first write
  # would fail. Not narrowed by an s3:prefix condition, for the reason given at ListOriginals.
  statement {
    sid       = "ListResized"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [local.resized_bucket_arn]
  }

  # Lambda delivers the record of a delete-sync call that failed every attempt with the function's own role
  # (eventbridge.tf, aws_lambda_function_event_invoke_config.delete_sync).
  dynamic "statement" {
    for_each = var.enable_delete_sync && local.create_dlq ? [1] : []

    content {
      sid       = "DeadLetterFailedDeletions"
      effect    = "Allow"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.eventbridge_dlq[0].arn]
    }
  }

  # SSE-KMS buckets: reading needs kms:Decrypt, writing kms:GenerateDataKey, on each bucket's key,
  # and only when S3 in this region makes the call on the function's behalf.
  dynamic "statement" {
    for_each = length(local.s3_kms_key_arns) == 0 ? [] : [local.s3_kms_key_arns]

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

resource "aws_iam_role_policy" "lambda" {
  name   = "${var.name}-lambda"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

################################################################################
# Step Functions: invoke this function, deliver logs, send X-Ray traces
################################################################################

data "aws_iam_policy_document" "sfn_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }

    # Confused-deputy protection: only Step Functions acting for this account.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "sfn" {
  name                 = "${var.name}-sfn"
  path                 = var.iam_role_path
  description          = "imgresize state machine: invoke the resize function"
  assume_role_policy   = data.aws_iam_policy_document.sfn_assume.json
  permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "sfn" {
  source_policy_documents = [data.aws_iam_policy_document.sfn_logging.json]

  statement {
    sid       = "InvokeResizeFunction"
    effect    = "Allow"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.this.arn]
  }

  # Completion events: this one bus, this module's source and its two detail types only.
  dynamic "statement" {
    for_each = var.enable_completion_events ? [local.completion_events_bus_arn] : []

    content {
      sid       = "PublishCompletionEvents"
      effect    = "Allow"
      actions   = ["events:PutEvents"]
      resources = [statement.value]

      condition {
        test     = "StringEquals"
        variable = "events:source"
        values   = [local.completion_events_source]
      }

      condition {
        test     = "StringEquals"
        variable = "events:detail-type"
        values   = ["Image Resized", "Image Rejected"]
      }
    }
  }
}

# What every state machine of the module needs to log and trace (the resize machine and the backfill).
data "aws_iam_policy_document" "sfn_logging" {
  # Required "*": Step Functions delivers execution logs through CloudWatch Logs' vended-log
  # delivery API, whose actions do not support resource-level permissions; AWS's documented
  # policy for Step Functions logging uses Resource "*".
  statement {
    sid    = "LogDelivery"
    effect = "Allow"
    actions = [
      "logs:CreateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:DescribeLogGroups",
      "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:UpdateLogDelivery",
    ]
    resources = ["*"]
  }

  # Required "*": X-Ray actions have no resource ARN; AWS's documented tracing policy for
  # Step Functions uses Resource "*".
  statement {
    sid       = "XRayWrite"
    effect    = "Allow"
    actions   = ["xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "sfn" {
  name   = "${var.name}-sfn"
  role   = aws_iam_role.sfn.id
  policy = data.aws_iam_policy_document.sfn.json
}

################################################################################
# EventBridge: start executions of this state machine
################################################################################

data "aws_iam_policy_document" "events_assume" {
  count = var.enable_s3_trigger ? 1 : 0

  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    # Confused-deputy protection: only this module's rule, in this account (EventBridge sets both
    # keys when a rule's target assumes its role).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.object_created[0].arn]
    }
  }
}

resource "aws_iam_role" "events" {
  count = var.enable_s3_trigger ? 1 : 0

  name                 = "${var.name}-events"
  path                 = var.iam_role_path
  description          = "imgresize EventBridge rule: start the state machine"
  assume_role_policy   = data.aws_iam_policy_document.events_assume[0].json
  permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "events" {
  statement {
    sid       = "StartResizeExecution"
    effect    = "Allow"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }
}

resource "aws_iam_role_policy" "events" {
  count = var.enable_s3_trigger ? 1 : 0

  name   = "${var.name}-events"
  role   = aws_iam_role.events[0].id
  policy = data.aws_iam_policy_document.events.json
}

################################################################################
# API Gateway: start executions of this state machine and describe them
################################################################################

data "aws_iam_policy_document" "api_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }

    # API Gateway does not put aws:SourceAccount or aws:SourceArn into the request when it assumes
    # an AWS integration's credentials role (a plain StringEquals condition made every call fail
    # with "API Gateway does not have permission to assume the provided role" in a project that
    # tried it), so the condition can only be IfExists: it refuses a request from another account
    # whenever the key is present, and never breaks the API. The role itself may only start and
    # describe executions of this one state machine.
    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "api" {
  count = var.create_api ? 1 : 0

  name                 = "${var.name}-api"
  path                 = var.iam_role_path
  description          = "imgresize API: start and describe executions of the state machine"
  assume_role_policy   = data.aws_iam_policy_document.api_assume.json
  permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "StartResizeExecution"
    effect    = "Allow"
    actions   = [local.express ? "states:StartSyncExecution" : "states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }

  # Express executions have no history to describe: GET /executions/{id} exists for STANDARD only.
  dynamic "statement" {
    for_each = local.express ? [] : [local.execution_arn_prefix]

    content {
      sid       = "DescribeResizeExecutions"
      effect    = "Allow"
      actions   = ["states:DescribeExecution"]
      resources = ["${statement.value}*"]
    }
  }

  # POST /backfill (only with the backfill).
  dynamic "statement" {
    for_each = var.enable_backfill ? [local.backfill_state_machine_arn] : []

    content {
      sid       = "StartBackfillExecution"
      effect    = "Allow"
      actions   = ["states:StartExecution"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "api" {
  count = var.create_api ? 1 : 0

  name   = "${var.name}-api"
  role   = aws_iam_role.api[0].id
  policy = data.aws_iam_policy_document.api.json
}

################################################################################
# Optional, account-wide: the role API Gateway uses to push logs to CloudWatch
# (see aws_api_gateway_account in apigateway.tf)
################################################################################

resource "aws_iam_role" "api_gateway_cloudwatch" {
  count = var.create_api && var.create_api_gateway_cloudwatch_role ? 1 : 0

  name                 = "${var.name}-apigw-cloudwatch"
  path                 = var.iam_role_path
  description          = "API Gateway account setting: write access and execution logs to CloudWatch Logs"
  assume_role_policy   = data.aws_iam_policy_document.api_assume.json
  permissions_boundary = var.iam_role_permissions_boundary

  tags = var.tags
}

resource "aws_iam_role_policy_attachment" "api_gateway_cloudwatch" {
  count = var.create_api && var.create_api_gateway_cloudwatch_role ? 1 : 0

  role       = aws_iam_role.api_gateway_cloudwatch[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}
