# Existing buckets with other users: the module changes nothing on them unless asked, and says what
# the user must do.

variables {
  lambda_s3_bucket      = "artifacts"
  lambda_s3_key         = "imgresize/imgresize-0.1.0-arm64.zip"
  create_buckets        = false
  originals_bucket_name = "corp-uploads"
  resized_bucket_name   = "corp-thumbnails"
}

run "existing_buckets_keep_their_notifications" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket_notification.originals) == 0 && length(aws_s3_bucket.this) == 0
    error_message = "On an existing bucket the module must not replace its notification configuration."
  }

  assert {
    condition     = output.bucket_notification_managed == false
    error_message = "The output must say that EventBridge delivery is the user's to turn on."
  }

  assert {
    condition     = length(aws_s3_bucket_policy.tls_only) == 0 && length(aws_s3_bucket_lifecycle_configuration.this) == 0
    error_message = "Nothing of the owner's buckets is managed."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.object_created[0].event_pattern).detail.bucket.name == ["corp-uploads"]
    error_message = "The rule listens to the existing originals bucket."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["DEST_BUCKET"] == "corp-thumbnails" && aws_lambda_function.this.environment[0].variables["ALLOWED_SOURCE_BUCKETS"] == "corp-uploads"
    error_message = "The function reads the existing originals and writes the existing resized bucket."
  }
}

run "managing_the_notification_when_asked" {
  command = plan

  variables {
    create_bucket_notification = true
  }

  assert {
    condition     = length(aws_s3_bucket_notification.originals) == 1 && output.bucket_notification_managed
    error_message = "create_bucket_notification = true manages it."
  }
}

run "two_customer_managed_keys_only_through_s3" {
  command = plan

  variables {
    existing_bucket_kms_key_arns = [
      "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
      "arn:aws:kms:us-east-1:123456789012:key/66666666-7777-8888-9999-000000000000",
    ]
  }

  # The statements, not the rendered JSON: the policy also names the log group, whose ARN is only
  # known after apply.
  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.lambda.statement :
      s.sid == "BucketKeysThroughS3" && length(s.resources) == 2 && anytrue([
        for c in s.condition : c.variable == "kms:ViaService" && contains(c.values, "s3.us-east-1.amazonaws.com")
      ])
    ])
    error_message = "Both keys, usable only through S3 in the deployment's region."
  }
}

run "bucket_names_are_required" {
  command = plan

  variables {
    originals_bucket_name = null
  }

  expect_failures = [data.aws_caller_identity.current]
}

run "buckets_must_differ" {
  command = plan

  variables {
    resized_bucket_name = "corp-uploads"
  }

  expect_failures = [data.aws_caller_identity.current]
}
