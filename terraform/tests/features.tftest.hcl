# Each optional feature adds and removes exactly its own resources.

variables {
  lambda_s3_bucket = "artifacts"
  lambda_s3_key    = "imgresize/imgresize-0.1.0-arm64.zip"
}

run "without_the_api" {
  command = plan

  variables {
    create_api = false
  }

  assert {
    condition = alltrue([
      length(aws_api_gateway_rest_api.this) == 0,
      length(aws_api_gateway_stage.this) == 0,
      length(aws_api_gateway_deployment.this) == 0,
      length(aws_api_gateway_method_response.resize_post) == 0,
      length(aws_iam_role.api) == 0,
      length(aws_iam_role_policy.api) == 0,
    ])
    error_message = "create_api = false must remove every API resource and the API's role."
  }

  assert {
    condition     = length(aws_sfn_state_machine.this.name) > 0 && length(aws_cloudwatch_event_rule.object_created) == 1
    error_message = "The upload path stays."
  }
}

run "without_the_upload_trigger" {
  command = plan

  variables {
    enable_s3_trigger = false
  }

  assert {
    condition = alltrue([
      length(aws_cloudwatch_event_rule.object_created) == 0,
      length(aws_cloudwatch_event_target.state_machine) == 0,
      length(aws_iam_role.events) == 0,
      length(aws_sqs_queue.eventbridge_dlq) == 0,
      length(aws_cloudwatch_metric_alarm.eventbridge_dlq) == 0,
    ])
    error_message = "enable_s3_trigger = false must remove the rule, its target, role, dead-letter queue and alarm."
  }
}

run "without_alarms" {
  command = plan

  variables {
    create_alarms = false
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.executions_failed) + length(aws_cloudwatch_metric_alarm.executions_timed_out) + length(aws_cloudwatch_metric_alarm.lambda_errors) + length(aws_cloudwatch_metric_alarm.eventbridge_dlq) == 0
    error_message = "create_alarms = false must remove every alarm."
  }
}

run "alarm_emails_are_not_ignored" {
  command = plan

  variables {
    alarm_email_addresses = ["ops@example.com"]
  }

  assert {
    condition     = length(aws_sns_topic.alarms) == 1 && length(aws_sns_topic_subscription.alarm_email) == 1
    error_message = "E-mail addresses get a topic and a subscription without a second switch."
  }
}

run "api_logging_when_the_account_is_ready" {
  command = plan

  variables {
    enable_api_logging = true
  }

  assert {
    condition     = length(aws_api_gateway_stage.this[0].access_log_settings) == 1 && length(aws_cloudwatch_log_group.api_access) == 1
    error_message = "enable_api_logging turns on access logs, into the module's own log group."
  }

  assert {
    condition     = aws_api_gateway_method_settings.all[0].settings[0].logging_level == "ERROR"
    error_message = "enable_api_logging turns on execution logs at api_execution_logging_level."
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 0
    error_message = "Logging on does not take over the account setting."
  }
}

run "owning_the_account_setting" {
  command = plan

  variables {
    create_api_gateway_cloudwatch_role = true
  }

  assert {
    condition     = length(aws_api_gateway_account.this) == 1 && length(aws_iam_role.api_gateway_cloudwatch) == 1
    error_message = "create_api_gateway_cloudwatch_role manages the account setting and its role."
  }

  assert {
    condition     = length(aws_api_gateway_stage.this[0].access_log_settings) == 1
    error_message = "With the account setting managed here, API logging follows it."
  }
}

run "roles_on_a_path" {
  command = plan

  variables {
    iam_role_path = "/imgresize/"
  }

  assert {
    condition     = aws_iam_role.lambda.path == "/imgresize/" && aws_iam_role.sfn.path == "/imgresize/" && aws_iam_role.api[0].path == "/imgresize/"
    error_message = "iam_role_path applies to every role."
  }
}

