################################################################################
# Buckets: originals (uploads, the trigger) and resized (the function's output).
# Created here by default; with create_buckets = false the module uses existing
# buckets by name and only adds the EventBridge notification to the originals.
################################################################################

locals {
  # The buckets this module creates, by role: name (null: generated from the prefix) and
  # expiration (null: objects are kept).
  bucket_specs = {
    for role, spec in {
      originals = {
        name            = var.originals_bucket_name
        prefix          = "${var.name}-originals-"
        expiration_days = var.originals_expiration_days
      }
      resized = {
        name            = var.resized_bucket_name
        prefix          = "${var.name}-resized-"
        expiration_days = var.resized_expiration_days
      }
    } : role => spec if var.create_buckets
  }
}

resource "aws_s3_bucket" "this" {
  for_each = local.bucket_specs

  #checkov:skip=CKV_AWS_144:Cross-region replication is out of scope for an image resizer; the account owns DR policy.
  #checkov:skip=CKV2_AWS_62:The originals bucket notifies EventBridge (aws_s3_bucket_notification.originals, reached through local.originals_bucket_name, which the graph does not follow; CKV_IMGRESIZE_2 checks it); nothing consumes events of the resized bucket.
  bucket        = each.value.name
  bucket_prefix = each.value.name == null ? each.value.prefix : null
  force_destroy = var.force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = { for role, bucket in aws_s3_bucket.this : role => bucket if var.enable_versioning }

  bucket = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "imgresize"
    status = "Enabled"

    # The whole bucket. An empty `filter {}` warns on provider 5.86+ ("No attribute specified when one
    # (and only one) of [...] is required") and an omitted filter warns too; an empty prefix is
    # accepted without a warning by every provider version the module supports.
    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    dynamic "expiration" {
      for_each = local.bucket_specs[each.key].expiration_days == null ? [] : [local.bucket_specs[each.key].expiration_days]

      content {
        days = expiration.value
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  for_each = { for role, bucket in aws_s3_bucket.this : role => bucket if var.s3_access_logs_bucket != null }

  bucket        = each.value.id
  target_bucket = var.s3_access_logs_bucket
  target_prefix = "s3/${each.value.id}/"
}

# Deny every request that does not use TLS (and TLS older than 1.2) on both created buckets.
resource "aws_s3_bucket_policy" "tls_only" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [each.value.arn, "${each.value.arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
      {
        Sid       = "DenyOutdatedTls"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [each.value.arn, "${each.value.arn}/*"]
        Condition = { NumericLessThan = { "s3:TlsVersion" = "1.2" } }
      },
    ]
  })

  # A bucket policy cannot be attached while the public access block is being changed.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# S3 → EventBridge: every object event of the originals bucket goes to the default event bus.
# This resource owns the bucket's whole notification configuration (PutBucketNotificationConfiguration
# replaces it): managed by default only for the bucket the module creates. For an existing bucket,
# EventBridge delivery is turned on without touching its other notifications as the README shows.
resource "aws_s3_bucket_notification" "originals" {
  count = local.manage_bucket_notification ? 1 : 0

  bucket      = local.originals_bucket_name
  eventbridge = true
}
