provider "aws" {
  region = var.region
}

# The module on buckets that already exist and may have other users: it creates the function, the
# state machine, the trigger, the API and the alarms, and changes nothing on the buckets. Their
# public access, encryption, bucket policies and notifications stay the owner's business:
#   - EventBridge delivery must be on for the originals bucket (once, without touching its other
#     notifications: see the module's README, "Existing buckets"); the output
#     bucket_notification_managed says whether this stack manages it;
#   - SSE-KMS buckets list their keys in existing_bucket_kms_key_arns.
module "imgresize" {
  source = "../.."

  name                  = var.name
  create_buckets        = false
  originals_bucket_name = var.originals_bucket_name
  resized_bucket_name   = var.resized_bucket_name
  lambda_zip_path       = var.lambda_zip_path

  # Only uploads under this prefix are resized, and the function may read nothing else.
  source_prefix = var.source_prefix
  dest_prefix   = var.dest_prefix

  existing_bucket_kms_key_arns = var.existing_bucket_kms_key_arns

  # null (false for existing buckets): the bucket's notification configuration is left alone.
  # true replaces the bucket's whole notification configuration with EventBridge delivery only.
  create_bucket_notification = var.manage_bucket_notification
}
