"""PostgreSQL for the tests: the machine's server (`TEST_DATABASE_URL`, default
postgresql://postgres@127.0.0.1:5432/test, trust auth).

- `postgres_url`: checked once per session; when it does not answer, every test that needs it
  fails with one clear message (never skipped: a test that did not run is not a test that passed).
- `postgres_schema`: a schema name unique to one test (its tables live there); dropped afterwards,
  so tests can share the server, in parallel and across checkouts.

Imported by `tests/conftest.py`, so any test can ask for these fixtures by name.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

__all__ = ["POSTGRES_URL", "postgres_schema", "postgres_url"]

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: these tests need a PostgreSQL server "
                    f"({str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}). Start one, or point "
                    "TEST_DATABASE_URL at one.", pytrace=False)
    return POSTGRES_URL


@pytest.fixture
def postgres_schema(postgres_url: str) -> Iterator[str]:
    name = f"cb_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(postgres_url, connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
