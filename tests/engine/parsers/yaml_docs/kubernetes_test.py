"""Kubernetes: one resource per manifest, addressed by kind and name, lists unpacked."""

from __future__ import annotations

from bot.engine.parsers.yaml_docs import parse_yaml
from tests.engine.parsers.yaml_docs.support import dedent

MULTI = dedent(
    """
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
    spec: {}
    ---
    # only a comment
    ---
    apiVersion: v1
    kind: Service
    spec:
      ports: [{port: 80}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: api}
    ---
    apiVersion: v1
    kind: List
    items:
      - apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
    ---
    services:
      web:
        image: nginx
    """
)


def test_multi_document_kubernetes_file() -> None:
    parsed = parse_yaml("k8s/all.yaml", MULTI)
    assert parsed.errors == ()
    found = [(r.source, r.kind, r.type, r.address, r.line, r.end_line) for r in parsed.resources]
    assert found == [
        ("kubernetes", "manifest", "Deployment", "Deployment/api", 2, 6),
        ("kubernetes", "manifest", "Service", "Service/<document 3>", 10, 13),
        ("kubernetes", "manifest", "Service", "Service/api", 15, 17),
        ("kubernetes", "manifest", "ConfigMap", "ConfigMap/settings", 22, 24),
    ]
