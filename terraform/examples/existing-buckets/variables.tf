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

variable "lambda_zip_path" {
  description = "The function's zip: a released imgresize-<version>-arm64.zip, or this repository's make build output."
  type        = string
  default     = "../../../target/lambda/arm64/imgresize-lambda/bootstrap.zip"

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file."
  }
}

variable "source_prefix" {
  description = "Only keys under this prefix are resized (\"\": the whole bucket)."
  type        = string
  default     = "uploads/"

  validation {
    condition     = can(regex("^[A-Za-z0-9/._-]*$", var.source_prefix)) && !startswith(var.source_prefix, "/")
    error_message = "source_prefix may contain only letters, digits, '/', '.', '_' and '-', and must not start with '/'."
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

variable "existing_bucket_kms_key_arns" {
  description = "Customer managed KMS keys of the buckets when they use SSE-KMS (both, if they differ); []: SSE-S3."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.existing_bucket_kms_key_arns : startswith(k, "arn:")])
    error_message = "existing_bucket_kms_key_arns must be key ARNs."
  }
}

variable "manage_bucket_notification" {
  description = "Let Terraform own the originals bucket's whole notification configuration (EventBridge delivery only: other notifications are removed). null: leave it alone."
  type        = bool
  default     = null
}
