"""`covers_port` (port specs, lists, ranges, from/to blocks, every-protocol words), `not_empty`,
`split`, and blocks a `dynamic` block generates from a `for_each` that is known."""

from __future__ import annotations

import pytest

from tests.rules.spec.helpers import decided, lines, rule_of, terraform, undecided_lines
from tests.rules.spec.loader_test import error_of
from tests.rules.spec.validation_test import tf as spec_with


def tf(check: str) -> str:
    return f"- format: terraform\n  types: [aws_thing]\n  check: {check}"


def thing(body: str) -> str:
    return 'variable "v" {}\nresource "aws_thing" "t" {\n' + body + "\n}\n"


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("22", "holds"), ('"22"', "holds"), ('"20-25"', "holds"), ('"25-20"', "holds"), ('"23-3388"', "fails"),
        ('"*"', "holds"), ('"All"', "holds"), ('["80", "443"]', "fails"), ('["443", "22"]', "holds"),
        ('" 22 "', "holds"), ('"not-a-port"', "fails"), ("true", "fails"), ('"70000"', "fails"),
        ("var.v", "unknown"), ('["80", var.v]', "unknown"), ('["22", var.v]', "holds"),
    ],
)
def test_covers_port_reads_port_specs(value: str, state: str) -> None:
    rule = rule_of(tf("{not: {path: port, covers_port: 22}}"))  # a finding when it covers 22
    resources = terraform(thing(f"  port = {value}"))
    assert (lines(rule, resources), undecided_lines(rule, resources)) == {
        "holds": ([3], []), "fails": ([], []), "unknown": ([], [3])}[state]


@pytest.mark.parametrize(
    ("operand", "value", "covered"),
    [
        ("[1433, 3306]", '"3000-4000"', True),
        ("[1433, 3306]", '"1434-3305"', False),
        ('"5000-5500"', "5432", True),
        ('"5000-5500"', '"5501-6000"', False),
        ('"0-65535"', '"53"', True),
    ],
)
def test_covers_port_asks_about_lists_and_ranges(operand: str, value: str, covered: bool) -> None:
    rule = rule_of(tf(f"{{path: port, covers_port: {operand}}}"))
    assert lines(rule, terraform(thing(f"  port = {value}"))) == ([] if covered else [3])


PAIR = "{port: 22, from: from_port, to: to_port, protocol: protocol}"


@pytest.mark.parametrize(
    ("block", "state"),
    [
        ('from_port = 20\n    to_port = 25\n    protocol = "tcp"', "holds"),
        ('from_port = 80\n    to_port = 443\n    protocol = "tcp"', "fails"),
        ('from_port = 0\n    to_port = 0\n    protocol = "-1"', "holds"),  # every protocol, every port
        ('from_port = 0\n    to_port = 0\n    protocol = -1', "holds"),
        ('from_port = 0\n    to_port = 0\n    protocol = "ALL"', "holds"),
        ('from_port = 22\n    protocol = "tcp"', "holds"),  # one end: one port
        ('protocol = "tcp"', "fails"),
        ("from_port = 20\n    to_port = var.v", "unknown"),
        ("from_port = 80\n    to_port = 80\n    protocol = var.v", "unknown"),  # may be every protocol
        ("from_port = 22\n    to_port = 22\n    protocol = var.v", "holds"),
    ],
)
def test_covers_port_reads_from_and_to_attributes(block: str, state: str) -> None:
    rule = rule_of(tf(f"{{for_each: {{path: ingress, check: {{not: {{path: $item, covers_port: {PAIR}}}}}}}}}"))
    resources = terraform(thing(f"  ingress {{\n    {block}\n  }}"))
    found, undecided = lines(rule, resources), undecided_lines(rule, resources)
    if state == "holds":
        assert found and not undecided
    else:
        assert (found, bool(undecided)) == ([], state == "unknown")


