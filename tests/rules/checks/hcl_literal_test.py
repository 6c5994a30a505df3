"""jsonencode arguments read from source: values and lines, and everything else left Unknown."""

from __future__ import annotations

import pytest

from bot.engine.model import Unknown
from rules.checks.hcl_literal import call_argument, decode_string

SOURCE = '''policy = jsonencode({
  Version = "2012-10-17" # a comment
  Statement = [
    {
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = "${aws_s3_bucket.b.arn}/*"
      Principal = { AWS = aws_iam_role.app.arn }
      "Condition": { Bool = { "aws:SecureTransport" = false } }
      Count = -2
    },
  ]
})'''


def test_values_and_their_lines() -> None:
    node = call_argument(SOURCE.splitlines(), first_line=10)
    assert node is not None
    statement = node.get("Statement", 0)
    assert statement is not None and statement.line == 13
    assert node.get("Version") is not None and node.get("Version").value == "2012-10-17"  # type: ignore[union-attr]
    action = statement.get("Action")
    assert action is not None and [(i.value, i.line) for i in action.children()] == [
        ("s3:GetObject", 15), ("s3:PutObject", 15)]
    assert statement.get("Condition", "Bool", "aws:SecureTransport").value is False  # type: ignore[union-attr]
    assert statement.get("Count").value == -2  # type: ignore[union-attr]


def test_templates_and_references_stay_unknown_as_written() -> None:
    node = call_argument(SOURCE.splitlines(), first_line=1)
    assert node is not None
    resource = node.get("Statement", 0, "Resource")
    principal = node.get("Statement", 0, "Principal", "AWS")
    assert resource is not None and resource.value == Unknown('"${aws_s3_bucket.b.arn}/*"')
    assert principal is not None and principal.value == Unknown("aws_iam_role.app.arn")


@pytest.mark.parametrize("source", [
    "policy = jsonencode(local.document)",
    "policy = jsonencode(merge({ a = 1 }, local.b))",
    "policy = jsonencode([for s in local.statements : s])",
    "policy = data.aws_iam_policy_document.x.json",
    "policy = jsonencode({ a = ",
])
def test_what_is_not_a_literal_is_not_read(source: str) -> None:
    assert call_argument([source], 1) is None


def test_an_operator_after_a_literal_makes_the_value_an_expression() -> None:
    node = call_argument(['x = jsonencode({ a = "x" == var.y ? 1 : 2, b = [1] })'], 1)
    assert node is not None
    assert isinstance(node.get("a").value, Unknown)  # type: ignore[union-attr]
    assert node.get("b").plain() == [1]  # type: ignore[union-attr]


@pytest.mark.parametrize(("token", "text"), [
    (r'"plain"', "plain"),
    (r'"a\"b"', 'a"b'),
    (r'"tab\tend"', "tab\tend"),
    (r'"\u00e9"', "é"),
    (r'"$${aws:username}"', "${aws:username}"),
    (r'"${var.x}"', None),
    (r'"%{ if x }y%{ endif }"', None),
    (r'"bad \q escape"', None),
])
def test_strings(token: str, text: str | None) -> None:
    assert decode_string(token) == text
