"""The neutral records that cross every module boundary.

Parsers produce `Resource`s, rules produce `Violation`s, the engine turns them into `Finding`s,
and every reporter (CLI text, JSON, SARIF, GitHub review, check run) consumes `Finding`s and
`FileError`s. Nobody else invents a record of their own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.engine.severity import Severity as Severity  # noqa: PLC0414 - re-exported: every record names it


@dataclass(frozen=True)
class Unknown:
    """A value the parser could not resolve statically (e.g. `var.x` without a default).

    Rules must treat it as "cannot tell" and never report on it alone.
    """

    expression: str

    def __str__(self) -> str:
        return self.expression


Scalar = str | int | float | bool | None | Unknown


@dataclass(frozen=True)
class Origin:
    """Where a value came from when it is not written literally where it is used: what was
    written there (`expression`, e.g. "var.encrypted") and where the value itself is written.

    - `path`, `line`, `text`: the file, line and source text holding the value
      (`encrypted = false`).
    - `context`: what that place is, in words: "module call `ledger`", "terraform.tfvars",
      "the default of variable `encrypted`".
    - `via`: the next step back, when the value there is itself a reference (a module call
      argument that reads a variable set in terraform.tfvars).
    """

    expression: str
    path: str
    line: int
    text: str
    context: str
    via: Origin | None = None

    def describe(self, quote: bool = True) -> str:
        """`var.encrypted` ← `encrypted = var.enc` in module call `ledger`, main.tf:4 ← `enc = false`
        in terraform.tfvars, terraform.tfvars:1: the written expression, then each step back.
        Without `quote`, each step is named but its line not quoted (the line holds a secret)."""
        hops = [f"{f'`{o.text.strip()}` in ' if quote else ''}{o.context}, {o.path}:{o.line}" for o in self.chain()]
        return " ← ".join([f"`{self.expression}`", *hops])

    def chain(self) -> tuple[Origin, ...]:
        """This step and every step behind it, nearest first."""
        steps: list[Origin] = []
        current: Origin | None = self
        while current is not None:
            steps.append(current)
            current = current.via
        return tuple(steps)


@dataclass(frozen=True)
class Node:
    """A parsed value with the lines it spans in its file (1-based, inclusive).

    `value` is a scalar, a `dict[str, Node]` (mapping / HCL block) or a `list[Node]`
    (sequence / repeated HCL blocks). Keeping a line on every value lets a finding land on
    the exact offending line.

    `hidden`: set on a mapping of templated YAML where the template emits YAML nobody can read
    (`{{ include "x" . | nindent 4 }}`, `{{ toYaml .Values.x }}`): the expression that emits it.
    Such a mapping may hold keys it does not show, so a missing key there is not known to be
    absent (`unseen`); what it does show is as written.
    """

    value: Any
    line: int
    end_line: int
    origin: Origin | None = None  # set when the value came through a variable, a module input...
    hidden: Unknown | None = None  # a mapping a template adds keys to that nobody sees (`unseen`)

    def get(self, *keys: str | int) -> Node | None:
        """Walk mappings by key and lists by index; None where any step is missing."""
        node: Node | None = self
        for key in keys:
            if node is None:
                return None
            if isinstance(key, int):
                if not isinstance(node.value, list) or not -len(node.value) <= key < len(node.value):
                    return None
                node = node.value[key]
            else:
                if not isinstance(node.value, dict):
                    return None
                node = node.value.get(key)
        return node

    def items(self) -> Iterator[tuple[str, Node]]:
        """Mapping entries; nothing for a scalar or list."""
        if isinstance(self.value, dict):
            yield from self.value.items()

    def children(self) -> list[Node]:
        """A list's items, a lone block as a one-item list (HCL blocks may repeat)."""
        if isinstance(self.value, list):
            return list(self.value)
        if isinstance(self.value, dict):
            return [self]
        return []

    def plain(self) -> Any:
        """The value with line information stripped (for messages and tests)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value

    @property
    def is_unknown(self) -> bool:
        return isinstance(self.value, Unknown)

    def unseen(self, *keys: str) -> bool:
        """True when the value at `keys` is not known: a step on the way is `Unknown`, or is missing
        from a mapping a template adds hidden keys to. A value that is written, or missing from a
        mapping known whole, is seen (False)."""
        node: Node = self
        for key in keys:
            if isinstance(node.value, Unknown):
                return True
            if not isinstance(node.value, dict):
                return False
            child = node.value.get(key)
            if child is None:
                return node.hidden is not None
            node = child
        return isinstance(node.value, Unknown)


@dataclass(frozen=True)
class CallSite:
    """A Terraform `module` block that instantiated a resource: where it is written, its name."""

    path: str
    name: str
    line: int
    end_line: int
    key: str | None = None  # which instance of a call with a known `count` / `for_each` (its index, or its key as JSON)

    def __str__(self) -> str:
        instance = f"[{self.key}]" if self.key is not None else ""
        return f"module call `{self.name}{instance}` ({self.path}:{self.line})"


@dataclass(frozen=True)
class Resource:
    """One reviewable unit of configuration with its place in a file.

    - `source`: the file format: "terraform", "kubernetes", "cloudformation",
      "github_actions", "dockerfile" or "text".
    - `kind`: what sort of unit within that source: for Terraform the block kind
      ("resource", "data", "module", "variable", "locals", "provider", "output");
      for Kubernetes "manifest"; for CloudFormation "resource"; for a workflow "workflow";
      for a Dockerfile "dockerfile"; for text "file".
    - `type`: e.g. "aws_ebs_volume", "Deployment", "AWS::S3::Bucket", "workflow", "dockerfile".
    - `address`: unique within the file's module or file, e.g. "aws_ebs_volume.data",
      "Deployment/api", "Resources.AuditLogs".
    - `body`: a mapping `Node` holding the attributes, each with its own lines.
    - `references`: addresses this resource refers to (Terraform: "aws_kms_key.k",
      "var.x", "module.m"; CloudFormation: logical ids), used to re-check related resources.
    """

    source: str
    kind: str
    type: str
    address: str
    path: str
    line: int
    end_line: int
    body: Node
    references: frozenset[str] = frozenset()
    lines: tuple[str, ...] = ()  # the resource's own source lines, line..end_line
    calls: tuple[CallSite, ...] = ()  # the module calls that instantiated it, outermost first
    variant: int = 0  # which rendering of templated YAML whose branches write a key twice (0: the first)
    # Which instance of a Terraform resource with a known `count` or `for_each` (its index, or its
    # key as JSON): each is judged with its own values and keeps the block's address. None: one.
    instance_key: str | None = None

    @property
    def exists(self) -> bool:
        """False when Terraform would make none of it: `count` known to be 0 (or false), or
        `for_each` known to be empty. Unknown counts exist (the rules cannot tell, so they look)."""
        count = self.body.get("count")
        if count is not None and not isinstance(count.value, Unknown) and count.value in (0, False):
            return False
        each = self.body.get("for_each")
        return not (each is not None and isinstance(each.value, (list, dict)) and not each.value)

    @property
    def module(self) -> str:
        """The instance's module address (`module.app.module.db`); '' for a root module's own."""
        return ".".join(f"module.{call.name}" for call in self.calls)

    @property
    def full_address(self) -> str:
        """The address Terraform would show: `module.app.aws_ebs_volume.data`."""
        return f"{self.module}.{self.address}" if self.calls else self.address

    @property
    def instance(self) -> str:
        """Names the module instance by its calls, where each is written: two callers may both call
        their module `db` (`module.db`), yet they make two instances."""
        return "|".join(f"{call.path}:{call.line}:{call.name}" + (f"[{call.key}]" if call.key is not None else "")
                        for call in self.calls)

    @property
    def key(self) -> tuple[str, str, str]:
        """Tells resources apart across files, module instances (one file, many instances),
        renderings of one templated manifest and instances of one `count`/`for_each` resource
        (their findings still merge: one address)."""
        instance = f"{self.instance}~{self.variant}" if self.variant else self.instance
        if self.instance_key is not None:
            instance = f"{instance}[{self.instance_key}]"
        return (self.path, instance, self.address)

    def text_at(self, line: int) -> str | None:
        """The source text of one line of this resource, for building suggestions."""
        index = line - self.line
        if 0 <= index < len(self.lines):
            return self.lines[index]
        return None


@dataclass(frozen=True)
class FileError:
    """A file the engine could not read or parse: reported, never silently passed."""

    path: str
    line: int | None
    message: str


@dataclass(frozen=True)
class NotReviewed:
    """Something a change touched that the engine cannot judge (a Helm template, a Bicep file, a
    remote module): listed wherever the verdict is shown, so a green check never hides it.

    `what` is a short kind ("helm template", "remote module", ...) a policy can name; `reason`
    says in words why it was not reviewed."""

    path: str
    line: int | None
    what: str
    reason: str


@dataclass(frozen=True)
class ParsedFile:
    """What a parser makes of one file."""

    path: str
    resources: tuple[Resource, ...] = ()
    errors: tuple[FileError, ...] = ()
    templated: bool = False  # read through the template renderer: reviewed as written, template values unknown


SECRET_SLOT = "{secret}"
"""Where a violation's message shows the secret it found; the engine writes the masked form there."""


