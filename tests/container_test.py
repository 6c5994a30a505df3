"""The project's own container files: the bot's rules find nothing in them (and do find what
they should in a worse copy), and the Dockerfile has the properties the image promises: a
multi-stage build from the hashed lock, a final stage without build tools, not root, a health
check that needs no curl, `compliance-bot` as entry point. No test needs Docker."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli.main import main
from bot.engine.lines import git_lines
from bot.engine.parsers.dockerfile import Instruction, iter_instructions

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|make|build-essential|git|curl|wget|pip wheel)\b")


def stages() -> list[list[Instruction]]:
    """The Dockerfile's stages (each from its FROM), read by the bot's own Dockerfile parser."""
    out: list[list[Instruction]] = []
    for item in iter_instructions(git_lines(DOCKERFILE)):
        if item.keyword == "FROM":
            out.append([])
        if out:
            out[-1].append(item)
    return out


def scan(tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str]) -> tuple[int, dict[str, Any]]:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name, text in files.items():
        (tree / name).write_text(text)
    code = main(["scan", str(tree), "--format", "json", "--fail-on", "low"])
    return code, json.loads(capsys.readouterr().out)


def test_the_bots_rules_find_nothing_in_its_container_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    code, report = scan(tmp_path, capsys, {"Dockerfile": DOCKERFILE, "docker-compose.yml": compose})
    assert (code, report["findings"], report["errors"]) == (0, [], [])
    assert report["stats"]["resources_parsed"] == len(stages()) == 2  # both stages were reviewed
    # Compose files are not parsed by the engine (said so, not silently passed): only the rules
    # that read every file (plaintext secrets) applied to it.
    assert [(n["path"], n["blocking"]) for n in report["not_reviewed"]] == [("docker-compose.yml", False)]


@pytest.mark.parametrize(("change", "rule"), [
    (("USER 10001:10001", "USER root"), "CB-DOCKER-001"),
    (("ARG PYTHON_IMAGE=python:3.11-slim", "ARG PYTHON_IMAGE=python:latest"), "CB-DOCKER-004"),
])
def test_the_same_rules_flag_a_worse_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          change: tuple[str, str], rule: str) -> None:
    assert change[0] in DOCKERFILE
    code, report = scan(tmp_path, capsys, {"Dockerfile": DOCKERFILE.replace(change[0], change[1])})
    assert code == 1 and rule in {f["rule_id"] for f in report["findings"]}


def test_the_dockerfile_builds_wheels_then_installs_them_in_a_clean_non_root_stage() -> None:
    build, final = stages()
    assert build[0].arguments.endswith(" AS build")
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.MULTILINE)
    assert base is not None and base.group(1).startswith("python:3.11-slim")
    assert build[0].arguments.startswith("${PYTHON_IMAGE}") and final[0].arguments == "${PYTHON_IMAGE}"
    wheels = " ".join(i.arguments for i in build if i.keyword == "RUN")
    assert "pip wheel" in wheels and "--require-hashes" in wheels and "-r requirements.lock" in wheels

    runs = [i.arguments for i in final if i.keyword == "RUN"]
    install = next(r for r in runs if "requirements.lock" in r)
    assert "--require-hashes" in install and "--no-index" in install and "from=build" in install
    assert "pip uninstall --yes --quiet pip setuptools wheel" in install  # the base image's build tooling goes
    for run in runs:
        text = re.sub(r"pip uninstall .*", "", run)  # removing a tool is not using it
        assert not BUILD_TOOLS.search(text), run
    assert not [i for i in final if i.keyword in ("ADD",)]  # nothing fetched into the image

    (user,) = [i.arguments for i in final if i.keyword == "USER"]
    assert user.split(":")[0] not in ("root", "0") and int(user.split(":")[0]) >= 1000
    users = [i for i in final if i.keyword == "USER"]
    assert final.index(users[0]) > max(final.index(i) for i in final if i.keyword == "RUN")  # nothing runs as root after

    (health,) = [i.arguments for i in final if i.keyword == "HEALTHCHECK"]
    command = json.loads(health.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"] and "urllib.request" in command[2] and "/healthz" in command[2]
    assert "curl" not in health and "wget" not in health

    entry = [json.loads(i.arguments) for i in final if i.keyword == "ENTRYPOINT"]
    cmd = [json.loads(i.arguments) for i in final if i.keyword == "CMD"]
    assert entry == [["compliance-bot"]] and cmd == [["serve"]]


def test_the_healthcheck_command_is_valid_python() -> None:
    (health,) = [i.arguments for i in stages()[-1] if i.keyword == "HEALTHCHECK"]
    compile(json.loads(health.split("CMD", 1)[1])[2], "<healthcheck>", "exec")


def test_the_image_copies_only_what_the_package_needs() -> None:
    copied = [i.arguments.split()[0] for stage in stages() for i in stage if i.keyword == "COPY"
              and not i.arguments.startswith("--")]
    for source in copied:
        assert (ROOT / source).exists(), source
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["compliance-bot"] == "bot.cli.main:main"  # the entry point the image calls is the package's


def test_compose_runs_web_worker_and_redis_from_one_image() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"web", "worker", "redis"}
    web, worker, redis = services["web"], services["worker"], services["redis"]
    assert web["image"] == worker["image"] and web["build"] == worker["build"] == "."
    assert web["command"] == ["serve", "--no-worker"] and worker["command"] == ["worker"]
    for service in (web, worker):
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["volumes"] == ["bot-data:/data"]  # the worker reads the app.env /setup wrote
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    assert worker["healthcheck"] == {"disable": True}  # no HTTP port to check
    assert web["ports"] == ["127.0.0.1:3000:3000"]  # /setup is not open to the network
    assert re.fullmatch(r"redis:\d+\.\d+-alpine", redis["image"])
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert set(COMPOSE["volumes"]) == {"bot-data", "redis-data"}
