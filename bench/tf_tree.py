"""A generated Terraform repository shaped like real ones, for benchmarks that must not ship real code.

    generate(root, files=120) -> list of the paths written
    change(root) -> the 3 paths a typical pull request edits

Layout (as in many company repositories): reusable modules under `modules/NAME/` (`main.tf`,
`variables.tf`, `outputs.tf`), and per environment and stack a root module under
`live/ENV/STACK/` (`main.tf` calling the modules by local source, `variables.tf`,
`providers.tf` with default tags). Resources are the common AWS types (VPC, subnets, security
groups, S3, RDS, EBS, KMS, CloudWatch logs, IAM, SQS, SNS, ALB, EKS, ElastiCache), and about one
stack in four passes an input that makes a finding (unencrypted storage, an open port, short log
retention), so both tools have something to report. Deterministic: the same `files` gives the
same tree, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

ENVIRONMENTS = ("dev", "staging", "prod")
MIN_FILES = 36  # the modules and the first two stacks: what `change` edits

MODULES: dict[str, tuple[str, str, str]] = {
    "network": (
        '''resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "private" {
  count             = length(var.private_subnets)
  vpc_id            = aws_vpc.this.id
  cidr_block        = var.private_subnets[count.index]
  availability_zone = var.azs[count.index]
  tags              = var.tags
}

resource "aws_flow_log" "this" {
  count           = var.flow_logs ? 1 : 0
  vpc_id          = aws_vpc.this.id
  traffic_type    = "ALL"
  log_destination = aws_cloudwatch_log_group.flow.arn
  iam_role_arn    = var.flow_log_role_arn
}

resource "aws_cloudwatch_log_group" "flow" {
  name              = "/vpc/${var.name}/flow"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}
''',
        '''variable "name" {
  type = string
}

variable "cidr" {
  type    = string
  default = "10.0.0.0/16"
}

variable "azs" {
  type    = list(string)
  default = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

variable "private_subnets" {
  type    = list(string)
  default = ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]
}

variable "flow_logs" {
  type    = bool
  default = true
}

variable "flow_log_role_arn" {
  type    = string
  default = null
}

variable "log_retention_days" {
  type    = number
  default = 365
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "tags" {
  type    = map(string)
  default = {}
}
''',
        '''output "vpc_id" {
  value = aws_vpc.this.id
}

output "private_subnet_ids" {
  value = aws_subnet.private[*].id
}
''',
    ),
    "firewall": (
        '''resource "aws_security_group" "this" {
  name        = var.name
  description = "Managed by Terraform"
  vpc_id      = var.vpc_id

  ingress {
    description = "service port"
    from_port   = var.port
    to_port     = var.port
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidrs
  }

  egress {
    description = "all outbound"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = var.tags
}
''',
        '''variable "name" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "port" {
  type    = number
  default = 443
}

variable "allowed_cidrs" {
  type    = list(string)
  default = ["10.0.0.0/8"]
}

variable "tags" {
  type    = map(string)
  default = {}
}
''',
        '''output "id" {
  value = aws_security_group.this.id
}
''',
    ),
    "bucket": (
        '''resource "aws_s3_bucket" "this" {
  bucket = var.name
  tags   = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = var.block_public
  block_public_policy     = var.block_public
  ignore_public_acls      = var.block_public
  restrict_public_buckets = var.block_public
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}
''',
        '''variable "name" {
  type = string
}

variable "block_public" {
  type    = bool
  default = true
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "tags" {
  type    = map(string)
  default = {}
}
''',
        '''output "arn" {
  value = aws_s3_bucket.this.arn
}
''',
    ),
    "database": (
        '''resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.subnet_ids
}

resource "aws_db_instance" "this" {
  identifier              = var.name
  engine                  = "postgres"
  engine_version          = "15.4"
  instance_class          = var.instance_class
  allocated_storage       = 50
  storage_encrypted       = var.encrypted
  kms_key_id              = var.kms_key_arn
  publicly_accessible     = var.public
  backup_retention_period = var.backup_days
  db_subnet_group_name    = aws_db_subnet_group.this.name
  vpc_security_group_ids  = var.security_group_ids
  deletion_protection     = true
  multi_az                = true
  username                = "app"
  manage_master_user_password = true
  tags                    = var.tags
}
''',
        '''variable "name" {
  type = string
}

variable "instance_class" {
  type    = string
  default = "db.t3.medium"
}

variable "encrypted" {
  type    = bool
  default = true
}

variable "public" {
  type    = bool
  default = false
}

variable "backup_days" {
  type    = number
  default = 7
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "subnet_ids" {
  type    = list(string)
  default = []
}

variable "security_group_ids" {
  type    = list(string)
  default = []
}

variable "tags" {
  type    = map(string)
  default = {}
}
''',
        '''output "endpoint" {
  value = aws_db_instance.this.endpoint
}
''',
    ),
    "volume": (
        '''resource "aws_ebs_volume" "this" {
  availability_zone = var.az
  size              = var.size
  type              = "gp3"
  encrypted         = var.encrypted
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}
''',
        '''variable "az" {
  type    = string
  default = "eu-west-1a"
}

variable "size" {
  type    = number
  default = 100
}

variable "encrypted" {
  type    = bool
  default = true
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "tags" {
  type    = map(string)
  default = {}
}
''',
        '''output "id" {
  value = aws_ebs_volume.this.id
}
''',
    ),
    "key": (
        '''resource "aws_kms_key" "this" {
  description             = var.description
  deletion_window_in_days = 30
  enable_key_rotation     = var.rotate
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
''',
        '''variable "name" {
  type = string
}

variable "description" {
  type    = string
  default = "managed by terraform"
}

variable "rotate" {
  type    = bool
  default = true
}

variable "tags" {
  type    = map(string)
  default = {}
}
''',
        '''output "arn" {
  value = aws_kms_key.this.arn
}
''',
    ),
    "queue": (
        '''resource "aws_sqs_queue" "this" {
  name                      = var.name
  message_retention_seconds = 345600
  sqs_managed_sse_enabled   = var.encrypted
  tags                      = var.tags
}

resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}
''',
        '''variable "name" {
  type = string
}

variable "encrypted" {
  type    = bool
  default = true
}

variable "kms_key_arn" {
  type    = string
  default = "alias/aws/sns"
}

variable "tags" {
  type    = map(string)
  default = {}
}
''',
        '''output "queue_arn" {
  value = aws_sqs_queue.this.arn
}
''',
    ),
    "web": (
        '''resource "aws_lb" "this" {
  name                       = var.name
  internal                   = false
  load_balancer_type         = "application"
  subnets                    = var.subnet_ids
  drop_invalid_header_fields = true
  tags                       = var.tags
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = var.target_group_arn
  }
}
''',
        '''variable "name" {
  type = string
}

variable "subnet_ids" {
  type    = list(string)
  default = []
}

variable "ssl_policy" {
  type    = string
  default = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "certificate_arn" {
  type    = string
  default = null
}

variable "target_group_arn" {
  type    = string
  default = null
}

variable "tags" {
  type    = map(string)
  default = {}
}
''',
        '''output "dns_name" {
  value = aws_lb.this.dns_name
}
''',
    ),
    "cluster": (
        '''resource "aws_eks_cluster" "this" {
  name     = var.name
  role_arn = var.role_arn
  version  = "1.29"

  enabled_cluster_log_types = ["api", "audit", "authenticator"]

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_public_access  = var.public_endpoint
    endpoint_private_access = true
    public_access_cidrs     = var.public_access_cidrs
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = var.kms_key_arn
    }
  }
}

resource "aws_iam_role_policy" "nodes" {
  name = "${var.name}-nodes"
  role = var.node_role
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["ec2:Describe*", "ecr:GetAuthorizationToken"]
      Resource = "*"
    }]
  })
}
''',
        '''variable "name" {
  type = string
}

variable "role_arn" {
  type = string
}

variable "node_role" {
  type    = string
  default = "nodes"
}

variable "subnet_ids" {
  type    = list(string)
  default = []
}

variable "public_endpoint" {
  type    = bool
  default = false
}

variable "public_access_cidrs" {
  type    = list(string)
  default = ["10.0.0.0/8"]
}

variable "kms_key_arn" {
  type = string
}
''',
        '''output "endpoint" {
  value = aws_eks_cluster.this.endpoint
}
''',
    ),
    "cache": (
        '''resource "aws_elasticache_replication_group" "this" {
  replication_group_id       = var.name
  description                = "cache for ${var.name}"
  node_type                  = "cache.t3.small"
  num_cache_clusters         = 2
  at_rest_encryption_enabled = var.encrypted
  transit_encryption_enabled = var.encrypted
  automatic_failover_enabled = true
  kms_key_id                 = var.kms_key_arn
  tags                       = var.tags
}
''',
        '''variable "name" {
  type = string
}

variable "encrypted" {
  type    = bool
  default = true
}

variable "kms_key_arn" {
  type    = string
  default = null
}

variable "tags" {
  type    = map(string)
  default = {}
}
''',
        '''output "endpoint" {
  value = aws_elasticache_replication_group.this.primary_endpoint_address
}
''',
    ),
}

# Each stack calls these modules: (good inputs, inputs that make a finding when a stack is "weak").
_NAME = 'name = "${var.stack}-${var.environment}"'
_SUBNETS = "subnet_ids = module.network.private_subnet_ids"
_EKS_ROLE = 'role_arn = "arn:aws:iam::123456789012:role/eks"'
_CALLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "network": ((_NAME, "log_retention_days = 365", "tags = local.tags"),
                (_NAME, "log_retention_days = 7", "tags = local.tags")),
    "firewall": (('name = "${var.stack}-sg"', "vpc_id = module.network.vpc_id", "tags = local.tags"),
                 ('name = "${var.stack}-sg"', "vpc_id = module.network.vpc_id", "port = 22",
                  'allowed_cidrs = ["0.0.0.0/0"]', "tags = local.tags")),
    "bucket": (('name = "${var.stack}-${var.environment}-data"', "kms_key_arn = module.key.arn", "tags = local.tags"),
               ('name = "${var.stack}-${var.environment}-data"', "block_public = false", "tags = local.tags")),
    "database": ((_NAME, "kms_key_arn = module.key.arn", _SUBNETS, "tags = local.tags"),
                 (_NAME, "encrypted = false", "backup_days = 0", _SUBNETS, "tags = local.tags")),
    "volume": (("kms_key_arn = module.key.arn", "tags = local.tags"), ("encrypted = false", "tags = local.tags")),
    "key": ((_NAME, "tags = local.tags"), (_NAME, "rotate = false", "tags = local.tags")),
    "queue": ((_NAME, "tags = local.tags"), (_NAME, "encrypted = false", "tags = local.tags")),
    "web": ((_NAME, _SUBNETS, "tags = local.tags"),
            (_NAME, 'ssl_policy = "ELBSecurityPolicy-2016-08"', "tags = local.tags")),
    "cluster": ((_NAME, _EKS_ROLE, "kms_key_arn = module.key.arn", _SUBNETS),
                (_NAME, _EKS_ROLE, "kms_key_arn = module.key.arn", "public_endpoint = true",
                 'public_access_cidrs = ["0.0.0.0/0"]')),
    "cache": ((_NAME, "kms_key_arn = module.key.arn", "tags = local.tags"),
              (_NAME, "encrypted = false", "tags = local.tags")),
}

_STACK_MODULES = (("network", "firewall", "key", "bucket"), ("network", "key", "database", "volume"),
                  ("network", "key", "queue", "cache"), ("network", "firewall", "key", "web", "cluster"))

STACK_VARIABLES = '''variable "environment" {
  type    = string
  default = "%s"
}

variable "stack" {
  type    = string
  default = "%s"
}

variable "owner" {
  type    = string
  default = "platform-team"
}
'''

PROVIDERS = '''terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = {
      Environment = var.environment
      Owner       = var.owner
    }
  }
}

locals {
  tags = {
    Stack       = var.stack
    Environment = var.environment
  }
}
'''


def _stack_main(index: int) -> str:
    modules = _STACK_MODULES[index % len(_STACK_MODULES)]
    weak = index % 4 == 3  # about one stack in four makes findings
    blocks = []
    for name in modules:
        inputs = "\n  ".join(_CALLS[name][1 if weak else 0])
        blocks.append(f'module "{name}" {{\n  source = "../../../modules/{name}"\n  {inputs}\n}}\n')
    blocks.append(f'resource "aws_cloudwatch_log_group" "app" {{\n  name              = "/app/${{var.stack}}"\n'
                  f'  retention_in_days = {30 if weak else 400}\n}}\n')
    return "\n".join(blocks)


def layout(files: int = 120) -> dict[str, str]:
    """The tree as path -> text: the modules (3 files each) first, then stacks of 3 files, until
    `files` files (the last stack may be cut short, so any count can be asked for)."""
    tree: dict[str, str] = {}
    for name, (main, variables, outputs) in MODULES.items():
        for file, text in (("main.tf", main), ("variables.tf", variables), ("outputs.tf", outputs)):
            if len(tree) < files:
                tree[f"modules/{name}/{file}"] = text
    index = 0
    while len(tree) < files:
        environment = ENVIRONMENTS[index % len(ENVIRONMENTS)]
        stack = f"stack{index // len(ENVIRONMENTS):03d}"
        base = f"live/{environment}/{stack}"
        for file, text in (("main.tf", _stack_main(index)), ("variables.tf", STACK_VARIABLES % (environment, stack)),
                           ("providers.tf", PROVIDERS)):
            if len(tree) < files:
                tree[f"{base}/{file}"] = text
        index += 1
    return tree


def generate(root: Path, files: int = 120) -> list[str]:
    """Write the tree under `root`; the paths written, sorted."""
    tree = layout(files)
    for path, text in tree.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return sorted(tree)


def change(root: Path) -> list[str]:
    """Edit 3 files of a generated tree as a typical pull request does: a module gains an
    unencrypted volume, a stack turns off key rotation, another stack shortens log retention."""
    edits: dict[str, Callable[[str], str]] = {
        "modules/volume/main.tf": lambda t: t + ('\nresource "aws_ebs_volume" "scratch" {\n'
                                                 '  availability_zone = var.az\n  size = 20\n  encrypted = false\n}\n'),
        "live/dev/stack000/main.tf": lambda t: t.replace(f"{_NAME}\n  tags", f"{_NAME}\n  rotate = false\n  tags", 1),
        "live/staging/stack000/main.tf": lambda t: t.replace("retention_in_days = 400", "retention_in_days = 14"),
    }
    for path, edit in edits.items():
        target = root / path
        target.write_text(edit(target.read_text()))
    return sorted(edits)
