"""`secrets.show_prefix` in the policy: how found secrets are shown."""

from __future__ import annotations

import pytest

from bot.engine.policy import PolicyError, parse_policy


def test_secrets_are_fully_masked_by_default() -> None:
    assert parse_policy(None).show_secret_prefix is False
    assert parse_policy("fail_on: high\n").show_secret_prefix is False
    assert parse_policy("secrets: {}\n").show_secret_prefix is False


def test_the_policy_may_show_a_prefix() -> None:
    assert parse_policy("secrets:\n  show_prefix: true\n").show_secret_prefix is True
    assert parse_policy("secrets:\n  show_prefix: false\n").show_secret_prefix is False


@pytest.mark.parametrize(("text", "message"), [
    ("secrets: true\n", "line 1: 'secrets' must be a mapping with show_prefix, not true"),
    ("secrets: [show_prefix]\n", "line 1: 'secrets' must be a mapping with show_prefix, not a list"),
    ("secrets:\n  show_prefix: yes please\n", "line 2: 'secrets.show_prefix' must be true or false, not 'yes please'"),
    ("secrets:\n  show_prefix: 1\n", "'secrets.show_prefix' must be true or false, not 1"),
    ("secrets:\n  show_prefix: 'true'\n", "'secrets.show_prefix' must be true or false, not 'true'"),
    ("secrets:\n  show-prefix: true\n", "line 2: 'secrets.show-prefix' is not a setting; did you mean 'secrets.show_prefix'?"),
    ("secrets:\n  3: true\n", "'secrets.3' is not a setting (the settings of 'secrets' are: show_prefix)"),
])
def test_bad_values_are_errors_naming_the_setting(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(text)
    assert message in str(raised.value) and ".github/compliance.yml" in str(raised.value)
