"""The engine's mechanics with small in-test rules: selection, related resources, base-side
deletions, secrets on added lines only, suppressions, rule crashes and parse errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

import pytest

from bot.cli.local import FsTree
from bot.engine.diff import parse_file_patch, whole_file_added
from bot.engine.model import FileError, ParsedFile, Resource, Severity, Violation
from bot.engine.parsers.terraform.module import LoadedFile
from bot.engine.policy import Policy, Suppression
from bot.engine.review import Engine, RuleSet, plan_reads
from bot.engine.rule import Rule, RuleContext
from bot.engine.tree import MemoryTree
from tests.changes import diffs_between, trees


def _bad_attr(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    node = resource.body.get("bad")
    if node is not None and node.value is True:
        yield Violation("bad is true", node.line, suggestion="  bad = false")


def _needs_guard(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """A bucket is fine only while some guard resource refers to it (like an SSE configuration)."""
    if not ctx.referrers(resource, "test_guard"):
        yield Violation("no guard", resource.line)


def _secret_word(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for node in resource.body.value.values():
        if "SECRET" in str(node.value):
            yield Violation("secret word", node.line, key=str(node.line))


def _crash(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    raise KeyError("boom")


def rule(rule_id: str, check, sources: set[str], types: set[str] = frozenset()) -> Rule:  # type: ignore[no-untyped-def,assignment]
    return Rule(rule_id, f"title {rule_id}", Severity.HIGH, frozenset(sources), frozenset(types), "why", "fix", check)


BAD = rule("T-BAD", _bad_attr, {"terraform"})
GUARD = rule("T-GUARD", _needs_guard, {"terraform"}, {"test_bucket"})
SECRET = rule("T-SECRET", _secret_word, {"text"})
CONTROLS = {"T-BAD": {"hipaa": ("164.312(a)(2)(iv)",)}}


def engine(*rules: Rule, policy: Policy | None = None) -> Engine:
    return Engine(RuleSet(rules, CONTROLS), policy, today=dt.date(2026, 6, 1))


OLD = 'resource "test_thing" "old" {\n  bad = true\n}\n'
NEW = 'resource "test_thing" "new" {\n  bad = true\n}\n'


def test_only_touched_resources_are_checked() -> None:
    head = MemoryTree({"m/main.tf": OLD + NEW})
    diff = parse_file_patch("m/main.tf", "@@ -1,3 +1,6 @@\n " + "\n ".join(OLD.splitlines()) + "\n+"
                            + "\n+".join(NEW.splitlines()), "modified")
    review = engine(BAD).review_change([diff], head)
    assert [(f.resource, f.line, f.suggestion) for f in review.findings] == [("test_thing.new", 5, "  bad = false")]
    assert review.findings[0].controls == {"hipaa": ("164.312(a)(2)(iv)",)}
    assert review.conclusion(Policy()) == "failure"


def test_untouched_module_files_are_read_for_context_but_not_reported() -> None:
    head = MemoryTree({"m/a.tf": OLD, "m/b.tf": 'variable "x" {\n  default = 1\n}\n', "other/c.tf": OLD})
    diff = parse_file_patch("m/b.tf", "@@ -1,3 +1,3 @@\n variable \"x\" {\n-  default = 2\n+  default = 1\n }",
                            "modified")
    plan = plan_reads([diff], Policy())
    assert plan.head == {"m/b.tf"} and plan.module_dirs == {"m"} and plan.base == {"m/b.tf"}
    asked = RecordingTree(head)
    assert engine(BAD).review_change([diff], asked).findings == ()
    # One listing, one batch of reads: the repository's Terraform (module callers may be anywhere).
    assert asked.listed == 1 and asked.read == [["m/a.tf", "m/b.tf", "other/c.tf"]]


class RecordingTree:
    """A tree that remembers what the engine asked it for."""

    def __init__(self, inner: MemoryTree) -> None:
        self.inner = inner
        self.listed = 0
        self.read: list[list[str]] = []

    def list_all(self) -> tuple[list[str], bool]:
        self.listed += 1
        return self.inner.list_all()

    def read_many(self, paths: Collection[str]) -> dict[str, str | None]:
        self.read.append(sorted(paths))
        return self.inner.read_many(paths)


def test_deleting_a_guard_rechecks_the_bucket_in_an_unchanged_file() -> None:
    bucket = 'resource "test_bucket" "b" {\n  name = "x"\n}\n'
    guard = 'resource "test_guard" "g" {\n  bucket = test_bucket.b.id\n}\n'
    head = MemoryTree({"m/main.tf": bucket})
    base = MemoryTree({"m/main.tf": bucket, "m/guard.tf": guard})
    removal = parse_file_patch("m/guard.tf", "@@ -1,3 +0,0 @@\n-" + "\n-".join(guard.splitlines()), "removed")
    review = engine(GUARD).review_change([removal], head, base)
    assert [(f.path, f.resource) for f in review.findings] == [("m/main.tf", "test_bucket.b")]


def test_secrets_rules_see_only_added_lines() -> None:
    head = MemoryTree({"app.env": "SECRET old\nplain\nSECRET new\n"})
    diff = parse_file_patch("app.env", "@@ -1,2 +1,3 @@\n SECRET old\n plain\n+SECRET new", "modified")
    review = engine(SECRET).review_change([diff], head)
    assert [(f.path, f.line, f.resource) for f in review.findings] == [("app.env", 3, None)]


def test_file_without_patch_is_read_whole() -> None:
    head = MemoryTree({"big.txt": "SECRET a\nSECRET b\n"})
    diff = parse_file_patch("big.txt", None, "modified")
    assert [f.line for f in engine(SECRET).review_change([diff], head).findings] == [1, 2]


def test_suppression_marks_the_finding_and_unblocks() -> None:
    policy = Policy(suppressions=(Suppression("T-BAD", "accepted in OPS-1", resource="test_thing.new"),))
    head = MemoryTree({"main.tf": NEW})
    review = engine(BAD, policy=policy).review_change([whole_file_added("main.tf", NEW)], head)
    (finding,) = review.findings
    assert finding.suppressed and finding.suppression_reason == "accepted in OPS-1"
    assert review.conclusion(policy) == "success"


def test_disabled_rules_and_ignored_paths() -> None:
    head = MemoryTree({"main.tf": NEW, "examples/x.tf": NEW})
    diffs = [whole_file_added("main.tf", NEW), whole_file_added("examples/x.tf", NEW)]
    assert engine(BAD, policy=Policy(disabled_rules=frozenset({"T-BAD"}))).review_change(diffs, head).findings == ()
    found = engine(BAD, policy=Policy(ignore_paths=("examples/**",))).review_change(diffs, head).findings
    assert [f.path for f in found] == ["main.tf"]


def test_a_crashing_rule_is_reported_not_raised() -> None:
    crash = rule("T-CRASH", _crash, {"terraform"})
    review = engine(crash).review_change([whole_file_added("main.tf", NEW)], MemoryTree({"main.tf": NEW}))
    assert [(f.rule_id, f.line) for f in review.findings] == [("T-CRASH", 1)]
    assert "a bug in Compliance Bot" in review.findings[0].message and "KeyError" not in review.findings[0].message


def test_parse_error_of_a_changed_file_fails_closed() -> None:
    broken = 'resource "test_thing" "x" {\n  bad = \n'
    review = engine(BAD).review_change([whole_file_added("main.tf", broken)], MemoryTree({"main.tf": broken}))
    assert [e.path for e in review.errors] == ["main.tf"]
    assert review.conclusion(Policy()) == "failure"


def test_parse_error_of_an_unchanged_module_file_is_a_note() -> None:
    head = MemoryTree({"m/main.tf": NEW, "m/broken.tf": "resource {{{\n"})
    review = engine(BAD).review_change([whole_file_added("m/main.tf", NEW)], head)
    assert review.errors == () and len(review.findings) == 1
    assert review.notes and "m/broken.tf" in review.notes[0]


def test_scan_reviews_everything() -> None:
    tree = MemoryTree({"a.tf": OLD, "b/c.tf": NEW, "x.env": "SECRET\n"})
    review = engine(BAD, SECRET).scan(tree)
    assert sorted((f.path, f.line) for f in review.findings) == [("a.tf", 2), ("b/c.tf", 2), ("x.env", 1)]


def test_large_or_unreadable_json_that_is_not_cloudformation_is_not_an_error() -> None:
    lock = '{"name": "x", "lockfileVersion": 3, "packages": {' + ", ".join(
        f'"node_modules/p{i}": {{"version": "1.0.{i}"}}' for i in range(150000)) + "}}"
    assert len(lock) > 5 * 1024 * 1024  # over the parse limit: sniffed first, never claimed
    head = MemoryTree({"package-lock.json": lock, "data.json": None})
    diffs = [whole_file_added("package-lock.json", lock), whole_file_added("data.json", "{}")]
    review = engine(BAD).review_change(diffs, head)
    assert review.errors == ()


def test_oversized_terraform_is_an_error_not_a_silent_pass() -> None:
    huge = NEW + "\n".join(f"# filler {i}" for i in range(600000))
    review = engine(BAD).review_change([whole_file_added("main.tf", huge)], MemoryTree({"main.tf": huge}))
    assert [(e.path, "too large" in e.message) for e in review.errors] == [("main.tf", True)]


def test_scan_reports_an_unreadable_file_instead_of_crashing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok.tf").write_text(NEW)
    (tmp_path / "locked.tf").write_text(NEW)
    real_read_bytes = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.tf":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    review = engine(BAD).scan(FsTree(tmp_path))
    assert [f.path for f in review.findings] == ["ok.tf"]
    assert [(e.path, "could not be read" in e.message) for e in review.errors] == [("locked.tf", True)]
    assert review.conclusion(Policy()) == "failure"


# --- the base version of a touched resource ------------------------------------------------------


def _base_of(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Reports what `ctx.base` answers, so a test reads the lookup through a real review."""
    found = ctx.base(resource)
    if found is None:
        yield Violation("no base", resource.line)
    else:
        value = found.body.get("v")
        yield Violation(f"base {found.path}:{found.line} v={value.plain() if value else None}", resource.line)


