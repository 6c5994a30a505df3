"""Every condition kind on real parsed resources: holds, fails (a finding on the right line) or
unknown (undecided only), with Terraform-style value comparisons."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from bot.engine.model import Resource, Violation
from bot.engine.rule import RuleContext
from tests.rules.spec.helpers import decided, lines, rule_of, run, terraform, undecided_lines, yaml_file


def tf_rule(check: str, skip_if: str | None = None) -> str:
    skip = f"\n  skip_if: {skip_if}" if skip_if else ""
    return f"- format: terraform\n  types: [aws_thing]{skip}\n  check: {check}"


def thing(body: str) -> tuple[Resource, ...]:
    indented = "\n".join(f"  {line}" if line else "" for line in body.strip("\n").split("\n"))
    return terraform(f'resource "aws_thing" "t" {{\n{indented}\n}}\n')


# --- leaf tests: (check, attribute lines, finding lines) --------------------------------------------

LEAVES = [
    ("{path: on, equals: true}", "on = true", []),
    ("{path: on, equals: true}", "on = false", [2]),
    ("{path: on, equals: true}", 'on = "true"', []),  # "true" strings are booleans
    ("{path: on, equals: true}", 'on = "TRUE"', []),
    ("{path: on, equals: true}", "", [1]),  # absent fails by default, on the block's first line
    ("{path: on, equals: true}", "on = null", [2]),  # null is absent, landing on its own line
    ("{path: on, equals: true, absent: pass}", "", []),
    ("{path: on, equals: true, absent: {value: true}}", "", []),
    ("{path: on, equals: true, absent: {value: false}}", "", [1]),
    ("{path: n, equals: 5}", 'n = "5"', []),  # numeric strings are numbers
    ("{path: n, equals: 5}", "n = 5.0", []),
    ("{path: s, not_equals: bad}", 's = "bad"', [2]),
    ("{path: s, not_equals: bad}", "", []),  # negative tests pass when absent
    ("{path: s, equals: abc, case: insensitive}", 's = "ABC"', []),
    ("{path: s, equals: abc}", 's = "ABC"', [2]),
    ("{path: s, in: [a, b]}", 's = "b"', []),
    ("{path: s, in: [a, b]}", 's = "c"', [2]),
    ("{path: s, not_in: [a, b]}", 's = "a"', [2]),
    ("{path: s, not_in: [a, b]}", "", []),
    ("{path: s, regex: 'TLS-1-2-.*'}", 's = "TLS-1-2-2021"', []),
    ("{path: s, regex: 'TLS-1-2'}", 's = "TLS-1-2-2021"', [2]),  # a full match
    ("{path: s, regex: 'tls-.*', case: insensitive}", 's = "TLS-1"', []),
    ("{path: s, not_regex: '.*-1-0.*'}", 's = "x-1-0"', [2]),
    ("{path: n, regex: '\\d+'}", "n = 42", []),  # numbers read as text
    ("{path: n, gte: 90}", "n = 90", []),
    ("{path: n, gte: 90}", "n = 30", [2]),
    ("{path: n, gt: 90}", 'n = "91"', []),
    ("{path: n, lt: 10}", "n = 10", [2]),
    ("{path: n, lte: 10}", "n = 10", []),
    ("{path: n, gte: 1}", 'n = "many"', [2]),  # not a number: fails
    ("{path: k, exists: true}", 'k = "x"', []),
    ("{path: k, exists: true}", "", [1]),
    ("{path: k, exists: true}", 'k = ""', [2]),  # "" is unset
    ("{path: k, exists: false}", 'k = "x"', [2]),
    ("{path: k, exists: false}", "", []),
    ("{path: l, contains: b}", 'l = ["a", "b"]', []),
    ("{path: l, contains: c}", 'l = ["a", "b"]', [2]),
    ("{path: l, contains: SYS}", 'l = "CAP_SYS_ADMIN"', []),
    ("{path: l, contains: sys, case: insensitive}", 'l = "CAP_SYS_ADMIN"', []),
    ("{path: tags.env, equals: prod}", 'tags = { env = "prod" }', []),
    ("{path: tags.env, equals: prod}", 'tags = { env = "dev" }', [2]),
    ("{path: tags.env, equals: prod}", 'tags = { team = "a" }', [2]),  # the innermost block that should hold it
    ("{path: rule.0.port, equals: 443}", "rule {\n  port = 443\n}", []),
    ("{path: rule.1.port, equals: 443}", "rule {\n  port = 443\n}", [1]),
]


@pytest.mark.parametrize(("check", "body", "expected"), LEAVES)
def test_leaf_tests(check: str, body: str, expected: list[int]) -> None:
    assert lines(rule_of(tf_rule(check)), thing(body)) == expected


CIDRS = [
    ('["0.0.0.0/0"]', True),
    ('["::/0"]', True),
    ('["0:0:0:0:0:0:0:0/0"]', True),
    ('["0000::/0"]', True),
    ('["10.0.0.0/8", "::/0"]', True),
    ('["0.0.0.0/1", "128.0.0.0/1"]', True),  # together they cover the internet
    ('"0.0.0.0/0"', True),  # a single CIDR
    ('["0.0.0.0/1"]', False),
    ('["10.0.0.0/8", "192.168.1.0/24"]', False),
    ('["0.0.0.0"]', False),  # a bare address is one host
    ('["2001:db8::/32"]', False),
    ('"*"', True),  # Azure's words for anywhere
    ('"Internet"', True),
    ('["not a cidr"]', False),
]


@pytest.mark.parametrize(("value", "is_open"), CIDRS)
def test_cidr_open_compares_networks_not_strings(value: str, is_open: bool) -> None:
    resources = thing(f"cidr_blocks = {value}")
    assert lines(rule_of(tf_rule("{path: cidr_blocks, cidr_open: false}")), resources) == ([2] if is_open else [])
    assert lines(rule_of(tf_rule("{path: cidr_blocks, cidr_open: true}")), resources) == ([] if is_open else [2])


def test_cidr_open_false_passes_when_absent_and_unknown_items_decide_only_when_needed() -> None:
    rule = rule_of(tf_rule("{path: cidr_blocks, cidr_open: false}"))
    assert lines(rule, thing('name = "x"')) == []
    known_open = terraform('variable "v" {}\nresource "aws_thing" "t" {\n  cidr_blocks = ["0.0.0.0/0", var.v]\n}\n')
    assert lines(rule, known_open) == [3]
    maybe = terraform('variable "v" {}\nresource "aws_thing" "t" {\n  cidr_blocks = ["10.0.0.0/8", var.v]\n}\n')
    assert lines(rule, maybe) == [] and undecided_lines(rule, maybe) == [3]


# --- unknown: never a finding alone -------------------------------------------------------------------

UNKNOWN_TF = 'variable "v" {}\nresource "aws_thing" "t" {\n  on = var.v\n  tags = var.v\n}\n'


@pytest.mark.parametrize(
    "check",
    [
        "{path: on, equals: true}",
        "{path: on, not_equals: true}",
        "{path: on, in: [a]}",
        "{path: on, regex: a}",
        "{path: on, gte: 3}",
        "{path: on, contains: a}",
        "{path: on, cidr_open: false}",
        "{path: tags.env, equals: prod}",  # a step through an unknown value
        "{path: tags.env, exists: true}",
        "{not: {path: on, equals: true}}",
        "{all: [{path: on, equals: true}, {path: tags.x, exists: true}]}",
        "{any: [{path: on, equals: true}, {path: missing, exists: true}]}",
    ],
)
def test_unknown_values_are_undecided_never_a_finding(check: str) -> None:
    rule = rule_of(tf_rule(check))
    resources = terraform(UNKNOWN_TF)
    assert decided(rule, resources) == []
    assert undecided_lines(rule, resources) and set(undecided_lines(rule, resources)) <= {3, 4}


def test_an_unknown_value_is_set_for_exists_and_the_undecided_message_says_why() -> None:
    resources = terraform(UNKNOWN_TF)
    assert run(rule_of(tf_rule("{path: on, exists: true}")), resources) == []
    (_, violation), = run(rule_of(tf_rule("{path: on, equals: true}")), resources)
    assert violation.undecided and violation.key == "on"
    assert violation.message == ("Cannot tell: `on = var.v` is not known before apply; if it is not what the control "
                                 "asks: Thing is not safe.")


def test_a_definite_failure_beside_an_unknown_is_a_finding() -> None:
    rule = rule_of(tf_rule("{all: [{path: on, equals: true}, {path: off, equals: false}]}"))
    resources = terraform('variable "v" {}\nresource "aws_thing" "t" {\n  on = var.v\n  off = true\n}\n')
    assert lines(rule, resources) == [4]


# --- composites ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("check", "body", "expected"),
    [
        ("{all: [{path: a, equals: 1}, {path: b, equals: 2}]}", "a = 1\nb = 2", []),
        ("{all: [{path: a, equals: 1}, {path: b, equals: 2}]}", "a = 0\nb = 0", [2, 3]),  # each failure
        ("{any: [{path: a, equals: 1}, {path: b, equals: 2}]}", "a = 0\nb = 2", []),
        ("{any: [{path: a, equals: 1}, {path: b, equals: 2}]}", "a = 0\nb = 0", [2]),  # the first's finding
        ("{not: {path: a, equals: 1}}", "a = 1", [2]),
        ("{not: {path: a, equals: 1}}", "a = 2", []),
        ("{not: {not: {path: a, equals: 1}}}", "a = 2", [2]),
    ],
)
def test_composites(check: str, body: str, expected: list[int]) -> None:
    assert lines(rule_of(tf_rule(check)), thing(body)) == expected


def test_skip_if_holds_unknown_and_fails() -> None:
    rule = rule_of(tf_rule("{path: on, equals: true}", skip_if="{path: snapshot, exists: true}"))
    assert lines(rule, thing('snapshot = "s"')) == []
    assert lines(rule, thing('name = "x"')) == [1]
    # The exemption cannot be told: the finding becomes undecided.
    rule = rule_of(tf_rule("{path: on, equals: true}", skip_if="{path: mode, equals: serverless}"))
    resources = terraform('variable "v" {}\nresource "aws_thing" "t" {\n  mode = var.v\n  on = false\n}\n')
    assert lines(rule, resources) == [] and undecided_lines(rule, resources) == [4]


# --- paths through lists of blocks, for_each, dynamic ---------------------------------------------------

BLOCKS = """
ingress {
  port = 22
  cidr = "0.0.0.0/0"
}
ingress {
  port = 443
  cidr = "0.0.0.0/0"
}
ingress {
  port = 22
  cidr = "10.0.0.0/8"
}
"""


def test_a_path_through_a_list_of_blocks_tests_each_block() -> None:
    rule = rule_of(tf_rule("{path: ingress.cidr, cidr_open: false}"))
    found = decided(rule, thing(BLOCKS))
    assert [(v.line, v.key) for v in found] == [(4, "ingress[0].cidr"), (8, "ingress[1].cidr")]


def test_for_each_reports_each_failing_item_keyed_by_the_item() -> None:
    check = "{for_each: {path: ingress, check: {any: [{path: port, not_equals: 22}, {path: cidr, cidr_open: false}]}}}"
    found = decided(rule_of(tf_rule(check)), thing(BLOCKS))
    assert [(v.line, v.key) for v in found] == [(3, "ingress[0].port")]
    check = "{for_each: {path: ingress, check: {path: description, exists: true}}}"
    found = decided(rule_of(tf_rule(check)), thing(BLOCKS))
    assert [(v.line, v.key) for v in found] == [(2, "ingress[0].description"), (6, "ingress[1].description"),
                                                 (10, "ingress[2].description")]  # on each item's first line
    assert len({v.key for v in found}) == 3


def test_for_each_with_no_items_passes_unless_absent_fails() -> None:
    each = "{path: ingress, check: {path: port, equals: 443}}"
    assert lines(rule_of(tf_rule(f"{{for_each: {each}}}")), thing('name = "x"')) == []
    failing = "{for_each: {path: ingress, check: {path: port, equals: 443}, absent: fail}}"
    assert lines(rule_of(tf_rule(failing)), thing('name = "x"')) == [1]


def test_for_each_over_a_yaml_list_names_items_by_their_name() -> None:
    rule = rule_of("""
        - format: kubernetes
          types: [NetworkPolicy]
          check: {for_each: {path: spec.rules, check: {path: port, not_equals: 22}}}
    """)
    resources = yaml_file("""
        apiVersion: v1
        kind: NetworkPolicy
        metadata: {name: n}
        spec:
          rules:
            - name: web
              port: 443
            - name: ssh
              port: 22
    """, "k8s/n.yaml")
    assert [(v.line, v.key) for v in decided(rule, resources)] == [(9, "spec.rules[ssh].port")]


DYNAMIC = """
variable "rules" {}
resource "aws_thing" "t" {
  dynamic "ingress" {
    for_each = var.rules
    content {
      port = ingress.value
    }
  }
}
"""


def test_a_path_through_a_dynamic_block_is_unknown_never_absent() -> None:
    resources = terraform(DYNAMIC)
    for check in ("{path: ingress.port, equals: 443}", "{for_each: {path: ingress, check: {path: port, equals: 1}}}",
                  "{for_each: {path: ingress, check: {path: port, equals: 1}, absent: fail}}"):
        rule = rule_of(tf_rule(check))
        assert decided(rule, resources) == [], check
        assert undecided_lines(rule, resources) == [3], check
    # Static blocks beside the dynamic one are still judged.
    static = DYNAMIC.replace('  dynamic "ingress" {', '  ingress {\n    port = 22\n  }\n  dynamic "ingress" {')
    rule = rule_of(tf_rule("{for_each: {path: ingress, check: {path: port, equals: 443}}}"))
    assert lines(rule, terraform(static)) == [4]


# --- sibling and python --------------------------------------------------------------------------------

def test_sibling_finds_a_resource_of_the_module_where_the_condition_holds() -> None:
    rule = rule_of(tf_rule("{path: on, equals: true}",
                           skip_if="{sibling: {types: [aws_default], where: {path: enabled, equals: true, absent: pass}}}"))
    volume = 'resource "aws_thing" "t" {\n  on = false\n}\n'
    assert lines(rule, terraform(volume)) == [2]
    assert lines(rule, terraform(volume + 'resource "aws_default" "d" {}\n')) == []
    assert lines(rule, terraform(volume + 'resource "aws_default" "d" {\n  enabled = false\n}\n')) == [2]
    assert lines(rule, terraform(volume + 'resource "aws_default" "d" {\n  count = 0\n}\n')) == [2]  # not managed
    assert lines(rule, terraform(volume + 'data "aws_default" "d" {}\n')) == [2]


def test_a_failing_sibling_check_lands_on_the_resource_and_says_what_is_missing() -> None:
    rule = rule_of(tf_rule("{sibling: {types: [aws_guard]}}"))
    violation, = decided(rule, thing('name = "x"'))
    assert violation.line == 1 and violation.message == "Thing is not safe (no aws_guard in the module)."


def test_python_checks_come_from_the_table_and_keep_their_violations() -> None:
    def flag_names(resource: Resource, context: RuleContext) -> Iterable[Violation]:
        name = resource.body.get("name")
        if name is not None and name.value == "bad":
            yield Violation("bad name", name.line, key="name")
        elif name is not None and name.value == "maybe":
            yield Violation("cannot tell", name.line, undecided=True)

    rule = rule_of(tf_rule("{python: flag_names}"), {"flag_names": flag_names})
    violation, = decided(rule, thing('name = "bad"'))
    assert (violation.message, violation.line, violation.key) == ("bad name", 2, "name")
    assert decided(rule, thing('name = "maybe"')) == [] and undecided_lines(rule, thing('name = "maybe"')) == [2]
    assert run(rule, thing('name = "good"')) == []
    negated = rule_of(tf_rule("{not: {python: flag_names}}"), {"flag_names": flag_names})
    assert lines(negated, thing('name = "good"')) == [1]
