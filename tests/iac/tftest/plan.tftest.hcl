# `terraform test` of the module (command = plan, against the aws provider stub). terraform.py copies
# this folder into the module's copy as tests/, beside any terraform/tests/*.tftest.hcl of the module.

run "defaults" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.runtime == "provided.al2023"
    error_message = "The function runs on the provided.al2023 custom runtime."
  }

  assert {
    condition     = jsondecode(aws_iam_role.lambda.assume_role_policy).Statement[0].Principal.Service == "lambda.amazonaws.com"
    error_message = "Only Lambda may assume the function's role."
  }
}

run "memory_size_out_of_range" {
  command = plan

  variables {
    memory_size = 64
  }

  expect_failures = [var.memory_size]
}
