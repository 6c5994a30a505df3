"""Coverage-guided fuzzing by hand with atheris (libFuzzer for Python), beside the hypothesis tests:
it found two crashes they had missed (a date that does not exist in a policy, the value of a `?`
key in YAML). Not run in CI, and atheris is not a dependency of the project:

    .venv/bin/pip install atheris==3.0.0
    mkdir -p /tmp/corpus && cp tests/fixtures/rules/*/*.tf /tmp/corpus/
    .venv/bin/python -m tests.fuzz.coverage_guided hcl /tmp/corpus -max_total_time=600

Targets: hcl, tf-json, tfvars, yaml, workflow, dockerfile, policy, patch. Every target asserts
what the hypothesis tests assert (`tests.fuzz.seeds.check_parsed`, or only documented errors); a
failing input is written as `crash-<sha1>` in the working directory, ready to become an `@example`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

from tests.fuzz.seeds import check_parsed

NAMES = ("hcl", "tf-json", "tfvars", "yaml", "workflow", "dockerfile", "policy", "patch")


def targets() -> dict[str, Callable[[str], None]]:
    """The fuzz targets; the engine is imported here, so that atheris instruments it."""
    from bot.engine.diff import DiffError, parse_file_patch, reconstruct_base
    from bot.engine.parsers import parse_one, parse_terraform
    from bot.engine.parsers.dockerfile import parse_dockerfile  # noqa: F401 - parse_one imports it late
    from bot.engine.parsers.terraform.varfiles import load_variable_file
    from bot.engine.parsers.yaml_docs import parse_yaml  # noqa: F401 - parse_one imports it late
    from bot.engine.policy import PolicyError, parse_policy

    def terraform(path: str) -> Callable[[str], None]:
        return lambda text: check_parsed(parse_terraform({path: text})[path], path, text)

    def file(path: str) -> Callable[[str], None]:
        return lambda text: check_parsed(parse_one(path, text), path, text)

    def tfvars(text: str) -> None:
        check_parsed(load_variable_file("terraform.tfvars", text).parsed, "terraform.tfvars", text)

    def policy(text: str) -> None:
        try:
            parse_policy(text)
        except PolicyError:
            pass

    def patch(text: str) -> None:
        try:
            reconstruct_base("a\nb\nc\nd\n", parse_file_patch("f.tf", text, "modified"))
        except DiffError:
            pass

    return {"hcl": terraform("main.tf"), "tf-json": terraform("main.tf.json"), "tfvars": tfvars,
            "yaml": file("deploy.yaml"), "workflow": file(".github/workflows/ci.yml"),
            "dockerfile": file("Dockerfile"), "policy": policy, "patch": patch}


def main(argv: list[str]) -> None:
    if len(argv) < 2 or argv[1] not in NAMES:
        raise SystemExit(f"usage: {argv[0]} {{{','.join(NAMES)}}} [corpus dir] [libFuzzer options]")
    atheris: Any = importlib.import_module("atheris")  # optional: see the module's docstring
    with atheris.instrument_imports(include=["bot"]):
        target = targets()[argv[1]]

    def one(data: bytes) -> None:
        target(data.decode("utf-8", "replace"))  # as the engine reads a file

    atheris.Setup([argv[0], *argv[2:]], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
