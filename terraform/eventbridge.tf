################################################################################
# S3 "Object Created" on the originals bucket → EventBridge rule → state machine
################################################################################

resource "aws_cloudwatch_event_rule" "object_created" {
  count = var.enable_s3_trigger ? 1 : 0

  name        = "${var.name}-object-created"
  description = "imgresize: new objects in ${local.originals_bucket_name} start a resize execution"
  event_pattern = templatefile("${path.module}/templates/event_pattern.json", {
    bucket     = local.originals_bucket_name
    key_filter = local.key_filter
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "state_machine" {
  count = var.enable_s3_trigger ? 1 : 0

  rule     = aws_cloudwatch_event_rule.object_created[0].name
  arn      = aws_sfn_state_machine.this.arn
  role_arn = aws_iam_role.events[0].arn

  # The state machine gets the function's input: `size` is the target edge in pixels
  # (var.default_size; null when var.renditions is set, so that they apply), `objectSize` the object's
  # bytes, and the key arrives URL-encoded.
  input_transformer {
    input_paths    = jsondecode(file("${path.module}/templates/input_paths.json"))
    input_template = templatefile("${path.module}/templates/input_template.json", { size = local.transformer_size })
  }

  retry_policy {
    maximum_event_age_in_seconds = var.eventbridge_maximum_event_age_in_seconds
    maximum_retry_attempts       = var.eventbridge_maximum_retry_attempts
  }

  dynamic "dead_letter_config" {
    for_each = local.create_dlq ? [1] : []

    content {
      arn = aws_sqs_queue.eventbridge_dlq[0].arn
    }
  }
}

# Events EventBridge could not deliver (after its retries) land here: uploads for the state machine and, with
# delete sync, deletions for the function; so do deletions whose function call failed every attempt.
resource "aws_sqs_queue" "eventbridge_dlq" {
  count = local.create_dlq ? 1 : 0

  name                      = "${var.name}-eventbridge-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true

  tags = var.tags
}

resource "aws_sqs_queue_policy" "eventbridge_dlq" {
  count = local.create_dlq ? 1 : 0

  queue_url = aws_sqs_queue.eventbridge_dlq[0].id
  policy    = data.aws_iam_policy_document.eventbridge_dlq[0].json
}

data "aws_iam_policy_document" "eventbridge_dlq" {
  count = local.create_dlq ? 1 : 0

  statement {
    sid       = "EventBridgeRuleDeadLetters"
    effect    = "Allow"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.eventbridge_dlq[0].arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = concat(aws_cloudwatch_event_rule.object_created[*].arn, aws_cloudwatch_event_rule.object_deleted[*].arn)
    }
  }
}

################################################################################
# Delete sync (var.enable_delete_sync): S3 "Object Deleted" on the originals bucket → EventBridge rule →
# the function directly ({"action": "delete"}, lambda/src/delete.rs). No state machine: one short call,
# no state transitions to pay for; a failure (TransientError) is retried by Lambda's asynchronous
# invocation, a rejection is an answer and is not.
################################################################################

resource "aws_cloudwatch_event_rule" "object_deleted" {
  count = var.enable_delete_sync ? 1 : 0

  name        = "${var.name}-object-deleted"
  description = "imgresize: originals deleted from ${local.originals_bucket_name} take their outputs with them"
  event_pattern = templatefile("${path.module}/templates/deleted_event_pattern.json", {
    bucket     = local.originals_bucket_name
    key_filter = local.key_filter
    reasons    = jsonencode(local.delete_sync_reasons)
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "delete_sync" {
  count = var.enable_delete_sync ? 1 : 0

  rule = aws_cloudwatch_event_rule.object_deleted[0].name
  arn  = aws_lambda_function.this.arn

  # The same input paths as uploads; the function reads bucket and the URL-encoded key.
  input_transformer {
    input_paths    = jsondecode(file("${path.module}/templates/input_paths.json"))
    input_template = file("${path.module}/templates/delete_input_template.json")
  }

  retry_policy {
    maximum_event_age_in_seconds = var.eventbridge_maximum_event_age_in_seconds
    maximum_retry_attempts       = var.eventbridge_maximum_retry_attempts
  }

  dynamic "dead_letter_config" {
    for_each = local.create_dlq ? [1] : []

    content {
      arn = aws_sqs_queue.eventbridge_dlq[0].arn
    }
  }
}

# EventBridge hands the deletion to Lambda's asynchronous invocation, which retries a failed call (a
# TransientError or InternalError) twice and then drops it: the record of the last failure (the request and the function's
# error) goes to the dead-letter queue instead, so an original whose outputs outlived it can be found and
# its deletion redriven. Only delete sync invokes the function asynchronously; the state machine's calls
# are synchronous and not affected.
resource "aws_lambda_function_event_invoke_config" "delete_sync" {
  count = var.enable_delete_sync ? 1 : 0

  function_name          = aws_lambda_function.this.function_name
  maximum_retry_attempts = 2

  dynamic "destination_config" {
    for_each = local.create_dlq ? [1] : []

    content {
      on_failure {
        destination = aws_sqs_queue.eventbridge_dlq[0].arn
      }
    }
  }

  # Lambda checks that the function's role may send to the destination when it is configured.
  depends_on = [aws_iam_role_policy.lambda]
}

resource "aws_lambda_permission" "delete_sync" {
  count = var.enable_delete_sync ? 1 : 0

  statement_id  = "ObjectDeletedRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.object_deleted[0].arn
}
