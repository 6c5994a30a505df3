"""The Python checks behind the AWS specs (rules/checks): what they decide when a reference or a
parameter cannot be read, which the fixtures cannot show (an undecided verdict is no finding)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.model import Resource, Violation
from bot.engine.parsers.terraform import parse_module
from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.rule import CheckFn, Rule
from bot.engine.selection import reference_names
from rules.checks import aws_links, aws_params
from rules.checks._common import points_at
from rules.spec.catalog import spec_rules


class Context:
    """The RuleContext of one module or template: every resource parsed with it."""

    def __init__(self, resources: Sequence[Resource]) -> None:
        self.resources = list(resources)

    def siblings(self, resource: Resource) -> Sequence[Resource]:
        return self.resources

    def referrers(self, resource: Resource, type_: str | None = None) -> Sequence[Resource]:
        names = reference_names(resource)
        return [r for r in self.resources if r is not resource and not r.references.isdisjoint(names)
                and (type_ is None or r.type == type_)]

    def base(self, resource: Resource) -> Resource | None:
        return None


def terraform(text: str) -> list[Resource]:
    parsed = parse_module({"main.tf": text})
    assert [e for result in parsed.values() for e in result.errors] == []
    return [r for result in parsed.values() for r in result.resources]


def template(text: str) -> list[Resource]:
    parsed = parse_yaml("template.yaml", text)
    assert parsed.errors == ()
    return list(parsed.resources)


def judge(check: CheckFn, resources: list[Resource], address: str) -> list[Violation]:
    target = next(r for r in resources if r.address == address)
    return list(check(target, Context(resources)))


VARIABLE = 'variable "x" {\n  type = string\n}\n'


def spec_rule(rule_id: str) -> Rule:
    return next(rule for rule in spec_rules() if rule.id == rule_id)


def test_a_flow_log_whose_target_is_a_variable_leaves_the_vpc_undecided() -> None:
    resources = terraform('resource "aws_vpc" "a" {\n  cidr_block = "10.0.0.0/16"\n}\n'
                          'resource "aws_flow_log" "f" {\n  vpc_id = var.x\n  traffic_type = "ALL"\n}\n' + VARIABLE)
    [violation] = judge(spec_rule("CB-AWS-027").check, resources, "aws_vpc.a")
    assert violation.undecided and violation.line == 1


def test_a_flow_log_for_another_vpc_does_not_cover_this_one() -> None:
    resources = terraform('resource "aws_vpc" "a" {\n  cidr_block = "10.0.0.0/16"\n}\n'
                          'resource "aws_vpc" "b" {\n  cidr_block = "10.1.0.0/16"\n}\n'
                          'resource "aws_flow_log" "f" {\n  vpc_id = aws_vpc.b.id\n  traffic_type = "ALL"\n}\n')
    [violation] = judge(spec_rule("CB-AWS-027").check, resources, "aws_vpc.a")
    assert not violation.undecided
    assert judge(spec_rule("CB-AWS-027").check, resources, "aws_vpc.b") == []


def test_names_are_matched_whole_not_as_prefixes() -> None:
    resources = terraform('resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n'
                          'resource "aws_flow_log" "f" {\n  vpc_id = aws_vpc.main2.id\n}\n')
    main = next(r for r in resources if r.address == "aws_vpc.main")
    flow = next(r for r in resources if r.type == "aws_flow_log")
    assert points_at(flow.body.get("vpc_id"), main) is False


def test_a_bucket_logged_through_a_variable_is_undecided_and_a_log_target_is_not_judged() -> None:
    resources = terraform('resource "aws_s3_bucket" "data" {\n  bucket = "data"\n}\n'
                          'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'
                          'resource "aws_s3_bucket_logging" "l" {\n  bucket = var.x\n'
                          '  target_bucket = aws_s3_bucket.logs.id\n}\n' + VARIABLE)
    [violation] = judge(aws_links.s3_bucket_access_logging, resources, "aws_s3_bucket.data")
    assert violation.undecided
    assert judge(aws_links.s3_bucket_access_logging, resources, "aws_s3_bucket.logs") == []


def test_a_cloudformation_log_target_is_not_judged() -> None:
    resources = template("Resources:\n  Data:\n    Type: AWS::S3::Bucket\n    Properties:\n"
                         "      LoggingConfiguration:\n        DestinationBucketName: !Ref Logs\n"
                         "  Logs:\n    Type: AWS::S3::Bucket\n")
    assert judge(aws_links.s3_bucket_access_logging, resources, "Resources.Logs") == []
    assert judge(aws_links.s3_bucket_access_logging, resources, "Resources.Data") == []


def test_a_rotation_through_a_variable_leaves_the_secret_undecided() -> None:
    resources = terraform('resource "aws_secretsmanager_secret" "s" {\n  name = "s"\n}\n'
                          'resource "aws_secretsmanager_secret_rotation" "r" {\n  secret_id = var.x\n}\n' + VARIABLE)
    [violation] = judge(spec_rule("CB-AWS-059").check, resources, "aws_secretsmanager_secret.s")
    assert violation.undecided


def test_a_rotation_naming_the_secret_literally_counts() -> None:
    resources = terraform('resource "aws_secretsmanager_secret" "s" {\n  name = "prod/db"\n}\n'
                          'resource "aws_secretsmanager_secret_rotation" "r" {\n  secret_id = "prod/db"\n}\n')
    assert judge(spec_rule("CB-AWS-059").check, resources, "aws_secretsmanager_secret.s") == []


def test_a_parameter_group_with_generated_or_unknown_parameters_is_undecided() -> None:
    generated = terraform('resource "aws_db_parameter_group" "g" {\n  family = "mysql8.0"\n'
                          '  dynamic "parameter" {\n    for_each = var.p\n    content {\n'
                          '      name = parameter.key\n      value = parameter.value\n    }\n  }\n}\n'
                          'variable "p" {\n  type = map(string)\n}\n')
    [violation] = judge(aws_params.db_parameter_group_requires_tls, generated, "aws_db_parameter_group.g")
    assert violation.undecided
    unknown = terraform('resource "aws_db_parameter_group" "g" {\n  family = "postgres13"\n'
                        '  parameter {\n    name = "rds.force_ssl"\n    value = var.x\n  }\n}\n' + VARIABLE)
    [violation] = judge(aws_params.db_parameter_group_requires_tls, unknown, "aws_db_parameter_group.g")
    assert violation.undecided and violation.line == 5


def test_a_parameter_group_of_unknown_family_is_not_judged() -> None:
    resources = terraform('resource "aws_db_parameter_group" "g" {\n  family = var.x\n}\n' + VARIABLE)
    assert judge(aws_params.db_parameter_group_requires_tls, resources, "aws_db_parameter_group.g") == []


def test_parameter_names_are_case_insensitive_and_on_reads_as_enabled() -> None:
    resources = terraform('resource "aws_rds_cluster_parameter_group" "g" {\n  family = "aurora-mysql8.0"\n'
                          '  parameter {\n    name = "REQUIRE_SECURE_TRANSPORT"\n    value = "on"\n  }\n}\n')
    assert judge(aws_params.db_parameter_group_requires_tls, resources, "aws_rds_cluster_parameter_group.g") == []


def test_unknown_load_balancer_attributes_and_log_types_are_undecided() -> None:
    resources = template("Parameters:\n  Attrs:\n    Type: CommaDelimitedList\nResources:\n"
                         "  Lb:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n    Properties:\n"
                         "      LoadBalancerAttributes: !Ref Attrs\n"
                         "  Eks:\n    Type: AWS::EKS::Cluster\n    Properties:\n      Logging:\n"
                         "        ClusterLogging:\n          EnabledTypes:\n            - Type: !Ref Attrs\n"
                         "            - Type: api\n")
    [lb] = judge(spec_rule("CB-AWS-044").check, resources, "Resources.Lb")  # a `some` over an unknown list
    assert lb.undecided
    [eks] = judge(aws_params.eks_cluster_logging_types, resources, "Resources.Eks")
    assert eks.undecided and "audit" in eks.message
