"""The webhook endpoint on hostile deliveries. GitHub's own example payloads, bent (fields
deleted, retyped, made huge, negative, empty or odd), are routed to a job whose every field is
valid, `Ignored`, a ping, or `BadPayload`; never another exception. The same bodies, signed and
posted to the ASGI app, get an answer (2xx or 4xx), never a 500."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
from collections.abc import Iterator, MutableMapping
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from bot.app.job_queue import InProcessQueue
from bot.app.jobs import ReviewJob
from bot.app.server import create_app
from bot.app.settings import Settings, load_settings
from bot.app.webhooks import BadPayload, Ignored, route, signature_for
from tests.fakegithub import descriptions
from tests.fuzz.seeds import ODD, fuzz, mutate

WEBHOOKS = descriptions.webhooks_dir()
PAYLOADS = {path.name: json.loads(path.read_text()) for path in sorted(WEBHOOKS.glob("*.json"))
            if path.name != "headers.example.json"}
EVENTS = sorted({name.split(".", 1)[0] for name in PAYLOADS}) + ["", "PULL_REQUEST", "pull_request\n", "x" * 300]
# The fields routing reads: most mutations go there, the rest anywhere in the payload.
ROUTED = frozenset({"action", "installation", "id", "pull_request", "number", "head", "base", "sha", "ref",
                    "repository", "owner", "login", "name", "default_branch", "draft", "changes", "check_suite",
                    "check_run", "pull_requests", "head_sha", "merge_group", "base_sha", "base_ref"})
SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
ODD_SCALARS = st.sampled_from([0, -1, 2**63 - 1, 2**63, 10**30, -(10**30), 1.5, float("inf"), True, False, None,
                               "", " ", "0" * 40, "A" * 40, "g" * 40, "0" * 64, "../..", "a/b", "x\x00y", "\u2028",
                               "opened", "edited", "synchronize", "requested", "rerequested", "requested_action",
                               *ODD])
JSON_VALUES = st.recursive(
    st.one_of(ODD_SCALARS, st.integers(), st.text(max_size=12), st.floats(allow_nan=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def _slots(value: Any, routed_only: bool) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) of a payload, or only those under routed field names."""
    stack = [value]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        for key, child in pairs:
            if not routed_only or key in ROUTED or isinstance(key, int):
                yield item, key
            if isinstance(child, (dict, list)):
                stack.append(child)


@st.composite
def bent(draw: st.DrawFn) -> tuple[str, Any]:
    """(event, payload): a GitHub example with 1..6 fields deleted or replaced."""
    name = draw(st.sampled_from(sorted(PAYLOADS)))
    payload = copy.deepcopy(PAYLOADS[name])
    for _ in range(draw(st.integers(1, 6))):
        slots = list(_slots(payload, routed_only=draw(st.booleans())))
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        if draw(st.integers(0, 3)) == 0:
            del container[key]
        else:
            container[key] = draw(JSON_VALUES)
    event = name.split(".", 1)[0] if draw(st.integers(0, 5)) else draw(st.sampled_from(EVENTS))
    if draw(st.integers(0, 20)) == 0:
        payload = draw(JSON_VALUES)  # not an object at all
    return event, payload


def _check_job(job: ReviewJob) -> None:
    numbers = (job.installation_id, *([] if job.is_merge_group else [job.pull_number]),
               *([job.check_run_id] if job.check_run_id else []))
    for number in numbers:
        assert isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 2**63 - 1
    assert job.pull_number != 0 or job.is_merge_group  # a merge group's job names no pull request
    assert SHA.match(job.head_sha) and SHA.match(job.base_sha)
    assert NAME.match(job.owner) and NAME.match(job.repo)
    assert isinstance(job.base_ref, str) and job.base_ref and isinstance(job.default_branch, str) and job.default_branch
    assert isinstance(job.is_draft, bool)


@fuzz(ci=300)
@given(bent())
@example(("pull_request", {**PAYLOADS["pull_request.opened.json"], "number": 10**30}))
def test_bent_payloads_route_or_raise_bad_payload(delivery: tuple[str, Any]) -> None:
    event, payload = delivery
    try:
        outcome = route(event, "d-1", payload)
    except BadPayload as exc:
        assert str(exc)
        return
    assert outcome is None or isinstance(outcome, (Ignored, ReviewJob))
    if isinstance(outcome, ReviewJob):
        _check_job(outcome)


SECRET = "fuzz-secret"
_ids = itertools.count()


async def _no_review(job: ReviewJob) -> None:
    """The review is not what is tested here: only that the endpoint answers."""


@pytest.fixture(scope="module")
def settings() -> Settings:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    with pytest.MonkeyPatch.context() as env:
        env.delenv("REDIS_URL", raising=False)
        return load_settings({"APP_ID": "42", "PRIVATE_KEY": pem, "WEBHOOK_SECRET": SECRET})


async def _post(settings: Settings, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """One delivery to a fresh app, started and stopped through its lifespan as uvicorn does."""
    app = create_app(settings, _no_review, InProcessQueue())
    state: dict[str, Any] = {}
    to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    from_app: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()
    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": state},
                                       to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    assert (await from_app.get())["type"] == "lifespan.startup.complete"

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, "state": dict(state)}, receive, send)

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://testserver") as client:
            return await client.post("/webhook", content=body, headers=headers)
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        assert (await from_app.get())["type"] == "lifespan.shutdown.complete"
        await lifespan


@fuzz(ci=100)
@given(bent(), st.data())
def test_signed_bent_bodies_get_an_answer_never_a_500(settings: Settings, delivery: tuple[str, Any],
                                                      data: st.DataObject) -> None:
    event, payload = delivery
    text = json.dumps(payload)
    if data.draw(st.integers(0, 3)) == 0:
        text = mutate(data.draw, text, most=2)  # not always JSON any more
    body = text.encode("utf-8", "surrogatepass")
    headers = {"X-GitHub-Event": event.encode("ascii", "replace").decode().replace("\n", " "),
               "X-GitHub-Delivery": f"fuzz-{next(_ids)}", "X-Hub-Signature-256": signature_for(SECRET, body),
               "Content-Type": "application/json"}
    response = asyncio.run(_post(settings, body, headers))
    assert response.status_code in (200, 202, 400, 413), (response.status_code, response.text)
