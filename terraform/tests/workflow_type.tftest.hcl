# workflow_type: STANDARD (the default) and EXPRESS build the same pipeline; only the state machine's type and
# timeout, the API's POST integration and its response, and GET /executions/{id} differ.

variables {
  lambda_s3_bucket = "artifacts"
  lambda_s3_key    = "imgresize/imgresize-0.1.0-arm64.zip"
}

run "standard_by_default" {
  command = plan

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD"
    error_message = "STANDARD is the default workflow type."
  }

  assert {
    condition     = endswith(aws_api_gateway_integration.resize_post[0].uri, ":states:action/StartExecution")
    error_message = "STANDARD: POST /resize starts an execution and answers with its ARN."
  }

  assert {
    condition     = length(aws_api_gateway_integration.execution_get) == 1
    error_message = "STANDARD: GET /executions/{id} reads an execution's result."
  }

  assert {
    condition     = local.execution_timeout_seconds == 60 * 5 + 4 * 30 + 60
    error_message = "STANDARD: the execution is bounded by the retry budget (every attempt, every capped wait, a minute)."
  }
}

run "express_answers_synchronously" {
  command = plan

  variables {
    workflow_type = "EXPRESS"
  }

  assert {
    condition     = aws_sfn_state_machine.this.type == "EXPRESS" && aws_sfn_state_machine.this.logging_configuration[0].level != "OFF"
    error_message = "EXPRESS: an Express state machine, logging on (its only history)."
  }

  assert {
    condition     = endswith(aws_api_gateway_integration.resize_post[0].uri, ":states:action/StartSyncExecution")
    error_message = "EXPRESS: POST /resize runs the execution synchronously."
  }

  assert {
    condition     = strcontains(aws_api_gateway_integration_response.resize_post["200"].response_templates["application/json"], "responseOverride.status")
    error_message = "EXPRESS: the 200 response carries the function's result and its status code."
  }

  assert {
    condition     = length(aws_api_gateway_resource.executions) == 0 && length(aws_api_gateway_integration.execution_get) == 0 && length(aws_api_gateway_integration_response.execution_get) == 0
    error_message = "EXPRESS: no GET /executions/{id} (Express executions cannot be described)."
  }

  assert {
    condition     = local.execution_timeout_seconds == 28
    error_message = "EXPRESS with the API: the execution ends before API Gateway's 29 s integration timeout."
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 25
    error_message = "EXPRESS with the API: the function gets at most 25 of the 28 s."
  }

  assert {
    condition     = contains(flatten([for s in data.aws_iam_policy_document.api.statement : tolist(s.actions)]), "states:StartSyncExecution") && !contains(flatten([for s in data.aws_iam_policy_document.api.statement : tolist(s.actions)]), "states:DescribeExecution")
    error_message = "EXPRESS: the API role starts resizes synchronously and describes nothing (POST /backfill keeps its own start)."
  }

  assert {
    condition     = output.api_executions_url == null && output.workflow_type == "EXPRESS"
    error_message = "EXPRESS: no executions URL to poll."
  }
}

run "express_without_the_api_runs_up_to_five_minutes" {
  command = plan

  variables {
    workflow_type = "EXPRESS"
    create_api    = false
  }

  assert {
    condition     = local.execution_timeout_seconds == 300
    error_message = "EXPRESS without the API: bounded by Express's own 5-minute limit."
  }
}

run "express_without_logs_is_refused" {
  command = plan

  variables {
    workflow_type = "EXPRESS"
    sfn_log_level = "OFF"
  }

  expect_failures = [data.aws_caller_identity.current]
}

run "an_unknown_workflow_type" {
  command = plan

  variables {
    workflow_type = "EXPRESS_SYNC"
  }

  expect_failures = [var.workflow_type]
}
