"""JSON logs: one object per line, the job's fields on every line logged inside a job (from any
module and any task it awaits), none outside, and redaction over every field."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.app.logs import configure_logging, job_scope
from tests.app.root_logger import root_logger_restored

SECRET = "webhook-secret-for-json-tests"


@pytest.fixture()
def stream() -> Iterator[io.StringIO]:
    with root_logger_restored():
        out = io.StringIO()
        configure_logging("DEBUG", secrets=[SECRET], stream=out)
        yield out


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_job_lines_carry_the_job_and_others_do_not(stream: io.StringIO) -> None:
    async def job() -> None:
        logging.getLogger("bot.app.runner").info("reviewing %s", "main.tf")
        await asyncio.gather(asyncio.to_thread(logging.getLogger("bot.github.client").warning, "from a thread"),
                             asyncio.create_task(_in_task()))

    async def _in_task() -> None:
        logging.getLogger("httpx").warning("from a task")

    logging.getLogger("bot.app.server").info("before")
    with job_scope("d-42", "octo-org/infra", 7, "c" * 40):
        asyncio.run(job())
    logging.getLogger("bot.app.server").info("after")

    records = [r for r in lines(stream) if r["logger"] != "asyncio"]  # asyncio's own "Using selector"
    messages = [r["message"] for r in records]
    assert messages[:2] == ["before", "reviewing main.tf"] and messages[-1] == "after"
    assert sorted(str(m) for m in messages[2:4]) == ["from a task", "from a thread"]
    fields = {"delivery_id": "d-42", "repository": "octo-org/infra", "pull_number": 7, "head_sha": "c" * 40}
    for record in records[1:4]:
        assert {k: record[k] for k in fields} == fields
        assert {"time", "level", "logger", "message"} <= set(record)
    assert not set(fields) & (set(records[0]) | set(records[-1]))


def test_every_field_is_redacted_and_a_newline_cannot_forge_a_line(stream: io.StringIO) -> None:
    token = "ghs_" + "Z9y8X7w6" * 5
    log = logging.getLogger("bot.test")
    log.error("token %s and secret %s\n{\"level\": \"INFO\", \"message\": \"forged\"}", token, SECRET)
    try:
        raise RuntimeError(f"failed with {token}")
    except RuntimeError:
        log.exception("boom")
    text = stream.getvalue()
    assert token not in text and SECRET not in text
    first, second = lines(stream)
    assert "[token redacted]" in str(first["message"]) and "[secret redacted]" in str(first["message"])
    assert first["level"] == "ERROR" and "forged" in str(first["message"])  # inside the message, not a line
    assert "[token redacted]" in str(second["exception"]) and "RuntimeError" in str(second["exception"])


def test_text_format_keeps_the_one_line_form() -> None:
    out = io.StringIO()
    with root_logger_restored():
        configure_logging("INFO", stream=out, fmt="text")
        with job_scope("d-1", "o/r", 3, "d" * 40):
            logging.getLogger("bot.x").info("hello")
    assert "bot.x: delivery=d-1 repo=o/r pr=3 head=dddddddddddd hello" in out.getvalue()
