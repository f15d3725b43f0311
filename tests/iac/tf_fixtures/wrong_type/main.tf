# Must fail: memory_size is a number, this is a string that is not one.
resource "aws_lambda_function" "this" {
  function_name = "imgresize"
  role          = "arn:aws:iam::123456789012:role/imgresize"
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  filename      = "bootstrap.zip"
  memory_size   = "a lot"
}
