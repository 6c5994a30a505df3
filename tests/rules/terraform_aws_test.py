"""The Terraform AWS pack on its own: fixtures, suggestions, unknown values and module context.

Runs the parser and each rule directly (no engine), with a small context over the module's
resources, so a failure points at the rule or the parser rather than at the review pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.engine.model import Resource, Violation
from bot.engine.parsers.terraform import parse_module
from bot.engine.rule import Rule
from rules.registry import all_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
MARKER = re.compile(r"expect:\s*([A-Z0-9, -]+)")
# The pack's rules and the specs (rules/specs/aws) that took over some of its ids: one numbering.
RULES = tuple(sorted((r for r in all_rules() if r.id.startswith("CB-AWS-")), key=lambda r: r.id))
BY_ID = {rule.id: rule for rule in RULES}


class ModuleContext:
    """RuleContext over the resources of one module."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.resources = list(resources)

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return self.resources

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        return [
            other
            for other in self.resources
            if other is not resource and resource.address in other.references and (type_ is None or other.type == type_)
        ]

    def base(self, resource: Resource) -> Resource | None:
        return None  # the minimum rules never look at the base


def load_module(files: dict[str, str]) -> list[Resource]:
    parsed = parse_module(files)
    errors = [e for result in parsed.values() for e in result.errors]
    assert errors == []
    return [r for result in parsed.values() for r in result.resources]


def run(rule: Rule, resources: Sequence[Resource]) -> list[tuple[Resource, Violation]]:
    ctx = ModuleContext(resources)
    return [(r, v) for r in resources if rule.applies_to(r) for v in rule.check(r, ctx)]


def fixture_files(rule_id: str) -> dict[str, str]:
    directory = FIXTURES / rule_id
    paths = sorted([*directory.glob("*.tf"), *directory.glob("*.tf.json")])
    return {p.relative_to(directory).as_posix(): p.read_text() for p in paths}


def expected_lines(rule_id: str) -> set[tuple[str, int]]:
    expected = set()
    for path, text in fixture_files(rule_id).items():
        for number, line in enumerate(text.split("\n"), start=1):
            match = MARKER.search(line)
            if match and rule_id in {part.strip() for part in match.group(1).split(",")}:
                expected.add((path, number))
    sidecar = FIXTURES / rule_id / "expect.txt"
    terraform = fixture_files(rule_id)
    if sidecar.exists():  # rows of the Terraform files (a fixture may hold CloudFormation templates too)
        for row in sidecar.read_text().split():
            path, _, line = row.rpartition(":")
            if path in terraform:
                expected.add((path, int(line)))
    return expected


def findings(rule_id: str, files: dict[str, str]) -> list[tuple[Resource, Violation]]:
    """What the engine reports by default: a rule's "cannot tell" (undecided) is left out."""
    return [(r, v) for r, v in run(BY_ID[rule_id], load_module(files)) if not v.undecided]


def one_file(text: str) -> dict[str, str]:
    return {"main.tf": text}


# --- the pack as data ---------------------------------------------------------------------------


def test_pack_is_an_explicit_tuple_of_well_formed_rules() -> None:
    assert isinstance(RULES, tuple) and len(RULES) >= 16
    ids = [rule.id for rule in RULES]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"CB-AWS-\d{3}", i) for i in ids)
    # The first pack is numbered without gaps; later rule sets take ranges of their own (CB-AWS-070...).
    assert {f"CB-AWS-{n:03d}" for n in range(1, 25)} <= set(ids)
    for rule in RULES:
        assert "terraform" in rule.sources
        assert rule.types, rule.id
        assert len(rule.title) > 10 and len(rule.rationale) > 40 and len(rule.remediation) > 20, rule.id


@pytest.mark.parametrize("rule_id", sorted(BY_ID))
def test_rule_flags_exactly_the_marked_fixture_lines(rule_id: str) -> None:
    found = {(resource.path, violation.line) for resource, violation in findings(rule_id, fixture_files(rule_id))}
    expected = expected_lines(rule_id)
    assert expected, "the fixture marks no line"
    assert found == expected


@pytest.mark.parametrize("rule_id", sorted(BY_ID))
def test_violations_of_one_resource_are_told_apart(rule_id: str) -> None:
    seen: set[tuple[str, str | None, int]] = set()
    for resource, violation in findings(rule_id, fixture_files(rule_id)):
        identity = (resource.address, violation.key, violation.line)
        assert identity not in seen
        seen.add(identity)
        assert resource.line <= violation.line <= resource.end_line
        assert violation.message


