terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.26, < 7.0"
    }
  }
}

# Another partition: AWS China. The stub provider used by the offline checks answers
# data.aws_partition with aws-cn / amazonaws.com.cn for cn-* regions, as the real provider does.
provider "aws" {
  region = "cn-north-1"
}
