"""Shared pytest fixtures (append yours below)."""

import os
import tempfile

import pytest

from tests.app.postgres_fixtures import postgres_schema, postgres_url  # noqa: F401  - PostgreSQL, see there
from tests.app.redis_fixtures import redis_names, redis_server, redis_url  # noqa: F401  - Redis, see there
from tests.browser import browser_page  # noqa: F401  - a headless Chromium page, see there
from tests.fakegithub import descriptions
from tests.fakegithub.plugin import fake_github  # noqa: F401  - a running fake GitHub, see tests/fakegithub


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fetch GitHub's API descriptions once, before collection reads them (tests/fakegithub/descriptions.py).

    Without npm or the registry the run stops here with one message saying what to install.

    The evidence store's settings of the shell never reach the tests (a DATABASE_URL would send
    every App under test to that database), and the built-in store's default folder is a temporary
    one, for this process and every server process a test starts."""
    for name in ("DATABASE_URL", "DATABASE_SCHEMA", "EVIDENCE_DB", "DATA_DIR"):
        os.environ.pop(name, None)
    os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="compliance-bot-test-data-")
    try:
        descriptions.ensure_all()
    except descriptions.DescriptionsUnavailable as exc:
        raise pytest.UsageError(f"GitHub's API descriptions are unavailable.\n{exc}") from None
