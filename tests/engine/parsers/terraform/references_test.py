"""References: every address an expression names, also through locals and nested blocks."""

from __future__ import annotations

import pytest

from tests.engine.parsers.terraform.support import by_address


@pytest.mark.parametrize(
    ("expression", "references"),
    [
        ("aws_kms_key.k.arn", {"aws_kms_key.k"}),
        ("data.aws_iam_policy_document.p.json", {"data.aws_iam_policy_document.p"}),
        ("module.vpc.vpc_id", {"module.vpc"}),
        ("var.name", {"var.name"}),
        ('"${local.prefix}-${aws_s3_bucket.b.id}"', {"local.prefix", "aws_s3_bucket.b"}),
        ("aws_instance.web[*].id", {"aws_instance.web"}),
        ("aws_subnet.private[0].id", {"aws_subnet.private"}),
        ('jsonencode({ Resource = "${aws_s3_bucket.b.arn}/*" })', {"aws_s3_bucket.b"}),
        ("[for s in aws_subnet.all : s.id]", {"aws_subnet.all"}),
        ('"plain aws_s3_bucket.not_a_reference text"', set()),
        ("each.value", set()),
        ("count.index", set()),
        ("path.module", set()),
    ],
)
def test_references_name_every_address_an_expression_uses(expression: str, references: set[str]) -> None:
    text = f'resource "x_y" "z" {{\n  value = {expression}\n}}\n'
    assert set(by_address(text, "x_y.z").references) == references


def test_references_look_through_locals_and_nested_blocks() -> None:
    text = (
        "locals {\n  bucket = aws_s3_bucket.b.id\n}\n"
        'resource "aws_s3_bucket_server_side_encryption_configuration" "c" {\n'
        "  bucket = local.bucket\n"
        "  rule {\n    apply_server_side_encryption_by_default {\n"
        "      kms_master_key_id = aws_kms_key.k.arn\n    }\n  }\n}\n"
    )
    config = by_address(text, "aws_s3_bucket_server_side_encryption_configuration.c")
    assert set(config.references) == {"local.bucket", "aws_s3_bucket.b", "aws_kms_key.k"}
