"""Static resolution: variables and locals become their values, what cannot be known Unknown."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.model import Unknown
from tests.engine.parsers.terraform.support import by_address, spans

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
  opaque   = file("name.txt")
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
        ("local.computed", "SVC"),  # a local computed from a variable
        ("local.opaque", Unknown("local.opaque")),  # Unknown names what is written here
        ("var.on ? 1 : 2", 1),
        ("var.required ? 1 : 2", Unknown("var.required ? 1 : 2")),
        ("!var.on", False),
        ("!var.required", Unknown("!var.required")),
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
