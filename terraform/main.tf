data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {
  # Misuses of inputs that no single variable's validation can see (Terraform >= 1.5 validates one
  # variable at a time). Checked here, on a data source read at the start of every plan, and every
  # expression below stays defined when they fail, so these messages are the ones a user reads.
  lifecycle {
    precondition {
      condition     = var.create_buckets || (var.originals_bucket_name != null && var.resized_bucket_name != null)
      error_message = "With create_buckets = false, set both originals_bucket_name and resized_bucket_name to the existing buckets."
    }
    precondition {
      condition     = !(var.workflow_type == "EXPRESS" && var.sfn_log_level == "OFF")
      error_message = "workflow_type = \"EXPRESS\" keeps no execution history: its logs are the only record, so sfn_log_level must not be \"OFF\" (ALL logs every execution, ERROR the failed ones)."
    }
    precondition {
      condition     = var.originals_bucket_name == null || var.originals_bucket_name != var.resized_bucket_name
      error_message = "originals_bucket_name and resized_bucket_name must differ: writing results into the source bucket re-triggers the pipeline."
    }
    precondition {
      condition     = (var.lambda_zip_path != null) != (var.lambda_s3_bucket != null || var.lambda_s3_key != null)
      error_message = "Set the function's package in exactly one way: lambda_zip_path (a local zip), or lambda_s3_bucket and lambda_s3_key (a zip in S3)."
    }
    precondition {
      condition     = (var.lambda_s3_bucket == null) == (var.lambda_s3_key == null)
      error_message = "lambda_s3_bucket and lambda_s3_key go together: set both, or neither and lambda_zip_path."
    }
    precondition {
      condition     = var.lambda_s3_key != null || (var.lambda_s3_object_version == null && var.lambda_source_code_hash == null)
      error_message = "lambda_s3_object_version and lambda_source_code_hash apply to a package in S3 (lambda_s3_bucket and lambda_s3_key)."
    }
    precondition {
      condition     = length(var.alarm_email_addresses) == 0 || var.create_alarms
      error_message = "alarm_email_addresses needs create_alarms = true: without alarms nothing would ever be sent to them."
    }
  }
}

