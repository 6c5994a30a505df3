variable "encrypted" {
  type = bool
}

resource "aws_efs_file_system" "enabled" {
  creation_token = "enabled"
  encrypted      = true
}

resource "aws_efs_file_system" "kms_only" {
  creation_token = "kms-only"
  kms_key_id     = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

resource "aws_efs_file_system" "default" {
  creation_token = "default"
}

resource "aws_efs_file_system" "disabled" {
  creation_token = "disabled"
  encrypted      = false
}

resource "aws_efs_file_system" "unknown" {
  creation_token = "unknown"
  encrypted      = var.encrypted
}

resource "aws_efs_access_point" "root" {
  file_system_id = aws_efs_file_system.enabled.id
}
