"""The one call into python-hcl2: its grammar, run by lark, turns a file's text into values.

Everything that drives python-hcl2 lives here; the shape of the values it gives (position keys,
labelled blocks nested by label, expressions as `${...}` strings) is `hcl2_shape`'s. Values come
without lines; the lexer and the outline supply those. Reviews read `.tf` files with
`hcl_treesitter`, which gives the same values; this stays for `.tf.json` expressions, as that
reader's reference and fallback, and to word syntax errors. So hcl2 and lark (~60 ms to import)
are imported by the first parse, not by importing this module: a review that reads only `.tf`
files never loads them.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from lark import Lark

__all__ = ["load_hcl"]


def _dropping_discard(callback: Callable[..., Any], discard: object) -> Callable[..., Any]:
    """Tree-mode lark removes children that returned `Discard` (hcl2's newlines and comments);
    inside the parser nothing does, so each callback drops them itself."""

    def run(self: Any, args: list[Any]) -> Any:
        return callback(self, [arg for arg in args if arg is not discard])

    return run


def _block_without_meta(self: Any, args: list[Any]) -> Any:
    """hcl2's `block` without positions (it asks lark for meta, which inline callbacks lack)."""
    *labels, body = args
    for label in reversed(labels):
        body = {self.strip_quotes(label): body}
    return body


@functools.lru_cache(maxsize=1)
def _hcl_parser() -> Lark:
    """python-hcl2's own grammar and DictTransformer, run inside the LALR parser.

    `hcl2.loads(text, with_meta=True)` builds a parse tree with positions, then transforms it.
    We need neither (our scanner supplies every line), and applying the transformer's callbacks
    while parsing gives the same values about 3x faster, with no recursion over deep trees.
    Lark caches the grammar tables on disk (see `_grammar_cache_file`): a fresh process starts in ~0.2 s.
    """
    import hcl2.parser  # here, by the first parse only (see the module's docstring)
    import lark
    from hcl2.transformer import DictTransformer

    grammar = Path(hcl2.parser.__file__).with_name("hcl2.lark").read_text(encoding="utf-8")
    rules = set(re.findall(r"^[?!]?([a-z_][a-z0-9_]*)\s*:", grammar, re.MULTILINE))
    callbacks = {
        name: _dropping_discard(getattr(DictTransformer, name), lark.Discard)
        for name in rules
        if callable(getattr(DictTransformer, name, None))
    }
    callbacks["block"] = _dropping_discard(_block_without_meta, lark.Discard)
    transformer = type("_InlineDictTransformer", (DictTransformer,), callbacks)(with_meta=False)
    return lark.Lark(grammar, parser="lalr", propagate_positions=False, transformer=transformer,
                     cache=_grammar_cache_file(lark.__version__))


def _grammar_cache_file(lark_version: str) -> str | bool:
    """A private place for lark's pickled grammar tables, or no cache at all.

    lark's default cache is a predictable file in the shared temp directory, and it is loaded
    with pickle: anyone who can write there first could run code in this process. A directory
    only this user can write to closes that door; if there is none, parse without a cache.
    """
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "compliance-bot"
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = base.stat()
    except OSError:
        return False
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        return False
    return str(base / f"hcl2-grammar-lark{lark_version}.cache")


def load_hcl(text: str) -> dict[str, Any]:
    """Values of one file as `hcl2.loads` gives them; the only place that knows about hcl2."""
    return cast("dict[str, Any]", _hcl_parser().parse(text + "\n"))  # hcl2.loads appends it too

