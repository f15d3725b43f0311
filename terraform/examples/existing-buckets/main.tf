provider "aws" {
  region = var.region
}

# The module on buckets that already exist: it creates the function, the state machine, the
# trigger, the API and the alarms, and turns on EventBridge delivery for the originals bucket.
# Their public access, encryption and bucket policies stay the owner's business.
module "imgresize" {
  source = "../.."

  name                  = var.name
  create_buckets        = false
  originals_bucket_name = var.originals_bucket_name
  resized_bucket_name   = var.resized_bucket_name

  # Only uploads under this prefix are resized, and the function may read nothing else.
  source_prefix = var.source_prefix
  dest_prefix   = var.dest_prefix

  # Existing buckets encrypted with a customer managed key: the function needs that key.
  kms_key_arn = var.kms_key_arn

  # aws_s3_bucket_notification owns the bucket's whole notification configuration: if the
  # originals bucket already notifies other targets, set this false and enable EventBridge
  # delivery on the bucket yourself.
  create_bucket_notification = var.manage_bucket_notification
}
