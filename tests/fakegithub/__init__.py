"""A fake GitHub (REST + GraphQL) on a real loopback HTTP server, backed by real git repositories.

Import: `from tests.fakegithub import FakeGitHub` (the `tests` folder is a package).
Fixture: `fake_github` (see `plugin.py`, re-exported by `tests/conftest.py`).
"""

from __future__ import annotations

from .fake import FakeGitHub
from .openapi import Violation
from .server import RecordedRequest
from .state import Repository
from .webhooks import sign as sign_webhook

__all__ = ["FakeGitHub", "RecordedRequest", "Repository", "Violation", "sign_webhook"]