@dataclass(frozen=True)
class MaskedSecret:
    """A secret a rule found, as a report may show it: `****`, or its first characters and `****`
    where the policy allows a short prefix (`secrets: {show_prefix: true}`). Rules build it
    (never seeing the policy), the engine renders it into the message at `SECRET_SLOT`, so every
    reporter, comment, annotation and log shows one form. `prefix` holds at most 4 characters and
    at most a quarter of the secret; the value itself never travels."""

    prefix: str = ""

    def shown(self, with_prefix: bool) -> str:
        return f"{self.prefix if with_prefix else ''}****"


@dataclass(frozen=True)
class Violation:
    """What a rule reports: where and why, and optionally a mechanical fix.

    `suggestion` replaces lines `line`..`end_line` of the file as a whole (it is the text of
    a GitHub ```suggestion block), so it must reproduce any of those lines it keeps.
    `undecided`: the rule could not tell, because the value it needs is not known before apply;
    the engine drops it unless the policy fails unknown values at this rule's severity.
    `secret`: the secret found, masked; the message holds `SECRET_SLOT` where it is shown, and the
    finding's provenance then names where the value came from without quoting the line.
    """

    message: str
    line: int
    end_line: int | None = None
    suggestion: str | None = None
    key: str | None = None  # tells apart two violations of one rule in one resource (e.g. a secret's hash)
    undecided: bool = False
    secret: MaskedSecret | None = None


