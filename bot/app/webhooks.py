"""Webhook deliveries: check the signature, then decide what a delivery means for us.

`route()` is a pure function of (event, delivery id, payload): it returns a `ReviewJob` to queue,
`Ignored(reason)` for deliveries that need no review, or `None` for a `ping`. A payload that lacks
a field the routing needs raises `BadPayload` (the server answers 400); it never crashes.

Routing table:

    pull_request          opened, synchronize, reopened, ready_for_review -> job (drafts too,
                          with is_draft=True); edited -> job only when the base branch changed;
                          closed with merged true -> `Merged` (an evidence event, no review)
    check_suite           requested, rerequested -> job for check_suite.pull_requests[0]
    check_run             rerequested, requested_action -> job for check_run.pull_requests[0],
                          with check_run_id
    pull_request_review   submitted (approved or changes requested), dismissed -> job for the
                          pull request: an approver team member's approval makes its exceptions
                          count, and losing it makes them stop counting; a comment changes nothing
    merge_group           checks_requested -> job for the group's head (pull_number 0): the
                          change from merge_group.base_sha to head_sha, so a merge queue can
                          require the check
    installation, installation_repositories -> ignored (logged)
    ping                  -> None
    anything else         -> ignored
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.app.jobs import ReviewJob

__all__ = ["BadPayload", "Ignored", "Merged", "route", "signature_for", "verify_signature"]

log = logging.getLogger(__name__)

PULL_REQUEST_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})
CHECK_SUITE_ACTIONS = frozenset({"requested", "rerequested"})
CHECK_RUN_ACTIONS = frozenset({"rerequested", "requested_action"})
REVIEW_ACTIONS = frozenset({"submitted", "dismissed"})
DECIDING_REVIEW_STATES = frozenset({"approved", "changes_requested", "dismissed"})
MERGE_GROUP_ACTIONS = frozenset({"checks_requested"})

_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")  # SHA-1, or SHA-256 object format
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class BadPayload(ValueError):
    """The payload lacks a field routing needs, or has it with the wrong type (-> HTTP 400)."""


@dataclass(frozen=True)
class Ignored:
    """The delivery needs no review; `reason` says why (it goes in the response and the log)."""

    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Merged:
    """A pull request was merged: the server appends it to the evidence store, so an export can
    tell which reviewed head went in (no review runs)."""

    delivery_id: str
    repository: str
    pull_number: int
    head_sha: str
    base_sha: str
    base_ref: str
    merged_at: str | None
    merge_commit_sha: str | None
    merged_by: str | None


# -- signatures ------------------------------------------------------------------------------------


def signature_for(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is GitHub's `sha256=<hex>` HMAC of exactly these `body` bytes.

    The comparison is constant-time (`hmac.compare_digest`). A missing/empty secret never verifies.
    """
    if not secret or not header:
        return False
    expected = signature_for(secret, body)
    # compare_digest on ASCII bytes; a non-ASCII header cannot match and must not raise.
    given = header.strip().encode("ascii", "replace")
    return hmac.compare_digest(expected.encode("ascii"), given)


# -- routing ---------------------------------------------------------------------------------------


def route(event: str, delivery_id: str, payload: dict[str, Any]) -> ReviewJob | None | Ignored | Merged:
    """What to do with one delivery: a job to queue, `Ignored(reason)`, or `None` (ping)."""
    if not isinstance(payload, Mapping):
        raise BadPayload(f"payload must be a JSON object, got {_type_name(payload)}")
    if event == "ping":
        return None
    action = payload.get("action")
    trigger = f"{event}.{action}" if isinstance(action, str) else event

    if event == "pull_request":
        return _pull_request(trigger, delivery_id, payload)
    if event == "check_suite":
        return _check_suite(trigger, delivery_id, payload)
    if event == "check_run":
        return _check_run(trigger, delivery_id, payload)
    if event == "pull_request_review":
        return _pull_request_review(trigger, delivery_id, payload)
    if event == "merge_group":
        return _merge_group(trigger, delivery_id, payload)
    if event in ("installation", "installation_repositories"):
        installation = payload.get("installation")
        account = _try(installation, "account", "login")
        log.info(
            "delivery=%s %s for installation %s (%s): nothing to review",
            delivery_id, trigger, _try(installation, "id"), account,
        )
        return Ignored(f"{trigger}: installation changes need no review")
    return Ignored(f"{trigger}: event not handled")


def _pull_request(trigger: str, delivery_id: str, payload: Mapping[str, Any]) -> ReviewJob | Ignored | Merged:
    action = _str(payload, "action")
    if action == "closed":
        return _closed(trigger, delivery_id, payload)
    if action == "edited":
        # Retargeting a PR to another base branch changes its diff; a title/body edit does not.
        changes = payload.get("changes")
        if not (isinstance(changes, Mapping) and "base" in changes):
            return Ignored(f"{trigger}: only the title or body changed")
    elif action not in PULL_REQUEST_ACTIONS:
        return Ignored(f"{trigger}: action not reviewed")
    pr = _obj(payload, "pull_request")
    return _pull_request_job(trigger, delivery_id, payload, pr)


