################################################################################
# General
################################################################################

variable "name" {
  description = "Name of the deployment: used for the function, state machine, API, roles, rule and log groups, and as the prefix of created bucket names."
  type        = string
  default     = "imgresize"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,24}[a-z0-9]$", var.name))
    error_message = "name must be 2-26 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit (it prefixes bucket names)."
  }
}

variable "tags" {
  description = "Tags added to every taggable resource."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) <= 128 && length(v) <= 256])
    error_message = "Tag keys must be at most 128 characters and values at most 256."
  }
}

variable "iam_role_path" {
  description = "Path of every IAM role the module creates (e.g. \"/imgresize/\"), for organisations whose policies or SCPs key on role paths."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([\\x21-\\x7E]{1,510}/)?$", var.iam_role_path))
    error_message = "iam_role_path must start and end with '/' (\"/\" alone is the default path), at most 512 printable ASCII characters."
  }
}

variable "iam_role_permissions_boundary" {
  description = "ARN of a permissions boundary policy set on every IAM role the module creates (null: none)."
  type        = string
  default     = null

  validation {
    condition     = var.iam_role_permissions_boundary == null || can(regex("^arn:[a-z-]+:iam::[0-9]{12}:policy/.+$", var.iam_role_permissions_boundary))
    error_message = "iam_role_permissions_boundary must be an IAM policy ARN."
  }
}

################################################################################
# S3
################################################################################

variable "create_buckets" {
  description = "Create the originals and resized buckets (true), or use existing ones named by originals_bucket_name and resized_bucket_name (false)."
  type        = bool
  default     = true
}

variable "originals_bucket_name" {
  description = "Name of the originals (upload) bucket. With create_buckets = true: the name to create (null: a unique name with the prefix \"<name>-originals-\"). With create_buckets = false: the existing bucket (required)."
  type        = string
  default     = null

  validation {
    condition     = var.originals_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.originals_bucket_name))
    error_message = "originals_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "resized_bucket_name" {
  description = "Name of the bucket the resized images are written to. With create_buckets = true: the name to create (null: a unique name with the prefix \"<name>-resized-\"). With create_buckets = false: the existing bucket (required). Must differ from the originals bucket."
  type        = string
  default     = null

  validation {
    condition     = var.resized_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.resized_bucket_name))
    error_message = "resized_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "create_bucket_notification" {
  description = "Manage the originals bucket's notification configuration (aws_s3_bucket_notification) with EventBridge delivery on. That resource replaces the bucket's whole notification configuration, so null (the default) means: yes for buckets the module creates, no for an existing bucket (turn EventBridge delivery on yourself, see the README). true on an existing bucket removes its other notifications."
  type        = bool
  default     = null
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete created buckets that still contain objects."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "KMS key ARN for SSE-KMS on the buckets the module creates (the function may use it through S3). null: SSE-S3. For existing buckets use existing_bucket_kms_key_arns."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:...:kms:REGION:ACCOUNT:key/ID)."
  }
}

variable "existing_bucket_kms_key_arns" {
  description = "Customer managed KMS keys of existing buckets (SSE-KMS): the function gets kms:Decrypt (reading originals) and kms:GenerateDataKey (writing resized images) on these keys, only through S3 in this region (kms:ViaService). The two buckets may use different keys: list both."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for k in var.existing_bucket_kms_key_arns : can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", k))])
    error_message = "existing_bucket_kms_key_arns must be KMS key ARNs (arn:...:kms:REGION:ACCOUNT:key/ID); aliases are not accepted by IAM policies."
  }
}

variable "enable_versioning" {
  description = "Enable versioning on the created buckets."
  type        = bool
  default     = false
}

variable "originals_expiration_days" {
  description = "Expire objects in the created originals bucket after this many days (null: keep them)."
  type        = number
  default     = null

  validation {
    condition     = var.originals_expiration_days == null || try(var.originals_expiration_days >= 1 && floor(var.originals_expiration_days) == var.originals_expiration_days, false)
    error_message = "originals_expiration_days must be a whole number of days, at least 1, or null."
  }
}

