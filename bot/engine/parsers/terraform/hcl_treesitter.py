"""HCL in one pass: tree-sitter-hcl's syntax tree -> the hcl2-shaped values and the outline.

python-hcl2 (lark's pure-Python LALR parser) plus the lexer's second tokenisation read about
10,000 lines a second; tree-sitter parses in C, and one walk over its tree gives both what
`grammar.load_hcl` gives (values exactly as hcl2 renders them, expressions as `${...}`
strings, the quirks `expressions` knows included) and what `outline.outline_file` gives (every
block, attribute, object entry and list item with its lines). Rendering follows hcl2's value
conventions (`hcl2_shape`: `to_string_dollar`, `to_tf_inline`, heredoc trimming), so a value
reads alike whichever parser produced it, and reading a `.tf` file never imports hcl2 or lark;
`tests/engine/parsers/terraform/hcl_treesitter_test.py` holds the two readers to the same output
over every `.tf` file of the repository.

Once tree-sitter has parsed, the walk is the rest of the cost, paid per node, so it reads as
little of each node as it can (issue 13; `python -m bench.parse_bench`): kinds from a table by
id (`node.type` makes a new string each time), tokens sliced out of the text when it is ASCII,
comments filtered only out of the nodes found to hold one, a reference written without spaces
taken as its own text (`hcl_treesitter_walk_test.py` holds each shortcut to hcl2's reading).

tree-sitter recovers from syntax errors; the bot must not: any ERROR or MISSING node is a
`SyntaxProblem` with its line. Nesting (blocks, brackets, calls, parentheses, interpolations,
operators) past MAX_NESTING is `TooDeep`, checked as the walk descends, so the recursion of
the walk is bounded; long operator chains (`a + b + ...`) are flattened without recursing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import tree_sitter
import tree_sitter_hcl

# hcl2's value conventions, applied where hcl2's DictTransformer applies them.
from bot.engine.parsers.terraform.hcl2_shape import heredoc_template, heredoc_template_trim
from bot.engine.parsers.terraform.hcl2_shape import strip_quotes as _strip_quotes
from bot.engine.parsers.terraform.hcl2_shape import to_string_dollar as _to_dollar
from bot.engine.parsers.terraform.hcl2_shape import to_tf_inline as _inline
from bot.engine.parsers.terraform.hcl2_shape import unwrap_string_dollar as _unwrap_dollar
from bot.engine.parsers.terraform.lexer import MAX_NESTING, TooDeep, unquote
from bot.engine.parsers.terraform.outline import Block, Expr

__all__ = ["Duplicate", "SyntaxProblem", "read_hcl"]

Node = tree_sitter.Node

# The operators of a binary operation (tree-sitter's anonymous tokens).
_BINARY_OPS = frozenset({"==", "!=", "<", ">", "<=", ">=", "-", "*", "/", "%", "&&", "||", "+"})
# hcl2 keeps an object key's quotes when it holds an interpolation (its own test, as written there).
_INTERPOLATED_KEY = re.compile(r".*?(\${).*}.*")
_WORDS = {"}": '"}"', "]": '"]"', ")": '")"', "{": '"{"', "=": '"="', "quoted_template_end": "a closing quote",
          "heredoc_identifier": "the heredoc's closing marker", "identifier": "a name", "expression": "a value"}


class SyntaxProblem(Exception):
    """The text is not valid HCL: tree-sitter-hcl found an error or had to invent a token
    (`grammar` True: its grammar has gaps, see `module.read_hcl_file`), or it breaks a rule of
    Terraform's that the grammar does not check (`grammar` False)."""

    def __init__(self, message: str, line: int, grammar: bool = False) -> None:
        super().__init__(message)
        self.line = line
        self.grammar = grammar


class Duplicate(Exception):
    """An attribute given twice in one body (hcl2's "already defined"), with the second's line."""

    def __init__(self, name: str, line: int) -> None:
        super().__init__(f"{name} already defined")
        self.line = line


