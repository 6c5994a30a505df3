"""`some` (at least one item satisfies), `where` (which items count, in `some` and `for_each`)
and `$item` (a scalar list's entry): outcomes, where findings land, what they say."""

from __future__ import annotations

import pytest

from tests.rules.spec.helpers import decided, lines, rule_of, run, terraform, undecided_lines, yaml_file


def tf(check: str) -> str:
    return f"- format: terraform\n  types: [aws_thing]\n  check: {check}"


FLAG_ON = ("{some: {path: settings.flag, where: {path: name, equals: log_connections}, "
           "check: {path: value, equals: 'on', case: insensitive}}}")


def instance(flags: str) -> str:
    return ('variable "v" {}\nresource "aws_thing" "t" {\n  settings {\n    tier = "small"\n' + flags
            + '  }\n}\n')


def flag(name: str, value: str) -> str:
    return f"    flag {{\n      name  = {name}\n      value = {value}\n    }}\n"


@pytest.mark.parametrize(
    ("flags", "found", "undecided"),
    [
        (flag('"log_connections"', '"on"'), [], []),
        (flag('"other"', '"off"') + flag('"log_connections"', '"ON"'), [], []),
        (flag('"log_connections"', '"off"'), [7], []),  # the value of the flag that counts
        (flag('"other"', '"on"'), [3], []),  # no flag counts: the block that holds the list
        ("", [3], []),  # no list at all: the same block
        (flag('"log_connections"', "var.v"), [], [7]),
        (flag("var.v", '"on"'), [], [6]),  # it may be the flag: undecided on its name
        (flag("var.v", '"off"'), [7], []),  # whatever its name, nothing is on
    ],
)
def test_some_with_where_picks_the_items_that_count(flags: str, found: list[int], undecided: list[int]) -> None:
    rule = rule_of(tf(FLAG_ON))
    resources = terraform(instance(flags))
    assert lines(rule, resources) == found
    assert undecided_lines(rule, resources) == undecided


def test_some_says_what_it_did_not_find() -> None:
    rule = rule_of(tf(FLAG_ON))
    violation, = decided(rule, terraform(instance(flag('"other"', '"on"'))))
    assert violation.message == 'Thing is not safe (no item of settings.flag with name = "log_connections").'
    assert violation.key == "settings.flag"
    violation, = decided(rule, terraform(instance(flag('"log_connections"', '"off"'))))
    assert violation.message == 'Thing is not safe (settings.flag[log_connections].value = "off").'
    violation, = decided(rule, terraform(instance("")))
    assert violation.message == "Thing is not safe (settings.flag is not set)."


def test_some_without_where_lands_on_the_list() -> None:
    rule = rule_of(tf("{some: {path: rule, check: {all: [{path: port, equals: 443}, {path: tls, equals: true}]}}}"))
    body = 'resource "aws_thing" "t" {\n  rule {\n    port = 80\n  }\n  rule {\n    port = 443\n  }\n}\n'
    violation, = decided(rule, terraform(body))
    assert violation.line == 2
    assert violation.message == "Thing is not safe (no item of rule with port = 443 and tls = true)."
    assert lines(rule, terraform(body.replace("port = 443", "port = 443\n    tls = true"))) == []


def test_some_absent_pass_holds_when_no_item_counts() -> None:
    check = "{some: {path: flag, where: {path: name, equals: x}, check: {path: value, equals: 1}, absent: pass}}"
    rule = rule_of(tf(check))
    assert lines(rule, terraform('resource "aws_thing" "t" {\n  flag {\n    name = "y"\n  }\n}\n')) == []
    assert lines(rule, terraform('resource "aws_thing" "t" {}\n')) == []
    body = 'resource "aws_thing" "t" {\n  flag {\n    name  = "x"\n    value = 2\n  }\n}\n'
    assert lines(rule, terraform(body)) == [4]


def test_some_over_a_dynamic_block_is_unknown() -> None:
    source = ('variable "flags" {}\nresource "aws_thing" "t" {\n  settings {\n    dynamic "flag" {\n'
              '      for_each = var.flags\n      content {\n        name = flag.key\n      }\n    }\n  }\n}\n')
    rule = rule_of(tf(FLAG_ON))
    assert lines(rule, terraform(source)) == [] and undecided_lines(rule, terraform(source))


