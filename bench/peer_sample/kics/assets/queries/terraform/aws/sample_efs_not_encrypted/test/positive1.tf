resource "aws_efs_file_system" "missing" {
  creation_token = "missing"
}

resource "aws_efs_file_system" "off" {
  creation_token = "off"
  encrypted      = false
}

resource "aws_efs_file_system" "on" {
  creation_token = "on"
  encrypted      = true
}
