terraform {
  required_version = ">= 1.5"

  required_providers {
    # 5.26.0 is the first release that accepts runtime = "provided.al2023" (hashicorp/terraform-provider-aws
    # issue 34360); tests/iac checks every resource and argument against that release's schema too.
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.26, < 7.0"
    }
  }
}
