"""Templated YAML (Helm's Go templates, Jinja) turned into YAML the loader reads, without running
anything: a best-effort review of what is written literally, with everything a template fills in
standing for a value nobody knows.

Why: a manifest with `{{ }}` in it is not YAML yet, yet the literal `privileged: true` beside the
marks is what the cluster will run. So the text is rewritten line for line (only "\\n" ends a
line, as git counts, so every line keeps its number):

- a line holding only control actions (`{{- if .x }}`, `{{ else }}`, `{{ end }}`, `{{ range }}`,
  `{{ with }}`, `{{ define }}`, `{{/* */}}`, `{{ $x := ... }}`; Jinja's `{% ... %}` and
  `{# #}`) becomes blank. The bodies of every branch are kept: a literal in either branch of an
  if/else can be rendered, so it is judged. Where both branches write one key, the loader makes
  one rendering per occurrence (`loader`'s variants), so neither hides the other.
- an action in a value (`image: {{ .Values.image }}`, `"{{ x }}-suffix"`, a key `{{ $k }}:`)
  becomes a placeholder the loader turns into `Unknown` (the whole scalar: a partly templated
  string is not a string anyone can compare). An action that is a literal constant (`{{ "" }}`,
  `{{ true }}`) is that constant: it renders as itself, so it cannot hide a key.
- control actions inside a line with text are dropped (`{{ if .x }}privileged: true{{ end }}`
  is `privileged: true`), except an `else` in the middle of a value, which makes it unknown.
- a line whose only output is an action (`{{ include "x" . | nindent 4 }}`, `{{ toYaml .Values.x
  | indent 8 }}`, `{{- .Values.extra | toYaml }}`, `{% include %}`) emits YAML nobody can see: it
  becomes a placeholder entry at the indentation it emits at (`nindent N`/`indent N`, else its
  column), a list item where its neighbours are list items, else a mapping key. The loader drops
  the entry and marks the mapping open (`Node.hidden`), so a rule never reports a key as absent
  from it; a list gets an `Unknown` item.

`render` raises only `TemplateError` (an action that never closes), with its line. The rendered
text may still not be YAML (the caller then tries `render(..., emissions=False)`, where emitting
lines are blank and every mapping counts as open, and reports what still fails). Everything is
one pass over the text: no regex here can backtrack beyond the run of characters it is at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import yaml
from yaml.tokens import FlowMappingStartToken, ScalarToken

__all__ = ["GO", "JINJA", "MAX_EXPRESSION", "TEMPLATE_MARK", "Rendered", "TemplateError", "dialect_of",
           "in_chart_templates", "is_emitted", "is_marked", "render", "shapes_yaml"]

GO = "go"
JINJA = "jinja"

# Helm / Jinja / Go templates, but not GitHub Actions `${{ }}` expressions.
TEMPLATE_MARK = re.compile(r"(?<!\$)\{\{|\{%-?\s|\{#")

VALUE = "\ue000"  # opens a placeholder for a value a template fills in
OPEN = "\ue002"  # opens a placeholder for YAML a template emits (keys or items nobody can see)
CLOSE = "\ue001"  # closes either
_SCRUB = str.maketrans({VALUE: "\ufffd", OPEN: "\ufffd", CLOSE: "\ufffd"})  # the source cannot forge one
_PLACEHOLDER = re.compile(f"[{VALUE}{OPEN}]([0-9]+){CLOSE}")
MAX_EXPRESSION = 200  # characters of an action kept for messages

_GO_OPEN = re.compile(r"(?<!\$)\{\{")
_JINJA_OPEN = re.compile(r"(?<!\$)\{\{|\{%|\{#")
_GO_STOP = re.compile(r"[\"`']|\}\}")  # what matters inside a Go action
_JINJA_STOP = {"{{": re.compile(r"[\"']|\}\}"), "{%": re.compile(r"[\"']|%\}")}
_STRING_END = {'"': re.compile(r'"|\\.|\n', re.DOTALL), "'": re.compile(r"'|\\.|\n", re.DOTALL)}
# Actions that print nothing: control, variables, Helm's `fail` (which stops the rendering instead)
_GO_CONTROL = re.compile(r"(?:if|else|end|range|with|define|block|break|continue|fail)\b|\$[A-Za-z0-9_]*\s*:?=")
_JINJA_EMITS = re.compile(r"(?:include|call)\b")
_ELSE = re.compile(r"(?:else|elif)\b")
_BLOCK = re.compile(r"(?:toYaml|toJson|include|tpl|template)\b")
_INDENT = re.compile(r"\bn?indent\s+([0-9]{1,3})\b")
_CONSTANT = re.compile(r'"([^"\\\n]*)"|`([^`]*)`|\'([^\'\\\n]*)\'|(-?[0-9]{1,15}|true|false)')


class TemplateError(ValueError):
    """The template text cannot be read (an action that never closes): what and on which line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Rendered:
    """The rendered text (same lines as the source) and the source of each placeholder in it."""

    text: str
    expressions: tuple[str, ...]
    emissions: bool = True  # False: emitting lines are blank, so no mapping can be known to be whole
    opens: Mapping[int, int] = field(default_factory=dict)  # line of a key -> what a template emits under it

    def restore(self, text: str) -> str:
        """`text` with its placeholders back to the actions they stand for (for messages)."""
        def back(match: re.Match[str]) -> str:
            index = int(match.group(1))
            return self.expressions[index] if index < len(self.expressions) else "{{ }}"
        restored = _PLACEHOLDER.sub(back, text)
        return restored if len(restored) <= MAX_EXPRESSION else restored[: MAX_EXPRESSION - 3] + "..."


