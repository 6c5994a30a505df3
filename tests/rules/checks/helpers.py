"""Resources from source text and a module context, for testing checks without the engine."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.engine.model import Resource, Violation
from bot.engine.parsers.terraform import parse_module
from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.rule import CheckFn


@dataclass(frozen=True)
class Context:
    """The module (or template) as the engine shows it to a rule."""

    resources: tuple[Resource, ...]

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return self.resources

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        names = {resource.address, resource.address.removeprefix("Resources.")}
        return [o for o in self.resources if o is not resource and not o.references.isdisjoint(names)
                and (type_ is None or o.type == type_)]

    def base(self, resource: Resource) -> Resource | None:
        return None


def terraform(text: str, **others: str) -> tuple[Resource, ...]:
    files = {"main.tf": textwrap.dedent(text).lstrip("\n"), **{f"{k}.tf": textwrap.dedent(v) for k, v in others.items()}}
    parsed = parse_module(files)
    assert [e for f in parsed.values() for e in f.errors] == []
    return tuple(r for f in parsed.values() for r in f.resources)


def template(text: str) -> tuple[Resource, ...]:
    parsed = parse_yaml("template.yaml", 'AWSTemplateFormatVersion: "2010-09-09"\n' + textwrap.dedent(text).lstrip("\n"))
    assert parsed.errors == ()
    return parsed.resources


def check(function: CheckFn, resources: Iterable[Resource]) -> list[tuple[str, Violation]]:
    """(resource address, violation) for every decided violation, in file order."""
    found = tuple(resources)
    context = Context(found)
    return [(r.address, v) for r in found for v in function(r, context) if not v.undecided]


def lines(function: CheckFn, resources: Iterable[Resource]) -> list[int]:
    return sorted(v.line for _, v in check(function, resources))
