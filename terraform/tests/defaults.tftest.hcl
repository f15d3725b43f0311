# The module's defaults, as a first `terraform apply` in a brand-new account meets them: nothing
# account-wide is taken over, nothing that needs an account setting is turned on, and the pipeline is
# complete. `command = plan`: these are properties of the configuration, not of the cloud
# (tests/iac/run.sh runs them offline against a provider stub built from the AWS provider's schema).

variables {
  # A package in S3, so no local zip is needed to plan.
  lambda_s3_bucket = "artifacts"
  lambda_s3_key    = "imgresize/imgresize-0.1.0-arm64.zip"
}

run "defaults_take_nothing_account_wide" {
  command = plan

  assert {
    condition     = length(aws_api_gateway_account.this) == 0 && length(aws_iam_role.api_gateway_cloudwatch) == 0
    error_message = "The region's API Gateway account setting must not be managed by default."
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.api_access) == 0 && length(aws_cloudwatch_log_group.api_execution) == 0
    error_message = "API log groups exist only when API logging is on."
  }

  assert {
    condition     = length(aws_api_gateway_stage.this[0].access_log_settings) == 0
    error_message = "Access logs need the account's API Gateway CloudWatch role: off by default."
  }

  assert {
    condition     = aws_api_gateway_method_settings.all[0].settings[0].logging_level == "OFF"
    error_message = "Execution logging needs the account's API Gateway CloudWatch role: OFF by default."
  }
}

run "defaults_build_the_whole_pipeline" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket.this) == 2 && length(aws_s3_bucket_notification.originals) == 1
    error_message = "Both buckets, and EventBridge delivery on the originals bucket the module created."
  }

  assert {
    condition     = aws_s3_bucket_notification.originals[0].eventbridge == true
    error_message = "The originals bucket must send its events to EventBridge."
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.object_created) == 1 && length(aws_cloudwatch_event_target.state_machine) == 1
    error_message = "The upload trigger (rule and target) is on by default."
  }

  assert {
    condition     = length(aws_api_gateway_rest_api.this) == 1 && length(aws_cloudwatch_metric_alarm.executions_failed) == 1
    error_message = "The API and the alarms are on by default."
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023" && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "The function runs on provided.al2023, arm64 by default."
  }

  assert {
    condition     = aws_lambda_function.this.s3_bucket == "artifacts" && aws_lambda_function.this.filename == null
    error_message = "A package in S3 is deployed from S3."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["DEST_KEY_PATTERN"] == "{dir}{stem}_{name}.{ext}"
    error_message = "The default key pattern keeps the source's folder, so a/cat.jpg and b/cat.jpg do not collide."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["DEST_PREFIX"] == "output/" && aws_lambda_function.this.environment[0].variables["DEFAULT_SIZE"] == "1000"
    error_message = "The seed's b.jpg must still become output/b_resized.jpg at 1000 px."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this["originals"].rule[0].filter[0].prefix == ""
    error_message = "Lifecycle rules cover the whole bucket with the filter form every provider version accepts."
  }
}

run "trust_policies_name_the_real_principals" {
  command = plan

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.lambda_assume.json).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "The function's role trusts lambda.amazonaws.com."
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.sfn_assume.json).Statement[0].Principal.Service == "states.amazonaws.com"
    error_message = "The state machine's role trusts states.amazonaws.com."
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.api_assume.json).Statement[0].Principal.Service == "apigateway.amazonaws.com"
    error_message = "The API's role trusts apigateway.amazonaws.com."
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.sfn_assume.json).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "123456789012"
    error_message = "The state machine's role only trusts Step Functions acting for this account."
  }
}
