"""The pre-commit hook (.pre-commit-hooks.yaml) and the GitHub Action (action.yml) at the top of
the repository, run as their users' tools would run them, on local repositories: the hook's
entry command from the parsed hook file, the Action's `run:` steps with their `env:` resolved."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.cli.main_test import UNENCRYPTED_TF, git, make_repo, run
from tests.report.sarif_schema import sarif_schema

ROOT = Path(__file__).resolve().parents[2]
ENCRYPTED_TF = UNENCRYPTED_TF.replace("encrypted = false", "encrypted = true")
BIN = str(Path(sys.executable).parent)  # where this environment installed the compliance-bot command
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SHA = re.compile(r"^[0-9a-f]{40}$")


def _environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), **extra}


def _hook() -> dict[str, Any]:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return dict(hook)


def _run_entry(repo: Path) -> subprocess.CompletedProcess[str]:
    """The hook's entry as pre-commit runs it for `language: python`: the installed command, at
    the repository's top, with no file names (pass_filenames: false)."""
    argv = shlex.split(_hook()["entry"])
    command = shutil.which(argv[0], path=_environment()["PATH"])
    assert command is not None, f"{argv[0]} is not installed beside {sys.executable}"
    return subprocess.run([command, *argv[1:]], cwd=repo, env=_environment(), capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_hook_file_declares_a_staged_check() -> None:
    hook = _hook()
    assert (hook["id"], hook["language"], hook["pass_filenames"]) == ("compliance-bot", "python", False)
    assert hook["entry"] == "compliance-bot check --staged"


def test_the_hook_blocks_a_staged_violation_and_passes_a_clean_one(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "main.tf").write_text(UNENCRYPTED_TF)
    git(repo, "add", "main.tf")
    done = _run_entry(repo)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[0].startswith("main.tf:3 CB-AWS-001 high EBS volume is not encrypted")
    (repo / "main.tf").write_text(ENCRYPTED_TF)
    git(repo, "add", "main.tf")
    git(repo, "commit", "-q", "-m", "clean volume")
    (repo / "other.tf").write_text(ENCRYPTED_TF.replace('"v"', '"w"'))
    (repo / "unstaged.tf").write_text(UNENCRYPTED_TF.replace('"v"', '"u"'))  # not staged: not the hook's business
    git(repo, "add", "other.tf")
    done = _run_entry(repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "0 finding(s), 0 unsuppressed, 0 error(s): success"


# -- the Action ------------------------------------------------------------------------------


def _action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return action


def _step(action: dict[str, Any], **match: str) -> dict[str, Any]:
    (step,) = [s for s in action["runs"]["steps"] if all(s.get(k) == v for k, v in match.items())]
    return dict(step)


def _resolve(value: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    """The few expressions the steps we run may use; any other one fails the test."""
    def one(found: re.Match[str]) -> str:
        name = found.group(1)
        if name.startswith("inputs."):
            return inputs[name.removeprefix("inputs.")]
        if name.startswith("steps.check.outputs."):
            return outputs[name.removeprefix("steps.check.outputs.")]
        raise AssertionError(f"an expression this test does not know: {name}")
    return EXPRESSION.sub(one, value)


def _run_step(step: dict[str, Any], inputs: dict[str, str], outputs: dict[str, str], workdir: Path
              ) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    output_file = workdir / "github_output"
    output_file.write_text("")
    env = {name: _resolve(str(value), inputs, outputs) for name, value in step.get("env", {}).items()}
    assert step["shell"] == "bash"
    script = workdir / "step.sh"
    script.write_text(step["run"])
    # how a runner runs `shell: bash`: bash --noprofile --norc -eo pipefail {0}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workdir,
                          capture_output=True, text=True, timeout=120,
                          env=_environment(GITHUB_OUTPUT=str(output_file), **env), check=False)
    written = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if line)
    return done, written


def _inputs(action: dict[str, Any], **given: str) -> dict[str, str]:
    defaults = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    return {**defaults, **given}


@pytest.mark.parametrize(("head_text", "code"), [(UNENCRYPTED_TF, "1"), (ENCRYPTED_TF, "0")], ids=["violation", "clean"])
def test_the_action_checks_base_and_head_writes_sarif_and_fails_with_the_checks_code(
    tmp_path: Path, head_text: str, code: str
) -> None:
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {"infra/main.tf": head_text})
    base, head = git(repo, "rev-parse", "HEAD~1").strip(), git(repo, "rev-parse", "HEAD").strip()
    action = _action()
    sarif_file = tmp_path / "out.sarif"
    inputs = _inputs(action, base=base, head=head, path=str(repo), **{"sarif-file": str(sarif_file)})
    done, outputs = _run_step(_step(action, id="check"), inputs, {}, tmp_path)
    assert done.returncode == 0, done.stderr  # the check's own code is kept for the last step
    assert outputs == {"exit-code": code}
    assert f"base {base[:7]}" in done.stderr and f"head {head[:7]}" in done.stderr
    sarif = json.loads(sarif_file.read_text())
    jsonschema.Draft4Validator(sarif_schema()).validate(sarif)
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == (["CB-AWS-001"] if code == "1" else [])
    final, _ = _run_step(_step(action, name="Fail on blocking findings"), inputs, outputs, tmp_path)
    assert final.returncode == int(code)
    assert ("::error title=Compliance Bot::compliance-bot check exited 1" in final.stdout) is (code == "1")


def test_the_action_says_when_a_commit_is_missing_from_the_checkout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"README.md": "x\n"}, {"main.tf": UNENCRYPTED_TF})
    action = _action()
    inputs = _inputs(action, base="0" * 40, head=git(repo, "rev-parse", "HEAD").strip(), path=str(repo))
    done, outputs = _run_step(_step(action, id="check"), inputs, {}, tmp_path)
    assert done.returncode == 0 and outputs == {"exit-code": "2"}
    assert f"commit {'0' * 40} is not in the checkout: check out with fetch-depth: 0" in done.stdout
    final, _ = _run_step(_step(action, name="Fail on blocking findings"), inputs, outputs, tmp_path)
    assert final.returncode == 2


def test_the_action_passes_every_value_to_its_scripts_through_env_and_pins_what_it_uses() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], step["name"]  # no expression is pasted into a script
        else:
            ref = step["uses"].partition("@")[2]
            assert SHA.match(ref), step["uses"]
    upload = _step(action, name="Upload the findings to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert "--format sarif" in _step(action, id="check")["run"]
    assert '"$ACTION_PATH"' in _step(action, name="Install Compliance Bot")["run"]


SAMPLE_WORKFLOW = """\
name: compliance
on:
  pull_request:
permissions:
  contents: read
  security-events: write
jobs:
  compliance:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8  # v5.0.0
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: octo-org/compliance-bot@0123456789abcdef0123456789abcdef01234567  # the release you trust
"""


def test_the_bots_actions_rules_pass_a_workflow_using_the_action_and_the_actions_own_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "compliance.yml").write_text(SAMPLE_WORKFLOW)
    steps = _action()["runs"]["steps"]  # the action's steps as one job of a pull request workflow
    as_workflow = {"name": "action steps", "on": {"pull_request": None}, "permissions": {"contents": "read"},
                   "jobs": {"steps": {"runs-on": "ubuntu-latest", "steps": steps}}}
    (workflows / "action-steps.yml").write_text(yaml.safe_dump(as_workflow, sort_keys=False))
    code, out, _err = run(capsys, "scan", str(tmp_path), "--format", "json")
    report = json.loads(out)
    assert report["stats"]["files_parsed"] == 2
    assert (code, report["findings"], report["errors"]) == (0, [], [])