@dataclass(frozen=True)
class Finding:
    """A violation of one rule by one resource, ready for any reporter."""

    rule_id: str
    title: str
    severity: Severity
    path: str
    line: int
    end_line: int
    resource: str | None
    message: str
    remediation: str
    rationale: str = ""
    controls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    suggestion: str | None = None
    suppressed: bool = False
    suppression_reason: str | None = None
    key: str | None = None
    resource_span: tuple[int, int] | None = None  # the resource's lines, for placing a comment near it
    provenance: str | None = None  # where the offending value came from, when not written on its line
    regression: bool = False  # weakened against the base rather than below a minimum (`Rule.regression`)
    # How the policy treats it: "block" (per fail_on), "comment" (inline, never blocks) or "monitor"
    # (annotation only); `mode_reason` says why when it is not the rule's own mode (data classification).
    mode: str = "block"
    mode_reason: str | None = None

    @property
    def fingerprint(self) -> str:
        """Identity across pushes: rule, path, resource and key; never the line, which moves."""
        raw = "\x00".join((self.rule_id, self.path, self.resource or "", self.key or ""))
        return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:16]  # a name git keeps as bytes


ENGINE_BUG = "the engine failed on this file, a bug in Compliance Bot (please report it); the file is not reviewed"


def failure_reason(exc: BaseException) -> str:
    """What a parser's unexpected exception says, in words a person reads: its message without
    Python's type name (a 5,000-digit number is "a number longer than Python reads"), or, with no
    message, that it is a bug of ours."""
    text = str(exc)
    if "integer string conversion" in text:
        return "a number with more than 4,300 digits"
    if not text or len(text) > 300 or "Traceback" in text or "/" in text.split(" ", 1)[0]:
        return ENGINE_BUG
    return text
