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