_LANGUAGE = tree_sitter.Language(tree_sitter_hcl.language())
_COMMENT = _LANGUAGE.id_for_node_kind("comment", True)
_GET_ATTR = _LANGUAGE.id_for_node_kind("get_attr", True)
_COLLECTION_VALUE = _LANGUAGE.id_for_node_kind("collection_value", True)
# Text with no gap a space or comment could fill: tokens of a reference written without them.
_PLAIN_PATH = re.compile(r"[\w.-]+")
# Node kinds by id: `_KIND[node.kind_id]` is `node.type`, but `type` builds a new string on
# every read, which the walk, reading thousands of kinds per file, feels.
_KIND: tuple[str, ...] = tuple(_LANGUAGE.node_kind_for_id(i) or "" for i in range(_LANGUAGE.node_kind_count))
# Where a comment may start (`#`, `//`, `/*`): the walk filters comments out of the few nodes
# that hold one, found from these, instead of testing every child of every node in Python.
_COMMENT_START = re.compile(rb"#|//|/\*")


@functools.lru_cache(maxsize=1)
def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(_LANGUAGE)


def read_hcl(text: str) -> tuple[dict[str, Any], Block]:
    """Values (as `grammar.load_hcl` gives them) and outline (as `outline.outline_file` gives it)
    of one file's text; raises SyntaxProblem, Duplicate or TooDeep."""
    source = text.encode("utf-8")
    tree = _parser().parse(source)
    root = tree.root_node
    if root.has_error:
        problem = _syntax_problem(root, source)
        problem.grammar = True
        raise problem
    walker = _Walker(source, text, _commented(root, source))
    outline = Block("", (), 1, _last_line(root, source))
    values: dict[str, Any] = {}
    for child in root.children:
        if child.type == "body":
            values = walker.body(child, outline, 0)
    return values, outline


def _commented(root: Node, source: bytes) -> frozenset[int]:
    """The ids of the nodes a comment is a child of (tree-sitter puts comments anywhere). Every
    comment starts with one of `_COMMENT_START`; the token found there is a comment or, when the
    match is inside a string, not, and either way no comment starts before the token's end, so
    the search goes on from there (a banner of `#####` is one look-up, not one per `#`). A
    tree-sitter query for the comments walks the whole tree and costs more than this."""
    parents = set()
    pos = 0
    while (match := _COMMENT_START.search(source, pos)) is not None:
        start = match.start()
        node = root.descendant_for_byte_range(start, start + 1)
        if node is None:
            break
        if node.kind_id == _COMMENT and node.start_byte == start and (parent := node.parent) is not None:
            parents.add(parent.id)
        pos = node.end_byte if node.child_count == 0 else start + 1
    return frozenset(parents)