variable "resized_expiration_days" {
  description = "Expire objects in the created resized bucket after this many days (null: keep them)."
  type        = number
  default     = null

  validation {
    condition     = var.resized_expiration_days == null || try(var.resized_expiration_days >= 1 && floor(var.resized_expiration_days) == var.resized_expiration_days, false)
    error_message = "resized_expiration_days must be a whole number of days, at least 1, or null."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "With versioning on, delete noncurrent object versions after this many days."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "s3_access_logs_bucket" {
  description = "Existing bucket that receives server access logs of the created buckets (prefix \"s3/<bucket>/\"); null: no access logging."
  type        = string
  default     = null

  validation {
    condition     = var.s3_access_logs_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.s3_access_logs_bucket))
    error_message = "s3_access_logs_bucket must be a valid S3 bucket name."
  }
}

################################################################################
# Trigger: S3 → EventBridge → state machine
################################################################################

variable "enable_s3_trigger" {
  description = "Start a resize for every object created in the originals bucket (EventBridge rule and target)."
  type        = bool
  default     = true
}

variable "source_prefix" {
  description = "Only keys starting with this prefix trigger a resize, and the function may only read keys under it (\"\": the whole bucket). Limited to characters S3 events do not URL-encode."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9/._-]*$", var.source_prefix)) && !startswith(var.source_prefix, "/")
    error_message = "source_prefix may contain only letters, digits, '/', '.', '_' and '-', and must not start with '/'."
  }
}

variable "source_suffixes" {
  description = "Only keys ending with one of these suffixes trigger a resize (e.g. [\".jpg\", \".png\"]; case-sensitive; []: any key)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.source_suffixes : can(regex("^[A-Za-z0-9._-]+$", s))])
    error_message = "Each suffix must be non-empty and contain only letters, digits, '.', '_' and '-'."
  }
}

variable "eventbridge_maximum_event_age_in_seconds" {
  description = "How long EventBridge keeps retrying delivery of an event to the state machine, in seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.eventbridge_maximum_event_age_in_seconds >= 60 && var.eventbridge_maximum_event_age_in_seconds <= 86400
    error_message = "eventbridge_maximum_event_age_in_seconds must be between 60 and 86400."
  }
}

variable "eventbridge_maximum_retry_attempts" {
  description = "How many times EventBridge retries delivery of an event to the state machine."
  type        = number
  default     = 10

  validation {
    condition     = var.eventbridge_maximum_retry_attempts >= 0 && var.eventbridge_maximum_retry_attempts <= 185
    error_message = "eventbridge_maximum_retry_attempts must be between 0 and 185."
  }
}

variable "create_eventbridge_dlq" {
  description = "Create an SQS dead-letter queue for events EventBridge could not deliver (uploads; with enable_delete_sync, deletions too) and for deletions whose function call failed every attempt."
  type        = bool
  default     = true
}

################################################################################
# Lambda
################################################################################

variable "lambda_zip_path" {
  description = "Path of the function's zip on the machine running Terraform: a released imgresize-<version>-<arch>.zip (make release) or cargo-lambda's target/lambda/imgresize-lambda/bootstrap.zip. Set this, or lambda_s3_bucket and lambda_s3_key."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_zip_path == null || endswith(coalesce(var.lambda_zip_path, "x.zip"), ".zip")
    error_message = "lambda_zip_path must name a .zip file."
  }
}

variable "lambda_s3_bucket" {
  description = "Bucket holding the function's zip, in the deployment's region (instead of lambda_zip_path)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_s3_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.lambda_s3_bucket))
    error_message = "lambda_s3_bucket must be a valid S3 bucket name."
  }
}

variable "lambda_s3_key" {
  description = "Key of the function's zip in lambda_s3_bucket, e.g. \"imgresize/imgresize-0.1.0-arm64.zip\"."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_s3_key == null || endswith(coalesce(var.lambda_s3_key, "x.zip"), ".zip")
    error_message = "lambda_s3_key must name a .zip object."
  }
}

