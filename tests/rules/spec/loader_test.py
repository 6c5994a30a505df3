"""The loader: a valid spec becomes typed data; every mistake is `path:line: what is wrong`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.model import Resource, Severity, Violation
from bot.engine.rule import RuleContext
from rules.spec.loader import SpecError, load_spec, load_specs
from rules.spec.model import All, AnyOf, ForEach, Leaf, Not, Python, Sibling
from tests.rules.spec.helpers import HEAD, spec_text

PATH = "rules/specs/test/CB-TEST-001.yml"
BINDING = """
- format: terraform
  types: [aws_thing]
  check: {path: encrypted, equals: true}
"""


def error_of(text: str, path: str = PATH) -> str:
    with pytest.raises(SpecError) as caught:
        load_spec(text, path)
    return str(caught.value)


def test_a_valid_spec_becomes_typed_data() -> None:
    text = HEAD + """\
controls:
  hipaa: ["164.312(a)(2)(iv)"]
peers:
  checkov: [CKV_AWS_1]
aliases: [CB-OLD-001]
bindings:
  - format: terraform
    types: [aws_thing, aws_other]
    skip_if: {any: [{path: snapshot_id, exists: true}, {not: {path: kind, in: [a, b]}}]}
    check:
      all:
        - {path: encrypted, equals: true}
        - for_each: {path: rule, check: {path: port, gte: 1024}, absent: fail}
        - sibling: {types: [aws_default], where: {path: enabled, equals: true, absent: pass}}
    message: Thing is open.
    fix: {set: "true"}