def test_a_port_finding_lands_on_what_opened_the_port() -> None:
    rule = rule_of(tf("{for_each: {path: ingress, check: {not: {path: $item, covers_port: " + PAIR + "}}}}"))
    body = ('  ingress {\n    from_port = 20\n    to_port   = 25\n    protocol  = "tcp"\n  }\n'
            '  ingress {\n    from_port = 0\n    to_port   = 0\n    protocol  = "-1"\n  }')
    found = decided(rule, terraform(thing(body)))
    assert [(v.line, v.key) for v in found] == [(4, "ingress[0]"), (11, "ingress[1]")]
    listed = rule_of(tf("{not: {path: ports, covers_port: 22}}"))
    body = '  ports = [\n    "80",\n    "20-30",\n  ]'
    violation, = decided(listed, terraform(thing(body)))
    assert (violation.line, violation.message) == (5, 'Thing is not safe (ports = "20-30").')
    # A list of port blocks as the value: the block that covers it, on its `from` attribute.
    blocks = rule_of(tf(f"{{not: {{path: ingress, covers_port: {PAIR}}}}}"))
    body = ('  ingress {\n    from_port = 80\n    to_port   = 80\n  }\n'
            '  ingress {\n    from_port = 21\n    to_port   = 23\n  }')
    assert lines(blocks, terraform(thing(body))) == [8]


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        ("{path: l, not_empty: true}", "l = []", [3]),
        ("{path: l, not_empty: true}", 'l = ["a"]', []),
        ("{path: l, not_empty: true}", 'x = "a"', [2]),  # absent fails, on the block
        ("{path: l, not_empty: true}", "l = {}", [3]),
        ("{path: l, not_empty: false}", "l = []", []),
        ("{path: l, not_empty: false}", 'x = "a"', []),  # absent passes
        ("{path: l, not_empty: false}", 'l = ["a"]', [3]),
        ("{path: s, split: ',', covers_port: 85}", 's = "22, 80-90"', []),
        ("{path: s, split: ',', covers_port: 85}", 's = "22,443"', [3]),
        ("{path: s, split: ',', contains: b}", 's = "a,b"', []),
        ("{path: s, split: ',', contains: b}", 's = "a,bc"', [3]),  # parts, not a substring
        ("{path: s, split: ',', equals: [a, b]}", 's = " a , b ,"', []),
    ],
)
def test_not_empty_and_split(check: str, value: str, expected: list[int]) -> None:
    assert lines(rule_of(tf(check)), terraform(thing(f"  {value}"))) == expected


def test_not_empty_on_unknown_is_undecided_but_a_list_with_unknown_items_has_items() -> None:
    rule = rule_of(tf("{path: l, not_empty: true}"))
    assert undecided_lines(rule, terraform(thing("  l = var.v"))) == [3]
    assert lines(rule, terraform(thing("  l = [var.v]"))) == [] and undecided_lines(rule, terraform(thing("  l = [var.v]"))) == []


DYNAMIC = """
  rule {
    port = 443
  }
  dynamic "rule" {
    for_each = EACH
    content {
      port = 22
      name = rule.key
    }
  }"""


@pytest.mark.parametrize(
    ("each", "found", "undecided"),
    [
        ('{ a = 1 }', [10], []),  # known: its content is judged
        ("[1, 2]", [10], []),
        ("{}", [], []),  # generates nothing
        ("var.v", [], [7]),  # may generate any number: a question
    ],
)
def test_a_dynamic_block_with_a_known_for_each_is_judged_by_its_content(each: str, found: list[int],
                                                                         undecided: list[int]) -> None:
    resources = terraform(thing(DYNAMIC.replace("EACH", each)))
    for check in ("{path: rule.port, not_equals: 22}", "{for_each: {path: rule, check: {path: port, not_equals: 22}}}"):
        rule = rule_of(tf(check))
        assert (lines(rule, resources), undecided_lines(rule, resources)) == (found, undecided), check


@pytest.mark.parametrize(
    ("check", "line", "words"),
    [
        ("{path: p, covers_port: 70000}", 10, "'covers_port' names ports"),
        ("{path: p, covers_port: ssh}", 10, "'covers_port' names ports"),
        ("{path: p, covers_port: []}", 10, "at least one port"),
        ("{path: p, covers_port: [[22]]}", 10, "'covers_port' names ports"),
        ("{path: p, covers_port: {port: 22, from: a}}", 10, "needs 'to'"),
        ("{path: p, covers_port: {port: 22, from: a, to: b, colour: c}}", 10, "unknown key 'colour' in 'covers_port'"),
        ("{path: p, covers_port: {port: 22, from: a, to: $item}}", 10, "'$item' names the item"),
        ("{path: p, not_empty: 1}", 10, "true or false"),
        ("{path: p, split: '', contains: a}", 10, "'split' must be"),
        ("{path: p, split: 1, contains: a}", 10, "'split' must be"),
        ("{path: p, split: ' ', contains: a}", 10, "'split' must be"),
        ("{path: p, not_empty: true, covers_port: 1}", 10, "one test per condition"),
        ("{path: p, split: ',', gt: 1}", 10, "'split' makes a list of parts"),
        ("{path: p, split: ',', regex: a}", 10, "not 'regex'"),
    ],
)
def test_every_misuse_of_the_port_and_list_tests_names_its_line(check: str, line: int, words: str) -> None:
    message = error_of(spec_with(check))
    assert message.startswith(f"rules/specs/test/CB-TEST-001.yml:{line}: "), message
    assert words in message, message
