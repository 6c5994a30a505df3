resource "aws_efs_file_system" "encrypted" {
  creation_token = "encrypted"
  encrypted      = true
}