BASE = rule("T-BASE", _base_of, {"terraform", "cloudformation"}, {"test_thing", "Test::Thing", "Test::Other"})


def thing(name: str, v: str) -> str:
    return f'resource "test_thing" "{name}" {{\n  v = {v}\n}}\n'


def base_answers(base: dict[str, str], head: dict[str, str], renames: dict[str, str] | None = None
                 ) -> dict[str, str]:
    head_tree, base_tree = trees(base, head)
    review = engine(BASE).review_change(diffs_between(base, head, renames), head_tree, base_tree)
    return {f.resource or "": f.message for f in review.findings}


def test_base_version_is_found_after_a_rename_of_its_file() -> None:
    found = base_answers({"m/old.tf": thing("a", "1")}, {"m/new.tf": thing("a", "2")}, {"m/old.tf": "m/new.tf"})
    assert found == {"test_thing.a": "base m/old.tf:1 v=1"}


def test_base_version_is_found_when_moved_to_another_file_of_the_module() -> None:
    base = {"m/a.tf": thing("keep", "0") + thing("moved", "1"), "m/b.tf": "# b\n"}
    head = {"m/a.tf": thing("keep", "0"), "m/b.tf": "# b\n" + thing("moved", "2")}
    assert base_answers(base, head) == {"test_thing.moved": "base m/a.tf:4 v=1"}