run "with_the_backfill_by_default" {
  command = plan

  assert {
    condition = alltrue([
      length(aws_sfn_state_machine.backfill) == 1,
      length(aws_iam_role.backfill) == 1,
      length(aws_iam_role_policy.backfill) == 1,
      length(aws_cloudwatch_log_group.backfill) == 1,
      aws_sfn_state_machine.backfill[0].name == "${var.name}-backfill",
    ])
    error_message = "The backfill state machine, its role, policy and log group are on by default."
  }

  assert {
    condition     = strcontains(local.backfill_tolerated_failure, "\"ToleratedFailurePercentage\": 5,") && var.backfill_child_execution_type == "EXPRESS" && var.backfill_results_prefix == "backfill-results/"
    error_message = "On AWS the backfill tolerates failures, runs EXPRESS children and writes its results to S3."
  }
}

run "without_the_backfill" {
  command = plan

  variables {
    enable_backfill = false
  }

  assert {
    condition = alltrue([
      length(aws_sfn_state_machine.backfill) == 0,
      length(aws_iam_role.backfill) == 0,
      length(aws_iam_role_policy.backfill) == 0,
      length(aws_cloudwatch_log_group.backfill) == 0,
      output.backfill_state_machine_arn == null,
    ])
    error_message = "enable_backfill = false must remove the backfill state machine, its role, policy and log group."
  }

  assert {
    condition     = length(aws_sfn_state_machine.this.name) > 0
    error_message = "The resize state machine stays."
  }
}

run "with_completion_events_by_default" {
  command = plan

  assert {
    condition = alltrue([
      strcontains(local.completion_event_states, "\"PublishResized\": {"),
      strcontains(local.completion_event_states, "\"PublishRejected\": {"),
      strcontains(local.completion_event_states, "\"EventBusName\": \"default\""),
      strcontains(local.completion_event_states, "\"Source\": \"imgresize\""),
      endswith(local.completion_event_states, "},\n    "),
      output.completion_events_bus_arn == "arn:aws:events:us-east-1:123456789012:event-bus/default",
      jsondecode(output.completion_events_pattern).source == ["imgresize"],
    ])
    error_message = "Completion events are on by default: both publishing states, the default bus, source var.name."
  }

  # The statements, not the rendered JSON: the policy also names the function, known only after apply.
  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.sfn.statement :
      s.sid == "PublishCompletionEvents" && s.actions == toset(["events:PutEvents"]) &&
      s.resources == toset(["arn:aws:events:us-east-1:123456789012:event-bus/default"]) &&
      anytrue([for c in s.condition : c.variable == "events:source" && c.values == tolist(["imgresize"])])
    ])
    error_message = "The state machine may put events on that one bus, with this module's source only."
  }
}

run "completion_events_on_a_named_bus_with_a_source" {
  command = plan

  variables {
    completion_events_bus_name = "images"
    completion_events_source   = "com.example.images"
  }

  assert {
    condition = alltrue([
      strcontains(local.completion_event_states, "\"EventBusName\": \"images\""),
      strcontains(local.completion_event_states, "\"Source\": \"com.example.images\""),
      output.completion_events_bus_arn == "arn:aws:events:us-east-1:123456789012:event-bus/images",
      output.completion_events_source == "com.example.images",
    ])
    error_message = "The bus and source variables reach the definition and the outputs."
  }
}

run "without_completion_events" {
  command = plan

  variables {
    enable_completion_events = false
  }

  assert {
    condition = alltrue([
      local.completion_event_states == "",
      output.completion_events_bus_arn == null,
      output.completion_events_pattern == null,
      !anytrue([for s in data.aws_iam_policy_document.sfn.statement : contains(tolist(s.actions), "events:PutEvents")]),
    ])
    error_message = "Off: no publishing states rendered, no PutEvents permission, null outputs."
  }
}

run "completion_events_source_may_not_be_an_aws_source" {
  command = plan

  variables {
    completion_events_source = "aws.s3"
  }

  expect_failures = [var.completion_events_source]
}

