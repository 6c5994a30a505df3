"""The lexer: comments, heredocs, strings that look like syntax, and line breaks inside
parentheses never move or invent an attribute."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.model import Unknown
from bot.engine.parsers.terraform.lexer import tokenize
from tests.engine.parsers.terraform.support import VOLUME, at, by_address, spans


def test_comments_hide_what_they_contain() -> None:
    assert sorted(by_address(VOLUME, "aws_ebs_volume.data").body.plain()) == [
        "availability_zone", "encrypted", "size", "tags", "zones",
    ]


TRICKY = """\
resource "aws_iam_policy" "p" {
  policy = <<EOF
{
  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]
}
# not a comment, not = an attribute
EOF
  name        = "after-heredoc"
  description = <<-TXT
    indented } text
      keeps relative indent
    TXT
  path   = "/a{b}/#c//d/"
  url    = "http://example.com/${var.name}"
  json   = jsonencode({ a = "}", b = "{" })
  quoted = "she said \\"x = 1\\""
  escape = "$${aws:username}"
}
variable "name" {
  default = "app"
}
"""


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("policy", (('{\n  "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]\n}\n'
                    "# not a comment, not = an attribute"), 2, 7)),
        ("name", ("after-heredoc", 8, 8)),
        ("description", ("indented } text\n  keeps relative indent", 9, 12)),
        ("path", ("/a{b}/#c//d/", 13, 13)),
        ("url", ("http://example.com/app", 14, 14)),
        ("json", (Unknown('jsonencode({"a": "}", "b": "{"})'), 15, 15)),
        ("quoted", ('she said "x = 1"', 16, 16)),
        ("escape", ("${aws:username}", 17, 17)),
    ],
)
def test_heredocs_and_strings_do_not_confuse_lines(key: str, expected: Any) -> None:
    assert spans(at(TRICKY, "aws_iam_policy.p", key)) == expected


PARENTHESISED = """\
locals {
  size = (var.clustered # Terraform ignores line breaks inside parentheses
    ? 3 /* nodes */
    : 1
  )
  policy = trimspace(<<EOT
    {"a": 1}
  EOT
  )
  after = 2
}
"""


@pytest.mark.parametrize(
    ("address", "value", "span"),
    [
        ("local.size", Unknown("var.clustered ? 3 : 1"), (2, 5)),
        ("local.policy", Unknown, (6, 9)),  # a function call: Unknown, whatever hcl2 renders
        ("local.after", 2, (10, 10)),
    ],
)
def test_line_breaks_inside_parentheses_parse(address: str, value: Any, span: tuple[int, int]) -> None:
    resource = by_address(PARENTHESISED, address)
    (parsed,) = resource.body.plain().values()
    assert (resource.line, resource.end_line) == span
    assert isinstance(parsed, Unknown) if value is Unknown else parsed == value


def test_a_template_left_open_at_the_end_of_the_file_ends_on_its_last_line() -> None:
    # Found by the fuzzer: `"%{` never closed ran to the end of the file and past its final line
    # break, so the value's span named a line 4 in a file of 3.
    text = 'region = "%{eu-west-1"\ncidrs = ["10.0.0.0/8"]\ntags = {a = 1}\n'
    [_, _, string] = tokenize(text).toks
    assert (string.line, string.end_line) == (1, 3)
    assert tokenize('a = "%{x').toks[-1].end_line == 1
