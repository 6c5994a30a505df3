"""Fixtures of the end-to-end tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def redis_url() -> str:
    """The Redis the tests share (REDIS_URL, default the machine's on 127.0.0.1:6379)."""
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
