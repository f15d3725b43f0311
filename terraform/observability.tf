################################################################################
# Alarms on failed executions, Lambda errors and dead letters; optional SNS topic
################################################################################

resource "aws_sns_topic" "alarms" {
  count = local.create_sns_topic ? 1 : 0

  name              = "${var.name}-alarms"
  kms_master_key_id = var.sns_kms_master_key_id

  tags = var.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each = toset(var.alarm_email_addresses)

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_metric_alarm" "executions_failed" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-executions-failed"
  alarm_description   = "imgresize: resize executions failed (rejected images or exhausted retries)"
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_executions_failed_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

# Express executions started by POST /resize are cut at 28 s (API Gateway's limit); Standard ones at the
# retry budget. Either way a timed-out resize is neither a success nor an ExecutionsFailed.
resource "aws_cloudwatch_metric_alarm" "executions_timed_out" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-executions-timed-out"
  alarm_description   = "imgresize: resize executions timed out (${var.workflow_type})"
  namespace           = "AWS/States"
  metric_name         = "ExecutionsTimedOut"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name}-lambda-errors"
  alarm_description   = "imgresize: the function returned errors (TransientError, InternalError, timeouts)"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_lambda_errors_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "eventbridge_dlq" {
  count = var.create_alarms && local.create_dlq ? 1 : 0

  alarm_name          = "${var.name}-eventbridge-dead-letters"
  alarm_description   = "imgresize: S3 events that were not delivered (uploads, deletions) or whose deletion failed every attempt"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.eventbridge_dlq[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = var.tags
}
