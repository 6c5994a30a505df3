"""The Terraform of a repository, instantiated the way Terraform would: each root module with its
variable files, and each local module call with its arguments, recursively.

A directory that another directory calls through a local `source` ("./modules/volume",
"../../") is reviewed as the instances its callers make of it, with their inputs, and its
resources get module addresses (`module.ledger.aws_ebs_volume.this`); a directory nobody calls
is a root module, reviewed with its variable files and then its defaults. A call with a known
`count` or `for_each` makes one instance per key, each with its own `count.index` / `each`
values in its arguments (at most MAX_CALL_INSTANCES in one evaluation; where they are unknown,
one instance whose arguments that read them are unknown). Registry and git sources cannot be
read offline: they are listed as not reviewed, never silently passed.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from bot.engine import limits
from bot.engine.model import CallSite, FileError, Node, NotReviewed, Origin, ParsedFile, Resource
from bot.engine.parsers.terraform.module import InstanceBudget, LoadedFile, LoadedModule, ModuleCall
from bot.engine.parsers.terraform.values import Bound
from bot.engine.parsers.terraform.varfiles import (
    is_auto_variable_file,
    is_variable_file,
    load_order,
    load_variable_file,
)

__all__ = ["MAX_MODULE_DEPTH", "Evaluated", "evaluate", "local_target", "needed_directories"]

MAX_MODULE_DEPTH = limits.MODULE_DEPTH  # nested module calls followed; deeper (or circular) calls are listed as not reviewed
MAX_CALL_INSTANCES = limits.CALL_INSTANCES  # module instances made from calls' count / for_each in one evaluation
CALL_ARGUMENTS_NOT_INPUTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})
_SOURCE_RE = re.compile(r"""\bsource"?\s*[=:]\s*"(\.{1,2}/[^"]*)\"""")  # HCL `source =`, JSON `"source":`


def directory_of(path: str) -> str:
    return posixpath.dirname(path)


def local_target(caller_dir: str, source: str) -> str | None:
    """The directory a local `source` names, relative to the repository root; None when the
    source is not local (Terraform's local paths begin with ./ or ../) or leaves the repository."""
    if not source.startswith(("./", "../")):
        return None
    target = posixpath.normpath(posixpath.join(caller_dir, source.split("//", 1)[0]))
    if target == ".":
        return ""
    return None if target == ".." or target.startswith("../") else target


def needed_directories(changed: Collection[str], texts: Mapping[str, str]) -> set[str]:
    """The directories a review of changes in `changed` must evaluate: those, every directory
    whose local module calls reach them (its callers, transitively), and every local module those
    call (transitively). Callers are found by a cheap scan of each file for local `source`
    strings, so only these directories need a full parse."""
    calls: dict[str, set[str]] = defaultdict(set)
    for path, text in texts.items():
        if path.endswith((".tf", ".tf.json")):
            for source in _SOURCE_RE.findall(text):
                target = local_target(directory_of(path), source)
                if target is not None:
                    calls[directory_of(path)].add(target)
    callers: dict[str, set[str]] = defaultdict(set)
    for caller, targets in calls.items():
        for target in targets:
            callers[target].add(caller)
    needed = set(changed)
    frontier = list(changed)
    while frontier:  # upwards: whoever calls a needed directory
        for caller in callers.get(frontier.pop(), ()):
            if caller not in needed:
                needed.add(caller)
                frontier.append(caller)
    frontier = list(needed)
    while frontier:  # downwards: whatever a needed directory calls
        for target in calls.get(frontier.pop(), ()):
            if target not in needed:
                needed.add(target)
                frontier.append(target)
    return needed


@dataclass(frozen=True)
class Evaluated:
    """Every file's resources (the instances of a module's files included) and what could not be
    followed (remote modules, missing or circular local modules)."""

    files: dict[str, ParsedFile]
    not_reviewed: tuple[NotReviewed, ...]


def evaluate(texts: Mapping[str, str], var_files: Mapping[str, Sequence[str]] | None = None,
             loaded: Mapping[str, LoadedFile | FileError] | None = None,
             changed: Collection[str] | None = None) -> Evaluated:
    """Evaluate the Terraform files in `texts` (.tf, .tf.json and variable files).

    `var_files` names, per root directory, variable files to load after the automatic ones (a
    policy's per-environment files), in order. `loaded`: files already read (`load_file`).
    `changed`: the directories a review's change touched, when only their instances (and what
    they call) are judged: an instance no review can look at is then not built (`_Run.unseen`);
    None builds every instance.
    """
    modules: dict[str, dict[str, str]] = defaultdict(dict)
    variable_files: dict[str, list[str]] = defaultdict(list)
    for path, text in texts.items():
        if is_variable_file(path):
            variable_files[directory_of(path)].append(path)
        elif path.endswith((".tf", ".tf.json")):
            modules[directory_of(path)][path] = text
    run = _Run({d: LoadedModule(files, loaded) for d, files in modules.items()}, changed)
    loaded_vars = {path: load_variable_file(path, texts[path]) for paths in variable_files.values() for path in paths}
    for variables in loaded_vars.values():
        run.add(variables.parsed)
    named = var_files or {}
    for directory in sorted(run.modules):
        auto = [p for p in variable_files.get(directory, []) if is_auto_variable_file(p)]
        if directory in run.called and not auto and directory not in named:
            continue  # instantiated by its callers, with their inputs
        inputs: dict[str, Bound] = {}
        for path in [*load_order(auto), *named.get(directory, ())]:
            if path in loaded_vars:
                inputs.update(loaded_vars[path].values)
        run.root(directory, inputs)
    for directory in sorted(set(run.modules) - run.instantiated):
        run.root(directory, {})  # only called from a circle of calls: reviewed on its own, never skipped
    return Evaluated(run.files(), tuple(run.not_reviewed))


class _Run:
    """One evaluation: the loaded modules, the results gathered so far, what was not followed."""

    def __init__(self, modules: Mapping[str, LoadedModule], changed: Collection[str] | None = None) -> None:
        self.modules = modules
        self.called = {target for directory, module in modules.items() for call in module.calls()
                       if call.source is not None and (target := local_target(directory, call.source)) in modules}
        self.changed = None if changed is None else frozenset(changed)
        self.calling = frozenset(directory for directory, module in modules.items() if module.calls())
        self._results: dict[str, list[ParsedFile]] = defaultdict(list)
        self.not_reviewed: list[NotReviewed] = []
        self._listed: set[tuple[str, int, str]] = set()
        self.instantiated: set[str] = set()
        self.call_budget = InstanceBudget(MAX_CALL_INSTANCES)  # module instances calls' count / for_each may still make
        self.budget = InstanceBudget()  # resource instances count / for_each may still add

    def add(self, parsed: ParsedFile) -> None:
        self._results[parsed.path].append(parsed)

    def files(self) -> dict[str, ParsedFile]:
        merged = {}
        for path, parts in self._results.items():
            errors = tuple(dict.fromkeys(e for part in parts for e in part.errors))
            merged[path] = ParsedFile(path, tuple(r for part in parts for r in part.resources), errors)
        return merged

    def root(self, directory: str, inputs: Mapping[str, Bound]) -> None:
        """Evaluate a root module and everything it calls; its AWS provider's `default_tags` reach
        every AWS resource it makes, in its own files and in the modules it calls."""
        made: list[ParsedFile] = []
        self.instantiate(directory, inputs, (), made)
        tags = _default_tags(made, directory)
        for parsed in made:
            self.add(_with_default_tags(parsed, tags) if tags else parsed)

    def instantiate(self, directory: str, inputs: Mapping[str, Bound], chain: tuple[CallSite, ...],
                    made: list[ParsedFile]) -> None:
        self.instantiated.add(directory)
        if self.unseen(directory, chain):
            made.extend(self.modules[directory].unbuilt().values())
            return
        parsed = self.modules[directory].instantiate(inputs, chain, self.budget)
        made.extend(parsed.values())
        resources: dict[str, list[Resource]] = defaultdict(list)  # a call with count / for_each: one per instance
        for result in parsed.values():
            for resource in result.resources:
                if resource.kind == "module":
                    resources[resource.address].append(resource)
        for call in self.modules[directory].calls():
            target = self._target(directory, call, chain)
            if target is None:
                continue
            for instance in self._instances_of(call, resources.get(f"module.{call.name}", [])):
                if instance is not None and not instance.exists:
                    continue  # `count = 0` or an empty `for_each`: the call makes nothing
                site = call.site if instance is None else replace(call.site, key=instance.instance_key)
                self.instantiate(target, _inputs(call, instance), (*chain, site), made)

    def _instances_of(self, call: ModuleCall, made: list[Resource]) -> list[Resource | None]:
        """The call's instances to instantiate: each of a known `count` / `for_each`, while the
        evaluation has made at most MAX_CALL_INSTANCES of them (nested calls multiply). Past it
        only the first is, and the call is listed as not reviewed for the others."""
        instances: list[Resource | None] = list(made) or [None]
        if len(made) <= 1 or self.call_budget.take(len(made)):
            return instances
        self._skip(call.site, "local module", f"module `{call.name}`: only its first of {len(made)} instances "
                   f"was reviewed (past {MAX_CALL_INSTANCES:,} module instances made by count or for_each)")
        return instances[:1]

    def unseen(self, directory: str, chain: tuple[CallSite, ...]) -> bool:
        """Whether no review can look at this instance, so building it would change nothing.

        A review judges the resources of the changed directories' instances, what they relate to
        within their instance, and what the calls they make instantiate (`bot.engine.selection`):
        an instance outside every changed directory's instance is none of these. Its calls might
        still list a module as not reviewed, so only an instance of a module that calls nothing
        is left out. Its files are still there (`LoadedModule.unbuilt`: their read errors
        included), as when its resources were built."""
        if self.changed is None or directory in self.changed or directory in self.calling:
            return False
        return not any(directory_of(call.path) in self.changed for call in chain)

    def _target(self, directory: str, call: ModuleCall, chain: tuple[CallSite, ...]) -> str | None:
        """The directory a call instantiates, or None (and the call listed) when it cannot be followed."""
        site = call.site
        if call.source is None:
            self._skip(site, "module source", f"module `{call.name}`: its source is not a literal string")
            return None
        target = local_target(directory, call.source)
        if target is None:
            if call.source.startswith(("./", "../")):
                self._skip(site, "local module", f"module `{call.name}`: {call.source} leaves the repository")
            else:
                self._skip(site, "remote module", f"module `{call.name}` comes from {call.source}: registry "
                           "and git modules cannot be read offline")
            return None
        if target not in self.modules:
            self._skip(site, "local module", f"module `{call.name}`: no Terraform files in {call.source}")
            return None
        visited = {directory_of(c.path) for c in chain} | {directory}
        if target in visited or len(chain) >= MAX_MODULE_DEPTH:
            self._skip(site, "local module", f"module `{call.name}`: calls nest too deeply or in a circle")
            return None
        return target

    def _skip(self, site: CallSite, what: str, reason: str) -> None:
        if (site.path, site.line, what) not in self._listed:
            self._listed.add((site.path, site.line, what))
            self.not_reviewed.append(NotReviewed(site.path, site.line, what, reason))


@dataclass(frozen=True)
class _DefaultTags:
    provider: Resource
    tags: Node


def _default_tags(made: Sequence[ParsedFile], directory: str) -> _DefaultTags | None:
    """The root module's default AWS provider's `default_tags { tags = {...} }`, if it has one."""
    for parsed in made:
        for resource in parsed.resources:
            if resource.kind == "provider" and resource.address == "provider.aws" and not resource.calls \
                    and directory_of(resource.path) == directory:
                blocks = resource.body.get("default_tags")
                tags = blocks.children()[0].get("tags") if blocks is not None and blocks.children() else None
                if tags is not None and isinstance(tags.value, dict):
                    return _DefaultTags(resource, tags)
    return None


def _with_default_tags(parsed: ParsedFile, default: _DefaultTags) -> ParsedFile:
    """Every AWS resource's `tags` as Terraform applies them (`tags_all`): the provider's default
    tags, then the resource's own. A default entry sits on the resource's `tags` line (or its
    first line) and says it comes from the provider, so a finding can move to that line when it
    is what changed. Module calls read the provider too, so a changed default re-checks them."""
    resources = []
    for resource in parsed.resources:
        if resource.kind == "module":
            resource = replace(resource, references=resource.references | {"provider.aws"})
        elif resource.kind == "resource" and resource.type.startswith("aws_"):
            resource = _tagged(resource, default)
        resources.append(resource)
    return replace(parsed, resources=tuple(resources))


def _tagged(resource: Resource, default: _DefaultTags) -> Resource:
    own = resource.body.get("tags")
    # Without tags of its own, the defaults sit on the closing line, which no rule reports on, so
    # their origin never attaches to another attribute's finding on the first line.
    line, end_line = (own.line, own.end_line) if own is not None else (resource.end_line, resource.end_line)
    provider = default.provider
    merged: dict[str, Node] = {}
    for key, node in default.tags.items():
        origin = Origin(f"default_tags.{key}", provider.path, node.line, provider.text_at(node.line) or "",
                        "default_tags of provider `aws`")
        merged[key] = Node(node.plain(), line, end_line, origin)
    if own is not None and isinstance(own.value, dict):
        merged.update(own.value)
    body = dict(resource.body.value) if isinstance(resource.body.value, dict) else {}
    body["tags"] = Node(merged, line, end_line, own.origin if own is not None else None)
    return replace(resource, body=Node(body, resource.body.line, resource.body.end_line, resource.body.origin),
                   references=resource.references | {"provider.aws"})


def _inputs(call: ModuleCall, resource: Resource | None) -> dict[str, Bound]:
    """The call's arguments as the instance's variables, each saying it came from this call."""
    if resource is None:
        return {}
    inputs = {}
    for name, node in resource.body.items():
        if name in CALL_ARGUMENTS_NOT_INPUTS:
            continue
        text = resource.text_at(node.line) or ""
        origin = Origin(f"var.{name}", call.site.path, node.line, text, f"module call `{call.name}`", node.origin)
        inputs[name] = Bound(node.plain(), origin)
    return inputs