def is_marked(text: str) -> bool:
    """Whether a scalar or key of rendered text holds a placeholder (so its value is not known)."""
    return VALUE in text or OPEN in text


def is_emitted(text: str) -> bool:
    """Whether a key or item is the placeholder of an emitting line."""
    return text.startswith(OPEN)


def in_chart_templates(path: str) -> bool:
    """Under a `templates/` folder, as Helm charts keep the manifests they render."""
    return "templates" in path.split("/")[:-1]


def dialect_of(text: str) -> str:
    """Jinja when its statement or comment marks appear, else Go (Helm)."""
    return JINJA if re.search(r"\{%|\{#", text) else GO


_ScanLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def shapes_yaml(text: str) -> bool:
    """True when a template mark opens a YAML node (`key: {{ .x }}` reads as a flow mapping) or the
    text only scans as YAML once rendered; False when every mark sits inside a string value (a
    Prometheus rule's `{{ $labels.x }}`), which is text the YAML carries, reviewed as written."""
    wanted = {m.start() for m in TEMPLATE_MARK.finditer(text)}
    if not wanted:
        return False
    try:
        for token in yaml.scan(text, Loader=_ScanLoader):
            start = token.start_mark.index
            if start in wanted and (isinstance(token, FlowMappingStartToken)
                                    or (isinstance(token, ScalarToken) and not token.style)):
                return True
    except (yaml.YAMLError, ValueError, TypeError):
        return True
    return False


# --------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------

_CONTROL, _EMIT, _TEXT = "control", "emit", "text"


@dataclass(frozen=True)
class _Action:
    start: int
    end: int  # exclusive
    kind: str  # control (emits nothing), emit (emits what nobody knows), text (a literal constant)
    source: str
    literal: str = ""  # a constant's text
    indent: int | None = None  # `nindent N` / `indent N`
    branch: bool = False  # `else` / `elif`: a value holding it is one of two values
    block: bool = False  # emits YAML of its own (`nindent`, `toYaml`, `include`...), not a scalar


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _close(text: str, start: int, opener: str, dialect: str) -> int:
    """The end (exclusive) of the action opened at `start`."""
    if opener == "{#":
        end = text.find("#}", start + 2)
        if end < 0:
            raise TemplateError(_line_of(text, start), "a template comment `{#` is never closed")
        return end + 2
    body = start + 2
    if opener == "{{" and dialect == GO:
        inner = body + (1 if text.startswith("-", body) else 0)
        while inner < len(text) and text[inner] in " \t\r\n":
            inner += 1
        if text.startswith("/*", inner):
            search = inner + 2
            while True:
                end = text.find("*/", search)
                if end < 0:
                    raise TemplateError(_line_of(text, start), "a template comment `{{/*` is never closed")
                after = end + 2
                while after < len(text) and text[after] in " \t\r\n-":
                    after += 1
                if text.startswith("}}", after):
                    return after + 2
                search = end + 2
    stop = _GO_STOP if dialect == GO else _JINJA_STOP[opener]
    position = body
    while True:
        found = stop.search(text, position)
        if found is None:
            raise TemplateError(_line_of(text, start), f"a template action `{opener}` is never closed")
        mark = found.group()
        if len(mark) == 2:
            return found.end()
        position = _string_end(text, found.end(), mark)