def _closed(trigger: str, delivery_id: str, payload: Mapping[str, Any]) -> Ignored | Merged:
    pr = _obj(payload, "pull_request")
    if not _bool(pr, "merged", where="pull_request", default=False):
        return Ignored(f"{trigger}: closed without merging")
    merged_by = pr.get("merged_by")
    return Merged(
        delivery_id=delivery_id,
        repository=f"{_name(payload, 'repository', 'owner', 'login')}/{_name(payload, 'repository', 'name')}",
        pull_number=_int(pr, "number", where="pull_request"),
        head_sha=_sha(pr, "head", "sha", where="pull_request"),
        base_sha=_sha(pr, "base", "sha", where="pull_request"),
        base_ref=_str(pr, "base", "ref", where="pull_request"),
        merged_at=_optional_str(pr, "merged_at"),
        merge_commit_sha=_optional_str(pr, "merge_commit_sha"),
        merged_by=_optional_str(merged_by, "login") if isinstance(merged_by, Mapping) else None,
    )


def _optional_str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _pull_request_review(trigger: str, delivery_id: str, payload: Mapping[str, Any]) -> ReviewJob | Ignored:
    """An approval (or a request for changes, or a dismissal) may change which exceptions count:
    the pull request is reviewed again at the head the webhook names, and the job itself checks
    who approved what, on which commit (the payload only says that something happened)."""
    action = _str(payload, "action")
    if action not in REVIEW_ACTIONS:
        return Ignored(f"{trigger}: action not reviewed")
    state = _str(payload, "review", "state").lower()
    if action == "submitted" and state not in DECIDING_REVIEW_STATES:
        return Ignored(f"{trigger}: a {state} review approves nothing")
    pr = _obj(payload, "pull_request")
    return _pull_request_job(trigger, delivery_id, payload, pr)


def _pull_request_job(trigger: str, delivery_id: str, payload: Mapping[str, Any], pr: Mapping[str, Any]) -> ReviewJob:
    """The job for a pull request event (opened, pushed, reviewed...): its head as the payload names it."""
    return _job(trigger, delivery_id, payload,
                pull_number=_int(pr, "number", where="pull_request"),
                head_sha=_sha(pr, "head", "sha", where="pull_request"),
                base_sha=_sha(pr, "base", "sha", where="pull_request"),
                base_ref=_str(pr, "base", "ref", where="pull_request"),
                is_draft=_bool(pr, "draft", where="pull_request", default=False))


def _job(trigger: str, delivery_id: str, payload: Mapping[str, Any], *, pull_number: int, head_sha: str,
         base_sha: str, base_ref: str, is_draft: bool = False, check_run_id: int | None = None) -> ReviewJob:
    """A job for the payload's repository and installation: every route names only the change."""
    return ReviewJob(
        delivery_id=delivery_id,
        trigger=trigger,
        installation_id=_installation_id(payload),
        owner=_name(payload, "repository", "owner", "login"),
        repo=_name(payload, "repository", "name"),
        pull_number=pull_number,
        head_sha=head_sha,
        base_sha=base_sha,
        base_ref=base_ref,
        default_branch=_str(payload, "repository", "default_branch"),
        is_draft=is_draft,
        check_run_id=check_run_id,
    )


def _check_suite(trigger: str, delivery_id: str, payload: Mapping[str, Any]) -> ReviewJob | Ignored:
    action = _str(payload, "action")
    if action not in CHECK_SUITE_ACTIONS:
        return Ignored(f"{trigger}: action not reviewed")
    suite = _obj(payload, "check_suite")
    pr = _first_pull_request(suite, "check_suite")
    if pr is None:
        # GitHub lists no PR for a push without one, or for a head branch in a fork.
        return Ignored(f"{trigger}: no pull request for this check suite")
    return _job_from_check(trigger, delivery_id, payload, pr, head_sha=_sha(suite, "head_sha", where="check_suite"))


def _check_run(trigger: str, delivery_id: str, payload: Mapping[str, Any]) -> ReviewJob | Ignored:
    action = _str(payload, "action")
    if action not in CHECK_RUN_ACTIONS:
        return Ignored(f"{trigger}: action not reviewed")
    run = _obj(payload, "check_run")
    pr = _first_pull_request(run, "check_run")
    if pr is None:
        return Ignored(f"{trigger}: no pull request for this check run")
    return _job_from_check(
        trigger,
        delivery_id,
        payload,
        pr,
        head_sha=_sha(run, "head_sha", where="check_run"),
        check_run_id=_int(run, "id", where="check_run"),
    )


