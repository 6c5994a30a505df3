"""Shared pytest fixtures (append yours below)."""

from tests.fakegithub.plugin import fake_github  # noqa: F401  - a running fake GitHub, see tests/fakegithub