def _string_end(text: str, position: int, quote: str) -> int:
    """Past a string literal inside an action (a raw Go string may span lines; others end at one)."""
    if quote == "`":
        end = text.find("`", position)
        return len(text) if end < 0 else end + 1
    pattern = _STRING_END[quote]
    while True:
        found = pattern.search(text, position)
        if found is None:
            return len(text)
        if found.group() in (quote, "\n"):
            return found.end()
        position = found.end()


def _inner(source: str) -> str:
    """An action without its delimiters and trim marks."""
    inner = source[2:-2]
    if inner[:1] in "-+":
        inner = inner[1:]
    if inner[-1:] in "-+":
        inner = inner[:-1]
    return inner.strip()


def _classify(source: str, start: int, end: int, dialect: str) -> _Action:
    opener = source[:2]
    inner = _inner(source)
    if opener == "{#" or (dialect == GO and inner.startswith("/*")):
        return _Action(start, end, _CONTROL, source)
    if opener == "{%":
        emits = _JINJA_EMITS.match(inner) is not None
        return _Action(start, end, _EMIT if emits else _CONTROL, source, branch=_ELSE.match(inner) is not None)
    if dialect == GO and _GO_CONTROL.match(inner):
        return _Action(start, end, _CONTROL, source, branch=_ELSE.match(inner) is not None)
    literal = _constant(inner, dialect)
    if literal is not None:
        return _Action(start, end, _TEXT, source, literal=literal)
    found = _INDENT.search(inner)
    return _Action(start, end, _EMIT, source, indent=int(found.group(1)) if found else None,
                   block=found is not None or _BLOCK.match(inner) is not None)


def _constant(inner: str, dialect: str) -> str | None:
    """The text a constant action prints: a string without escapes (Go's `"x"` and raw `` `x` ``,
    Jinja's `"x"` and `'x'`), a number, true or false; None for anything else."""
    found = _CONSTANT.fullmatch(inner)
    if found is None:
        return None
    double, raw, single, word = found.groups()
    if dialect == GO:
        return double if double is not None else raw if raw is not None else word  # Go's 'x' is a number
    return double if double is not None else single if single is not None else word


def _actions(text: str, dialect: str) -> Iterator[_Action]:
    opener = _GO_OPEN if dialect == GO else _JINJA_OPEN
    position = 0
    while True:
        found = opener.search(text, position)
        if found is None:
            return
        start = found.start()
        end = _close(text, start, found.group(), dialect)
        yield _classify(text[start:end], start, end, dialect)
        position = end


# --------------------------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------------------------


