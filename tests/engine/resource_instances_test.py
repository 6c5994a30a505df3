"""A resource (or a module call) with a known `count` or `for_each` is judged once per instance,
with its own `count.index` or `each.key`/`each.value` (bot/engine/parsers/terraform/module.py
`_instances`, stack.py for calls):
a value read through them is known, so a rule can tell. The instances keep the block's address
and lines, so their findings on one line are one finding, and each is compared with the base's
instance of the same key."""

from __future__ import annotations

import pytest

from bot.engine import limits
from bot.engine.model import Resource, Severity, Unknown
from bot.engine.parsers.terraform import parse_module, stack
from bot.engine.parsers.terraform.module import InstanceBudget, LoadedModule
from bot.engine.policy import Policy
from tests.engine.modules_test import VOLUME_MODULE, change, found

VOLUMES = """\
variable "volumes" {
  default = {
    logs    = { encrypted = true }
    scratch = { encrypted = %s }
  }
}

resource "aws_ebs_volume" "this" {
  for_each          = var.volumes
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = each.value.encrypted
}
"""
EACH_LINE = 12  # `encrypted = each.value.encrypted`


def _value(resource: Resource, name: str) -> object:
    node = resource.body.get(name)
    assert node is not None, name
    return node.value


def test_a_for_each_instance_whose_value_breaks_a_rule_is_found_once_on_its_line() -> None:
    review = change({}, {"main.tf": VOLUMES % "false"})
    assert found(review) == [("main.tf", EACH_LINE, "aws_ebs_volume.this")]
    assert change({}, {"main.tf": VOLUMES % "true"}).findings == ()


def test_count_index_picks_each_instance_s_own_value() -> None:
    text = ('variable "flags" {\n  default = [true, false, true]\n}\n\n'
            'resource "aws_ebs_volume" "this" {\n  count             = length(var.flags)\n'
            '  availability_zone = "eu-west-1a"\n  size              = 10\n'
            '  encrypted         = var.flags[count.index]\n}\n')
    assert found(change({}, {"main.tf": text})) == [("main.tf", 9, "aws_ebs_volume.this")]
    assert found(change({}, {"main.tf": text.replace("true, false, true", "true, true")})) == []


def test_a_set_s_strings_are_each_key_and_each_value() -> None:
    text = ('resource "aws_ebs_volume" "this" {\n  for_each          = toset(["a", "b"])\n'
            '  availability_zone = "eu-west-1a"\n  size              = 10\n'
            '  encrypted         = each.key == "a" && each.value == "a"\n}\n')
    parsed = parse_module({"main.tf": text})["main.tf"].resources
    assert [(r.instance_key, _value(r, "encrypted")) for r in parsed] == [('"a"', True), ('"b"', False)]
    assert found(change({}, {"main.tf": text})) == [("main.tf", 5, "aws_ebs_volume.this")]


def test_what_cannot_be_expanded_stays_one_resource_whose_instance_values_are_unknown() -> None:
    many = limits.RESOURCE_INSTANCES + 1
    for meta in (f"count = {many}", "count = var.n", "for_each = var.m"):
        text = (f'variable "n" {{}}\nvariable "m" {{}}\n'
                f'resource "aws_ebs_volume" "this" {{\n  {meta}\n  encrypted = count.index < 0\n'
                '  size = each.value\n}\n')
        (volume,) = [r for r in parse_module({"main.tf": text})["main.tf"].resources if r.kind == "resource"]
        assert volume.instance_key is None
        assert isinstance(_value(volume, "encrypted"), Unknown) and isinstance(_value(volume, "size"), Unknown)
    review = change({}, {"main.tf": 'variable "n" {}\n' + VOLUMES.replace("var.volumes", "var.n") % "false"})
    assert found(review) == []  # cannot tell: a policy's `unknown: fail` would make it fail
    strict = Policy(fail_unknown=Severity.LOW)
    assert [f.line for f in change({}, {"main.tf": 'variable "n" {}\n' + VOLUMES.replace("var.volumes", "var.n")
                                        % "false"}, strict).findings if f.rule_id == "CB-AWS-001"] == [EACH_LINE + 1]


def test_count_zero_or_an_empty_map_still_makes_no_instance_to_judge() -> None:
    for meta in ("count = 0", "for_each = {}"):
        text = f'resource "aws_ebs_volume" "this" {{\n  {meta}\n  encrypted = false\n}}\n'
        (volume,) = parse_module({"main.tf": text})["main.tf"].resources
        assert not volume.exists and volume.instance_key is None
        assert found(change({}, {"main.tf": text})) == []


