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
