"""The template renderer, fed template-shaped text and the repository's templated fixtures bent,
raises nothing but `TemplateError` (with a line inside the text), keeps every line where it was,
and `parse_yaml` on such text, in a chart and outside one, returns a `ParsedFile` as every parser
must (errors with a readable message on a line of the file, resources inside it)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from bot.engine.lines import git_lines
from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.parsers.yaml_docs.templated import GO, JINJA, TemplateError, render
from tests.fuzz.seeds import ODD, check_parsed, fuzz, mutants

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TEMPLATED = sorted(p.read_text() for p in (FIXTURES / "helm").rglob("*.yaml") if "{{" in p.read_text())
PIECES = (
    "{{", "}}", "{{-", "-}}", "{{ .Values.x }}", "{{- if .x }}", "{{ else }}", "{{- end }}", "{{ range . }}",
    "{{- toYaml . | nindent 4 }}", "{{ include \"x\" . | indent 2 }}", "{{/* c */}}", "{{- /*", "*/}}",
    "{{ $x := 1 }}", "{{ \"\" }}", "{{ `raw` }}", "{{ 'c' }}", "{% if x %}", "{% endif %}", "{% include 'y' %}",
    "{#", "#}", "%}", "\"", "'", "`", "\\", "\n", "\r\n", "  ", "    ", "- ", "-", ": ", "key:", "a: 1", "---",
    "|", ">-", "{", "}", "[", "]", ",", "#", "&a ", "*a", "<<: ", "\ue000", "\ue001", "\ue002", "0",
)
TEMPLATE_TEXT = st.lists(st.one_of(st.sampled_from(PIECES), st.sampled_from(ODD), st.text(max_size=4)),
                         max_size=60).map("".join)


def _renders(text: str, dialect: str) -> None:
    for emissions in (True, False):
        try:
            rendered = render(text, dialect, emissions)
        except TemplateError as exc:
            assert 1 <= exc.line <= max(1, len(git_lines(text)) + 1) and str(exc)
            return
        assert rendered.text.count("\n") == text.count("\n")  # every line where it was
        for line in rendered.opens:
            assert 1 <= line <= text.count("\n") + 1
        assert len(rendered.restore(rendered.text)) <= 200


@fuzz(ci=300)
@given(TEMPLATE_TEXT, st.sampled_from([GO, JINJA]))
@example("a: {{ .x }\nb: 1\n", GO)
@example("- {{ toYaml . }}\n  - {{ x }}\n", GO)
@example("k:\n{{- toYaml . | nindent 99 }}\n", GO)
def test_the_renderer_raises_only_template_errors_and_keeps_the_lines(text: str, dialect: str) -> None:
    _renders(text, dialect)


@fuzz(ci=150)
@given(TEMPLATE_TEXT)
def test_template_text_parses_to_a_parsed_file_in_a_chart_and_outside(text: str) -> None:
    for path in ("charts/app/templates/t.yaml", "deploy/t.yaml"):
        check_parsed(parse_yaml(path, text), path, text)


@fuzz(ci=150)
@given(mutants(TEMPLATED))
def test_bent_chart_templates_parse_to_a_parsed_file(text: str) -> None:
    for path in ("charts/app/templates/t.yaml", "deploy/t.yaml"):
        check_parsed(parse_yaml(path, text), path, text)
    _renders(text, GO)
