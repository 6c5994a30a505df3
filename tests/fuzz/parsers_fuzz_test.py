"""Every file parser, fed mutated fixtures and generated text, returns a `ParsedFile` — resources,
or errors that say what is wrong with the file on a line inside it — and never raises, hangs, or
hides a crash behind a Python exception's name."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from bot.engine.parsers import evaluate_terraform, parse_one, parse_terraform
from bot.engine.parsers.dockerfile import parse_dockerfile
from bot.engine.parsers.families import DOCKERFILE, JSON, TERRAFORM, YAML
from bot.engine.parsers.terraform.varfiles import load_variable_file
from bot.engine.parsers.yaml_docs import parse_yaml
from tests.fuzz.seeds import ODD, all_seeds, check_parsed, fuzz, mutants, seeds_for

HCL = seeds_for(TERRAFORM, ".tf")
TF_JSON = seeds_for(TERRAFORM, ".tf.json")
TFVARS = ['region = "eu-west-1"\ncidrs = ["10.0.0.0/8"]\ntags = {a = 1, b = [true, null]}\n',
          'encrypted = false\npolicy = <<EOT\n{"Version": "2012-10-17"}\nEOT\nsize = 1.5e3\n']
TFVARS_JSON = ['{"region": "eu-west-1", "encrypted": false, "cidrs": ["0.0.0.0/0"], "tags": {"a": {"b": 1}}}\n']
YAML_SEEDS = seeds_for(YAML)
JSON_SEEDS = seeds_for(JSON)
DOCKER = seeds_for(DOCKERFILE)
WORKFLOW_PATH = ".github/workflows/ci.yml"
ANY_TEXT = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(ODD)), max_size=40).map("".join)


def _one(path: str, text: str) -> None:
    check_parsed(parse_one(path, text), path, text)


def _terraform(path: str, text: str) -> None:
    parsed = parse_terraform({path: text})
    assert set(parsed) == {path}
    check_parsed(parsed[path], path, text)


@fuzz(ci=150)
@given(mutants(HCL))
def test_hcl_never_raises(text: str) -> None:
    _terraform("main.tf", text)


@fuzz(ci=100)
@given(mutants(HCL), mutants(HCL), mutants(HCL), mutants(TFVARS))
def test_a_module_of_mutated_files_never_raises(main: str, other: str, called: str, tfvars: str) -> None:
    """Variables, locals and module calls resolve across files: bend two at once, and evaluate them
    as Terraform instantiates them (root module, local module calls, variable files)."""
    files = {"main.tf": main + '\nmodule "m" {\n  source = "./modules/m"\n}\n', "vars.tf": other,
             "modules/m/main.tf": called, "terraform.tfvars": tfvars}
    parsed, _ = evaluate_terraform(files)
    for path, text in files.items():
        if path in parsed:
            check_parsed(parsed[path], path, text)


@fuzz(ci=150)
@given(mutants(TF_JSON))
def test_terraform_json_never_raises(text: str) -> None:
    _terraform("main.tf.json", text)


@fuzz(ci=100)
@given(mutants(TFVARS), mutants(TFVARS_JSON))
def test_variable_files_never_raise(hcl: str, json: str) -> None:
    check_parsed(load_variable_file("terraform.tfvars", hcl).parsed, "terraform.tfvars", hcl)
    check_parsed(load_variable_file("terraform.tfvars.json", json).parsed, "terraform.tfvars.json", json)


@fuzz(ci=200)
@given(mutants(YAML_SEEDS))
@example("on: push\njobs:\n  lint:\ngroup:\n  ? {a: b}\n").via("found by atheris: the empty value of a `?` key "
                                                         "ended the workflow on line 6 of 5")
def test_yaml_never_raises(text: str) -> None:
    """CloudFormation, Kubernetes and anything else YAML, on an ordinary path and a workflow's."""
    _one("deploy.yaml", text)
    check_parsed(parse_yaml(WORKFLOW_PATH, text), WORKFLOW_PATH, text)


@fuzz(ci=100)
@given(mutants(JSON_SEEDS))
def test_cloudformation_json_never_raises(text: str) -> None:
    _one("template.json", text)


@fuzz(ci=150)
@given(mutants(DOCKER))
def test_dockerfile_never_raises(text: str) -> None:
    check_parsed(parse_dockerfile("Dockerfile", text), "Dockerfile", text)


@fuzz(ci=100)
@given(mutants(all_seeds(), most=2), st.sampled_from(["main.tf", "main.tf.json", "x.tfvars", "x.tfvars.json", "k8s.yaml",
                                   WORKFLOW_PATH, "template.json", "app.template", "Dockerfile"]))
def test_any_fixture_under_any_parser_never_raises(text: str, path: str) -> None:
    """Files of one family handed to another's parser (a renamed file): errors, never a crash."""
    if path.endswith((".tf", ".tf.json", ".tfvars", ".tfvars.json")):
        _terraform(path, text)
    else:
        _one(path, text)


@fuzz(ci=100)
@given(ANY_TEXT, st.sampled_from(["main.tf", "main.tf.json", "x.tfvars.json", "a.yaml", "Dockerfile"]))
@example("\u0800\x1f\n", "a.yaml").via("libyaml's byte offset put the bad character on line 2 of 1")
def test_generated_text_never_raises(text: str, path: str) -> None:
    if path.endswith((".tf", ".tf.json", ".tfvars.json")):
        _terraform(path, text)
    else:
        _one(path, text)