def test_each_instance_is_compared_with_the_base_s_instance_of_the_same_key() -> None:
    """The base has `logs` encrypted and `scratch` not; a change elsewhere in the block leaves
    both as they were: no regression (compared with the first base instance, `scratch` would
    look weakened). Turning `logs` off is one."""
    base = {"main.tf": VOLUMES % "false"}
    touched = {"main.tf": (VOLUMES % "false").replace("size              = 10", "size              = 20")}
    assert [f.rule_id for f in change(base, touched).findings if f.rule_id.startswith("CB-REG")] == []
    weakened = {"main.tf": touched["main.tf"].replace("logs    = { encrypted = true }", "logs    = { encrypted = false }")}
    assert "CB-REG-001" in {f.rule_id for f in change(base, weakened).findings}


def test_an_instance_of_a_new_key_has_no_base() -> None:
    head = {"main.tf": (VOLUMES % "true").replace("logs    = { encrypted = true }",
                                                  "logs    = { encrypted = true }\n    extra   = { encrypted = false }")}
    review = change({"main.tf": VOLUMES % "true"}, head)
    assert found(review) == [("main.tf", EACH_LINE + 1, "aws_ebs_volume.this")]
    assert [f.rule_id for f in review.findings if f.rule_id.startswith("CB-REG")] == []  # new, not weakened


def _call(meta: str, argument: str) -> str:
    return f'module "ledger" {{\n  source    = "./modules/volume"\n  {meta}\n  encrypted = {argument}\n}}\n'


def test_a_module_call_s_instances_each_get_their_own_arguments() -> None:
    base = {"modules/volume/main.tf": VOLUME_MODULE, "main.tf": ""}
    head = {**base, "main.tf": _call("for_each  = { logs = true, scratch = false }", "each.value")}
    review = change(base, head)
    assert found(review) == [("main.tf", 4, "module.ledger.aws_ebs_volume.this")]
    (finding,) = [f for f in review.findings if f.rule_id == "CB-AWS-001"]
    assert 'module call `ledger["scratch"]` (main.tf:1)' in (finding.provenance or "")
    assert '"logs"' not in (finding.provenance or "")  # the instance that passes is not named
    counted = {**base, "main.tf": _call("count     = 2", "count.index == 0")}
    assert found(change(base, counted)) == [("main.tf", 4, "module.ledger.aws_ebs_volume.this")]
    assert found(change(base, {**base, "main.tf": _call("count     = 2", "true")})) == []


def test_an_unknown_call_count_is_one_instance_whose_instance_values_are_unknown() -> None:
    base = {"modules/volume/main.tf": VOLUME_MODULE, "main.tf": 'variable "n" {}\n'}
    head = {**base, "main.tf": 'variable "n" {}\n' + _call("count     = var.n", "count.index == 0")}
    review = change(base, head)
    assert found(review) == [] and review.not_reviewed == ()


def test_past_the_bound_a_call_makes_its_first_instance_and_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack, "MAX_CALL_INSTANCES", 3)
    base = {"modules/volume/main.tf": VOLUME_MODULE, "main.tf": ""}
    head = {**base, "main.tf": _call("for_each  = toset([\"a\", \"b\", \"c\", \"d\"])", 'each.key != "d"')}
    review = change(base, head)
    assert found(review) == []  # only `a` was built: `d`, which fails, is past the bound
    assert [(n.path, n.line, n.what) for n in review.not_reviewed] == [("main.tf", 1, "local module")]
    assert "only its first of 4 instances" in review.not_reviewed[0].reason
    monkeypatch.setattr(stack, "MAX_CALL_INSTANCES", 4)
    assert found(change(base, head)) == [("main.tf", 4, "module.ledger.aws_ebs_volume.this")]


def test_an_evaluation_adds_at_most_its_budget_of_instances() -> None:
    text = "".join(f'resource "aws_ebs_volume" "v{n}" {{\n  count     = 3\n  encrypted = count.index < 2\n}}\n'
                   for n in range(2))
    made = LoadedModule({"main.tf": text}).instantiate(budget=InstanceBudget(3))["main.tf"].resources
    assert [(r.address, r.instance_key) for r in made] == [
        ("aws_ebs_volume.v0", "0"), ("aws_ebs_volume.v0", "1"), ("aws_ebs_volume.v0", "2"), ("aws_ebs_volume.v1", None)]
    assert isinstance(_value(made[-1], "encrypted"), Unknown)  # past the budget: one resource, as an unknown count
    assert len(LoadedModule({"main.tf": text}).instantiate()["main.tf"].resources) == 6
