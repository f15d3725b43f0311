################################################################################
# REST API (regional):
#   POST /resize          → states:StartExecution   (body validated against templates/request_model.json)
#                           or, with workflow_type = "EXPRESS", states:StartSyncExecution: the answer is the
#                           function's result, its status code from templates/sync_response.vtl
#   GET  /executions/{id} → states:DescribeExecution (id = the execution name from the POST's executionArn;
#                           STANDARD only: Express executions have no history to describe)
#   POST /backfill        → states:StartExecution of the backfill state machine (AWS_IAM, always)
################################################################################

locals {
  api_count        = var.create_api ? 1 : 0
  executions_count = var.create_api && !local.express ? 1 : 0
  # POST /backfill exists when both the API and the backfill do.
  api_backfill_count = var.create_api && var.enable_backfill ? 1 : 0

  # API_KEY: no IAM authorization, an API key (usage plan) is required instead.
  method_authorization = var.api_authorization == "AWS_IAM" ? "AWS_IAM" : "NONE"
  api_key_required     = var.api_authorization == "API_KEY"

  # Integration responses: the back end's HTTP status selects the response (non-Lambda AWS
  # integration); "" marks the default response (no selection pattern).
  api_responses = {
    "200" = ""
    "400" = "4\\d{2}"
    "500" = "5\\d{2}"
  }
}

resource "aws_api_gateway_rest_api" "this" {
  count = local.api_count

  name        = var.name
  description = "imgresize: start a resize (POST /resize) and read its result (GET /executions/{id})"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_request_validator" "this" {
  count = local.api_count

  name                        = "${var.name}-validate"
  rest_api_id                 = aws_api_gateway_rest_api.this[0].id
  validate_request_body       = true
  validate_request_parameters = true
}

resource "aws_api_gateway_model" "resize_request" {
  count = local.api_count

  rest_api_id  = aws_api_gateway_rest_api.this[0].id
  name         = "ResizeRequest"
  description  = "Body of POST /resize (JSON Schema draft-04)"
  content_type = "application/json"
  schema = templatefile("${path.module}/templates/request_model.json", {
    bucket = local.originals_bucket_name
  })
}

################################################################################
# POST /resize
################################################################################

resource "aws_api_gateway_resource" "resize" {
  count = local.api_count

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_rest_api.this[0].root_resource_id
  path_part   = "resize"
}

resource "aws_api_gateway_method" "resize_post" {
  count = local.api_count

  rest_api_id          = aws_api_gateway_rest_api.this[0].id
  resource_id          = aws_api_gateway_resource.resize[0].id
  http_method          = "POST"
  authorization        = local.method_authorization
  api_key_required     = local.api_key_required
  request_validator_id = aws_api_gateway_request_validator.this[0].id
  request_models = {
    "application/json" = aws_api_gateway_model.resize_request[0].name
  }
}

resource "aws_api_gateway_integration" "resize_post" {
  count = local.api_count

  rest_api_id             = aws_api_gateway_rest_api.this[0].id
  resource_id             = aws_api_gateway_resource.resize[0].id
  http_method             = aws_api_gateway_method.resize_post[0].http_method
  type                    = "AWS"
  integration_http_method = "POST"
  uri                     = "arn:${local.partition}:apigateway:${local.region}:states:action/${local.express ? "StartSyncExecution" : "StartExecution"}"
  credentials             = aws_iam_role.api[0].arn
  # Bodies that are not application/json are refused (415) instead of reaching Step Functions unvalidated.
  passthrough_behavior = "NEVER"
  request_templates = {
    "application/json" = templatefile("${path.module}/templates/start_execution.vtl", {
      state_machine_arn = aws_sfn_state_machine.this.arn
    })
  }
}

resource "aws_api_gateway_method_response" "resize_post" {
  for_each = { for code, pattern in local.api_responses : code => pattern if var.create_api }

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  resource_id = aws_api_gateway_resource.resize[0].id
  http_method = aws_api_gateway_method.resize_post[0].http_method
  status_code = each.key
  response_models = {
    "application/json" = "Empty"
  }
}

