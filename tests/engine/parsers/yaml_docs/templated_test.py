"""Templated YAML read as written: the renderer keeps every line where it was, template values
become `Unknown`, template output opens its mapping (`Node.hidden`), both branches of an if/else
are judged, and what cannot be read is an error with its line or, in a chart, left unread."""

from __future__ import annotations

import pytest

from bot.engine.model import Node, Resource, Unknown
from bot.engine.parsers.yaml_docs import parse_yaml
from bot.engine.parsers.yaml_docs.loader import MAX_TEMPLATE_VARIANTS
from bot.engine.parsers.yaml_docs.templated import (
    GO,
    JINJA,
    TemplateError,
    dialect_of,
    is_marked,
    render,
)
from tests.engine.parsers.yaml_docs.support import dedent

CHART = "charts/app/templates/deployment.yaml"


def only(path: str, text: str) -> Resource:
    parsed = parse_yaml(path, text)
    assert parsed.errors == () and parsed.templated, parsed.errors
    (resource,) = parsed.resources
    return resource


def at(resource: Resource, *keys: str | int) -> Node:
    node = resource.body.get(*keys)
    assert node is not None, keys
    return node


def test_every_line_keeps_its_number_and_control_lines_are_blank() -> None:
    text = dedent("""
        {{- if .Values.enabled }}
        a: 1
        {{- /* a comment
        over two lines */}}
        {{ $x := .Values.x }}
        b: 2\r
        {{- end }}
        c: {{ include "x"
          . }}
        d: 3
        """)
    rendered = render(text)
    assert rendered.text.count("\n") == text.count("\n")
    lines = rendered.text.split("\n")
    assert [lines[i].strip() for i in (0, 2, 3, 4, 6, 8)] == ["", "", "", "", "", ""]
    assert lines[1] == "a: 1" and lines[5] == "b: 2\r" and lines[9] == "d: 3"
    assert lines[7] == "c: " and 8 in rendered.opens  # its value is what the template writes there
    assert is_marked(render("a: {{ .x }}\n").text)


