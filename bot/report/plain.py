"""Markdown as plain text, for readers that show text as is (a terminal line, SARIF's
`message.text`): code spans lose their backticks, bold its asterisks, a link shows its address.
The rules write a small, known subset of Markdown, so this is no general Markdown renderer."""

from __future__ import annotations

import re

_CODE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*$", re.MULTILINE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def plain_text(markdown: str) -> str:
    """The words of `markdown` without its marks; code kept verbatim (only its fence goes)."""
    out: list[str] = []
    last = 0
    for span in _CODE.finditer(markdown):  # code spans first: nothing inside them is markup
        out.append(_unmark(markdown[last:span.start()]))
        code = span.group(2)
        out.append(code[1:-1] if len(code) > 2 and code[0] == code[-1] == " " else code)
        last = span.end()
    out.append(_unmark(markdown[last:]))
    return "".join(out)


def _unmark(text: str) -> str:
    text = _FENCE.sub("", text)
    text = _BOLD.sub(r"\1", text)
    return _LINK.sub(r"\1 (\2)", text)


def one_line(text: str) -> str:
    """`text` on one terminal line: line breaks and tabs as spaces, other control characters
    (an escape sequence in a file name or a value) shown as `\\xNN`, never sent to the terminal."""
    flat = " ".join(text.split("\n")).replace("\t", " ").replace("\r", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", flat)


def shown_path(path: str) -> str:
    """A file name as one terminal word-run: every control character (a newline, a tab, an escape)
    as `\\xNN`, so a hostile name can neither break the line nor drive the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path)
