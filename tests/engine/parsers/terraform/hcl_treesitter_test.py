"""The tree-sitter HCL reader gives exactly what the hcl2 reader gave: values (hcl2's rendering of
expressions, quirks included), block, attribute, entry and item lines, and so the same resources.

Where the two cannot agree, the hcl2 reader was wrong and the difference is pinned below with
its reason (`test_where_hcl2_was_wrong_tree_sitter_reads_it_right`); everything else must be
equal, over every `.tf` file in the repository and over constructs chosen for their quirks.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.hcl_corpus import difference, first_difference
from bot.engine.model import FileError, ParsedFile
from bot.engine.parsers.terraform import MAX_NESTING, module, parse_module
from bot.engine.parsers.terraform.hcl_treesitter import SyntaxProblem, read_hcl
from bot.engine.parsers.terraform.lexer import TooDeep
from tests.engine.parsers.golden import as_json, dump

ROOT = Path(__file__).resolve().parents[4]
SKIPPED_DIRS = {".git", ".venv", "node_modules", ".cache", "__pycache__"}


def repository_tf_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.tf") if not SKIPPED_DIRS & set(p.relative_to(ROOT).parts))


TF_FILES = repository_tf_files()


def with_hcl2(monkeypatch: pytest.MonkeyPatch, run: Callable[[], Any]) -> Any:
    """`run()` with `.tf` files read the old way (python-hcl2 + lexer + outline)."""
    with monkeypatch.context() as patch:
        patch.setattr(module, "read_hcl_file", module.read_hcl_file_hcl2)
        return run()


def test_the_repository_has_terraform_to_compare() -> None:
    assert len(TF_FILES) >= 200
    assert any("tests/fixtures" in p.as_posix() for p in TF_FILES)
    assert any("bot/examples" in p.as_posix() for p in TF_FILES)


@pytest.mark.parametrize("file", TF_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_tf_file_reads_alike(file: Path) -> None:
    assert difference(file.as_posix(), file.read_text(encoding="utf-8")) is None


def test_every_fixture_module_gives_the_same_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    modules: dict[Path, dict[str, str]] = {}
    for file in TF_FILES:
        modules.setdefault(file.parent, {})[file.relative_to(ROOT).as_posix()] = file.read_text(encoding="utf-8")
    resources = 0
    for files in modules.values():
        new = parse_module(files)
        old = with_hcl2(monkeypatch, lambda files=files: parse_module(files))  # type: ignore[misc]
        assert as_json(dump(new)) == as_json(dump(old)), next(iter(files))
        resources += sum(len(parsed.resources) for parsed in new.values())
    assert resources >= 500


# Constructs whose hcl2 rendering has a quirk the evaluator knows (see `expressions`), each
# written as hcl2 reads it; the tree-sitter reader must render them alike.
QUIRKS = [
    'a = x == true ? "y" : "n"',  # hcl2 nests the conditional into `==`: `x == True ? ...`
    'a = [x == true\n  ? "y" : "n"]',  # not when a line break comes before `?`
    "a = null == x || null != y",  # a left side null reads `None`
    "a = [x != null\n  || y != null]",  # a line break before an operator closes the operation first
    "a = (x != null\n  || y != null)",  # ...but not inside parentheses (blanked for hcl2)
    "a = f(x != null\n  || y != null)",
    "a = c1 ? 1 : c2 ? 2 : c3 == true ? [3] : []",  # tree-sitter-hcl nests conditionals leftwards
    "a = c ? [1, true] : {k = null}",  # Python reprs inside a conditional
    "a = (true)",
    'a = [for k, v in m : upper(v) if k != "x"]',
    "a = {for k, v in m : k => [v, true]... if v != null}",
    'a = merge({a = 1, "b" = [true, null]}, var.x)',  # JSON and inline lists inside a call
    "a = concat(a, b...)",
    "a = 1e3 + 2e3 + 3e3",  # a lowercase exponent stays an expression, `${}` kept on the right
    "a = 1E3",
    "a = [-1, - 1, -1.5, -x, !x, 007, 1.50]",
    "a = a.b[0].c[*].d.*.e[\"k\"]",
    "a = provider::aws::arn_parse(x).region",
    'a = "x-${var.y}-$${z}-%{ if c }${d}%{ endif }\\n\\t\\"q\\""',
    'a = "${true} ${null} ${[1]} ${{k = 1}} ${"s"}"',
    'a = "${lookup(m, "k", "${x}")}"',
    "a = <<EOT\n  raw ${x} \"q\" \\n\n  EOT\n",
    "a = <<-EOT\n    one ${x}\n      two\n    EOT\n",
    "a = {\n  (var.k) = 1\n  \"${a}\" = 2\n  a.b = 3\n  1 = 4\n  1.5 = 5\n  \"q\\\"x\" = 6\n  true = 7\n}",
    "a = {\n  k = 1\n  k = 2\n}",  # a repeated key: hcl2 keeps the last value, the outline the first lines
    "a = [\n  1, # one\n  /* two */ 2,\n  [3, {x = [4]}],\n]",
    'resource "a" "b" {\n  dynamic "ingress" {\n    for_each = var.x\n    content {\n      from = ingress.value\n    }\n  }\n}',
    'locals {\n  a = 1 # c\n  // c\n  b = {\n    c = "d" /* e */\n  }\n}\nblock "with \\"q\\"" unquoted {\n}',
    "a = {}\nb = []\nc = {\n}\n",
    "# only a comment",
    "a = 1\n\n# trailing\n/* multi\nline */",
    "",
]


@pytest.mark.parametrize("text", QUIRKS)
def test_quirky_constructs_read_alike(text: str) -> None:
    assert difference("quirk.tf", text) is None


# Each: text, and why the hcl2 reader's output was wrong. The test proves the old reader still
# differs (so the reason stays true) and pins what the tree-sitter reader gives instead.
HCL2_WRONG: list[tuple[str, str, Callable[[dict[str, Any]], bool]]] = [
    ("a = !!x\n", "hcl2's grammar takes only a term after `!` or `-`, so it refuses `!!x`",
     lambda values: values["a"] == "${!!x}"),
    ("a = x.10\n", "hcl2 renders the legacy index `.10` as `[1]` (its grammar reads one digit)",
     lambda values: values["a"] == "${x[10]}"),
    ('a = [for k in m : { format("%s", k) = 1 }]\n', "hcl2's grammar refuses a call as an object key (HCL takes any expression)",
     lambda values: values["a"] == '${[for k in m : {"${format("%s", k)}": 1}]}'),
]


@pytest.mark.parametrize(("text", "reason", "expected"), HCL2_WRONG, ids=[case[1] for case in HCL2_WRONG])
def test_where_hcl2_was_wrong_tree_sitter_reads_it_right(text: str, reason: str,
                                                         expected: Callable[[dict[str, Any]], bool]) -> None:
    assert difference("wrong.tf", text) is not None, f"hcl2 no longer differs: {reason}"
    values, _ = read_hcl(text)
    assert expected(values), values


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('resource "a" "b" {\n  x = 1  y = 2\n}\n', 2, "must start on a new line"),
        ('resource "a" "b" {\n  x = 1\n}  resource "c" "d" {\n}\n', 3, "must start on a new line"),
        ('resource "a" "b"\n{\n  x = 1\n}\n', 2, 'its "{" must be on the line of its type'),
    ],
)
def test_what_terraform_refuses_and_hcl2_accepted_is_an_error_with_its_line(text: str, line: int, words: str) -> None:
    assert difference("strict.tf", text) is not None  # hcl2 read these
    parsed = parse_module({"strict.tf": text})["strict.tf"]
    assert parsed.resources == ()
    (error,) = parsed.errors
    assert (error.path, error.line) == ("strict.tf", line) and words in error.message


@pytest.mark.parametrize(
    "text",
    [
        'resource "a" "b" {\n  x = 1\n  y = 2 @\n}\n',
        'resource "a" "b" {\n  x = 1\n  y =\n}\n',
        'resource "a" "b" {\n  x 1\n}\n',
        'resource "a" "b" {\n  x = 1\n',
        'a = "open\n',
        "a = [1, 2\n",
        "a = <<EOT\nno end\n",
    ],
)
def test_a_syntax_error_fails_closed_with_hcl2s_words(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SyntaxProblem) as problem:
        read_hcl(text)
    assert problem.value.line >= 1 and str(problem.value).startswith("syntax error")
    new = parse_module({"bad.tf": text})["bad.tf"]
    old: ParsedFile = with_hcl2(monkeypatch, lambda: parse_module({"bad.tf": text})["bad.tf"])
    assert new.resources == () and len(new.errors) == 1 and new.errors == old.errors
    assert isinstance(new.errors[0], FileError) and new.errors[0].line is not None


def test_a_repeated_attribute_is_refused_on_the_line_of_its_second_definition() -> None:
    text = 'resource "a" "b" {\n  x = 1\n}\nresource "c" "d" {\n  y = 1\n  z = 2\n  y = 3\n}\n'
    (error,) = parse_module({"dup.tf": text})["dup.tf"].errors
    assert (error.line, error.message) == (7, "invalid HCL: y already defined")


def test_an_attribute_and_a_block_of_one_name_are_refused() -> None:
    (error,) = parse_module({"dup.tf": "x = 1\nx {\n}\n"})["dup.tf"].errors
    assert (error.line, error.message) == (2, "invalid HCL: x already defined")


@pytest.mark.parametrize("unit", [("[", "]"), ("f(", ")"), ("{k = ", "}"), ("(", ")"), ("x[", "]")])
def test_nesting_past_the_limit_is_refused_as_the_lexer_refused_it(unit: tuple[str, str]) -> None:
    def nested(depth: int) -> str:
        return f"a = {unit[0] * depth}1{unit[1] * depth}\n"

    read_hcl(nested(MAX_NESTING))
    with pytest.raises(TooDeep):
        read_hcl(nested(MAX_NESTING + 1))
    (error,) = parse_module({"deep.tf": nested(MAX_NESTING + 1)})["deep.tf"].errors
    assert (error.line, error.message) == (1, f"cannot parse: nesting deeper than {MAX_NESTING} levels")


def test_blocks_and_templates_nested_past_the_limit_are_refused() -> None:
    blocks = "x {\n" * (MAX_NESTING + 1) + "}\n" * (MAX_NESTING + 1)
    templates = 'a = ' + '"${' * (MAX_NESTING + 1) + "1" + '}"' * (MAX_NESTING + 1) + "\n"
    for text in (blocks, templates):
        (error,) = parse_module({"deep.tf": text})["deep.tf"].errors
        assert f"nesting deeper than {MAX_NESTING} levels" in error.message


def test_what_tree_sitter_hcl_cannot_read_and_hcl2_can_falls_back_to_hcl2(monkeypatch: pytest.MonkeyPatch) -> None:
    """tree-sitter-hcl's grammar has a gap: `1e3` (an exponent without a fraction)."""
    for text in ("a = 1e3 + 2\n", "a = [1E3]\n", "a = {k = 1e-3}\n"):
        with pytest.raises(SyntaxProblem) as problem:
            read_hcl(text)
        assert problem.value.grammar
        new = parse_module({"gap.tf": text})["gap.tf"]
        old = with_hcl2(monkeypatch, lambda text=text: parse_module({"gap.tf": text})["gap.tf"])  # type: ignore[misc]
        assert new.errors == () and len(new.resources) == 0 and as_json(dump({"gap.tf": new})) == as_json(dump({"gap.tf": old}))
    loaded = module.load_file("gap.tf", 'locals {\n  n = 1e3\n}\n')
    assert not isinstance(loaded, FileError) and loaded.values["locals"][0]["n"] == "${1e3}"


def test_long_chains_are_walked_not_recursed() -> None:
    """`a + b + ...` and else-if chains nest in tree-sitter's tree, but add no nesting of ours."""
    terms = 20_000
    values, _ = read_hcl("a = " + " + ".join(["x"] * terms) + "\n")
    assert values["a"] == "${" + " + ".join(["x"] * terms) + "}"
    chain = " : ".join(f"c{i} ? {i}" for i in range(500)) + " : -1"
    values, _ = read_hcl(f"b = {chain}\n")
    assert values["b"] == "${" + chain + "}"
    assert difference("chain.tf", f"b = {chain}\n") is None


def test_first_difference_names_where_two_outputs_part() -> None:
    assert first_difference({"a": [1, {"b": "x"}]}, {"a": [1, {"b": "y"}]}) == "$.a[1].b: 'x' (hcl2) != 'y' (tree-sitter)"
    assert first_difference({"a": 1}, {"a": 1, "b": 2}) == "$.b: only in tree-sitter"
    assert first_difference([1], [1, 2]) == "$: 1 items (hcl2) != 2 (tree-sitter)"
    assert first_difference({"a": 1}, {"a": 1}) is None
