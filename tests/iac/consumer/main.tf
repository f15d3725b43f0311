# A consumer of the module, as a user's own stack would be (the offline checks plan it, tests/iac):
#   - the module comes from outside this stack: modules/imgresize stands for a git or registry source
#     (a link here; the checks copy it out of the repository first, so only the module's folder exists);
#   - the buckets exist already and are someone else's: the originals bucket's notification
#     configuration belongs to this stack (it also feeds a queue), so the module must not manage it;
#   - both buckets use SSE-KMS with different customer managed keys;
#   - the function's package is a released zip in S3 (make release), not a local build;
#   - the partition is aws-cn;
#   - completion events go to a bus of this stack's own, and a rule there feeds its queue.

resource "aws_sqs_queue" "audit" {
  name                    = "photo-uploads-audit"
  sqs_managed_sse_enabled = true
}

# The bucket's one notification configuration, owned here: the queue, and EventBridge delivery for
# imgresize. The module, given an existing bucket, leaves this alone.
resource "aws_s3_bucket_notification" "uploads" {
  bucket      = "corp-photo-uploads"
  eventbridge = true

  queue {
    queue_arn = aws_sqs_queue.audit.arn
    events    = ["s3:ObjectCreated:*"]
  }
}

resource "aws_cloudwatch_event_bus" "images" {
  name = "photo-events"
}

# A subscriber of the module's completion events (README "Completion events").
resource "aws_cloudwatch_event_rule" "images_done" {
  name           = "photo-images-done"
  event_bus_name = aws_cloudwatch_event_bus.images.name
  event_pattern  = module.imgresize.completion_events_pattern
}

resource "aws_cloudwatch_event_target" "images_done" {
  rule           = aws_cloudwatch_event_rule.images_done.name
  event_bus_name = aws_cloudwatch_event_bus.images.name
  arn            = aws_sqs_queue.audit.arn
}

module "imgresize" {
  source = "./modules/imgresize"

  name                  = "photos"
  create_buckets        = false
  originals_bucket_name = "corp-photo-uploads"
  resized_bucket_name   = "corp-photo-thumbnails"
  source_prefix         = "incoming/"
  source_suffixes       = [".jpg", ".jpeg", ".png", ".webp"]

  existing_bucket_kms_key_arns = [
    "arn:aws-cn:kms:cn-north-1:123456789012:key/11111111-2222-3333-4444-555555555555",
    "arn:aws-cn:kms:cn-north-1:123456789012:key/66666666-7777-8888-9999-000000000000",
  ]

  lambda_s3_bucket        = "corp-artifacts"
  lambda_s3_key           = "imgresize/imgresize-0.1.0-arm64.zip"
  lambda_source_code_hash = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

  iam_role_path = "/imgresize/"

  completion_events_bus_name = aws_cloudwatch_event_bus.images.name

  tags = {
    CostCentre = "photos"
  }
}

output "bucket_notification_managed" {
  description = "false: this stack's own aws_s3_bucket_notification turns on EventBridge delivery."
  value       = module.imgresize.bucket_notification_managed
}

output "api_execution_arn" {
  description = "For execute-api:Invoke policies of this stack's callers."
  value       = module.imgresize.api_execution_arn
}
