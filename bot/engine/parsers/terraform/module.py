"""A Terraform module: the `.tf` and `.tf.json` files of one directory in, one `ParsedFile` per file out.

Each file is read by its syntax (HCL, or JSON for `.tf.json`) into hcl2-shaped values and an
outline with lines; variables and locals are shared by every file of a module, so they are
collected from all files that parse before any resource is built.
Each top-level block then becomes a `Resource` (each local its own), with its address, kind,
type, body, references and source lines.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from bot.engine import limits
from bot.engine.lines import git_lines
from bot.engine.model import CallSite, FileError, Node, Origin, ParsedFile, Resource, failure_reason
from bot.engine.parsers.families import is_terraform_json
from bot.engine.parsers.terraform.errors import load_error
from bot.engine.parsers.terraform.grammar import load_hcl
from bot.engine.parsers.terraform.hcl2_shape import META_KEYS, unwrap
from bot.engine.parsers.terraform.hcl_treesitter import SyntaxProblem, read_hcl
from bot.engine.parsers.terraform.json_syntax import read_json_syntax
from bot.engine.parsers.terraform.lexer import blanked, tokenize
from bot.engine.parsers.terraform.nodes import body_node, value_node
from bot.engine.parsers.terraform.outline import Block, outline_file
from bot.engine.parsers.terraform.references import references_of
from bot.engine.parsers.terraform.values import MISSING, Bound, Scope

__all__ = ["MAX_FILE_CHARS", "MAX_HCL_CHARS", "SOURCE", "InstanceBudget", "LoadedFile", "LoadedModule", "ModuleCall",
           "load_file", "parse_module"]

SOURCE = "terraform"
MAX_FILE_CHARS = limits.FILE_BYTES  # as every infrastructure file (a .tf past it never reaches here from a review)
MAX_HCL_CHARS = limits.HCL_FILE_BYTES  # HCL syntax: python-hcl2's memory is what this bounds
MAX_RESOURCE_INSTANCES = limits.RESOURCE_INSTANCES  # made from one `count` / `for_each`; past it: one, unknown


# The top-level blocks that become resources, and how many labels each has.
_LABELS = MappingProxyType(
    {"resource": 2, "data": 2, "module": 1, "variable": 1, "provider": 1, "output": 1, "locals": 0}
)


@dataclass(frozen=True)
class LoadedFile:
    """One file that parsed: its text lines, hcl2 values and outline."""

    path: str
    lines: tuple[str, ...]
    values: dict[str, Any]
    outline: Block

    def blocks(self) -> Iterator[tuple[Block, Any]]:
        """Top-level blocks of the kinds we model, each with its hcl2 body."""
        return iter(self._blocks)

    @functools.cached_property
    def _blocks(self) -> tuple[tuple[Block, Any], ...]:
        """Found once: every instance of the module walks them (a module called from 500 stacks)."""
        found = []
        seen: dict[str, int] = {}
        for block in self.outline.blocks:
            index = seen.get(block.type, 0)
            seen[block.type] = index + 1
            if _LABELS.get(block.type) != len(block.labels):
                continue
            raws = self.values.get(block.type)
            if not isinstance(raws, list) or index >= len(raws):
                continue
            body = unwrap(raws[index], block.labels)
            if isinstance(body, dict):
                found.append((block, body))
        return tuple(found)


def read_hcl_file(path: str, text: str) -> tuple[dict[str, Any], Block] | FileError:
    """HCL, in one pass over tree-sitter-hcl's syntax tree (see `hcl_treesitter`).

    A file tree-sitter refuses is read once more by hcl2, for two reasons. Wording: tree-sitter's
    error recovery often places an error lines after the mistake, while hcl2's LALR parser
    stops at the first token that cannot fit, so a broken file gets today's message and line.
    Fallback: tree-sitter-hcl's grammar has a gap (it refuses `1e3`, an exponent without a
    fraction), so a file its grammar refuses and hcl2 reads is read by hcl2, as it was before. A file that breaks a
    rule of Terraform's which hcl2 does not check (one attribute per line) stays refused.
    """
    try:
        return read_hcl(text)
    except SyntaxProblem as problem:
        other = read_hcl_file_hcl2(path, text)
        if isinstance(other, FileError) or problem.grammar:
            return other
        return load_error(path, text, problem)
    except Exception as exc:  # noqa: BLE001 - a parser bug must never stop the review
        return load_error(path, text, exc)


def read_hcl_file_hcl2(path: str, text: str) -> tuple[dict[str, Any], Block] | FileError:
    """HCL the way it was read before tree-sitter: hcl2 gives the values, the lexer and the
    outline give the lines. Not used by reviews; kept as the reference the tree-sitter reader
    is held equal to (tests/engine/parsers/terraform/hcl_treesitter_test.py, bench/)."""
    try:
        tokens = tokenize(text)
        values = load_hcl(blanked(text, tokens.in_parens))
        outline = outline_file(tokens)
    except Exception as exc:  # noqa: BLE001 - a parser bug must never stop the review
        return load_error(path, text, exc)
    if not isinstance(values, dict):
        return FileError(path, None, "cannot parse: unexpected parser output")
    return values, outline


def load_file(path: str, text: str) -> LoadedFile | FileError:
    """Read one file, by its syntax, into values and outline; every failure becomes a FileError
    with the best line we know."""
    limit = MAX_FILE_CHARS if is_terraform_json(path) else MAX_HCL_CHARS
    if len(text) > limit:
        return FileError(path, None, f"file too large to parse ({len(text):,} characters; the limit is {limit:,})")
    text = text.replace("\r\n", "\n")  # the hcl2 grammar rejects CRLF; Terraform does not
    read = read_json_syntax if is_terraform_json(path) else read_hcl_file
    outcome = read(path, text)
    if isinstance(outcome, FileError):
        return outcome
    values, outline = outcome
    lines = tuple(git_lines(text))
    return LoadedFile(path, lines, values, outline)


def _scope(files: Sequence[LoadedFile], inputs: Mapping[str, Bound]) -> Scope:
    """Variables (a caller's or a variable file's value, else the default) and locals from every
    file of the module (first definition wins), with where each default and local is written."""
    variables: dict[str, Any] = {}
    local_values: dict[str, Any] = {}
    origins: dict[str, Origin] = {}
    for loaded in files:
        for block, body in loaded.blocks():
            if block.type == "variable":
                name = block.labels[0]
                if name in variables:
                    continue
                variables[name] = inputs.get(name, body.get("default", MISSING))
                default = block.attrs.get("default")
                if default is not None:
                    origins[f"var.{name}"] = Origin(f"var.{name}", loaded.path, default.line,
                                                    loaded.lines[default.line - 1],
                                                    f"the default of variable `{name}`")
            elif block.type == "locals":
                for name, raw in body.items():
                    if name in META_KEYS or name in local_values:
                        continue
                    local_values[name] = raw
                    where = block.attrs.get(name)
                    if where is not None:
                        origins[f"local.{name}"] = Origin(f"local.{name}", loaded.path, where.line,
                                                          loaded.lines[where.line - 1], f"local `{name}`")
    return Scope(variables, local_values, origins)


class InstanceBudget:
    """Instances that `count` / `for_each` may still add in one evaluation: beyond each block's
    first (RESOURCE_INSTANCES_TOTAL; past it a block is one resource whose instance values are
    unknown, as an unknown count makes it), and the module instances calls make (`stack`'s
    CALL_INSTANCES). 64 instances of every block of a 2 MiB file, in every instance of its
    module, would otherwise turn one small change into millions of resources."""

    def __init__(self, remaining: int = limits.RESOURCE_INSTANCES_TOTAL) -> None:
        self.remaining = remaining

    def take(self, extra: int) -> bool:
        if extra > self.remaining:
            return False
        self.remaining -= extra
        return True


def _resources(loaded: LoadedFile, scope: Scope, calls: tuple[CallSite, ...], budget: InstanceBudget
               ) -> Iterator[Resource]:
    for block, body in loaded.blocks():
        if block.type == "locals":
            for name, where in block.attrs.items():
                if name in body:
                    yield _resource(loaded, "locals", "locals", f"local.{name}", where.line, where.end_line,
                                    Node({name: value_node(body[name], where, scope)}, where.line, where.end_line),
                                    references_of({name: body[name]}, scope), calls)
            continue
        bindings = _instances(block, body, scope) if block.type in ("resource", "data", "module") else None
        if bindings is not None and not budget.take(len(bindings) - 1):
            bindings = None
        references = references_of(body, scope)
        for key, binding in (bindings or {None: {}}).items():
            node = body_node(body, block, scope.for_instance(binding) if binding else scope)
            made = _resource(loaded, block.type, _type_of(block), _address(block, node), block.line,
                             block.end_line, node, references, calls)
            yield made if key is None else replace(made, instance_key=key)


def _instances(block: Block, body: Mapping[str, Any], scope: Scope) -> dict[str | None, dict[str, Any]] | None:
    """What each instance of a resource (or module call) with a known `count` or `for_each`
    sees, by its key (the index, or the map key as JSON): `count.index`, or `each.key` and
    `each.value` (map keys in order, as Terraform takes them; a set's strings are their own
    keys). None when there is nothing to expand: no meta-argument, an unknown one, none at all
    (`count = 0`, an empty `for_each`: `Resource.exists` says so), or more instances than
    RESOURCE_INSTANCES. Each instance is judged with its own values; all keep the block's
    address and lines, so their findings on one line are one finding, as those of a module's
    instances are."""
    if "count" in body and "for_each" not in body:
        count = scope.resolve(body["count"])
        if isinstance(count, float) and count.is_integer():
            count = int(count)
        if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= MAX_RESOURCE_INSTANCES:
            return None
        return {str(index): {"count.index": index} for index in range(count)}
    if "for_each" in body and "count" not in body:
        each = scope.resolve(body["for_each"])
        if isinstance(each, dict):
            pairs = sorted(each.items())
        elif isinstance(each, list) and all(isinstance(item, str) for item in each):
            pairs = [(item, item) for item in sorted(set(each))]  # a set of strings (sets resolve to lists)
        else:
            return None
        if not 0 < len(pairs) <= MAX_RESOURCE_INSTANCES:
            return None
        return {json.dumps(key): {"each.key": key, "each.value": value} for key, value in pairs}
    return None


def _type_of(block: Block) -> str:
    return block.labels[0] if block.type in ("resource", "data") else block.type


def _address(block: Block, body: Node) -> str:
    if block.type == "resource":
        return ".".join(block.labels)
    if block.type == "data":
        return "data." + ".".join(block.labels)
    if block.type == "variable":
        return f"var.{block.labels[0]}"
    if block.type == "provider":
        alias = body.get("alias")
        if alias is not None and isinstance(alias.value, str):
            return f"provider.{block.labels[0]}.{alias.value}"
    return f"{block.type}.{block.labels[0]}"


def _resource(loaded: LoadedFile, kind: str, type_: str, address: str, line: int, end_line: int,
              body: Node, references: frozenset[str], calls: tuple[CallSite, ...]) -> Resource:
    return Resource(
        source=SOURCE,
        kind=kind,
        type=type_,
        address=address,
        path=loaded.path,
        line=line,
        end_line=end_line,
        body=body,
        references=references,
        lines=loaded.lines[line - 1 : end_line],
        calls=calls,
    )


@dataclass(frozen=True)
class ModuleCall:
    """A `module` block of this directory: its name, its `source` as written (None when it is
    not a literal string), and where it is written."""

    name: str
    source: str | None
    site: CallSite


class LoadedModule:
    """The files of one module directory, read once, ready to be instantiated any number of times
    (once as a root module, once per module call that uses it)."""

    def __init__(self, files: Mapping[str, str], loaded: Mapping[str, LoadedFile | FileError] | None = None) -> None:
        """`loaded`: files already read (`load_file`, perhaps in another process); the rest are read here."""
        self.paths = tuple(files)
        self._errors: dict[str, ParsedFile] = {}
        self._loaded: list[LoadedFile] = []
        for path, text in files.items():
            outcome = loaded[path] if loaded is not None and path in loaded else load_file(path, text)
            if isinstance(outcome, FileError):
                self._errors[path] = ParsedFile(path, errors=(outcome,))
            else:
                self._loaded.append(outcome)

    def calls(self) -> tuple[ModuleCall, ...]:
        """Every module call of the directory, in file order."""
        return self._calls

    @functools.cached_property
    def _calls(self) -> tuple[ModuleCall, ...]:
        found = []
        for loaded in self._loaded:
            for block, body in loaded.blocks():
                if block.type == "module":
                    source = body.get("source")
                    site = CallSite(loaded.path, block.labels[0], block.line, block.end_line)
                    found.append(ModuleCall(block.labels[0], source if isinstance(source, str) and
                                            "${" not in source else None, site))
        return tuple(found)

    def unbuilt(self) -> dict[str, ParsedFile]:
        """The module's files without resources, those that failed to load with their error: what
        an instance nobody looks at leaves (see `stack._Run.unseen`)."""
        return {path: self._errors.get(path, ParsedFile(path)) for path in self.paths}

    def instantiate(self, inputs: Mapping[str, Bound] | None = None, calls: tuple[CallSite, ...] = (),
                    budget: InstanceBudget | None = None) -> dict[str, ParsedFile]:
        """The module's resources with `inputs` as its variables (a caller's arguments or a
        variable file), addressed under `calls`; never raises. A file that failed to load keeps
        its FileError and the others are still built. `budget`: the evaluation's (one for every
        module instance it makes); by default this instance's own."""
        budget = budget or InstanceBudget()
        result = dict(self._errors)
        try:
            scope = _scope(self._loaded, inputs or {})
        except Exception as exc:  # noqa: BLE001
            for item in self._loaded:
                result[item.path] = ParsedFile(item.path, errors=(FileError(item.path, None, f"cannot resolve: {exc}"),))
            return {path: result[path] for path in self.paths if path in result}
        for item in self._loaded:
            try:
                made = tuple(_resources(item, scope, calls, budget))
                result[item.path] = ParsedFile(item.path, resources=made)
            except RecursionError:
                result[item.path] = ParsedFile(item.path, errors=(FileError(item.path, None, "cannot parse: nests too deeply"),))
            except Exception as exc:  # noqa: BLE001 - never raise out of the parser
                result[item.path] = ParsedFile(
                    item.path, errors=(FileError(item.path, None, f"cannot parse: {failure_reason(exc)}"),)
                )
        return {path: result[path] for path in self.paths if path in result}


def parse_module(files: Mapping[str, str], loaded: Mapping[str, LoadedFile | FileError] | None = None
                 ) -> dict[str, ParsedFile]:
    """Parse the `.tf` and `.tf.json` files of one module directory (path -> text) on their own:
    variables take their defaults. Never raises; a file that fails gets a FileError and the others
    are parsed. `loaded`: files already read (see `LoadedModule`)."""
    return LoadedModule(files, loaded).instantiate()
