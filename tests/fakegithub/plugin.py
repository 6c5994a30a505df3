"""The `fake_github` pytest fixture: a started FakeGitHub that fails the test on contract breaks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from .fake import FakeGitHub


@contextmanager
def checked_fake(**options: object) -> Iterator[FakeGitHub]:
    """A running fake (options as for FakeGitHub, e.g. `flavor="ghes-3.19"`); on exit it fails the
    test if a response broke the description, an unknown or unimplemented operation was called,
    or the fake crashed."""
    fake = FakeGitHub(**options).start()  # type: ignore[arg-type]
    try:
        yield fake
        fatal = fake.fatal_violations()
        if fatal:
            pytest.fail("GitHub contract violations:\n" + "\n".join(str(v) for v in fatal), pytrace=False)
    finally:
        fake.close()


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A running fake of api.github.com; teardown fails the test on contract violations."""
    with checked_fake() as fake:
        yield fake