def test_a_new_resource_or_one_moved_to_another_module_has_no_base() -> None:
    base = {"m/a.tf": thing("x", "1")}
    assert base_answers(base, {"m/a.tf": thing("x", "1") + thing("new", "1")}) == {"test_thing.new": "no base"}
    assert base_answers(base, {"other/a.tf": thing("x", "2")}, {"m/a.tf": "other/a.tf"}) == {"test_thing.x": "no base"}


def test_a_scan_or_a_review_without_base_has_no_base() -> None:
    head = {"m/a.tf": thing("a", "2")}
    diffs = diffs_between({"m/a.tf": thing("a", "1")}, head)
    assert [f.message for f in engine(BASE).review_change(diffs, MemoryTree(head)).findings] == ["no base"]
    assert [f.message for f in engine(BASE).scan(MemoryTree(head)).findings] == ["no base"]


def test_base_of_a_file_that_only_gained_lines_is_rebuilt_without_reading_it() -> None:
    base = {"m/a.tf": 'resource "test_thing" "a" {\n  w = 1\n}\n'}
    head = {"m/a.tf": 'resource "test_thing" "a" {\n  w = 1\n  v = 5\n}\n'}
    head_tree, base_tree = trees(base, head)
    asked = RecordingTree(base_tree)
    review = engine(BASE).review_change(diffs_between(base, head), head_tree, asked)
    assert [f.message for f in review.findings] == ["base m/a.tf:1 v=None"]
    assert asked.read == []  # nothing was removed: the patch alone gives the base


