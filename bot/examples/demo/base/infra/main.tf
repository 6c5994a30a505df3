provider "aws" {
  region = "eu-west-1"
}

# An old volume: unencrypted, but this pull request does not touch it, so it is not reported.
resource "aws_ebs_volume" "legacy" {
  availability_zone = "eu-west-1a"
  size              = 20
}

resource "aws_cloudwatch_log_group" "audit" {
  name              = "/app/audit"
  retention_in_days = 365
}
