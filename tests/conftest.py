"""Shared pytest fixtures (append yours below)."""

from tests.app.redis_fixtures import redis_names, redis_server, redis_url  # noqa: F401  - Redis, see there
from tests.fakegithub.plugin import fake_github  # noqa: F401  - a running fake GitHub, see tests/fakegithub