def test_values_a_template_fills_in_are_unknown_and_keep_their_lines() -> None:
    pod = only("deploy/pod.yaml", dedent("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{ .Values.name }}
        spec:
          containers:
            - name: app
              image: "{{ .Values.repo }}:{{ .Values.tag }}-suffix"
              args: [{{ .Values.arg }}, --fixed]
        """))
    image = at(pod, "spec", "containers", 0, "image")
    assert image.value == Unknown("{{ .Values.repo }}:{{ .Values.tag }}-suffix") and image.line == 8
    args = at(pod, "spec", "containers", 0, "args")
    assert [a.value for a in args.value] == [Unknown("{{ .Values.arg }}"), "--fixed"]
    assert pod.address == "Pod/{{ .Values.name }}"


def test_constants_render_as_themselves_so_they_cannot_hide_a_key() -> None:
    pod = only("deploy/pod.yaml", dedent("""
        apiVersion: v1
        kind: Pod
        spec:
          hostNetwork{{ "" }}: {{ true }}
          priority: {{ 7 }}
          note: {{ `raw` }}
        """))
    assert at(pod, "spec").plain() == {"hostNetwork": True, "priority": 7, "note": "raw"}
    assert at(pod, "spec").hidden is None


def test_control_actions_inside_a_line_are_dropped_and_an_else_amid_a_value_makes_it_unknown() -> None:
    pod = only("deploy/pod.yaml", dedent("""
        apiVersion: v1
        kind: Pod
        spec:
          {{ if .Values.host }}hostNetwork: true{{ end }}
          dnsPolicy: {{ if .Values.a }}Default{{ else }}ClusterFirst{{ end }}
        """))
    assert at(pod, "spec", "hostNetwork").value is True
    assert isinstance(at(pod, "spec", "dnsPolicy").value, Unknown)


def test_template_output_opens_its_mapping_and_adds_an_unknown_item_to_a_list() -> None:
    deployment = only(CHART, dedent("""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          labels:
            {{- include "app.labels" . | nindent 4 }}
            tier: web
          annotations: {{- toYaml .Values.annotations | nindent 4 }}
            owner: team-a
        spec:
          template:
            spec:
              securityContext:
                {{- toYaml .Values.podSecurityContext | nindent 8 }}
              containers:
                - name: app
                  image: nginx:1.27
                {{- with .Values.sidecars }}
                {{- toYaml . | nindent 8 }}
                {{- end }}
              tolerations: {{ toYaml .Values.tolerations | nindent 8 }}
        """))
    labels = at(deployment, "metadata", "labels")
    assert labels.plain() == {"tier": "web"}
    assert labels.hidden == Unknown('{{- include "app.labels" . | nindent 4 }}')
    annotations = at(deployment, "metadata", "annotations")
    assert annotations.plain() == {"owner": "team-a"} and annotations.hidden is not None
    spec = at(deployment, "spec", "template", "spec")
    assert spec.hidden is None  # the pod spec itself is written whole
    assert at(deployment, "spec", "template", "spec", "securityContext").hidden is not None
    assert spec.unseen("securityContext", "runAsNonRoot") and not spec.unseen("hostNetwork")
    containers = at(deployment, "spec", "template", "spec", "containers")
    assert [c.plain() if not c.is_unknown else "?" for c in containers.value] == [
        {"name": "app", "image": "nginx:1.27"}, "?"]
    assert isinstance(at(deployment, "spec", "template", "spec", "tolerations").value, Unknown)


def test_an_emitting_line_over_a_compact_list_is_one_of_its_items() -> None:
    role = only("charts/app/templates/role.yaml", dedent("""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        rules:
        {{- with .Values.rules }}
        {{- toYaml . | nindent 2 }}
        {{- else }}
        - apiGroups: [""]
          resources: [pods]
          verbs: [get]
        {{- end }}
        """))
    rules = at(role, "rules").value
    assert [r.is_unknown for r in rules] == [True, False]


def test_an_item_holding_only_template_output_is_an_open_mapping_when_keys_follow_it() -> None:
    pod = only(CHART, dedent("""
        apiVersion: v1
        kind: Pod
        spec:
          topologySpreadConstraints:
            {{- range $c := .Values.constraints }}
            - {{ toYaml $c | nindent 6 | trim }}
              labelSelector: {matchLabels: {app: x}}
            {{- end }}
          args:
            - {{ .Values.arg }}
        """))
    (constraint,) = at(pod, "spec", "topologySpreadConstraints").value
    assert constraint.plain() == {"labelSelector": {"matchLabels": {"app": "x"}}} and constraint.hidden is not None
    (arg,) = at(pod, "spec", "args").value
    assert arg.is_unknown


def test_both_branches_of_an_if_else_are_judged_one_rendering_each() -> None:
    text = dedent("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: debug
        spec:
          containers:
            - name: app
              securityContext:
                {{- if .Values.safe }}
                privileged: false
                {{- else }}
                privileged: true
                {{- end }}
        """)
    parsed = parse_yaml("deploy/pod.yaml", text)
    assert parsed.errors == ()
    assert [(r.variant, r.address, r.body.get("spec", "containers", 0, "securityContext", "privileged"))
            for r in parsed.resources] == [
        (0, "Pod/debug", Node(False, 10, 10)), (1, "Pod/debug", Node(True, 12, 12))]
    assert len({r.key for r in parsed.resources}) == 2  # selected apart, reported on one address


def test_a_key_written_more_often_than_the_renderings_followed_is_an_error() -> None:
    branches = "".join(f"  {{{{- if eq .Values.n {i} }}}}\n  replicas: {i}\n  {{{{- end }}}}\n"
                       for i in range(MAX_TEMPLATE_VARIANTS + 1))
    text = f"apiVersion: apps/v1\nkind: Deployment\nspec:\n{branches}"
    (error,) = parse_yaml("deploy/d.yaml", text).errors
    assert "more than 16 times" in error.message and "`replicas`" in error.message
    assert parse_yaml(CHART, text).errors == () and parse_yaml(CHART, text).resources == ()  # a chart's: unread


def test_jinja_statements_are_control_and_its_include_is_template_output() -> None:
    assert dialect_of("{% if x %}\n") == JINJA and dialect_of("a: {{ .x }}\n") == GO
    pod = only("deploy/pod.yaml", dedent("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{ name }}
        {# a comment #}
        spec:
        {% if host %}
          hostNetwork: true
        {% endif %}
          nodeSelector:
            {% include "selector.yaml" %}
          containers: []
        """))
    assert at(pod, "spec", "hostNetwork").value is True
    assert at(pod, "spec", "nodeSelector").hidden == Unknown('{% include "selector.yaml" %}')


def test_private_use_marks_in_the_source_cannot_forge_a_placeholder() -> None:
    pod = only("deploy/pod.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  \ue0020\ue001: 1\n  x: {{ .y }}\n"
               "  hostPID: true\n")
    assert at(pod, "spec").hidden is None and at(pod, "spec", "hostPID").value is True
    assert "\ufffd0\ufffd" in at(pod, "spec").value


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\nb: {{ .Values.x\nc: 2\n", 2, "a template action `{{` is never closed"),
        ("a: 1\n{{/* never closed\n", 2, "a template comment `{{/*` is never closed"),
        ("a: 1\n\nb: {{ \"}}\n", 3, "a template action `{{` is never closed"),  # `}}` inside a string
        ("{% if x %}\na: 1\n{# open\n", 3, "a template comment `{#` is never closed"),
    ],
)
def test_an_unclosed_action_is_a_template_error_with_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(TemplateError) as raised:
        render(text, dialect_of(text))
    assert (raised.value.line, str(raised.value)) == (line, message)
    (error,) = parse_yaml("deploy/app.yaml", text).errors
    assert (error.line, error.message) == (line, f"invalid template: {message}")
    assert parse_yaml(CHART, text).errors == ()  # a chart's template: Helm alone can tell


def test_a_broken_manifest_with_template_marks_outside_a_chart_is_an_error_on_its_line() -> None:
    text = dedent("""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{ .Values.name }}
        spec:
          containers:
            - name: app
             image: nginx
              securityContext: {privileged: true}
        """)
    (error,) = parse_yaml("deploy/pod.yaml", text).errors
    assert error.line == 8 and error.message.startswith("invalid YAML: ")
    assert error.message.endswith("(with its template marks read as unknown values)")
    chart = parse_yaml(CHART, text)
    assert (chart.errors, chart.resources, chart.templated) == ((), (), False)


def test_yaml_that_parses_with_marks_only_in_strings_is_read_as_written() -> None:
    text = 'apiVersion: v1\nkind: ConfigMap\ndata:\n  summary: "{{ $labels.instance }} down"\n'
    parsed = parse_yaml("monitoring/rules.yaml", text)
    assert not parsed.templated
    assert parsed.resources[0].body.get("data", "summary") == Node("{{ $labels.instance }} down", 4, 4)


def test_when_template_output_cannot_be_placed_every_mapping_is_open() -> None:
    """`nindent 3` between a list at 4 and its key at 2: no placement reads as YAML, so the
    emitting lines are dropped and no mapping of the file is known whole; literal values are
    still judged."""
    text = dedent("""
        apiVersion: v1
        kind: Pod
        spec:
          hostNetwork: true
          containers:
            - name: a
          {{- toYaml .Values.x | nindent 3 }}
        """)
    assert "\ue002" in render(text).text
    pod = only("deploy/pod.yaml", text)
    assert at(pod, "spec", "hostNetwork").value is True
    assert at(pod, "spec").hidden is not None and pod.body.hidden is not None
    assert at(pod, "spec", "containers", 0).hidden is not None
