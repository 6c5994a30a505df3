"""The rule registry and the regulation mappings, loaded from auditable data.

Rules are the shipped specs (rules/specs/<pack>/<ID>.yml), listed by id. Which controls a rule enforces is the union of the
framework files' `rules:` lists (`rules/frameworks/*.yml`) and the rule's own `controls:`. Every
control of a framework file is either automated (some rule enforces it) or states why not:
`coverage: manual` (a person checks it) or `coverage: out-of-scope` (a repository cannot show it).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

from bot.engine.review import RuleSet
from bot.engine.rule import Rule
from rules.spec.cache import cached, catalog_entries
from rules.spec.catalog import spec_rules


def all_rules() -> tuple[Rule, ...]:
    """Every shipped rule: the specs of rules/specs (one per control, by id), each check either
    conditions or a function of the explicit table rules/spec/functions.py."""
    return spec_rules()


AUTOMATED, MANUAL, OUT_OF_SCOPE = "automated", "manual", "out-of-scope"
UNMAPPED = "unmapped"  # neither a rule nor a stated reason: the registry test refuses it
DECLARABLE_COVERAGE = (MANUAL, OUT_OF_SCOPE)


@dataclass(frozen=True)
class Control:
    """One control of a framework and how Compliance Bot covers it.

    - `rule_ids`: the rules the framework file lists for it; `enforced_by`: those plus every
      rule that names it in its own `controls:` (`Rule.controls`), in registry order.
    - `coverage`: "automated" when any rule enforces it; otherwise what the file states:
      "manual" (a person checks it, `why` says what to look at) or "out-of-scope" (a repository
      cannot show it, `why` says why); "unmapped" when the file says neither.
    """

    id: str
    name: str
    description: str
    rule_ids: tuple[str, ...]
    coverage: str = UNMAPPED
    why: str = ""
    enforced_by: tuple[str, ...] = ()

    @property
    def automated(self) -> bool:
        return self.coverage == AUTOMATED


@dataclass(frozen=True)
class Framework:
    key: str  # e.g. "hipaa", used in findings' `controls`
    name: str
    version: str
    controls: tuple[Control, ...]

    def control(self, control_id: str) -> Control | None:
        return next((c for c in self.controls if c.id == control_id), None)


class FrameworkError(ValueError):
    """A mapping file is malformed: the rule set cannot be trusted to report controls."""


def _control_from(key: str, item: object) -> Control:
    where = f"rules/frameworks/{key}.yml"
    if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("rules", []), list):
        raise FrameworkError(f"{where}: each control needs an 'id' and a 'rules' list")
    control_id = str(item["id"])
    rule_ids = tuple(str(r) for r in item.get("rules") or [])
    declared = item.get("coverage")
    if declared == AUTOMATED:
        declared = None  # automated is what rules (listed here or declaring the control) make it
    why = str(item.get("why") or "").strip()
    if declared is not None and declared not in DECLARABLE_COVERAGE:
        raise FrameworkError(f"{where}: control {control_id}: coverage must be one of "
                             f"{AUTOMATED}, {', '.join(DECLARABLE_COVERAGE)}")
    if declared is not None and rule_ids:
        raise FrameworkError(f"{where}: control {control_id}: lists rules and says it is {declared}")
    if declared is not None and not why:
        raise FrameworkError(f"{where}: control {control_id}: coverage {declared} needs a 'why'")
    coverage = AUTOMATED if rule_ids else str(declared) if declared is not None else UNMAPPED
    return Control(id=control_id, name=str(item.get("name", "")), description=str(item.get("description", "")),
                   rule_ids=rule_ids, coverage=coverage, why=why, enforced_by=rule_ids)


def _framework_from(key: str, data: object) -> Framework:
    if not isinstance(data, dict) or not isinstance(data.get("controls"), list):
        raise FrameworkError(f"rules/frameworks/{key}.yml: expected a mapping with a 'controls' list")
    controls = tuple(_control_from(key, item) for item in data["controls"])
    return Framework(key=key, name=str(data.get("name", key)), version=str(data.get("version", "")),
                     controls=controls)


def with_declared_rules(frameworks: Iterable[Framework], rules: Iterable[Rule]) -> tuple[Framework, ...]:
    """The frameworks with every rule that declares a control (`Rule.controls`) added to it: a
    control some rule enforces is automated, whatever the file said before that rule existed."""
    rules = tuple(rules)
    canonical = {alias: rule.id for rule in rules for alias in rule.aliases}  # a file may name an earlier id
    declared: dict[tuple[str, str], list[str]] = {}  # (framework, control) -> the rules declaring it, in order
    for rule in rules:
        for key, control_ids in rule.controls.items():
            for control_id in dict.fromkeys(control_ids):
                declared.setdefault((key, control_id), []).append(rule.id)
    resolved = []
    for framework in frameworks:
        controls = []
        for control in framework.controls:
            declaring = declared.get((framework.key, control.id), [])
            enforced = tuple(dict.fromkeys((*(canonical.get(i, i) for i in control.rule_ids), *declaring)))
            coverage = AUTOMATED if enforced else control.coverage
            controls.append(dataclasses.replace(control, enforced_by=enforced, coverage=coverage))
        resolved.append(dataclasses.replace(framework, controls=tuple(controls)))
    return tuple(resolved)


def load_framework_files() -> tuple[Framework, ...]:
    """The framework mapping files shipped in rules/frameworks, as written, sorted by key (kept in
    the catalog cache, rules/spec/cache.py)."""
    return cached("frameworks", _read_framework_files, {"Framework": Framework, "Control": Control})


def _read_framework_files() -> tuple[Framework, ...]:
    import yaml  # only when the catalog cache has no entry

    folder = resources.files("rules") / "frameworks"
    frameworks = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yml"):
            key = entry.name[: -len(".yml")]
            frameworks.append(_framework_from(key, yaml.safe_load(entry.read_text(encoding="utf-8"))))
    return tuple(frameworks)


@lru_cache(maxsize=1)
def load_frameworks() -> tuple[Framework, ...]:
    """All shipped frameworks, each control knowing the rules that enforce it (the file's list and
    the rules' own `controls:`) and so its coverage."""
    return with_declared_rules(load_framework_files(), all_rules())


def unknown_rule_ids(frameworks: Iterable[Framework], rules: Iterable[Rule]) -> list[tuple[str, str, str]]:
    """(framework, control, rule id) for every mapping that names a rule the registry does not have
    (neither as its id nor as one of its earlier ids)."""
    known = {i for r in rules for i in (r.id, *r.aliases)}
    return [(f.key, c.id, rule_id) for f in frameworks for c in f.controls for rule_id in c.rule_ids
            if rule_id not in known]


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
    """Controls per shipped rule (`merged_controls`), kept in the catalog cache: a review needs
    these, not the framework files' names and descriptions."""
    return cached("controls", lambda: merged_controls(all_rules(), load_frameworks()), {})


MIGRATIONS_FILE = "tfsec-trivy.yml"
MIGRATED_TOOLS = ("tfsec", "trivy")  # one table: each tool accepts both id forms in its comments


class MigrationError(ValueError):
    """The tfsec/Trivy id table is malformed: migrated exceptions cannot be trusted to mean our rules."""


@lru_cache(maxsize=1)
def migration_table() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """tool -> tfsec/Trivy check id (AVD id and long ids, upper-case) -> our rules, from
    rules/migrations/tfsec-trivy.yml, for the policy's `exceptions.migrate`."""
    def read() -> Mapping[str, Mapping[str, tuple[str, ...]]]:
        return parse_migrations((resources.files("rules") / "migrations" / MIGRATIONS_FILE).read_text(encoding="utf-8"))

    return cached("migrations", read, {})


def parse_migrations(text: str) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    import yaml  # only when the catalog cache has no entry

    where = f"rules/migrations/{MIGRATIONS_FILE}"
    data = yaml.safe_load(text)
    checks = data.get("checks") if isinstance(data, dict) else None
    if not isinstance(checks, list):
        raise MigrationError(f"{where}: expected a 'checks' list")
    table: dict[str, tuple[str, ...]] = {}
    for number, entry in enumerate(checks):
        if not (isinstance(entry, dict) and isinstance(entry.get("avd"), str) and isinstance(entry.get("ids"), list)
                and isinstance(entry.get("rules"), list) and entry["rules"]):
            raise MigrationError(f"{where}: checks[{number}] needs an 'avd' id, an 'ids' list and a 'rules' list")
        for check in (entry["avd"], *entry["ids"]):
            key = str(check).upper()
            if key in table:
                raise MigrationError(f"{where}: checks[{number}]: {check} is listed twice")
            table[key] = tuple(str(rule) for rule in entry["rules"])
    return {tool: table for tool in MIGRATED_TOOLS}


def default_rule_set() -> RuleSet:
    """Every shipped rule with its regulation controls: what the App and the CLI hand the engine."""
    return RuleSet(all_rules(), default_controls(), catalog_version(), migration_table())


def prepared_rule_set() -> RuleSet:
    """`default_rule_set()` with everything its rules may need loaded now: every rule's bindings
    decoded and every Python check imported. For a process that reviews change after change (the
    App's engine), which pays this once at start-up rather than in its first reviews; a CLI run
    loads only what its change's resources meet."""
    from rules.spec.catalog import decode_all
    from rules.spec.functions import FUNCTIONS

    decode_all()
    FUNCTIONS.load_all()
    return default_rule_set()


def with_custom_rules(rule_set: RuleSet, custom: Iterable[Rule]) -> RuleSet:
    """`rule_set` and an organisation's accepted custom rules (rules/spec/custom.py), each with the
    controls it declares itself (no framework file lists a custom rule)."""
    custom = tuple(custom)
    if not custom:
        return rule_set
    return RuleSet([*rule_set.rules, *custom], {**rule_set.controls, **merged_controls(custom, ())},
                   rule_set.version, rule_set.migrations)


def _catalog_files(folder: Traversable) -> Iterator[tuple[str, bytes]]:
    for path, entry in catalog_entries(folder):
        yield path, entry.read_bytes()


@lru_cache(maxsize=1)
def catalog_version() -> str:
    """`sha256:<hex>` over every file of the shipped catalog (each spec's id is its file name, the
    framework mappings, the Python checks and the spec interpreter), by path and content: an
    evidence record names the exact rules and control mappings that judged a change, and any edit
    to either is another version. Computed once per process, and kept in the catalog cache (whose
    key changes with any file's size or modification time)."""
    return cached("version", _hashed_catalog, {})


def _hashed_catalog() -> str:
    digest = hashlib.sha256()
    for path, content in _catalog_files(resources.files("rules")):
        digest.update(f"{path}\0{hashlib.sha256(content).hexdigest()}\n".encode())
    return f"sha256:{digest.hexdigest()}"
