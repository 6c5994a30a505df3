"""The `fake_github` pytest fixture: a started FakeGitHub that fails the test on contract breaks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake; teardown fails the test if a response broke the OpenAPI contract,
    an unknown operation was called, or the fake crashed."""
    fake = FakeGitHub().start()
    try:
        yield fake
        fatal = fake.fatal_violations()
        if fatal:
            pytest.fail("GitHub contract violations:\n" + "\n".join(str(v) for v in fatal), pytrace=False)
    finally:
        fake.close()
