"""Conditions in words, for a finding that no single value is to blame for: "no item of
settings.database_flags with name = "log_connections"" (a `some` that found none)."""

from __future__ import annotations

from rules.spec.model import ITEM, All, Condition, Leaf, Ports
from rules.spec.values import render

_SIGNS = {"equals": "=", "not_equals": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def describe(condition: Condition) -> str | None:
    """A leaf (or an `all` of leaves) as `name = "x" and value = "on"`; None for anything else."""
    if isinstance(condition, Leaf):
        return _leaf(condition)
    if isinstance(condition, All):
        parts = [describe(item) for item in condition.items]
        return " and ".join(p for p in parts if p is not None) if all(p is not None for p in parts) else None
    return None


def _leaf(leaf: Leaf) -> str:
    subject = "value" if leaf.path == (ITEM,) else leaf.text
    test, operand = leaf.test, leaf.operand
    if test in _SIGNS:
        return f"{subject} {_SIGNS[test]} {render(operand)}"
    if test in ("in", "not_in"):
        return f"{subject} {test.replace('_', ' ')} {render(list(operand))}"
    if test in ("regex", "not_regex"):
        return f"{subject} {'not ' if test == 'not_regex' else ''}matching {render(operand)}"
    if test == "contains":
        return f"{subject} containing {render(operand)}"
    if test == "exists":
        return f"{subject} {'set' if operand else 'not set'}"
    if test == "cidr_open":
        return f"{subject} {'' if operand else 'not '}open to the internet"
    if test == "not_empty":
        return f"{subject} {'not ' if operand else ''}empty"
    if isinstance(operand, Ports):
        return f"{subject} covering port {operand.text}"
    return f"{subject} {test.replace('_', ' ')} {render(operand)}"