def _syntax_problem(root: Node, source: bytes) -> SyntaxProblem:
    """The first ERROR or MISSING node, in words and with its line. Inside an ERROR node
    tree-sitter keeps the tokens it skipped; the last one is where reading went wrong."""
    node = _first_problem(root)
    at_end = SyntaxProblem("syntax error: unexpected end of file (unclosed block, bracket or string?)",
                           max(1, _line_count(source)))
    if node is None:  # has_error promised one
        return SyntaxProblem("syntax error", 1)
    if node.is_missing:
        if node.start_byte >= len(source.rstrip()):
            return at_end
        return SyntaxProblem(f"syntax error: expected {_WORDS.get(node.type, repr(node.type))}",
                             node.start_point[0] + 1)
    leaf = node
    while leaf.child_count:
        leaf = leaf.children[-1]
    rest = source[leaf.start_byte:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    if not rest and not source[leaf.start_byte:].strip():
        return at_end
    shown = _describe(rest) if rest else "a new line"
    return SyntaxProblem(f"syntax error: unexpected {shown}; expected an attribute (name = value), a block, "
                         f"or the rest of an expression", leaf.start_point[0] + 1)


def _first_problem(root: Node) -> Node | None:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node
        if node.has_error:
            stack.extend(reversed(node.children))
    return None


def _describe(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    return repr(first if len(first) <= 30 else first[:30] + "...")


def _line_count(source: bytes) -> int:
    return len(source.rstrip().split(b"\n"))


def _last_line(root: Node, source: bytes) -> int:
    """The outline's root ends where the lexer's last token does: the last content token, or a
    later line break outside comments."""
    last = 1
    end = 0
    for child in root.children:
        if child.type != "comment":
            last, end = _end_line(child, child.start_point[0]), child.end_byte
    comments = [(c.start_byte, c.end_byte) for c in root.children if c.type == "comment" and c.start_byte >= end]
    pos = len(source)
    while True:
        pos = source.rfind(b"\n", end, pos)
        if pos < 0:
            return last
        if not any(a <= pos < b for a, b in comments):
            return source.count(b"\n", 0, pos) + 1
        pos = max(a for a, b in comments if a <= pos < b)


def _end_line(node: Node, start_row: int) -> int:
    """A node's last line (a node ending with a line break ends on the line before); its first
    row is passed in, callers have it already."""
    row, column = node.end_point
    return row if column == 0 and row > start_row else row + 1


def _first(node: Node) -> Node:
    """The child of a wrapper node (`literal_value`, `operation`, ...): it spans the whole
    wrapper, so no comment can come before it."""
    child = node.child(0)
    if child is None:
        raise SyntaxProblem("syntax error: a value is missing", node.start_point[0] + 1)
    return child


class _Walker:
    """One walk over the syntax tree; `depth` is nesting so far, bounded by MAX_NESTING."""

    def __init__(self, source: bytes, text: str, commented: frozenset[int]) -> None:
        self.source = source
        # tree-sitter's offsets count bytes; in an ASCII file (the usual) they count characters
        # too, so tokens are sliced out of the text itself instead of decoded one by one.
        self.chars = text if len(text) == len(source) else None
        self.commented = commented
        self.parens = False  # directly inside ( ): where the lexer blanks line breaks for hcl2

    def term_in(self, parts: list[Node], depth: int, parens: bool) -> Any:
        """`term(parts)` with the innermost bracket being a parenthesis (True) or another (False)."""
        saved, self.parens = self.parens, parens
        value = self.term(parts, depth)
        self.parens = saved
        return value

    def text(self, node: Node) -> str:
        """A node's source text (`slice` written out: it runs for nearly every token)."""
        chars = self.chars
        if chars is not None:
            return chars[node.start_byte:node.end_byte]
        return self.source[node.start_byte:node.end_byte].decode("utf-8")

    def slice(self, start: int, end: int) -> str:
        """The source between two byte offsets."""
        if self.chars is not None:
            return self.chars[start:end]
        return self.source[start:end].decode("utf-8")

    def parts(self, node: Node) -> list[Node]:
        """A node's children without comments. The list may be tree-sitter's own: never changed."""
        if node.id in self.commented:
            return [c for c in node.children if c.kind_id != _COMMENT]
        return node.children

    @staticmethod
    def deeper(node: Node, depth: int) -> int:
        if depth + 1 > MAX_NESTING:
            raise TooDeep(node.start_point[0] + 1)
        return depth + 1

    # -- bodies and blocks -------------------------------------------------------------------

    def body(self, node: Node, outline: Block, depth: int) -> dict[str, Any]:
        """hcl2's `body`: attributes by name (given once), blocks as lists by type."""
        result: dict[str, Any] = {}
        attributes: set[str] = set()
        previous_end = -1
        for child in node.children:
            child_kind = _KIND[child.kind_id]
            if child_kind != "attribute" and child_kind != "block":
                continue
            row = child.start_point[0]
            if row <= previous_end:  # tree-sitter-hcl and hcl2 allow it, Terraform not
                raise SyntaxProblem("syntax error: an attribute or block must start on a new line", row + 1)
            previous_end = child.end_point[0]
            if child_kind == "attribute":
                parts = self.parts(child)
                name = self.text(parts[0])
                if name in result:
                    raise Duplicate(name, row + 1)
                raw, where = self.expression(parts[2], depth)
                result[name] = _to_dollar(raw)
                attributes.add(name)
                outline.attrs.setdefault(name, where)
            else:
                kind, value = self.block(child, outline, depth)
                if kind in result:
                    if kind in attributes:
                        raise Duplicate(kind, row + 1)
                    result[kind].append(value)
                else:
                    result[kind] = [value]
        return result

    def block(self, node: Node, parent: Block, depth: int) -> tuple[str, Any]:
        parts = self.parts(node)
        kind = self.text(parts[0])
        labels: list[str] = []
        raw_labels: list[Any] = []
        body: dict[str, Any] = {}
        row = node.start_point[0]
        outline = Block(kind, (), row + 1, _end_line(node, row))
        for part in parts[1:]:
            part_kind = _KIND[part.kind_id]
            if part_kind == "identifier":
                label = self.text(part)
                labels.append(label)
                raw_labels.append(label)
            elif part_kind == "string_lit":
                labels.append(unquote(self.text(part)))
                raw_labels.append(_strip_quotes(self.quoted(part, depth)))
            elif part_kind == "block_start":
                if part.start_point[0] != row:
                    raise SyntaxProblem('syntax error: a block\'s labels and its "{" must be on the line of its type',
                                        part.start_point[0] + 1)
                depth = self.deeper(part, depth)
            elif part_kind == "body":
                body = self.body(part, outline, depth)
            elif part_kind == "block_end":
                outline.end_line = part.start_point[0] + 1
        outline.labels = tuple(labels)
        parent.blocks.append(outline)
        value: Any = body
        for label in reversed(raw_labels):
            value = {label: value}
        return kind, value

    # -- expressions -------------------------------------------------------------------------

    def expression(self, node: Node, depth: int) -> tuple[Any, Expr]:
        """An `expression` node: its value as hcl2's `expression` rule gives it, and its outline."""
        row = node.start_point[0]
        line, end_line = row + 1, _end_line(node, row)
        parts = self.parts(node)
        if len(parts) != 1:
            return self.term(parts, depth), Expr(line, end_line)
        only = parts[0]
        if only.kind_id != _COLLECTION_VALUE:
            return self.primary(only, depth), Expr(line, end_line)
        inner = _first(only)
        if _KIND[inner.kind_id] == "object":
            value, entries = self.object_value(inner, depth)
            return value, Expr(line, end_line, entries=entries)
        items: list[Expr] = []
        listed = self.tuple_value(inner, depth, items)
        return listed, Expr(line, end_line, items=tuple(items))

    def value(self, node: Node, depth: int) -> Any:
        """An `expression` node's value only."""
        return self.term(self.parts(node), depth)

    def term(self, parts: list[Node], depth: int) -> Any:
        """A sequence of siblings that makes one expression: a primary (or `( expression )`)
        followed by attribute, index and splat steps; or a single operation, conditional, ..."""
        if not parts:
            raise SyntaxProblem("syntax error: a value is missing", 1)
        first = parts[0]
        if len(parts) == 1:  # a value without steps (the common case): no slicing, no joining
            return self.primary(first, depth)
        first_kind = _KIND[first.kind_id]
        if first_kind == "variable_expr":
            path = self.reference(parts)
            if path is not None:
                return path
        if first_kind == "(":
            depth = self.deeper(first, depth)
            close = next(i for i, p in enumerate(parts) if _KIND[p.kind_id] == ")")
            inner = self.term_in(parts[1:close], depth, parens=True)
            value: Any = "(" + str(inner) + ")"
            rest = parts[close + 1:]
        else:
            value = self.primary(first, depth)
            rest = parts[1:]
        for step in rest:
            value = f"{value}{self.step(step, depth)}"
        return value

    def reference(self, parts: list[Node]) -> str | None:
        """`name.attr.attr` written without spaces or comments (most references) is its own
        text, which is what the steps render to one by one; None for anything else."""
        for step in parts[1:]:
            if step.kind_id != _GET_ATTR:
                return None
        path = self.slice(parts[0].start_byte, parts[-1].end_byte)
        return path if _PLAIN_PATH.fullmatch(path) else None

    def primary(self, node: Node, depth: int) -> Any:
        """One value; the kinds are tested most frequent first."""
        kind = _KIND[node.kind_id]
        if kind == "variable_expr":
            return self.text(node)
        if kind == "literal_value":
            return self.literal(_first(node), depth)
        if kind == "template_expr":
            inner = _first(node)
            if _KIND[inner.kind_id] == "heredoc_template":
                return self.heredoc(inner)
            return self.quoted(inner, depth)
        if kind == "collection_value":
            inner = _first(node)
            if _KIND[inner.kind_id] == "object":
                return self.object_value(inner, depth)[0]
            return self.tuple_value(inner, depth, [])
        if kind == "function_call":
            return self.call(node, depth)
        if kind == "operation":
            inner = _first(node)
            if _KIND[inner.kind_id] == "unary_operation":
                return self.unary(inner, depth)
            return self.binary(inner, depth)
        if kind == "conditional":
            return self.conditional(node, depth)
        if kind == "for_expr":
            return self.for_expr(_first(node), depth)
        if kind == "expression":
            return self.value(node, depth)
        raise SyntaxProblem(f"syntax error: unexpected {_describe(self.text(node))}", node.start_point[0] + 1)

    def literal(self, node: Node, depth: int) -> Any:
        kind = _KIND[node.kind_id]
        if kind == "string_lit":
            return self.quoted(node, depth)
        if kind == "numeric_lit":
            return _number(self.text(node))
        if kind == "bool_lit":
            return self.text(node) == "true"
        if kind == "null_lit":
            return None
        return self.quoted(node, depth)

    def step(self, node: Node, depth: int) -> str:
        """`.name`, `[i]`, `.0`, `.*.x`, `[*].x` as hcl2 renders them."""
        kind = _KIND[node.kind_id]
        if kind == "get_attr":
            return "." + self.text(self.parts(node)[-1])
        if kind == "index":
            inner = _first(node)
            if _KIND[inner.kind_id] == "legacy_index":
                return f"[{self.text(inner)[1:].strip()}]"
            depth = self.deeper(inner, depth)
            expression = next(p for p in self.parts(inner) if _KIND[p.kind_id] == "expression")
            return f"[{self.term_in(self.parts(expression), depth, parens=False)}]"
        if kind == "splat":
            inner = _first(node)
            steps = "".join(self.step(p, depth) for p in self.parts(inner)[1:])
            return (".*" if _KIND[inner.kind_id] == "attr_splat" else "[*]") + steps
        raise SyntaxProblem(f"syntax error: unexpected {_describe(self.text(node))}", node.start_point[0] + 1)

    def unary(self, node: Node, depth: int) -> Any:
        depth = self.deeper(node, depth)
        op, *operand = self.parts(node)
        if (_KIND[op.kind_id] == "-" and len(operand) == 1 and _KIND[operand[0].kind_id] == "literal_value"
                and operand[0].start_byte == op.end_byte and _KIND[_first(operand[0]).kind_id] == "numeric_lit"):
            return _number("-" + self.text(operand[0]))  # hcl2 reads `-1` as one literal
        value = self.term(operand, depth)
        return _KIND[op.kind_id] + _inline(_null(value))

    def conditional(self, node: Node, depth: int) -> str:
        """`c ? a : b`, as hcl2's parser (which shifts) nests it: `c1 ? a : c2 ? b : d` to the
        right (tree-sitter-hcl nests it to the left), and `x == true ? a : b` as
        `x == (true ? a : b)`: the condition's last operand reads as a conditional's part
        (`True`, Python reprs), unless a line break before `?` made hcl2 close `x == true`."""
        depth = self.deeper(node, depth)
        chain: list[tuple[Node, Node, Node]] = []  # (condition, "?", true branch), outermost last
        last: Node | None = None
        current = node
        while True:
            parts = self.parts(current)
            condition, yes, no = (p for p in parts if _KIND[p.kind_id] == "expression")
            question = next(p for p in parts if _KIND[p.kind_id] == "?")
            chain.append((condition, question, yes))
            last = no if last is None else last
            inner = self.parts(condition)
            if len(inner) != 1 or _KIND[inner[0].kind_id] != "conditional":
                break
            current = inner[0]  # a chain is walked, not recursed: it adds no nesting
        # tree-sitter: ((A ? B : C) ? D : E); chain = [(A?B:C ? D), ...]: re-read as A ? B : (C ? D : E)
        conditions = [c for c, _, _ in reversed(chain)]
        questions = [q for _, q, _ in reversed(chain)]
        branches = [y for _, _, y in reversed(chain)]
        elses: list[Node] = [self.else_of(c) for c in conditions[1:]] + [last]
        first, *middles = [conditions[0], *elses[:-1]]
        pieces: list[str] = []  # joined once: a long else-if chain stays linear
        for condition, question, yes in zip([first, *middles], questions, branches):
            pieces += [self.condition(condition, question, depth), f" ? {_null(self.value(yes, depth))} : "]
        pieces.append(f"{_null(self.value(elses[-1], depth))}")
        return "".join(pieces)

    def condition(self, condition: Node, question: Node, depth: int) -> str:
        """A conditional's text before its ` ? `: hcl2 nests `x == c ? a : b` as `x == (c ? ...)`."""
        parts = self.parts(condition)
        if len(parts) == 1 and _KIND[parts[0].kind_id] == "operation" and _KIND[_first(parts[0]).kind_id] == "binary_operation":
            values, ops, breaks = self.operands(_first(parts[0]), depth)
            return _combined(values, ops, breaks, self.breaks_before(condition, question))
        return f"{_null(self.value(condition, depth))}"

    def else_of(self, node: Node) -> Node:
        """The false branch of the conditional an expression node holds."""
        return [p for p in self.parts(_first(node)) if _KIND[p.kind_id] == "expression"][-1]

    def breaks_before(self, before: Node, operator: Node) -> bool:
        """Whether a line break or comment stands between an operand and its operator, which
        makes hcl2 close the operation before it (not inside parentheses: the lexer blanks those)."""
        if self.parens:
            return False
        gap = self.source[before.end_byte:operator.start_byte]
        return bool(gap.strip()) or b"\n" in gap

    def binary(self, node: Node, depth: int) -> str:
        """hcl2 has no precedence: `a + b * c` is the flat `a + b * c`, nested to the right
        (each operand but the last is a left side: `${...}` unwrapped, null reads `None`)."""
        return _combined(*self.operands(node, self.deeper(node, depth)))

    def operands(self, node: Node, depth: int) -> tuple[list[Any], list[str], list[bool]]:
        """A binary operation's operands' values, its operators and whether a line break
        precedes each operator, left to right, flat."""
        flat: list[list[Node] | Node] = []
        pending: list[list[Node] | Node] = [[node]]
        while pending:  # operands left to right, without recursing down long chains
            item = pending.pop()
            if not isinstance(item, list):
                flat.append(item)
                continue
            if len(item) == 1 and _KIND[item[0].kind_id] == "binary_operation":
                item = self.parts(item[0])
            elif len(item) == 1 and _KIND[item[0].kind_id] == "operation" and _KIND[_first(item[0]).kind_id] == "binary_operation":
                item = self.parts(_first(item[0]))
            else:
                flat.append(item)
                continue
            at = _operator_at(item)
            if at is None:
                flat.append(item)
                continue
            pending += [item[at + 1:], item[at], item[:at]]
        values: list[Any] = []
        ops: list[str] = []
        breaks: list[bool] = []
        for i, entry in enumerate(flat):
            if isinstance(entry, list):
                values.append(self.term(entry, depth))
            else:
                before = flat[i - 1]
                ops.append(_KIND[entry.kind_id])
                breaks.append(self.breaks_before(before[-1] if isinstance(before, list) else before, entry))
        return values, ops, breaks

    def call(self, node: Node, depth: int) -> str:
        depth = self.deeper(node, depth)
        parts = self.parts(node)
        name = self.text(parts[0])
        args: list[str] = []
        for part in parts:
            if _KIND[part.kind_id] == "function_arguments":
                args = [_inline(_null(self.term_in(self.parts(p), depth, parens=True)))
                        for p in self.parts(part) if _KIND[p.kind_id] == "expression"]
        return f"{name}({', '.join(args)})"

    def for_expr(self, node: Node, depth: int) -> str:
        saved, self.parens = self.parens, False
        value = self._for_expr(node, self.deeper(node, depth))
        self.parens = saved
        return value

    def _for_expr(self, node: Node, depth: int) -> str:
        words: list[str] = []
        for part in self.parts(node)[1:-1]:
            if _KIND[part.kind_id] in ("for_intro", "for_cond"):
                words += [self.text(p) if _KIND[p.kind_id] != "expression" else _inline(self.value(p, depth)) for p in self.parts(part)]
            elif _KIND[part.kind_id] == "expression":
                words.append(_inline(self.value(part, depth)))
            else:
                words.append(self.text(part))  # `=>`, `...`
        body = " ".join(words)
        return f"[{body}]" if _KIND[node.kind_id] == "for_tuple_expr" else f"{{{body}}}"

    def tuple_value(self, node: Node, depth: int, items: list[Expr]) -> list[Any]:
        saved, self.parens = self.parens, False
        values = self._tuple_value(node, self.deeper(node, depth), items)
        self.parens = saved
        return values

    def _tuple_value(self, node: Node, depth: int, items: list[Expr]) -> list[Any]:
        values = []
        for part in self.parts(node):
            if _KIND[part.kind_id] == "expression":
                raw, where = self.expression(part, depth)
                values.append(_to_dollar(raw))
                items.append(where)
        return values

    def object_value(self, node: Node, depth: int) -> tuple[dict[str, Any], dict[str, Expr]]:
        saved, self.parens = self.parens, False
        result = self._object_value(node, self.deeper(node, depth))
        self.parens = saved
        return result

    def _object_value(self, node: Node, depth: int) -> tuple[dict[str, Any], dict[str, Expr]]:
        values: dict[str, Any] = {}
        entries: dict[str, Expr] = {}
        for elem in self.parts(node):
            if _KIND[elem.kind_id] != "object_elem":
                continue
            key_node, _, value_node = self.parts(elem)
            raw, where = self.expression(value_node, depth)
            key_parts = self.parts(key_node)
            values[self.key(key_node, key_parts, depth)] = _to_dollar(raw)
            outline_key = self.outline_key(key_parts)
            if outline_key:
                entries.setdefault(outline_key, Expr(key_node.start_point[0] + 1, where.end_line,
                                                     where.entries, where.items))
        return values, entries

    def key(self, node: Node, parts: list[Node], depth: int) -> str:
        """An object key (`node`, its `parts` without comments) as hcl2's `object_elem` makes it."""
        first = parts[0]
        first_kind = _KIND[first.kind_id]
        if first_kind == "variable_expr" and len(parts) == 1:  # `name = ...`, the common case
            return self.text(first)
        if first_kind == "(":
            inner = self.term_in(parts[1:-1], self.deeper(first, depth), parens=True)
            return str(_to_dollar(f"({inner})"))
        if first_kind == "variable_expr" and all(_KIND[p.kind_id] == "get_attr" for p in parts[1:]):
            return self.text(node)
        if first_kind == "literal_value" and len(parts) == 1:
            literal = _first(first)
            if _KIND[literal.kind_id] in ("bool_lit", "null_lit"):
                return self.text(literal)
        value = self.term(parts, depth)
        if first_kind not in ("literal_value", "template_expr"):  # `f(x) = 1`: hcl2 refused it; an expression
            return str(_to_dollar(str(value)))
        key = str(value)
        return key if _INTERPOLATED_KEY.match(key) else str(_strip_quotes(key))

    def outline_key(self, parts: list[Node]) -> str:
        """The key the outline knows an entry by (from the key's parts without comments): a key
        written as one token, unquoted."""
        if len(parts) != 1:
            return ""
        first = parts[0]
        kind = _KIND[first.kind_id]
        if kind in ("variable_expr", "literal_value", "template_expr"):
            if kind == "template_expr" and _KIND[_first(first).kind_id] == "heredoc_template":
                return ""
            return unquote(self.text(first))
        return ""

    # -- templates ---------------------------------------------------------------------------

    def quoted(self, node: Node, depth: int) -> str:
        """A quoted template as hcl2's `string` rule gives it: the text as written, quotes
        kept, each interpolation's expression rendered (`${` + str(value) + `}`)."""
        if node.child_count <= 3:  # `"text"` or `""`: no interpolation (the common case, kept cheap)
            middle = node.child(1)
            if middle is None or _KIND[middle.kind_id] in ("template_literal", "quoted_template_end"):
                return self.text(node)
        pieces: list[str] = []
        last = node.start_byte
        for interpolation in _interpolations(node):
            depth_inside = self.deeper(interpolation, depth)
            expression = next(p for p in self.parts(interpolation) if _KIND[p.kind_id] == "expression")
            pieces += [self.slice(last, interpolation.start_byte),
                       "${" + str(self.term_in(self.parts(expression), depth_inside, parens=False)) + "}"]
            last = interpolation.end_byte
        pieces.append(self.slice(last, node.end_byte))
        return "".join(pieces)

    def heredoc(self, node: Node) -> str:
        """A heredoc as hcl2 gives it: its text (interpolations as written), trimmed by hcl2."""
        raw = self.text(node) + "\n"
        if raw.startswith("<<-"):
            return heredoc_template_trim(raw)
        return heredoc_template(raw)


def _interpolations(node: Node) -> Iterator[Node]:
    """The `${...}` of a template (inside its directives too), not those nested in them."""
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        if _KIND[child.kind_id] == "template_interpolation":
            yield child
        elif child.child_count:
            stack.extend(reversed(child.children))


def _combined(values: list[Any], ops: list[str], breaks: list[bool], condition: bool | None = None) -> str:
    """hcl2's `binary_op`/`binary_term` over operands and operators as its LALR parser nests
    them: to the right, except that a line break before an operator closes the innermost
    operation first. `condition` set: the operation is a conditional's condition (the value is
    then its text before ` ? `), whose last operand hcl2 reads as the conditional's own part,
    unless a line break before `?` (`condition` True) closed the operation first."""
    stack: list[tuple[Any, str]] = []
    current = values[0]
    for op, broken, value in zip(ops, breaks, values[1:]):
        if broken and stack:
            current = _operation(*stack.pop(), current)
        stack.append((current, op))
        current = value
    if condition is not None:
        if condition and stack:
            current = _operation(*stack.pop(), current)
        current = f"{_null(current)}"
    # The rest nests to the right; each right side is then a string already, so the fold is a join
    # (linear, where folding one string into the next is quadratic in a long chain).
    pieces = [f"{_unwrap_dollar(_inline(lhs))} {op}" for lhs, op in stack]
    return " ".join([*pieces, _inline(_null(current))])


def _operation(lhs: Any, op: str, rhs: Any) -> str:
    return f"{_unwrap_dollar(_inline(lhs))} {op} {_inline(_null(rhs))}"


def _operator_at(parts: list[Node]) -> int | None:
    for i, part in enumerate(parts):
        if _KIND[part.kind_id] in _BINARY_OPS and not part.is_named:
            return i
    return None


def _null(value: Any) -> Any:
    """hcl2's `process_nulls`: None reads `null` where hcl2 applies it."""
    return "null" if value is None else value


def _number(text: str) -> Any:
    """hcl2's `int_lit`/`float_lit`: an exponent written with a lowercase `e` stays an expression."""
    if "." in text or "e" in text or "E" in text:
        return _to_dollar(text) if "e" in text else float(text)
    return int(text)