variable "lambda_s3_object_version" {
  description = "Object version of the zip in a versioned lambda_s3_bucket (null: the current object). A new version redeploys the function."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_s3_object_version == null || length(coalesce(var.lambda_s3_object_version, "x")) > 0
    error_message = "lambda_s3_object_version must be a non-empty version ID or null."
  }
}

variable "lambda_source_code_hash" {
  description = "Base64-encoded SHA-256 of the zip in S3 (openssl dgst -sha256 -binary ZIP | base64), so that a new zip under the same key redeploys the function (null: only key or version changes redeploy)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_source_code_hash == null || can(regex("^[A-Za-z0-9+/]{43}=$", var.lambda_source_code_hash))
    error_message = "lambda_source_code_hash must be a base64-encoded SHA-256 (44 characters ending in '=')."
  }
}

variable "architectures" {
  description = "Instruction set of the function: [\"arm64\"] (Graviton, cheaper) or [\"x86_64\"]. Must match the zip."
  type        = list(string)
  default     = ["arm64"]

  validation {
    condition     = length(var.architectures) == 1 && alltrue([for a in var.architectures : contains(["arm64", "x86_64"], a)])
    error_message = "architectures must be [\"arm64\"] or [\"x86_64\"]."
  }
}

variable "memory_size" {
  description = "Memory of the function in MB, which also sets its CPU share. 1769 MB is one full vCPU: one output is made on one thread and is CPU-bound, so below it the resize takes longer as memory shrinks (its cost stays about the same) while the S3 waits, billed per GB-second too, get cheaper; above it a single output gets no faster, while several renditions run in parallel on the extra vCPUs (one per 1769 MB). `make cost` prints the figures. Peak RSS measured 16 MB for a 12 MP JPEG and 0.5 GB for a 60 MP RGBA PNG (the default pixel budget)."
  type        = number
  default     = 1769

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB between 128 and 10240."
  }
}

variable "timeout" {
  description = "Timeout of one invocation of the function, in seconds. With workflow_type = \"EXPRESS\" and the API, at most 25 are used: the execution must end within API Gateway's 29 s."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds between 1 and 900."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency of the function (caps parallel resizes and reserves that capacity); null: unreserved."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 0 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions, false)
    error_message = "reserved_concurrent_executions must be a whole number >= 0, or null."
  }
}

variable "dest_prefix" {
  description = "DEST_PREFIX: prefix of every key written to the resized bucket; the function may write only under it."
  type        = string
  default     = "output/"

  validation {
    condition     = !startswith(var.dest_prefix, "/") && !strcontains(var.dest_prefix, "*")
    error_message = "dest_prefix must not start with '/' or contain '*'."
  }
}

variable "dest_key_pattern" {
  description = "DEST_KEY_PATTERN: destination key after the prefix; placeholders {dir} (the source key's folder, with its '/'), {stem}, {ext}, {size}, {name} (the rendition's; the default one is named resized, so the default gives output/b_resized.jpg). Without {dir}, a/cat.jpg and b/cat.jpg share one output."
  type        = string
  default     = "{dir}{stem}_{name}.{ext}"

  validation {
    condition     = strcontains(var.dest_key_pattern, "{stem}") && strcontains(var.dest_key_pattern, "{ext}")
    error_message = "dest_key_pattern must contain {stem} and {ext}."
  }
}

variable "default_size" {
  description = "Longest edge in pixels of the output: the `size` EventBridge sends for every uploaded object, and DEFAULT_SIZE for API requests without one."
  type        = number
  default     = 1000

  validation {
    condition     = var.default_size >= 1 && var.default_size <= 10000 && floor(var.default_size) == var.default_size
    error_message = "default_size must be a whole number of pixels between 1 and 10000."
  }
}

