"""Reads and validates a spec file: every key, every value, every mistake as `path:line: message`.

Pure: it receives the text and the path it came from. YAML is composed (never constructed with
arbitrary tags), so line numbers survive and nothing in a spec can run code; anchors and
aliases are refused (a spec is small, and an alias bomb must not exhaust memory).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import yaml

from bot.engine.model import Severity
from bot.engine.rule import CheckFn
from rules.spec import linear_regex, values
from rules.spec.functions import FUNCTIONS
from rules.spec.model import (
    CONTAINERS,
    FORMATS,
    ITEM,
    ROOT,
    TEMPLATE,
    WORKLOADS,
    Absent,
    All,
    AnyOf,
    Binding,
    Condition,
    Fix,
    ForEach,
    Leaf,
    Not,
    Ports,
    Python,
    Referrer,
    Segment,
    Sibling,
    Some,
    Spec,
)

ID = re.compile(r"CB-[A-Z][A-Z0-9]*-\d{3}")
MAX_SPEC_BYTES = 256 * 1024
MAX_DEPTH = 40
SPEC_KEYS = ("id", "title", "severity", "rationale", "remediation", "controls", "peers", "aliases", "regression",
             "bindings")
BINDING_KEYS = ("format", "types", "skip_if", "check", "message", "fix")
COMPOSITES = ("all", "any", "not", "for_each", "some", "sibling", "referrer", "python")
TESTS = ("equals", "not_equals", "in", "not_in", "regex", "not_regex", "gt", "gte", "lt", "lte", "exists",
         "contains", "cidr_open", "covers_port", "not_empty")
LEAF_KEYS = ("path", *TESTS, "absent", "case", "split")
# Tests that read a list, which `split` makes of a string.
SPLIT_TESTS = ("contains", "covers_port", "cidr_open", "not_empty", "equals", "not_equals")
# Tests that pass when the value is absent unless the leaf says otherwise (negative tests).
PASS_WHEN_ABSENT = frozenset({"exists", "not_equals", "not_in", "not_regex"})


class SpecError(ValueError):
    """A spec is malformed; the message is `path:line: what is wrong`."""


@dataclass(frozen=True)
class Dialect:
    """The conventions a spec file follows beyond the language itself.

    The shipped specs (`SHIPPED`): ids `CB-<PACK>-<NNN>` named after their file, regexes in
    Python's `re` (reviewed with the code). An organisation's custom rules (rules/spec/custom.py)
    have ids of their own that must not look like ours, top-level keys another reader takes
    (their inline tests), and RE2 regexes, linear in the text whatever the pattern."""

    ids: re.Pattern[str] = ID
    id_form: str = "CB-<PACK>-<NNN>"
    id_is_file_name: bool = True
    reserved_prefix: str = ""  # an id (or alias) starting with it is refused, for `reserved_reason`
    reserved_reason: str = ""
    extra_keys: tuple[str, ...] = ()  # top-level keys this loader leaves to another reader
    linear_regex: bool = False
    python_hint: str = ""  # said instead of the whole table when a `python:` name is not in it


SHIPPED = Dialect()


@dataclass(frozen=True)
class _Where:
    """What a condition may use where it is written: the file, and the binding's format."""

    path: str
    format: str
    workloads: bool
    functions: Mapping[str, CheckFn]
    dialect: Dialect = SHIPPED
    depth: int = 0
    item: bool = False  # inside a for_each or some: `$item` names the item

    def deeper(self, node: yaml.Node) -> _Where:
        if self.depth >= MAX_DEPTH:
            raise self.error(node, f"conditions nest deeper than {MAX_DEPTH} levels")
        return replace(self, depth=self.depth + 1)

    def error(self, node: yaml.Node | None, message: str) -> SpecError:
        return _error(self.path, node, message)


def _error(path: str, node: yaml.Node | None, message: str) -> SpecError:
    line = node.start_mark.line + 1 if node is not None else 1
    return SpecError(f"{path}:{line}: {message}")


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


