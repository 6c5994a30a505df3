"""parse_yaml on a whole file: other YAML and templates are not errors, broken YAML is an
error on the right line, and nothing ever raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine.parsers.yaml_docs import parse_yaml


@pytest.mark.parametrize(
    "text",
    [
        "services:\n  web:\n    image: nginx\n    ports: ['80:80']\n",  # docker-compose
        "replicaCount: 2\nimage:\n  repository: nginx\n",  # Helm values
        "",  # empty file
        "# only a comment\n",
        "just a string\n",
        "- 1\n- 2\n",
    ],
)
def test_other_yaml_has_no_resources_and_no_error(text: str) -> None:
    assert parse_yaml("deploy/values.yaml", text) == parse_yaml("deploy/values.yaml", text)
    parsed = parse_yaml("deploy/values.yaml", text)
    assert (parsed.resources, parsed.errors) == ((), ())


@pytest.mark.parametrize(
    ("text", "types"),
    [
        (("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n"
         "    {{- include \"labels\" . | nindent 4 }}\n"), ["ConfigMap"]),
        ("{{- if .Values.enabled }}\napiVersion: v1\nkind: Service\n{{- end }}\n", ["Service"]),
        ("{% for x in items %}\n- name: {{ x }}\n{% endfor %}\n", []),
        ("{{ if .x }}\nkind: [\n{{ end }}\n", []),  # not YAML even so: a chart's template, left to Helm
    ],
)
def test_templates_are_read_as_written_not_yaml_errors(text: str, types: list[str]) -> None:
    parsed = parse_yaml("charts/app/templates/cm.yaml", text)
    assert parsed.errors == ()
    assert [r.type for r in parsed.resources] == types


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: b\nc: [d\ne: f\n", 3),
        ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n bad: indent\n", 5),
        ("key: 'unterminated\nother: 1\n", 2),  # the end of the stream: the last line, not one past it
        ("a: 1\n\tb: 2\n", 2),
        # libyaml counts bytes: after 20 two-byte characters the forbidden one was put on line 4
        ("a: " + "é" * 20 + "\nb: \x1f\nc: 1\nd: 2\n", 2),
    ],
)
def test_broken_yaml_is_an_error_on_the_right_line(text: str, line: int) -> None:
    parsed = parse_yaml("k8s/broken.yaml", text)
    assert parsed.resources == ()
    (error,) = parsed.errors
    assert error.path == "k8s/broken.yaml"
    assert error.line == line
    assert error.message.startswith("invalid YAML")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("ab:-[]{}&*!|>#'\" \n\t\\%@`") + ["- ", "&a ", "*a", "!Ref ", "<<: "]),
                max_size=120))
def test_parse_yaml_never_raises(pieces: list[str]) -> None:
    text = "".join(pieces)
    for path in ("k8s/fuzz.yaml", ".github/workflows/fuzz.yml", "template.json"):
        parsed = parse_yaml(path, text)
        assert parsed.path == path
        for error in parsed.errors:
            assert error.line is None or error.line >= 1