variable "renditions" {
  description = "RENDITIONS: every output an upload becomes, made from one decode and written all or nothing (CONTRACT.md). null (the default) keeps the single output of default_size in the input's format, named resized. Each: name (a-z, 0-9, - and _; used by {name} in dest_key_pattern), a box (size = longest edge, or width and/or height), fit (inside: never enlarged; cover: fill the box and crop; contain: fit and pad), gravity for cover/contain (centre, north, northeast, east, southeast, south, southwest, west, northwest; cover also attention or entropy), formats (same, jpeg, png, webp, avif), quality, background for contain (#rrggbb or #rrggbbaa). With renditions set, uploads make these; a POST with size or format still makes one output."
  type = list(object({
    name       = string
    size       = optional(number)
    width      = optional(number)
    height     = optional(number)
    fit        = optional(string, "inside")
    gravity    = optional(string, "centre")
    formats    = optional(list(string), ["same"])
    quality    = optional(number)
    background = optional(string)
  }))
  default = null

  validation {
    condition     = var.renditions == null || try(length(var.renditions) >= 1 && length(var.renditions) <= 10, false)
    error_message = "renditions must hold 1 to 10 renditions (or be null for the single default output)."
  }
  validation {
    condition = var.renditions == null || try(alltrue([
      for r in var.renditions : can(regex("^[a-z0-9_-]{1,32}$", r.name))
    ]) && length(distinct([for r in var.renditions : r.name])) == length(var.renditions), false)
    error_message = "renditions: every name must be 1 to 32 of a-z, 0-9, - and _, and names must be distinct."
  }
  validation {
    condition = var.renditions == null || try(alltrue([
      for r in var.renditions : alltrue([
        for edge in [r.size, r.width, r.height] : edge == null ? true : edge >= 1 && edge <= 10000 && floor(edge) == edge
      ]) && (r.size != null ? r.width == null && r.height == null : r.width != null || r.height != null)
    ]), false)
    error_message = "renditions: give each a size, or a width and/or height, in whole pixels from 1 to 10000."
  }
  validation {
    condition = var.renditions == null || try(alltrue([
      for r in var.renditions : contains(["inside", "cover", "contain"], r.fit) && (r.fit == "inside" || r.size != null || (r.width != null && r.height != null))
    ]), false)
    error_message = "renditions: fit must be inside, cover or contain; cover and contain need a size, or a width and a height."
  }
  validation {
    condition = var.renditions == null || try(alltrue([
      for r in var.renditions : (
        r.fit == "inside" ? r.gravity == "centre" :
        r.fit == "contain" ? contains(["centre", "north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest"], r.gravity) :
        contains(["centre", "north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest", "attention", "entropy"], r.gravity)
      ) && (r.background == null || (r.fit == "contain" && can(regex("^#([0-9a-fA-F]{6}|[0-9a-fA-F]{8})$", r.background))))
    ]), false)
    error_message = "renditions: gravity applies to cover (centre, the eight edges and corners, attention, entropy) and contain (centre, edges, corners); background (#rrggbb or #rrggbbaa) to contain only."
  }
  validation {
    condition = var.renditions == null || try(alltrue([
      for r in var.renditions : length(r.formats) >= 1 && length(r.formats) <= 4 && length(distinct(r.formats)) == length(r.formats) && alltrue([
        for f in r.formats : contains(["same", "jpeg", "png", "webp", "avif"], f)
      ]) && (r.quality == null ? true : r.quality >= 1 && r.quality <= 100 && floor(r.quality) == r.quality)
    ]), false)
    error_message = "renditions: formats must be 1 to 4 distinct of same, jpeg, png, webp, avif; quality a whole number from 1 to 100."
  }
}

variable "quality" {
  description = "QUALITY: JPEG/WebP/AVIF quality when a request has none."
  type        = number
  default     = 82

  validation {
    condition     = var.quality >= 1 && var.quality <= 100 && floor(var.quality) == var.quality
    error_message = "quality must be a whole number between 1 and 100."
  }
}

variable "color" {
  description = "COLOR: what outputs say about colour when a request has no `color`. \"srgb\" converts pixels from the input's ICC profile to sRGB and writes no profile (what browsers assume); \"keep\" embeds the input's RGB or gray profile untouched (CMYK inputs are always converted)."
  type        = string
  default     = "srgb"

  validation {
    condition     = contains(["srgb", "keep"], var.color)
    error_message = "color must be \"srgb\" or \"keep\"."
  }
}

