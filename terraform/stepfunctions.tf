################################################################################
# State machine: ApplyDefaults → Resize (Lambda, retried) → CheckResult ($.ok) → [PublishResized |
# PublishRejected (var.enable_completion_events)] → Succeed | Fail
# STANDARD or EXPRESS (var.workflow_type): the same definition; only the type, the timeout and the
# API's integration differ.
################################################################################

locals {
  # Completion events (templates/completion_events.asl.part): the publishing states are rendered into the
  # definition only when on, so that off adds no state and no transition.
  completion_events_source  = coalesce(var.completion_events_source, var.name)
  completion_events_bus_arn = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/${var.completion_events_bus_name}"
  completion_event_states = var.enable_completion_events ? format("%s,\n    ", trimspace(templatefile("${path.module}/templates/completion_events.asl.part", {
    partition      = local.partition
    event_bus_name = var.completion_events_bus_name
    event_source   = local.completion_events_source
  }))) : ""
}

resource "aws_cloudwatch_log_group" "sfn" {
  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default): debug logs of a resize pipeline, not audit records.
  # The /aws/vendedlogs/ prefix keeps Step Functions' log delivery from growing the account's
  # CloudWatch Logs resource policy (AWS's recommendation for vended logs).
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

resource "aws_sfn_state_machine" "this" {
  name     = var.name
  type     = var.workflow_type
  role_arn = aws_iam_role.sfn.arn

  definition = templatefile("${path.module}/templates/state_machine.asl.json", {
    partition               = local.partition
    function_arn            = aws_lambda_function.this.arn
    bucket                  = local.originals_bucket_name
    retry_interval_seconds  = var.retry_interval_seconds
    retry_max_attempts      = var.retry_max_attempts
    retry_backoff_rate      = format("%.2f", var.retry_backoff_rate)
    retry_max_delay_seconds = var.retry_max_delay_seconds
    timeout_seconds         = local.execution_timeout_seconds
    resized_next            = var.enable_completion_events ? "PublishResized" : "Resized"
    rejected_next           = var.enable_completion_events ? "PublishRejected" : "Rejected"
    completion_event_states = local.completion_event_states
  })

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.sfn.arn}:*"
    include_execution_data = var.sfn_include_execution_data
    level                  = var.sfn_log_level
  }

  tracing_configuration {
    enabled = true
  }

  tags = var.tags

  # Step Functions checks the role's log-delivery permissions when the machine is created.
  depends_on = [aws_iam_role_policy.sfn]
}
