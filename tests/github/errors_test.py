"""GitHub call failures read as one line an operator can act on: which host, and why."""

from __future__ import annotations

import httpx
from githubkit.exception import RequestError

from bot.github.client import _error


def test_an_unreachable_api_names_the_host_and_the_transport_reason() -> None:
    request = httpx.Request("GET", "https://api.github.com/repos/o/r/contents/main.tf")
    exc = RequestError(httpx.ConnectError("[Errno 111] Connection refused", request=request))
    error = _error(exc, "read main.tf@abc")
    assert str(error) == "read main.tf@abc: cannot reach api.github.com: ConnectError: [Errno 111] Connection refused"
    assert error.transient


def test_a_timeout_without_a_message_still_names_its_kind() -> None:
    request = httpx.Request("GET", "https://ghe.example.com/api/v3/repos/o/r")
    error = _error(RequestError(httpx.ReadTimeout("", request=request)), "get pull")
    assert str(error) == "get pull: cannot reach ghe.example.com: ReadTimeout"