variable "avif_time_budget_ms" {
  description = "AVIF_TIME_BUDGET_MS: what one AVIF encode may take, by the encoder's cost per megapixel at the chosen speed (measured, times 2, and times 3 more for qualities of 89 and up). rav1e cannot be stopped mid-image, so its speed is chosen from the output's pixel count to fit this before it starts, and an AVIF too large for it even at the fastest speed is refused (IMAGE_TOO_LARGE). Keep it well below timeout; raise it for a memory_size under 1769 MB (a fraction of a vCPU)."
  type        = number
  default     = 10000

  validation {
    condition     = var.avif_time_budget_ms >= 1 && var.avif_time_budget_ms <= 900000 && floor(var.avif_time_budget_ms) == var.avif_time_budget_ms
    error_message = "avif_time_budget_ms must be a whole number of milliseconds between 1 and 900000."
  }
}

variable "max_input_bytes" {
  description = "MAX_INPUT_BYTES: larger objects are rejected (INPUT_TOO_LARGE) before download."
  type        = number
  default     = 52428800

  validation {
    condition     = var.max_input_bytes >= 1 && floor(var.max_input_bytes) == var.max_input_bytes
    error_message = "max_input_bytes must be a whole number of bytes, at least 1."
  }
}

variable "max_pixels" {
  description = "MAX_PIXELS: images with more pixels (width x height) are rejected (IMAGE_TOO_LARGE) from their header."
  type        = number
  default     = 60000000

  validation {
    condition     = var.max_pixels >= 1 && floor(var.max_pixels) == var.max_pixels
    error_message = "max_pixels must be a whole number, at least 1."
  }
}

variable "cache_control" {
  description = "CACHE_CONTROL: Cache-Control header written on every output object (null: none)."
  type        = string
  default     = null

  validation {
    condition     = var.cache_control == null || length(coalesce(var.cache_control, "x")) > 0
    error_message = "cache_control must be a non-empty string or null."
  }
}

variable "log_level" {
  description = "RUST_LOG: the function's log filter."
  type        = string
  default     = "info"

  validation {
    condition     = length(var.log_level) > 0
    error_message = "log_level must not be empty (e.g. \"info\", \"debug\", \"imgresize=debug,info\")."
  }
}

################################################################################
# Step Functions
################################################################################

variable "retry_interval_seconds" {
  description = "Seconds before the first retry of a failed invocation (Lambda service errors and TransientError)."
  type        = number
  default     = 2

  validation {
    condition     = var.retry_interval_seconds >= 1 && var.retry_interval_seconds <= 3600 && floor(var.retry_interval_seconds) == var.retry_interval_seconds
    error_message = "retry_interval_seconds must be a whole number between 1 and 3600."
  }
}

variable "retry_max_attempts" {
  description = "Retries of a failed invocation before the execution fails through its Catch."
  type        = number
  default     = 4

  validation {
    condition     = var.retry_max_attempts >= 0 && var.retry_max_attempts <= 20 && floor(var.retry_max_attempts) == var.retry_max_attempts
    error_message = "retry_max_attempts must be a whole number between 0 and 20."
  }
}

variable "retry_backoff_rate" {
  description = "Multiplier of the retry interval after each attempt (exponential backoff; full jitter is applied)."
  type        = number
  default     = 2

  validation {
    condition     = var.retry_backoff_rate >= 1 && var.retry_backoff_rate <= 10
    error_message = "retry_backoff_rate must be between 1 and 10."
  }
}

variable "retry_max_delay_seconds" {
  description = "Upper bound of any retry interval, in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.retry_max_delay_seconds >= 1 && var.retry_max_delay_seconds <= 31622400 && floor(var.retry_max_delay_seconds) == var.retry_max_delay_seconds
    error_message = "retry_max_delay_seconds must be a whole number of seconds, at least 1."
  }
}

