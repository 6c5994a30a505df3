"""GitHub Actions: a workflow file becomes one resource, addressed "workflow".

A workflow is classified by its path (`.github/workflows/*.yml|*.yaml`), not its content, and
each of its documents that has `jobs` becomes a resource whose body is the whole document, so
triggers (`on`) and every job are visible to a rule in one place. The loader keeps mapping keys
as written, so the YAML 1.1 boolean key `on` stays "on".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.engine.model import Node, Resource

__all__ = ["is_workflow_path", "workflow_resources"]

_WORKFLOW_PATH = re.compile(r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$")


def is_workflow_path(path: str) -> bool:
    """Whether a file is a GitHub Actions workflow: directly in `.github/workflows/`."""
    return _WORKFLOW_PATH.search(path.replace("\\", "/")) is not None


def workflow_resources(path: str, document: Node, lines: list[str]) -> Iterator[Resource]:
    """The workflow in one document, if it has `jobs`: body = the whole document."""
    if not isinstance(document.value, dict) or "jobs" not in document.value:
        return
    yield Resource(
        source="github_actions", kind="workflow", type="workflow", address="workflow", path=path,
        line=document.line, end_line=document.end_line, body=document,
        lines=tuple(lines[document.line - 1 : document.end_line]),
    )