@dataclass
class _Outline:
    """The rendered lines seen so far, as indentation: the nearest line at or above an
    indentation tells whether an emitting line is a list item or a mapping entry."""

    stack: list[tuple[int, bool, bool, int]]  # (indent, dash, ends in ":", dash content column)

    def shape(self, indent: int) -> str | int:
        """"seq", "map", or the indentation of the key with no value yet that the line is under
        (the next line tells which)."""
        while self.stack and self.stack[-1][0] > indent:
            self.stack.pop()
        if not self.stack:
            return "map"
        at, dash, colon, content = self.stack[-1]
        if at == indent:
            return "seq" if dash else "map"
        if dash and content == indent:
            return "map"
        return at if colon else "map"

    def push(self, line: str) -> tuple[int, bool] | None:
        """Record a rendered line; the (indent, dash) of a content line, None for blank/comment."""
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            return None
        if stripped in ("---", "...") or stripped.startswith("--- "):
            self.stack.clear()
            return None
        indent = len(line) - len(line.lstrip(" "))
        dash = stripped == "-" or stripped.startswith("- ")
        content = indent + 1 + (len(stripped) - 1 - len(stripped[1:].lstrip(" "))) if dash else indent
        code = stripped
        comment = code.find(" #")
        if comment >= 0:
            code = code[:comment].rstrip()
        while self.stack and self.stack[-1][0] >= indent:
            self.stack.pop()
        self.stack.append((indent, dash, code.endswith(":"), content))
        return indent, dash


@dataclass(frozen=True)
class _Lines:
    """What one line (or the lines one action spans) renders to."""

    text: str = ""  # the rendering, with the line breaks it spans
    emits: tuple[int, int] | None = None  # an emitting line: (indentation, placeholder index)
    item: tuple[str, int, int] | None = None  # `- {{ toYaml . }}`: (the `- ` prefix, content column, index)
    opens: int | None = None  # `key: {{ toYaml . | nindent 4 }}`: the placeholder index of what it emits


@dataclass(frozen=True)
class _Wait:
    """A line whose rendering waits for the next content line: an emitting line under a key with
    no value yet (list item or mapping entry?), or a list item holding only emitted YAML (a
    mapping when lines follow at its content column, else one unknown value)."""

    slot: int
    column: int  # the emitting line's indentation, or the item's content column
    index: int
    item: str | None = None  # the item's `- ` prefix
    parent: int = -1  # the indentation of the key an emitting line is under


def _placeholder(kind: str, index: int) -> str:
    return f"{kind}{index}{CLOSE}"


def render(text: str, dialect: str = GO, emissions: bool = True) -> Rendered:
    """The YAML `text` reads as once its template actions stand for unknown values (see the module
    docstring); the same lines, each where it was. Raises `TemplateError` on an unclosed action."""
    text = text.translate(_SCRUB)
    actions = list(_actions(text, dialect))
    expressions: list[str] = []
    opens: dict[int, int] = {}
    out: list[str] = []
    outline = _Outline([])
    waiting: list[_Wait] = []
    position, k, size, line = 0, 0, len(text), 1
    while position < size:
        end = text.find("\n", position)
        end = size if end < 0 else end
        first = k
        while k < len(actions) and actions[k].start < end:
            if actions[k].end > end:
                after = text.find("\n", actions[k].end)
                end = size if after < 0 else after
            k += 1
        group = _group(text, position, end, actions[first:k], expressions, emissions)
        if group.emits is not None:
            indent, index = group.emits
            shape = outline.shape(indent)
            if isinstance(shape, int):
                waiting.append(_Wait(len(out), indent, index, parent=shape))
                out.append("")
            else:
                out.append(_emission(shape, indent, index))
                seen = outline.push(out[-1])
                if waiting:
                    _settle(out, waiting, seen)
        elif group.item is not None:
            prefix, column, index = group.item
            seen = outline.push(prefix + "x")
            if waiting:
                _settle(out, waiting, seen)
            waiting.append(_Wait(len(out), column, index, prefix))
            out.append("")
        else:
            if group.opens is not None:
                opens[line] = group.opens
            for rendered in group.text.split("\n"):
                seen = outline.push(rendered)
                if seen is not None and waiting:
                    _settle(out, waiting, seen)
        out.append(group.text)
        line += text.count("\n", position, end) + 1
        out.append("\n" if end < size else "")
        position = end + 1
    _settle(out, waiting, None)
    return Rendered("".join(out), tuple(expressions), emissions, opens)


def _emission(shape: str, indent: int, index: int) -> str:
    mark = _placeholder(OPEN, index)
    return " " * indent + (f"- {mark}" if shape == "seq" else f"{mark}:")