@pytest.mark.parametrize("rule_id", sorted(BY_ID))
def test_every_suggestion_parses_and_fixes_the_finding(rule_id: str) -> None:
    """Apply each suggestion to its file: the result parses and the rule no longer fires there."""
    files = fixture_files(rule_id)
    for resource, violation in findings(rule_id, files):
        if violation.suggestion is None:
            continue
        lines = files[resource.path].split("\n")
        end = violation.end_line or violation.line
        patched = lines[: violation.line - 1] + violation.suggestion.split("\n") + lines[end:]
        after = findings(rule_id, {**files, resource.path: "\n".join(patched)})
        still = [v for r, v in after if r.address == resource.address and r.path == resource.path and v.key == violation.key]
        assert still == [], f"{resource.address}: suggestion did not fix it:\n{violation.suggestion}"


def test_every_rule_survives_every_fixture() -> None:
    """Rules meet resource types they were not written for only through `types`; still, checks
    must never raise on any resource of the fixtures, whatever its shape."""
    for fixture in sorted(BY_ID):
        resources = load_module(fixture_files(fixture))
        ctx = ModuleContext(resources)
        for rule in RULES:
            for resource in resources:
                list(rule.check(resource, ctx))


# --- suggestions ----------------------------------------------------------------------------------

SUGGESTIONS = [
    (
        "CB-AWS-001",
        'resource "aws_ebs_volume" "v" {\n  size      = 10\n  encrypted = false # keep me\n}\n',
        "  encrypted = true # keep me",
    ),
    (
        "CB-AWS-001",
        'resource "aws_ebs_volume" "v" {\n    availability_zone = "a"\n}\n',
        'resource "aws_ebs_volume" "v" {\n    encrypted = true',
    ),
    (
        "CB-AWS-001",
        'resource "aws_instance" "i" {\n  ami = "x"\n  root_block_device {\n    volume_size = 8\n  }\n}\n',
        "  root_block_device {\n    encrypted = true",
    ),
    (
        "CB-AWS-006",
        'resource "aws_cloudwatch_log_group" "g" {\n  retention_in_days = 14\n}\n',
        "  retention_in_days = 365",
    ),
    (
        "CB-AWS-007",
        'resource "aws_s3_bucket_acl" "a" {\n  bucket = "b"\n  acl    = "public-read"\n}\n',
        '  acl    = "private"',
    ),
    (
        "CB-AWS-008",
        ('resource "aws_s3_bucket_public_access_block" "p" {\n  bucket            = "b"\n'
        "  block_public_acls = true\n}\n"),
        ('resource "aws_s3_bucket_public_access_block" "p" {\n  block_public_policy = true\n'
        "  ignore_public_acls = true\n  restrict_public_buckets = true"),
    ),
    (
        "CB-AWS-014",
        'resource "aws_lb_listener" "l" {\n  port     = 443\n  protocol = "HTTPS"\n}\n',
        'resource "aws_lb_listener" "l" {\n  ssl_policy = "ELBSecurityPolicy-TLS13-1-2-2021-06"',
    ),
    (
        "CB-AWS-021",
        'resource "aws_instance" "i" {\n  ami = "ami-1"\n}\n',
        'resource "aws_instance" "i" {\n  metadata_options {\n    http_tokens = "required"\n  }',
    ),
]


@pytest.mark.parametrize(("rule_id", "source", "suggestion"), SUGGESTIONS)
def test_suggestion_text(rule_id: str, source: str, suggestion: str) -> None:
    (_, violation), = findings(rule_id, one_file(source))
    assert violation.suggestion == suggestion


@pytest.mark.parametrize(
    ("rule_id", "source"),
    [
        # The value comes from a variable: the fix belongs at the variable, not here.
        ("CB-AWS-001", 'variable "e" {\n  default = false\n}\nresource "aws_ebs_volume" "v" {\n  encrypted = var.e\n}\n'),
        # A one-line block cannot take an inserted attribute line.
        ("CB-AWS-016", 'resource "aws_efs_file_system" "f" { creation_token = "x" }\n'),
    ],
)
def test_no_suggestion_where_the_edit_is_not_mechanical(rule_id: str, source: str) -> None:
    (_, violation), = findings(rule_id, one_file(source))
    assert violation.suggestion is None


