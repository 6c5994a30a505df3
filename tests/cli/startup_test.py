"""What the CLI imports before any work: `--help` none of the engine, the rules or the App, and a
review of a change without Terraform not the HCL parser (lark). Each runs in a fresh interpreter,
as a user's command does."""

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