# --------------------------------------------------------------------------------------------
# YAML nodes
# --------------------------------------------------------------------------------------------


def _compose(text: str, path: str) -> yaml.Node:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        raise SpecError(f"{path}:1: larger than {MAX_SPEC_BYTES // 1024} KiB")
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark is not None else 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise SpecError(f"{path}:{line}: anchors and aliases are not allowed")
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in _SCALAR_TAGS | _COLLECTION_TAGS and tag != "!":
                shown = tag.replace("tag:yaml.org,2002:", "!!")
                raise SpecError(f"{path}:{line}: the YAML tag {shown} is not allowed: a spec is plain data")
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise SpecError(f"{path}:{line}: not valid YAML ({problem})") from None
    except RecursionError:
        raise SpecError(f"{path}:1: nested too deeply") from None
    if len(documents) != 1 or documents[0] is None:
        raise SpecError(f"{path}:1: a spec is exactly one YAML document")
    return documents[0]


_COLLECTION_TAGS = {"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"}
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


def _plain(node: yaml.Node, path: str, depth: int = 0) -> Any:
    """A YAML value as plain data (str, int, float, bool, None, list, dict), standard tags only."""
    if depth > MAX_DEPTH:
        raise _error(path, node, "value nested too deeply")
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # a date in a spec is the text written (`equals: 2024-01-01`)
        if node.tag not in _SCALAR_TAGS:
            raise _error(path, node, f"tag {node.tag} is not allowed in a spec")
        try:
            return yaml.SafeLoader("").construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError):
            raise _error(path, node, f"cannot read the value {node.value!r}") from None
    if isinstance(node, yaml.SequenceNode):
        if node.tag != "tag:yaml.org,2002:seq":
            raise _error(path, node, f"tag {node.tag} is not allowed in a spec")
        return [_plain(item, path, depth + 1) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        if node.tag != "tag:yaml.org,2002:map":
            raise _error(path, node, f"tag {node.tag} is not allowed in a spec")
        return {key: _plain(value, path, depth + 1) for key, value in _entries(node, path).items()}
    raise _error(path, node, "unexpected YAML node")


class _Entries(dict[str, yaml.Node]):
    """A mapping's values by key, remembering each key's node (errors about a key name its line)."""

    def __init__(self) -> None:
        super().__init__()
        self.key_nodes: dict[str, yaml.Node] = {}


def _entries(node: yaml.Node, path: str, what: str = "a mapping") -> _Entries:
    """A mapping node's entries by key; keys are plain strings and appear once."""
    if not isinstance(node, yaml.MappingNode) or node.tag != "tag:yaml.org,2002:map":
        raise _error(path, node, f"expected {what}")
    entries = _Entries()
    for key_node, value_node in node.value:
        key = _raw(key_node)
        if key is None:
            raise _error(path, key_node, "keys must be plain strings")
        if key in entries:
            raise _error(path, key_node, f"duplicate key '{key}'")
        entries[key] = value_node
        entries.key_nodes[key] = key_node
    return entries


def _known(entries: _Entries, known: Iterable[str], what: str, path: str) -> None:
    allowed = tuple(known)
    for key in entries:
        if key not in allowed:
            raise _error(path, entries.key_nodes[key], f"unknown key '{key}' in {what} (known: {', '.join(allowed)})")


def _raw(node: yaml.Node) -> str | None:
    """A plain scalar's text as written: `on`, `yes`, `0` stay words (YAML 1.1 would make them
    booleans and numbers), which is what a path, a type or a key means."""
    if isinstance(node, yaml.ScalarNode) and node.tag in _SCALAR_TAGS and str(node.value).strip():
        return str(node.value).strip()
    return None


def _text(node: yaml.Node, path: str, what: str, words: bool = False) -> str:
    """A non-empty string; with `words`, any plain scalar read as the text written."""
    raw = _raw(node)
    if raw is None or (not words and node.tag != "tag:yaml.org,2002:str"):
        raise _error(path, node, f"'{what}' must be a non-empty string")
    return raw


def _strings(node: yaml.Node, path: str, what: str) -> tuple[str, ...]:
    """A list of non-empty strings (numbers written bare are read as their text)."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise _error(path, node, f"'{what}' must be a non-empty list of strings")
    items = []
    for item in node.value:
        raw = _raw(item)
        if raw is None:
            raise _error(path, item, f"'{what}' must be a list of non-empty strings")
        items.append(raw)
    if len(set(items)) != len(items):
        raise _error(path, node, f"'{what}' lists an item twice")
    return tuple(items)


def _string_lists(node: yaml.Node, path: str, what: str) -> dict[str, tuple[str, ...]]:
    return {key: _strings(value, path, f"{what}.{key}") for key, value in _entries(node, path, f"'{what}' as a mapping").items()}


# --------------------------------------------------------------------------------------------
# Spec, bindings, fixes
# --------------------------------------------------------------------------------------------


def load_spec(text: str, path: str, functions: Mapping[str, CheckFn] = FUNCTIONS, dialect: Dialect = SHIPPED) -> Spec:
    """The validated spec in `text` (read from `path`, whose file name must be `<id>.yml`)."""
    return spec_from_node(_compose(text, path), path, functions, dialect)


def spec_from_node(root: yaml.Node, path: str, functions: Mapping[str, CheckFn] = FUNCTIONS,
                   dialect: Dialect = SHIPPED) -> Spec:
    """The validated spec a composed YAML document holds (`load_spec` without the reading)."""
    entries = _entries(root, path, "a mapping (a spec) at the top level")
    _known(entries, (*SPEC_KEYS, *dialect.extra_keys), "a spec", path)
    for required in ("id", "title", "severity", "rationale", "remediation", "bindings"):
        if required not in entries:
            raise _error(path, root, f"missing '{required}'")
    spec_id = _text(entries["id"], path, "id")
    _check_id(spec_id, entries["id"], path, dialect, "id")
    stem = path.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.removesuffix(".yml") if stem.endswith(".yml") else stem.removesuffix(".yaml")
    if dialect.id_is_file_name and stem != spec_id:
        raise _error(path, entries["id"], f"id '{spec_id}' does not match the file name '{stem}' (name it {spec_id}.yml)")
    severity_text = _text(entries["severity"], path, "severity")
    try:
        severity = Severity(severity_text)
    except ValueError:
        raise _error(path, entries["severity"],
                     f"unknown severity '{severity_text}' (one of critical, high, medium, low)") from None
    aliases = _strings(entries["aliases"], path, "aliases") if "aliases" in entries else ()
    for alias, node in zip(aliases, entries["aliases"].value if "aliases" in entries else [], strict=False):
        if alias == spec_id:
            raise _error(path, node, f"alias '{alias}' is not another id of the form {dialect.id_form}")
        _check_id(alias, node, path, dialect, "alias")
    bindings_node = entries["bindings"]
    if not isinstance(bindings_node, yaml.SequenceNode) or not bindings_node.value:
        raise _error(path, bindings_node, "'bindings' must be a non-empty list (one binding per format)")
    bindings = tuple(_binding(item, path, functions, dialect) for item in bindings_node.value)
    _no_overlap(bindings, bindings_node.value, path)
    regression = _plain(entries["regression"], path) if "regression" in entries else False
    if not isinstance(regression, bool):
        raise _error(path, entries["regression"], "'regression' must be true or false")
    return Spec(
        id=spec_id,
        title=_text(entries["title"], path, "title"),
        severity=severity,
        rationale=_text(entries["rationale"], path, "rationale"),
        remediation=_text(entries["remediation"], path, "remediation"),
        bindings=bindings,
        controls=_string_lists(entries["controls"], path, "controls") if "controls" in entries else {},
        peers=_string_lists(entries["peers"], path, "peers") if "peers" in entries else {},
        aliases=aliases,
        regression=regression,
        path=path,
        line=_line(root),
    )


def _check_id(name: str, node: yaml.Node, path: str, dialect: Dialect, what: str) -> None:
    if dialect.reserved_prefix and name.upper().startswith(dialect.reserved_prefix):
        raise _error(path, node, f"{what} '{name}' starts with {dialect.reserved_prefix}: {dialect.reserved_reason}")
    if not dialect.ids.fullmatch(name):
        form = "another id of the form" if what == "alias" else "of the form"
        raise _error(path, node, f"{what} '{name}' is not {form} {dialect.id_form}")


def _no_overlap(bindings: tuple[Binding, ...], nodes: list[yaml.Node], path: str) -> None:
    """Two bindings of one format must not claim the same type: which one judges it?"""
    seen: set[tuple[str, str]] = set()
    for binding, node in zip(bindings, nodes, strict=True):
        for type_ in binding.types:
            if (binding.format, type_) in seen:
                raise _error(path, node, f"type '{type_}' is bound twice for format {binding.format}")
            seen.add((binding.format, type_))


def _binding(node: yaml.Node, path: str, functions: Mapping[str, CheckFn], dialect: Dialect) -> Binding:
    entries = _entries(node, path, "a binding (a mapping)")
    _known(entries, BINDING_KEYS, "a binding", path)
    for required in ("format", "types", "check"):
        if required not in entries:
            raise _error(path, node, f"binding is missing '{required}'")
    format_ = _text(entries["format"], path, "format")
    if format_ not in FORMATS:
        raise _error(path, entries["format"], f"unknown format '{format_}' (one of {', '.join(FORMATS)})")
    types = _strings(entries["types"], path, "types")
    if WORKLOADS in types and (format_ != "kubernetes" or len(types) != 1):
        raise _error(path, entries["types"], f"'{WORKLOADS}' is a kubernetes binding's only type")
    where = _Where(path, format_, types == (WORKLOADS,), functions, dialect)
    message = _text(entries["message"], path, "message") if "message" in entries else None
    return Binding(
        format=format_,
        types=types,
        check=_condition(entries["check"], where),
        skip_if=_condition(entries["skip_if"], where) if "skip_if" in entries else None,
        message=message,
        fix=_fix(entries["fix"], path) if "fix" in entries else None,
        line=_line(node),
    )


def _fix(node: yaml.Node, path: str) -> Fix:
    entries = _entries(node, path, "a fix (a mapping such as {set: \"true\"})")
    _known(entries, ("set",), "a fix", path)
    if "set" not in entries:
        raise _error(path, node, "fix is missing 'set'")
    value = entries["set"]
    if not isinstance(value, yaml.ScalarNode) or value.tag != "tag:yaml.org,2002:str" or not value.value:
        raise _error(path, value, "'set' must be a string, written as it must appear in the file (quote it: \"true\")")
    if "\n" in value.value:
        raise _error(path, value, "'set' must be one line")
    return Fix(set=str(value.value))


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------


def _condition(node: yaml.Node, where: _Where) -> Condition:
    entries = _entries(node, where.path, "a condition (a mapping)")
    composite = [key for key in entries if key in COMPOSITES]
    if composite:
        key = composite[0]
        if len(entries) != 1:
            other = next(k for k in entries if k != key)
            raise where.error(entries.key_nodes[other], f"'{key}' stands alone in its condition; unexpected '{other}'")
        return _composite(key, entries[key], where.deeper(node))
    if "path" not in entries:
        if not entries:
            raise where.error(node, "empty condition")
        unknown = next(iter(entries))
        if unknown not in LEAF_KEYS:
            raise where.error(entries.key_nodes[unknown], f"unknown key '{unknown}' in a condition "
                                                f"(known: {', '.join((*COMPOSITES, *LEAF_KEYS))})")
        raise where.error(node, "a test needs a 'path'")
    return _leaf(node, entries, where)


def _composite(key: str, value: yaml.Node, where: _Where) -> Condition:
    line = _line(value)
    if key in ("all", "any"):
        if not isinstance(value, yaml.SequenceNode) or not value.value:
            raise where.error(value, f"'{key}' must be a non-empty list of conditions")
        items = tuple(_condition(item, where) for item in value.value)
        return All(items, line) if key == "all" else AnyOf(items, line)
    if key == "not":
        return Not(_condition(value, where), line)
    if key == "python":
        name = _text(value, where.path, "python")
        if name not in where.functions:
            if where.dialect.python_hint:
                raise where.error(value, f"python: '{name}' is not a built-in check: {where.dialect.python_hint}")
            known = ", ".join(sorted(where.functions)) or "none yet"
            raise where.error(value, f"python: '{name}' is not in the table rules/spec/functions.py (known: {known})")
        return Python(name, line)
    if key == "sibling":
        entries = _entries(value, where.path, "a sibling condition (a mapping with 'types')")
        _known(entries, ("types", "where"), "a sibling condition", where.path)
        if "types" not in entries:
            raise where.error(value, "sibling is missing 'types'")
        inner = replace(where, workloads=False, item=False)  # paths start at the sibling's root
        return Sibling(_strings(entries["types"], where.path, "sibling.types"),
                       _condition(entries["where"], inner) if "where" in entries else None, line)
    if key == "referrer":
        return _referrer(value, where)
    return _over_items(key, value, where)


def _referrer(value: yaml.Node, where: _Where) -> Referrer:
    """`referrer`: the resource types that may refer to this one, through which attributes."""
    entries = _entries(value, where.path, "a referrer condition (a mapping with 'types' and 'via')")
    _known(entries, ("types", "via", "names", "where"), "a referrer condition", where.path)
    for required in ("types", "via"):
        if required not in entries:
            raise where.error(value, f"referrer is missing '{required}'")
    outside = replace(where, workloads=False, item=False)  # paths start at a resource's root
    via_text = _strings(entries["via"], where.path, "referrer.via")
    via = tuple(_path(text, node, outside) for text, node in zip(via_text, entries["via"].value, strict=True))
    names: tuple[tuple[Segment, ...], ...] = ()
    if "names" in entries:
        names_text = _strings(entries["names"], where.path, "referrer.names")
        names = tuple(_path(text, node, outside) for text, node in zip(names_text, entries["names"].value, strict=True))
    return Referrer(_strings(entries["types"], where.path, "referrer.types"), via, via_text, names,
                    _condition(entries["where"], outside) if "where" in entries else None, _line(value))


def _over_items(key: str, value: yaml.Node, where: _Where) -> ForEach | Some:
    """`for_each` / `some`: a list's path, the items that count (`where`), what they satisfy."""
    entries = _entries(value, where.path, f"a {key} (a mapping with 'path' and 'check')")
    _known(entries, ("path", "where", "check", "absent"), f"a {key}", where.path)
    for required in ("path", "check"):
        if required not in entries:
            raise where.error(value, f"{key} is missing '{required}'")
    text = _text(entries["path"], where.path, f"{key}.path", words=True)
    segments = _path(text, entries["path"], where, containers=True, starts=True)
    absent_fail = key == "some"
    if "absent" in entries:
        mode = _plain(entries["absent"], where.path)
        if mode not in ("pass", "fail"):
            raise where.error(entries["absent"], f"{key} 'absent' must be pass or fail")
        absent_fail = mode == "fail"
    inside = replace(where, item=True)
    check = _condition(entries["check"], inside)
    selected = _condition(entries["where"], inside) if "where" in entries else None
    if key == "some":
        return Some(segments, text, check, absent_fail, _line(value), selected)
    return ForEach(segments, text, check, absent_fail, _line(value), selected)


def _path(text: str, node: yaml.Node, where: _Where, containers: bool = False,
          starts: bool = False) -> tuple[Segment, ...]:
    """A path's steps; `containers`: `$containers` may stand for it; `starts`: it may start at
    `$root.` or `$template.`."""
    if text == CONTAINERS:
        if not (containers and where.workloads):
            raise where.error(node, f"'{CONTAINERS}' is a for_each or some path of a kubernetes workloads binding only")
        return (CONTAINERS,)
    if text == ITEM:
        if not where.item:
            raise where.error(node, f"'{ITEM}' names the item of a for_each or some: use it inside their check or where")
        return (ITEM,)
    parts = text.split(".")
    if any(not part for part in parts):
        raise where.error(node, f"path '{text}' has an empty step")
    head: tuple[Segment, ...] = ()
    if parts[0] in (ROOT, TEMPLATE) and len(parts) > 1:
        if not starts:
            raise where.error(node, f"path '{text}': '{parts[0]}.' may start a test's or a for_each / some path only")
        if parts[0] == TEMPLATE and not where.workloads:
            raise where.error(node, f"'{TEMPLATE}.' reads the pod template of a kubernetes workloads binding only")
        head, parts = (parts[0],), parts[1:]
    if any(part.startswith("$") for part in parts):
        raise where.error(node, f"path '{text}': '{CONTAINERS}' and '{ITEM}' stand alone, and only "
                                f"'{ROOT}.' and '{TEMPLATE}.' may start a path")
    return head + tuple(int(part) if part.isdigit() else part for part in parts)


def _leaf(node: yaml.Node, entries: _Entries, where: _Where) -> Leaf:
    _known(entries, LEAF_KEYS, "a test", where.path)
    text = _text(entries["path"], where.path, "path", words=True)
    segments = _path(text, entries["path"], where, starts=True)
    tests = [key for key in entries if key in TESTS]
    if len(tests) != 1:
        message = "a test needs one of " + ", ".join(TESTS) if not tests else f"one test per condition, not {' and '.join(tests)}"
        raise where.error(node, message)
    test = tests[0]
    operand = _operand(test, entries[test], where)
    insensitive = False
    if "case" in entries:
        case = _plain(entries["case"], where.path)
        if case not in ("insensitive", "sensitive"):
            raise where.error(entries["case"], "'case' must be insensitive or sensitive")
        insensitive = case == "insensitive"
    negative = test in PASS_WHEN_ABSENT or (test in ("cidr_open", "not_empty") and operand is False)
    absent = Absent("pass" if negative else "fail")
    if "absent" in entries:
        absent = _absent(entries["absent"], where)
    split = None
    if "split" in entries:
        split_node = entries["split"]
        if not isinstance(split_node, yaml.ScalarNode) or split_node.tag != "tag:yaml.org,2002:str" \
                or not split_node.value or split_node.value.isspace():
            raise where.error(split_node, "'split' must be the characters between a string's parts (\",\")")
        if test not in SPLIT_TESTS:
            raise where.error(entries.key_nodes["split"], f"'split' makes a list of parts: use it with "
                                                           f"{', '.join(SPLIT_TESTS)}, not '{test}'")
        split = str(split_node.value)
    return Leaf(segments, text, test, operand, absent, insensitive, _line(node), split, where.dialect.linear_regex)


def _absent(node: yaml.Node, where: _Where) -> Absent:
    if isinstance(node, yaml.MappingNode):
        entries = _entries(node, where.path)
        _known(entries, ("value",), "'absent'", where.path)
        if "value" not in entries:
            raise where.error(node, "'absent' as a mapping needs 'value'")
        return Absent("value", _plain(entries["value"], where.path))
    mode = _plain(node, where.path)
    if mode not in ("fail", "pass"):
        raise where.error(node, "'absent' must be fail, pass or {value: <X>}")
    return Absent("fail" if mode == "fail" else "pass")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _operand(test: str, node: yaml.Node, where: _Where) -> Any:
    value = _plain(node, where.path)
    if test in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise where.error(node, f"'{test}' must be a non-empty list of values")
        return tuple(value)
    if test in ("regex", "not_regex"):
        if not isinstance(value, str):
            kind = "an RE2" if where.dialect.linear_regex else "a Python"
            raise where.error(node, f"'{test}' must be a string ({kind} regular expression)")
        if where.dialect.linear_regex:
            problem = linear_regex.problem(value)
            if problem is not None:
                raise where.error(node, f"'{test}' is not a pattern custom rules accept: {problem}")
            return value
        try:
            re.compile(value)
        except (re.error, RecursionError, OverflowError) as exc:
            raise where.error(node, f"'{test}' does not compile: {exc}") from None
        return value
    if test in ("gt", "gte", "lt", "lte"):
        if not _is_number(value):
            raise where.error(node, f"'{test}' must be a number")
        return value
    if test == "covers_port":
        return _ports(node, value, where)
    if test in ("exists", "cidr_open", "not_empty"):
        if not isinstance(value, bool):
            raise where.error(node, f"'{test}' must be true or false")
        return value
    if test == "contains":
        if isinstance(value, (list, dict)) or value is None:
            raise where.error(node, "'contains' must be a single value (a string, number or boolean)")
        return value
    return value  # equals / not_equals: any value


def _ports(node: yaml.Node, value: Any, where: _Where) -> Ports:
    """`covers_port: 22`, `[22, 3389]`, `"1000-2000"`, or, for a block holding its range in two
    attributes, `{port: 22, from: from_port, to: to_port, protocol: protocol}`."""
    paths: dict[str, tuple[Segment, ...]] = {}
    if isinstance(value, dict):
        entries = _entries(node, where.path)
        _known(entries, ("port", "from", "to", "protocol"), "'covers_port'", where.path)
        for required in ("port", "from", "to"):
            if required not in entries:
                raise where.error(node, f"'covers_port' as a mapping needs '{required}' (port, from, to; protocol optional)")
        for key in ("from", "to", "protocol"):
            if key in entries:
                text = _text(entries[key], where.path, f"covers_port.{key}", words=True)
                paths[key] = _path(text, entries[key], replace(where, item=False))
        node, value = entries["port"], value["port"]
    items = value if isinstance(value, list) else [value]
    spans = []
    for item in items:
        span = values.port_span(item) if not isinstance(item, (list, dict)) else None
        if span is None:
            raise where.error(node, f"'covers_port' names ports: a number 0-65535, a range \"lo-hi\", \"*\", or a list "
                                    f"of them (not {item!r})")
        spans.append(span)
    if not spans:
        raise where.error(node, "'covers_port' needs at least one port")
    return Ports(tuple(spans), values.render(value), paths.get("from"), paths.get("to"), paths.get("protocol"))


def load_specs(files: Iterable[tuple[str, str]], functions: Mapping[str, CheckFn] = FUNCTIONS) -> tuple[Spec, ...]:
    """Every spec of (path, text) pairs, sorted by id; an id (or alias) used twice is an error."""
    specs = [load_spec(text, path, functions) for path, text in files]
    claimed: dict[str, Spec] = {}
    for spec in sorted(specs, key=lambda s: (s.path, s.id)):
        for name in (spec.id, *spec.aliases):
            if name in claimed:
                other = claimed[name]
                raise SpecError(f"{spec.path}:{spec.line}: id '{name}' is also claimed by {other.path}:{other.line}")
            claimed[name] = spec
    return tuple(sorted(specs, key=lambda s: s.id))


# The readers other modules of this package build on (rules/spec/custom.py reads a custom rule's
# `tests:` with them), so every message about a spec file keeps the `path:line: message` form.
compose_yaml = _compose
mapping_entries = _entries
known_keys = _known
located_error = _error
nonempty_text = _text
node_line = _line
plain_value = _plain
