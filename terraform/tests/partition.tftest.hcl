# Another partition (AWS China): ARNs follow the partition, service principals do not.

provider "aws" {
  region = "cn-north-1"
}

variables {
  lambda_s3_bucket             = "artifacts"
  lambda_s3_key                = "imgresize/imgresize-0.1.0-arm64.zip"
  existing_bucket_kms_key_arns = ["arn:aws-cn:kms:cn-north-1:123456789012:key/11111111-2222-3333-4444-555555555555"]
}

run "china" {
  command = plan

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.lambda_assume.json).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "lambda's principal is lambda.amazonaws.com in aws-cn too (lambda.amazonaws.com.cn does not exist)."
  }

  # Statements rather than rendered JSON where a policy names an ARN known only after apply.
  assert {
    condition = alltrue([
      for p in data.aws_iam_policy_document.events_assume[0].statement[0].principals : contains(p.identifiers, "events.amazonaws.com") && length(p.identifiers) == 1
    ])
    error_message = "events' principal is events.amazonaws.com in aws-cn too."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.lambda.statement :
      s.sid == "BucketKeysThroughS3" && anytrue([
        for c in s.condition : c.variable == "kms:ViaService" && contains(c.values, "s3.cn-north-1.amazonaws.com.cn")
      ])
    ])
    error_message = "kms:ViaService names S3's endpoint in the partition's DNS suffix."
  }

  assert {
    condition     = startswith(aws_api_gateway_integration.resize_post[0].uri, "arn:aws-cn:apigateway:cn-north-1:states:action/")
    error_message = "The API's integration URI is in the partition and region."
  }
}
