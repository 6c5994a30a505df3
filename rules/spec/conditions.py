"""Three-valued evaluation of conditions: a condition holds, fails, or is unknown (it needs a value
not known before apply). Each outcome carries its evidence: the reads (or a Python check's
violations) that made it so, which is where findings land.

- leaf: every value the path reads must pass (a path through a list of blocks reads each block);
  a list decided by one item is evidenced by that item;
- all: fails with every failing condition's evidence; any: holds when one holds, else fails with
  the evidence of its first condition that failed on a value that is there (else its first's);
  not: fails with one piece of the evidence that made it hold, a present value first;
- for_each: every item (that `where` picks) satisfies the check, each failing item its own evidence;
  some: one item (that `where` picks) does;
- sibling: a resource of the types beside this one (where `where` holds); referrer: one that
  refers to this one through an attribute;
- python: a function from the explicit table.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.engine.context import siblings_of_types
from bot.engine.model import Node, Resource, Unknown, Violation
from bot.engine.rule import CheckFn, RuleContext
from rules._workloads import named_containers, pod_template
from rules.spec import linear_regex, values
from rules.spec.formats import managed, roots
from rules.spec.model import (
    CONTAINERS,
    ROOT,
    TEMPLATE,
    All,
    AnyOf,
    Binding,
    Condition,
    ForEach,
    Leaf,
    Not,
    Ports,
    Python,
    Referrer,
    Segment,
    Sibling,
    Some,
)
from rules.spec.reading import Read, Reader, item_name
from rules.spec.references import literal, refers_to
from rules.spec.wording import describe


class State(enum.Enum):
    HOLDS = "holds"
    FAILS = "fails"
    UNKNOWN = "unknown"


Evidence = Read | Violation


@dataclass(frozen=True)
class Outcome:
    state: State
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Scope:
    """Where a condition is evaluated: the resource, its binding, and the node paths start from."""

    resource: Resource
    context: RuleContext
    binding: Binding
    functions: Mapping[str, CheckFn]
    reader: Reader
    top: Reader | None = None  # `$root.`: the resource's format root (None: `reader` is it)
    template: Reader | None = None  # `$template.`: a workloads binding's pod template

    def inside(self, item: Node, prefix: str) -> Scope:
        return replace(self, reader=Reader(item, item, prefix, self.reader.terraform),
                       top=self.top if self.top is not None else self.reader)

    def read(self, path: tuple[Segment, ...]) -> list[Read]:
        if path and path[0] == ROOT:
            return (self.top if self.top is not None else self.reader).read(path[1:])
        if path and path[0] == TEMPLATE and self.template is not None:  # the loader allows it in workloads only
            return self.template.read(path[1:])
        return self.reader.read(path)


def scope_for(resource: Resource, context: RuleContext, binding: Binding, functions: Mapping[str, CheckFn],
              root: Node) -> Scope:
    terraform = binding.format == "terraform"
    reader = Reader(root, None, "", terraform)
    if not binding.workloads:
        return Scope(resource, context, binding, functions, reader)
    found = pod_template(resource)  # there is one: the binding judges only manifests with a pod spec
    keys, node = found if found is not None else ((), resource.body)
    template = Reader(node, node, "".join(f"{key}." for key in keys), False, keys[-1]) if keys \
        else Reader(node, None, "", False)
    return Scope(resource, context, binding, functions, reader, Reader(resource.body, None, "", False), template)


def evaluate(condition: Condition, scope: Scope) -> Outcome:
    if isinstance(condition, Leaf):
        return _combine_every([_leaf(condition, read) for read in scope.read(condition.path)])
    if isinstance(condition, All):
        return _combine_every([evaluate(item, scope) for item in condition.items])
    if isinstance(condition, AnyOf):
        return _any([evaluate(item, scope) for item in condition.items])
    if isinstance(condition, Not):
        inner = evaluate(condition.item, scope)
        if inner.state is State.HOLDS:
            return Outcome(State.FAILS, _pointed(inner.evidence)[:1])
        if inner.state is State.FAILS:
            return Outcome(State.HOLDS, inner.evidence)
        return inner
    if isinstance(condition, ForEach):
        return _for_each(condition, scope)
    if isinstance(condition, Some):
        return _some(condition, scope)
    if isinstance(condition, Sibling):
        return _sibling(condition, scope)
    if isinstance(condition, Referrer):
        return _referrer(condition, scope)
    return _python(condition, scope)


def _combine_every(outcomes: list[Outcome]) -> Outcome:
    """Holds when every one holds; fails with every failure's evidence; else unknown."""
    for state in (State.FAILS, State.UNKNOWN):
        chosen = [o for o in outcomes if o.state is state]
        if chosen:
            return Outcome(state, tuple(e for o in chosen for e in o.evidence))
    return Outcome(State.HOLDS, tuple(e for o in outcomes for e in o.evidence))


