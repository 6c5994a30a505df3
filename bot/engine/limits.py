"""Every bound on what one review (and one webhook delivery) may cost, in one place.

A pull request is attacker-controlled and the webhook URL is public, so each input the bot reads
has a ceiling. Each ceiling sits far above what real repositories and real GitHub deliveries
need; an input past one is never silently dropped: the file is an error naming it (the review
fails closed and every other file is still reviewed), a delivery gets an HTTP status saying
which bound it broke. The modules that enforce a bound import it from here, so this table is
the whole truth; `tests/engine/limits_test.py` proves each one is enforced where it claims.

Line length has no bound of its own, by design: a minified CloudFormation template or a
minified JSON config is one line as long as the file, and every line-level scanner (the secrets
rules, the Dockerfile word splitter, the YAML and HCL readers) is linear in the line, which
`tests/fuzz/linearity_test.py` measures. A line is therefore bounded by `FILE_BYTES` (parsed) or
`SCAN_BYTES` (scanned for secrets).
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024

# -- one file --------------------------------------------------------------------------------------
FILE_BYTES = 5 * MIB
"""An infrastructure file parsed (Terraform, YAML, JSON, Dockerfile) and diffed line by line; a
larger one is an error (CRD bundles, the largest real manifests, fit). Other files are scanned."""
SCAN_BYTES = 16 * MIB
"""The most of any one file read at all; larger is not even scanned for secrets: an error."""
HCL_FILE_BYTES = 2 * MIB
"""A Terraform file in HCL syntax (`.tf`, `.tfvars`): python-hcl2 holds 100 to 190 bytes per byte
of input at its peak (a 4 MB `.tf` peaked at 742 MB), so 2 MiB keeps one parse near 400 MB. The
tree-sitter reader is no lighter at the extremes (2 MiB peaked at 390 MB for one long expression,
650 MB for 2 MiB of brackets, 900 MB for nested templates, all measured with maxrss), and hcl2
still reads what tree-sitter-hcl refuses, so the bound stays. The largest real modules are a few
hundred KB; `.tf.json` (generated, often larger) has its own reader and the general limit."""
FILE_LINES = 1_000_000
"""Lines of one file read (parsed or scanned). A 16 MiB text has about 400,000 lines of 40
characters; a million lines of a few characters each is a file built to cost time per line."""
FILE_SECONDS = 30.0
"""CPU seconds one file may take, parsing and judging it (its rules, its secret scan): past it the
work stops and the file is an error, so one crafted file cannot hold a review (and the check run)
until the job times out. Measured in the review thread's CPU time, so a busy machine does not
make a slow file of an ordinary one."""

# -- one review ------------------------------------------------------------------------------------
REVIEW_BYTES = 256 * MIB
"""Text one review reads, changed files and context together. Reads are batched so that a batch
never exceeds what is left (`read_within_budget`); files past the budget are not read: a changed
infrastructure file among them is an error, context (callers of a module) is a note."""
TERRAFORM_FILES = 3000
"""Terraform files read to find a changed module's callers; past it only the changed modules."""

# -- inside a parser -------------------------------------------------------------------------------
YAML_NODES = 3_000_000
"""Values written in one YAML/JSON file; a 5 MiB file cannot hold many more: a backstop."""
YAML_ALIAS_EXPANSION = 250_000
"""Values YAML aliases add by repeating an anchor: billion laughs stops here, long before memory."""
YAML_DEPTH = 200
"""Nesting of YAML mappings and sequences (CloudFormation JSON included)."""
HCL_DEPTH = 64
"""Nesting of HCL brackets, blocks and template interpolations (and of `.tf.json` values),
refused before python-hcl2's recursive parser could exhaust the stack."""
EXPRESSION_CHARS = 100_000
"""One Terraform expression evaluated statically; longer ones are left unknown."""
EXPRESSION_DEPTH = 64
"""Nested brackets, calls, operators and values inside one expression evaluation."""
EXPRESSION_STEPS = 300_000
"""Units of work (tokens, nodes, items, 64 characters) for one expression evaluation."""
MODULE_STEPS = 1_000_000
"""Evaluation work (and resolved values' sizes) for one whole Terraform module."""
RESOURCE_INSTANCES = 64
"""Instances of one resource (or data source) made from a known `count` or `for_each`, each judged
with its own `count.index` or `each.key`/`each.value`; past it the resource is judged once, with
those values unknown."""
RESOURCE_INSTANCES_TOTAL = 10_000
"""Instances beyond the first that `count` / `for_each` may add to one evaluation's resources;
past it a block is judged once, its instance values unknown."""
CALL_INSTANCES = 1_000
"""Module instances made from module calls' known `count` / `for_each` in one evaluation (nested
calls multiply them); past it a call makes only its first, and is listed as not reviewed."""
MODULE_DEPTH = 16
"""Nested local module calls followed; deeper (or circular) ones are listed as not reviewed."""
RESOLVE_DEPTH = 8
"""`local -> local -> ...` chains followed before a value is left unknown."""

