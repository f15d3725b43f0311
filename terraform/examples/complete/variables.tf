variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "name" {
  description = "Name of the deployment (prefix of every resource and created bucket)."
  type        = string
  default     = "imgresize"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,24}[a-z0-9]$", var.name))
    error_message = "name must be 2-26 lowercase letters, digits and hyphens."
  }
}

variable "architecture" {
  description = "arm64 (Graviton, default) or x86_64; the matching zip must be built first (make build)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "lambda_zip_path" {
  description = "The function's zip (null: this repository's make build output for var.architecture)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_zip_path == null || endswith(coalesce(var.lambda_zip_path, "x.zip"), ".zip")
    error_message = "lambda_zip_path must name a .zip file."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB."
  type        = number
  default     = 1769

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240."
  }
}

variable "default_size" {
  description = "Longest edge in pixels of images resized on upload."
  type        = number
  default     = 1000

  validation {
    condition     = var.default_size >= 1 && var.default_size <= 10000
    error_message = "default_size must be between 1 and 10000."
  }
}

variable "cache_control" {
  description = "Cache-Control written on every resized object (null: none)."
  type        = string
  default     = null

  validation {
    condition     = var.cache_control == null || length(coalesce(var.cache_control, "x")) > 0
    error_message = "cache_control must be a non-empty string or null."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the buckets with their objects (handy for a trial deployment)."
  type        = bool
  default     = true
}

variable "resized_expiration_days" {
  description = "Expire resized images after this many days (null: keep them)."
  type        = number
  default     = null

  validation {
    condition     = var.resized_expiration_days == null || try(var.resized_expiration_days >= 1, false)
    error_message = "resized_expiration_days must be at least 1, or null."
  }
}

variable "source_suffixes" {
  description = "Only uploads ending with one of these suffixes are resized ([]: every upload)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.source_suffixes : length(s) > 0])
    error_message = "Suffixes must not be empty."
  }
}

variable "api_authorization" {
  description = "AWS_IAM (SigV4, default), API_KEY or NONE."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "API_KEY", "NONE"], var.api_authorization)
    error_message = "api_authorization must be AWS_IAM, API_KEY or NONE."
  }
}

variable "enable_api_logging" {
  description = "API access and execution logs: needs the region's API Gateway CloudWatch role already set (null: only when create_api_gateway_cloudwatch_role sets it)."
  type        = bool
  default     = null
}

variable "create_api_gateway_cloudwatch_role" {
  description = "Make this stack own the region's API Gateway CloudWatch Logs role (an account-wide setting shared by every API in the region; replaces another stack's). Leave false unless no other stack manages it."
  type        = bool
  default     = false
}

variable "alarm_email_addresses" {
  description = "E-mail addresses notified by the alarms (creates an SNS topic when not empty)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_email_addresses : strcontains(e, "@")])
    error_message = "alarm_email_addresses must be e-mail addresses."
  }
}

variable "log_retention_days" {
  description = "Retention of the log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = var.log_retention_days >= 1
    error_message = "log_retention_days must be at least 1."
  }
}

variable "workflow_type" {
  description = "STANDARD (history, POST answers with an executionArn to poll) or EXPRESS (about 1/12 of the cost per image, POST answers with the result)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.workflow_type)
    error_message = "workflow_type must be STANDARD or EXPRESS."
  }
}