SCALARS = 'resource "aws_thing" "t" {\n  cidrs = [\n    "10.0.0.0/8",\n    "192.168.0.0/16",\n  ]\n}\n'


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("{some: {path: cidrs, check: {path: $item, regex: '10\\..*'}}}", []),
        ("{some: {path: cidrs, check: {path: $item, regex: '172\\..*'}}}", [2]),  # on the list
        ("{for_each: {path: cidrs, check: {path: $item, regex: '10\\..*'}}}", [4]),  # the item that fails
        ("{for_each: {path: cidrs, where: {path: $item, regex: '192\\..*'}, check: {path: $item, equals: x}}}", [4]),
        ("{not: {some: {path: cidrs, check: {path: $item, equals: 192.168.0.0/16}}}}", [4]),  # the item found
    ],
)
def test_item_names_a_scalar_list_entry(check: str, expected: list[int]) -> None:
    assert lines(rule_of(tf(check)), terraform(SCALARS)) == expected


def test_item_keys_name_the_entry() -> None:
    violation, = decided(rule_of(tf("{for_each: {path: cidrs, check: {path: $item, regex: '10\\..*'}}}")),
                         terraform(SCALARS))
    assert violation.key == "cidrs[1]"
    assert violation.message == 'Thing is not safe (cidrs[1] = "192.168.0.0/16").'


def test_for_each_where_judges_only_the_items_that_count() -> None:
    check = ("{for_each: {path: flag, where: {path: name, equals: local_infile}, "
             "check: {path: value, equals: 'off', absent: pass}}}")
    rule = rule_of(tf(check))
    body = ('variable "v" {}\nresource "aws_thing" "t" {\n  flag {\n    name  = "other"\n    value = "on"\n  }\n'
            '  flag {\n    name  = "local_infile"\n    value = "on"\n  }\n  flag {\n    name  = var.v\n'
            '    value = "on"\n  }\n}\n')
    assert lines(rule, terraform(body)) == [9]
    unsure = body.replace('name  = "local_infile"', 'name  = "other"')
    assert lines(rule, terraform(unsure)) == []
    assert undecided_lines(rule, terraform(unsure)) == [13]  # it fails only if it is local_infile
    failing = "{for_each: {path: flag, where: {path: name, equals: x}, check: {path: value, equals: 1}, absent: fail}}"
    violation, = decided(rule_of(tf(failing)), terraform('resource "aws_thing" "t" {\n  flag {\n    name = "y"\n  }\n}\n'))
    assert (violation.line, violation.message) == (1, 'Thing is not safe (no item of flag with name = "x").')


def test_some_over_containers_and_a_yaml_list_of_mappings() -> None:
    rule = rule_of("""
        - format: kubernetes
          types: [workloads]
          check: {some: {path: $containers, check: {path: name, equals: proxy}}}
    """)
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: {name}\n      image: a\n"
    assert lines(rule, yaml_file(pod.replace("{name}", "proxy"), "k8s/p.yaml")) == []
    violation, = decided(rule, yaml_file(pod.replace("{name}", "app"), "k8s/p.yaml"))
    assert violation.line == 1 and violation.message == 'Thing is not safe (no item of $containers with name = "proxy").'
    cfn = rule_of("""
        - format: cloudformation
          types: ["AWS::LB"]
          check:
            some:
              path: Attributes
              where: {path: Key, equals: access_logs.s3.enabled}
              check: {path: Value, equals: true}
    """)
    template = ("Resources:\n  Lb:\n    Type: AWS::LB\n    Properties:\n      Attributes:\n"
                "        - Key: idle_timeout\n          Value: '60'\n        - Key: access_logs.s3.enabled\n"
                "          Value: 'false'\n")
    assert [(v.line, v.key) for _, v in run(cfn, yaml_file(template))] == [(9, "Attributes[1].Value")]
    assert lines(cfn, yaml_file(template.replace("'false'", "'true'"))) == []
    assert lines(cfn, yaml_file(template.replace("access_logs.s3.enabled", "deletion"))) == [2]
