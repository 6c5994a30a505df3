"""Terraform's JSON syntax: `.tf.json` files give the resources their HCL form gives, with the
JSON's own lines, share one module with `.tf` files, and report every bad input with a line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.engine.model import Resource, Unknown
from bot.engine.parsers.terraform import MAX_FILE_CHARS, MAX_NESTING, parse_module
from tests.engine.parsers.golden import dump_node
from tests.engine.parsers.terraform.support import MODULE, NESTED, spans

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
TRANSLATED = sorted(p.name for p in (FIXTURES / "terraform_json").iterdir() if p.is_dir())


def parse_json(text: str, path: str = "main.tf.json") -> list[Resource]:
    result = parse_module({path: text})[path]
    assert result.errors == ()
    return list(result.resources)


def one(text: str, address: str) -> Resource:
    """The resource at `address` (the first instance of one with `count` or `for_each`)."""
    matches = [r for r in parse_json(text) if r.address == address]
    assert len(matches) == 1 or all(r.instance_key is not None for r in matches), [r.address for r in parse_json(text)]
    return matches[0]


def error_of(text: str) -> tuple[int | None, str]:
    (error,) = parse_module({"main.tf.json": text})["main.tf.json"].errors
    return error.line, error.message


def without_lines(dumped: list[Any]) -> Any:
    """A `dump_node` tree (which tells True from 1 and 1 from 1.0) with its lines dropped."""
    kind, value, *_ = dumped
    if kind == "map":
        return ["map", [[key, without_lines(child)] for key, child in value]]
    if kind == "list":
        return ["list", [without_lines(child) for child in value]]
    return [kind, value]


def comparable(files: dict[str, str]) -> dict[str, Any]:
    """Every resource of a module by address (and instance, for `count`/`for_each`): what it is,
    what it refers to, its plain body."""
    out: dict[Any, Any] = {}
    for result in parse_module(files).values():
        assert result.errors == ()
        for r in result.resources:
            assert (r.address, r.instance_key) not in out
            out[r.address, r.instance_key] = (r.source, r.kind, r.type, r.path.removesuffix(".json"),
                                              sorted(r.references), without_lines(dump_node(r.body)))
    return out


# --- the same resources as the HCL form --------------------------------------------------------


@pytest.mark.parametrize("rule_id", TRANSLATED)
def test_a_hand_translated_fixture_module_gives_the_same_resources(rule_id: str) -> None:
    hcl_dir, json_dir = FIXTURES / "rules" / rule_id, FIXTURES / "terraform_json" / rule_id
    translated = sorted(p.name for p in json_dir.glob("*.tf.json"))
    hcl = {p.name: p.read_text() for p in sorted(hcl_dir.glob("*.tf")) if p.name + ".json" in translated}
    assert len(hcl) == len(translated) >= 1
    expected = comparable(hcl)
    assert len(expected) >= 5
    assert comparable({name: (json_dir / name).read_text() for name in translated}) == expected


MODULE_JSON = """\
{
  "terraform": {"required_version": ">= 1.5"},
  "provider": {
    "aws": [
      {"region": "eu-west-1"},
      {"alias": "us", "region": "us-east-1"}
    ]
  },
  "variable": {"name": {"default": "app"}},
  "locals": {
    "prefix": "team",
    "full": "${local.prefix}-${var.name}"
  },
  "data": {"aws_caller_identity": {"current": {}}},
  "module": {"vpc": {"source": "./vpc"}},
  "resource": {"aws_s3_bucket": {"logs": {"bucket": "${local.full}"}}},
  "output": {"bucket": {"value": "${aws_s3_bucket.logs.id}"}}
}
"""

NESTED_JSON = """\
{
  "resource": {
    "aws_security_group": {
      "web": {
        "name": "web",
        "ingress": [
          {"from_port": 443, "to_port": 443, "cidr_blocks": ["0.0.0.0/0"]},
          {"from_port": 80, "to_port": 80}
        ],
        "egress": [{"from_port": 0}],
        "dynamic": {
          "ingress": {
            "for_each": "${var.extra}",
            "content": {"from_port": "${ingress.value}"}
          }
        },
        "lifecycle": {"create_before_destroy": true}
      }
    }
  }
}
"""

META = """\
resource "aws_instance" "a" {
  provider   = aws.us
  depends_on = [aws_s3_bucket.b, module.m]
  count      = 2
  lifecycle {
    ignore_changes        = [tags]
    replace_triggered_by  = [aws_s3_bucket.b.id]
    create_before_destroy = true
  }
  provisioner "local-exec" {
    command = "echo ${self.id}"
    when    = destroy
  }
  connection {
    host = self.public_ip
  }
  user_data = base64encode(join("\\n", [var.v["a"], "x"]))
}

