data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  dns_suffix = data.aws_partition.current.dns_suffix
  account_id = data.aws_caller_identity.current.account_id

  # Region of the deployment, read from the state machine's ARN (arn:partition:states:REGION:account:...).
  # This works unchanged on provider 5.x and 6.x (data.aws_region's `name` is deprecated in 6.x, `region` is new).
  region = split(":", aws_sfn_state_machine.this.arn)[3]

  # Default Lambda package: the Makefile's output for the chosen architecture.
  # A variable default cannot reference path.module, hence the local.
  lambda_zip_path = coalesce(
    var.lambda_zip_path,
    "${path.module}/../target/lambda/${var.architectures[0]}/imgresize-lambda/bootstrap.zip",
  )

  # Buckets: created here, or brought by name.
  originals_bucket_name = var.create_buckets ? aws_s3_bucket.this["originals"].id : var.originals_bucket_name
  resized_bucket_name   = var.create_buckets ? aws_s3_bucket.this["resized"].id : var.resized_bucket_name
  originals_bucket_arn  = var.create_buckets ? aws_s3_bucket.this["originals"].arn : "arn:${local.partition}:s3:::${var.originals_bucket_name}"
  resized_bucket_arn    = var.create_buckets ? aws_s3_bucket.this["resized"].arn : "arn:${local.partition}:s3:::${var.resized_bucket_name}"

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

  lambda_environment = merge(
    {
      DEST_BUCKET            = local.resized_bucket_name
      ALLOWED_SOURCE_BUCKETS = local.originals_bucket_name
      DEST_PREFIX            = var.dest_prefix
      DEST_KEY_PATTERN       = var.dest_key_pattern
      DEFAULT_SIZE           = tostring(var.default_size)
      QUALITY                = tostring(var.quality)
      MAX_INPUT_BYTES        = tostring(var.max_input_bytes)
      MAX_PIXELS             = tostring(var.max_pixels)
      RUST_LOG               = var.log_level
    },
    var.cache_control == null ? {} : { CACHE_CONTROL = var.cache_control },
  )

  alarm_actions = concat(var.alarm_actions, aws_sns_topic.alarms[*].arn)
}