def _any(outcomes: list[Outcome]) -> Outcome:
    held = [o for o in outcomes if o.state is State.HOLDS]
    if held:
        return Outcome(State.HOLDS, tuple(e for o in held for e in o.evidence))
    unknown = [o for o in outcomes if o.state is State.UNKNOWN]
    if unknown:
        return Outcome(State.UNKNOWN, tuple(e for o in unknown for e in o.evidence))
    failed = [o for o in outcomes if any(_present(e) for e in o.evidence)] or outcomes
    return Outcome(State.FAILS, failed[0].evidence if failed else ())


def _present(evidence: Evidence) -> bool:
    """A value that is there, not a missing one (nor a Python check's verdict, which may be
    about the resource as a whole)."""
    return isinstance(evidence, Read) and evidence.node is not None and evidence.note is None


def _pointed(evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """The values that are there first: a finding lands on what was written rather than on a
    block that lacks a spelling nobody used."""
    return tuple(sorted(evidence, key=lambda e: not _present(e)))


# --------------------------------------------------------------------------------------------
# Leaf tests
# --------------------------------------------------------------------------------------------


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def _state(flag: bool) -> State:
    return State.HOLDS if flag else State.FAILS


def _invert(state: State) -> State:
    return {State.HOLDS: State.FAILS, State.FAILS: State.HOLDS, State.UNKNOWN: State.UNKNOWN}[state]


def _leaf(leaf: Leaf, read: Read) -> Outcome:
    """One read tested. When a list decided `contains` or `cidr_open` because of one item, the
    evidence is that item, so a finding about it (through `not`, or `cidr_open: false`) lands on
    the item's own line."""
    state = _test(leaf, read)
    if state is not State.UNKNOWN and read.node is not None and leaf.split is None:
        item = _deciding_item(leaf, read.node)
        if item is not None:
            return Outcome(state, (replace(read, node=item),))
    return Outcome(state, (read,))


def _deciding_item(leaf: Leaf, node: Node) -> Node | None:
    """The one item of a list (or the one attribute of a port block) that decided the test."""
    if leaf.test == "covers_port" and leaf.operand.low is not None:
        ports: Ports = leaf.operand
        return _deciding_attribute(ports, node)
    if not isinstance(node.value, list):
        return None
    items: list[Node] = node.value
    for item in items:
        value = item.value
        if leaf.test == "contains" and not isinstance(value, (Unknown, list, dict)) and values.equal(
                value, leaf.operand, leaf.insensitive):
            return item
        if leaf.test == "cidr_open" and isinstance(value, str) and values.covers_internet([value]):
            return item
        if leaf.test == "covers_port" and _spec_covers(value, leaf.operand) is State.HOLDS:
            return item
    return None


def _deciding_attribute(ports: Ports, node: Node) -> Node | None:
    """In the block (of the blocks) that covers a port: its protocol when that covers every port,
    else the attribute where its range starts."""
    for block in node.children():
        plain = block.plain()
        if _block_covers(plain, ports) is not State.HOLDS:
            continue
        if ports.protocol is not None and _every_protocol(plain, ports):
            return block.get(*ports.protocol)
        assert ports.low is not None and ports.high is not None
        return block.get(*ports.low) or block.get(*ports.high)
    return None


def _test(leaf: Leaf, read: Read) -> State:
    if leaf.test == "exists":
        if read.unknown and read.missing > 0:
            return State.UNKNOWN  # a step on the way is not known: the value may or may not be there
        present = not read.absent
        return _state(present == leaf.operand)
    if read.unknown:
        return State.UNKNOWN
    if read.absent:
        if leaf.absent.mode == "pass":
            return State.HOLDS
        if leaf.absent.mode == "fail":
            return State.FAILS
        return test_value(leaf, leaf.absent.value)
    assert read.node is not None
    return test_value(leaf, _split(leaf, read.node.plain()))


def _split(leaf: Leaf, value: Any) -> Any:
    """With `split`, a string is its non-empty parts, trimmed (`"22, 80-90"` -> ["22", "80-90"])."""
    if leaf.split is None or not isinstance(value, str):
        return value
    return [part.strip() for part in value.split(leaf.split) if part.strip()]


def test_value(leaf: Leaf, value: Any) -> State:
    """One test on one present value (which may hold values not known before apply)."""
    test, operand, folded = leaf.test, leaf.operand, leaf.insensitive
    if test in ("not_equals", "not_in", "not_regex"):
        positive = replace(leaf, test=test[len("not_"):])
        return _invert(test_value(positive, value))
    if test == "cidr_open":
        return _cidr_open(value, bool(operand))
    if test == "contains":
        return _contains(value, operand, folded)
    if test == "covers_port":
        return _covers(value, operand)
    if test == "not_empty":
        if isinstance(value, Unknown):
            return State.UNKNOWN
        return _state((value not in ([], {}, "", None)) == operand)
    if _has_unknown(value):
        return State.UNKNOWN
    if test == "equals":
        return _state(values.equal(value, operand, folded))
    if test == "in":
        return _state(any(values.equal(value, option, folded) for option in operand))
    if test == "regex":
        text = values.text_of(value)
        if text is None:
            return State.FAILS
        if leaf.linear:
            return _state(linear_regex.fullmatch(operand, text, folded))
        return _state(re.fullmatch(operand, text, re.IGNORECASE if folded else 0) is not None)
    number = values.number_of(value)
    if number is None:
        return State.FAILS
    limit = operand
    return _state({"gt": number > limit, "gte": number >= limit, "lt": number < limit, "lte": number <= limit}[test])


def _contains(value: Any, operand: Any, folded: bool) -> State:
    if isinstance(value, list):
        if any(not _has_unknown(item) and values.equal(item, operand, folded) for item in value):
            return State.HOLDS
        return State.UNKNOWN if _has_unknown(value) else State.FAILS
    if isinstance(value, Unknown):
        return State.UNKNOWN
    text, needle = values.text_of(value), values.text_of(operand)
    if text is None or needle is None:
        return State.FAILS
    return _state(needle.casefold() in text.casefold() if folded else needle in text)


def _covers(value: Any, ports: Ports) -> State:
    """The port spec (or, with `from`/`to`, the block or blocks) covers one of the ports asked."""
    items = value if isinstance(value, list) else [value]
    unknown = False
    for item in items:
        state = _block_covers(item, ports) if ports.low is not None else _spec_covers(item, ports)
        if state is State.HOLDS:
            return State.HOLDS
        unknown = unknown or state is State.UNKNOWN
    return State.UNKNOWN if unknown else State.FAILS


def _spec_covers(item: Any, ports: Ports) -> State:
    if isinstance(item, Unknown):
        return State.UNKNOWN
    span = values.port_span(item)
    return _state(span is not None and values.overlaps(span, ports.spans))


def _block_covers(block: Any, ports: Ports) -> State:
    """A block whose range is two attributes (`from_port`..`to_port`), or whose protocol is every
    protocol (`-1`, `all`), covers the ports it spans."""
    if isinstance(block, Unknown):
        return State.UNKNOWN
    if not isinstance(block, dict):
        return State.FAILS
    if _every_protocol(block, ports):
        return State.HOLDS
    protocol = _plain_at(block, ports.protocol)
    low, high = _plain_at(block, ports.low), _plain_at(block, ports.high)
    if isinstance(low, Unknown) or isinstance(high, Unknown):
        return State.UNKNOWN
    first, last = values.number_of(low), values.number_of(high)
    first = first if first is not None else last
    last = last if last is not None else first
    if first is not None and last is not None and values.overlaps(
            (int(min(first, last)), int(max(first, last))), ports.spans):
        return State.HOLDS
    return State.UNKNOWN if isinstance(protocol, Unknown) else State.FAILS


def _every_protocol(block: dict[str, Any], ports: Ports) -> bool:
    protocol = _plain_at(block, ports.protocol)
    text = values.text_of(protocol) if not isinstance(protocol, Unknown) else None
    return text is not None and text.strip().lower() in values.EVERY_PROTOCOL


def _plain_at(block: dict[str, Any], path: tuple[Segment, ...] | None) -> Any:
    value: Any = block
    for step in path or ():
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value if path else None


def _cidr_open(value: Any, want_open: bool) -> State:
    """`cidr_open: true` holds when the CIDR(s) cover the whole internet; `false` when they do not."""
    items = value if isinstance(value, list) else [value]
    known = [item for item in items if isinstance(item, str)]
    if values.covers_internet(known):
        return _state(want_open)
    if any(isinstance(item, Unknown) for item in items):
        return State.UNKNOWN
    return _state(not want_open)


# --------------------------------------------------------------------------------------------
# for_each, sibling, python
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Items:
    """What a `for_each` / `some` path reads: the items (each with its key prefix), the lists
    they came from, and the reads that are unknown or absent."""

    items: list[tuple[str, Node]]
    lists: list[Read]
    others: list[Read]


def _items(condition: ForEach | Some, scope: Scope) -> _Items:
    if condition.path == (CONTAINERS,):
        named = [(f"{holder}[{item_name(c, i)}].", c)
                 for i, (holder, c) in enumerate(named_containers(scope.reader.root))]
        return _Items(named, [], [])
    items: list[tuple[str, Node]] = []
    lists: list[Read] = []
    others: list[Read] = []
    for read in scope.read(condition.path):
        if read.absent or read.unknown or read.node is None:
            others.append(read)
            continue
        lists.append(read)
        node = read.node
        children = node.children() if isinstance(node.value, (list, dict)) else [node]
        for index, child in enumerate(children):
            items.append((f"{read.key}[{item_name(child, index)}].", child))
    return _Items(items, lists, others)


@dataclass(frozen=True)
class _Judged:
    """One item: whether it counts (`where`), and what `check` made of it."""

    selected: State
    outcome: Outcome
    where: Outcome | None


def _judge_items(condition: ForEach | Some, scope: Scope, found: _Items) -> list[_Judged]:
    judged: list[_Judged] = []
    for prefix, item in found.items:
        if isinstance(item.value, Unknown):
            unknown = Outcome(State.UNKNOWN, (Read(prefix.rstrip("."), item, item, "", 0, unknown=True),))
            judged.append(_Judged(State.UNKNOWN, unknown, None))
            continue
        inside = scope.inside(item, prefix)
        where = evaluate(condition.where, inside) if condition.where is not None else None
        if where is not None and where.state is State.FAILS:
            continue
        judged.append(_Judged(where.state if where is not None else State.HOLDS,
                              evaluate(condition.check, inside), where))
    return judged


def _none_found(condition: ForEach | Some, scope: Scope, found: _Items) -> Read:
    """Evidence that no item counts: the list's absence, or, when it is there, that none of its
    items qualifies (landing on the block that holds the list)."""
    absent = [r for r in found.others if r.absent]
    if found.lists and condition.where is not None:
        listed = found.lists[0]
        return replace(listed, node=None, missing=1, absent=True, note=_no_item(listed.key, condition.where))
    if found.lists:
        listed = found.lists[0]
        return replace(listed, node=None, missing=1, absent=True, note=f"{listed.key} has no items")
    if absent:
        return absent[0]
    return Read(scope.reader.prefix + condition.text, None, scope.reader.anchor, str(condition.path[-1]), 1,
                absent=True)


def _no_item(key: str, condition: Condition) -> str:
    words = describe(condition)
    return f"no item of {key} with {words}" if words else f"no item of {key} qualifies"


def _for_each(condition: ForEach, scope: Scope) -> Outcome:
    found = _items(condition, scope)
    outcomes: list[Outcome] = []
    for judged in _judge_items(condition, scope, found):
        outcome = judged.outcome
        if judged.selected is State.UNKNOWN and outcome.state is State.FAILS:
            outcome = Outcome(State.UNKNOWN, outcome.evidence)  # it fails only if it counts
        outcomes.append(outcome)
    outcomes += [Outcome(State.UNKNOWN, (read,)) for read in found.others if read.unknown]
    if not outcomes:
        if not condition.absent_fail:
            return Outcome(State.HOLDS)
        return Outcome(State.FAILS, (_none_found(condition, scope, found),))
    return _combine_every(outcomes)


def _some(condition: Some, scope: Scope) -> Outcome:
    """Holds when an item that counts satisfies the check; unknown when one might; else fails,
    with the failures of the items that count (those a `where` picked), or on the list (no
    `where`), or, when no item counts, as `absent` says."""
    found = _items(condition, scope)
    judged = _judge_items(condition, scope, found)
    for item in judged:
        if item.selected is State.HOLDS and item.outcome.state is State.HOLDS:
            return Outcome(State.HOLDS, item.outcome.evidence)
    maybe: list[Evidence] = []
    for item in judged:
        if item.outcome.state is not State.FAILS:  # the check holds or may, the item may count
            evidence = item.outcome.evidence if item.outcome.state is State.UNKNOWN or item.where is None \
                else item.where.evidence
            maybe += evidence
    maybe += [read for read in found.others if read.unknown]
    if maybe:
        return Outcome(State.UNKNOWN, tuple(maybe))
    counted = [item for item in judged if item.selected is State.HOLDS]
    uncertain = [item for item in judged if item.selected is State.UNKNOWN]
    if counted and condition.where is not None:
        return Outcome(State.FAILS, tuple(e for item in counted for e in item.outcome.evidence))
    if counted:
        listed = found.lists[0] if found.lists else None
        key = listed.key if listed is not None else scope.reader.prefix + condition.text
        note = _no_item(key, condition.check)
        if listed is None:  # $containers: the scope's own anchor
            return Outcome(State.FAILS, (Read(key, None, scope.reader.anchor, "", 1, absent=True, note=note),))
        return Outcome(State.FAILS, (replace(listed, note=note),))
    if uncertain:  # an item whose `where` is not known fails the check: it fails if it counts
        if condition.absent_fail:
            return Outcome(State.FAILS, tuple(e for item in uncertain for e in item.outcome.evidence))
        return Outcome(State.UNKNOWN, tuple(e for item in uncertain for e in item.outcome.evidence))
    if not condition.absent_fail:
        return Outcome(State.HOLDS)
    return Outcome(State.FAILS, (_none_found(condition, scope, found),))


def _place(resource: Resource) -> str:
    return "module" if resource.source == "terraform" else "file"


def _others(scope: Scope, types: tuple[str, ...]) -> list[Resource]:
    """The resources of `types` beside this one (same format, module or file; Terraform: managed)."""
    resource = scope.resource
    return [
        other for other in siblings_of_types(scope.context, resource, types)
        if other is not resource and other.source == resource.source
        and (other.source != "terraform" or managed(other))
    ]


def _scopes_of(scope: Scope, other: Resource) -> Iterator[Scope]:
    """Scopes at another resource's format root (Terraform body, `Properties`, manifest root)."""
    binding = replace(scope.binding, types=(other.type,))
    for root in roots(binding, other):
        yield Scope(other, scope.context, binding, scope.functions, Reader(root, None, "", other.source == "terraform"))


def _where(condition: Condition | None, scope: Scope, other: Resource) -> State:
    """Whether `condition` holds on `other` (on one of its roots); no condition: it holds."""
    if condition is None:
        return State.HOLDS
    states = {evaluate(condition, inner).state for inner in _scopes_of(scope, other)}
    return State.HOLDS if State.HOLDS in states else State.UNKNOWN if State.UNKNOWN in states else State.FAILS


def _sibling(condition: Sibling, scope: Scope) -> Outcome:
    place = _place(scope.resource)
    key = "sibling:" + "|".join(condition.types)
    unknown: list[Evidence] = []
    for other in _others(scope, condition.types):
        state = _where(condition.where, scope, other)
        if state is State.HOLDS:
            return Outcome(State.HOLDS, (_note(scope, key, f"{other.address} is in the same {place}"),))
        if state is State.UNKNOWN:
            unknown.append(_note(scope, key, f"whether {other.address} counts is not known before apply", unknown=True))
    if unknown:
        return Outcome(State.UNKNOWN, tuple(unknown[:1]))
    wanted = " or ".join(condition.types)
    return Outcome(State.FAILS, (_note(scope, key, f"no {wanted} in the {place}"),))


def _referrer(condition: Referrer, scope: Scope) -> Outcome:
    """Holds when a resource of the types refers to this one through one of `via` (and `where`
    holds on it); unknown when one may (a reference through a variable, an unknown `where`)."""
    resource = scope.resource
    names = frozenset(_names(condition, scope))
    key = "referrer:" + "|".join(condition.types)
    through = " or ".join(f"`{text}`" for text in condition.via_text)
    unknown: list[Evidence] = []
    for other in _others(scope, condition.types):
        refers = _refers(condition, scope, other, names)
        if refers is False:
            continue
        state = _where(condition.where, scope, other)
        if state is State.HOLDS and refers is True:
            return Outcome(State.HOLDS, (_note(scope, key, f"{other.address} refers to it through {through}"),))
        if state is not State.FAILS:
            what = f"refers to it through {through}" if refers is None else "counts"
            unknown.append(_note(scope, key, f"whether {other.address} {what} is not known before apply", unknown=True))
    if unknown:
        return Outcome(State.UNKNOWN, tuple(unknown[:1]))
    wanted = " or ".join(condition.types)
    return Outcome(State.FAILS, (_note(scope, key, f"no {wanted} in the {_place(resource)} refers to it through "
                                                   f"{through}"),))


def _names(condition: Referrer, scope: Scope) -> Iterator[str]:
    """This resource's literal values at `names` (a bucket's `bucket`): a referrer may write them."""
    for inner in _scopes_of(scope, scope.resource):
        for path in condition.names:
            for read in inner.reader.read(path):
                text = literal(read.node)
                if text is not None:
                    yield text


def _refers(condition: Referrer, scope: Scope, other: Resource, names: frozenset[str]) -> bool | None:
    verdict: bool | None = False
    for inner in _scopes_of(scope, other):
        for path in condition.via:
            for read in inner.reader.read(path):
                hit = refers_to(read.node, scope.resource, names)
                if hit:
                    return True
                if hit is None:
                    verdict = None
    return verdict


def _note(scope: Scope, key: str, note: str, unknown: bool = False) -> Read:
    return Read(scope.reader.prefix + key, None, scope.reader.anchor, "", 0, absent=not unknown, unknown=unknown,
                note=note)


def _python(condition: Python, scope: Scope) -> Outcome:
    check = scope.functions[condition.name]
    found: Iterable[Violation] = check(scope.resource, scope.context)
    violations = _unseen_undecided(list(found), scope.resource)
    decided = [v for v in violations if not v.undecided]
    if decided:
        return Outcome(State.FAILS, tuple(decided))
    if violations:
        return Outcome(State.UNKNOWN, tuple(violations))
    return Outcome(State.HOLDS)


def _unseen_undecided(violations: list[Violation], resource: Resource) -> list[Violation]:
    """In templated YAML whose template output may add keys nobody sees (`Node.hidden`), a Python
    check's verdict that does not land on a value written literally may be about a key that
    output sets (`LoggingConfiguration is not set`): it is undecided, as the interpreter's own
    reads of such a key are. A verdict on a written value (`PubliclyAccessible: true`) stands.
    CloudFormation only: the Kubernetes checks ask `Node.unseen` themselves."""
    if resource.source != "cloudformation" or not violations or all(v.undecided for v in violations):
        return violations
    hidden, written = _template_shape(resource.body)
    if not hidden:
        return violations
    return [v if v.undecided or v.line in written else replace(v, undecided=True) for v in violations]


def _template_shape(body: Node) -> tuple[bool, set[int]]:
    """Whether a mapping of `body` is open to template output, and the lines of its literal values."""
    hidden = False
    written: set[int] = set()
    stack = [body]
    while stack:
        node = stack.pop()
        hidden = hidden or node.hidden is not None
        if isinstance(node.value, dict):
            stack.extend(node.value.values())
        elif isinstance(node.value, list):
            stack.extend(node.value)
        elif not isinstance(node.value, Unknown):
            written.update(range(node.line, node.end_line + 1))
    return hidden, written
