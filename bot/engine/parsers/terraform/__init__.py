"""Terraform parser: the `.tf` (HCL) and `.tf.json` (JSON syntax) files of one module directory in,
one `ParsedFile` per file out.

A review comment must land on the exact attribute, so reading a file gives two things: values
(in python-hcl2's shape, expressions as hcl2 renders them) and an outline giving every attribute,
object entry, list item and nested block its own lines; the two are joined by name and by order.
A `.tf` file is read in one pass over tree-sitter-hcl's syntax tree (`hcl_treesitter`). The
reader before it (python-hcl2 for the values, a small scanner for the lines, so each file read
twice) stays as the reference the new one is held equal to, as the fallback where
tree-sitter-hcl's grammar has a gap, and to word syntax errors.
A `.tf.json` file is read once, by a JSON reader that keeps lines, into values of the same shape
and an outline of the same kind, so everything after reading is shared.

Expressions are evaluated statically and safely: literals, `var.x` (the variable's default) and
`local.x` (the local's value), operators, conditionals and a set of functions; what cannot be
known becomes `Unknown(expression)` so rules can tell "false" from "cannot tell".

One module per step, each importing only those before it:

- `hcl2_shape`: python-hcl2's value conventions (quotes, `${...}`, inline HCL, heredocs, labels).
- `grammar`: the one call into python-hcl2 (lark grammar, its on-disk cache), text -> values;
  hcl2 and lark imported by its first parse, never by reading `.tf` files.
- `lexer`: tokens with lines (strings, heredocs, comments, paired brackets); the nesting limit.
- `outline`: blocks, attributes, object entries and list items with their spans, from tokens.
- `expressions`: one hcl2-rendered expression evaluated, given what `var.x`/`local.x` hold.
- `values`: static resolution of expressions through the module's variables and locals.
- `references`: the addresses an expression names, looking through locals.
- `hcl_treesitter`: text -> the same values and outline in one pass (tree-sitter-hcl); the default.
- `nodes`: hcl2 values and outline spans joined into `Node` trees.
- `errors`: every failure of the steps above as a `FileError` with a readable message and line.
- `json_reader`: strict JSON with the lines of every object, property and value.
- `json_syntax`: a `.tf.json` file -> the same hcl2-shaped values and outline the HCL steps give.
- `module`: files of a directory -> shared scope -> `Resource`s; `parse_module`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.parsers.terraform.lexer import MAX_NESTING
    from bot.engine.parsers.terraform.module import MAX_FILE_CHARS, SOURCE, parse_module
    from bot.engine.parsers.terraform.values import MAX_RESOLVE_DEPTH

__all__ = ["MAX_FILE_CHARS", "MAX_NESTING", "MAX_RESOLVE_DEPTH", "SOURCE", "parse_module"]

# Imported when first asked for, not with the package: a step such as `lexer` or `json_reader`
# (which rules use on their own) comes without the HCL grammar and lark behind `module`.
_EXPORTS = {"MAX_NESTING": "lexer", "MAX_FILE_CHARS": "module", "SOURCE": "module", "parse_module": "module",
            "MAX_RESOLVE_DEPTH": "values"}


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
