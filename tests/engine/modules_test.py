"""Review what Terraform will apply: local module calls with their arguments (nested too),
variable files, where a finding lands (on the change) and where its value came from."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import pytest

from bot.engine.diff import FileDiff, parse_file_patch
from bot.engine.model import Severity
from bot.engine.policy import Policy
from bot.engine.review import Engine, Review, RuleSet
from bot.engine.tree import MemoryTree
from rules.registry import all_rules, default_controls

VOLUME_MODULE = """\
variable "encrypted" {
  type    = bool
  default = true
}

resource "aws_ebs_volume" "this" {
  availability_zone = "eu-west-1a"
  size              = 10
  encrypted         = var.encrypted
}
"""
ENCRYPTED_LINE = 9  # `encrypted = var.encrypted` in the module


def call(name: str, source: str, encrypted: str | None) -> str:
    argument = f"  encrypted = {encrypted}\n" if encrypted is not None else ""
    return f'module "{name}" {{\n  source    = "{source}"\n{argument}}}\n'


def change(base: Mapping[str, str], head: Mapping[str, str], policy: Policy | None = None) -> Review:
    """Review the change base -> head with every shipped rule."""
    diffs: list[FileDiff] = []
    for path in sorted(set(base) | set(head)):
        old, new = base.get(path), head.get(path)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "modified"
        lines = list(difflib.unified_diff((old or "").splitlines(True), (new or "").splitlines(True), n=3))
        diffs.append(parse_file_patch(path, "".join(lines[2:]), status))
    engine = Engine(RuleSet(all_rules(), default_controls()), policy or Policy())
    return engine.review_change(diffs, MemoryTree(dict(head)), MemoryTree(dict(base)))


def found(review: Review, rule: str = "CB-AWS-001") -> list[tuple[str, int, str | None]]:
    return [(f.path, f.line, f.resource) for f in review.findings if f.rule_id == rule]


def test_a_module_argument_turning_encryption_off_is_found_on_the_argument_line() -> None:
    base = {"modules/volume/main.tf": VOLUME_MODULE, "main.tf": call("ledger", "./modules/volume", None)}
    head = {**base, "main.tf": call("ledger", "./modules/volume", "false")}
    review = change(base, head)
    assert found(review) == [("main.tf", 3, "module.ledger.aws_ebs_volume.this")]
    (finding,) = review.findings
    assert finding.provenance == ("`var.encrypted` ← `encrypted = false` in module call `ledger`, main.tf:3; "
                                  "with the inputs of module call `ledger` (main.tf:1)")
    assert finding.suggestion is None  # the rule's suggestion is for the module's line, not this one


def test_a_secure_argument_overriding_an_insecure_default_is_clean() -> None:
    insecure = VOLUME_MODULE.replace("default = true", "default = false")
    head = {"modules/volume/main.tf": insecure, "main.tf": call("ledger", "./modules/volume", "true")}
    assert found(change({}, head)) == []  # the module is reviewed as its caller makes it, not with defaults


def test_a_module_changed_so_that_one_of_two_callers_fails_names_that_caller() -> None:
    callers = {
        "prod/main.tf": call("data", "../modules/volume", "true"),
        "dev/main.tf": call("scratch", "../modules/volume", "false"),
    }
    base = {"modules/volume/main.tf": VOLUME_MODULE, **callers}
    head = {"modules/volume/main.tf": VOLUME_MODULE.replace("size              = 10", "size              = 20"),
            **callers}
    review = change(base, head)
    # The module's own line changed nothing about encryption, but the resource changed: each instance
    # is checked with its caller's inputs, and only dev's makes it fail, on the module's line.
    assert found(review) == [("modules/volume/main.tf", ENCRYPTED_LINE, "aws_ebs_volume.this")]
    (finding,) = review.findings
    assert finding.provenance is not None
    assert "module call `scratch` (dev/main.tf:1)" in finding.provenance
    assert "`data`" not in finding.provenance


def test_every_failing_caller_is_named_once_on_the_modules_line() -> None:
    head = {"modules/volume/main.tf": VOLUME_MODULE,
            "a/main.tf": call("one", "../modules/volume", "false"),
            "b/main.tf": call("two", "../modules/volume", "false")}
    review = change({}, head)
    module_findings = [f for f in review.findings if f.path == "modules/volume/main.tf"]
    (finding,) = module_findings
    assert finding.line == ENCRYPTED_LINE and finding.provenance is not None
    assert "module call `one` (a/main.tf:1)" in finding.provenance
    assert "module call `two` (b/main.tf:1)" in finding.provenance
    # The module is new too, so the finding belongs to its line (once, naming both callers).
    assert found(review) == [("modules/volume/main.tf", ENCRYPTED_LINE, "aws_ebs_volume.this")]


def test_nested_modules_carry_the_value_down_every_level() -> None:
    wrapper = ('variable "encrypt" {\n  default = true\n}\n\nmodule "disk" {\n  source    = "../volume"\n'
               '  encrypted = var.encrypt\n}\n')
    base = {"modules/volume/main.tf": VOLUME_MODULE, "modules/server/main.tf": wrapper,
            "main.tf": 'module "app" {\n  source  = "./modules/server"\n  encrypt = true\n}\n'}
    head = {**base, "main.tf": base["main.tf"].replace("encrypt = true", "encrypt = false")}
    review = change(base, head)
    assert found(review) == [("main.tf", 3, "module.app.module.disk.aws_ebs_volume.this")]
    (finding,) = review.findings
    assert finding.provenance is not None and finding.provenance.startswith(
        "`var.encrypted` ← `encrypted = var.encrypt` in module call `disk`, modules/server/main.tf:7 ← "
        "`encrypt = false` in module call `app`, main.tf:3; with the inputs of module call `disk` "
        "(modules/server/main.tf:5); with the inputs of module call `app` (main.tf:1)")


def test_a_variable_file_change_is_found_on_the_changed_line() -> None:
    root = ('variable "db_public" {\n  default = false\n}\n\nresource "aws_db_instance" "main" {\n'
            '  engine              = "postgres"\n  storage_encrypted   = true\n'
            '  publicly_accessible = var.db_public\n}\n')
    base = {"main.tf": root, "terraform.tfvars": "db_public = false\n"}
    head = {**base, "terraform.tfvars": "db_public = true\n"}
    review = change(base, head)
    assert found(review, "CB-AWS-003") == [("terraform.tfvars", 1, "aws_db_instance.main")]
    (finding,) = [f for f in review.findings if f.rule_id == "CB-AWS-003"]
    assert finding.provenance == "`var.db_public` ← `db_public = true` in variable file, terraform.tfvars:1"


def test_auto_variable_files_win_over_terraform_tfvars_and_policy_files_come_last() -> None:
    root = ('variable "enc" {\n  default = true\n}\n\nresource "aws_ebs_volume" "v" {\n'
            '  availability_zone = "a"\n  size              = 1\n  encrypted         = var.enc\n}\n')
    head = {"envs/prod/main.tf": root, "envs/prod/terraform.tfvars": "enc = false\n",
            "envs/prod/z.auto.tfvars": "enc = true\n", "envs/prod/prod.tfvars": "enc = false\n"}
    assert found(change({}, head)) == []  # z.auto.tfvars is loaded after terraform.tfvars
    policy = Policy(var_files={"envs/prod": ("envs/prod/prod.tfvars",)})
    review = change({}, head, policy)
    assert found(review) == [("envs/prod/main.tf", 8, "aws_ebs_volume.v")]
    assert review.findings[0].provenance == "`var.enc` ← `enc = false` in variable file, envs/prod/prod.tfvars:1"


def test_a_changed_default_lands_on_the_default() -> None:
    root = ('variable "enc" {\n  default = true\n}\n\nresource "aws_ebs_volume" "v" {\n'
            '  availability_zone = "a"\n  size              = 1\n  encrypted         = var.enc\n}\n')
    base = {"main.tf": root}
    head = {"main.tf": root.replace("default = true", "default = false")}
    review = change(base, head)
    assert found(review) == [("main.tf", 2, "aws_ebs_volume.v")]
    assert review.findings[0].provenance == "`var.enc` ← `default = false` in the default of variable `enc`, main.tf:2"


def test_a_remote_module_call_is_listed_as_not_reviewed() -> None:
    head = {"main.tf": 'module "bucket" {\n  source  = "terraform-aws-modules/s3-bucket/aws"\n  version = "4.1.0"\n}\n'
                       'module "net" {\n  source = "git::https://example.com/net.git?ref=v1"\n}\n'}
    review = change({}, head)
    assert [(n.path, n.line, n.what) for n in review.not_reviewed] == [
        ("main.tf", 1, "remote module"), ("main.tf", 5, "remote module")]
    assert "registry and git modules cannot be read offline" in review.not_reviewed[0].reason
    assert review.conclusion(Policy()) == "success"  # listed, not failed (a policy switch can fail it)


def test_an_unchanged_remote_call_is_not_listed() -> None:
    base = {"main.tf": 'module "bucket" {\n  source = "terraform-aws-modules/s3-bucket/aws"\n}\n',
            "other.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n'}
    head = {**base, "other.tf": base["other.tf"].replace('"x"', '"y"')}
    assert change(base, head).not_reviewed == ()


def test_a_missing_or_circular_local_module_is_listed_not_crashed() -> None:
    head = {"main.tf": call("gone", "./modules/nothing", "true"),
            "a/main.tf": call("loop", "../b", "true"), "b/main.tf": call("back", "../a", "true")}
    review = change({}, head)
    reasons = {(n.path, n.what): n.reason for n in review.not_reviewed}
    assert "no Terraform files in ./modules/nothing" in reasons[("main.tf", "local module")]
    assert any("in a circle" in reason for reason in reasons.values())
    assert review.errors == ()


def test_what_terraform_would_not_create_is_not_judged() -> None:
    module = VOLUME_MODULE.replace('resource "aws_ebs_volume" "this" {\n',
                                   'resource "aws_ebs_volume" "this" {\n  count             = var.instances\n')
    module = 'variable "instances" {\n  default = 1\n}\n\n' + module
    head = {"modules/volume/main.tf": module,
            "main.tf": call("off", "./modules/volume", "false").replace("}\n", "  instances = 0\n}\n"),
            "other.tf": 'module "none" {\n  source    = "./modules/volume"\n  count     = 0\n  encrypted = false\n}\n',
            "empty.tf": ('resource "aws_ebs_volume" "each" {\n  for_each          = {}\n'
                         '  availability_zone = "a"\n  size              = 1\n  encrypted         = false\n}\n')}
    assert found(change({}, head)) == []
    conditional = module.replace("count             = var.instances", "count             = var.create ? 1 : 0")
    conditional = conditional.replace('variable "instances"', 'variable "create"').replace("default = 1", "default = true")
    head = {"modules/volume/main.tf": conditional,
            "main.tf": call("off", "./modules/volume", "false").replace("}\n", "  create    = false\n}\n")}
    assert found(change({}, head)) == []  # `count = false ? 1 : 0` is 0: nothing to judge
    head["main.tf"] = head["main.tf"].replace("create    = false", "create    = true")
    assert found(change({}, head)) == [("modules/volume/main.tf", 14, "aws_ebs_volume.this")]  # the module is new


# terraform-aws-rds's modules/db_instance, cut down to its CloudWatch log group.
RDS_VARIABLES = """\
variable "identifier" {
  type = string
}
variable "create" {
  type    = bool
  default = true
}
variable "create_cloudwatch_log_group" {
  type    = bool
  default = false
}
variable "use_identifier_prefix" {
  type    = bool
  default = false
}
variable "enabled_cloudwatch_logs_exports" {
  type    = list(string)
  default = []
}
variable "cloudwatch_log_group_retention_in_days" {
  type    = number
  default = 7
}
"""
RDS_MAIN = """\
resource "aws_cloudwatch_log_group" "this" {
  for_each = toset([for log in var.enabled_cloudwatch_logs_exports : log if var.create && var.create_cloudwatch_log_group && !var.use_identifier_prefix])

  name              = "/aws/rds/instance/${var.identifier}/${each.value}"
  retention_in_days = var.cloudwatch_log_group_retention_in_days
}
"""
RDS_RETENTION_LINE = 5  # `retention_in_days = var.cloudwatch_log_group_retention_in_days`


def rds_call(arguments: str) -> str:
    return f'module "db" {{\n  source     = "./modules/db_instance"\n  identifier = "ledger"\n{arguments}}}\n'


def test_a_log_group_whose_for_each_filters_every_export_away_is_not_judged() -> None:
    """The rds module's `for_each` is a `for` whose `if` is false for every export when the caller
    keeps `create_cloudwatch_log_group = false`: Terraform creates no log group, so its 7-day
    default retention is nobody's problem. Asked to create them, the module's line is found."""
    module = {"modules/db_instance/variables.tf": RDS_VARIABLES, "modules/db_instance/main.tf": RDS_MAIN}
    exports = '  enabled_cloudwatch_logs_exports = ["postgresql"]\n'
    for arguments in ("", exports, exports + "  create_cloudwatch_log_group = false\n",
                      "  create_cloudwatch_log_group = true\n",  # nothing exported: nothing to create
                      exports + "  create_cloudwatch_log_group = true\n  create = false\n"):
        assert found(change({}, {**module, "main.tf": rds_call(arguments)}), "CB-AWS-006") == [], arguments
    head = {**module, "main.tf": rds_call(exports + "  create_cloudwatch_log_group = true\n")}
    review = change({}, head)
    assert found(review, "CB-AWS-006") == [("modules/db_instance/main.tf", RDS_RETENTION_LINE,
                                            "aws_cloudwatch_log_group.this")]
    (finding,) = [f for f in review.findings if f.rule_id == "CB-AWS-006"]
    assert "(retention_in_days = 7)" in finding.message


REGULATED_BUCKET = 'resource "aws_s3_bucket" "records" {\n  bucket = "patient-records"\n}\n'


def provider(tags: str) -> str:
    return f'provider "aws" {{\n  region = "eu-west-1"\n  default_tags {{\n    tags = {{\n{tags}    }}\n  }}\n}}\n'


def test_default_tags_classify_resources_of_the_root_and_of_the_modules_it_calls() -> None:
    head = {"providers.tf": provider('      DataClassification = "PHI"\n'),
            "main.tf": REGULATED_BUCKET + call("archive", "./modules/bucket", None).replace(
                "  source    =", "  source ="),
            "modules/bucket/main.tf": REGULATED_BUCKET.replace("records", "archive")}
    review = change({}, head)
    assert sorted((f.path, f.line, f.resource) for f in review.findings if f.rule_id == "CB-AWS-009") == [
        ("main.tf", 1, "aws_s3_bucket.records"), ("modules/bucket/main.tf", 1, "aws_s3_bucket.archive")]


def test_a_changed_default_tag_rechecks_and_names_its_origin() -> None:
    base = {"providers.tf": provider('      Team = "billing"\n'), "main.tf": REGULATED_BUCKET}
    head = {**base, "providers.tf": provider('      Team = "billing"\n      DataClassification = "PHI"\n')}
    review = change(base, head)
    (finding,) = [f for f in review.findings if f.rule_id == "CB-AWS-009"]
    assert (finding.path, finding.line, finding.resource) == ("main.tf", 1, "aws_s3_bucket.records")
    head_own = {**head, "main.tf": REGULATED_BUCKET.replace('"patient-records"\n', '"patient-records"\n  tags = {\n'
                                                               '    DataClassification = "public"\n  }\n')}
    assert [f for f in change(base, head_own).findings if f.rule_id == "CB-AWS-009"] == []  # its own tag wins


def test_a_module_call_written_in_terraform_json_is_followed() -> None:
    base = {"modules/volume/main.tf": VOLUME_MODULE,
            "main.tf.json": '{\n  "module": {\n    "ledger": {\n      "source": "./modules/volume"\n    }\n  }\n}\n'}
    head = {**base, "main.tf.json": base["main.tf.json"].replace('"./modules/volume"\n',
                                                                  '"./modules/volume",\n      "encrypted": false\n')}
    review = change(base, head)
    assert found(review) == [("main.tf.json", 5, "module.ledger.aws_ebs_volume.this")]


DATABASE_MODULE = """\
variable "public" {}

