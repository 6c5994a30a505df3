"""One YAML or JSON file to a `ParsedFile`: its documents, classified, as resources.

On a workflow path every document is read as a workflow; elsewhere each document is a
CloudFormation template, else a Kubernetes manifest, else nothing (docker-compose, Helm
values...: no resources and no error). Every failure becomes a `FileError` with the best line
known, except that text which looks like a Helm, Jinja or Go template is not reported as broken
YAML: it is not broken, it is not YAML yet. The engine lists such a file as not reviewed
(`bot.engine.coverage`, which uses `TEMPLATE_MARK` below), so it is never passed silently.
"""

from __future__ import annotations

import re

import yaml

from bot.engine.lines import git_lines, yaml_safe_breaks
from bot.engine.model import ENGINE_BUG, FileError, ParsedFile, Resource
from bot.engine.parsers.yaml_docs.cloudformation import (
    cloudformation_resources,
    is_cloudformation,
    looks_like_cloudformation_json,
)
from bot.engine.parsers.yaml_docs.kubernetes import kubernetes_resources
from bot.engine.parsers.yaml_docs.loader import TooBig, compose
from bot.engine.parsers.yaml_docs.workflows import is_workflow_path, workflow_resources

__all__ = ["TEMPLATE_MARK", "parse_yaml"]

# Helm / Jinja / Go templates, but not GitHub Actions `${{ }}` expressions.
TEMPLATE_MARK = re.compile(r"(?<!\$)\{\{|\{%-?\s|\{#")


def _looks_like_template(text: str) -> bool:
    return TEMPLATE_MARK.search(text) is not None


def parse_yaml(path: str, text: str) -> ParsedFile:
    """Parse a YAML/JSON file into resources; errors become `FileError`s, never exceptions."""
    try:
        return _parse(path, text)
    except yaml.MarkedYAMLError as exc:
        if _looks_like_template(text):
            return ParsedFile(path=path)
        mark = exc.problem_mark or exc.context_mark
        # The end of the stream is marked on the line after the last one: name the last line.
        line = min(mark.line + 1, max(1, len(git_lines(text)))) if mark is not None else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part) or "invalid YAML"
        return ParsedFile(path=path, errors=(FileError(path, line, f"invalid YAML: {message}"),))
    except yaml.reader.ReaderError as exc:  # a character YAML forbids: name its line
        # libyaml counts its position in UTF-8 bytes, PyYAML's reader in characters: find the
        # character itself (the reader stops at its first occurrence).
        found = text.find(chr(exc.character)) if isinstance(exc.character, int) else -1
        line = text.count("\n", 0, found if found >= 0 else exc.position) + 1
        message = f"invalid YAML: character U+{exc.character:04X} is not allowed in YAML" \
            if isinstance(exc.character, int) else "invalid YAML: a character YAML does not allow"
        return ParsedFile(path=path, errors=(FileError(path, line, message),))
    except TooBig as exc:
        return ParsedFile(path=path, errors=(FileError(path, None, str(exc)),))
    except RecursionError:
        return ParsedFile(path=path, errors=(FileError(path, None, "YAML nesting too deep"),))
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        if _looks_like_template(text):
            return ParsedFile(path=path)
        return ParsedFile(path=path, errors=(FileError(path, None, f"invalid YAML: {exc}"),))
    except Exception:  # noqa: BLE001 - a parser bug is reported on the file, never raised
        return ParsedFile(path=path, errors=(FileError(path, None, f"could not parse YAML: {ENGINE_BUG}"),))


def _parse(path: str, text: str) -> ParsedFile:
    source = text
    if looks_like_cloudformation_json(text):
        source = text.replace("\t", " ")  # JSON forbids raw tabs in strings; YAML forbids them as indentation
    source = yaml_safe_breaks(source)
    lines = git_lines(source)
    documents, key_lines = compose(source, lines)
    is_workflow = is_workflow_path(path)
    resources: list[Resource] = []
    used: set[str] = set()
    for index, document in enumerate(documents, start=1):
        if is_workflow:
            resources.extend(workflow_resources(path, document, lines))
        elif is_cloudformation(document):
            resources.extend(cloudformation_resources(path, document, lines, key_lines))
        else:
            resources.extend(kubernetes_resources(path, document, index, lines, used))
    return ParsedFile(path=path, resources=tuple(resources))
