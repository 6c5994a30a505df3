"""One reading of a text resource for all the secrets rules: which of its lines may hold which secret.

Seventeen rules read the same lines, and on nearly every line none of them finds anything. Each
secret format has words a line must hold before its pattern can match at all (an access key id
starts `AKIA`, a Slack token `xox`, a password assignment names `pass`, `key`, `token`...). So the
lines of a resource are searched once, together, for every rule's words, and each rule then runs
its own patterns on the lines holding one of its words only: the same findings, a fraction of the
work. The search is one pass of an Aho-Corasick automaton over the resource's text: linear in the
text however long a line, every occurrence of every word seen (overlapping ones too). Measured
(bench/secrets_bench.py) it beats a compiled alternation of the words several times over, since
`re` tries each alternative at each position.

The words are lower case and the text is lowered for the search, after the three letters Python's
case-insensitive matching equates with ASCII ones (`İ`, `ı`, `ſ`) are mapped to them: every line on
which a rule's pattern (case-sensitive or not) can match then holds one of its words, and lowering
keeps every character where it was (`İ` is the one letter whose lower case is longer).
"""

from __future__ import annotations

import bisect
import functools
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import ahocorasick

from bot.engine.model import Resource

# rule's word set name -> the words (lower case) one of which a line must hold for that rule to find anything
WORDS: Mapping[str, tuple[str, ...]] = {
    "aws_access_key_id": ("akia", "asia", "abia", "acca", "a3t"),
    "aws_secret_access_key": ("secret",),
    "private_key": ("-----begin ",),
    "github_token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "slack": ("xox", "hooks.slack.com/"),
    "stripe_live_key": ("sk_live_", "rk_live_"),
    "google_api_key": ("aiza",),
    "assigned_secret": ("pass", "pwd", "secret", "token", "key"),
    "url_credentials": ("://",),
    "jwt": ("eyj", "eyai"),
    "azure_account_key": ("accountkey",),
    "sendgrid": ("sg.",),
    "twilio": ("twilio",),
    "mailgun": ("key-",),
    "npm_token": ("npm_",),
    "pypi_token": ("pypi-",),
    "teams_webhook": (".webhook.office.com/",),
}
_BITS = {name: 1 << index for index, name in enumerate(WORDS)}
_FOLDS = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"))


@functools.cache
def _automaton() -> ahocorasick.Automaton:
    """Every word, valued by the bits of the word sets holding it (built on first use, not at import)."""
    automaton = ahocorasick.Automaton()
    for word in sorted({word for words in WORDS.values() for word in words}):
        automaton.add_word(word, sum(bit for name, bit in _BITS.items() if word in WORDS[name]))
    automaton.make_automaton()
    return automaton

def numbered_lines(resource: Resource) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line handed to the secrets rules."""
    for key, node in resource.body.items():
        if isinstance(node.value, str):
            line = int(key) if key.isdigit() else node.line
            yield line, node.value


def folded(text: str) -> str:
    """`text` lowered so that whatever a case-insensitive pattern of ASCII letters matches reads
    as those letters; as long as `text`, each character where it was."""
    if not text.isascii():
        for letter, ascii_letter in _FOLDS:
            text = text.replace(letter, ascii_letter)
    return text.lower()


@dataclass(frozen=True)
class LineScan:
    """A resource's lines and, for each line holding any rule's word, which rules' words it holds."""

    lines: Sequence[tuple[int, str]]
    masks: Mapping[int, int]  # index into `lines` -> bits of the word sets found on it, in line order

    def candidates(self, name: str) -> Iterator[tuple[int, str]]:
        """The lines holding one of the words of `name` (a key of `WORDS`), in order."""
        bit = _BITS[name]
        lines = self.lines
        for index, mask in self.masks.items():
            if mask & bit:
                yield lines[index]


def scan_lines(lines: Sequence[tuple[int, str]]) -> LineScan:
    """The one search of `lines` for every rule's words."""
    texts = [text for _, text in lines]
    joined = folded("\n".join(texts))  # no word holds "\n": none is found across two lines
    starts: list[int] = []
    offset = 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + 1
    masks: dict[int, int] = {}
    for end, bits in _automaton().iter(joined):
        index = bisect.bisect_right(starts, end) - 1
        masks[index] = masks.get(index, 0) | bits
    return LineScan(lines, masks)


class _Last(threading.local):
    resource: Resource | None = None
    scan: LineScan | None = None


_last = _Last()


def line_scan(resource: Resource) -> LineScan:
    """The search of `resource`'s lines, made once for all the rules judging it in turn (the engine
    runs every rule on one resource before the next): the last one is kept, per thread."""
    if _last.resource is not resource or _last.scan is None:
        _last.scan = scan_lines(list(numbered_lines(resource)))
        _last.resource = resource
    return _last.scan