def _settle(out: list[str], waiting: list[_Wait], seen: tuple[int, bool] | None) -> None:
    """The lines that waited, now that the next content line (indentation, dash) is `seen`."""
    for wait in waiting:
        if wait.item is None and seen is not None and wait.parent + (0 if seen[1] else 1) <= seen[0] <= wait.column:
            # the key's entries are written at that indentation (`nindent 2` over a compact `- ` list,
            # which may sit at the key's own indentation; a mapping's entries sit deeper)
            out[wait.slot] = _emission("seq" if seen[1] else "map", seen[0], wait.index)
        elif wait.item is None:
            out[wait.slot] = _emission("map", wait.column, wait.index)
        elif seen is not None and seen[0] >= wait.column and seen != (wait.column, True):
            out[wait.slot] = wait.item + _placeholder(OPEN, wait.index) + ":"
        else:
            out[wait.slot] = wait.item + _placeholder(VALUE, wait.index)
    waiting.clear()


def _group(text: str, start: int, end: int, actions: list[_Action], expressions: list[str],
           emissions: bool) -> _Lines:
    """One line (several, when an action spans lines) rendered."""
    if not actions:
        return _Lines(text[start:end])
    pieces: list[str | _Action] = []
    position = start
    for action in actions:
        if action.start > position:
            pieces.append(text[position:action.start])
        pieces.append(action)
        position = action.end
    if end > position:
        pieces.append(text[position:end])
    spanned = "\n" * text.count("\n", start, end)
    solid = [number for number, p in enumerate(pieces)
             if (isinstance(p, str) and p.strip()) or (isinstance(p, _Action) and p.kind != _CONTROL)]
    emitting = [number for number in solid if _emits(pieces[number])]
    if len(solid) == len(emitting):  # nothing written but actions
        if not emitting or not emissions:
            return _Lines(spanned)
        sources = [p.source for p in pieces if isinstance(p, _Action) and p.kind == _EMIT]
        index = _expression(expressions, " ".join(sources))
        last = pieces[emitting[-1]]
        assert isinstance(last, _Action)
        lead = pieces[0] if isinstance(pieces[0], str) else ""
        indent = last.indent if last.indent is not None else len(lead) - len(lead.lstrip(" "))
        return _Lines(spanned, emits=(indent, index))
    head = pieces[solid[0]]
    if emissions and len(solid) == 2 and isinstance(head, str) and head.strip() == "-" and solid[1] in emitting:
        before = head.rstrip()
        item = pieces[solid[1]]
        assert isinstance(item, _Action)
        return _Lines(spanned, item=(before + " ", len(before) + 1, _expression(expressions, item.source)))
    return _inline(pieces, solid, expressions, emissions)


def _emits(piece: str | _Action) -> bool:
    return isinstance(piece, _Action) and piece.kind == _EMIT


def _expression(expressions: list[str], source: str) -> int:
    expressions.append(source[:MAX_EXPRESSION])
    return len(expressions) - 1


def _inline(pieces: list[str | _Action], solid: list[int], expressions: list[str], emissions: bool) -> _Lines:
    """A line with text: constants as themselves, control actions dropped (an `else` amid text
    makes the value unknown), emitting actions as value placeholders, except that a key whose
    value a block emitter writes (`labels: {{- include "x" . | nindent 4 }}`) stays a key with no
    value, so the lines below it may hold its entries. Each action's own line breaks are kept
    after it, so the text after it stays on its line."""
    first, last = solid[0], solid[-1]
    opens: int | None = None
    rendered: list[str] = []
    for number, piece in enumerate(pieces):
        if isinstance(piece, str):
            rendered.append(piece)
            continue
        if piece.kind == _TEXT:
            rendered.append(piece.literal)
        elif number == last and piece.kind == _EMIT and piece.block and emissions and \
                "".join(rendered).rstrip().endswith(":"):
            opens = _expression(expressions, piece.source)
        elif piece.kind == _EMIT or (piece.branch and first < number < last):
            rendered.append(_placeholder(VALUE, _expression(expressions, piece.source)))
        rendered.append("\n" * piece.source.count("\n"))
    return _Lines("".join(rendered), opens=opens)
