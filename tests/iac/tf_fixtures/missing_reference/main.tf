# Must fail: the role this function refers to is not declared anywhere.
resource "aws_lambda_function" "this" {
  function_name = "imgresize"
  role          = aws_iam_role.lambda.arn
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  filename      = "bootstrap.zip"
}
