"""The policy's JSON Schema (`policy.schema.json`, shipped beside this module) and its errors in
words a person reads.

jsonschema finds every wrong setting by its path in the data; this module names the line (from
the YAML line map), the setting as it is written (`suppressions[0].expires`) and what it should
be, taken from the schema's own `x-expect` words: "'suppressions[0].expires' must be a date like
2027-01-31, not '2027-13-01'", "'fail-on' is not a setting; did you mean 'fail_on'?". No
message names a Python type. The schema is also what an editor can use to check the file as it
is typed (it is plain JSON Schema 2020-12; the `x-` keywords are annotations).
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from bot.engine.policy_yaml import LoadedYaml, Path

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "policy.schema.json"
MAX_SHOWN = 60  # characters of a wrong value quoted in a message


@dataclass(frozen=True)
class SchemaProblem:
    line: int | None
    message: str


def policy_schema() -> dict[str, Any]:
    """The policy's JSON Schema, as shipped (tests, editors and the validator read the same file)."""
    schema: dict[str, Any] = json.loads((resources.files("bot.engine") / SCHEMA_FILE).read_text(encoding="utf-8"))
    return schema


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator, FormatChecker  # when a policy is read: not for every command

    return Draft202012Validator(policy_schema(), format_checker=FormatChecker(formats=["date"]))


def schema_problems(loaded: LoadedYaml) -> list[SchemaProblem]:
    """Every way the document breaks the schema, one problem per wrong setting, in line order."""
    found: dict[tuple[int | None, str], None] = {}
    for error in _validator().iter_errors(loaded.data):
        for line, message in _explain(error, loaded):
            found.setdefault((line, message), None)
    return [SchemaProblem(line, message) for line, message in sorted(found, key=lambda p: (p[0] or 0, p[1]))]


def setting_name(path: Iterable[str | int]) -> str:
    """`suppressions[0].expires`: the path as a person writes it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def describe(value: Any) -> str:
    """A wrong value in words: `'2027-13-01'`, `3`, `true`, `a list`; never a Python type."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        shown = value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 1] + "…"
        return repr(shown)
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    return f"'{str(value)[:MAX_SHOWN]}'"


def _explain(error: ValidationError, loaded: LoadedYaml) -> Iterator[tuple[int | None, str]]:
    path: Path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    where = setting_name(path) or "the policy"
    if error.validator == "additionalProperties":
        yield from _unknown_settings(error, path, loaded)
    elif error.validator == "required":
        yield from _missing(error, path, loaded)
    elif error.validator in ("anyOf", "oneOf"):
        yield from _alternatives(error, loaded)
    elif list(error.schema_path)[-2:-1] == ["propertyNames"]:  # a key is checked where its mapping is
        key = str(error.instance)
        yield loaded.line_of((*path, key)), \
            f"'{setting_name((*path, key))}' is not a name allowed here: it must be {_expected(schema)}"
    else:
        yield loaded.line_of(path), f"'{where}' must be {_expected(schema)}, not {describe(error.instance)}" \
            if path else f"the policy must be {_expected(schema)}, not {describe(error.instance)}"


def _expected(schema: Any) -> str:
    """What a setting takes, in words: the schema's `x-expect`, else built from its keywords."""
    if not isinstance(schema, Mapping):
        return "something else"
    if "x-expect" in schema:
        return str(schema["x-expect"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kinds = schema.get("type")
    names = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
             "number": "a number", "boolean": "true or false", "null": "empty"}
    if isinstance(kinds, str):
        return names.get(kinds, kinds)
    if isinstance(kinds, list):
        return " or ".join(names.get(k, str(k)) for k in kinds)
    return "something else"


def _unknown_settings(error: ValidationError, path: Path, loaded: LoadedYaml) -> Iterator[tuple[int | None, str]]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    known = sorted(schema.get("properties") or ())
    patterns = [re.compile(p) for p in schema.get("patternProperties") or ()]
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    for key in sorted(str(k) for k in instance if k not in known and not any(p.search(str(k)) for p in patterns)):
        name = setting_name((*path, key))
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if close:
            hint = f"; did you mean '{setting_name((*path, close[0]))}'?"
        else:
            hint = f" (the settings{' of ' + repr(setting_name(path)) if path else ''} are: {', '.join(known)})"
        yield loaded.line_of((*path, key)), f"'{name}' is not a setting{hint}"


def _missing(error: ValidationError, path: Path, loaded: LoadedYaml) -> Iterator[tuple[int | None, str]]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    hints = schema.get("x-hints") or {}
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    for name in schema.get("required") or ():
        if name not in instance:
            hint = f" ({hints[name]})" if name in hints else ""
            yield loaded.line_of(path), f"'{setting_name((*path, name))}' is required{hint}"


_JSON_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _fits(schema: Any, value: Any) -> bool:
    """Whether `value` is of the kind this alternative describes (so its errors are the ones to
    show): a list is judged by the list alternative, text by the text one."""
    if not isinstance(schema, Mapping):
        return False
    kinds = schema.get("type")
    if kinds is None and "enum" in schema:
        return any(type(v) is type(value) for v in schema["enum"])
    if kinds is None and "const" in schema:
        return type(schema["const"]) is type(value)
    wanted = [kinds] if isinstance(kinds, str) else list(kinds or ())
    for kind in wanted:
        if kind in ("integer", "number"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return True
        elif isinstance(value, _JSON_TYPES.get(kind, ())) and not (kind != "boolean" and isinstance(value, bool)):
            return True
    return False


def _alternatives(error: ValidationError, loaded: LoadedYaml) -> Iterator[tuple[int | None, str]]:
    """For `anyOf`: the errors of the alternative of the value's own kind (a list of kinds with
    one unknown kind names that kind), else what the setting takes as a whole."""
    options: Sequence[Any] = error.validator_value if isinstance(error.validator_value, list) else []
    fitting = [i for i, option in enumerate(options) if _fits(option, error.instance)]
    inner = [e for e in error.context or () if e.relative_schema_path and e.relative_schema_path[0] in fitting]
    if len(fitting) == 1 and inner:
        for sub in inner:
            yield from _explain(sub, loaded)
        return
    path: Path = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    yield loaded.line_of(path), f"'{setting_name(path)}' must be {_expected(schema)}, not {describe(error.instance)}"