run "without_delete_sync_by_default" {
  command = plan

  assert {
    condition = alltrue([
      length(aws_cloudwatch_event_rule.object_deleted) == 0,
      length(aws_cloudwatch_event_target.delete_sync) == 0,
      length(aws_lambda_permission.delete_sync) == 0,
      length(aws_lambda_function_event_invoke_config.delete_sync) == 0,
      !anytrue([for s in data.aws_iam_policy_document.lambda.statement : s.sid == "DeadLetterFailedDeletions"]),
    ])
    error_message = "Delete sync is off by default: no rule, target, permission or asynchronous-invocation settings."
  }
}

run "with_delete_sync" {
  command = plan

  variables {
    enable_delete_sync = true
  }

  assert {
    condition = alltrue([
      length(aws_cloudwatch_event_rule.object_deleted) == 1,
      length(aws_lambda_permission.delete_sync) == 1,
      aws_lambda_permission.delete_sync[0].principal == "events.amazonaws.com",
      # The pattern names the generated bucket (unknown at plan): its reasons are checked as the local.
      local.delete_sync_reasons == ["DeleteObject"],
      strcontains(aws_cloudwatch_event_target.delete_sync[0].input_transformer[0].input_template, "\"action\": \"delete\""),
    ])
    error_message = "On: a rule on a caller's deletes invokes the function with a delete request."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.lambda.statement :
      s.sid == "RemoveOwnPartialOutputs" && s.actions == toset(["s3:DeleteObject"])
    ])
    error_message = "The function may delete its own outputs (under dest_prefix): delete sync relies on it."
  }

  assert {
    condition = alltrue([
      length(aws_cloudwatch_event_target.delete_sync[0].dead_letter_config) == 1,
      length(aws_lambda_function_event_invoke_config.delete_sync) == 1,
      aws_lambda_function_event_invoke_config.delete_sync[0].maximum_retry_attempts == 2,
      length(aws_lambda_function_event_invoke_config.delete_sync[0].destination_config[0].on_failure) == 1,
      anytrue([
        for s in data.aws_iam_policy_document.lambda.statement :
        s.sid == "DeadLetterFailedDeletions" && s.actions == toset(["sqs:SendMessage"])
      ]),
      length(data.aws_iam_policy_document.eventbridge_dlq[0].statement[0].condition) == 1,
    ])
    error_message = "A deletion that was not delivered, or whose call failed every attempt, lands in the dead-letter queue, which the function's role may send to."
  }
}

run "delete_sync_alone_keeps_its_dead_letter_queue" {
  command = plan

  variables {
    enable_s3_trigger  = false
    enable_delete_sync = true
  }

  assert {
    condition = alltrue([
      length(aws_cloudwatch_event_rule.object_created) == 0,
      length(aws_sqs_queue.eventbridge_dlq) == 1,
      length(aws_cloudwatch_event_target.delete_sync[0].dead_letter_config) == 1,
      length(aws_lambda_function_event_invoke_config.delete_sync[0].destination_config) == 1,
    ])
    error_message = "Without the upload rule, delete sync still gets the dead-letter queue."
  }
}

run "delete_sync_without_a_dead_letter_queue" {
  command = plan

  variables {
    enable_delete_sync     = true
    create_eventbridge_dlq = false
  }

  assert {
    condition = alltrue([
      length(aws_sqs_queue.eventbridge_dlq) == 0,
      length(aws_cloudwatch_event_target.delete_sync[0].dead_letter_config) == 0,
      length(aws_lambda_function_event_invoke_config.delete_sync[0].destination_config) == 0,
      !anytrue([for s in data.aws_iam_policy_document.lambda.statement : s.sid == "DeadLetterFailedDeletions"]),
    ])
    error_message = "create_eventbridge_dlq = false: no queue, no destination, no grant."
  }
}

run "delete_sync_with_lifecycle_expiration" {
  command = plan

  variables {
    enable_delete_sync               = true
    delete_sync_lifecycle_expiration = true
  }

  assert {
    condition     = local.delete_sync_reasons == ["DeleteObject", "Lifecycle Expiration"]
    error_message = "Lifecycle expiration counts when asked for."
  }
}
