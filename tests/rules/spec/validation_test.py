"""The loader on the keys the language grew (some, where, $item, referrer, covers_port,
not_empty, split, $root, $template): the typed form of each, and every misuse as
`path:line: what is wrong`."""

from __future__ import annotations

import pytest

from rules.spec.loader import load_spec
from rules.spec.model import ITEM, ForEach, Leaf, Some
from tests.rules.spec.helpers import spec_text
from tests.rules.spec.loader_test import PATH, error_of


def tf(check: str, types: str = "[x]", format_: str = "terraform") -> str:
    return spec_text(f"- format: {format_}\n  types: {types}\n  check:\n    " + check.replace("\n", "\n    "))


def test_some_and_where_become_typed_data() -> None:
    spec = load_spec(tf("some:\n  path: flags\n  where: {path: name, equals: a}\n  check: {path: $item, exists: true}"),
                     PATH)
    some = spec.bindings[0].check
    assert isinstance(some, Some) and some.absent_fail and some.path == ("flags",)
    assert isinstance(some.where, Leaf) and isinstance(some.check, Leaf) and some.check.path == (ITEM,)
    spec = load_spec(tf("for_each: {path: flags, where: {path: name, equals: a}, check: {path: v, equals: 1}}"), PATH)
    each = spec.bindings[0].check
    assert isinstance(each, ForEach) and not each.absent_fail and each.where is not None
    spec = load_spec(tf("some: {path: flags, check: {path: v, equals: 1}, absent: pass}"), PATH)
    assert isinstance(spec.bindings[0].check, Some) and not spec.bindings[0].check.absent_fail


@pytest.mark.parametrize(
    ("check", "line", "words"),
    [
        ("some: {path: a}", 10, "some is missing 'check'"),
        ("some: {check: {path: a, equals: 1}}", 10, "some is missing 'path'"),
        ("some: {path: a, check: {path: b, equals: 1}, colour: red}", 10, "unknown key 'colour' in a some"),
        ("some: {path: a, check: {path: b, equals: 1}, absent: maybe}", 10, "some 'absent' must be pass or fail"),
        ("some: [a]", 10, "expected a some"),
        ("some: {path: a, where: {path: b}, check: {path: b, equals: 1}}", 10, "needs one of"),
        ("for_each: {path: a, where: 3, check: {path: b, equals: 1}}", 10, "a condition (a mapping)"),
        ("{path: $item, equals: 1}", 10, "'$item' names the item of a for_each or some"),
        ("some: {path: a, check: {path: $item.b, equals: 1}}", 10, "'$containers' and '$item' stand alone"),
        ("some: {path: $containers, check: {path: b, equals: 1}}", 10, "workloads binding only"),
        ("for_each:\n  path: a\n  check: {sibling: {types: [t], where: {path: $item, equals: 1}}}", 12,
         "'$item' names the item"),
    ],
)
def test_every_misuse_of_the_new_keys_names_its_line(check: str, line: int, words: str) -> None:
    message = error_of(tf(check))
    assert message.startswith(f"{PATH}:{line}: "), message
    assert words in message, message


def test_some_over_containers_is_allowed_in_a_workloads_binding() -> None:
    spec = load_spec(tf("some: {path: $containers, check: {path: name, equals: proxy}}", "[workloads]",
                        "kubernetes"), PATH)
    assert isinstance(spec.bindings[0].check, Some)