variable "workflow_type" {
  description = "Step Functions workflow type. STANDARD: billed per state transition (about 25 USD per million transitions, four per image), execution history kept 90 days, POST /resize answers at once with an executionArn to poll at GET /executions/{id}. EXPRESS: billed per request and duration (about 1 USD per million plus a little), no history beyond the logs (sfn_log_level must not be OFF), at-least-once when EventBridge starts it (the function is idempotent), and POST /resize answers with the function's result itself (StartSyncExecution, within API Gateway's 29 s: the execution is cut at 28 s); GET /executions/{id} does not exist."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "EXPRESS"], var.workflow_type)
    error_message = "workflow_type must be \"STANDARD\" or \"EXPRESS\"."
  }
}

variable "sfn_log_level" {
  description = "Step Functions execution log level: ALL, ERROR, FATAL or OFF."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.sfn_log_level)
    error_message = "sfn_log_level must be ALL, ERROR, FATAL or OFF."
  }
}

variable "sfn_include_execution_data" {
  description = "Include execution input/output (bucket names, keys, the function's answers) in the Step Functions logs."
  type        = bool
  default     = true
}

################################################################################
# API Gateway
################################################################################

variable "create_api" {
  description = "Create the REST API (POST /resize, GET /executions/{id})."
  type        = bool
  default     = true
}

variable "api_authorization" {
  description = "How callers authenticate: AWS_IAM (SigV4, default), API_KEY (x-api-key header; a usage plan and key are created) or NONE (open to the internet)."
  type        = string
  default     = "AWS_IAM"

  validation {
    condition     = contains(["AWS_IAM", "API_KEY", "NONE"], var.api_authorization)
    error_message = "api_authorization must be AWS_IAM, API_KEY or NONE."
  }
}

variable "api_stage_name" {
  description = "Name of the API stage (the first path segment of the invoke URL)."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.api_stage_name))
    error_message = "api_stage_name must be 1-128 letters, digits, '_' or '-'."
  }
}

variable "api_throttling_rate_limit" {
  description = "Steady-state requests per second allowed on every method of the stage (and in the API_KEY usage plan)."
  type        = number
  default     = 10

  validation {
    condition     = var.api_throttling_rate_limit > 0
    error_message = "api_throttling_rate_limit must be positive."
  }
}

variable "api_throttling_burst_limit" {
  description = "Burst of requests allowed on every method of the stage (and in the API_KEY usage plan)."
  type        = number
  default     = 20

  validation {
    condition     = var.api_throttling_burst_limit >= 1 && floor(var.api_throttling_burst_limit) == var.api_throttling_burst_limit
    error_message = "api_throttling_burst_limit must be a whole number, at least 1."
  }
}

variable "api_quota_limit" {
  description = "With API_KEY: requests allowed per api_quota_period for the key (null: no quota)."
  type        = number
  default     = null

  validation {
    condition     = var.api_quota_limit == null || try(var.api_quota_limit >= 1 && floor(var.api_quota_limit) == var.api_quota_limit, false)
    error_message = "api_quota_limit must be a whole number, at least 1, or null."
  }
}

variable "api_quota_period" {
  description = "With API_KEY and api_quota_limit: the quota period, DAY, WEEK or MONTH."
  type        = string
  default     = "DAY"

  validation {
    condition     = contains(["DAY", "WEEK", "MONTH"], var.api_quota_period)
    error_message = "api_quota_period must be DAY, WEEK or MONTH."
  }
}

variable "enable_api_logging" {
  description = "Access logs and execution logs (api_execution_logging_level) of the API stage. They need the region's API Gateway account setting, a CloudWatch Logs role, set once per account and region: without it creating the stage fails. null (the default): on only when this module sets that role (create_api_gateway_cloudwatch_role); set true when it is already set in the account."
  type        = bool
  default     = null
}

