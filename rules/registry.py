"""The rule registry and the regulation mappings, loaded from auditable data.

Rules are listed explicitly, pack by pack; the mapping of regulation controls to rule ids
lives in `rules/frameworks/*.yml` and is the single source of truth for "which controls does
this rule enforce".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from bot.engine.review import RuleSet
from bot.engine.rule import Rule
from rules.spec.catalog import spec_rules


def all_rules() -> tuple[Rule, ...]:
    """Every rule of every pack, then every spec of rules/specs (by id), in a stable order."""
    from rules import (
        aws_provider,
        cloudformation,
        dockerfile,
        github_actions,
        kubernetes,
        plaintext_secrets,
        regressions,
        terraform_aws,
    )

    return (
        *terraform_aws.RULES,
        *cloudformation.RULES,
        *kubernetes.RULES,
        *github_actions.RULES,
        *dockerfile.RULES,
        *plaintext_secrets.RULES,
        *regressions.RULES,
        *aws_provider.RULES,
        *spec_rules(),
    )


@dataclass(frozen=True)
class Control:
    id: str
    name: str
    description: str
    rule_ids: tuple[str, ...]
    coverage: str = "automated"  # or "manual" / "out-of-scope": no rule can decide it, see `why`
    why: str = ""


@dataclass(frozen=True)
class Framework:
    key: str  # e.g. "hipaa", used in findings' `controls`
    name: str
    version: str
    controls: tuple[Control, ...]


class FrameworkError(ValueError):
    """A mapping file is malformed: the rule set cannot be trusted to report controls."""


_COVERAGE = ("automated", "manual", "out-of-scope")


def _framework_from(key: str, data: object) -> Framework:
    if not isinstance(data, dict) or not isinstance(data.get("controls"), list):
        raise FrameworkError(f"rules/frameworks/{key}.yml: expected a mapping with a 'controls' list")
    controls = []
    for item in data["controls"]:
        if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("rules", []), list):
            raise FrameworkError(f"rules/frameworks/{key}.yml: each control needs an 'id' and a 'rules' list")
        coverage = str(item.get("coverage", "automated"))
        if coverage not in _COVERAGE or (coverage != "automated" and not str(item.get("why", "")).strip()):
            raise FrameworkError(f"rules/frameworks/{key}.yml: control {item['id']}: coverage is one of "
                                 f"{', '.join(_COVERAGE)}, and a manual or out-of-scope one says why")
        controls.append(
            Control(
                id=str(item["id"]),
                name=str(item.get("name", "")),
                description=str(item.get("description", "")),
                rule_ids=tuple(str(r) for r in item.get("rules", [])),
                coverage=coverage,
                why=str(item.get("why", "")),
            )
        )
    return Framework(key=key, name=str(data.get("name", key)), version=str(data.get("version", "")),
                     controls=tuple(controls))


@lru_cache(maxsize=1)
def load_frameworks() -> tuple[Framework, ...]:
    """All framework mapping files shipped in rules/frameworks, sorted by key."""
    folder = resources.files("rules") / "frameworks"
    frameworks = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yml"):
            key = entry.name[: -len(".yml")]
            frameworks.append(_framework_from(key, yaml.safe_load(entry.read_text(encoding="utf-8"))))
    return tuple(frameworks)


def controls_by_rule(frameworks: Iterable[Framework]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Invert the mappings: rule id -> framework key -> control ids."""
    result: dict[str, dict[str, list[str]]] = {}
    for framework in frameworks:
        for control in framework.controls:
            for rule_id in control.rule_ids:
                result.setdefault(rule_id, {}).setdefault(framework.key, []).append(control.id)
    return {rule: {fw: tuple(ids) for fw, ids in per.items()} for rule, per in result.items()}


def merged_controls(rules: Iterable[Rule], frameworks: Iterable[Framework]
                    ) -> dict[str, dict[str, tuple[str, ...]]]:
    """Controls per rule: the framework files' `rules:` lists plus what each rule declares itself
    (`Rule.controls`), each control id once, in the framework file's order."""
    frameworks, rules = tuple(frameworks), tuple(rules)
    canonical = {alias: rule.id for rule in rules for alias in rule.aliases}
    merged: dict[str, dict[str, list[str]]] = {}
    for rule_id, per in controls_by_rule(frameworks).items():  # a file naming an earlier id means its rule
        for fw, ids in per.items():
            listed = merged.setdefault(canonical.get(rule_id, rule_id), {}).setdefault(fw, [])
            listed.extend(i for i in ids if i not in listed)
    for rule in rules:
        for fw, ids in rule.controls.items():
            listed = merged.setdefault(rule.id, {}).setdefault(fw, [])
            listed.extend(i for i in ids if i not in listed)
    order = {f.key: {c.id: n for n, c in enumerate(f.controls)} for f in frameworks}

    def in_file_order(fw: str, ids: list[str]) -> tuple[str, ...]:
        positions = order.get(fw, {})
        return tuple(sorted(ids, key=lambda i: positions.get(i, len(positions))))

    return {rule: {fw: in_file_order(fw, ids) for fw, ids in per.items()} for rule, per in merged.items()}


@lru_cache(maxsize=1)
def default_controls() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    return merged_controls(all_rules(), load_frameworks())


def default_rule_set() -> RuleSet:
    """Every shipped rule with its regulation controls: what the App and the CLI hand the engine."""
    return RuleSet(all_rules(), default_controls())