# --- unknown values never report alone -----------------------------------------------------------

UNKNOWN = [
    ("CB-AWS-001", 'resource "aws_ebs_volume" "v" {\n  encrypted = var.enc\n}\nvariable "enc" {}\n'),
    ("CB-AWS-002", 'resource "aws_db_instance" "d" {\n  storage_encrypted = local.enc\n}\nlocals {\n  enc = var.x\n}\n'),
    ("CB-AWS-003", 'resource "aws_db_instance" "d" {\n  publicly_accessible = var.env == "dev"\n}\n'),
    ("CB-AWS-004", ('resource "aws_security_group_rule" "r" {\n  type = "ingress"\n  from_port = 22\n'
                   '  to_port = 22\n  protocol = "tcp"\n  cidr_blocks = var.cidrs\n}\n')),
    ("CB-AWS-004", ('resource "aws_security_group_rule" "r" {\n  type = var.direction\n  from_port = 22\n'
                   '  to_port = 22\n  protocol = "tcp"\n  cidr_blocks = ["0.0.0.0/0"]\n}\n')),
    ("CB-AWS-005", ('resource "aws_vpc_security_group_ingress_rule" "r" {\n  cidr_ipv4 = "0.0.0.0/0"\n'
                   '  ip_protocol = lookup(var.p, "x")\n}\n')),
    ("CB-AWS-006", 'resource "aws_cloudwatch_log_group" "g" {\n  retention_in_days = max(var.a, 1)\n}\n'),
    ("CB-AWS-007", 'resource "aws_s3_bucket_acl" "a" {\n  acl = "${var.prefix}-read"\n}\n'),
    ("CB-AWS-008", ('resource "aws_s3_bucket_public_access_block" "p" {\n  block_public_acls = var.b\n'
                   '  block_public_policy = var.b\n  ignore_public_acls = var.b\n  restrict_public_buckets = var.b\n}\n')),
    ("CB-AWS-009", 'resource "aws_s3_bucket" "b" {\n  tags = var.tags\n}\n'),
    ("CB-AWS-010", 'resource "aws_cloudtrail" "t" {\n  enable_log_file_validation = var.v\n}\n'),
    ("CB-AWS-011", 'resource "aws_cloudtrail" "t" {\n  kms_key_id = var.k\n}\n'),
    ("CB-AWS-012", 'resource "aws_kms_key" "k" {\n  enable_key_rotation = var.rotate\n}\n'),
    ("CB-AWS-012", 'resource "aws_kms_key" "k" {\n  customer_master_key_spec = var.spec\n}\n'),
    ("CB-AWS-013", ('resource "aws_lb_listener" "l" {\n  protocol = var.protocol\n  default_action {\n'
                   '    type = "forward"\n  }\n}\n')),
    ("CB-AWS-014", 'resource "aws_lb_listener" "l" {\n  protocol = "HTTPS"\n  ssl_policy = var.policy\n}\n'),
    ("CB-AWS-015", ('resource "aws_cloudfront_distribution" "d" {\n  default_cache_behavior {\n'
                   '    viewer_protocol_policy = var.vpp\n  }\n}\n')),
    ("CB-AWS-017", 'resource "aws_elasticache_replication_group" "r" {\n  engine = var.engine\n}\n'),
    ("CB-AWS-019", 'resource "aws_opensearch_domain" "d" {\n  encrypt_at_rest {\n    enabled = var.e\n  }\n}\n'),
    ("CB-AWS-021", 'resource "aws_instance" "i" {\n  metadata_options {\n    http_tokens = var.t\n  }\n}\n'),
    ("CB-AWS-022", ('data "aws_iam_policy_document" "d" {\n  statement {\n    effect = var.e\n'
                   '    actions = ["*"]\n    resources = ["*"]\n  }\n}\n')),
    ("CB-AWS-022", 'resource "aws_iam_policy" "p" {\n  policy = file("admin.json")\n}\n'),
    ("CB-AWS-023", 'resource "aws_db_instance" "d" {\n  backup_retention_period = var.days\n}\n'),
    ("CB-AWS-024", 'resource "aws_sqs_queue" "q" {\n  sqs_managed_sse_enabled = var.sse\n}\n'),
]