resource "aws_api_gateway_integration_response" "resize_post" {
  for_each = { for code, pattern in local.api_responses : code => pattern if var.create_api }

  rest_api_id       = aws_api_gateway_rest_api.this[0].id
  resource_id       = aws_api_gateway_resource.resize[0].id
  http_method       = aws_api_gateway_method.resize_post[0].http_method
  status_code       = aws_api_gateway_method_response.resize_post[each.key].status_code
  selection_pattern = each.value == "" ? null : each.value
  # StartSyncExecution answers 200 whatever the execution did: the template turns the execution's status
  # and error code into the function's answer and its HTTP status (lambda/CONTRACT.md's table).
  response_templates = local.express && each.key == "200" ? {
    "application/json" = file("${path.module}/templates/sync_response.vtl")
  } : null

  depends_on = [aws_api_gateway_integration.resize_post]
}

################################################################################
# GET /executions/{id}
################################################################################

resource "aws_api_gateway_resource" "executions" {
  count = local.executions_count

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_rest_api.this[0].root_resource_id
  path_part   = "executions"
}

resource "aws_api_gateway_resource" "execution" {
  count = local.executions_count

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_resource.executions[0].id
  path_part   = "{id}"
}

resource "aws_api_gateway_method" "execution_get" {
  count = local.executions_count

  rest_api_id          = aws_api_gateway_rest_api.this[0].id
  resource_id          = aws_api_gateway_resource.execution[0].id
  http_method          = "GET"
  authorization        = local.method_authorization
  api_key_required     = local.api_key_required
  request_validator_id = aws_api_gateway_request_validator.this[0].id
  request_parameters = {
    "method.request.path.id" = true
  }
}

resource "aws_api_gateway_integration" "execution_get" {
  count = local.executions_count

  rest_api_id             = aws_api_gateway_rest_api.this[0].id
  resource_id             = aws_api_gateway_resource.execution[0].id
  http_method             = aws_api_gateway_method.execution_get[0].http_method
  type                    = "AWS"
  integration_http_method = "POST"
  uri                     = "arn:${local.partition}:apigateway:${local.region}:states:action/DescribeExecution"
  credentials             = aws_iam_role.api[0].arn
  passthrough_behavior    = "NEVER"
  request_templates = {
    "application/json" = templatefile("${path.module}/templates/describe_execution.vtl", {
      execution_arn_prefix = local.execution_arn_prefix
    })
  }
}

resource "aws_api_gateway_method_response" "execution_get" {
  for_each = { for code, pattern in local.api_responses : code => pattern if local.executions_count == 1 }

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  resource_id = aws_api_gateway_resource.execution[0].id
  http_method = aws_api_gateway_method.execution_get[0].http_method
  status_code = each.key
  response_models = {
    "application/json" = "Empty"
  }
}

resource "aws_api_gateway_integration_response" "execution_get" {
  for_each = { for code, pattern in local.api_responses : code => pattern if local.executions_count == 1 }

  rest_api_id       = aws_api_gateway_rest_api.this[0].id
  resource_id       = aws_api_gateway_resource.execution[0].id
  http_method       = aws_api_gateway_method.execution_get[0].http_method
  status_code       = aws_api_gateway_method_response.execution_get[each.key].status_code
  selection_pattern = each.value == "" ? null : each.value

  depends_on = [aws_api_gateway_integration.execution_get]
}

################################################################################
# POST /backfill: starts a backfill run (body ignored). AWS_IAM whatever api_authorization says:
# a run touches every object, so only IAM principals allowed execute-api:Invoke on it may start one.
################################################################################

resource "aws_api_gateway_resource" "backfill" {
  count = local.api_backfill_count

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  parent_id   = aws_api_gateway_rest_api.this[0].root_resource_id
  path_part   = "backfill"
}

resource "aws_api_gateway_method" "backfill_post" {
  count = local.api_backfill_count

  rest_api_id   = aws_api_gateway_rest_api.this[0].id
  resource_id   = aws_api_gateway_resource.backfill[0].id
  http_method   = "POST"
  authorization = "AWS_IAM"
  # No body model (the body is ignored); the validator checks what the method declares.
  request_validator_id = aws_api_gateway_request_validator.this[0].id
}

