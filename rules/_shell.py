"""Reading shell scripts just enough for review: commands fetched from the network and run unseen.

Shared by the GitHub Actions (`run:`) and Dockerfile (`RUN`) packs. Textual, bounded patterns:
a script is never executed or fully parsed, so quoting tricks can hide a command (a reviewer's
tool, not a sandbox).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_SHELL = r"(?:/usr)?(?:/bin/)?(?:ba|da|k|z|a)?sh\b"
_PREFIX = r"(?:sudo\s+(?:-\S+\s+){0,4})?(?:env\s+(?:[A-Za-z_]\w*=\S*\s+){0,4})?"
# `curl -fsSL https://x/install.sh | sh`, `wget -qO- URL | sudo -E bash -`, `bash <(curl URL)`,
# `sh -c "$(curl -fsSL URL)"`: remote code runs without ever being written down or checked.
_DOWNLOAD_TO_SHELL = re.compile(
    rf"\b(?:curl|wget)\b[^|;&\n]{{0,500}}\|\s*{_PREFIX}{_SHELL}"
    rf"|\b{_PREFIX}{_SHELL}\s+(?:-\S+\s+){{0,3}}<\(\s*(?:curl|wget)\b"
    rf"|\b{_SHELL}\s+(?:-\S+\s+){{0,3}}-c\s+[\"']?\$\(\s*(?:curl|wget)\b"
)
_TOOL = re.compile(r"\b(curl|wget)\b")
_SHELL_NAME = re.compile(r"(?<![\w/.-])(?:/usr)?(?:/bin/)?((?:ba|da|k|z|a)?sh)\b")


def describe_download(match: re.Match[str]) -> str:
    """`curl` download into `bash`: what a message may say about a match, never its text (a command
    line can carry a token in a header or a URL)."""
    text = match.group(0)
    tool = _TOOL.search(text)
    shells = [m.group(1) for m in _SHELL_NAME.finditer(text)]
    return f"`{tool.group(1) if tool else 'curl'}` download straight into `{shells[-1] if shells else 'sh'}`"


# Command separators of a POSIX shell line (naive about quotes, which is enough for these checks).
_SEPARATOR = re.compile(r"&&|\|\||[;|&\n(){}`]|\$\(")
_LEADING_WORDS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!", "time", "exec"})
_ASSIGNMENT = re.compile(r"[A-Za-z_]\w*=\S*")


def downloads_to_shell(script: str) -> Iterator[re.Match[str]]:
    """Every `curl/wget ... | sh`-style command of a script."""
    if "curl" in script or "wget" in script:
        yield from _DOWNLOAD_TO_SHELL.finditer(script)


def commands(script: str) -> Iterator[list[str]]:
    """Each simple command of a script as its words, without leading keywords (`then`, `do`...)
    or variable assignments (`DEBIAN_FRONTEND=noninteractive apt-get ...`)."""
    for segment in _SEPARATOR.split(script):
        words = segment.split()
        while words and (words[0] in _LEADING_WORDS or _ASSIGNMENT.fullmatch(words[0])):
            words.pop(0)
        if words:
            yield words


# One piece of a word: plain characters, a single-quoted string, a double-quoted string (where a
# backslash escapes the next character), or an escaped character; or the blanks between words.
# Each piece is matched once, left to right, so splitting is linear in the line. Inside double
# quotes, runs of plain characters are taken possessively: one repetition per character kept a
# backtracking frame each, and a 4 MB quoted ENV value took 1 s where a run at a time takes 13 ms.
_PIECE = re.compile(r"""[^ \t\r\n'"\\]+|'([^']*)'|"((?:[^"\\]++|\\.)*+)"|\\(.)|([ \t\r\n]+)""", re.DOTALL)
_IN_DOUBLE_QUOTES = re.compile(r'\\(["\\])')  # the only escapes a double-quoted string honours


def split_words(text: str) -> list[str]:
    """The words of a shell line as `shlex.split(text)` gives them (POSIX quoting, no comments),
    in linear time: shlex builds each word a character at a time, quadratic in a long word.
    ValueError, as shlex, for an unclosed quote or a trailing backslash."""
    words: list[str] = []
    current: list[str] = []
    in_word = False
    position = 0
    while position < len(text):
        piece = _PIECE.match(text, position)
        if piece is None:
            raise ValueError("No closing quotation" if text[position] in "'\"" else "No escaped character")
        position = piece.end()
        single, double, escaped, blank = piece.groups()
        if blank is not None:
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            continue
        in_word = True
        if single is not None:
            current.append(single)
        elif double is not None:
            current.append(_IN_DOUBLE_QUOTES.sub(r"\1", double))
        elif escaped is not None:
            current.append(escaped)
        else:
            current.append(piece.group(0))
    if in_word:
        words.append("".join(current))
    return words
