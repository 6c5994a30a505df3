"""parse_dockerfile: logical instructions with their lines, stages, directives, heredocs, errors."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.model import Resource
from bot.engine.parsers.dockerfile import parse_dockerfile


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def instructions(resource: Resource) -> list[tuple[str, str, int, int]]:
    listed = resource.body.get("instructions")
    assert listed is not None
    return [
        (item.get("instruction").value, item.get("arguments").value, item.line, item.end_line)
        for item in listed.value
    ]


MULTI_STAGE = dedent(
    """
    # syntax=docker/dockerfile:1
    ARG GO_VERSION=1.22
    FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
    WORKDIR /src
    RUN apt-get update \\
        # comments inside a continuation are dropped
        && apt-get install -y git \\

        && rm -rf /var/lib/apt/lists/*
    COPY . .
    from gcr.io/distroless/static:nonroot
    COPY --from=build /out/app /app
    USER 65532
    ENTRYPOINT ["/app"]
    """
)


def test_stages_are_resources_with_their_lines() -> None:
    parsed = parse_dockerfile("Dockerfile", MULTI_STAGE)
    assert parsed.errors == ()
    found = [(r.source, r.kind, r.type, r.address, r.line, r.end_line) for r in parsed.resources]
    assert found == [
        ("dockerfile", "stage", "dockerfile", "stage.build", 3, 10),
        ("dockerfile", "stage", "dockerfile", "stage.1", 11, 14),
    ]
    build, final = parsed.resources
    assert build.body.get("from").value == "golang:${GO_VERSION}"  # type: ignore[union-attr]
    assert build.body.get("platform").value == "$BUILDPLATFORM"  # type: ignore[union-attr]
    assert build.body.get("final").value is False  # type: ignore[union-attr]
    assert final.body.get("final").value is True  # type: ignore[union-attr]
    assert final.body.get("name") is None
    assert build.lines[0].startswith("FROM --platform")
    assert final.text_at(13) == "USER 65532"


def test_continuations_join_and_keep_first_and_last_line() -> None:
    build = parse_dockerfile("Dockerfile", MULTI_STAGE).resources[0]
    assert instructions(build) == [
        ("FROM", "--platform=$BUILDPLATFORM golang:${GO_VERSION} AS build", 3, 3),
        ("WORKDIR", "/src", 4, 4),
        ("RUN", "apt-get update     && apt-get install -y git     && rm -rf /var/lib/apt/lists/*", 5, 9),
        ("COPY", ". .", 10, 10),
    ]


def test_instructions_before_the_first_from_are_global() -> None:
    build = parse_dockerfile("Dockerfile", MULTI_STAGE).resources[0]
    global_ = build.body.get("global")
    assert global_ is not None
    assert [item.plain() for item in global_.value] == [{"instruction": "ARG", "arguments": "GO_VERSION=1.22"}]
    assert global_.line == 2


def test_escape_directive_changes_the_continuation_character() -> None:
    text = dedent(
        """
        # escape=`
        FROM mcr.microsoft.com/windows/servercore:ltsc2022
        RUN powershell -Command `
            Write-Host hello
        COPY C:\\app\\ C:\\app\\
        """
    )
    (stage,) = parse_dockerfile("Dockerfile", text).resources
    assert instructions(stage)[1:] == [
        ("RUN", "powershell -Command     Write-Host hello", 3, 4),
        ("COPY", "C:\\app\\ C:\\app\\", 5, 5),
    ]


def test_a_directive_after_an_instruction_is_just_a_comment() -> None:
    text = "FROM alpine\n# escape=`\nRUN echo a \\\n    b\n"
    (stage,) = parse_dockerfile("Dockerfile", text).resources
    assert instructions(stage)[1] == ("RUN", "echo a     b", 3, 4)


def test_heredocs_belong_to_their_instruction() -> None:
    text = dedent(
        """
        FROM debian:12
        RUN <<EOF
        set -e
        # not a Dockerfile comment
        apt-get update
        EOF
        COPY <<-"CONF" /etc/app.conf
        \tkey=value
        \tCONF
        RUN <<A <<B
        echo a
        A
        echo b
        B
        USER app
        """
    )
    (stage,) = parse_dockerfile("Dockerfile", text).resources
    assert instructions(stage) == [
        ("FROM", "debian:12", 1, 1),
        ("RUN", "<<EOF\nset -e\n# not a Dockerfile comment\napt-get update\nEOF", 2, 6),
        ("COPY", '<<-"CONF" /etc/app.conf\nkey=value\nCONF', 7, 9),
        ("RUN", "<<A <<B\necho a\nA\necho b\nB", 10, 14),
        ("USER", "app", 15, 15),
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("RUN echo hi\n", 1, "no FROM"),
        ("# comment\nARG X=1\nENV Y=2\n", 2, "no FROM"),
        ("FROM alpine\nRUN <<EOF\necho never closed\n", 2, "never terminated"),
        ("FROM alpine\n!!! nonsense\n", 2, "unparseable"),
    ],
)
def test_broken_dockerfiles_are_errors(text: str, line: int, message: str) -> None:
    parsed = parse_dockerfile("Dockerfile", text)
    assert parsed.resources == ()
    (error,) = parsed.errors
    assert (error.path, error.line) == ("Dockerfile", line)
    assert message in error.message


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n"])
def test_empty_dockerfile_has_nothing(text: str) -> None:
    assert parse_dockerfile("Dockerfile", text) == parse_dockerfile("Dockerfile", "")
    parsed = parse_dockerfile("Dockerfile", text)
    assert (parsed.resources, parsed.errors) == ((), ())


def test_trailing_continuation_at_end_of_file() -> None:
    (stage,) = parse_dockerfile("Dockerfile", "FROM alpine\nRUN echo \\").resources
    assert instructions(stage)[1] == ("RUN", "echo", 2, 2)


def test_stage_names_and_indexes() -> None:
    text = "FROM a AS one\nFROM b\nFROM one AS three\n"
    parsed = parse_dockerfile("Dockerfile", text)
    assert [r.address for r in parsed.resources] == ["stage.one", "stage.1", "stage.three"]
    assert [r.body.get("index").value for r in parsed.resources] == [0, 1, 2]  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["FROM a", "RUN x", "\\", "\n", "<<EOF", "EOF", "# c", " ", "USER 0", "`"]),
                max_size=60))
def test_parse_dockerfile_never_raises(pieces: list[str]) -> None:
    parsed = parse_dockerfile("Dockerfile", "".join(pieces))
    for resource in parsed.resources:
        assert 1 <= resource.line <= resource.end_line
    for error in parsed.errors:
        assert error.line is None or error.line >= 1
