"""A validated spec becomes one `Rule` whose check dispatches on the resource's format and type.

Per binding: `skip_if` first (holds: the resource is not judged; unknown: whatever the check finds
is undecided, since the resource may be exempt), then `check`. A failing check yields one
violation per piece of evidence, landing on the value that failed, or on the first line of the
block that should hold an absent one; an unknown check yields undecided violations, which only a
policy's `unknown: fail` turns into findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace

from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import CheckFn, Rule, RuleContext
from rules.spec import values
from rules.spec.conditions import Outcome, State, evaluate, scope_for
from rules.spec.fixes import edit_for
from rules.spec.formats import SOURCES, binds, resource_type, roots
from rules.spec.functions import FUNCTIONS
from rules.spec.model import WORKLOADS, Binding, Spec
from rules.spec.reading import Read, landing


def compile_spec(spec: Spec, functions: Mapping[str, CheckFn] = FUNCTIONS) -> Rule:
    """The `Rule` a spec describes: sources and types are the union of its bindings'."""
    sources, types = judged(spec.bindings)
    return compile_parts(spec, lambda: spec.bindings, sources, types, functions)


def judged(bindings: Sequence[Binding]) -> tuple[frozenset[str], frozenset[str]]:
    """The sources and types a rule of these bindings judges: what the rule set indexes it by
    (no types: every type of its sources)."""
    any_kind = any(b.workloads for b in bindings)
    types = frozenset() if any_kind else frozenset(resource_type(t) for b in bindings for t in b.types if t != WORKLOADS)
    return frozenset(SOURCES[b.format] for b in bindings), types


def compile_parts(spec: Spec, bindings: Callable[[], Sequence[Binding]], sources: frozenset[str],
                  types: frozenset[str], functions: Mapping[str, CheckFn] = FUNCTIONS) -> Rule:
    """The `Rule` of `spec`'s metadata whose bindings come from `bindings()` when it first judges
    a resource (the catalog cache decodes them only then: most rules never meet a change's
    resources); `sources` and `types` are `judged(bindings())`."""

    def check(resource: Resource, context: RuleContext) -> Iterable[Violation]:
        for binding in bindings():
            if binds(binding, resource):
                return list(_judge(spec, binding, resource, context, functions))
        return []

    check.__doc__ = f"{spec.id}: {spec.title} (from {spec.path or 'a spec'})"
    return Rule(
        id=spec.id,
        title=spec.title,
        severity=spec.severity,
        sources=sources,
        types=types,
        rationale=spec.rationale,
        remediation=spec.remediation,
        check=check,
        controls=dict(spec.controls),
        peers=dict(spec.peers),
        aliases=spec.aliases,
        regression=spec.regression,
    )


def _judge(spec: Spec, binding: Binding, resource: Resource, context: RuleContext,
           functions: Mapping[str, CheckFn]) -> Iterator[Violation]:
    seen: set[tuple[int, str | None]] = set()
    for root in roots(binding, resource):
        scope = scope_for(resource, context, binding, functions, root)
        exempt_unknown = False
        if binding.skip_if is not None:
            skip = evaluate(binding.skip_if, scope)
            if skip.state is State.HOLDS:
                continue
            exempt_unknown = skip.state is State.UNKNOWN
        outcome = evaluate(binding.check, scope)
        for violation in _violations(spec, binding, resource, root, outcome, exempt_unknown):
            identity = (violation.line, violation.key)
            if identity not in seen:
                seen.add(identity)
                yield violation


def _base_message(spec: Spec, binding: Binding) -> str:
    return (binding.message or spec.title).strip().rstrip(".")


def _violations(spec: Spec, binding: Binding, resource: Resource, root: Node, outcome: Outcome,
                exempt_unknown: bool) -> Iterator[Violation]:
    if outcome.state is State.HOLDS:
        return
    base = _base_message(spec, binding)
    undecided = outcome.state is State.UNKNOWN or exempt_unknown
    if not outcome.evidence:
        yield Violation(message=f"{base}.", line=resource.line, undecided=undecided)
        return
    for evidence in outcome.evidence:
        if isinstance(evidence, Violation):
            yield replace(evidence, undecided=True) if undecided and not evidence.undecided else evidence
        elif outcome.state is State.UNKNOWN:
            yield _unknown(base, evidence, resource)
        else:
            yield _failure(base, binding, evidence, resource, root, exempt_unknown)


def _detail(read: Read) -> str:
    if read.note is not None:
        return read.note
    if read.node is None:
        return f"{read.key} is not set"
    return f"{read.key} = {values.render(read.node.plain())}"


def _failure(base: str, binding: Binding, read: Read, resource: Resource, root: Node,
             exempt_unknown: bool) -> Violation:
    line = landing(read, resource)
    end_line = read.node.end_line if read.node is not None else line
    suggestion = None
    if binding.fix is not None and not exempt_unknown:
        edit = edit_for(binding.fix, read, resource, root, binding.format == "terraform")
        if edit is not None:
            suggestion, end_line = edit.text, edit.end_line or end_line
    message = f"{base} ({_detail(read)})."
    if exempt_unknown:
        message = f"Cannot tell whether the resource is exempt (a value is not known before apply); if not: {message}"
    return Violation(message=message, line=line, end_line=end_line, suggestion=suggestion, key=read.key,
                     undecided=exempt_unknown)


def _unknown(base: str, read: Read, resource: Resource) -> Violation:
    """The value the control needs is not known before apply: reported only where a policy asks."""
    line = landing(read, resource)
    end_line = read.node.end_line if read.node is not None else line
    if read.note is not None:
        what = read.note
    elif read.node is not None and read.missing == 0:
        what = f"`{read.key} = {read.node.plain()}` is not known before apply"
    elif read.node is not None and isinstance(read.node.value, Unknown):
        what = f"`{read.key}` is not known before apply (it is read through `{read.node.value}`)"
    elif read.node is not None and read.node.hidden is not None:
        what = f"`{read.key}` is not written, but template output (`{read.node.hidden}`) may set it"
    else:
        what = f"`{read.key}` is not known before apply (a `dynamic` block generates it)"
    return Violation(message=f"Cannot tell: {what}; if it is not what the control asks: {base}.", line=line,
                     end_line=end_line, key=read.key, undecided=True)
