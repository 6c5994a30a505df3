"""YAML (and JSON CloudFormation) files to `Resource`s with a line on every value.

PyYAML composes the documents (safe loading only: no tag ever builds a Python object); we
turn the composed node graph into `Node` trees ourselves, so every mapping value and list item
keeps the lines it spans and CloudFormation short-form tags (`!Ref`, `!GetAtt`...) become the
long-form mappings that rules already understand.

Classification:
- `.github/workflows/*.yml|*.yaml` -> one GitHub Actions resource per workflow *file*
  (address "workflow"), body = the whole document, so triggers (`on`) and every job are
  visible to a rule in one place. Mapping keys keep their source text, so the YAML 1.1
  boolean key `on` stays "on".
- a document with `AWSTemplateFormatVersion`, or a `Resources` mapping whose entries have
  `Type: AWS::...` -> one CloudFormation resource per entry of `Resources`.
- a document with `apiVersion` and `kind` -> one Kubernetes resource (a `kind: List`
  contributes one per item).
- anything else (docker-compose, Helm values...) -> no resources and no error; what the engine
  cannot judge is listed as not reviewed by `bot.engine.coverage`, never passed silently.

Hostile input is bounded: nesting depth, the size of the tree after alias expansion
(billion laughs) and recursive aliases all end in a `FileError`, never a hang or a crash.

The modules, each importing only those after it in this list:

- `parse`: one file -> `ParsedFile`; errors, template detection, classification (`parse_yaml`).
- `loader`: PyYAML composition -> `Node` trees with lines, bounded in depth and size.
- `templated`: Helm/Jinja template text -> YAML with placeholders for what templates fill in,
  without running anything (a best-effort review of what is written literally).
- `cloudformation`, `kubernetes`, `workflows`: each format's resources from `Node`s (and, for
  CloudFormation, the short-form tags the loader applies and the JSON sniff).
"""

from __future__ import annotations

from bot.engine.parsers.yaml_docs.cloudformation import looks_like_cloudformation_json
from bot.engine.parsers.yaml_docs.loader import MAX_DEPTH, MAX_NODES
from bot.engine.parsers.yaml_docs.parse import TEMPLATE_MARK, is_template_text, parse_yaml

__all__ = ["MAX_DEPTH", "MAX_NODES", "TEMPLATE_MARK", "is_template_text", "looks_like_cloudformation_json",
           "parse_yaml"]
