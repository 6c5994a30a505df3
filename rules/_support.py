"""Small helpers shared by the YAML, Dockerfile and secrets rule packs (pure functions only)."""

from __future__ import annotations

import hashlib
import re

from bot.engine.model import Node, Resource, Unknown

_TRUE_TEXT = frozenset({"true", "yes", "on", "y"})
_FALSE_TEXT = frozenset({"false", "no", "off", "n"})

# Values that stand for "no real secret here": masks, well-known dummies, template delimiters.
_PLACEHOLDER_PARTS = (
    "changeme", "change_me", "change-me", "changeit", "example", "placeholder", "dummy", "redacted",
    "your_", "your-", "yourpass", "xxxx", "****", "....", "{{", "}}", "%(",
)
_PLACEHOLDER_WORDS = frozenset({
    "password", "passwd", "pass", "pwd", "secret", "token", "none", "null", "nil", "true", "false",
    "undefined", "required", "optional", "string", "test", "testing", "sample", "default", "empty",
    "notset", "unset", "todo", "fixme", "tbd", "hidden", "masked", "secretvalue", "mypassword", "mysecret",
})
# Template syntax that is filled in at run time wherever it appears in a value: `${VAR}`, `$(cmd)`,
# ERB `<%= x %>`, Ruby `#{x}`. Closed constructs only: a lone `$`, `<` or `>` is just a character.
_TEMPLATE = re.compile(r"\$\{[^{}]{1,200}\}|\$\([^()]{1,200}\)|<%.{0,200}?%>|#\{[^{}]{1,200}\}")
# A whole value that is a reference, not a secret: `$DB_PASS`, `$USER:$PASS`, `<your-password>`,
# `%DB_PASSWORD%` (Windows). `pa$$w0rd` or `abc<def>ghi123` are not: the reference must be all of it.
_WHOLE_REFERENCE = re.compile(
    r"(?:\$[A-Za-z_][A-Za-z0-9_]{0,100}[:@/._-]{0,3}){1,10}|<[^<>]{1,100}>|%[A-Za-z_][A-Za-z0-9_]{0,100}%"
)


def truthy(node: Node | None) -> bool | None:
    """True/False for an explicit boolean (also "true"/"false" strings, as JSON templates write
    them); None when absent, unknown or not a boolean."""
    if node is None or isinstance(node.value, Unknown):
        return None
    value = node.value
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE_TEXT:
            return True
        if lowered in _FALSE_TEXT:
            return False
    return None


def as_int(node: Node | None) -> int | None:
    """An explicit integer (also a numeric string); None when absent, unknown or not a number."""
    if node is None or isinstance(node.value, (Unknown, bool)):
        return None
    if isinstance(node.value, int):
        return node.value
    if isinstance(node.value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", node.value):
        return int(node.value)
    return None


def replace_value(resource: Resource, node: Node, key: str, new: str) -> str | None:
    """The line holding `key: <value>` with the value swapped for `new`, indentation kept.

    Works for YAML and JSON lines (`"Encrypted": "false",` -> `"Encrypted": "true",`). None when
    the value spans lines or the line does not look like a plain `key: value`, so a suggestion
    is only offered where the edit is mechanical.
    """
    if node.line != node.end_line:
        return None
    text = resource.text_at(node.line)
    if text is None:
        return None
    pattern = re.compile(
        r"^(?P<head>\s*(?:-\s+)?[\"']?" + re.escape(key) + r"[\"']?\s*:\s*)"
        r"(?P<quote>[\"']?)(?P<value>[^\"',#\s]+)(?P=quote)(?P<tail>\s*,?\s*(?:#.*)?)$"
    )
    match = pattern.match(text)
    if match is None:
        return None
    quote = match.group("quote")
    return f"{match.group('head')}{quote}{new}{quote}{match.group('tail')}"


def mask(secret: str) -> str:
    """A form of the secret safe to show: a short prefix, never more than a quarter of it."""
    shown = min(4, len(secret) // 4)
    return f"{secret[:shown]}****"


def secret_key(secret: str) -> str:
    """A short, stable id of a secret (for `Violation.key`): tells two secrets apart, reveals neither."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def is_placeholder(value: str) -> bool:
    """Values that are obviously not a real secret: templates, references, masks, dummies.

    A reference or template counts when it is the whole value (`${VAR}`, `$DB_PASS`,
    `<your-password>`) or a closed template construct inside it (`prefix-${SUFFIX}`); a `$`, `<`
    or `>` that is merely one of the value's characters (`pa$$w0rd`, `abc<def>ghi123`) does not
    make a placeholder.
    """
    stripped = value.strip().strip("\"'")
    lowered = stripped.lower()
    if len(lowered) < 1 or lowered in _PLACEHOLDER_WORDS:
        return True
    if _WHOLE_REFERENCE.fullmatch(stripped) or _TEMPLATE.search(stripped):
        return True
    if lowered.startswith(("!", "%", "&", "*", "@")) or lowered.endswith("_here"):
        return True
    if re.match(r"(?:foo|bar|baz|qux)(?![a-z])", lowered):
        return True
    if any(part in lowered for part in _PLACEHOLDER_PARTS):
        return True
    return len(set(lowered)) <= 2
