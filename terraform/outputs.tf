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
# EventBridge
################################################################################

output "eventbridge_rule_arn" {
  description = "ARN of the rule that starts a resize for each created object (null when enable_s3_trigger = false)."
  value       = try(aws_cloudwatch_event_rule.object_created[0].arn, null)
}

output "eventbridge_role_arn" {
  description = "ARN of the role EventBridge uses to start executions (null when enable_s3_trigger = false)."
  value       = try(aws_iam_role.events[0].arn, null)
}

output "eventbridge_dlq_arn" {
  description = "ARN of the dead-letter queue of undeliverable events (null when not created)."
  value       = try(aws_sqs_queue.eventbridge_dlq[0].arn, null)
}

################################################################################
# API
################################################################################

output "api_id" {
  description = "ID of the REST API (null when create_api = false)."
  value       = try(aws_api_gateway_rest_api.this[0].id, null)
}

output "api_invoke_url" {
  description = "Invoke URL of the API stage, e.g. https://ID.execute-api.REGION.amazonaws.com/v1."
  value       = try(aws_api_gateway_stage.this[0].invoke_url, null)
}

output "api_resize_url" {
  description = "Full URL of POST /resize."
  value       = try("${aws_api_gateway_stage.this[0].invoke_url}/resize", null)
}

output "api_executions_url" {
  description = "URL prefix of GET /executions/{id}: append the execution name (the last segment of the executionArn a POST returns)."
  value       = try("${aws_api_gateway_stage.this[0].invoke_url}/executions/", null)
}

output "api_role_arn" {
  description = "ARN of the role API Gateway uses to call Step Functions."
  value       = try(aws_iam_role.api[0].arn, null)
}

output "api_access_log_group_name" {
  description = "Log group of the API's access logs."
  value       = try(aws_cloudwatch_log_group.api_access[0].name, null)
}

output "api_execution_log_group_name" {
  description = "Log group of the API's execution logs (written when api_execution_logging_level is not OFF)."
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
  description = "ARN of the alarms' SNS topic (null when create_sns_topic = false)."
  value       = try(aws_sns_topic.alarms[0].arn, null)
}

output "alarm_arns" {
  description = "ARNs of the CloudWatch alarms, by name."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.executions_failed : a.alarm_name => a.arn },
    { for a in aws_cloudwatch_metric_alarm.lambda_errors : a.alarm_name => a.arn },
    { for a in aws_cloudwatch_metric_alarm.eventbridge_dlq : a.alarm_name => a.arn },
  )
}
