"""Dockerfiles to one `Resource` per build stage, each instruction with its lines.

Follows the Dockerfile syntax closely enough for review: parser directives at the very top
(`# escape=`), comment lines (also inside continuations, which Docker drops), backslash (or
the declared escape character) continuations joined into one logical instruction that keeps
its first and last line, and BuildKit heredocs (`RUN <<EOF ... EOF`) whose body lines belong
to the instruction.

Stage body: {"from": image, "name": stage name?, "platform": ...?, "index": n,
"final": bool, "instructions": [{"instruction", "arguments"}...]}; the first stage also gets
"global": the instructions (ARGs) before the first FROM. Docker instruction arguments keep
their text as written (continuations joined with the line break removed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.engine.lines import git_lines
from bot.engine.model import ENGINE_BUG, FileError, Node, ParsedFile, Resource

_DIRECTIVE = re.compile(r"^#\s*([A-Za-z]+)\s*=\s*(\S+)\s*$")
_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)(?:\s+(.*))?$", re.DOTALL)
_HEREDOC = re.compile(r"<<(-?)(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})


@dataclass(frozen=True)
class Instruction:
    """One logical instruction: upper-cased keyword, argument text, first and last line."""

    keyword: str
    arguments: str
    line: int
    end_line: int

    def node(self) -> Node:
        return Node(
            {
                "instruction": Node(self.keyword, self.line, self.line),
                "arguments": Node(self.arguments, self.line, self.end_line),
            },
            self.line,
            self.end_line,
        )


class DockerfileSyntaxError(ValueError):
    """An instruction Docker itself would reject; carries the 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def parse_dockerfile(path: str, text: str) -> ParsedFile:
    """Parse a Dockerfile; syntax problems become a `FileError`, never an exception."""
    lines = git_lines(text)
    try:
        instructions = list(iter_instructions(lines))
    except DockerfileSyntaxError as exc:
        return ParsedFile(path=path, errors=(FileError(path, exc.line, str(exc)),))
    except Exception:  # noqa: BLE001 - a parser bug is reported on the file, never raised
        return ParsedFile(path=path, errors=(FileError(path, None, f"could not parse: {ENGINE_BUG}"),))
    if instructions and not any(item.keyword == "FROM" for item in instructions):
        return ParsedFile(path=path, errors=(FileError(path, instructions[0].line, "no FROM instruction"),))
    return ParsedFile(path=path, resources=tuple(_stages(path, instructions, lines)))


def _escape_char(lines: list[str]) -> str:
    """The `# escape=` parser directive; directives only count before anything else."""
    for raw in lines:
        match = _DIRECTIVE.match(raw.strip())
        if match is None:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            return match.group(2)
    return "\\"


def iter_instructions(lines: list[str]) -> Iterator[Instruction]:
    """Logical instructions in order; continuation and heredoc lines fold into their owner."""
    escape = _escape_char(lines)
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        parts, index = _join_continuation(lines, index, escape)
        logical = "".join(parts)
        match = _INSTRUCTION.match(logical)
        if match is None:
            raise DockerfileSyntaxError(start + 1, f"unparseable Dockerfile line: {logical[:60]!r}")
        keyword = match.group(1).upper()
        arguments = (match.group(2) or "").strip()
        end = index
        if keyword in _HEREDOC_INSTRUCTIONS:
            bodies, index = _read_heredocs(lines, index, arguments, start + 1)
            if bodies:
                arguments = "\n".join([arguments, *bodies])
                end = index
        yield Instruction(keyword, arguments, start + 1, max(start + 1, end))


def _join_continuation(lines: list[str], index: int, escape: str) -> tuple[list[str], int]:
    """Join lines ending in the escape character; comment and blank lines inside are dropped.

    Returns the pieces and the index of the line after the logical line.
    """
    parts: list[str] = []
    while index < len(lines):
        raw = lines[index].rstrip()
        index += 1
        if parts and (not raw.strip() or raw.strip().startswith("#")):
            continue
        if raw.endswith(escape):
            parts.append(raw[: -len(escape)])
            continue
        parts.append(raw)
        return parts, index
    return parts, index


def _read_heredocs(lines: list[str], index: int, arguments: str, line: int) -> tuple[list[str], int]:
    """Bodies of every `<<WORD` on the instruction line, consumed in order."""
    bodies: list[str] = []
    for match in _HEREDOC.finditer(arguments.split("\n", 1)[0]):
        strip_tabs, word = match.group(1) == "-", match.group(3)
        body: list[str] = []
        while True:
            if index >= len(lines):
                raise DockerfileSyntaxError(line, f"heredoc <<{word} is never terminated")
            raw = lines[index]
            index += 1
            candidate = raw.lstrip("\t") if strip_tabs else raw
            if candidate.rstrip("\r") == word:
                break
            body.append(candidate)
        bodies.append("\n".join([*body, word]))
    return bodies, index


def _from_parts(arguments: str) -> tuple[str, str | None, str | None]:
    """(image, stage name, platform) of a FROM instruction."""
    platform = None
    words = arguments.split()
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag.lower().startswith("--platform="):
            platform = flag.split("=", 1)[1]
    image = words[0] if words else ""
    name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    return image, name, platform


def _stages(path: str, instructions: list[Instruction], lines: list[str]) -> Iterator[Resource]:
    starts = [i for i, item in enumerate(instructions) if item.keyword == "FROM"]
    preamble = instructions[: starts[0]] if starts else []
    for number, begin in enumerate(starts):
        finish = starts[number + 1] if number + 1 < len(starts) else len(instructions)
        stage = instructions[begin:finish]
        yield _stage_resource(path, number, stage, preamble if number == 0 else [], number == len(starts) - 1,
                              lines)


def _stage_resource(
    path: str, number: int, stage: list[Instruction], preamble: list[Instruction], final: bool, lines: list[str]
) -> Resource:
    head = stage[0]
    image, name, platform = _from_parts(head.arguments)
    first, last = head.line, stage[-1].end_line
    body: dict[str, Node] = {
        "from": Node(image, head.line, head.end_line),
        "index": Node(number, head.line, head.end_line),
        "final": Node(final, head.line, head.end_line),
        "instructions": Node([item.node() for item in stage], first, last),
    }
    if name is not None:
        body["name"] = Node(name, head.line, head.end_line)
    if platform is not None:
        body["platform"] = Node(platform, head.line, head.end_line)
    if preamble:
        body["global"] = Node([item.node() for item in preamble], preamble[0].line, preamble[-1].end_line)
    return Resource(
        source="dockerfile", kind="stage", type="dockerfile",
        address=f"stage.{name}" if name is not None else f"stage.{number}",
        path=path, line=first, end_line=last, body=Node(body, first, last),
        lines=tuple(lines[first - 1 : last]),
    )