resource "aws_api_gateway_integration" "backfill_post" {
  count = local.api_backfill_count

  rest_api_id             = aws_api_gateway_rest_api.this[0].id
  resource_id             = aws_api_gateway_resource.backfill[0].id
  http_method             = aws_api_gateway_method.backfill_post[0].http_method
  type                    = "AWS"
  integration_http_method = "POST"
  uri                     = "arn:${local.partition}:apigateway:${local.region}:states:action/StartExecution"
  credentials             = aws_iam_role.api[0].arn
  passthrough_behavior    = "NEVER"
  request_templates = {
    "application/json" = templatefile("${path.module}/templates/start_backfill.vtl", {
      state_machine_arn = aws_sfn_state_machine.backfill[0].arn
    })
  }
}

resource "aws_api_gateway_method_response" "backfill_post" {
  for_each = { for code, pattern in local.api_responses : code => pattern if local.api_backfill_count == 1 }

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  resource_id = aws_api_gateway_resource.backfill[0].id
  http_method = aws_api_gateway_method.backfill_post[0].http_method
  status_code = each.key
  response_models = {
    "application/json" = "Empty"
  }
}

resource "aws_api_gateway_integration_response" "backfill_post" {
  for_each = { for code, pattern in local.api_responses : code => pattern if local.api_backfill_count == 1 }

  rest_api_id       = aws_api_gateway_rest_api.this[0].id
  resource_id       = aws_api_gateway_resource.backfill[0].id
  http_method       = aws_api_gateway_method.backfill_post[0].http_method
  status_code       = aws_api_gateway_method_response.backfill_post[each.key].status_code
  selection_pattern = each.value == "" ? null : each.value

  depends_on = [aws_api_gateway_integration.backfill_post]
}

################################################################################
# Deployment and stage
################################################################################

