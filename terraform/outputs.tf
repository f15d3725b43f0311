################################################################################
# Buckets
################################################################################

output "originals_bucket_name" {
  description = "Name of the originals (upload) bucket."
  value       = local.originals_bucket_name
}

output "originals_bucket_arn" {
  description = "ARN of the originals bucket."
  value       = local.originals_bucket_arn
}

output "resized_bucket_name" {
  description = "Name of the bucket the resized images are written to."
  value       = local.resized_bucket_name
}

output "resized_bucket_arn" {
  description = "ARN of the resized bucket."
  value       = local.resized_bucket_arn
}

output "key_layout" {
  description = "Where uploads are picked up (source_prefix, source_suffixes) and where their outputs are written (dest_prefix + dest_key_pattern, with default_size as {size} and rendition_name, the first rendition's name, as {name}): for scripts such as scripts/smoke.sh and consumers that compute output keys."
  value = {
    source_prefix    = var.source_prefix
    source_suffixes  = var.source_suffixes
    dest_prefix      = var.dest_prefix
    dest_key_pattern = var.dest_key_pattern
    default_size     = var.default_size
    rendition_name   = try(var.renditions[0].name, "resized")
  }
}

output "bucket_notification_managed" {
  description = "Whether this module manages the originals bucket's notification configuration (EventBridge delivery on). When false, uploads trigger nothing until EventBridge delivery is turned on for the bucket: see the README, \"Existing buckets\"."
  value       = local.manage_bucket_notification
}

################################################################################
# Function
################################################################################

output "lambda_function_name" {
  description = "Name of the resize function."
  value       = aws_lambda_function.this.function_name
}

output "lambda_function_arn" {
  description = "ARN of the resize function."
  value       = aws_lambda_function.this.arn
}

output "lambda_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "lambda_log_group_name" {
  description = "Log group of the function."
  value       = aws_cloudwatch_log_group.lambda.name
}

################################################################################
# State machine
################################################################################

output "state_machine_arn" {
  description = "ARN of the state machine."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = aws_sfn_state_machine.this.name
}

output "state_machine_role_arn" {
  description = "ARN of the state machine's role."
  value       = aws_iam_role.sfn.arn
}

output "state_machine_log_group_name" {
  description = "Log group of the state machine's executions."
  value       = aws_cloudwatch_log_group.sfn.name
}

################################################################################
# Completion events
################################################################################

output "completion_events_bus_arn" {
  description = "ARN of the event bus the state machine publishes \"Image Resized\" / \"Image Rejected\" events to (null when enable_completion_events = false)."
  value       = var.enable_completion_events ? local.completion_events_bus_arn : null
}

output "completion_events_source" {
  description = "The completion events' source (null when enable_completion_events = false)."
  value       = var.enable_completion_events ? local.completion_events_source : null
}

output "completion_events_pattern" {
  description = "An EventBridge event pattern (JSON) matching both completion events of this deployment, for a consumer's aws_cloudwatch_event_rule on that bus (null when enable_completion_events = false). The detail's shape is in lambda/CONTRACT.md."
  value = var.enable_completion_events ? jsonencode({
    source        = [local.completion_events_source]
    "detail-type" = ["Image Resized", "Image Rejected"]
  }) : null
}

output "delete_sync_rule_arn" {
  description = "ARN of the EventBridge rule on \"Object Deleted\" events that deletes an original's outputs (null when enable_delete_sync = false)."
  value       = one(aws_cloudwatch_event_rule.object_deleted[*].arn)
}

################################################################################
# Backfill
################################################################################

output "backfill_state_machine_arn" {
  description = "ARN of the backfill state machine (null when enable_backfill = false): start it with scripts/backfill.sh or states:StartExecution."
  value       = one(aws_sfn_state_machine.backfill[*].arn)
}

output "backfill_state_machine_name" {
  description = "Name of the backfill state machine (null when enable_backfill = false)."
  value       = one(aws_sfn_state_machine.backfill[*].name)
}

output "backfill_role_arn" {
  description = "ARN of the backfill state machine's role (null when enable_backfill = false)."
  value       = one(aws_iam_role.backfill[*].arn)
}

output "backfill_results_location" {
  description = "Where the backfill writes its children's results (s3://bucket/prefix), or null when they stay in the execution output."
  value       = var.enable_backfill && var.backfill_results_prefix != "" ? "s3://${local.resized_bucket_name}/${var.backfill_results_prefix}" : null
}

################################################################################
# EventBridge
################################################################################

