output "originals_bucket_name" {
  description = "Upload images here, under source_prefix."
  value       = module.imgresize.originals_bucket_name
}

output "resized_bucket_name" {
  description = "Resized images appear here, under dest_prefix."
  value       = module.imgresize.resized_bucket_name
}

output "bucket_notification_managed" {
  description = "false: turn on EventBridge delivery for the originals bucket yourself (module README, \"Existing buckets\")."
  value       = module.imgresize.bucket_notification_managed
}

output "key_layout" {
  description = "Where uploads are picked up and where their outputs are written (read by scripts/smoke.sh)."
  value       = module.imgresize.key_layout
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
  description = "POST /resize URL (SigV4)."
  value       = module.imgresize.api_resize_url
}

output "api_executions_url" {
  description = "GET this URL + the execution name to see the result of a POST."
  value       = module.imgresize.api_executions_url
}

output "backfill_state_machine_arn" {
  description = "The backfill state machine: scripts/backfill.sh (run where this stack was applied) starts it and prints the summary."
  value       = module.imgresize.backfill_state_machine_arn
}

output "api_backfill_url" {
  description = "POST {} here, signed with SigV4 (service execute-api), to start a backfill run."
  value       = module.imgresize.api_backfill_url
}
