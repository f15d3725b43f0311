variable "region" {
  description = "AWS region of the buckets."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "name" {
  description = "Name of the deployment."
  type        = string
  default     = "imgresize"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,24}[a-z0-9]$", var.name))
    error_message = "name must be 2-26 lowercase letters, digits and hyphens."
  }
}

variable "originals_bucket_name" {
  description = "Existing bucket the images are uploaded to."
  type        = string

  validation {
    condition     = length(var.originals_bucket_name) >= 3
    error_message = "originals_bucket_name must be a bucket name."
  }
}

variable "resized_bucket_name" {
  description = "Existing bucket the resized images are written to (not the originals bucket)."
  type        = string

  validation {
    condition     = length(var.resized_bucket_name) >= 3
    error_message = "resized_bucket_name must be a bucket name."
  }
}

variable "source_prefix" {
  description = "Only keys under this prefix are resized (\"\": the whole bucket)."
  type        = string
  default     = "uploads/"

  validation {
    condition     = !startswith(var.source_prefix, "/")
    error_message = "source_prefix must not start with '/'."
  }
}

variable "dest_prefix" {
  description = "Prefix of the resized keys in the resized bucket."
  type        = string
  default     = "output/"

  validation {
    condition     = !startswith(var.dest_prefix, "/")
    error_message = "dest_prefix must not start with '/'."
  }
}

variable "kms_key_arn" {
  description = "KMS key of the buckets, when they use SSE-KMS with a customer managed key (null: SSE-S3)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:", var.kms_key_arn))
    error_message = "kms_key_arn must be an ARN."
  }
}

variable "manage_bucket_notification" {
  description = "Let Terraform own the originals bucket's notification configuration (EventBridge delivery on)."
  type        = bool
  default     = true
}
