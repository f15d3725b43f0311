# Misuse of inputs is refused, with a message that names the input (variable validations and the
# preconditions on data.aws_caller_identity.current for combinations of inputs).

variables {
  lambda_s3_bucket = "artifacts"
  lambda_s3_key    = "imgresize/imgresize-0.1.0-arm64.zip"
}

run "a_bad_name" {
  command = plan

  variables {
    name = "Photos_Resizer"
  }

  expect_failures = [var.name]
}

run "an_unknown_architecture" {
  command = plan

  variables {
    architectures = ["sparc"]
  }

  expect_failures = [var.architectures]
}

run "a_prefix_s3_would_url_encode" {
  command = plan

  variables {
    source_prefix = "my photos/"
  }

  expect_failures = [var.source_prefix]
}

run "too_little_memory" {
  command = plan

  variables {
    memory_size = 64
  }

  expect_failures = [var.memory_size]
}

run "an_avif_budget_of_nothing" {
  command = plan

  variables {
    avif_time_budget_ms = 0
  }

  expect_failures = [var.avif_time_budget_ms]
}

run "a_retention_cloudwatch_does_not_offer" {
  command = plan

  variables {
    log_retention_days = 2
  }

  expect_failures = [var.log_retention_days]
}

run "a_pattern_without_the_stem" {
  command = plan

  variables {
    dest_key_pattern = "{dir}resized.{ext}"
  }

  expect_failures = [var.dest_key_pattern]
}

run "a_kms_alias_instead_of_a_key" {
  command = plan

  variables {
    existing_bucket_kms_key_arns = ["alias/photos"]
  }

  expect_failures = [var.existing_bucket_kms_key_arns]
}

run "two_packages" {
  command = plan

  variables {
    lambda_zip_path = "bootstrap.zip"
  }

  expect_failures = [data.aws_caller_identity.current]
}

run "no_package" {
  command = plan

  variables {
    lambda_s3_bucket = null
    lambda_s3_key    = null
  }

  expect_failures = [data.aws_caller_identity.current]
}

run "alarm_emails_without_alarms" {
  command = plan

  variables {
    create_alarms         = false
    alarm_email_addresses = ["ops@example.com"]
  }

  expect_failures = [data.aws_caller_identity.current]
}
