"""What the CLI imports before any work: `--help` none of the engine, the rules or the App, a
review of a change without Terraform not the HCL parser, and a review of `.tf` files (read by
tree-sitter) not python-hcl2 or lark, which `.tf.json` expressions and syntax errors still load
when they need them. Each runs in a fresh interpreter, as a user's command does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("lark", "hcl2", "jsonschema", "pydantic", "pydantic_settings", "asyncio", "githubkit", "starlette",
         "redis", "psycopg")


def _imported_after(code: str, cwd: Path | None = None) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=cwd,
                          check=False)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_help_imports_neither_the_engine_nor_the_rules_nor_the_app() -> None:
    code = ("from bot.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass")
    modules = _imported_after(code)
    assert "bot.cli.main" in modules
    assert {m for m in modules if m.split(".")[0] in HEAVY or m.startswith(("rules", "bot.app", "bot.engine.review",
                                                                              "bot.engine.parsers", "yaml"))} == set()
    assert {"bot.engine.model", "dataclasses"}.isdisjoint(modules)  # some 16 ms: Severity is all it needs


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd=repo, check=True,
                   capture_output=True, timeout=60)


def _change(repo: Path, base: dict[str, str], head: dict[str, str]) -> None:
    """A repository whose last commit turns the files `base` into the files `head`."""
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    for files in (base, head):
        for name, text in files.items():
            (repo / name).write_text(text)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-qm", "change")


def _check(repo: Path) -> str:
    """Code that runs `compliance-bot check` of the last commit and keeps what it printed in `out`."""
    return ("import contextlib, io\nfrom bot.cli.main import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()) as out:\n    code = main(['check', '--repo', {str(repo)!r}, "
            "'--base', 'HEAD~1'])\n")


def test_a_check_of_tf_files_never_imports_lark_or_hcl2(tmp_path: Path) -> None:
    """The bucket's ACL is only known by evaluating the module (a local interpolating a
    variable's default): the finding shows the `.tf` files were read and evaluated."""
    repo = tmp_path / "repo"
    variables = 'variable "mode" {\n  default = "read"\n}\n'
    bucket = ('locals {\n  acl = "public-${var.mode}"\n}\n\n'
              'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n  acl    = local.acl\n}\n')
    _change(repo, {"variables.tf": variables}, {"main.tf": bucket})
    code = _check(repo) + "assert code == 1 and \"main.tf:7 CB-AWS-007 critical Canned ACL 'public-read'\" in out.getvalue(), " \
        "out.getvalue()"
    modules = _imported_after(code)
    assert "bot.engine.parsers.terraform.hcl_treesitter" in modules  # the .tf files were read
    assert {m for m in modules if m.split(".")[0] in ("lark", "hcl2", "regex")} == set()


def test_tf_json_expressions_and_hcl2s_syntax_errors_load_lark_when_they_need_it(tmp_path: Path) -> None:
    """A `.tf.json` expression is read by hcl2, and a `.tf` file tree-sitter refuses is read once
    more by hcl2 for its wording: lark, first imported there, still gives the same message (its
    exceptions recognised though `errors` was imported before lark was)."""
    repo = tmp_path / "repo"
    bucket_json = ('{"variable": {"acl": {"default": "public-read"}}, "resource": {"aws_s3_bucket": '
                   '{"j": {"bucket": "j", "acl": "${var.acl}"}}}}\n')
    _change(repo, {"README.md": "# base\n"},
            {"bad.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = \n}\n', "main.tf.json": bucket_json})
    code = _check(repo) + "print(json.dumps(out.getvalue()))"
    done = subprocess.run([sys.executable, "-c", f"import sys, json\n{code}"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout.splitlines()[-1]).splitlines()
    assert "main.tf.json:1 CB-AWS-007 critical Canned ACL 'public-read' makes the data readable by anyone." in printed
    assert "bad.tf:2 error: syntax error: unexpected '}', expected ! or \" or ( or [ or a name or a number" in printed


def test_a_check_without_terraform_never_imports_the_hcl_parser(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "app.env").write_text("HOME=/srv\n")
    (repo / "Dockerfile").write_text("FROM python:3.11\nUSER app\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    (repo / "app.env").write_text("HOME=/srv\nAWS_ACCESS_KEY_ID=AKIAUJZDE8GXD6NCF10E\n")
    (repo / "Dockerfile").write_text("FROM python:3.11\nUSER app\nRUN echo hi\n")
    _git(repo, "commit", "-qam", "change")
    code = ("import contextlib, io\nfrom bot.cli.main import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()) as out:\n    code = main(['check', '--repo', {str(repo)!r}, "
            "'--base', 'HEAD~1'])\n"
            "assert code == 1 and 'CB-SECRET-001' in out.getvalue(), out.getvalue()")
    modules = _imported_after(code)
    assert "rules.plaintext_secrets" in modules  # the review ran
    assert {m for m in modules if m.split(".")[0] in HEAVY or m.startswith("bot.engine.parsers.terraform.module")} \
        == set()


def test_the_rule_set_and_the_engine_import_no_parser_of_terraform() -> None:
    modules = _imported_after("from rules.registry import default_rule_set\ndefault_rule_set()")
    assert "bot.engine.review" in modules
    assert not {m for m in modules if m.split(".")[0] in ("lark", "hcl2")}