resource "aws_db_instance" "this" {
  engine              = "postgres"
  storage_encrypted   = true
  publicly_accessible = var.public
}
"""


def test_a_value_unknown_before_apply_fails_only_where_the_policy_asks_and_says_where_it_came_from() -> None:
    head = {"modules/db/main.tf": DATABASE_MODULE,
            "main.tf": 'module "db" {\n  source = "./modules/db"\n  public = aws_ssm_parameter.flag.value\n}\n'}
    assert [f for f in change({}, head).findings if f.rule_id == "CB-AWS-003"] == []  # cannot tell: silent
    strict = Policy(fail_unknown=Severity.CRITICAL)
    (finding,) = [f for f in change({}, head, strict).findings if f.rule_id == "CB-AWS-003"]
    assert finding.message == ("Cannot tell: `publicly_accessible = var.public` is not known before apply; "
                               "if it is not what the control asks: Database instance is publicly accessible "
                               "from the internet.")
    assert finding.provenance is not None and finding.provenance.startswith(
        "`var.public` ← `public = aws_ssm_parameter.flag.value` in module call `db`, main.tf:3")
    assert strict.blocks(finding)
    high_only = Policy(fail_unknown=Severity.CRITICAL)
    ebs = {"main.tf": 'variable "e" {}\nresource "aws_ebs_volume" "v" {\n  availability_zone = "a"\n'
                      '  size              = 1\n  encrypted         = var.e\n}\n'}
    assert found(change({}, ebs, high_only)) == []  # a high control stays silent under `fail: critical`
    assert [f.line for f in change({}, ebs, Policy(fail_unknown=Severity.HIGH)).findings] == [5]


def test_a_policy_variable_file_may_live_outside_its_root_module() -> None:
    root = ('variable "enc" {\n  default = true\n}\n\nresource "aws_ebs_volume" "v" {\n'
            '  availability_zone = "a"\n  size              = 1\n  encrypted         = var.enc\n}\n')
    head = {"main.tf": root, "envs/prod.tfvars": "enc = false\n"}
    review = change({}, head, Policy(var_files={"": ("envs/prod.tfvars",)}))
    assert found(review) == [("main.tf", 8, "aws_ebs_volume.v")]
    assert review.findings[0].provenance == "`var.enc` ← `enc = false` in variable file, envs/prod.tfvars:1"


def test_a_json_variable_file_sets_values_on_their_own_lines() -> None:
    root = ('variable "enc" {\n  default = true\n}\n\nresource "aws_ebs_volume" "v" {\n'
            '  availability_zone = "a"\n  size              = 1\n  encrypted         = var.enc\n}\n')
    base = {"main.tf": root, "terraform.tfvars.json": '{\n  "region": "eu-west-1",\n  "enc": true\n}\n'}
    head = {**base, "terraform.tfvars.json": base["terraform.tfvars.json"].replace('"enc": true', '"enc": false')}
    review = change(base, head)
    assert found(review) == [("terraform.tfvars.json", 3, "aws_ebs_volume.v")]
    assert review.findings[0].provenance == ('`var.enc` ← `"enc": false` in variable file, '
                                             'terraform.tfvars.json:3')
    broken = change({}, {"main.tf": root, "terraform.tfvars.json": '{\n  "enc": false,\n}\n'})
    assert [(e.path, e.line) for e in broken.errors] == [("terraform.tfvars.json", 3)]


@pytest.mark.parametrize(("first", "second"), [("true", "false"), ("false", "true")])
def test_two_callers_naming_their_call_alike_make_two_instances(first: str, second: str) -> None:
    head = {"modules/volume/main.tf": VOLUME_MODULE,
            "a/main.tf": call("db", "../modules/volume", first),
            "b/main.tf": call("db", "../modules/volume", second)}
    (finding,) = change({}, head).findings  # neither instance hides behind the other (both are `module.db`)
    failing, passing = ("a", "b") if first == "false" else ("b", "a")
    assert finding.provenance is not None and f"module call `db` ({failing}/main.tf:1)" in finding.provenance
    assert f"{passing}/main.tf" not in finding.provenance


@pytest.mark.parametrize("root_dir", ["", "infra"])
def test_a_change_to_a_policy_variable_file_elsewhere_reviews_its_root_module(root_dir: str) -> None:
    """Only the variable file changes, in a folder of its own: the root module it is named for
    is evaluated with it, and the finding lands on the changed line."""
    root = ('variable "enc" {\n  default = true\n}\n\nresource "aws_ebs_volume" "v" {\n'
            '  availability_zone = "a"\n  size              = 1\n  encrypted         = var.enc\n}\n')
    main = f"{root_dir}/main.tf" if root_dir else "main.tf"
    base = {main: root, "envs/prod.tfvars": "enc = true\n"}
    head = {**base, "envs/prod.tfvars": "enc = false\n"}
    policy = Policy(var_files={root_dir: ("envs/prod.tfvars",)})
    assert found(change(base, head, policy)) == [("envs/prod.tfvars", 1, "aws_ebs_volume.v")]
    assert found(change(base, head)) == []  # named by no policy: Terraform never reads it for the root


def test_removing_an_assignment_from_a_policy_variable_file_elsewhere_judges_the_default() -> None:
    root = ('variable "enc" {\n  default = false\n}\n\nresource "aws_ebs_volume" "v" {\n'
            '  availability_zone = "a"\n  size              = 1\n  encrypted         = var.enc\n}\n')
    base = {"infra/main.tf": root, "envs/prod.tfvars": "enc = true\nother = 1\n"}
    head = {**base, "envs/prod.tfvars": "other = 1\n"}
    policy = Policy(var_files={"infra": ("envs/prod.tfvars",)})
    assert found(change(base, base, policy)) == []
    assert found(change(base, head, policy)) == [("infra/main.tf", 8, "aws_ebs_volume.v")]  # its default, now used
    assert found(change(base, {**base, "envs/prod.tfvars": "enc = true\nother = 2\n"}, policy)) == []
