"""Fixtures of the end-to-end tests: per test module, one fake GitHub and one server process
talking to it (a test needing more servers starts them with `tests.e2e.serving.serve`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.serving import App, serve
from tests.fakegithub import FakeGitHub


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGitHub]:
    """A fake GitHub for the module; at its end, no request or response broke GitHub's contract."""
    with FakeGitHub() as fake_github:
        yield fake_github
        fake_github.assert_contract_ok(include_requests=True)


@pytest.fixture(scope="module")
def app(fake: FakeGitHub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """`compliance-bot serve` as its own process, pointed at the module's fake."""
    with serve(fake, tmp_path_factory.mktemp("app") / "server.log") as running:
        yield running