@pytest.mark.parametrize(("rule_id", "source"), UNKNOWN)
def test_unknown_values_are_never_a_finding_alone(rule_id: str, source: str) -> None:
    # A rule may say "cannot tell" (undecided), which the engine reports only under `unknown.fail`.
    assert [v for _, v in run(BY_ID[rule_id], load_module(one_file(source))) if not v.undecided] == []


# --- module context --------------------------------------------------------------------------------

VOLUME = 'resource "aws_ebs_volume" "v" {\n  availability_zone = "a"\n  size = 10\n}\n'


@pytest.mark.parametrize(
    ("account_default", "flagged"),
    [
        ("", True),
        ('resource "aws_ebs_encryption_by_default" "on" {\n  enabled = true\n}\n', False),
        ('resource "aws_ebs_encryption_by_default" "on" {}\n', False),  # enabled defaults to true
        ('resource "aws_ebs_encryption_by_default" "off" {\n  enabled = false\n}\n', True),
    ],
)
def test_account_wide_ebs_encryption_covers_the_module(account_default: str, flagged: bool) -> None:
    files = {"volumes.tf": VOLUME, "account.tf": account_default}
    assert bool(findings("CB-AWS-001", files)) is flagged


BUCKET = 'resource "aws_s3_bucket" "phi" {\n  bucket = "records"\n  tags = {\n    DataClassification = "PHI"\n  }\n}\n'
SSE = (
    'resource "aws_s3_bucket_server_side_encryption_configuration" "phi" {\n'
    "  bucket = aws_s3_bucket.phi.id\n"
    "  rule {\n    apply_server_side_encryption_by_default {\n"
    '      sse_algorithm = "aws:kms"\n    }\n  }\n}\n'
)


def test_removing_the_sse_configuration_flags_the_bucket_through_referrers() -> None:
    assert findings("CB-AWS-009", {"bucket.tf": BUCKET, "encryption.tf": SSE}) == []
    (resource, violation), = findings("CB-AWS-009", {"bucket.tf": BUCKET})
    assert (resource.address, violation.line) == ("aws_s3_bucket.phi", 1)
    assert "PHI" in violation.message


def test_an_internal_load_balancer_is_not_internet_facing() -> None:
    listener = (
        'resource "aws_lb_listener" "l" {\n  load_balancer_arn = aws_lb.lb.arn\n  protocol = "HTTP"\n'
        '  default_action {\n    type = "forward"\n  }\n}\n'
    )
    internal = 'resource "aws_lb" "lb" {\n  internal = true\n}\n'
    public = 'resource "aws_lb" "lb" {\n  internal = false\n}\n'
    assert findings("CB-AWS-013", {"a.tf": listener, "b.tf": internal}) == []
    assert len(findings("CB-AWS-013", {"a.tf": listener, "b.tf": public})) == 1


def test_account_imds_defaults_cover_instances() -> None:
    instance = 'resource "aws_instance" "i" {\n  ami = "ami-1"\n}\n'
    defaults = 'resource "aws_ec2_instance_metadata_defaults" "d" {\n  http_tokens = "required"\n}\n'
    assert findings("CB-AWS-021", {"a.tf": instance, "b.tf": defaults}) == []
    assert len(findings("CB-AWS-021", {"a.tf": instance})) == 1


def test_count_zero_and_data_sources_are_not_judged() -> None:
    source = (
        'resource "aws_efs_file_system" "off" {\n  count = 0\n}\n'
        'resource "aws_efs_file_system" "none" {\n  for_each = {}\n}\n'
        'data "aws_db_instance" "existing" {\n  db_instance_identifier = "prod"\n}\n'
    )
    assert findings("CB-AWS-016", one_file(source)) == []
    assert findings("CB-AWS-002", one_file(source)) == []


def test_security_group_findings_land_on_the_open_cidr_item() -> None:
    source = (
        'resource "aws_security_group" "sg" {\n'
        "  ingress = [{\n"
        "    from_port   = 0\n"
        "    to_port     = 65535\n"
        '    protocol    = "tcp"\n'
        "    cidr_blocks = [\n"
        '      "10.0.0.0/8",\n'
        '      "0.0.0.0/0",\n'
        "    ]\n"
        "  }]\n"
        "}\n"
    )
    (_, admin), = findings("CB-AWS-004", one_file(source))
    database = findings("CB-AWS-005", one_file(source))
    assert admin.line == 8 and "22 (SSH)" in admin.message and "3389 (RDP)" in admin.message
    assert [v.line for _, v in database] == [8]
