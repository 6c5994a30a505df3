"""What a process loads before it serves: a reviewing process loads the rules at start-up (off the
event loop), a web-only one (`serve --no-worker`) never does, and both freeze what start-up made
out of the collector's reach."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import runner as runner_module
from bot.app import serve
from bot.app.runner import ReviewRunner
from bot.github.client import GitHubApp
from tests.fakegithub import FakeGitHub

pytestmark = pytest.mark.timeout(120)


def test_the_runner_loads_the_rules_when_first_asked(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[object] = []

    def rules() -> Any:
        loaded.append(object())
        return loaded[-1]

    monkeypatch.setattr(runner_module, "default_rule_set", rules)
    runner = ReviewRunner(GitHubApp(fake_github.app_id, fake_github.private_key_pem, fake_github.url, 10.0), "compliance")
    assert loaded == []
    runner.prepare()
    assert len(loaded) == 1 and runner.rule_set is loaded[0]
    assert runner.rule_set is loaded[0] and len(loaded) == 1  # once


class Handler:
    def __init__(self) -> None:
        self.prepared = 0

    def prepare(self) -> None:
        self.prepared += 1

    async def __call__(self, job: Any) -> None:
        raise AssertionError("no job is run here")


@pytest.mark.parametrize(("worker", "prepared"), [(True, 1), (False, 0)])
def test_serve_prepares_the_handler_only_where_it_reviews(fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch,
                                                           worker: bool, prepared: int) -> None:
    import uvicorn

    handler = Handler()
    events: list[str] = []
    monkeypatch.setattr(serve, "freeze_startup_heap", lambda: events.append("frozen"))
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: events.append("served"))
    env = {**fake_github.app_env(), "REDIS_URL": "redis://127.0.0.1:6379/0"}
    serve.run("127.0.0.1", 0, lambda settings: handler, env=env, worker=worker)
    assert handler.prepared == prepared
    assert events == ["frozen", "served"]