resource "aws_api_gateway_deployment" "this" {
  count = local.api_count

  rest_api_id = aws_api_gateway_rest_api.this[0].id
  description = "imgresize ${var.name}"

  # Redeploy whenever anything the stage serves changes: routes, methods, authorization,
  # validation, the model, the mapping templates, the integrations and their responses.
  triggers = {
    redeployment = sha1(jsonencode([
      aws_api_gateway_resource.resize[0],
      aws_api_gateway_resource.executions[*],
      aws_api_gateway_resource.execution[*],
      aws_api_gateway_request_validator.this[0],
      aws_api_gateway_model.resize_request[0],
      aws_api_gateway_method.resize_post[0],
      aws_api_gateway_method.execution_get[*],
      aws_api_gateway_integration.resize_post[0],
      aws_api_gateway_integration.execution_get[*],
      aws_api_gateway_method_response.resize_post,
      aws_api_gateway_method_response.execution_get,
      aws_api_gateway_integration_response.resize_post,
      aws_api_gateway_integration_response.execution_get,
      aws_api_gateway_resource.backfill,
      aws_api_gateway_method.backfill_post,
      aws_api_gateway_integration.backfill_post,
      aws_api_gateway_method_response.backfill_post,
      aws_api_gateway_integration_response.backfill_post,
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "api_access" {
  count = local.api_logging ? 1 : 0

  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default): debug logs of a resize pipeline, not audit records.
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

# API Gateway writes execution logs (api_execution_logging_level) to this group, named by its
# convention; created here so it has a retention and is removed with the stack.
resource "aws_cloudwatch_log_group" "api_execution" {
  count = local.api_logging ? 1 : 0

  #checkov:skip=CKV_AWS_338:Retention is var.log_retention_days (30 days by default): debug logs of a resize pipeline, not audit records.
  name              = "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.this[0].id}/${var.api_stage_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.cloudwatch_logs_kms_key_arn

  tags = var.tags
}

resource "aws_api_gateway_stage" "this" {
  count = local.api_count

  #checkov:skip=CKV_AWS_120:No cache: every POST starts a new execution and GET results change until the execution ends.
  #checkov:skip=CKV2_AWS_77:A web ACL is optional (var.api_waf_web_acl_arn) and its rule set is the owner's; the back end is Step Functions, not a Java (Log4j) service.
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to HTTP back ends; this API's back end is Step Functions, called with SigV4.
  #checkov:skip=CKV_AWS_76:Access logging is on with enable_api_logging (or create_api_gateway_cloudwatch_role): off by default because a stage with logs cannot be created in an account whose API Gateway CloudWatch role was never set.
  #checkov:skip=CKV2_AWS_4:Execution logging (aws_api_gateway_method_settings.all, logging_level) is var.api_execution_logging_level with enable_api_logging, "OFF" by default for the reason given at CKV_AWS_76 (checkov resolves that default since the module has more locals).
  rest_api_id          = aws_api_gateway_rest_api.this[0].id
  deployment_id        = aws_api_gateway_deployment.this[0].id
  stage_name           = var.api_stage_name
  xray_tracing_enabled = true

  # Needs the region's API Gateway CloudWatch role (see local.api_logging).
  dynamic "access_log_settings" {
    for_each = aws_cloudwatch_log_group.api_access

    content {
      destination_arn = access_log_settings.value.arn
      format = jsonencode({
        requestId          = "$context.requestId"
        extendedRequestId  = "$context.extendedRequestId"
        ip                 = "$context.identity.sourceIp"
        caller             = "$context.identity.caller"
        userArn            = "$context.identity.userArn"
        apiKeyId           = "$context.identity.apiKeyId"
        requestTime        = "$context.requestTime"
        httpMethod         = "$context.httpMethod"
        resourcePath       = "$context.resourcePath"
        status             = "$context.status"
        protocol           = "$context.protocol"
        responseLength     = "$context.responseLength"
        errorMessage       = "$context.error.message"
        integrationStatus  = "$context.integration.status"
        integrationLatency = "$context.integration.latency"
      })
    }
  }

  tags = var.tags

  depends_on = [aws_api_gateway_account.this]
}

resource "aws_api_gateway_method_settings" "all" {
  count = local.api_count

  #checkov:skip=CKV_AWS_225:No cache on purpose (see the stage): results must never be served stale.
  rest_api_id = aws_api_gateway_rest_api.this[0].id
  stage_name  = aws_api_gateway_stage.this[0].stage_name
  method_path = "*/*"

  settings {
    metrics_enabled        = true
    logging_level          = local.api_logging ? var.api_execution_logging_level : "OFF"
    data_trace_enabled     = false
    throttling_rate_limit  = var.api_throttling_rate_limit
    throttling_burst_limit = var.api_throttling_burst_limit
  }

  depends_on = [aws_cloudwatch_log_group.api_execution]
}

resource "aws_wafv2_web_acl_association" "api" {
  count = var.create_api && var.api_waf_web_acl_arn != null ? 1 : 0

  resource_arn = aws_api_gateway_stage.this[0].arn
  web_acl_arn  = var.api_waf_web_acl_arn
}

################################################################################
# API_KEY authorization: usage plan + key
################################################################################

resource "aws_api_gateway_usage_plan" "this" {
  count = var.create_api && local.api_key_required ? 1 : 0

  name        = var.name
  description = "imgresize: API-key access to ${var.name}"

  api_stages {
    api_id = aws_api_gateway_rest_api.this[0].id
    stage  = aws_api_gateway_stage.this[0].stage_name
  }

  throttle_settings {
    rate_limit  = var.api_throttling_rate_limit
    burst_limit = var.api_throttling_burst_limit
  }

  dynamic "quota_settings" {
    for_each = var.api_quota_limit == null ? [] : [var.api_quota_limit]

    content {
      limit  = quota_settings.value
      period = var.api_quota_period
    }
  }

  tags = var.tags
}

resource "aws_api_gateway_api_key" "this" {
  count = var.create_api && local.api_key_required ? 1 : 0

  name        = var.name
  description = "imgresize: key for ${var.name}"
  enabled     = true

  tags = var.tags
}

resource "aws_api_gateway_usage_plan_key" "this" {
  count = var.create_api && local.api_key_required ? 1 : 0

  key_id        = aws_api_gateway_api_key.this[0].id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this[0].id
}

################################################################################
# Account-wide setting: the role API Gateway uses to write CloudWatch logs (access logs
# and execution logs need it once per account and region). Off by default because it is
# a per-region singleton that other stacks may own (README: "API logs").
################################################################################

resource "aws_api_gateway_account" "this" {
  count = var.create_api && var.create_api_gateway_cloudwatch_role ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.api_gateway_cloudwatch[0].arn

  depends_on = [aws_iam_role_policy_attachment.api_gateway_cloudwatch]
}