def test_base_values_resolve_through_the_unchanged_files_of_the_module() -> None:
    """A variable's default changed elsewhere: the unchanged reader's base sees the old default."""
    reader = 'resource "test_thing" "a" {\n  v = var.v\n}\n'
    base = {"m/main.tf": reader, "m/vars.tf": 'variable "v" {\n  default = 365\n}\n'}
    head = {"m/main.tf": reader, "m/vars.tf": 'variable "v" {\n  default = 120\n}\n'}
    assert base_answers(base, head) == {"test_thing.a": "base m/main.tf:1 v=365"}


def test_cloudformation_base_is_the_same_logical_id_in_the_same_template() -> None:
    def template(kind: str, v: int) -> str:
        return f"AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Thing:\n    Type: {kind}\n    v: {v}\n"

    base = {"stack/old.yaml": template("Test::Thing", 1)}
    found = base_answers(base, {"stack/new.yaml": template("Test::Thing", 2)}, {"stack/old.yaml": "stack/new.yaml"})
    assert found == {"Resources.Thing": "base stack/old.yaml:3 v=1"}
    # another template, or another type under the same logical id, is not the same resource
    other = base_answers(base, {"stack/old.yaml": template("Test::Thing", 1), "stack/b.yaml": template("Test::Thing", 2)})
    assert other == {"Resources.Thing": "no base"}
    assert base_answers(base, {"stack/old.yaml": template("Test::Other", 1)}) == {"Resources.Thing": "no base"}


def test_base_values_resolve_through_unchanged_variable_files() -> None:
    files = {"m/vars.tf": 'variable "v" {\n  default = 365\n}\n', "m/other.tf": thing("other", "1")}
    base = {"m/main.tf": 'resource "test_thing" "a" {\n  v = var.v\n}\n', **files}
    head = {"m/main.tf": thing("a", "120"), **files}
    assert base_answers(base, head) == {"test_thing.a": "base m/main.tf:1 v=365"}