module "m" {
  source     = "./m"
  version    = "1.0"
  providers  = { aws = aws.us }
  depends_on = [aws_s3_bucket.b]
  tags       = { for k, v in var.v : k => upper(v) }
}

variable "v" {
  type        = map(string)
  default     = { a = "x" }
  description = "d"
  validation {
    condition     = length(var.v) > 0
    error_message = "Give one."
  }
}

output "o" {
  value      = var.v
  sensitive  = true
  depends_on = [module.m]
}
"""

META_JSON = """\
{
  "resource": {
    "aws_instance": {
      "a": {
        "provider": "aws.us",
        "depends_on": ["aws_s3_bucket.b", "module.m"],
        "count": 2,
        "lifecycle": {
          "ignore_changes": ["tags"],
          "replace_triggered_by": ["aws_s3_bucket.b.id"],
          "create_before_destroy": true
        },
        "provisioner": {
          "local-exec": {"command": "echo ${self.id}", "when": "destroy"}
        },
        "connection": {"host": "${self.public_ip}"},
        "user_data": "${base64encode(join(\\"\\\\n\\", [var.v[\\"a\\"], \\"x\\"]))}"
      }
    }
  },
  "module": {
    "m": {
      "source": "./m",
      "version": "1.0",
      "providers": {"aws": "aws.us"},
      "depends_on": ["aws_s3_bucket.b"],
      "tags": "${{ for k, v in var.v : k => upper(v) }}"
    }
  },
  "variable": {
    "v": {
      "type": "map(string)",
      "default": {"a": "x"},
      "description": "d",
      "validation": {"condition": "${length(var.v) > 0}", "error_message": "Give one."}
    }
  },
  "output": {
    "o": {"value": "${var.v}", "sensitive": true, "depends_on": ["module.m"]}
  }
}
"""


@pytest.mark.parametrize(
    ("hcl", "translated"),
    [(MODULE, MODULE_JSON), (NESTED, NESTED_JSON), (META, META_JSON)],
    ids=["every-block-kind", "nested-and-dynamic-blocks", "meta-arguments"],
)
def test_a_translated_module_gives_the_same_resources(hcl: str, translated: str) -> None:
    assert comparable({"main.tf.json": translated}) == comparable({"main.tf": hcl})


def test_strings_terraform_reads_as_references_are_references() -> None:
    instance = one(META_JSON, "aws_instance.a")
    assert instance.references >= {"aws_s3_bucket.b", "module.m", "var.v"}
    assert instance.body.get("provider").value == Unknown("aws.us")  # type: ignore[union-attr]
    assert instance.body.get("lifecycle", 0, "ignore_changes", 0).value == Unknown("tags")  # type: ignore[union-attr]
    assert one(MODULE_JSON, "provider.aws.us").body.plain() == {"alias": "us", "region": "us-east-1"}


def test_a_variable_default_and_a_module_source_are_literal_text() -> None:
    text = ('{"variable": {"x": {"default": "${not.a.reference}"}},'
            ' "module": {"m": {"source": "git::https://example.com/${ref}"}},'
            ' "resource": {"aws_s3_bucket": {"b": {"bucket": "${var.x}"}}}}')
    assert one(text, "aws_s3_bucket.b").body.plain() == {"bucket": "${not.a.reference}"}
    assert one(text, "module.m").body.plain() == {"source": "git::https://example.com/${ref}"}


def test_templates_resolve_variables_and_locals_as_in_hcl() -> None:
    text = json.dumps({
        "variable": {"env": {"default": "prod"}, "open": {}},
        "locals": {"name": "app-${var.env}", "flag": "${var.env == \"prod\"}", "list": ["${local.name}", 2]},
        "resource": {"aws_s3_bucket": {"b": {
            "bucket": "${local.name}", "escaped": "$${local.name}", "mixed": "a-${var.open}",
            "flag": "${local.flag}", "first": "${local.list[0]}", "directive": "%{ if var.env }x%{ endif }",
        }}},
    })
    assert one(text, "aws_s3_bucket.b").body.plain() == {
        "bucket": "app-prod", "escaped": "${local.name}", "mixed": Unknown("a-${var.open}"),
        "flag": True, "first": "app-prod", "directive": Unknown("%{ if var.env }x%{ endif }"),
    }


# --- lines -------------------------------------------------------------------------------------


VOLUME_JSON = """\
{
  "resource": {
    "aws_ebs_volume": {
      "data": {
        "availability_zone": "eu-west-1a",
        "encrypted": false,
        "tags": {
          "Name": "data",
          "team-name": "storage"
        },
        "zones": [
          "a",
          "b"
        ],
        "size":
          10
      }
    }
  }
}
"""


def test_every_attribute_entry_and_item_has_the_lines_it_is_written_on() -> None:
    volume = one(VOLUME_JSON, "aws_ebs_volume.data")
    assert (volume.line, volume.end_line, volume.path) == (4, 17, "main.tf.json")
    assert volume.lines == tuple(VOLUME_JSON.split("\n")[3:17])
    assert volume.text_at(6) == '        "encrypted": false,'
    assert spans(volume.body) == ({
        "availability_zone": ("eu-west-1a", 5, 5),
        "encrypted": (False, 6, 6),
        "tags": ({"Name": ("data", 8, 8), "team-name": ("storage", 9, 9)}, 7, 10),
        "zones": ([("a", 12, 12), ("b", 13, 13)], 11, 14),
        "size": (10, 15, 16),
    }, 4, 17)


def test_nested_blocks_keep_the_lines_of_each_object() -> None:
    text = """\
{
  "resource": {
    "aws_instance": {
      "web": {
        "root_block_device": {
          "volume_size": 30
        },
        "ebs_block_device": [
          {
            "encrypted": true
          },
          {"encrypted": false}
        ],
        "lifecycle": {
          "prevent_destroy": true
        }
      }
    }
  }
}
"""
    body = one(text, "aws_instance.web").body
    assert spans(body.get("root_block_device")) == ({"volume_size": (30, 6, 6)}, 5, 7)  # type: ignore[arg-type]
    assert [spans(child) for child in body.get("root_block_device").children()] == [  # type: ignore[union-attr]
        ({"volume_size": (30, 6, 6)}, 5, 7)]  # a lone object reads as one block
    assert spans(body.get("ebs_block_device")) == (  # type: ignore[arg-type]
        [({"encrypted": (True, 10, 10)}, 9, 11), ({"encrypted": (False, 12, 12)}, 12, 12)], 8, 13)
    assert spans(body.get("lifecycle")) == ([({"prevent_destroy": (True, 15, 15)}, 14, 16)], 14, 16)  # type: ignore[arg-type]


def test_blocks_given_as_arrays_at_any_level_each_have_their_own_lines() -> None:
    text = """\
{
  "resource": [
    {"aws_s3_bucket": {"a": {"bucket": "a"}}},
    {"aws_s3_bucket": [
      {"b": {"bucket": "b"}},
      {"c": [
        {"bucket": "c"}
      ]}
    ]}
  ],
  "locals": [
    {"x": 1},
    {"y": 2}
  ]
}
"""
    found = {(r.address, r.line, r.end_line) for r in parse_json(text)}
    assert found == {("aws_s3_bucket.a", 3, 3), ("aws_s3_bucket.b", 5, 5), ("aws_s3_bucket.c", 7, 7),
                     ("local.x", 12, 12), ("local.y", 13, 13)}


def test_a_minified_file_puts_everything_on_line_one() -> None:
    text = json.dumps(json.loads(VOLUME_JSON), separators=(",", ":"))
    volume = one(text, "aws_ebs_volume.data")
    assert (volume.line, volume.end_line) == (1, 1) and volume.body.get("encrypted").line == 1  # type: ignore[union-attr]


def test_windows_line_endings_keep_lines() -> None:
    volume = one(VOLUME_JSON.replace("\n", "\r\n"), "aws_ebs_volume.data")
    assert spans(volume.body.get("encrypted")) == (False, 6, 6)  # type: ignore[arg-type]
    assert volume.text_at(6) == '        "encrypted": false,'


# --- what the JSON syntax allows -----------------------------------------------------------------


def test_comments_are_dropped_from_block_bodies_and_kept_as_object_keys() -> None:
    text = json.dumps({
        "//": "a file comment",
        "resource": {"//": "labels comment", "aws_s3_bucket": {"b": {
            "//": {"metadata": "cdktf"}, "tags": {"//": "a tag key", "a": "1"},
            "logging": [{"//": "nested", "target_bucket": "x"}],
        }}},
        "locals": {"//": "locals comment", "object": {"//": "kept", "k": 1}},
    })
    assert one(text, "aws_s3_bucket.b").body.plain() == {"tags": {"a": "1"}, "logging": [{"target_bucket": "x"}]}
    assert one(text, "local.object").body.plain() == {"object": {"//": "kept", "k": 1}}
    assert sorted(r.address for r in parse_json(text)) == ["aws_s3_bucket.b", "local.object"]


def test_repeated_properties_are_more_blocks() -> None:
    text = """\
{
  "resource": {"aws_s3_bucket": {"a": {}}},
  "resource": {"aws_s3_bucket": {"b": {}}, "aws_s3_bucket": {"c": {
    "rule": {"x": 1},
    "rule": [{"x": 2}, {"x": 3}]
  }}}
}
"""
    assert [r.address for r in parse_json(text)] == ["aws_s3_bucket.a", "aws_s3_bucket.b", "aws_s3_bucket.c"]
    rules = one(text, "aws_s3_bucket.c").body.get("rule")
    assert spans(rules) == ([({"x": (1, 4, 4)}, 4, 4), ({"x": (2, 5, 5)}, 5, 5), ({"x": (3, 5, 5)}, 5, 5)], 4, 5)  # type: ignore[arg-type]


def test_unmodelled_top_level_properties_are_skipped_as_in_hcl() -> None:
    text = '{"terraform": {"backend": {"s3": {}}}, "moved": {"from": "a.b", "to": "a.c"}, "future_block": 1}'
    assert parse_json(text) == []


def test_a_tf_json_file_holding_cloudformation_is_not_cloudformation() -> None:
    text = json.dumps({"AWSTemplateFormatVersion": "2010-09-09",
                       "Resources": {"V": {"Type": "AWS::EC2::Volume", "Properties": {"Encrypted": False}}}})
    assert parse_json(text) == []


# --- one module with the .tf files ---------------------------------------------------------------


def test_variables_and_locals_resolve_across_tf_and_tf_json_files() -> None:
    files = {
        "variables.tf.json": '{"variable": {"encrypted": {"default": false}}}',
        "locals.tf": "locals {\n  enc  = var.encrypted\n  size = local.from_json\n}\n",
        "main.tf.json": '{\n  "locals": {"from_json": 20},\n  "resource": {"aws_ebs_volume": {"v": {\n'
                        '    "encrypted": "${local.enc}",\n    "size": "${local.size}"\n  }}}\n}\n',
        "main.tf": 'resource "aws_ebs_volume" "w" {\n  encrypted = local.enc\n  size      = local.from_json\n}\n',
    }
    parsed = parse_module(files)
    assert list(parsed) == list(files) and all(r.errors == () for r in parsed.values())
    (local_json, volume_json) = parsed["main.tf.json"].resources
    (volume_hcl,) = parsed["main.tf"].resources
    assert spans(volume_json.body) == ({"encrypted": (False, 4, 4), "size": (20, 5, 5)}, 3, 6)
    assert volume_hcl.body.plain() == {"encrypted": False, "size": 20}
    assert volume_json.references == {"local.enc", "local.size", "local.from_json", "var.encrypted"}
    assert volume_hcl.references == {"local.enc", "local.from_json", "var.encrypted"}
    assert local_json.address == "local.from_json"


def test_a_broken_tf_json_file_leaves_the_rest_of_the_module_parsed() -> None:
    files = {
        "variables.tf.json": '{\n  "variable": {\n    "enc": {"default": true},\n  }\n}\n',
        "main.tf": 'resource "aws_ebs_volume" "v" {\n  encrypted = var.enc\n}\n',
    }
    parsed = parse_module(files)
    (error,) = parsed["variables.tf.json"].errors
    assert error.line == 4 and error.message.startswith("invalid JSON: expected a property name")
    (volume,) = parsed["main.tf"].resources
    assert volume.body.plain() == {"encrypted": Unknown("var.enc")}


# --- every bad input is a FileError with a line --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('{\n  "resource": {\n    "aws_s3_bucket": {"b": {"acl": "private",}}\n  }\n}', 3,
         "invalid JSON: expected a property name in double quotes, found '}' (a trailing comma?)"),
        ("[]", 1, "invalid Terraform JSON: a .tf.json file holds one JSON object"),
        ('{\n  "resource": "aws_s3_bucket.b"\n}', 2,
         'invalid Terraform JSON: "resource" needs an object of block labels (a JSON object, or an array of them)'),
        ('{\n  "resource": {"aws_s3_bucket": {"b": [\n    {},\n    3\n  ]}}\n}', 4,
         'invalid Terraform JSON: "resource" needs a block body (a JSON object, or an array of them) here, not a number'),
        ('{"locals": [1]}', 1, 'invalid Terraform JSON: "locals" needs a block body'),
        ('{"resource": {"a_b": {"c": {\n  "acl": "private",\n  "acl": "public-read"\n}}}}', 3,
         'invalid Terraform JSON: duplicate argument "acl" (only blocks may be given more than once)'),
        ('{"locals": {"tags": {\n  "a": 1,\n  "a": 2\n}}}', 3, 'invalid Terraform JSON: duplicate key "a" in an object'),
        ('{"resource": {"a_b": {"c": {\n  "x": "${var.a +}"\n}}}}', 2,
         "invalid Terraform JSON: cannot read the expression 'var.a +' (syntax error: unexpected"),
        ('{"resource": {"a_b": {"c": {\n\n  "depends_on": ["aws_x.y\\nencrypted = false"]\n}}}}', 3,
         "invalid Terraform JSON: cannot read the expression 'aws_x.y\\nencrypted = false' (it holds more than one)"),
        ('{"resource": {"a_b": {"c": {\n  "x": "${' + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1) + '}"\n}}}}', 2,
         f"invalid Terraform JSON: nesting deeper than {MAX_NESTING} levels"),
        ('{\n  "locals": {"a": ' + "[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1) + "}\n}", 2,
         f"invalid JSON: nesting deeper than {MAX_NESTING} levels"),
        ("", 1, "invalid JSON: the file is empty"),
    ],
)
def test_bad_input_is_a_file_error_with_its_line(text: str, line: int, message: str) -> None:
    assert error_of(text)[0] == line
    assert error_of(text)[1].startswith(message)


def test_a_file_over_the_size_limit_is_an_error() -> None:
    text = '{"locals": {"pad": "' + "x" * MAX_FILE_CHARS + '"}}'
    assert error_of(text) == (None, f"file too large to parse ({len(text):,} characters; the limit is {MAX_FILE_CHARS:,})")
