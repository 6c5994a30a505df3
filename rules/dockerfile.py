"""Dockerfiles: the image's runtime user and secrets baked into image layers."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator, Sequence

from bot.engine.model import Node, Resource, Severity, Violation
from bot.engine.rule import Rule, RuleContext
from rules._support import is_placeholder, mask, secret_key

_SOURCES = frozenset({"dockerfile"})
_ROOT_USERS = frozenset({"root", "0"})
# Base images documented to run as a non-root user by default.
_NON_ROOT_BASE = re.compile(
    r"nonroot|rootless|unprivileged|^cgr\.dev/chainguard/(?!.*-dev\b)|^(?:docker\.io/)?bitnami/", re.IGNORECASE
)
_SECRET_NAME = re.compile(
    r"(?:^|[_.-])(?:PASSWORD|PASSWD|PASS|PWD|SECRET|SECRET_?KEY|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CLIENT_?SECRET|CREDENTIALS?|AUTH_?TOKEN)$",
    re.IGNORECASE,
)
_NOT_SECRET_VALUE = re.compile(r"^(?:/|\./|~/|https?://)|^\d{1,6}$|^(?:true|false|yes|no|on|off)$", re.IGNORECASE)


def instructions(stage: Node, key: str = "instructions") -> list[Node]:
    """The instruction nodes of a stage body ({instruction, arguments} mappings)."""
    listed = stage.get(key)
    return listed.children() if listed is not None else []


def _keyword(item: Node) -> str:
    node = item.get("instruction")
    return str(node.value).upper() if node is not None else ""


def _arguments(item: Node) -> str:
    node = item.get("arguments")
    return str(node.value) if node is not None else ""


def _last_user(stage: Node) -> Node | None:
    users = [item for item in instructions(stage) if _keyword(item) == "USER"]
    return users[-1] if users else None


def _is_root(user: str) -> bool | None:
    """True for root/0 (with any group), False for another user, None when it is a variable."""
    name = user.strip().split(":", 1)[0].strip()
    if not name or "$" in name:
        return None
    return name.lower() in _ROOT_USERS


def _parent_stage(resource: Resource, siblings: Sequence[Resource]) -> Resource | None:
    """The earlier stage this stage is built FROM, if it is built from one."""
    image = resource.body.get("from")
    if image is None:
        return None
    for sibling in siblings:
        name = sibling.body.get("name")
        if sibling is not resource and sibling.line < resource.line and name is not None \
                and str(name.value).lower() == str(image.value).lower():
            return sibling
    return None


def _effective_user(resource: Resource, ctx: RuleContext) -> tuple[Node | None, Resource]:
    """The last USER of the stage or of the stages it is built from, and the stage's root ancestor."""
    stage, hops = resource, 0
    siblings = ctx.siblings(resource)
    while hops < 50:
        user = _last_user(stage.body)
        if user is not None:
            return user, stage
        parent = _parent_stage(stage, siblings)
        if parent is None:
            return None, stage
        stage, hops = parent, hops + 1
    return None, stage


def _check_root_user(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    final = resource.body.get("final")
    if final is None or final.value is not True:
        return
    user, origin = _effective_user(resource, ctx)
    if user is None:
        base = origin.body.get("from")
        if base is not None and _NON_ROOT_BASE.search(str(base.value)):
            return
        yield Violation(message="The final stage sets no USER, so the container runs as root.",
                        line=resource.line, end_line=resource.line)
        return
    if _is_root(_arguments(user)) and origin is resource:
        yield Violation(message=f"The final stage switches to `USER {_arguments(user)}` and runs as root.",
                        line=user.line, end_line=user.end_line)
    elif _is_root(_arguments(user)):
        yield Violation(message=f"The final stage inherits `USER {_arguments(user)}` and runs as root.",
                        line=resource.line, end_line=resource.line)


def _pairs(keyword: str, arguments: str) -> Iterator[tuple[str, str | None]]:
    """(name, literal value or None) of an ENV or ARG instruction, in both ENV syntaxes."""
    text = arguments.split("\n", 1)[0]
    try:
        words = shlex.split(text, posix=True)
    except ValueError:
        return
    if not words:
        return
    if keyword == "ENV" and "=" not in words[0]:
        yield words[0], " ".join(words[1:])  # legacy `ENV NAME value with spaces`
        return
    for word in words:
        if word.startswith("--"):
            continue
        name, sep, value = word.partition("=")
        yield name, value if sep else None


def _secret_value(value: str | None) -> bool:
    if value is None or len(value) < 4 or "$" in value:
        return False
    return not is_placeholder(value) and not _NOT_SECRET_VALUE.search(value)


def _check_baked_secrets(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for item in [*instructions(resource.body, "global"), *instructions(resource.body)]:
        keyword = _keyword(item)
        if keyword not in ("ENV", "ARG"):
            continue
        for name, value in _pairs(keyword, _arguments(item)):
            if _SECRET_NAME.search(name) and value is not None and _secret_value(value):
                yield Violation(
                    message=f"{keyword} {name} bakes a literal secret ({mask(value)}) into the image.",
                    line=item.line, end_line=item.line, key=secret_key(value),
                )


RULES: tuple[Rule, ...] = (
    Rule(
        id="CB-DOCKER-001",
        title="Container image runs as root",
        severity=Severity.MEDIUM,
        sources=_SOURCES,
        types=frozenset(),
        rationale="Without a USER the container's process runs as uid 0: any code execution bug "
        "gives root inside the container and a short path to the host on a container escape.",
        remediation="Create an unprivileged user and switch to it in the final stage, e.g. "
        "`RUN useradd --uid 10001 app` then `USER 10001`.",
        check=_check_root_user,
    ),
    Rule(
        id="CB-DOCKER-002",
        title="Secret baked into the image via ENV or ARG",
        severity=Severity.HIGH,
        sources=_SOURCES,
        types=frozenset(),
        rationale="ENV values and ARG defaults are stored in the image configuration and history: "
        "anyone who can pull the image can read them with `docker history` or `docker inspect`.",
        remediation="Pass secrets at build time with BuildKit secret mounts (`RUN --mount=type=secret,"
        "id=token ...`) and at run time through the orchestrator's secrets, never as ENV/ARG literals.",
        check=_check_baked_secrets,
    ),
)