def _merge_group(trigger: str, delivery_id: str, payload: Mapping[str, Any]) -> ReviewJob | Ignored:
    action = _str(payload, "action")
    if action not in MERGE_GROUP_ACTIONS:
        return Ignored(f"{trigger}: action not reviewed")  # destroyed: nothing left to check
    group = _obj(payload, "merge_group")
    base_ref = _str(group, "base_ref", where="merge_group").removeprefix("refs/heads/")
    if not base_ref:
        raise BadPayload("merge_group.base_ref names no branch")
    return _job(trigger, delivery_id, payload, pull_number=0,
                head_sha=_sha(group, "head_sha", where="merge_group"),
                base_sha=_sha(group, "base_sha", where="merge_group"), base_ref=base_ref)


def _job_from_check(
    trigger: str,
    delivery_id: str,
    payload: Mapping[str, Any],
    pr: Mapping[str, Any],
    *,
    head_sha: str,
    check_run_id: int | None = None,
) -> ReviewJob:
    # check_* payloads carry a minimal PR (number, head, base): no draft flag, so is_draft=False
    # here and the job reads the flag from the PR it fetches anyway.
    where = "check_run.pull_requests[0]" if check_run_id is not None else "check_suite.pull_requests[0]"
    return _job(trigger, delivery_id, payload, pull_number=_int(pr, "number", where=where), head_sha=head_sha,
                base_sha=_sha(pr, "base", "sha", where=where), base_ref=_str(pr, "base", "ref", where=where),
                check_run_id=check_run_id)


def _first_pull_request(container: Mapping[str, Any], where: str) -> Mapping[str, Any] | None:
    prs = _get(container, "pull_requests", where=where)
    if not isinstance(prs, list):
        raise BadPayload(f"{where}.pull_requests must be an array, got {_type_name(prs)}")
    if not prs:
        return None
    if not isinstance(prs[0], Mapping):
        raise BadPayload(f"{where}.pull_requests[0] must be an object, got {_type_name(prs[0])}")
    return prs[0]


def _installation_id(payload: Mapping[str, Any]) -> int:
    if "installation" not in payload:
        raise BadPayload("installation is missing (is this delivery for a GitHub App?)")
    return _int(payload, "installation", "id")


# -- typed field access with clear errors ----------------------------------------------------------


def _get(obj: Any, *path: str, where: str = "") -> Any:
    current = obj
    walked = where
    for key in path:
        if not isinstance(current, Mapping):
            raise BadPayload(f"{walked} must be an object, got {_type_name(current)}")
        walked = f"{walked}.{key}" if walked else key
        if key not in current:
            raise BadPayload(f"{walked} is missing")
        current = current[key]
    return current


def _dotted(where: str, path: tuple[str, ...]) -> str:
    return ".".join(([where] if where else []) + list(path))


def _obj(obj: Any, *path: str, where: str = "") -> Mapping[str, Any]:
    value = _get(obj, *path, where=where)
    if not isinstance(value, Mapping):
        raise BadPayload(f"{_dotted(where, path)} must be an object, got {_type_name(value)}")
    return value


def _str(obj: Any, *path: str, where: str = "") -> str:
    value = _get(obj, *path, where=where)
    if not isinstance(value, str) or not value:
        raise BadPayload(f"{_dotted(where, path)} must be a non-empty string, got {_type_name(value)}")
    return value


def _name(obj: Any, *path: str, where: str = "") -> str:
    value = _str(obj, *path, where=where)
    if not _NAME.match(value):
        raise BadPayload(f"{_dotted(where, path)} is not a valid GitHub name")
    return value


def _sha(obj: Any, *path: str, where: str = "") -> str:
    value = _str(obj, *path, where=where)
    if not _SHA.match(value):
        raise BadPayload(f"{_dotted(where, path)} is not a commit SHA")
    return value


_MAX_ID = 2**63 - 1  # GitHub's ids and numbers are signed 64-bit integers


def _int(obj: Any, *path: str, where: str = "") -> int:
    value = _get(obj, *path, where=where)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadPayload(f"{_dotted(where, path)} must be a positive integer, got {_type_name(value)}")
    if value > _MAX_ID:
        raise BadPayload(f"{_dotted(where, path)} is larger than GitHub's 64-bit ids")
    return value


def _bool(obj: Any, *path: str, where: str = "", default: bool) -> bool:
    try:
        value = _get(obj, *path, where=where)
    except BadPayload:
        return default
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadPayload(f"{_dotted(where, path)} must be a boolean, got {_type_name(value)}")
    return value


def _try(obj: Any, *path: str) -> Any:
    """Best-effort lookup for log lines only."""
    try:
        return _get(obj, *path)
    except BadPayload:
        return None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number" if not isinstance(value, int) or value > 0 else f"{value}"
    if isinstance(value, str):
        return "an empty string" if not value else "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
