"""How often our rules agree with Checkov and KICS on the peers' own labelled examples.

    python bench/peer_score.py [--checkov DIR] [--kics DIR] [--rule ID ...] [--json]

DIR is a checkout (a work tree) of bridgecrewio/checkov or Checkmarx/kics, or any tree laid out
the same way (bench/peer_sample/ is a miniature of both, used by the tests). Only the folders read
are needed: Checkov's `checkov/{terraform,cloudformation,kubernetes}/checks` and the matching
`tests/.../checks` and `tests/terraform/graph/checks/resources`; KICS's `assets/queries`. From a
bare clone: `git --git-dir=REPO archive HEAD checkov tests/terraform tests/cloudformation
tests/kubernetes | tar -x -C /tmp/checkov`. Peer files are read in place or copied to a temporary
folder for the run, never kept. Only rules that name peer ids (`Rule.peers`) are scored, each on
the examples of the ids it names.

Labels are read, never run: Checkov's check ids come from its check files and its expected
results from the literal sets in its unit tests (`passing_resources = {...}`), both parsed with
`ast`; where a test only counts results, from the example file names (`...-PASSED.yaml`); where a
test loads one inline HCL snippet (`hcl2.loads("...")`), from its `CheckResult` assertion; graph
checks from their `expected.yaml`. KICS labels come from `positive_expected_result.json` (the
lines it reports in each positive file; every other resource of the query's types, and every
resource of a negative file, passes).

Each labelled resource is scored once: our engine scans the example as `compliance-bot scan`
does, and the resource fails for us when the rule reports a finding on it (for a Checkov graph
check, also on a resource that configures it, such as the `aws_s3_bucket_acl` of a bucket).
A resource type the rule does not judge, a label naming a resource we cannot find, a KICS line
on a registry module call, or a pass from one of several peer checks of a rule while another of
them also judges that type (the union might still fail it) is listed as skipped, not counted.
Checks that share an example folder label each resource once (failing when any fails). The
disagreements (false negatives and false positives) are printed one by one so each can be
explained.

Explanations are data: `bench/peer_disagreements.yml` (or `--explanations FILE`) lists
disagreements by rule, peer, example (`where`) and resource, each with a verdict and a one-line
why. `peer-wrong` (the label ignores provider behaviour, or the example is invalid),
`default-differs` (we follow today's provider default, the peer an older one) and
`semantics-differ` (the peer check judges something else) explain a disagreement: it is listed as
explained and left out of the "agreeing" figures printed beside the raw ones. `our-bug` records a
known miss that is not fixed yet: it stays unexplained and counts. An explanation that no longer
matches a disagreement is listed as stale, so the file cannot quietly outlive what it explains.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.cli.local import FsTree
from bot.engine.model import Finding, Resource
from bot.engine.parsers import TERRAFORM, classify, parse_one, parse_terraform
from bot.engine.policy import Policy
from bot.engine.review import Engine
from bot.engine.rule import Rule
from rules.registry import all_rules, default_rule_set

PEERS = ("checkov", "kics")
EXPLANATIONS = Path(__file__).resolve().parent / "peer_disagreements.yml"
EXCUSING = ("peer-wrong", "default-differs", "semantics-differ")  # verdicts that explain a disagreement
VERDICTS = (*EXCUSING, "our-bug")  # `our-bug`: known, recorded, still counted
# Checkov's framework folders and KICS's platform folders, as our `Resource.source` values.
CHECKOV_FRAMEWORKS = {"terraform": "terraform", "cloudformation": "cloudformation", "kubernetes": "kubernetes",
                      "dockerfile": "dockerfile"}
KICS_PLATFORMS = {"terraform": "terraform", "cloudFormation": "cloudformation", "k8s": "kubernetes",
                  "kubernetes": "kubernetes", "dockerfile": "dockerfile"}
_EXAMPLE_DIR = re.compile(r"^/?([\w.-]+(?:/[\w.-]+)*)/?$")  # a folder beside the test (most are example_<Check>)
# `x-PASSED.yaml`, `fail.yaml`, `rootContainersFAILED_2.yaml`: a word of its own, or capitals after a word.
_FILE_LABEL = re.compile(r"(?:(?i:(?:^|[-_.])(passed|pass|failed|fail))|(?<=[a-z])(PASSED|PASS|FAILED|FAIL))"
                         r"(?=$|[-_.\d])")
_SET_NAME = re.compile(r"^(?:expected_)?(passing|passed|failing|failed)_resources$")
_KICS_TEST_FILE = re.compile(r"^(positive|negative)\d*(?:\.[\w]+)*$")
_JUDGED_KINDS = frozenset({"resource", "data", "manifest", "stage"})  # not variables, module calls...
_TYPE_MENTION = {
    "terraform": re.compile(r"\b((?:aws|azurerm|google|kubernetes)_[a-z0-9_]+)\b"),
    "cloudformation": re.compile(r"\b(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)\b"),
}


# --------------------------------------------------------------------------------------------
# What is scored
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """One resource (or one file, where a peer labels files) and what the peer says of it."""

    key: str  # resource key in the peer's form (see `resource_key`), or a file path for file labels
    fails: bool
    where: str  # where a reader finds the example (relative to the peer's root)
    by_file: bool = False  # the label names a whole file (Checkov's `-PASSED` file names)
    checks: tuple[str, ...] = ()  # the peer checks that labelled it (several share an example dir)


@dataclass(frozen=True)
class Example:
    """Something to scan and the labels of what is in it."""

    peer: str
    check: str
    source: str  # our Resource.source the example is written for
    root: Path  # the directory scanned (a copy, for KICS files and inline snippets)
    where: str  # where a reader finds it (relative to the peer's root)
    labels: tuple[Label, ...] = ()
    types: frozenset[str] = frozenset()  # resource types the peer check judges (empty: not known)
    related: bool = False  # a finding on a resource that refers to the labelled one counts for it
    kics_files: tuple[tuple[str, tuple[int, ...]], ...] = ()  # KICS: (file, reported lines)


@dataclass
class Outcome:
    """The counts of one rule against one peer, and what did not agree."""

    rule: str
    peer: str
    checks: tuple[str, ...]
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0
    disagreements: list[dict[str, str]] = field(default_factory=list)  # unexplained (see `explain`)
    skipped: list[dict[str, str]] = field(default_factory=list)
    explained: list[dict[str, str]] = field(default_factory=list)  # with their verdict and why
    explained_fn: int = 0  # of `fn`, those explained
    explained_fp: int = 0  # of `fp`, those explained

    @property
    def examples(self) -> int:
        return self.tp + self.fn + self.fp + self.tn

    @property
    def agreeing_recall(self) -> float | None:
        """Recall over the examples whose semantics agree (explained false negatives left out)."""
        fn = self.fn - self.explained_fn
        return self.tp / (self.tp + fn) if self.tp + fn else None

    @property
    def agreeing_precision(self) -> float | None:
        """Precision over the examples whose semantics agree (explained false positives left out)."""
        fp = self.fp - self.explained_fp
        return self.tp / (self.tp + fp) if self.tp + fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    def add(self, other: Outcome) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp
        self.tn += other.tn
        self.explained_fn += other.explained_fn
        self.explained_fp += other.explained_fp
        self.disagreements.extend(other.disagreements)
        self.skipped.extend(other.skipped)
        self.explained.extend(other.explained)

    def as_json(self) -> dict[str, object]:
        return {"rule": self.rule, "peer": self.peer, "checks": list(self.checks), "examples": self.examples,
                "tp": self.tp, "fn": self.fn, "fp": self.fp, "tn": self.tn,
                "recall": _rounded(self.recall), "precision": _rounded(self.precision),
                "explained_fn": self.explained_fn, "explained_fp": self.explained_fp,
                "agreeing_recall": _rounded(self.agreeing_recall),
                "agreeing_precision": _rounded(self.agreeing_precision),
                "disagreements": self.disagreements, "explained": self.explained, "skipped": self.skipped}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# --------------------------------------------------------------------------------------------
# Our side: scan, and name resources the way the peers do
# --------------------------------------------------------------------------------------------


def resource_key(resource: Resource) -> str:
    """A resource named as Checkov names it: `aws_x.name` (module path kept, instance keys
    dropped), `AWS::Type::Name.LogicalId`, `Kind.namespace.name`, `/path/Dockerfile` (Checkov
    adds the instruction, `.USER`, which `label_key` drops)."""
    if resource.source == "dockerfile":
        return "/" + resource.path
    if resource.source == "cloudformation":
        return f"{resource.type}.{resource.address.removeprefix('Resources.')}"
    if resource.source == "kubernetes":
        meta = resource.body.get("metadata")
        name = meta.get("name") if meta is not None else None
        namespace = meta.get("namespace") if meta is not None else None
        ns = str(namespace.value) if namespace is not None and isinstance(namespace.value, str) else "default"
        return f"{resource.type}.{ns}.{name.value if name is not None else ''}"
    return _address_key(resource.address)


def _address_key(address: str) -> str:
    """`data.aws_x.y[0]` -> `aws_x.y`: Checkov names data sources without `data.` and instances
    by their block."""
    return re.sub(r"\[[^\]]*\]", "", address).removeprefix("data.")


def label_key(source: str, label: str) -> str:
    """A Checkov label as `resource_key` names resources: a Dockerfile's by its file alone."""
    if source == "dockerfile":
        return re.sub(r"\.[A-Z]*$", "", label if label.startswith("/") else "/" + label)
    return _address_key(label)


