"""Signature check and routing, replaying every real payload of GitHub's chosen webhook examples."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.app.jobs import ReviewJob
from bot.app.webhooks import BadPayload, Ignored, Merged, route, signature_for, verify_signature
from tests.fakegithub import descriptions

WEBHOOKS = descriptions.webhooks_dir()  # GitHub's examples, fetched from npm (tests/fakegithub/descriptions.py)

HELLO = {"installation_id": 1, "owner": "Codertocat", "repo": "Hello-World", "pull_number": 2,
         "head_sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
         "base_sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e",
         "base_ref": "master", "default_branch": "master", "is_draft": False, "check_run_id": None}

# file -> the job it becomes (fields besides delivery_id), Ignored(reason) or None (ping).
ROUTING_TABLE: dict[str, dict[str, Any] | Ignored | None] = {
    "pull_request.opened.json": {**HELLO, "trigger": "pull_request.opened"},
    "pull_request.synchronize.json": {**HELLO, "trigger": "pull_request.synchronize"},
    "pull_request.reopened.json": {**HELLO, "trigger": "pull_request.reopened"},
    "pull_request.ready_for_review.json": {**HELLO, "trigger": "pull_request.ready_for_review"},
    "pull_request.closed.json": Ignored("pull_request.closed: closed without merging"),
    "check_suite.requested.json": Ignored("check_suite.requested: no pull request for this check suite"),
    "check_suite.rerequested.json": {**HELLO, "trigger": "check_suite.rerequested", "installation_id": 957387},
    "check_run.rerequested.json": Ignored("check_run.rerequested: no pull request for this check run"),
    "check_run.requested_action.json": {
        "trigger": "check_run.requested_action", "installation_id": 690857, "owner": "electron",
        "repo": "electron", "pull_number": 26764, "head_sha": "5bd5f196a46b8222fb7484f05faba41a73cf34bd",
        "base_sha": "45eee468647309e9e6cdb2a88a3b460a59771fef", "base_ref": "master",
        "default_branch": "master", "is_draft": False, "check_run_id": 1494503112,
    },
    "installation.created.json": Ignored("installation.created: installation changes need no review"),
    "installation.deleted.json": Ignored("installation.deleted: installation changes need no review"),
    "installation_repositories.added.json":
        Ignored("installation_repositories.added: installation changes need no review"),
    "ping.json": None,
    # GitHub's examples are comments (they approve nothing); a dismissal may take an approval away.
    "pull_request_review.submitted.json": Ignored("pull_request_review.submitted: a commented review approves nothing"),
    "pull_request_review.submitted.with-organization.json":
        Ignored("pull_request_review.submitted: a commented review approves nothing"),
    "pull_request_review.dismissed.json": {**HELLO, "trigger": "pull_request_review.dismissed"},
}


def payload_files() -> list[Path]:
    return sorted(p for p in WEBHOOKS.glob("*.json") if p.name != "headers.example.json")


def event_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


def load(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((WEBHOOKS / name).read_text())
    return payload


# -- signatures ------------------------------------------------------------------------------------


def test_signature_matches_githubs_algorithm() -> None:
    body = b'{"zen":"Keep it logically awesome."}'
    expected = "sha256=" + hmac.new(b"It's a Secret to Everybody", body, hashlib.sha256).hexdigest()
    assert signature_for("It's a Secret to Everybody", body) == expected
    assert verify_signature("It's a Secret to Everybody", body, expected)


def test_githubs_documented_example_signature() -> None:
    # From GitHub's "Validating webhook deliveries" docs: secret, payload and resulting signature.
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert verify_signature("It's a Secret to Everybody", b"Hello, World!", header)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=" + "0" * 40, "sha256=" + "0" * 64, "garbage", "sha256=ZZ\u00e9"],
)
def test_wrong_or_missing_signature(header: str | None) -> None:
    assert not verify_signature("secret", b"{}", header)


def test_signature_is_over_exact_bytes() -> None:
    body = (WEBHOOKS / "ping.json").read_bytes()
    header = signature_for("secret", body)
    assert verify_signature("secret", body, header)
    assert not verify_signature("secret", body + b"\n", header)
    assert not verify_signature("secret", json.dumps(json.loads(body)).encode(), header)  # re-serialized
    assert not verify_signature("other-secret", body, header)
    assert not verify_signature("", body, signature_for("", body))  # no secret configured: never valid


# -- the routing table over every real payload -----------------------------------------------------


def test_every_shared_payload_is_in_the_table() -> None:
    files = {p.name for p in payload_files()}
    assert files, f"no payloads found under {WEBHOOKS}"
    assert files == set(ROUTING_TABLE), "a payload was added or removed: update ROUTING_TABLE"


@pytest.mark.parametrize("path", payload_files(), ids=lambda p: p.name)
def test_route_real_payload(path: Path) -> None:
    payload = json.loads(path.read_text())
    expected = ROUTING_TABLE[path.name]
    outcome = route(event_of(path), "delivery-1", payload)
    if isinstance(expected, dict):
        assert outcome == ReviewJob(delivery_id="delivery-1", **expected)
        assert isinstance(outcome, ReviewJob)
        assert ReviewJob.from_json(outcome.to_json()) == outcome  # crosses the queue intact
    else:
        assert outcome == expected


def test_route_does_not_mutate_the_payload() -> None:
    for path in payload_files():
        payload = json.loads(path.read_text())
        before = copy.deepcopy(payload)
        route(event_of(path), "d", payload)
        assert payload == before


def test_draft_pull_request_is_still_a_job() -> None:
    payload = load("pull_request.opened.json")
    payload["pull_request"]["draft"] = True
    job = route("pull_request", "d", payload)
    assert isinstance(job, ReviewJob) and job.is_draft


def test_draft_flag_null_means_not_draft() -> None:
    payload = load("pull_request.synchronize.json")
    payload["pull_request"]["draft"] = None
    job = route("pull_request", "d", payload)
    assert isinstance(job, ReviewJob) and not job.is_draft


def test_edited_base_branch_is_reviewed_title_edit_is_not() -> None:
    schema = json.loads((WEBHOOKS / "schemas" / "pull_request.edited.schema.json").read_text())
    payload = load("pull_request.opened.json")
    payload["action"] = "edited"
    payload["changes"] = {"base": {"ref": {"from": "develop"}, "sha": {"from": "a" * 40}}}
    jsonschema.validate(payload, schema)
    job = route("pull_request", "d", payload)
    assert isinstance(job, ReviewJob) and job.trigger == "pull_request.edited" and job.base_ref == "master"

    payload["changes"] = {"title": {"from": "Old title"}}
    jsonschema.validate(payload, schema)
    assert route("pull_request", "d", payload) == Ignored("pull_request.edited: only the title or body changed")


def test_check_suite_uses_first_pull_request_and_suite_head() -> None:
    payload = load("check_suite.rerequested.json")
    second = copy.deepcopy(payload["check_suite"]["pull_requests"][0])
    second["number"] = 99
    payload["check_suite"]["pull_requests"].append(second)
    job = route("check_suite", "d", payload)
    assert isinstance(job, ReviewJob)
    assert job.pull_number == 2
    assert job.head_sha == payload["check_suite"]["head_sha"]


def test_check_run_rerequested_with_a_pull_request() -> None:
    payload = load("check_run.rerequested.json")
    pr = load("check_run.requested_action.json")["check_run"]["pull_requests"][0]
    payload["check_run"]["pull_requests"] = [pr]
    job = route("check_run", "d", payload)
    assert isinstance(job, ReviewJob)
    assert (job.trigger, job.check_run_id, job.pull_number) == ("check_run.rerequested", 4, 26764)
    assert job.head_sha == payload["check_run"]["head_sha"]
    assert (job.owner, job.repo, job.installation_id) == ("github", "hello-world", 1)


@pytest.mark.parametrize("state", ["approved", "changes_requested"])
def test_a_deciding_review_reviews_the_pull_request_again(state: str) -> None:
    schema = json.loads((WEBHOOKS / "schemas" / "pull_request_review.submitted.schema.json").read_text())
    payload = load("pull_request_review.submitted.json")
    payload["review"]["state"] = state
    jsonschema.validate(payload, schema)
    job = route("pull_request_review", "d", payload)
    assert isinstance(job, ReviewJob)
    assert (job.trigger, job.pull_number, job.head_sha, job.base_ref) == (
        "pull_request_review.submitted", HELLO["pull_number"], HELLO["head_sha"], HELLO["base_ref"])


def test_a_review_edit_is_ignored() -> None:
    payload = load("pull_request_review.submitted.json")
    payload["action"] = "edited"
    assert route("pull_request_review", "d", payload) == Ignored("pull_request_review.edited: action not reviewed")


@pytest.mark.parametrize(
    ("removed", "message"),
    [("review.state", "review.state is missing"), ("pull_request.head.sha", "pull_request.head.sha is missing"),
     ("installation", "installation is missing (is this delivery for a GitHub App?)")],
)
def test_a_review_payload_without_what_routing_needs_is_a_bad_payload(removed: str, message: str) -> None:
    payload = load("pull_request_review.submitted.json")
    payload["review"]["state"] = "approved"
    with pytest.raises(BadPayload) as caught:
        route("pull_request_review", "d", _without(payload, removed))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("event", "action", "reason"),
    [
        ("check_run", "created", "check_run.created: action not reviewed"),
        ("check_run", "completed", "check_run.completed: action not reviewed"),
        ("check_suite", "completed", "check_suite.completed: action not reviewed"),
        ("pull_request", "labeled", "pull_request.labeled: action not reviewed"),
        ("push", None, "push: event not handled"),
        ("issues", "opened", "issues.opened: event not handled"),
    ],
)
def test_other_events_and_actions_are_ignored(event: str, action: str | None, reason: str) -> None:
    source = {"check_run": "check_run.rerequested.json", "check_suite": "check_suite.rerequested.json",
              "pull_request": "pull_request.opened.json"}.get(event, "ping.json")
    payload = load(source)
    payload.pop("action", None)
    if action is not None:
        payload["action"] = action
    assert route(event, "d", payload) == Ignored(reason)


def test_installation_events_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="bot.app.webhooks"):
        route("installation", "d-42", load("installation.created.json"))
    assert "delivery=d-42 installation.created for installation 957387 (Codertocat)" in caplog.text


# -- bad payloads: a clear BadPayload, never a crash -----------------------------------------------


def _without(payload: dict[str, Any], dotted: str) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    *parents, last = dotted.split(".")
    node: Any = payload
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    del node[last]
    return payload


@pytest.mark.parametrize(
    ("name", "removed", "message"),
    [
        ("pull_request.opened.json", "pull_request", "pull_request is missing"),
        ("pull_request.opened.json", "pull_request.head", "pull_request.head is missing"),
        ("pull_request.opened.json", "pull_request.head.sha", "pull_request.head.sha is missing"),
        ("pull_request.opened.json", "pull_request.base.ref", "pull_request.base.ref is missing"),
        ("pull_request.opened.json", "pull_request.number", "pull_request.number is missing"),
        ("pull_request.synchronize.json", "repository", "repository is missing"),
        ("pull_request.synchronize.json", "repository.owner.login", "repository.owner.login is missing"),
        ("pull_request.reopened.json", "repository.default_branch", "repository.default_branch is missing"),
        ("pull_request.reopened.json", "installation",
         "installation is missing (is this delivery for a GitHub App?)"),
        ("pull_request.opened.json", "installation.id", "installation.id is missing"),
        ("check_suite.rerequested.json", "check_suite.head_sha", "check_suite.head_sha is missing"),
        ("check_suite.rerequested.json", "check_suite.pull_requests", "check_suite.pull_requests is missing"),
        ("check_suite.rerequested.json", "check_suite.pull_requests.0.base",
         "check_suite.pull_requests[0].base is missing"),
        ("check_run.requested_action.json", "check_run.id", "check_run.id is missing"),
        ("check_run.requested_action.json", "check_run.pull_requests.0.number",
         "check_run.pull_requests[0].number is missing"),
        ("pull_request.opened.json", "action", "action is missing"),
    ],
)
def test_missing_field_is_a_bad_payload(name: str, removed: str, message: str) -> None:
    with pytest.raises(BadPayload) as caught:
        route(event_of(WEBHOOKS / name), "d", _without(load(name), removed))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda p: p["pull_request"].__setitem__("number", "2"),
         "pull_request.number must be a positive integer, got a string"),
        (lambda p: p["pull_request"].__setitem__("number", True),
         "pull_request.number must be a positive integer, got a boolean"),
        (lambda p: p["pull_request"].__setitem__("head", None), "pull_request.head must be an object, got null"),
        (lambda p: p["pull_request"]["head"].__setitem__("sha", "main"), "pull_request.head.sha is not a commit SHA"),
        (lambda p: p["pull_request"].__setitem__("draft", "yes"), "pull_request.draft must be a boolean, got a string"),
        (lambda p: p["repository"]["owner"].__setitem__("login", "../etc"),
         "repository.owner.login is not a valid GitHub name"),
        (lambda p: p["repository"].__setitem__("name", ""),
         "repository.name must be a non-empty string, got an empty string"),
        (lambda p: p.__setitem__("installation", None), "installation must be an object, got null"),
        (lambda p: p["installation"].__setitem__("id", -1), "installation.id must be a positive integer, got -1"),
    ],
)
def test_wrong_types_are_bad_payloads(mutate: Any, message: str) -> None:
    payload = load("pull_request.opened.json")
    mutate(payload)
    with pytest.raises(BadPayload) as caught:
        route("pull_request", "d", payload)
    assert str(caught.value) == message


def test_pull_requests_not_an_array() -> None:
    payload = load("check_suite.rerequested.json")
    payload["check_suite"]["pull_requests"] = {"0": {}}
    with pytest.raises(BadPayload, match=r"^check_suite.pull_requests must be an array, got an object$"):
        route("check_suite", "d", payload)
    payload["check_suite"]["pull_requests"] = ["#2"]
    with pytest.raises(BadPayload, match=r"^check_suite.pull_requests\[0\] must be an object, got a string$"):
        route("check_suite", "d", payload)


@pytest.mark.parametrize("payload", [[], "text", 3, None])
def test_payload_not_an_object(payload: Any) -> None:
    with pytest.raises(BadPayload, match="payload must be a JSON object"):
        route("pull_request", "d", payload)


def _nodes(value: Any, parent: Any = None, key: Any = None) -> Iterator[tuple[Any, Any]]:
    """(container, key) of every node under `value`."""
    if parent is not None:
        yield parent, key
    if isinstance(value, dict):
        for k, v in list(value.items()):
            yield from _nodes(v, value, k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _nodes(v, value, i)


_MISSING = object()
_REPLACEMENTS: list[Any] = [_MISSING, None, "", "x", 0, -1, 1.5, True, [], {}, [None], {"a": None}]


@pytest.mark.parametrize("path", payload_files(), ids=lambda p: p.name)
def test_any_single_damage_gives_a_result_or_bad_payload(path: Path) -> None:
    """Delete or replace every node of every real payload, one at a time: route must answer with
    a job, Ignored, Merged, None or BadPayload, and never raise anything else."""
    payload = json.loads(path.read_text())
    event = event_of(path)
    tried = 0
    for container, key in list(_nodes(payload)):
        original = container[key]
        for replacement in _REPLACEMENTS:
            if replacement is _MISSING:
                if isinstance(container, list):
                    continue
                del container[key]
            else:
                container[key] = replacement
            try:
                outcome = route(event, "d", payload)
            except BadPayload as exc:
                assert str(exc) and "\n" not in str(exc)
            else:
                assert outcome is None or isinstance(outcome, (ReviewJob, Ignored, Merged))
                if isinstance(outcome, ReviewJob):
                    ReviewJob.from_json(outcome.to_json())
            finally:
                container[key] = original
            tried += 1
    assert tried > 100
    assert payload == json.loads(path.read_text())