output "eventbridge_rule_name" {
  description = "Name of the rule that starts a resize for each created object (null when enable_s3_trigger = false)."
  value       = try(aws_cloudwatch_event_rule.object_created[0].name, null)
}

output "eventbridge_rule_arn" {
  description = "ARN of the rule that starts a resize for each created object (null when enable_s3_trigger = false)."
  value       = try(aws_cloudwatch_event_rule.object_created[0].arn, null)
}

output "eventbridge_role_arn" {
  description = "ARN of the role EventBridge uses to start executions (null when enable_s3_trigger = false)."
  value       = try(aws_iam_role.events[0].arn, null)
}

output "eventbridge_dlq_arn" {
  description = "ARN of the dead-letter queue of undeliverable events and failed deletions (null when not created)."
  value       = try(aws_sqs_queue.eventbridge_dlq[0].arn, null)
}

output "eventbridge_dlq_url" {
  description = "URL of the dead-letter queue of undeliverable events and failed deletions, for receiving and redriving them (null when not created)."
  value       = try(aws_sqs_queue.eventbridge_dlq[0].url, null)
}

################################################################################
# API
################################################################################

output "api_id" {
  description = "ID of the REST API (null when create_api = false)."
  value       = try(aws_api_gateway_rest_api.this[0].id, null)
}

output "api_execution_arn" {
  description = "Execution ARN of the REST API (arn:PARTITION:execute-api:REGION:ACCOUNT:API_ID): append \"/STAGE/POST/resize\" etc. in execute-api:Invoke policies for callers (null when create_api = false)."
  value       = try(aws_api_gateway_rest_api.this[0].execution_arn, null)
}

output "api_stage_arn" {
  description = "ARN of the API stage, e.g. for a WAF association or tagging (null when create_api = false)."
  value       = try(aws_api_gateway_stage.this[0].arn, null)
}

output "api_invoke_url" {
  description = "Invoke URL of the API stage, e.g. https://ID.execute-api.REGION.amazonaws.com/v1."
  value       = try(aws_api_gateway_stage.this[0].invoke_url, null)
}

output "api_resize_url" {
  description = "Full URL of POST /resize."
  value       = try("${aws_api_gateway_stage.this[0].invoke_url}/resize", null)
}

output "api_backfill_url" {
  description = "Full URL of POST /backfill (AWS_IAM; null without the API or the backfill): starts a backfill run and answers its executionArn."
  value       = try("${aws_api_gateway_stage.this[0].invoke_url}/backfill", null)
}

output "api_executions_url" {
  description = "URL prefix of GET /executions/{id}: append the execution name (the last segment of the executionArn a POST returns). Null with workflow_type = \"EXPRESS\" (POST /resize answers with the result itself)."
  value       = local.express ? null : try("${aws_api_gateway_stage.this[0].invoke_url}/executions/", null)
}

output "api_role_arn" {
  description = "ARN of the role API Gateway uses to call Step Functions."
  value       = try(aws_iam_role.api[0].arn, null)
}

output "api_access_log_group_name" {
  description = "Log group of the API's access logs (null unless API logging is on: enable_api_logging)."
  value       = try(aws_cloudwatch_log_group.api_access[0].name, null)
}

output "api_execution_log_group_name" {
  description = "Log group of the API's execution logs (null unless API logging is on: enable_api_logging)."
  value       = try(aws_cloudwatch_log_group.api_execution[0].name, null)
}

output "api_key_id" {
  description = "ID of the API key (api_authorization = API_KEY)."
  value       = try(aws_api_gateway_api_key.this[0].id, null)
}

output "api_key_value" {
  description = "Value of the API key, sent as the x-api-key header (api_authorization = API_KEY)."
  value       = try(aws_api_gateway_api_key.this[0].value, null)
  sensitive   = true
}

################################################################################
# Alarms
################################################################################

output "sns_topic_arn" {
  description = "ARN of the alarms' SNS topic (null when neither create_sns_topic nor alarm_email_addresses asks for one)."
  value       = try(aws_sns_topic.alarms[0].arn, null)
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, by name."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.executions_failed : a.alarm_name => a.arn },
    { for a in aws_cloudwatch_metric_alarm.executions_timed_out : a.alarm_name => a.arn },
    { for a in aws_cloudwatch_metric_alarm.lambda_errors : a.alarm_name => a.arn },
    { for a in aws_cloudwatch_metric_alarm.eventbridge_dlq : a.alarm_name => a.arn },
  )
}

output "workflow_type" {
  description = "STANDARD or EXPRESS: whether POST /resize answers with an executionArn to poll or with the result."
  value       = var.workflow_type
}
