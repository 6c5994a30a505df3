"""Inline exceptions as written in a file: `compliance:ignore` comments, and the ignore comments
of Checkov, tfsec and Trivy that a policy migrates.

    encrypted = false  # compliance:ignore CB-AWS-001 reason="legacy volume" until=2026-09-30 ticket=OPS-12
    # checkov:skip=CKV_AWS_3:legacy volume, replaced in OPS-12
    #tfsec:ignore:aws-ec2-enable-volume-encryption:exp:2026-09-30 legacy volume
    // trivy:ignore:AVD-AWS-0026 legacy volume

A marker counts only right after a comment opener (`#`, `//`, `/*`, `<!--`, `--`) that is not
inside a string literal, so text that merely mentions the syntax (a description, a test string)
is no exception. Parsing never fails: what cannot be read is kept as a problem of the marker,
which the engine reports as a finding when the change adds it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace

COMPLIANCE, CHECKOV, TFSEC, TRIVY = "compliance", "checkov", "tfsec", "trivy"
MAX_MARKERS_PER_FILE = 1000  # past it, the rest of a file's markers are not honoured (a note says so)
_NEXT_CODE_LINES = 50  # how far below a comment-only marker the line it applies to is looked for
_KEYWORDS = re.compile(r"(compliance:ignore|checkov:skip|tfsec:ignore|trivy:ignore)\b")  # as the tools write them
_KEYWORD_TEXTS = ("compliance:ignore", "checkov:skip", "tfsec:ignore", "trivy:ignore")
_OPENERS = ("<!--", "/*", "//", "--", "#")
_QUOTES = "\"'`"
_TOKEN_START = " \t=:([{,;"  # a quote opens a string literal only where a value can start
_OUTSIDE = re.compile(r"[\"'`#/<-]")  # what can start a string or a comment
_INSIDE = {quote: re.compile(rf"[\\{quote}]") for quote in _QUOTES}  # what can end a string
_KEY_VALUE = re.compile(r'\s*(?P<key>[A-Za-z_]+)=(?:"(?P<dq>(?:[^"\\]++|\\.)*+)"|\'(?P<sq>[^\']*)\'|(?P<bare>[^\s"\']+))')
_TRAILING_KEYS = re.compile(r"(?:^|\s)(?P<key>until|ticket)=(?P<value>\S+)")
_FOREIGN_ID = re.compile(r"[A-Za-z0-9_.-]+")
_EXPIRY_SUFFIX = re.compile(r":exp:(?P<date>\S+?)(?=$|\s|:)")
_BLOCK_CLOSERS = ("*/", "-->")


@dataclass(frozen=True)
class Marker:
    """One exception comment.

    - `line`: where it is written; `target`: the line it is about: its own line when code comes
      before the comment, else the next line holding code (below a comment-only line).
    - `tool`: "compliance" for our syntax, else "checkov", "tfsec" or "trivy".
    - `written`: the rule or check id as written.
    - `until`: the expiry as written (checked by the engine); `problems`: what could not be read.
    """

    path: str
    line: int
    target: int
    tool: str
    written: str
    reason: str = ""
    until: str | None = None
    ticket: str | None = None
    problems: tuple[str, ...] = ()


def comment_start(text: str) -> int | None:
    """Where the line's comment starts (the opener's index), outside any string literal; None if
    it has none. A quote opens a literal only where a value can start (`don't` in a YAML plain
    scalar opens nothing); `//` right after `:` is a URL, `--` needs space around it, `#` after `$`
    or `{` is shell or template syntax."""
    quote: str | None = None
    index = 0
    while index < len(text):
        found = (_INSIDE[quote] if quote is not None else _OUTSIDE).search(text, index)
        if found is None:
            return None
        index, char = found.start(), found.group()
        if quote is not None:
            if char == "\\":
                index += 2
                continue
            quote = None
        elif char in _QUOTES:
            if index == 0 or text[index - 1] in _TOKEN_START:
                quote = char
        elif _opener_at(text, index):
            return index
        index += 1
    return None


def _opener_at(text: str, index: int) -> bool:
    before = text[index - 1] if index else " "
    for opener in _OPENERS:
        if not text.startswith(opener, index):
            continue
        if opener == "//" and before == ":":
            return False
        if opener == "--" and (not before.isspace() or text[index + 2 : index + 3] not in ("", " ", "\t")):
            return False
        return not (opener == "#" and before in "${&")
    return False


def _marker_starts(comment: str) -> list[tuple[str, int, int]]:
    """(tool, where its body starts, where it ends) of each marker in a comment: a keyword right
    after an opener (and spaces), or a tfsec/Trivy ignore right after another one (`#tfsec:ignore:a
    tfsec:ignore:b`). A body ends where the next marker starts."""
    found: list[re.Match[str]] = []
    for match in _KEYWORDS.finditer(comment):
        start = match.start()
        while start > 0 and comment[start - 1] in " \t":
            start -= 1
        after_opener = any(comment.endswith(opener, 0, start) for opener in _OPENERS)
        chained = bool(found) and _is_foreign_ignore(found[-1]) and _is_foreign_ignore(match) \
            and " " not in comment[found[-1].end() : match.start()].strip()
        if after_opener or chained:
            found.append(match)
    if not found:
        return []
    ends = [m.start() for m in found[1:]] + [len(comment)]
    return [(m.group(1).split(":", 1)[0].lower(), m.end(), end) for m, end in zip(found, ends, strict=True)]


def _is_foreign_ignore(match: re.Match[str]) -> bool:
    return match.group(1).lower() in ("tfsec:ignore", "trivy:ignore")


def parse_markers(path: str, text: str, tools: frozenset[str] = frozenset({COMPLIANCE})) -> tuple[list[Marker], bool]:
    """The markers of one file of the given `tools` ("compliance" and any migrated ones), and
    whether there were more than MAX_MARKERS_PER_FILE (the rest are left out)."""
    if not any(keyword in text for keyword in _KEYWORD_TEXTS):  # most files: a few fast scans
        return [], False
    starts = _line_starts(text)
    markers: list[Marker] = []
    seen_lines: set[int] = set()
    has_code: dict[int, bool] = {}  # line -> whether it holds code, each line read once
    for keyword in _KEYWORDS.finditer(text):
        number = bisect.bisect_right(starts, keyword.start())
        if number in seen_lines:
            continue
        seen_lines.add(number)
        line = _line(text, starts, number)
        opener = comment_start(line)
        if opener is None:
            continue
        comment = line[opener:]
        first = len(markers)
        for tool, start, end in _marker_starts(comment):
            if tool not in tools:
                continue
            if len(markers) >= MAX_MARKERS_PER_FILE:
                return markers, True
            body = _strip_closers(comment[start:end])
            target = number if line[:opener].strip() else _next_code_line(text, starts, number, has_code)
            markers.append(_marker(path, number, target, tool, body))
        markers[first:] = _shared_reason(markers[first:])
    return markers, False


def _shared_reason(chain: list[Marker]) -> list[Marker]:
    """Chained tfsec/Trivy ignores (`#tfsec:ignore:a tfsec:ignore:b legacy`) share the reason
    written after the last of them."""
    reason = next((m.reason for m in reversed(chain) if m.tool in (TFSEC, TRIVY) and m.reason), "")
    return [replace(m, reason=reason) if m.tool in (TFSEC, TRIVY) and not m.reason else m for m in chain]


def _marker(path: str, line: int, target: int, tool: str, body: str) -> Marker:
    if tool == COMPLIANCE:
        return _ours(path, line, target, body)
    if tool == CHECKOV:
        return _checkov(path, line, target, body)
    return _tfsec_or_trivy(path, line, target, tool, body)


def _ours(path: str, line: int, target: int, body: str) -> Marker:
    """`compliance:ignore <RULE-ID> reason="..." until=YYYY-MM-DD [ticket=ABC-123]`."""
    words = body.strip()
    rule, _, rest = words.partition(" ")
    rule = rule.strip()
    problems: list[str] = []
    values: dict[str, str] = {}
    position = 0
    while position < len(rest):
        if not rest[position:].strip():
            break
        match = _KEY_VALUE.match(rest, position)
        if match is None:
            problems.append(f"cannot read `{rest[position:].strip()[:60]}` (write key=value, with the reason in quotes)")
            break
        key = match.group("key").lower()
        value = next(v for v in (match.group("dq"), match.group("sq"), match.group("bare")) if v is not None)
        if key not in ("reason", "until", "ticket"):
            problems.append(f"`{key}=` is not a setting (the settings are reason, until and ticket)")
        elif key in values:
            problems.append(f"`{key}=` is given twice")
        else:
            values[key] = value.replace('\\"', '"') if match.group("dq") is not None else value
        position = match.end()
    return Marker(path, line, target, COMPLIANCE, rule, values.get("reason", "").strip(), values.get("until"),
                  values.get("ticket"), tuple(problems))


def _checkov(path: str, line: int, target: int, body: str) -> Marker:
    """`checkov:skip=<CHECK_ID>[:<reason>]`; `until=` and `ticket=` may follow in the reason."""
    text = body.lstrip()
    if not text.startswith("="):
        return Marker(path, line, target, CHECKOV, "", problems=("cannot read the Checkov skip (write checkov:skip=ID:reason)",))
    check, _, reason = text[1:].partition(":")
    reason, until, ticket = _trailing_keys(reason)
    return Marker(path, line, target, CHECKOV, check.strip(), reason, until, ticket)


def _tfsec_or_trivy(path: str, line: int, target: int, tool: str, body: str) -> Marker:
    """`tfsec:ignore:<id>[:exp:YYYY-MM-DD] [reason]` (Trivy alike); `until=`/`ticket=` may follow."""
    if not body.startswith(":"):
        return Marker(path, line, target, tool, "", problems=(f"cannot read the {tool} ignore (write {tool}:ignore:ID)",))
    found = _FOREIGN_ID.match(body, 1)
    check = found.group(0) if found else ""
    rest = body[found.end():] if found else body[1:]
    until = None
    expiry = _EXPIRY_SUFFIX.match(rest)
    if expiry is not None:
        until = expiry.group("date")
        rest = rest[expiry.end():]
    rest = re.sub(r"^:\S*", "", rest)  # other suffixes ([ws:...], :ws:...) scope the tool's own runs
    reason, later_until, ticket = _trailing_keys(rest)
    return Marker(path, line, target, tool, check, reason, until or later_until, ticket)


def _trailing_keys(text: str) -> tuple[str, str | None, str | None]:
    """A free-text reason with `until=` and `ticket=` taken out of it."""
    values = {m.group("key"): m.group("value") for m in _TRAILING_KEYS.finditer(text)}
    reason = _TRAILING_KEYS.sub(" ", text)
    reason = reason.strip().strip('"').strip()
    return reason, values.get("until"), values.get("ticket")


def _strip_closers(body: str) -> str:
    text = body.rstrip()
    for closer in _BLOCK_CLOSERS:
        if text.endswith(closer):
            text = text[: -len(closer)].rstrip()
    return text


def _line_starts(text: str) -> list[int]:
    starts = [0]
    position = text.find("\n")
    while position >= 0:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


def _line(text: str, starts: list[int], number: int) -> str:
    start = starts[number - 1]
    end = starts[number] - 1 if number < len(starts) else len(text)
    return text[start:end].removesuffix("\r")


def _next_code_line(text: str, starts: list[int], number: int, has_code: dict[int, bool]) -> int:
    """The first line below `number` holding something other than blanks and comments; the
    marker's own line when there is none within _NEXT_CODE_LINES. `has_code` remembers each line
    read, so markers stacked above one line do not read the lines below them again and again."""
    for candidate in range(number + 1, min(len(starts), number + _NEXT_CODE_LINES) + 1):
        if candidate not in has_code:
            line = _line(text, starts, candidate)
            opener = comment_start(line)
            has_code[candidate] = bool((line[:opener] if opener is not None else line).strip())
        if has_code[candidate]:
            return candidate
    return number