@dataclass(frozen=True)
class Scan:
    """Our review of one example directory, and every resource we parsed there."""

    findings: tuple[Finding, ...]
    resources: tuple[Resource, ...]
    errors: tuple[str, ...]

    def flagged(self, rule_id: str) -> list[Resource]:
        """The resources `rule_id` reported on (a finding maps to its resource by address, else by line)."""
        by_address = {(r.path, r.address): r for r in self.resources}
        hit: dict[int, Resource] = {}
        for finding in self.findings:
            if finding.rule_id != rule_id or finding.suppressed:
                continue
            resource = by_address.get((finding.path, finding.resource or ""))
            if resource is None:
                resource = next((r for r in self.resources if r.path == finding.path
                                 and r.line <= finding.line <= r.end_line), None)
            if resource is not None:
                hit[id(resource)] = resource
        return list(hit.values())


class Scanner:
    """Scans each example directory once, with every shipped rule, under the default policy."""

    def __init__(self) -> None:
        self.engine = Engine(default_rule_set(), Policy())
        self._cache: dict[Path, Scan] = {}

    def scan(self, root: Path) -> Scan:
        if root not in self._cache:
            tree = FsTree(root)
            review = self.engine.scan(tree)
            self._cache[root] = Scan(review.findings, tuple(_inventory(tree)),
                                     tuple(f"{e.path}: {e.message}" for e in review.errors))
        return self._cache[root]


def _inventory(tree: FsTree) -> Iterator[Resource]:
    """Every resource of the tree as the parsers see it (to name what a rule did not flag)."""
    texts = {p: t for p, t in tree.read_many(list(tree.paths())).items() if t is not None}
    terraform = {p: t for p, t in texts.items() if classify(p) == TERRAFORM}
    parsed = list(parse_terraform(terraform).values())
    parsed += [parse_one(p, t) for p, t in texts.items() if p not in terraform]
    for result in parsed:
        yield from result.resources


# --------------------------------------------------------------------------------------------
# Checkov: check ids from check files, labels from unit tests (ast, never imported)
# --------------------------------------------------------------------------------------------