locals {
  partition  = data.aws_partition.current.partition
  dns_suffix = data.aws_partition.current.dns_suffix
  account_id = data.aws_caller_identity.current.account_id
  # `id` is the region's name on every provider version the module supports (`name` is deprecated in
  # 6.x and `region` does not exist in 5.x).
  region = data.aws_region.current.id

  # Buckets: created here, or brought by name. An unset name becomes "-" (never a bucket name) rather
  # than null, so that no expression fails before the preconditions above can say what is missing.
  originals_bucket_name = var.create_buckets ? aws_s3_bucket.this["originals"].id : coalesce(var.originals_bucket_name, "-")
  resized_bucket_name   = var.create_buckets ? aws_s3_bucket.this["resized"].id : coalesce(var.resized_bucket_name, "-")
  originals_bucket_arn  = var.create_buckets ? aws_s3_bucket.this["originals"].arn : "arn:${local.partition}:s3:::${local.originals_bucket_name}"
  resized_bucket_arn    = var.create_buckets ? aws_s3_bucket.this["resized"].arn : "arn:${local.partition}:s3:::${local.resized_bucket_name}"

  # Whether this module owns the originals bucket's notification configuration. That resource
  # replaces the bucket's whole configuration, so on a bucket the module did not create it is only
  # managed when asked for (create_bucket_notification = true).
  manage_bucket_notification = coalesce(var.create_bucket_notification, var.create_buckets)

  # API Gateway access and execution logs need the region's API Gateway account setting (a CloudWatch
  # Logs role); in a brand-new account it is unset and creating a logging stage fails. Logging is on
  # when asked for, or when this module sets that role.
  api_logging = var.create_api && coalesce(var.enable_api_logging, var.create_api_gateway_cloudwatch_role)

  # Customer managed keys the function may use through S3 only: the created buckets' key and the
  # existing buckets' keys.
  s3_kms_key_arns = distinct(compact(concat([var.kms_key_arn], var.existing_bucket_kms_key_arns)))

  # EventBridge key filter on the (URL-encoded) object key. Each branch is JSON text so the
  # conditional has one type; `exists` matches every key.
  key_filter = (
    var.source_prefix == "" && length(var.source_suffixes) == 0 ? jsonencode([{ exists = true }]) :
    length(var.source_suffixes) == 0 ? jsonencode([{ prefix = var.source_prefix }]) :
    var.source_prefix == "" ? jsonencode([for s in var.source_suffixes : { suffix = s }]) :
    jsonencode([for s in var.source_suffixes : { wildcard = "${var.source_prefix}*${s}" }])
  )

  # Executions of this state machine: arn:partition:states:region:account:execution:NAME:
  execution_arn_prefix = "${replace(aws_sfn_state_machine.this.arn, ":stateMachine:", ":execution:")}:"

  express = var.workflow_type == "EXPRESS"
  # An Express execution started by POST /resize must end before API Gateway's 29 s integration timeout;
  # otherwise the longest a resize can legitimately take: every attempt to the function's timeout, every
  # wait at its cap, plus a minute of slack (Express executions may not run over 5 minutes).
  execution_budget_seconds = local.function_timeout * (var.retry_max_attempts + 1) + var.retry_max_attempts * var.retry_max_delay_seconds + 60
  # Behind the API one Express state machine serves uploads and POSTs alike, so both are cut at 28 s; the
  # function gets at most 25 s of it, leaving room for the state machine's own steps.
  function_timeout = local.express && var.create_api ? min(var.timeout, 25) : var.timeout
  execution_timeout_seconds = (
    local.express && var.create_api ? 28 :
    local.express ? min(300, local.execution_budget_seconds) :
    local.execution_budget_seconds
  )

  lambda_environment = merge(
    {
      DEST_BUCKET            = local.resized_bucket_name
      ALLOWED_SOURCE_BUCKETS = local.originals_bucket_name
      DEST_PREFIX            = var.dest_prefix
      DEST_KEY_PATTERN       = var.dest_key_pattern
      DEFAULT_SIZE           = tostring(var.default_size)
      QUALITY                = tostring(var.quality)
      COLOR                  = var.color
      MAX_INPUT_BYTES        = tostring(var.max_input_bytes)
      MAX_PIXELS             = tostring(var.max_pixels)
      AVIF_TIME_BUDGET_MS    = tostring(var.avif_time_budget_ms)
      RUST_LOG               = var.log_level
    },
    var.cache_control == null ? {} : { CACHE_CONTROL = var.cache_control },
    var.renditions == null ? {} : { RENDITIONS = local.renditions_json },
  )

  # The function reads the renditions as CONTRACT.md's JSON, without the attributes left unset.
  renditions_json = var.renditions == null ? null : jsonencode([
    for r in var.renditions : { for k, v in r : k => v if v != null }
  ])
  # The `size` EventBridge sends with every upload: the single output's edge, or null when renditions
  # are configured (a size in the input asks for the one classic output instead of the renditions).
  transformer_size = var.renditions == null ? tostring(var.default_size) : "null"

  # Delete sync: the "Object Deleted" reasons that count.
  delete_sync_reasons = concat(["DeleteObject"], var.delete_sync_lifecycle_expiration ? ["Lifecycle Expiration"] : [])

  # One dead-letter queue for both of the module's rules: uploads EventBridge could not deliver to the state
  # machine, and deletions it could not deliver to the function or that failed all of Lambda's retries.
  create_dlq = var.create_eventbridge_dlq && (var.enable_s3_trigger || var.enable_delete_sync)

  create_sns_topic = var.create_sns_topic || length(var.alarm_email_addresses) > 0
  alarm_actions    = concat(var.alarm_actions, aws_sns_topic.alarms[*].arn)
}