"""
    spec = load_spec(text, PATH)
    assert (spec.id, spec.severity, spec.aliases) == ("CB-TEST-001", Severity.HIGH, ("CB-OLD-001",))
    assert spec.controls == {"hipaa": ("164.312(a)(2)(iv)",)} and spec.peers == {"checkov": ("CKV_AWS_1",)}
    binding, = spec.bindings
    assert binding.types == ("aws_thing", "aws_other") and binding.message == "Thing is open."
    assert binding.fix is not None and binding.fix.set == "true"
    assert isinstance(binding.skip_if, AnyOf) and isinstance(binding.skip_if.items[1], Not)
    check = binding.check
    assert isinstance(check, All)
    leaf, each, sibling = check.items
    assert isinstance(leaf, Leaf) and (leaf.path, leaf.test, leaf.operand, leaf.absent.mode) == (
        ("encrypted",), "equals", True, "fail")
    assert isinstance(each, ForEach) and each.absent_fail and each.path == ("rule",)
    assert isinstance(sibling, Sibling) and sibling.types == ("aws_default",)
    assert isinstance(sibling.where, Leaf) and sibling.where.absent.mode == "pass"


def test_paths_split_into_keys_and_indexes_and_negative_tests_pass_when_absent() -> None:
    spec = load_spec(spec_text("""
        - format: terraform
          types: [aws_thing]
          check: {all: [{path: rule.0.port, not_equals: 22}, {path: x, exists: false}, {path: c, cidr_open: false},
                        {path: d, absent: {value: 7}, lt: 8}]}
    """), PATH)
    check = spec.bindings[0].check
    assert isinstance(check, All)
    modes = [item.absent.mode for item in check.items if isinstance(item, Leaf)]
    assert modes == ["pass", "pass", "pass", "value"]
    first = check.items[0]
    assert isinstance(first, Leaf) and first.path == ("rule", 0, "port")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (HEAD + "colour: red\nbindings:\n" + BINDING, 6, "unknown key 'colour'"),
        (HEAD.replace("severity: high", "severity: severe") + "bindings:\n" + BINDING, 3, "unknown severity 'severe'"),
        (HEAD.replace("title: Thing is not safe\n", "") + "bindings:\n" + BINDING, 1, "missing 'title'"),
        (HEAD.replace("rationale: Because it matters.\n", "") + "bindings:\n" + BINDING, 1, "missing 'rationale'"),
        (HEAD.replace("remediation: Make it safe.\n", "") + "bindings:\n" + BINDING, 1, "missing 'remediation'"),
        (HEAD.replace("title: Thing is not safe", "title: [a]") + "bindings:\n" + BINDING, 2, "'title' must be"),
        (HEAD.replace("CB-TEST-001", "CB-TEST-1") + "bindings:\n" + BINDING, 1, "not of the form"),
        (HEAD.replace("CB-TEST-001", "CB-TEST-002") + "bindings:\n" + BINDING, 1, "does not match the file name"),
        (HEAD + "aliases: [CB-TEST-001]\nbindings:\n" + BINDING, 6, "alias 'CB-TEST-001'"),
        (HEAD + "controls: [hipaa]\nbindings:\n" + BINDING, 6, "'controls' as a mapping"),
        (HEAD + "bindings: []\n", 6, "non-empty list"),
        (spec_text("- format: pulumi\n  types: [x]\n  check: {path: a, equals: 1}"), 7, "unknown format 'pulumi'"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, equals: 1}\n  fix: {set: true}"), 10,
         "'set' must be a string"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, equals: 1}\n  colour: red"), 10,
         "unknown key 'colour' in a binding"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, regex: '(['}"), 9, "does not compile"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, equals: 1, in: [1]}"), 9, "one test per"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a}"), 9, "needs one of"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {equals: 1}"), 9, "needs a 'path'"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, equal: 1}"), 9, "unknown key 'equal'"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, gt: ten}"), 9, "'gt' must be a number"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, in: 3}"), 9, "'in' must be a non-empty list"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, exists: 1}"), 9, "true or false"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, equals: 1, absent: maybe}"), 9,
         "'absent' must be"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, equals: 1, case: upper}"), 9, "'case'"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a..b, equals: 1}"), 9, "empty step"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {python: no_such_check}"), 9, "not in the table"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {all: [], path: a}"), 9, "stands alone"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {all: []}"), 9, "non-empty list of conditions"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {for_each: {path: a}}"), 9, "missing 'check'"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {sibling: {where: {path: a, equals: 1}}}"), 9,
         "missing 'types'"),
        (spec_text("- format: terraform\n  types: [x]\n  check:\n    for_each:\n      path: $containers\n"
                   "      check: {path: a, equals: 1}"), 11, "workloads binding only"),
        (spec_text("- format: terraform\n  types: [workloads]\n  check: {path: a, equals: 1}"), 8, "'workloads'"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, equals: 1}\n"
                   "- format: terraform\n  types: [x]\n  check: {path: b, equals: 1}"), 10, "bound twice"),
        (spec_text("- format: terraform\n  types: [x]\n  check: {path: a, equals: !Ref b}"), 9, "tag !Ref"),
        (spec_text("- format: terraform\n  types: [x]\n  check: &c {path: a, equals: 1}"), 9, "anchors"),
        (HEAD + "bindings:\n  - format: terraform\n    types: [x\n", 9, "not valid YAML"),
        (HEAD + "title: again\nbindings:\n" + BINDING, 6, "duplicate key 'title'"),
        ("- just a list\n", 1, "a mapping (a spec)"),
    ],
)
def test_every_mistake_names_the_file_and_line(text: str, line: int, words: str) -> None:
    message = error_of(text)
    assert message.startswith(f"{PATH}:{line}: "), message
    assert words in message, message


def test_a_python_check_must_be_in_the_table() -> None:
    def check(resource: Resource, context: RuleContext) -> list[Violation]:
        return []

    text = spec_text("- format: terraform\n  types: [x]\n  check: {python: custom}")
    spec = load_spec(text, PATH, {"custom": check})
    assert isinstance(spec.bindings[0].check, Python)
    assert "not in the table" in error_of(text)


def test_an_id_or_alias_used_twice_across_files_is_an_error() -> None:
    first = HEAD + "bindings:\n" + BINDING
    second = HEAD.replace("CB-TEST-001", "CB-TEST-002") + "aliases: [CB-TEST-001]\nbindings:\n" + BINDING
    with pytest.raises(SpecError, match=r"rules/specs/b/CB-TEST-002.yml:1: id 'CB-TEST-001' is also claimed by "
                                        r"rules/specs/a/CB-TEST-001.yml:1"):
        load_specs([("rules/specs/a/CB-TEST-001.yml", first), ("rules/specs/b/CB-TEST-002.yml", second)])
    with pytest.raises(SpecError, match="also claimed"):
        load_specs([("rules/specs/a/CB-TEST-001.yml", first), ("rules/specs/b/CB-TEST-001.yml", first)])


YAML_TEXT = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
              st.sampled_from(["path", "equals", "all", "not", "for_each", "python", "!Ref x", "&a", "*a", "{", "-"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.sampled_from([*"abc", "id", "title", "bindings", "check", "path",
                                                             "types", "format", "all", "not"]), inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=120), YAML_TEXT.map(repr), YAML_TEXT.map(lambda v: HEAD + "bindings: " + repr(v))))
def test_the_loader_raises_nothing_but_spec_error(text: str) -> None:
    try:
        load_spec(text, PATH)
    except SpecError as error:
        assert str(error).startswith(f"{PATH}:")
