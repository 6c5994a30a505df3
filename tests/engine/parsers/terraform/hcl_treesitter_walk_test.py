"""The tree-sitter reader's shortcuts read alike with hcl2's reader (see `hcl_treesitter`).

The walk slices tokens out of the text when it is ASCII and decodes byte ranges otherwise,
filters comments only out of the nodes it found one in (from where `#`, `//` and `/*` occur in
the text), renders a reference written without spaces as its own text, and unquotes strings
without a backslash itself. Each case below is on the edge of one of those: it must read exactly
as hcl2's reader reads it, and read at all (no case passes by both readers refusing it).
"""

from __future__ import annotations

import pytest

from bench.hcl_corpus import difference
from bot.engine.parsers.terraform.hcl_treesitter import read_hcl

pytestmark = pytest.mark.timeout(60)

EDGES = [
    # not ASCII: byte offsets are not character offsets
    'a = "é${var.u}ö"\nb = "😀" # ñ\nc = [\n  "ä", # ü\n  x.y,\n]\n',
    'resource "aws_s3_bucket" "é" {\n  bucket = "ß-${local.n}"\n  tags = { Name = "名前" }\n}\n',
    "a = <<EOT\n  ünïcode ${x}\n  EOT\nb = 1\n",
    # comments anywhere, and their starts inside strings and other comments
    'a = "#not" # yes\nb = "//not" // yes\nc = "/*not*/"\n/* a\n # b\n */ d = 1\n',
    "########\n# banner\n########\na = 1 ### x // y /* z\n",
    "a = f(x, # one\n  y, // two\n  /* three */ z)\nb = {\n  k = 1 # c\n  # d\n  l = [1, /* e */ 2]\n}\n",
    'block "x" "y" { # c\n  # c\n  a = 1 /* c */\n} // c\n',
    "a = x ? # c\n  y : z\nb = (x /* c */ + y)\n",
    # references: with and without gaps between their steps
    "a = x.y.z\nb = x . y\ne = x.y-z.w\nf = x.0.y\ng = x.y[0].z\nh = x[*].y\ni = x.*.y\n",
    "a = { x.y = 1, (x.y) = 2, x = x.y }\nb = x.y == z.w ? x.y : null\nc = \"${x.y.z}\"\n",
    # quoted strings, labels and type keywords: what hcl2's helpers decide
    'a = "q\\"x\\\\y\\n"\nb = ""\nc = "${x}"\nd = string\ne = "number"\nf = "\\t"\n',
    'variable "x\\"y" {\n  type = list(string)\n}\nresource "a" "b\\\\c" {\n}\n',
]


@pytest.mark.parametrize("text", EDGES)
def test_the_walks_shortcuts_read_alike_with_hcl2(text: str) -> None:
    read_hcl(text)  # the tree-sitter reader reads it (raises otherwise)
    assert difference("edge.tf", text) is None


def test_a_reference_with_a_gap_hcl2_refuses_is_its_steps() -> None:
    """hcl2 refuses a comment or a line break inside a reference; the walk renders its steps
    (the gap dropped), and never takes the comment for a step."""
    values, outline = read_hcl("a = x./* c */y\nb = x.\n  y.z\n")
    assert values == {"a": "${x.y}", "b": "${x.y.z}"}
    assert (outline.attrs["a"].line, outline.attrs["b"].line, outline.attrs["b"].end_line) == (1, 2, 3)
