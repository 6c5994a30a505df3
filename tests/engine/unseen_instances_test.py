"""A review builds only the module instances it can look at (`stack._Run.unseen`): the instances
of a module nobody changed, made by stacks nobody changed, are left out, and the review says
exactly what it says when every instance is built: findings (lines, provenance, addresses),
errors, notes and what was not reviewed."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace

import pytest

from bot.engine.model import FileError
from bot.engine.parsers.terraform import stack
from bot.engine.parsers.terraform.module import LoadedFile
from bot.engine.policy import Policy
from bot.engine.review import Engine, Review, RuleSet
from rules.registry import all_rules, default_controls
from tests.changes import diffs_between, trees

pytestmark = pytest.mark.timeout(120)

KEY = """\
variable "rotate" {
  default = true
}

variable "tags" {
  default = {}
}

resource "aws_kms_key" "this" {
  description         = "a key"
  enable_key_rotation = var.rotate
  tags                = var.tags
}
"""
VOLUME = """\
variable "encrypted" {
  default = true
}

resource "aws_ebs_volume" "this" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = var.encrypted
}
"""
APP = """\
variable "encrypted" {
  default = true
}

module "disk" {
  source    = "../volume"
  encrypted = var.encrypted
}

module "remote" {
  source = "terraform-aws-modules/s3-bucket/aws"
}
"""
LOOP = """\
module "other" {{
  source = "../{other}"
}}
"""
PROVIDER = """\
provider "aws" {
  default_tags {
    tags = {
      Team = "platform"
    }
  }
}
"""


def stack_main(rotate: str | None, encrypted: str, app: bool) -> str:
    """A stack calling the key module (with `rotate` when given), the volume module, and the app."""
    argument = f"\n  rotate = {rotate}" if rotate is not None else ""
    text = (f'module "key" {{\n  source = "../../modules/key"{argument}\n}}\n\n'
            f'module "volume" {{\n  source    = "../../modules/volume"\n  encrypted = {encrypted}\n}}\n\n'
            'module "old" {\n  source = "../../modules/broken"\n}\n')
    if app:
        text += f'\nmodule "app" {{\n  source    = "../../modules/app"\n  encrypted = {encrypted}\n}}\n'
    return text


def repository() -> dict[str, str]:
    """Twelve stacks: most pass equal inputs, a few other ones, some through default tags."""
    files = {"modules/key/main.tf": KEY, "modules/volume/main.tf": VOLUME, "modules/app/main.tf": APP,
             "modules/broken/main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = \n',
             "modules/loop_a/main.tf": LOOP.format(other="loop_b"), "modules/loop_b/main.tf": LOOP.format(other="loop_a")}
    for i in range(12):
        rotate = "false" if i % 3 == 0 else "true" if i % 3 == 1 else None
        files[f"live/s{i:02d}/main.tf"] = stack_main(rotate, "false" if i % 4 == 0 else "true", app=i % 2 == 0)
        if i % 5 == 0:
            files[f"live/s{i:02d}/providers.tf"] = PROVIDER
    files["live/s03/loop.tf"] = 'module "loop" {\n  source = "../../modules/loop_b"\n}\n'
    return files


def change() -> tuple[dict[str, str], dict[str, str]]:
    """The key module's rotation line changes (every caller's instance is judged); one stack now
    turns rotation off and volume encryption off on lines of its own (origins on changed lines)."""
    base = repository()
    head = dict(base)
    head["modules/key/main.tf"] = KEY.replace('description         = "a key"', 'description         = "the key"')
    head["live/s01/main.tf"] = stack_main("false", "false", app=True)
    head["live/s01/loop.tf"] = 'module "loop" {\n  source = "../../modules/loop_a"\n}\n'
    return base, head


def review(base: Mapping[str, str], head: Mapping[str, str], every_instance: bool,
           monkeypatch: pytest.MonkeyPatch) -> Review:
    """A review; with `every_instance`, as before `unseen`: every instance built."""
    evaluate = stack.evaluate

    def building_all(texts: Mapping[str, str], var_files: Mapping[str, Sequence[str]] | None = None,
                     loaded: Mapping[str, LoadedFile | FileError] | None = None,
                     changed: Collection[str] | None = None) -> stack.Evaluated:
        return evaluate(texts, var_files, loaded, None)

    with monkeypatch.context() as patch:
        if every_instance:
            patch.setattr(stack, "evaluate", building_all)
        engine = Engine(RuleSet(all_rules(), default_controls()), Policy())
        return engine.review_change(diffs_between(base, head), *trees(base, head))


def test_leaving_unseen_instances_out_changes_nothing_a_review_says(monkeypatch: pytest.MonkeyPatch) -> None:
    base, head = change()
    built = review(base, head, True, monkeypatch)
    pruned = review(base, head, False, monkeypatch)
    assert pruned.findings == built.findings
    assert (pruned.errors, pruned.notes, pruned.not_reviewed) == (built.errors, built.notes, built.not_reviewed)
    assert (pruned.rules_applied, pruned.exceptions) == (built.rules_applied, built.exceptions)
    assert replace(pruned.stats, seconds=0, resources_parsed=0) == replace(built.stats, seconds=0, resources_parsed=0)
    # Fewer resources were built: the volume and app instances of the stacks nobody changed.
    assert pruned.stats.resources_parsed < built.stats.resources_parsed
    # What the review says is not trivial: the changed module's finding names every caller passing
    # `rotate = false` (the changed stack among them), the changed stack's own lines hold its volume
    # findings, the broken module has its note, the remote module its changed call reaches is listed,
    # and so is the circle of calls its new call makes, which only a stack nobody changed closes
    # where the changed stack's call is followed: `live/s03`'s instances are still built.
    where = [(f.rule_id, f.path, f.line) for f in pruned.findings]
    assert where == [("CB-AWS-001", "live/s01/main.tf", 8), ("CB-AWS-001", "live/s01/main.tf", 17),
                     ("CB-AWS-012", "modules/key/main.tf", 11)]
    callers = (pruned.findings[2].provenance or "").split("; ")
    assert [c for c in callers if c.startswith("with the inputs")] == [
        f"with the inputs of module call `key` (live/s{i:02d}/main.tf:1)" for i in (0, 1, 3, 6, 9)]
    assert any(n.startswith("modules/broken/main.tf: not parsed") for n in pruned.notes)
    assert [(n.path, n.what) for n in pruned.not_reviewed] == [
        ("modules/app/main.tf", "remote module"), ("modules/loop_a/main.tf", "local module"),
        ("modules/loop_b/main.tf", "local module")]


def evaluated(changed: Collection[str] | None) -> stack.Evaluated:
    return stack.evaluate(repository(), changed=changed)


def instances(result: stack.Evaluated, path: str) -> list[str]:
    return sorted(r.full_address + " @ " + r.instance.split("|")[0] for r in result.files[path].resources
                  if r.kind == "resource")


def test_only_instances_inside_a_changed_directory_or_of_a_module_that_calls_are_built() -> None:
    every = evaluated(None)
    pruned = evaluated({"modules/key", "live/s00"})
    assert len(instances(every, "modules/key/main.tf")) == 12  # a changed module: every caller's instance
    assert instances(pruned, "modules/key/main.tf") == instances(every, "modules/key/main.tf")
    assert len(instances(every, "modules/volume/main.tf")) == 18  # 12 stacks' own, 6 through the app
    # Only the changed stack's own volume and its app's disk are left: nothing else can be judged.
    assert instances(pruned, "modules/volume/main.tf") == [
        "module.app.module.disk.aws_ebs_volume.this @ live/s00/main.tf:15:app",
        "module.volume.aws_ebs_volume.this @ live/s00/main.tf:6:volume"]
    assert set(pruned.files) == set(every.files)  # every file is still there, with its read errors
    assert pruned.files["modules/broken/main.tf"] == every.files["modules/broken/main.tf"]
    assert pruned.not_reviewed == every.not_reviewed  # the app calls modules: its instances are built
    assert evaluated(set()).files["modules/key/main.tf"].resources == ()  # nothing changed: nothing to judge
