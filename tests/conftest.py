"""Shared pytest fixtures (append yours below)."""

import pytest

from tests.app.redis_fixtures import redis_names, redis_server, redis_url  # noqa: F401  - Redis, see there
from tests.fakegithub import descriptions
from tests.fakegithub.plugin import fake_github  # noqa: F401  - a running fake GitHub, see tests/fakegithub


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fetch GitHub's API descriptions once, before collection reads them (tests/fakegithub/descriptions.py).

    Without npm or the registry the run stops here with one message saying what to install."""
    try:
        descriptions.ensure_all()
    except descriptions.DescriptionsUnavailable as exc:
        raise pytest.UsageError(f"GitHub's API descriptions are unavailable.\n{exc}") from None
