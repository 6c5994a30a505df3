"""An organisation's own rules: spec files in its `.github` repository, in
`.github/compliance/rules/*.yml`, each carrying its own examples (`tests:`), accepted only when it
validates and its examples come out as it says.

Pure: it receives the files' texts by path and answers which rules are accepted and, for each
refused file, where and why in words (`path:line: message`), so a caller can fail the review
with them while every other rule still runs. Nothing in a file can run code: the YAML is
composed with every tag refused (the spec loader), `python:` names only a check of the
built-in table, regexes are RE2 (linear in the text, see linear_regex.py), and every size is
bounded: the number of files, a file's bytes, its examples and theirs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import yaml

from bot.engine import repo_paths
from bot.engine.rule import Rule
from bot.engine.tree import BinaryText
from rules.spec import loader
from rules.spec.catalog import spec_rules
from rules.spec.compile import compile_spec
from rules.spec.functions import FUNCTIONS
from rules.spec.inline_tests import Example, failures
from rules.spec.loader import Dialect, SpecError
from rules.spec.model import Spec

CUSTOM_RULES_DIR = repo_paths.CUSTOM_RULES_DIR
RULE_FILE_SUFFIX = ".yml"
MAX_RULE_FILES = 50
MAX_RULE_FILE_BYTES = 64 * 1024  # the spec and its examples
MAX_EXAMPLES = 12  # flag and pass cases of one rule together
MAX_EXAMPLE_BYTES = 16 * 1024
MAX_EXAMPLE_PATH = 200
RESERVED_PREFIX = "CB-"

CUSTOM_ID = re.compile(r"[A-Z][A-Z0-9]{0,15}(?:-[A-Z0-9]{1,16}){1,4}")
DIALECT = Dialect(
    ids=CUSTOM_ID,
    id_form="PREFIX-NAME: capitals, digits and dashes, such as ACME-S3-001",
    id_is_file_name=False,
    reserved_prefix=RESERVED_PREFIX,
    reserved_reason="that prefix belongs to Compliance Bot's own rules; use your organisation's (ACME-S3-001)",
    extra_keys=("tests",),
    linear_regex=True,
    python_hint="custom rules may name only the checks built into Compliance Bot (the table in "
                "docs/rule-language.md); no code is ever loaded from a repository",
)
_EXAMPLE_KEYS = {"flag": ("path", "content", "lines"), "pass": ("path", "content")}


@dataclass(frozen=True)
class RuleFileError:
    """Why a custom rule file was refused, where: `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class CustomRules:
    """The accepted rules and the refusals; `digest` names the texts they came from (another
    text is another rule set, so another review of the same head)."""

    rules: tuple[Rule, ...] = ()
    errors: tuple[RuleFileError, ...] = ()
    digest: str = ""


def entry_problem(name: str, kind: str) -> str | None:
    """What is wrong with an entry of the rules folder that looks like a rule but would not be
    read (so a rule never goes missing in silence); None for a rule file, and for anything else
    (a README) that is no rule."""
    if name.startswith("."):
        return None
    if kind == "dir":
        return f"'{name}' is a folder: rule files live directly in {CUSTOM_RULES_DIR}/, folders in it are not read"
    looks_like_rule = name.endswith((RULE_FILE_SUFFIX, ".yaml"))
    if looks_like_rule and kind != "file":
        return f"'{name}' is a {kind}, not a file: it is not followed"
    if name.endswith(".yaml"):
        return f"'{name}': rule files end in {RULE_FILE_SUFFIX} (rename it {name[: -len('.yaml')]}{RULE_FILE_SUFFIX})"
    return None


def is_rule_file(name: str, kind: str = "file") -> bool:
    return kind == "file" and name.endswith(RULE_FILE_SUFFIX) and not name.startswith(".")


def load_custom_rules(files: Mapping[str, str | None], reserved: Collection[str] | None = None,
                      refused: Sequence[RuleFileError] = ()) -> CustomRules:
    """The rules of `files` (path -> text; None: the file could not be read) that validate, do
    not take another rule's id, and whose examples pass; every other file is an error.
    `reserved`: ids no custom rule may take (default: the built-in rules' ids and aliases);
    `refused`: errors the caller found already (a folder entry it did not read)."""
    taken = {name: "a built-in rule" for name in (reserved if reserved is not None else _builtin_ids())}
    rules: list[Rule] = []
    errors = list(refused)
    paths = sorted(files)
    for number, path in enumerate(paths):
        if number >= MAX_RULE_FILES:
            errors.append(too_many(path))
            continue
        try:
            spec, examples = _read(path, files[path])
            _claim(spec, taken)
            rule = compile_spec(spec)
            problems = failures(rule, examples)
        except SpecError as exc:
            errors.append(_located(exc, path))
            continue
        except Exception:  # noqa: BLE001 - a bug of ours refuses this file, never the other rules
            errors.append(RuleFileError(path, 1, "could not be checked (an internal error of Compliance Bot; "
                                                 "please report it with this file)"))
            continue
        if problems:
            errors.extend(RuleFileError(path, example.line, message) for example, message in problems)
            continue
        rules.append(rule)
    return CustomRules(tuple(rules), tuple(sorted(errors, key=lambda e: (e.path, e.line))), _digest(files, refused))


def _builtin_ids() -> set[str]:
    return {name for rule in spec_rules() for name in (rule.id, *rule.aliases)}


def _digest(files: Mapping[str, str | None], refused: Sequence[RuleFileError]) -> str:
    """16 hex characters naming the inputs; empty when there were none (no custom rules at all)."""
    if not files and not refused:
        return ""
    digest = hashlib.sha256()
    for path in sorted(files):
        text = files[path]
        digest.update(f"{path}\0{'-' if text is None else len(text)}\0{text or ''}\0".encode("utf-8", "surrogatepass"))
    for error in refused:
        digest.update(f"{error}\0".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def _located(exc: SpecError, path: str) -> RuleFileError:
    """A `path:line: message` error as its parts (the loader's messages start with the path)."""
    text = str(exc)
    rest = text[len(path) + 1:] if text.startswith(f"{path}:") else text
    line, _, message = rest.partition(": ")
    return RuleFileError(path, int(line), message) if line.isdigit() else RuleFileError(path, 1, rest)


def _claim(spec: Spec, taken: dict[str, str]) -> None:
    """The rule's id and aliases become its own, unless a built-in rule or another file has one."""
    for name in (spec.id, *spec.aliases):
        if name in taken:
            what = "id" if name == spec.id else "alias"
            raise SpecError(f"{spec.path}:{spec.line}: {what} '{name}' is already taken by {taken[name]}")
    taken.update((name, f"{spec.path}:{spec.line}") for name in (spec.id, *spec.aliases))


def _read(path: str, text: str | None) -> tuple[Spec, tuple[Example, ...]]:
    if text is None:
        raise SpecError(f"{path}:1: could not be read (missing, unreadable or too large)")
    if isinstance(text, BinaryText):
        raise SpecError(f"{path}:1: binary content, not a YAML rule file")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_RULE_FILE_BYTES:
        raise SpecError(str(too_large(path)))
    root = loader.compose_yaml(text, path)
    spec = loader.spec_from_node(root, path, FUNCTIONS, DIALECT)
    entries = loader.mapping_entries(root, path)
    if "tests" not in entries:
        raise SpecError(f"{path}:{spec.line}: missing 'tests': a custom rule carries its own examples (tests.flag: "
                        "files it must flag, on which lines; tests.pass: files it must pass), run before it is accepted")
    return spec, _examples(entries["tests"], path)


def _examples(node: yaml.Node, path: str) -> tuple[Example, ...]:
    entries = loader.mapping_entries(node, path, "'tests' as a mapping of 'flag' and 'pass' lists")
    loader.known_keys(entries, ("flag", "pass"), "'tests'", path)
    examples: list[Example] = []
    kinds: tuple[Literal["flag", "pass"], ...] = ("flag", "pass")
    for kind in kinds:
        cases = entries.get(kind)
        if cases is None:
            raise loader.located_error(path, node, f"'tests' needs '{kind}': at least one example the rule must "
                                           f"{'flag' if kind == 'flag' else 'pass'}")
        if not isinstance(cases, yaml.SequenceNode) or not cases.value:
            raise loader.located_error(path, cases, f"'tests.{kind}' must be a non-empty list of examples")
        examples.extend(_example(kind, index, case, path) for index, case in enumerate(cases.value))
    if len(examples) > MAX_EXAMPLES:
        raise loader.located_error(path, node, f"{len(examples)} examples: at most {MAX_EXAMPLES} (flag and pass together)")
    return tuple(examples)


def _example(kind: Literal["flag", "pass"], index: int, node: yaml.Node, path: str) -> Example:
    where = f"tests.{kind}[{index}]"
    entries = loader.mapping_entries(node, path, f"{where} as a mapping (path, content{', lines' if kind == 'flag' else ''})")
    if kind == "pass" and "lines" in entries:
        raise loader.located_error(path, entries.key_nodes["lines"], f"{where}: a pass example flags no line; drop 'lines'")
    loader.known_keys(entries, _EXAMPLE_KEYS[kind], where, path)
    for required in _EXAMPLE_KEYS[kind]:
        if required not in entries:
            raise loader.located_error(path, node, f"{where} is missing '{required}'")
    file_path = _example_path(loader.nonempty_text(entries["path"], path, f"{where}.path"), entries["path"], path, where)
    content_node = entries["content"]
    if not isinstance(content_node, yaml.ScalarNode) or content_node.tag != "tag:yaml.org,2002:str":
        raise loader.located_error(path, content_node, f"{where}.content must be the file's text (a string; write it "
                                               "as a block, `content: |`)")
    content = str(content_node.value)
    if len(content.encode("utf-8", "surrogatepass")) > MAX_EXAMPLE_BYTES:
        raise loader.located_error(path, content_node, f"{where}.content is larger than {MAX_EXAMPLE_BYTES // 1024} KiB")
    lines: tuple[int, ...] = ()
    if kind == "flag":
        lines = _lines(entries["lines"], len(content.splitlines()), path, where)
    return Example(kind, index, file_path, content, lines, loader.node_line(node))


def _example_path(text: str, node: yaml.Node, path: str, where: str) -> str:
    """A relative path inside the example's repository: how the engine reads the file (main.tf,
    deploy.yaml, Dockerfile, .github/workflows/ci.yml) depends on it, as in a repository."""
    parts = text.split("/")
    if (len(text) > MAX_EXAMPLE_PATH or text.startswith("/") or "\\" in text
            or any(part in ("", ".", "..") for part in parts)):
        raise loader.located_error(path, node, f"{where}.path must be a relative path of at most {MAX_EXAMPLE_PATH} "
                                       "characters, without '.', '..' or empty steps (main.tf, k8s/deploy.yaml)")
    return text


def _lines(node: yaml.Node, count: int, path: str, where: str) -> tuple[int, ...]:
    value = loader.plain_value(node, path)
    items = value if isinstance(value, list) else [value]
    if not items or any(not isinstance(n, int) or isinstance(n, bool) for n in items):
        raise loader.located_error(path, node, f"{where}.lines must be the line numbers the rule flags (lines: [3] or [3, 7])")
    for number in items:
        if not 1 <= number <= count:
            raise loader.located_error(path, node, f"{where}.lines: line {number} is not a line of the content "
                                           f"(it has {count} line(s))")
    if len(set(items)) != len(items):
        raise loader.located_error(path, node, f"{where}.lines lists a line twice")
    return tuple(sorted(items))


def rule_files(listing: Iterable[tuple[str, str, int]]) -> tuple[list[str], list[RuleFileError]]:
    """Of a rules folder's entries (path, kind, size in bytes), the rule files to read (at most
    MAX_RULE_FILES, none too large) and the errors for the entries that look like rules but
    will not be read as such."""
    wanted: list[str] = []
    refused: list[RuleFileError] = []
    for entry_path, kind, size in sorted(listing):
        name = entry_path.rsplit("/", 1)[-1]
        problem = entry_problem(name, kind)
        if problem is not None:
            refused.append(RuleFileError(entry_path, 1, problem))
        elif not is_rule_file(name, kind):
            continue
        elif size > MAX_RULE_FILE_BYTES:
            refused.append(too_large(entry_path))
        elif len(wanted) >= MAX_RULE_FILES:
            refused.append(too_many(entry_path))
        else:
            wanted.append(entry_path)
    return wanted, refused


def too_large(path: str) -> RuleFileError:
    return RuleFileError(path, 1, f"larger than {MAX_RULE_FILE_BYTES // 1024} KiB (a custom rule and its examples)")


def too_many(path: str) -> RuleFileError:
    return RuleFileError(path, 1, f"not read: at most {MAX_RULE_FILES} custom rule files are loaded")