def _literal_strings(node: ast.AST) -> list[str] | None:
    """The strings of a literal set/list/tuple (or the keys of a literal dict); None otherwise."""
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(value, dict):
        value = list(value)
    if isinstance(value, (set, frozenset, list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _check_ids(tree: ast.AST) -> set[str]:
    """`id = "CKV_..."` assignments and `id=`/`check_id=` keywords with a literal string."""
    ids: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            if any(isinstance(t, ast.Name) and t.id in ("id", "check_id") for t in node.targets):
                ids.add(node.value.value)
        elif (isinstance(node, ast.keyword) and node.arg in ("id", "check_id")
              and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            ids.add(node.value.value)
    return ids


def _supported_types(tree: ast.AST) -> tuple[str, ...]:
    """The resource types a check declares (`supported_resources`, `supported_entities`, ...), in order."""
    found: dict[str, None] = {}
    for node in ast.walk(tree):
        assigned = isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id.startswith("supported_") for t in node.targets)
        keyword = isinstance(node, ast.keyword) and (node.arg or "").startswith("supported_")
        value: ast.AST | None = node.value if (assigned or keyword) and isinstance(node, (ast.Assign, ast.keyword)) \
            else None
        strings = _literal_strings(value) if value is not None else None
        found.update(dict.fromkeys(strings or ()))
    return tuple(found)


@dataclass(frozen=True)
class CheckovCheck:
    check_id: str
    framework: str
    path: Path  # the check's file (Python, or a graph check's YAML)
    types: tuple[str, ...]  # as declared (the first is the one a conf dict is written as)


def index_checkov(root: Path) -> dict[str, list[CheckovCheck]]:
    """Check id -> the checks that carry it, per framework we read."""
    index: dict[str, list[CheckovCheck]] = {}
    for framework in CHECKOV_FRAMEWORKS:
        checks_dir = root / "checkov" / framework / "checks"
        if not checks_dir.is_dir():
            continue
        for path in sorted(checks_dir.rglob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
            except SyntaxError:
                continue
            types = _supported_types(tree)
            for check_id in _check_ids(tree):
                index.setdefault(check_id, []).append(CheckovCheck(check_id, framework, path, types))
        for path in sorted((checks_dir / "graph_checks").rglob("*.y*ml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
            except yaml.YAMLError:
                continue
            meta = data.get("metadata") if isinstance(data, dict) else None
            if isinstance(meta, dict) and isinstance(meta.get("id"), str):
                index.setdefault(meta["id"], []).append(CheckovCheck(meta["id"], framework, path, ()))
    return index


def _test_files(root: Path, check: CheckovCheck) -> list[Path]:
    """The unit test of a Python check: the mirrored path, else the one file of that name."""
    relative = check.path.relative_to(root / "checkov" / check.framework / "checks")
    tests = root / "tests" / check.framework / "checks"
    mirrored = tests / relative.parent / f"test_{check.path.stem}.py"
    if mirrored.is_file():
        return [mirrored]
    candidates = sorted(tests.rglob(f"test_{check.path.stem}.py")) if tests.is_dir() else []
    if len(candidates) == 1:
        return candidates
    # A test named otherwise still imports the check it tests.
    module = ".".join(("checkov", check.framework, "checks", *relative.with_suffix("").parts))
    importing = re.compile(rf"^\s*from\s+{re.escape(module)}\s+import\s+check\b", re.MULTILINE)
    return [t for t in sorted(tests.rglob("test_*.py")) if importing.search(t.read_text(errors="replace"))] \
        if tests.is_dir() else []


def _functions(tree: ast.Module) -> Iterator[tuple[ast.AST, list[ast.AST]]]:
    """Every test function with its enclosing scopes (class, module), innermost first."""
    def walk(node: ast.AST, scopes: list[ast.AST]) -> Iterator[tuple[ast.AST, list[ast.AST]]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield child, scopes
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, [child, *scopes])
    yield from walk(tree, [tree])


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a scope, not descending into nested functions or classes (they are scopes too)."""
    for child in ast.iter_child_nodes(scope):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if isinstance(scope, ast.ClassDef) and child.name in ("setUp", "setUpClass"):
                yield from ast.walk(child)  # a class's set-up names its example dir for every test
            continue
        yield from ast.walk(child)


def _example_dirs(nodes: Iterable[ast.AST], test_dir: Path) -> list[Path]:
    """Folders beside the test that a string literal of it names ("example_X", "/example_X")."""
    dirs: list[Path] = []
    for node in nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = _EXAMPLE_DIR.match(node.value)
            folder = test_dir / match.group(1) if match and match.group(1) not in (".", "..") else None
            if folder is not None and folder.is_dir() and folder not in dirs:
                dirs.append(folder)
    return dirs


def _label_sets(nodes: Iterable[ast.AST]) -> tuple[list[str], list[str]] | None:
    passing: list[str] | None = None
    failing: list[str] | None = None
    for node in nodes:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            match = _SET_NAME.match(target.id) if isinstance(target, ast.Name) else None
            strings = _literal_strings(node.value) if match else None
            if match is None or strings is None:
                continue
            if match.group(1).startswith("pass"):
                passing = strings
            else:
                failing = strings
    if passing is None and failing is None:
        return None
    return passing or [], failing or []


def _inline_case(function: ast.AST, check: CheckovCheck) -> tuple[str, str | None, bool] | None:
    """(Terraform text, `type.name` under test, fails) of a test that asserts one CheckResult on
    one literal configuration: an HCL snippet (`hcl2.loads("...")`) or a conf dict in Checkov's
    parsed form (`{"encrypted": [True]}`), written back as HCL. None for any other shape."""
    snippets: list[str] = []
    confs: list[ast.AST] = []
    results: set[str] = set()
    target: list[str] = []
    assigned: dict[str, ast.AST] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned[node.targets[0].id] = node.value
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if (called == "loads" and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "hcl2"):
                arg = node.args[0] if node.args else None
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    return None
                snippets.append(arg.value)
            elif called in ("scan_resource_conf", "scan_data_conf", "scan_entity_conf"):
                conf: ast.AST | None = next((k.value for k in node.keywords if k.arg == "conf"),
                                            node.args[0] if node.args else None)
                if isinstance(conf, ast.Name):
                    conf = assigned.get(conf.id)
                if isinstance(conf, ast.Dict):
                    confs.append(conf)
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "CheckResult" and node.attr in ("PASSED", "FAILED")):
            results.add(node.attr)
        elif isinstance(node, ast.Subscript) and not target:
            chain = _subscript_chain(node)
            if len(chain) >= 4 and chain[0] in ("resource", "data"):
                target = [str(chain[2]), str(chain[3])]
    if len(results) != 1:
        return None
    fails = results == {"FAILED"}
    if len(snippets) == 1:
        return snippets[0], ".".join(target) if target else None, fails
    if snippets or len(confs) != 1 or not check.types:
        return None
    try:
        conf = ast.literal_eval(confs[0])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    type_ = check.types[0]
    block = "data" if "/checks/data/" in check.path.as_posix() else "resource"
    text = f'{block} "{type_}" "example" {{\n{_hcl_body(conf, "  ")}}}\n'
    return text, f"{type_}.example", fails


def _hcl_value(value: object) -> str | None:
    """A plain value as HCL; None when it has no literal form (a nested block, say)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is an HCL string; `${...}` stays a template
    if isinstance(value, list):
        items = [_hcl_value(v) for v in value]
        return None if any(i is None for i in items) else "[" + ", ".join(i or "" for i in items) + "]"
    if isinstance(value, dict):
        pairs = [(k, _hcl_value(v)) for k, v in value.items()]
        if any(v is None for _, v in pairs):
            return None
        return "{" + ", ".join(f"{json.dumps(str(k))} = {v}" for k, v in pairs) + "}"
    if value is None:
        return "null"
    return None


def _hcl_body(conf: object, indent: str) -> str:
    """Checkov's parsed form (every attribute a one-item list, blocks lists of such dicts) as HCL."""
    if not isinstance(conf, dict):
        return ""
    lines = []
    for key, raw in conf.items():
        values = raw if isinstance(raw, list) else [raw]
        # A block is a dict in the parsed form (its attributes one-item lists; a test may write one bare).
        blocks = [v for v in values if isinstance(v, dict) and v and any(isinstance(x, list) for x in v.values())]
        if blocks and len(blocks) == len(values):
            for block in blocks:
                lines.append(f"{indent}{key} {{\n{_hcl_body(block, indent + '  ')}{indent}}}\n")
            continue
        value = values[0] if isinstance(raw, list) and len(values) == 1 else raw
        text = _hcl_value(value)
        if text is not None:
            lines.append(f"{indent}{key} = {text}\n")
    return "".join(lines)


def _subscript_chain(node: ast.Subscript) -> list[object]:
    """`x['resource'][0]['aws_s3_bucket']['b']` -> ['resource', 0, 'aws_s3_bucket', 'b']."""
    chain: list[object] = []
    current: ast.AST = node
    while isinstance(current, ast.Subscript):
        if not isinstance(current.slice, ast.Constant):
            return []
        chain.append(current.slice.value)
        current = current.value
    return chain[::-1]


def checkov_examples(root: Path, check: CheckovCheck, work: Path) -> tuple[list[Example], list[dict[str, str]]]:
    """The labelled examples of one Checkov check, and what could not be read as labels."""
    source = CHECKOV_FRAMEWORKS[check.framework]
    if source == "dockerfile":  # its checks name instructions (USER, ADD), not resource types
        check = dataclasses.replace(check, types=())
    if check.path.suffix in (".yaml", ".yml"):
        return _graph_examples(root, check, source)
    examples: list[Example] = []
    unread: list[dict[str, str]] = []
    tests = _test_files(root, check)
    if not tests:
        unread.append({"check": check.check_id, "where": check.path.relative_to(root).as_posix(),
                       "why": "no unit test found for this check"})
    for test in tests:
        where = test.relative_to(root).as_posix()
        try:
            tree = ast.parse(test.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            unread.append({"check": check.check_id, "where": where, "why": "test file does not parse"})
            continue
        for function, scopes in _functions(tree):
            name = f"{where}::{getattr(function, 'name', '?')}"
            own = list(ast.walk(function))
            dirs = _example_dirs(own, test.parent)
            for scope in scopes:
                dirs = dirs or _example_dirs(_own_nodes(scope), test.parent)
            sets = _label_sets(own)
            inline = _inline_case(function, check) if not dirs else None
            if inline is not None:
                examples.append(_inline_example(check, source, name, inline, work))
            elif len(dirs) > 1:
                unread.append({"check": check.check_id, "where": name, "why": "several example dirs in one test"})
            elif dirs and sets is not None:
                rel = dirs[0].relative_to(root).as_posix()
                labels = [Label(label_key(source, k), False, rel, checks=(check.check_id,)) for k in sets[0]]
                labels += [Label(label_key(source, k), True, rel, checks=(check.check_id,)) for k in sets[1]]
                examples.append(Example("checkov", check.check_id, source, dirs[0], rel, _unambiguous(labels),
                                        frozenset(check.types)))
            elif dirs:
                labels = _file_labels(root, dirs[0], check.check_id)
                if labels:
                    examples.append(Example("checkov", check.check_id, source, dirs[0],
                                            dirs[0].relative_to(root).as_posix(), tuple(labels),
                                            frozenset(check.types)))
                else:
                    unread.append({"check": check.check_id, "where": name,
                                   "why": "the test only counts results: no resource or file is labelled"})
    # One example dir may be named by several tests of the file: score it once.
    unique: dict[tuple[Path, tuple[Label, ...]], Example] = {(e.root, e.labels): e for e in examples}
    if tests and not unique and not unread:
        unread.append({"check": check.check_id, "where": tests[0].relative_to(root).as_posix(),
                       "why": "no labelled example in the test (no example dir, label sets or single-result case)"})
    return list(unique.values()), unread


def _unambiguous(labels: Sequence[Label]) -> tuple[Label, ...]:
    """Drop keys labelled both ways (same address in two modules of one example)."""
    verdicts: dict[str, set[bool]] = {}
    for label in labels:
        verdicts.setdefault(label.key, set()).add(label.fails)
    seen: set[str] = set()
    kept = []
    for label in labels:
        if len(verdicts[label.key]) == 1 and label.key not in seen:
            seen.add(label.key)
            kept.append(label)
    return tuple(kept)


def _file_labels(root: Path, directory: Path, check_id: str) -> list[Label]:
    """Labels from file names (`x-PASSED.yaml`, `FAIL.yaml`): each such file passes or fails whole."""
    labels = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        matches = {(m.group(1) or m.group(2)).lower()[:4] for m in _FILE_LABEL.finditer(path.stem)}
        if len(matches) == 1:
            rel = path.relative_to(directory).as_posix()
            labels.append(Label(rel, matches == {"fail"}, path.relative_to(root).as_posix(), by_file=True,
                                checks=(check_id,)))
    return labels


def _inline_example(check: CheckovCheck, source: str, name: str, case: tuple[str, str | None, bool],
                    work: Path) -> Example:
    text, target, fails = case
    folder = work / f"inline-{len(list(work.iterdir())):05d}"
    folder.mkdir()
    (folder / "main.tf").write_text(text, encoding="utf-8")
    key = target or "*"  # "*": the one resource of the check's types in the snippet
    return Example("checkov", check.check_id, source, folder, name, (Label(key, fails, name, checks=(check.check_id,)),),
                   frozenset(check.types))


def _graph_examples(root: Path, check: CheckovCheck, source: str) -> tuple[list[Example], list[dict[str, str]]]:
    folder = root / "tests" / check.framework / "graph" / "checks" / "resources" / check.path.stem
    expected = folder / "expected.yaml"
    if not expected.is_file():
        return [], [{"check": check.check_id, "where": folder.relative_to(root).as_posix(), "why": "no expected.yaml"}]
    data = yaml.safe_load(expected.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        return [], [{"check": check.check_id, "where": expected.relative_to(root).as_posix(), "why": "not a mapping"}]
    rel = folder.relative_to(root).as_posix()
    labels = [Label(_address_key(str(k)), False, rel, checks=(check.check_id,)) for k in data.get("pass") or []]
    labels += [Label(_address_key(str(k)), True, rel, checks=(check.check_id,)) for k in data.get("fail") or []]
    types = frozenset(k.split(".")[0] for k in (data.get("pass") or []) + (data.get("fail") or []) if isinstance(k, str))
    # A graph check labels the resource a connected one configures (the bucket an ACL resource is for).
    return [Example("checkov", check.check_id, source, folder, rel, _unambiguous(labels), types, related=True)], []


# --------------------------------------------------------------------------------------------
# KICS: queries by metadata id, labels from positive_expected_result.json
# --------------------------------------------------------------------------------------------


def index_kics(root: Path) -> dict[str, list[tuple[str, Path]]]:
    """Query id -> (our source, query directory)."""
    index: dict[str, list[tuple[str, Path]]] = {}
    queries = root / "assets" / "queries"
    for platform, source in KICS_PLATFORMS.items():
        base = queries / platform
        if not base.is_dir():
            continue
        for meta in sorted(base.rglob("metadata.json")):
            try:
                query_id = json.loads(meta.read_text(encoding="utf-8")).get("id")
            except (ValueError, AttributeError):
                continue
            if isinstance(query_id, str):
                index.setdefault(query_id, []).append((source, meta.parent))
    return index


def kics_examples(root: Path, query_id: str, source: str, query: Path, work: Path
                  ) -> tuple[list[Example], list[dict[str, str]]]:
    """One example per test file (or test folder) of a query, each scanned on its own copy."""
    test = query / "test"
    if not test.is_dir():
        return [], [{"check": query_id, "where": query.relative_to(root).as_posix(), "why": "no test folder"}]
    entries = sorted(p for p in test.iterdir() if _KICS_TEST_FILE.match(p.name)
                     and p.name != "positive_expected_result.json")
    positives = [p for p in entries if p.name.startswith("positive")]
    expected_file = test / "positive_expected_result.json"
    reported: dict[str, list[int]] = {}
    unread: list[dict[str, str]] = []
    try:
        expected = json.loads(expected_file.read_text(encoding="utf-8")) if expected_file.is_file() else []
    except ValueError:
        expected = []
        unread.append({"check": query_id, "where": expected_file.relative_to(root).as_posix(), "why": "bad JSON"})
    for item in expected if isinstance(expected, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("line"), int):
            continue
        named = next((v for k, v in item.items() if k.lower() == "filename"), None)
        name = named or (positives[0].name if len(positives) == 1 else None)
        if not isinstance(name, str):
            unread.append({"check": query_id, "where": expected_file.relative_to(root).as_posix(),
                           "why": f"line {item['line']} names no file"})
            continue
        reported.setdefault(name, []).append(item["line"])
    rego = query / "query.rego"
    mention = _TYPE_MENTION.get(source)
    types = frozenset(mention.findall(rego.read_text(encoding="utf-8", errors="replace"))) \
        if mention is not None and rego.is_file() else frozenset()
    examples = []
    for entry in entries:
        folder = work / f"kics-{len(list(work.iterdir())):05d}"
        folder.mkdir()
        if entry.is_dir():
            shutil.copytree(entry, folder / entry.name)
            files = [p.relative_to(folder).as_posix() for p in (folder / entry.name).rglob("*") if p.is_file()]
        else:
            shutil.copyfile(entry, folder / entry.name)
            files = [entry.name]
        lines = []
        for file in files:
            base = Path(file).name
            hits = reported.get(file) or reported.get(base) or (reported.get(entry.name) if entry.is_dir() else None)
            lines.append((file, tuple(sorted(set(hits or [])))))
        where = entry.relative_to(root).as_posix()
        examples.append(Example("kics", query_id, source, folder, where, (), types, kics_files=tuple(lines)))
    return examples, unread


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def _judged(rule: Rule, example: Example, resource: Resource) -> bool:
    """The rule judges this resource and so does the peer check (when its types are known)."""
    if resource.kind not in _JUDGED_KINDS or resource.source != example.source or not rule.applies_to(resource):
        return False
    return not example.types or resource.type in example.types


def score_example(rule: Rule, example: Example, scan: Scan,
                  others: Sequence[tuple[str, frozenset[str]]] = ()) -> Outcome:
    """Count one example. `others`: the rule's other peer checks of the same scanner with the
    types they judge (empty: any type); a pass from this check alone is no pass of the union
    when another of them judges that type too, so it is skipped where we fail."""
    outcome = Outcome(rule.id, example.peer, (example.check,))
    flagged = {id(r) for r in scan.flagged(rule.id)}
    judged = [r for r in scan.resources if _judged(rule, example, r)]

    def ours(resource: Resource) -> bool:
        if id(resource) in flagged:
            return True
        address = resource.address
        return example.related and any(id(r) in flagged and address in r.references
                                       for r in scan.resources if r.path.rsplit("/", 1)[:-1]
                                       == resource.path.rsplit("/", 1)[:-1])

    def count(theirs: bool, resources: Sequence[Resource], where: str, name: str,
              by: Sequence[str] = (example.check,)) -> None:
        flagged_here = any(ours(r) for r in resources)
        if not theirs and flagged_here:
            also = [c for c, types in others if c not in by and (not types or any(r.type in types for r in resources))]
            if also:
                skip(where, name, f"passes {'+'.join(by)} alone; {', '.join(also)} also judge(s) it")
                return
        if theirs and flagged_here:
            outcome.tp += 1
        elif theirs:
            outcome.fn += 1
        elif flagged_here:
            outcome.fp += 1
        else:
            outcome.tn += 1
        if theirs != flagged_here:
            outcome.disagreements.append({"check": example.check, "where": where, "resource": name,
                                          "ours": "fail" if flagged_here else "pass",
                                          "theirs": "fail" if theirs else "pass"})

    def skip(where: str, resource: str, why: str) -> None:
        outcome.skipped.append({"check": example.check, "where": where, "resource": resource, "why": why})

    if example.peer == "kics":
        for file, lines in example.kics_files:
            where = example.where + (f" ({file})" if "/" in file else "")
            in_file = [r for r in scan.resources if r.path == file]
            for line in lines:
                holders = [r for r in in_file if r.line <= line <= r.end_line]
                if not holders:
                    skip(where, f"line {line}", "reported line is in no resource we parse")
                elif holders[0].kind == "module":
                    skip(where, f"line {line} ({holders[0].address})",
                         "a module call: KICS judges a registry module by its inputs, we do not follow remote modules")
                elif not any(r.line <= line <= r.end_line for r in judged if r.path == file):
                    skip(where, f"line {line} ({holders[0].address})", f"{holders[0].type} is not judged by {rule.id}")
            for resource in (r for r in judged if r.path == file):
                theirs = any(resource.line <= line <= resource.end_line for line in lines)
                count(theirs, [resource], where, f"{resource.address} (line {resource.line})")
        return outcome

    for label in example.labels:
        if label.by_file:
            in_file = [r for r in judged if r.path == label.key]
            if not in_file:
                skip(label.where, label.key, f"no resource {rule.id} judges in this file")
                continue
            count(label.fails, in_file, label.where, label.key, label.checks)
            continue
        if label.key == "*":
            matches = judged if len(judged) == 1 else []
        else:
            matches = [r for r in judged if resource_key(r) == label.key]
        if not matches:
            present = [r for r in scan.resources if resource_key(r) == label.key]
            why = (f"{present[0].type} is not judged by {rule.id}" if present else
                   f"not parsed ({scan.errors[0]})" if scan.errors else
                   "no such resource found" if label.key != "*" else "snippet holds no single judged resource")
            skip(label.where, label.key, why)
            continue
        count(label.fails, matches, label.where, label.key if label.key != "*" else resource_key(matches[0]),
              label.checks)
    return outcome


def _merged(examples: Sequence[Example]) -> list[Example]:
    """One example per directory: checks that share an example dir (Checkov's hostPID, hostIPC and
    hostNetwork checks read the same files) label each resource once, failing when any fails."""
    by_root: dict[Path, list[Example]] = {}
    for example in examples:
        by_root.setdefault(example.root, []).append(example)
    merged = []
    for group in by_root.values():
        first = group[0]
        if len(group) == 1 or first.peer != "checkov":
            merged.extend(group)
            continue
        labels: dict[tuple[str, bool], Label] = {}
        for example in group:
            for label in example.labels:
                key = (label.key, label.by_file)
                seen = labels.get(key)
                labels[key] = label if seen is None else dataclasses.replace(
                    seen, fails=seen.fails or label.fails, checks=(*seen.checks, *label.checks))
        merged.append(dataclasses.replace(first, check="+".join(e.check for e in group), labels=tuple(labels.values()),
                                          types=frozenset().union(*(e.types for e in group))
                                          if all(e.types for e in group) else frozenset()))
    return merged


def peered_rules(rules: Iterable[Rule], only: Sequence[str] = ()) -> list[Rule]:
    return [r for r in rules if any(r.peers.get(p) for p in PEERS) and (not only or r.id in only)]


def score(rules: Sequence[Rule], checkov: Path | None, kics: Path | None) -> list[Outcome]:
    """One Outcome per (rule, peer) the roots given can score."""
    scanner = Scanner()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="peer-score-") as tmp:
        work = Path(tmp)
        checkov_index = index_checkov(checkov) if checkov is not None else {}
        kics_index = index_kics(kics) if kics is not None else {}
        for rule in rules:
            for peer, root in (("checkov", checkov), ("kics", kics)):
                ids = tuple(rule.peers.get(peer, ()))
                if root is None or not ids:
                    continue
                total = Outcome(rule.id, peer, ids)
                read = {}
                for check_id in ids:
                    examples, unread = _examples_of(peer, root, check_id, rule, checkov_index, kics_index, work)
                    total.skipped.extend(unread)
                    read[check_id] = examples
                judges = {c: frozenset().union(*(e.types for e in found)) if all(e.types for e in found) else frozenset()
                          for c, found in read.items() if found}
                for example in _merged([e for found in read.values() for e in found]):
                    others = [(c, types) for c, types in judges.items()]
                    total.add(score_example(rule, example, scanner.scan(example.root), others))
                outcomes.append(total)
    return outcomes


def _examples_of(peer: str, root: Path, check_id: str, rule: Rule, checkov_index: Mapping[str, list[CheckovCheck]],
                 kics_index: Mapping[str, list[tuple[str, Path]]], work: Path
                 ) -> tuple[list[Example], list[dict[str, str]]]:
    examples: list[Example] = []
    unread: list[dict[str, str]] = []
    readers: list[tuple[list[Example], list[dict[str, str]]]]
    if peer == "checkov":
        readers = [checkov_examples(root, c, work) for c in checkov_index.get(check_id, [])
                   if CHECKOV_FRAMEWORKS[c.framework] in rule.sources]
    else:
        readers = [kics_examples(root, check_id, s, q, work) for s, q in kics_index.get(check_id, [])
                   if s in rule.sources]
    for found, missed in readers:
        examples += found
        unread += missed
    if not readers:
        unread.append({"check": check_id, "where": "-", "why": f"no {peer} check with this id for {sorted(rule.sources)}"})
    return examples, unread


# --------------------------------------------------------------------------------------------
# Explanations: why a disagreement is not a miss (data, bench/peer_disagreements.yml)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    """Why one disagreement is what it is. `resource` is as the disagreement names it; KICS
    names add the line (`aws_x.y (line 3)`), which may be left out."""

    rule: str
    peer: str
    where: str
    resource: str
    verdict: str
    why: str

    def matches(self, rule: str, peer: str, disagreement: Mapping[str, str]) -> bool:
        if (rule, peer, disagreement["where"]) != (self.rule, self.peer, self.where):
            return False
        name = disagreement["resource"]
        return self.resource in (name, re.sub(r" \(line \d+\)$", "", name))


_EXPLANATION_KEYS = ("rule", "peer", "where", "resource", "verdict", "why")


class ExplanationError(Exception):
    """A malformed explanations file (the message names the file and the entry)."""


def load_explanations(path: Path) -> list[Explanation]:
    """The explanations of a file (a YAML list of mappings with exactly `_EXPLANATION_KEYS`).
    A malformed entry raises ExplanationError naming the file and the entry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else []
    if data is None:
        return []
    if not isinstance(data, list):
        raise ExplanationError(f"{path}: a list of explanations expected")
    found: list[Explanation] = []
    seen: set[tuple[str, str, str, str]] = set()
    for number, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or set(entry) != set(_EXPLANATION_KEYS) \
                or not all(isinstance(entry[k], str) and entry[k].strip() for k in _EXPLANATION_KEYS):
            raise ExplanationError(f"{path}: entry {number}: exactly {', '.join(_EXPLANATION_KEYS)} expected, "
                             f"each a non-empty string")
        if entry["peer"] not in PEERS:
            raise ExplanationError(f"{path}: entry {number}: peer {entry['peer']!r} is not one of {', '.join(PEERS)}")
        if entry["verdict"] not in VERDICTS:
            raise ExplanationError(f"{path}: entry {number}: verdict {entry['verdict']!r} is not one of "
                             f"{', '.join(VERDICTS)}")
        key = (entry["rule"], entry["peer"], entry["where"], entry["resource"])
        if key in seen:
            raise ExplanationError(f"{path}: entry {number}: {' '.join(key)} is explained twice")
        seen.add(key)
        found.append(Explanation(**{k: entry[k].strip() for k in _EXPLANATION_KEYS}))
    return found


def explain(outcomes: Sequence[Outcome], explanations: Sequence[Explanation]) -> list[Explanation]:
    """Move each explained disagreement of `outcomes` to its `explained` list (with verdict and
    why; an `our-bug` one stays a disagreement, annotated) and count it. Returns the stale
    explanations: those of a scored rule and peer that match no disagreement."""
    used: set[int] = set()
    scored = {(o.rule, o.peer) for o in outcomes}
    for outcome in outcomes:
        unexplained = []
        for disagreement in outcome.disagreements:
            match = next((i for i, e in enumerate(explanations)
                          if e.matches(outcome.rule, outcome.peer, disagreement)), None)
            if match is None:
                unexplained.append(disagreement)
                continue
            used.add(match)
            note = {**disagreement, "verdict": explanations[match].verdict, "why": explanations[match].why}
            if explanations[match].verdict not in EXCUSING:
                unexplained.append(note)
                continue
            outcome.explained.append(note)
            if disagreement["theirs"] == "fail":
                outcome.explained_fn += 1
            else:
                outcome.explained_fp += 1
        outcome.disagreements = unexplained
    return [e for i, e in enumerate(explanations) if i not in used and (e.rule, e.peer) in scored]


def totals(outcomes: Sequence[Outcome]) -> dict[str, Outcome]:
    """Overall counts per peer and for both together."""
    result: dict[str, Outcome] = {}
    for peer in (*PEERS, "all"):
        total = Outcome("overall", peer, ())
        for outcome in outcomes:
            if peer in ("all", outcome.peer):
                total.add(dataclasses.replace(outcome, disagreements=[], skipped=[], explained=[]))
        result[peer] = total
    return result


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _row(name: str, peer: str, o: Outcome, skipped: str = "") -> str:
    return (f"{name:<13} {peer:<8} {o.examples:>8} {o.tp:>4} {o.fn:>4} {o.fp:>4} {o.tn:>4} "
            f"{_pct(o.recall):>7} {_pct(o.precision):>9} {o.explained_fn + o.explained_fp:>9} "
            f"{_pct(o.agreeing_recall):>7} {_pct(o.agreeing_precision):>9} {skipped:>7}").rstrip()


def overall_line(outcomes: Sequence[Outcome]) -> str:
    """Both overall figures in one line: raw, and over the examples whose semantics agree."""
    o = totals(outcomes)["all"]
    explained = o.explained_fn + o.explained_fp
    unexplained = o.fn + o.fp - explained
    return (f"Overall: {o.examples} examples, raw recall {_pct(o.recall)} precision {_pct(o.precision)}; "
            f"agreeing recall {_pct(o.agreeing_recall)} precision {_pct(o.agreeing_precision)} "
            f"({explained} explained, {unexplained} unexplained disagreements)")


def text_table(outcomes: Sequence[Outcome], stale: Sequence[Explanation] = ()) -> str:
    """Per rule and peer the raw figures and, beside them, recall and precision over the
    agreeing examples (`agree`: explained differences left out); then the disagreements."""
    header = (f"{'rule':<13} {'peer':<8} {'examples':>8} {'TP':>4} {'FN':>4} {'FP':>4} {'TN':>4} "
              f"{'recall':>7} {'precision':>9} {'explained':>9} {'agree-R':>7} {'agree-P':>9} {'skipped':>7}")
    lines = [header, "-" * len(header)]
    lines += [_row(o.rule, o.peer, o, str(len(o.skipped))) for o in outcomes]
    lines.append("-" * len(header))
    lines += [_row("overall", peer, o) for peer, o in totals(outcomes).items()]
    lines.append("")
    unexplained = [(o.rule, o.peer, d) for o in outcomes for d in o.disagreements]
    explained = [(o.rule, o.peer, d) for o in outcomes for d in o.explained]
    lines.append(f"Unexplained disagreements ({len(unexplained)}):" if unexplained
                 else "No unexplained disagreements.")
    for rule, peer, d in unexplained:
        note = f" [{d['verdict']}: {d['why']}]" if "verdict" in d else ""
        lines.append(f"  {rule} {peer} {d['check']}: {d['where']} {d['resource']}: "
                     f"ours {d['ours']}, theirs {d['theirs']}{note}")
    if explained:
        lines.append("")
        lines.append(f"Explained disagreements ({len(explained)}):")
        for rule, peer, d in explained:
            lines.append(f"  {rule} {peer} {d['check']}: {d['where']} {d['resource']}: "
                         f"ours {d['ours']}, theirs {d['theirs']} [{d['verdict']}: {d['why']}]")
    if stale:
        lines.append("")
        lines.append(f"Stale explanations, matching no disagreement ({len(stale)}):")
        lines += [f"  {e.rule} {e.peer}: {e.where} {e.resource}" for e in stale]
    lines.append("")
    lines.append(overall_line(outcomes))
    return "\n".join(lines)


def skipped_text(outcomes: Sequence[Outcome]) -> str:
    rows = [(o.rule, o.peer, s) for o in outcomes for s in o.skipped]
    lines = [f"Skipped ({len(rows)}):" if rows else "Nothing skipped."]
    lines += [f"  {rule} {peer} {s['check']}: {s['where']} {s.get('resource', '')}: {s['why']}" for rule, peer, s in rows]
    return "\n".join(lines)


def report_json(outcomes: Sequence[Outcome], stale: Sequence[Explanation] = ()) -> dict[str, object]:
    return {"rules": [o.as_json() for o in outcomes],
            "overall": {peer: {k: v for k, v in o.as_json().items()
                               if k not in ("rule", "checks", "disagreements", "explained", "skipped")}
                        for peer, o in totals(outcomes).items()},
            "stale_explanations": [dataclasses.asdict(e) for e in stale]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--checkov", type=Path, default=None, help="a checkout of bridgecrewio/checkov (or a tree like it)")
    parser.add_argument("--kics", type=Path, default=None, help="a checkout of Checkmarx/kics (or a tree like it)")
    parser.add_argument("--rule", action="append", default=[], help="score only this rule (repeatable)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--skipped", action="store_true", help="also list what was skipped and why")
    parser.add_argument("--explanations", type=Path, default=EXPLANATIONS,
                        help=f"the explained disagreements (default: {EXPLANATIONS.name} beside this script)")
    args = parser.parse_args(argv)
    if args.checkov is None and args.kics is None:
        parser.error("give --checkov and/or --kics")
    for root in (args.checkov, args.kics):
        if root is not None and not root.is_dir():
            parser.error(f"{root}: not a directory")
    try:
        explanations = load_explanations(args.explanations)
    except ExplanationError as error:
        parser.error(str(error))
    outcomes = score(peered_rules(all_rules(), args.rule), args.checkov, args.kics)
    stale = explain(outcomes, explanations)
    if args.json:
        print(json.dumps(report_json(outcomes, stale), indent=2))
    else:
        print(text_table(outcomes, stale))
        if args.skipped:
            print()
            print(skipped_text(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
