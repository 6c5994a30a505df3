"""Helpers and sample modules shared by the Terraform parser tests."""

from __future__ import annotations

from typing import Any

from bot.engine.model import Node, Resource
from bot.engine.parsers.terraform import parse_module


def parse(text: str, path: str = "main.tf") -> list[Resource]:
    result = parse_module({path: text})[path]
    assert result.errors == ()
    return list(result.resources)


def by_address(text: str, address: str) -> Resource:
    matches = [r for r in parse(text) if r.address == address]
    assert len(matches) == 1, [r.address for r in parse(text)]
    return matches[0]


def at(text: str, address: str, *keys: str | int) -> Node:
    node = by_address(text, address).body.get(*keys)
    assert node is not None
    return node


def spans(node: Node) -> Any:
    """A node as nested (value, line, end_line) tuples, to compare whole trees with lines."""
    if isinstance(node.value, dict):
        return ({k: spans(v) for k, v in node.value.items()}, node.line, node.end_line)
    if isinstance(node.value, list):
        return ([spans(v) for v in node.value], node.line, node.end_line)
    return (node.value, node.line, node.end_line)


MODULE = """\
terraform {
  required_version = ">= 1.5"
}

provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

variable "name" {
  default = "app"
}

locals {
  prefix = "team"
  full   = "${local.prefix}-${var.name}"
}

data "aws_caller_identity" "current" {}

module "vpc" {
  source = "./vpc"
}

resource "aws_s3_bucket" "logs" {
  bucket = local.full
}

output "bucket" {
  value = aws_s3_bucket.logs.id
}
"""


VOLUME = """\
resource "aws_ebs_volume" "data" {
  availability_zone = "eu-west-1a"   # a comment with = and { in it
  size              = 10
  // another = comment }
  /* a block comment
     encrypted = true
  } */
  encrypted         = false
  tags = {
    Name        = "data"
    "team-name" = "storage"
  }
  zones = [
    "a",
    "b",
  ]
}
"""


NESTED = """\
resource "aws_security_group" "web" {
  name = "web"

  ingress {
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }

  ingress {
    from_port = 80
    to_port   = 80
  }

  egress { from_port = 0 }

  dynamic "ingress" {
    for_each = var.extra
    content {
      from_port = ingress.value
    }
  }

  lifecycle {
    create_before_destroy = true
  }
}
"""
