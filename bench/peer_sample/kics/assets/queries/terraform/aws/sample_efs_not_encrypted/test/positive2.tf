module "efs" {
  source    = "terraform-aws-modules/efs/aws"
  version   = "~> 1.0"
  encrypted = false
}
