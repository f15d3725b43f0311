# Sample values: copy, edit, then `terraform init && terraform apply`.
region       = "us-east-1"
name         = "imgresize"
architecture = "arm64"
memory_size  = 1769
default_size = 1000
# EXPRESS: the cheap option (README: What it costs); POST /resize then answers with the result itself.
workflow_type = "STANDARD"

cache_control           = "public, max-age=31536000, immutable"
force_destroy           = true
resized_expiration_days = 90
source_suffixes         = []

api_authorization = "AWS_IAM"
# API logs need the region's API Gateway CloudWatch role; uncomment when it is set in the account.
# enable_api_logging = true

alarm_email_addresses = []
log_retention_days    = 30
