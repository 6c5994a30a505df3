"""Module assembly: every block kind as a resource, scope shared across files, and a
`parse_module` that never raises and keeps the other files when one breaks."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.model import Unknown
from bot.engine.parsers.terraform import parse_module
from tests.engine.parsers.terraform.support import MODULE, NESTED, VOLUME, at, by_address, parse, spans


@pytest.mark.parametrize(
    ("address", "kind", "type_", "line", "end_line"),
    [
        ("provider.aws", "provider", "provider", 5, 7),
        ("provider.aws.us", "provider", "provider", 9, 12),
        ("var.name", "variable", "variable", 14, 16),
        ("local.prefix", "locals", "locals", 19, 19),
        ("local.full", "locals", "locals", 20, 20),
        ("data.aws_caller_identity.current", "data", "aws_caller_identity", 23, 23),
        ("module.vpc", "module", "module", 25, 27),
        ("aws_s3_bucket.logs", "resource", "aws_s3_bucket", 29, 31),
        ("output.bucket", "output", "output", 33, 35),
    ],
)
def test_every_block_kind_becomes_a_resource(address: str, kind: str, type_: str, line: int, end_line: int) -> None:
    resource = by_address(MODULE, address)
    assert (resource.source, resource.kind, resource.type) == ("terraform", kind, type_)
    assert (resource.line, resource.end_line) == (line, end_line)
    assert resource.lines == tuple(MODULE.split("\n")[line - 1 : end_line])
    assert resource.path == "main.tf"


def test_terraform_settings_block_is_not_a_resource() -> None:
    assert sorted(r.address for r in parse(MODULE)) == sorted(
        [
            "provider.aws", "provider.aws.us", "var.name", "local.prefix", "local.full",
            "data.aws_caller_identity.current", "module.vpc", "aws_s3_bucket.logs", "output.bucket",
        ]
    )


def test_a_local_is_its_own_resource_holding_its_resolved_value() -> None:
    assert by_address(MODULE, "local.full").body.plain() == {"full": "team-app"}
    assert by_address(MODULE, "aws_s3_bucket.logs").body.plain() == {"bucket": "team-app"}


def test_variables_and_locals_resolve_across_the_files_of_a_module() -> None:
    files = {
        "variables.tf": 'variable "encrypted" {\n  default = false\n}\n',
        "locals.tf": "locals {\n  enc = var.encrypted\n}\n",
        "main.tf": 'resource "aws_ebs_volume" "v" {\n  encrypted = local.enc\n}\n',
    }
    parsed = parse_module(files)
    (volume,) = parsed["main.tf"].resources
    assert spans(volume.body.get("encrypted")) == (False, 2, 2)  # type: ignore[arg-type]


def test_one_broken_file_leaves_the_rest_of_the_module_parsed() -> None:
    files = {
        "broken.tf": 'variable "enc" {\n  default = true\n',
        "main.tf": 'resource "aws_ebs_volume" "v" {\n  encrypted = var.enc\n  size      = 10\n}\n',
    }
    parsed = parse_module(files)
    assert list(parsed) == ["broken.tf", "main.tf"]
    assert parsed["broken.tf"].errors and parsed["broken.tf"].errors[0].line == 2
    (volume,) = parsed["main.tf"].resources
    # The variable lives in the broken file, so its value cannot be known.
    assert volume.body.plain() == {"encrypted": Unknown("var.enc"), "size": 10}


def test_windows_line_endings_keep_lines() -> None:
    text = VOLUME.replace("\n", "\r\n")
    resource = by_address(text, "aws_ebs_volume.data")
    assert spans(at(text, "aws_ebs_volume.data", "encrypted")) == (False, 8, 8)
    assert resource.text_at(8) == "  encrypted         = false"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(list('abc_ ="{}[]()#/*<-\n$%.,:\\1') + ["EOF", "<<EOF\n", "${", "resource"]),
                max_size=120).map("".join))
def test_parse_module_never_raises(text: str) -> None:
    result = parse_module({"fuzz.tf": text})
    assert set(result) == {"fuzz.tf"}


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=len(NESTED) - 1), st.integers(min_value=1, max_value=12))
def test_truncated_real_files_never_raise(start: int, length: int) -> None:
    damaged = NESTED[:start] + NESTED[start + length :]
    result = parse_module({"damaged.tf": damaged})["damaged.tf"]
    for resource in result.resources:
        assert 1 <= resource.line <= resource.end_line <= damaged.count("\n") + 1