# -- the policy ------------------------------------------------------------------------------------
POLICY_BYTES = 256 * 1024
POLICY_DEPTH = 32
"""A policy is a few levels deep; more is an attack or a mistake (checked on YAML's event stream,
before any recursive composer runs)."""
POLICY_NODES = 100_000
"""Values of a policy after alias expansion; a real policy has a few hundred."""

# -- one webhook delivery --------------------------------------------------------------------------
WEBHOOK_BODY_BYTES = 25 * MIB
"""GitHub caps payloads at 25 MB and drops larger deliveries."""
WEBHOOK_JSON_DEPTH = 400
"""GitHub's payloads nest about 10 levels; 100,000 levels would exhaust the JSON parser's stack."""
WEBHOOK_BODY_SECONDS = 10.0
"""GitHub sends a delivery in one go; a body trickling in only holds a connection."""
WEBHOOK_HEADERS = 100
"""GitHub sends about 20."""
WEBHOOK_HEADER_BYTES = 8 * 1024
"""Of one header line."""
WEBHOOK_HEADERS_TOTAL_BYTES = 32 * 1024
"""Of all header lines together."""


@dataclass(frozen=True)
class Bound:
    """One bound as a person reads it: what is limited, its value, and what happens past it."""

    name: str
    value: str
    past_it: str


def described() -> tuple[Bound, ...]:
    """The bounds for documentation (README, SECURITY.md) and the CLI, from the constants above."""
    mib = _mib
    return (
        Bound("infrastructure file", mib(FILE_BYTES), "error naming the file; still scanned for secrets"),
        Bound("Terraform file in HCL syntax", mib(HCL_FILE_BYTES), "error naming the file; still scanned for secrets"),
        Bound("any file read", mib(SCAN_BYTES), "error naming the file (not even scanned)"),
        Bound("lines of one file", f"{FILE_LINES:,}", "error naming the file"),
        Bound("work on one file", f"{FILE_SECONDS:g} s of CPU", "error naming the file; the rest is reviewed"),
        Bound("text read by one review", mib(REVIEW_BYTES), "changed files past it are errors; context is a note"),
        Bound("Terraform files read for module callers", f"{TERRAFORM_FILES:,}", "only changed modules read (a note)"),
        Bound("YAML values", f"{YAML_NODES:,}", "error naming the file"),
        Bound("YAML values added by aliases", f"{YAML_ALIAS_EXPANSION:,}", "error naming the file (alias bomb)"),
        Bound("YAML nesting", f"{YAML_DEPTH} levels", "error naming the file and line"),
        Bound("HCL and .tf.json nesting", f"{HCL_DEPTH} levels", "error naming the file and line"),
        Bound("Terraform expression", f"{EXPRESSION_CHARS:,} characters, {EXPRESSION_DEPTH} levels, "
              f"{EXPRESSION_STEPS:,} steps", "the value is unknown (policy `unknown.fail`)"),
        Bound("Terraform module evaluation", f"{MODULE_STEPS:,} steps", "values are unknown"),
        Bound("instances of one resource (`count`, `for_each`)", f"{RESOURCE_INSTANCES}, {RESOURCE_INSTANCES_TOTAL:,} "
              "added in one evaluation", "judged once, its `count.index` / `each` values unknown"),
        Bound("module instances made by calls' `count` / `for_each`", f"{CALL_INSTANCES:,}",
              "a call makes its first only, and is listed as not reviewed"),
        Bound("nested module calls", f"{MODULE_DEPTH} levels", "listed as not reviewed"),
        Bound("policy file", f"{POLICY_BYTES // 1024} KiB, {POLICY_DEPTH} levels, {POLICY_NODES:,} values",
              "policy error naming the line: the check fails"),
        Bound("webhook body", mib(WEBHOOK_BODY_BYTES), "HTTP 413"),
        Bound("webhook JSON nesting", f"{WEBHOOK_JSON_DEPTH} levels", "HTTP 400"),
        Bound("webhook body read", f"{WEBHOOK_BODY_SECONDS:g} s", "HTTP 408"),
        Bound("webhook headers", f"{WEBHOOK_HEADERS}, {WEBHOOK_HEADER_BYTES // 1024} KiB each, "
              f"{WEBHOOK_HEADERS_TOTAL_BYTES // 1024} KiB in all", "HTTP 431"),
    )


def _mib(size: int) -> str:
    return f"{size // MIB} MiB"
