"""The review key: every input that can change the verdict changes the check run's external_id;
nothing else does, and the id reveals none of them."""

from __future__ import annotations

import hashlib
from dataclasses import fields, replace
from typing import Any

import pytest

from bot import __version__
from bot.app.review_key import KEY_PREFIX, ReviewKey

KEY = ReviewKey("Octo-Org/Infra", 7, "a" * 40, "main", "b" * 40, "5e6fe5d2bc07")


@pytest.mark.parametrize("name", [f.name for f in fields(ReviewKey)])
def test_each_input_makes_another_review(name: str) -> None:
    value = getattr(KEY, name)
    other = value + 1 if isinstance(value, int) else value + "x"
    changed: dict[str, Any] = {name: other}
    assert replace(KEY, **changed).external_id != KEY.external_id


def test_the_same_inputs_are_the_same_review_whatever_the_repositorys_letter_case() -> None:
    assert replace(KEY, repository="octo-org/infra").external_id == KEY.external_id
    assert replace(KEY, head_sha="A" * 40).external_id == KEY.external_id


def test_the_external_id_is_short_and_opaque() -> None:
    external_id = KEY.external_id
    assert external_id.startswith(KEY_PREFIX) and len(external_id) == len(KEY_PREFIX) + 40
    assert "infra" not in external_id.lower() and "main" not in external_id
    assert KEY.engine_version == f"{__version__}+5e6fe5d2bc07"
    assert str(KEY) == f"Octo-Org/Infra#7@{'a' * 12} base main policy {'b' * 12} engine {__version__}+5e6fe5d2bc07"


def test_approvals_make_another_review_and_no_approvals_keep_the_key_it_had() -> None:
    approved = replace(KEY, approvals="alice:2100000001")
    assert approved.external_id != KEY.external_id
    assert replace(KEY, approvals="alice:2100000001,bob:2100000002").external_id != approved.external_id
    # A key without approvals is the one earlier versions made: their completed check runs still count.
    legacy = (KEY.repository.lower(), str(KEY.pull_number), KEY.head_sha, KEY.base_ref, KEY.policy_sha,
              KEY.engine_version, KEY.mode, KEY.rerun)
    assert KEY.external_id == KEY_PREFIX + hashlib.sha256("\x00".join(legacy).encode()).hexdigest()[:40]
    assert str(approved).endswith(" approved by alice:2100000001")
