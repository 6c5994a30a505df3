"""The Terraform parser: input text -> resources, values and lines, as tables of cases."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.model import FileError, Node, Resource, Unknown
from bot.engine.parsers.terraform import MAX_NESTING, parse_module


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


# --- blocks, kinds and addresses ------------------------------------------------------------------

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


@pytest.mark.parametrize(
    ("address", "kind", "type_", "line", "end_line"),
    [
        ("provider.aws", "provider", "provider", 5, 7),
        ("provider.aws.us", "provider", "provider", 9, 12),
        ("var.name", "variable", "variable", 14, 16),
        ("local.prefix", "locals", "locals", 19, 19),
        ("local.full", "locals", "locals", 20, 20),
        ("data.aws_caller_identity.current", "data", "aws_caller_identity", 23, 23),
        ("module.vpc", "module", "module", 25, 27),
        ("aws_s3_bucket.logs", "resource", "aws_s3_bucket", 29, 31),
        ("output.bucket", "output", "output", 33, 35),
    ],
)
def test_every_block_kind_becomes_a_resource(address: str, kind: str, type_: str, line: int, end_line: int) -> None:
    resource = by_address(MODULE, address)
    assert (resource.source, resource.kind, resource.type) == ("terraform", kind, type_)
    assert (resource.line, resource.end_line) == (line, end_line)
    assert resource.lines == tuple(MODULE.split("\n")[line - 1 : end_line])
    assert resource.path == "main.tf"


def test_terraform_settings_block_is_not_a_resource() -> None:
    assert sorted(r.address for r in parse(MODULE)) == sorted(
        [
            "provider.aws", "provider.aws.us", "var.name", "local.prefix", "local.full",
            "data.aws_caller_identity.current", "module.vpc", "aws_s3_bucket.logs", "output.bucket",
        ]
    )


def test_a_local_is_its_own_resource_holding_its_resolved_value() -> None:
    assert by_address(MODULE, "local.full").body.plain() == {"full": "team-app"}
    assert by_address(MODULE, "aws_s3_bucket.logs").body.plain() == {"bucket": "team-app"}


# --- every attribute on its own lines ---------------------------------------------------------------

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


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("availability_zone",), ("eu-west-1a", 2, 2)),
        (("size",), (10, 3, 3)),
        (("encrypted",), (False, 8, 8)),
        (("tags",), ({"Name": ("data", 10, 10), "team-name": ("storage", 11, 11)}, 9, 12)),
        (("zones",), ([("a", 14, 14), ("b", 15, 15)], 13, 16)),
    ],
)
def test_attributes_carry_their_own_lines(keys: tuple[str, ...], expected: Any) -> None:
    assert spans(at(VOLUME, "aws_ebs_volume.data", *keys)) == expected


def test_comments_hide_what_they_contain() -> None:
    assert sorted(by_address(VOLUME, "aws_ebs_volume.data").body.plain()) == [
        "availability_zone", "encrypted", "size", "tags", "zones",
    ]


def test_no_parser_bookkeeping_leaks_into_bodies() -> None:
    def keys(node: Node) -> set[str]:
        found: set[str] = set()
        for key, child in node.items():
            found |= {key} | keys(child)
        for child in node.value if isinstance(node.value, list) else []:
            found |= keys(child)
        return found

    for resource in parse(VOLUME + MODULE + NESTED):
        assert not any(key.startswith("__") for key in keys(resource.body))


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


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("ingress", 0, "from_port"), (443, 5, 5)),
        (("ingress", 0, "cidr_blocks", 0), ("0.0.0.0/0", 7, 7)),
        (("ingress", 1, "to_port"), (80, 12, 12)),
        (("egress", 0, "from_port"), (0, 15, 15)),
        (("lifecycle", 0, "create_before_destroy"), (True, 25, 25)),
        (("dynamic", 0, "ingress", "content", 0, "from_port"), (Unknown("ingress.value"), 20, 20)),
    ],
)
def test_nested_block_values_and_lines(keys: tuple[str | int, ...], expected: Any) -> None:
    assert spans(at(NESTED, "aws_security_group.web", *keys)) == expected


@pytest.mark.parametrize(
    ("key", "blocks"),
    [
        ("ingress", [(4, 8), (10, 13)]),
        ("egress", [(15, 15)]),  # a block that appears once is still a list of one
        ("lifecycle", [(24, 26)]),
        ("dynamic", [(17, 22)]),
    ],
)
def test_nested_blocks_are_lists_of_mappings(key: str, blocks: list[tuple[int, int]]) -> None:
    node = at(NESTED, "aws_security_group.web", key)
    assert isinstance(node.value, list)
    assert [(child.line, child.end_line) for child in node.value] == blocks
    assert all(isinstance(child.value, dict) for child in node.value)


# --- heredocs and strings that look like syntax ---------------------------------------------------

TRICKY = """\
resource "aws_iam_policy" "p" {
  policy = <<EOF
{
  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
}
# not a comment, not = an attribute
EOF
  name        = "after-heredoc"
  description = <<-TXT
    indented } text
      keeps relative indent
    TXT
  path   = "/a{b}/#c//d/"
  url    = "http://example.com/${var.name}"
  json   = jsonencode({ a = "}", b = "{" })
  quoted = "she said \\"x = 1\\""
  escape = "$${aws:username}"
}
variable "name" {
  default = "app"
}
"""


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("policy", (('{\n  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]\n}\n'
                    "# not a comment, not = an attribute"), 2, 7)),
        ("name", ("after-heredoc", 8, 8)),
        ("description", ("indented } text\n  keeps relative indent", 9, 12)),
        ("path", ("/a{b}/#c//d/", 13, 13)),
        ("url", ("http://example.com/app", 14, 14)),
        ("json", (Unknown('jsonencode({"a": "}", "b": "{"})'), 15, 15)),
        ("quoted", ('she said "x = 1"', 16, 16)),
        ("escape", ("${aws:username}", 17, 17)),
    ],
)
def test_heredocs_and_strings_do_not_confuse_lines(key: str, expected: Any) -> None:
    assert spans(at(TRICKY, "aws_iam_policy.p", key)) == expected


MULTILINE = """\
resource "a_b" "c" {
  when = var.a ?
    1 : 2
  both = var.b &&
    var.c
  next = 3
  tail = var.d ? 4
    : 5
  all  = aws_instance.x.*
  last = 6
}
"""


@pytest.mark.parametrize(
    ("key", "span"),
    [("when", (2, 3)), ("both", (4, 5)), ("next", (6, 6)), ("tail", (7, 8)), ("all", (9, 9)), ("last", (10, 10))],
)
def test_expressions_broken_over_lines_span_them(key: str, span: tuple[int, int]) -> None:
    node = at(MULTILINE, "a_b.c", key)
    assert (node.line, node.end_line) == span


PARENTHESISED = """\
locals {
  size = (var.clustered # Terraform ignores line breaks inside parentheses
    ? 3 /* nodes */
    : 1
  )
  policy = trimspace(<<EOT
    {"a": 1}
  EOT
  )
  after = 2
}
"""


@pytest.mark.parametrize(
    ("address", "value", "span"),
    [
        ("local.size", Unknown("var.clustered ? 3 : 1"), (2, 5)),
        ("local.policy", Unknown, (6, 9)),  # a function call: Unknown, whatever hcl2 renders
        ("local.after", 2, (10, 10)),
    ],
)
def test_line_breaks_inside_parentheses_parse(address: str, value: Any, span: tuple[int, int]) -> None:
    resource = by_address(PARENTHESISED, address)
    (parsed,) = resource.body.plain().values()
    assert (resource.line, resource.end_line) == span
    assert isinstance(parsed, Unknown) if value is Unknown else parsed == value


def test_windows_line_endings_keep_lines() -> None:
    text = VOLUME.replace("\n", "\r\n")
    resource = by_address(text, "aws_ebs_volume.data")
    assert spans(at(text, "aws_ebs_volume.data", "encrypted")) == (False, 8, 8)
    assert resource.text_at(8) == "  encrypted         = false"


# --- resolution of variables and locals ----------------------------------------------------------

VARIABLES = """\
variable "on" {
  default = true
}
variable "count" {
  default = 3
}
variable "name" {
  default = "svc"
}
variable "nothing" {
  default = null
}
variable "tags" {
  default = { team = "core", env = "prod" }
}
variable "zones" {
  default = ["a", "b"]
}
variable "required" {
  type = string
}
locals {
  on       = var.on
  alias    = local.on
  loop_a   = local.loop_b
  loop_b   = local.loop_a
  computed = upper(var.name)
}
"""


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("var.on", True),
        ("var.count", 3),
        ("var.name", "svc"),
        ("var.nothing", None),
        ("var.tags", {"team": "core", "env": "prod"}),
        ("var.tags.team", "core"),
        ('var.tags["env"]', "prod"),
        ("var.zones[1]", "b"),
        ("var.zones[5]", Unknown("var.zones[5]")),
        ("local.on", True),
        ("local.alias", True),  # a local naming a local naming a variable
        ("(var.count)", 3),
        ('"${var.name}-${var.count}-${var.on}"', "svc-3-true"),
        ('"${var.name}-${var.required}"', Unknown("${var.name}-${var.required}")),
        ("var.required", Unknown("var.required")),
        ("var.undeclared", Unknown("var.undeclared")),
        ("local.loop_a", Unknown("local.loop_a")),  # cycles stop, they do not recurse forever
        ("local.computed", Unknown("local.computed")),  # Unknown names what is written here
        ("var.on ? 1 : 2", Unknown("var.on ? 1 : 2")),
        ("!var.on", Unknown("!var.on")),
        ("aws_kms_key.k.arn", Unknown("aws_kms_key.k.arn")),
        ('"%{if var.on}x%{endif}"', Unknown("%{if var.on}x%{endif}")),
    ],
)
def test_values_resolve_or_become_unknown(expression: str, expected: Any) -> None:
    text = VARIABLES + f'resource "x_y" "z" {{\n  value = {expression}\n}}\n'
    assert by_address(text, "x_y.z").body.get("value").plain() == expected  # type: ignore[union-attr]


def test_resolved_values_keep_the_referring_attribute_lines() -> None:
    text = VARIABLES + 'resource "x_y" "z" {\n  tags = var.tags\n}\n'
    tags = by_address(text, "x_y.z").body.get("tags")
    assert tags is not None
    line = text.split("\n").index("  tags = var.tags") + 1
    assert spans(tags) == ({"team": ("core", line, line), "env": ("prod", line, line)}, line, line)


def test_a_long_local_chain_gives_up_instead_of_recursing() -> None:
    chain = "\n".join(f"  l{i} = local.l{i + 1}" for i in range(30)) + "\n  l30 = true"
    text = f"locals {{\n{chain}\n}}\n" + 'resource "x_y" "z" {\n  value = local.l0\n}\n'
    assert by_address(text, "x_y.z").body.plain() == {"value": Unknown("local.l0")}
    text_short = "locals {\n  a = local.b\n  b = true\n}\n" + 'resource "x_y" "z" {\n  value = local.a\n}\n'
    assert by_address(text_short, "x_y.z").body.plain() == {"value": True}


def test_variables_and_locals_resolve_across_the_files_of_a_module() -> None:
    files = {
        "variables.tf": 'variable "encrypted" {\n  default = false\n}\n',
        "locals.tf": "locals {\n  enc = var.encrypted\n}\n",
        "main.tf": 'resource "aws_ebs_volume" "v" {\n  encrypted = local.enc\n}\n',
    }
    parsed = parse_module(files)
    (volume,) = parsed["main.tf"].resources
    assert spans(volume.body.get("encrypted")) == (False, 2, 2)  # type: ignore[arg-type]


# --- references -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "references"),
    [
        ("aws_kms_key.k.arn", {"aws_kms_key.k"}),
        ("data.aws_iam_policy_document.p.json", {"data.aws_iam_policy_document.p"}),
        ("module.vpc.vpc_id", {"module.vpc"}),
        ("var.name", {"var.name"}),
        ('"${local.prefix}-${aws_s3_bucket.b.id}"', {"local.prefix", "aws_s3_bucket.b"}),
        ("aws_instance.web[*].id", {"aws_instance.web"}),
        ("aws_subnet.private[0].id", {"aws_subnet.private"}),
        ('jsonencode({ Resource = "${aws_s3_bucket.b.arn}/*" })', {"aws_s3_bucket.b"}),
        ("[for s in aws_subnet.all : s.id]", {"aws_subnet.all"}),
        ('"plain aws_s3_bucket.not_a_reference text"', set()),
        ("each.value", set()),
        ("count.index", set()),
        ("path.module", set()),
    ],
)
def test_references_name_every_address_an_expression_uses(expression: str, references: set[str]) -> None:
    text = f'resource "x_y" "z" {{\n  value = {expression}\n}}\n'
    assert set(by_address(text, "x_y.z").references) == references


def test_references_look_through_locals_and_nested_blocks() -> None:
    text = (
        "locals {\n  bucket = aws_s3_bucket.b.id\n}\n"
        'resource "aws_s3_bucket_server_side_encryption_configuration" "c" {\n'
        "  bucket = local.bucket\n"
        "  rule {\n    apply_server_side_encryption_by_default {\n"
        "      kms_master_key_id = aws_kms_key.k.arn\n    }\n  }\n}\n"
    )
    config = by_address(text, "aws_s3_bucket_server_side_encryption_configuration.c")
    assert set(config.references) == {"local.bucket", "aws_s3_bucket.b", "aws_kms_key.k"}


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('resource "a_b" "c" {\n  x = 1\n  y =\n}\n', 3, "unexpected"),
        ('resource "a_b" "c" {\n  x = 1\n  y = 2 @\n}\n', 3, "unexpected '@'"),
        ('resource "a_b" "c" {\n  x = 1\n', 2, "end of file"),
        ('resource "a_b" "c" {\n  x 1\n}\n', 2, "expected"),
        ('resource "a_b" "c" {\n  x = 1\n  x = 2\n}\n', 3, "x already defined"),
        ('a = ' + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1) + "\n", 1, "nesting deeper"),
        ("x {\n" * (MAX_NESTING + 2) + "}\n" * (MAX_NESTING + 2), MAX_NESTING + 1, "nesting deeper"),
    ],
)
def test_a_broken_file_is_a_file_error_with_its_line(text: str, line: int, words: str) -> None:
    result = parse_module({"bad.tf": text})["bad.tf"]
    assert result.resources == ()
    (error,) = result.errors
    assert isinstance(error, FileError)
    assert (error.path, error.line) == ("bad.tf", line)
    assert words in error.message


def test_one_broken_file_leaves_the_rest_of_the_module_parsed() -> None:
    files = {
        "broken.tf": 'variable "enc" {\n  default = true\n',
        "main.tf": 'resource "aws_ebs_volume" "v" {\n  encrypted = var.enc\n  size      = 10\n}\n',
    }
    parsed = parse_module(files)
    assert list(parsed) == ["broken.tf", "main.tf"]
    assert parsed["broken.tf"].errors and parsed["broken.tf"].errors[0].line == 2
    (volume,) = parsed["main.tf"].resources
    # The variable lives in the broken file, so its value cannot be known.
    assert volume.body.plain() == {"encrypted": Unknown("var.enc"), "size": 10}


def test_long_expressions_parse_without_recursing() -> None:
    long_chain = "locals {\n  a = " + " + ".join(["1"] * 5000) + "\n}\n"
    result = parse_module({"chain.tf": long_chain, "ok.tf": "locals {\n  b = 1\n}\n"})
    assert result["ok.tf"].errors == () and result["chain.tf"].errors == ()
    (chain,) = result["chain.tf"].resources
    value = chain.body.get("a")
    assert value is not None and isinstance(value.value, Unknown) and (value.line, value.end_line) == (2, 2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(list('abc_ ="{}[]()#/*<-\n$%.,:\\1') + ["EOF", "<<EOF\n", "${", "resource"]),
                max_size=120).map("".join))
def test_parse_module_never_raises(text: str) -> None:
    result = parse_module({"fuzz.tf": text})
    assert set(result) == {"fuzz.tf"}


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=len(NESTED) - 1), st.integers(min_value=1, max_value=12))
def test_truncated_real_files_never_raise(start: int, length: int) -> None:
    damaged = NESTED[:start] + NESTED[start + length :]
    result = parse_module({"damaged.tf": damaged})["damaged.tf"]
    for resource in result.resources:
        assert 1 <= resource.line <= resource.end_line <= damaged.count("\n") + 1
