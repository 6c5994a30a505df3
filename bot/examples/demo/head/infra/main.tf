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
  retention_in_days = 30
}

resource "aws_ebs_volume" "customer_data" {
  availability_zone = "eu-west-1a"
  size              = 100
  encrypted         = false
}

resource "aws_security_group" "bastion" {
  name = "bastion"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_db_instance" "orders" {
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  publicly_accessible = true
  storage_encrypted   = true
}
