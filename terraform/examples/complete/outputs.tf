output "originals_bucket_name" {
  description = "Upload images here (aws s3 cp photo.jpg s3://BUCKET/)."
  value       = module.imgresize.originals_bucket_name
}

output "resized_bucket_name" {
  description = "Resized images appear here, under output/."
  value       = module.imgresize.resized_bucket_name
}

output "state_machine_arn" {
  description = "ARN of the state machine."
  value       = module.imgresize.state_machine_arn
}

output "lambda_function_name" {
  description = "Name of the resize function."
  value       = module.imgresize.lambda_function_name
}

output "api_resize_url" {
  description = "POST {\"key\": \"...\", \"size\": 1000} here, signed with SigV4 (service execute-api)."
  value       = module.imgresize.api_resize_url
}

output "api_execution_arn" {
  description = "Execution ARN of the API, for execute-api:Invoke policies of callers."
  value       = module.imgresize.api_execution_arn
}

output "api_executions_url" {
  description = "GET this URL + the execution name to see the result of a POST."
  value       = module.imgresize.api_executions_url
}

output "api_key_value" {
  description = "API key (api_authorization = API_KEY): terraform output -raw api_key_value."
  value       = module.imgresize.api_key_value
  sensitive   = true
}

output "log_group_names" {
  description = "Log groups of the function, the state machine and the API."
  value = {
    lambda        = module.imgresize.lambda_log_group_name
    state_machine = module.imgresize.state_machine_log_group_name
    api_access    = module.imgresize.api_access_log_group_name
  }
}

output "key_layout" {
  description = "Where uploads are picked up and where their outputs are written (read by scripts/smoke.sh)."
  value       = module.imgresize.key_layout
}

output "workflow_type" {
  description = "STANDARD or EXPRESS: set the Postman collection's workflowType to it."
  value       = module.imgresize.workflow_type
}

output "backfill_state_machine_arn" {
  description = "The backfill state machine: scripts/backfill.sh (run where this stack was applied) starts it and prints the summary."
  value       = module.imgresize.backfill_state_machine_arn
}

output "api_backfill_url" {
  description = "POST {} here, signed with SigV4 (service execute-api), to start a backfill run."
  value       = module.imgresize.api_backfill_url
}