variable "api_execution_logging_level" {
  description = "API Gateway execution logging when enable_api_logging is on: OFF, ERROR or INFO."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.api_execution_logging_level)
    error_message = "api_execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "create_api_gateway_cloudwatch_role" {
  description = "Create a role for API Gateway to write logs and set it in the region's API Gateway account settings (aws_api_gateway_account). That setting is one per account and region, shared by every API there: this replaces whatever another stack set, and on provider 6.x destroying it clears the setting for all of them. Leave false unless this stack is the one that owns it (see the README)."
  type        = bool
  default     = false
}

variable "api_waf_web_acl_arn" {
  description = "ARN of a regional WAFv2 web ACL to associate with the API stage (null: none)."
  type        = string
  default     = null

  validation {
    condition     = var.api_waf_web_acl_arn == null || can(regex("^arn:[a-z-]+:wafv2:[a-z0-9-]+:[0-9]{12}:regional/webacl/.+$", var.api_waf_web_acl_arn))
    error_message = "api_waf_web_acl_arn must be a regional WAFv2 web ACL ARN."
  }
}

################################################################################
# Logs and alarms
################################################################################

variable "log_retention_days" {
  description = "Retention of the function's, the state machine's and the API's log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' retention values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "cloudwatch_logs_kms_key_arn" {
  description = "KMS key ARN encrypting the module's log groups (its key policy must allow CloudWatch Logs); null: CloudWatch Logs' default encryption."
  type        = string
  default     = null

  validation {
    condition     = var.cloudwatch_logs_kms_key_arn == null || can(regex("^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.cloudwatch_logs_kms_key_arn))
    error_message = "cloudwatch_logs_kms_key_arn must be a KMS key ARN."
  }
}

variable "create_alarms" {
  description = "Create CloudWatch alarms on failed executions, Lambda errors and EventBridge dead letters."
  type        = bool
  default     = true
}

variable "alarm_executions_failed_threshold" {
  description = "Failed executions (rejected images included) per 5 minutes that raise the alarm."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_executions_failed_threshold >= 1
    error_message = "alarm_executions_failed_threshold must be at least 1."
  }
}

variable "alarm_lambda_errors_threshold" {
  description = "Lambda errors per 5 minutes that raise the alarm."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_lambda_errors_threshold >= 1
    error_message = "alarm_lambda_errors_threshold must be at least 1."
  }
}

variable "alarm_actions" {
  description = "ARNs (e.g. existing SNS topics) notified when an alarm changes state, in addition to the topic from create_sns_topic."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.alarm_actions : startswith(a, "arn:")])
    error_message = "alarm_actions must be ARNs."
  }
}

variable "create_sns_topic" {
  description = "Create an SNS topic the alarms notify (also created when alarm_email_addresses is not empty)."
  type        = bool
  default     = false
}

variable "alarm_email_addresses" {
  description = "E-mail addresses notified by the alarms: an SNS topic is created for them and each address must confirm its subscription. Needs create_alarms = true."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_email_addresses must be e-mail addresses."
  }
}

variable "sns_kms_master_key_id" {
  description = "KMS key (ID, ARN or alias) encrypting the created SNS topic; it must be a customer managed key whose policy allows CloudWatch (null: unencrypted)."
  type        = string
  default     = null

  validation {
    condition     = var.sns_kms_master_key_id == null || length(coalesce(var.sns_kms_master_key_id, "x")) > 0
    error_message = "sns_kms_master_key_id must be a non-empty string or null."
  }
}

################################################################################
# Backfill (backfill.tf)
################################################################################

variable "enable_backfill" {
  description = "Create the backfill state machine: a Distributed Map that resizes every object already under source_prefix in the originals bucket (started by scripts/backfill.sh). Objects whose outputs are current are skipped."
  type        = bool
  default     = true
}

variable "backfill_max_concurrency" {
  description = "Child executions the backfill runs at once (Distributed Map MaxConcurrency), each one Lambda invocation. Keep it below the function's available concurrency (reserved_concurrent_executions, or the account's unreserved share) minus what uploads need."
  type        = number
  default     = 100

  validation {
    condition     = var.backfill_max_concurrency >= 1 && var.backfill_max_concurrency <= 10000 && floor(var.backfill_max_concurrency) == var.backfill_max_concurrency
    error_message = "backfill_max_concurrency must be a whole number from 1 to 10000 (Distributed Map's limit of parallel child executions)."
  }
}