def test_an_edit_that_changes_no_variable_parses_only_value_files_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The base side of a big module costs the changed files and the variable/locals files only."""
    from bot.engine import parsers
    from bot.engine import review as review_module

    parsed: list[list[str]] = []

    def recording(texts: Mapping[str, str], loaded: Mapping[str, LoadedFile | FileError] | None = None
                  ) -> dict[str, ParsedFile]:
        parsed.append(sorted(texts))
        return parsers.parse_terraform(texts, loaded)

    monkeypatch.setattr(review_module, "parse_terraform", recording)
    files = {"m/vars.tf": 'variable "v" {\n  default = 1\n}\n', "m/other.tf": thing("other", "1")}
    base_answers({"m/main.tf": thing("a", "1"), **files}, {"m/main.tf": thing("a", "2"), **files})
    # The head is evaluated (module calls followed) elsewhere; the base side parses module by module:
    assert parsed == [["m/main.tf", "m/vars.tf"]]  # the changed file and the one declaring variables


TF_JSON = """\
{
  "resource": {
    "test_thing": {
      "json": {
        "//": "written by CDK for Terraform",
        "bad": "${var.flag}"
      },
      "fine": {
        "bad": false
      }
    }
  }
}
"""


def test_a_tf_json_file_added_by_a_change_is_reviewed_with_the_tf_files_of_its_module() -> None:
    head = RecordingTree(MemoryTree({"m/variables.tf": 'variable "flag" {\n  default = true\n}\n',
                                     "m/main.tf.json": TF_JSON, "m/package.json": '{"name": "x"}'}))
    diff = parse_file_patch("m/main.tf.json", "@@ -0,0 +1,13 @@\n+" + "\n+".join(TF_JSON.splitlines()), "added")
    review = engine(BAD).review_change([diff], head)
    assert [(f.path, f.line, f.resource, f.resource_span) for f in review.findings] == [
        ("m/main.tf.json", 6, "test_thing.json", (4, 7))]
    assert head.read == [["m/main.tf.json", "m/variables.tf"]]  # the module's .tf read for the variable
    assert review.errors == () and review.stats.resources_parsed == 3


def test_only_the_touched_resource_of_a_tf_json_file_is_checked() -> None:
    base_text = TF_JSON.replace('"bad": "${var.flag}"', '"bad": false')
    head_text = base_text.replace('"bad": false\n      }\n    }', '"bad": true\n      }\n    }')
    head = MemoryTree({"main.tf.json": head_text})
    diff = parse_file_patch("main.tf.json", '@@ -8,3 +8,3 @@\n       "fine": {\n-        "bad": false\n'
                            '+        "bad": true\n       }', "modified")
    review = engine(BAD).review_change([diff], head, MemoryTree({"main.tf.json": base_text}))
    assert [(f.line, f.resource) for f in review.findings] == [(9, "test_thing.fine")]


def test_a_broken_tf_json_file_in_a_change_fails_closed_with_its_line() -> None:
    broken = '{\n  "resource": {\n    "test_thing": {"x": {"bad": true,}}\n  }\n}\n'
    review = engine(BAD).review_change([whole_file_added("main.tf.json", broken)], MemoryTree({"main.tf.json": broken}))
    assert [(e.path, e.line) for e in review.errors] == [("main.tf.json", 3)]
    assert review.findings == () and review.conclusion(Policy()) == "failure"


def test_the_aws_rules_flag_and_fix_a_tf_json_line_through_the_engine() -> None:
    from rules.registry import all_rules, default_controls

    text = ('{\n  "resource": {\n    "aws_ebs_volume": {\n      "data": {\n'
            '        "availability_zone": "eu-west-1a",\n        "encrypted": false,\n        "size": 10\n'
            "      }\n    }\n  }\n}\n")
    review = Engine(RuleSet(all_rules(), default_controls())).review_change(
        [whole_file_added("infra/volumes.tf.json", text)], MemoryTree({"infra/volumes.tf.json": text}))
    assert review.errors == ()
    assert [(f.rule_id, f.path, f.line, f.resource, f.suggestion) for f in review.findings] == [
        ("CB-AWS-001", "infra/volumes.tf.json", 6, "aws_ebs_volume.data", '        "encrypted": true,')]