variable "backfill_tolerated_failure_percentage" {
  description = "Percentage of objects whose child execution may fail (after the function's retries) before the backfill run fails. Rejected images (ok = false: corrupt, unsupported, too large) are successful children and do not count."
  type        = number
  default     = 5

  validation {
    condition     = var.backfill_tolerated_failure_percentage >= 0 && var.backfill_tolerated_failure_percentage <= 100
    error_message = "backfill_tolerated_failure_percentage must be from 0 to 100."
  }
}

variable "backfill_child_execution_type" {
  description = "Workflow type of the backfill's child executions: EXPRESS (cheaper per object, at most 5 minutes each) or STANDARD."
  type        = string
  default     = "EXPRESS"

  validation {
    condition     = contains(["EXPRESS", "STANDARD"], var.backfill_child_execution_type)
    error_message = "backfill_child_execution_type must be EXPRESS or STANDARD."
  }
}

variable "backfill_results_prefix" {
  description = "Prefix in the resized bucket under which the backfill writes its children's results (Distributed Map ResultWriter: a manifest and JSON files, read by scripts/backfill.sh to print the summary). Empty: results stay in the execution's output, which only fits small runs (256 KiB)."
  type        = string
  default     = "backfill-results/"

  validation {
    condition     = var.backfill_results_prefix == "" || (endswith(var.backfill_results_prefix, "/") && !startswith(var.backfill_results_prefix, "/") && length(var.backfill_results_prefix) <= 256)
    error_message = "backfill_results_prefix must be empty or end with \"/\" (not start with it), at most 256 characters."
  }
}

################################################################################
# Completion events (stepfunctions.tf, templates/completion_events.asl.part)
################################################################################

variable "enable_completion_events" {
  description = "Publish an EventBridge event when an image is resized (detail-type \"Image Resized\") or rejected (\"Image Rejected\"), the function's answer as the detail (see lambda/CONTRACT.md). Off: the state machine has no publishing states at all (no extra state transitions)."
  type        = bool
  default     = true
}

variable "completion_events_bus_name" {
  description = "Name of the event bus the completion events go to (in this account and region): \"default\", or a custom bus created elsewhere. The state machine may publish to this bus only."
  type        = string
  default     = "default"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,256}$", var.completion_events_bus_name))
    error_message = "completion_events_bus_name must be an event bus name (1-256 letters, digits, \".\", \"_\" or \"-\"), not an ARN."
  }
}

variable "completion_events_source" {
  description = "The events' `source` field. null: var.name. Rules match on it, so keep it stable once consumers exist."
  type        = string
  default     = null

  validation {
    condition     = var.completion_events_source == null || can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$", coalesce(var.completion_events_source, "x")))
    error_message = "completion_events_source must be null or 1-256 letters, digits, \".\", \"_\", \"/\" or \"-\", starting with a letter or digit."
  }

  validation {
    condition     = var.completion_events_source == null || !startswith(lower(coalesce(var.completion_events_source, "x")), "aws.")
    error_message = "completion_events_source must not start with \"aws.\": EventBridge reserves those sources for AWS services."
  }
}

################################################################################
# Delete sync (eventbridge.tf, lambda/src/delete.rs)
################################################################################

variable "enable_delete_sync" {
  description = "Delete an original's outputs when the original is deleted: an EventBridge rule on S3 \"Object Deleted\" events of the originals bucket (under source_prefix/source_suffixes) invokes the function, which deletes exactly the outputs whose metadata names that original, after checking it is still absent. Needs EventBridge delivery on the bucket (as the upload trigger does)."
  type        = bool
  default     = false
}

variable "delete_sync_lifecycle_expiration" {
  description = "With enable_delete_sync: also follow deletions by S3 Lifecycle expiration (reason \"Lifecycle Expiration\"), not only deletions by a caller (reason \"DeleteObject\", which on a versioned bucket includes creating a delete marker)."
  type        = bool
  default     = false
}
