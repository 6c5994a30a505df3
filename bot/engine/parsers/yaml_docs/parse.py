"""One YAML or JSON file to a `ParsedFile`: its documents, classified, as resources.

On a workflow path every document is read as a workflow; elsewhere each document is a
CloudFormation template, else a Kubernetes manifest, else nothing (docker-compose, Helm
values...: no resources and no error). Every failure becomes a `FileError` with the best line
known.

Text with Helm, Jinja or Go template marks where YAML structure goes (or any mark under a
`templates/` folder, or marks in text that is not YAML as written) is read through
`templated.render`: literal values are judged, template values are unknown, and the result says
`templated` (the engine still lists the file as not fully reviewed, `bot.engine.coverage`). When
even the rendered text is not YAML, a file under `templates/` is left unread, as a chart's
template Helm alone can render (listed as not reviewed); anywhere else it is a broken manifest,
and its error names the line.
"""

from __future__ import annotations

from dataclasses import replace

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
from bot.engine.parsers.yaml_docs.templated import (
    TEMPLATE_MARK,
    Rendered,
    TemplateError,
    dialect_of,
    in_chart_templates,
    render,
    shapes_yaml,
)
from bot.engine.parsers.yaml_docs.workflows import is_workflow_path, workflow_resources

__all__ = ["TEMPLATE_MARK", "is_template_text", "parse_yaml"]

_RENDERED = "with its template marks read as unknown values"


def is_template_text(path: str, text: str) -> bool:
    """Whether `path` is read as template text from the start: marks under `templates/`, or marks
    that shape its YAML (not on a workflow path, where `${{ }}` and `{{` are the workflow's own)."""
    if is_workflow_path(path) or not _marked(text):
        return False
    return in_chart_templates(path) or shapes_yaml(text)


def _marked(text: str) -> bool:
    """A template mark in `text` (a plain search for the braces first: most YAML has none)."""
    return ("{{" in text or "{%" in text or "{#" in text) and TEMPLATE_MARK.search(text) is not None


def parse_yaml(path: str, text: str) -> ParsedFile:
    """Parse a YAML/JSON file into resources; errors become `FileError`s, never exceptions."""
    if is_template_text(path, text):
        return _parse_template(path, text)
    parsed = _guarded(path, text, None)
    if parsed.errors and not is_workflow_path(path) and _marked(text):
        return _parse_template(path, text)  # not YAML as written: it may be once its marks are read
    return parsed


def _parse_template(path: str, text: str) -> ParsedFile:
    """Template text read as written with its values unknown; what even then is not YAML is left
    to the coverage listing under `templates/`, and an error with its line anywhere else."""
    chart = in_chart_templates(path)
    dialect = dialect_of(text)
    try:
        rendered = render(text, dialect)
    except TemplateError as exc:
        return ParsedFile(path) if chart else ParsedFile(path, errors=(FileError(path, exc.line,
                                                                                 f"invalid template: {exc}"),))
    first = _guarded(path, text, rendered)
    if not first.errors:
        return first
    second = _guarded(path, text, render(text, dialect, emissions=False))
    if not second.errors:
        return second
    if chart:
        return ParsedFile(path)
    return ParsedFile(path, errors=tuple(FileError(e.path, e.line, f"{e.message} ({_RENDERED})") for e in first.errors))


def _guarded(path: str, text: str, template: Rendered | None) -> ParsedFile:
    """`_parse`, its failures as `FileError`s with the best line known."""
    source = template.text if template is not None else text
    try:
        return _parse(path, text, template)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # The end of the stream is marked on the line after the last one: name the last line.
        line = min(mark.line + 1, max(1, len(git_lines(text)))) if mark is not None else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part) or "invalid YAML"
        return ParsedFile(path=path, errors=(FileError(path, line, f"invalid YAML: {message}"),))
    except yaml.reader.ReaderError as exc:  # a character YAML forbids: name its line
        # libyaml counts its position in UTF-8 bytes, PyYAML's reader in characters: find the
        # character itself (the reader stops at its first occurrence).
        found = source.find(chr(exc.character)) if isinstance(exc.character, int) else -1
        line = source.count("\n", 0, found if found >= 0 else exc.position) + 1
        message = f"invalid YAML: character U+{exc.character:04X} is not allowed in YAML" \
            if isinstance(exc.character, int) else "invalid YAML: a character YAML does not allow"
        return ParsedFile(path=path, errors=(FileError(path, line, message),))
    except TooBig as exc:
        return ParsedFile(path=path, errors=(FileError(path, None, str(exc)),))
    except RecursionError:
        return ParsedFile(path=path, errors=(FileError(path, None, "YAML nesting too deep"),))
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        return ParsedFile(path=path, errors=(FileError(path, None, f"invalid YAML: {exc}"),))
    except Exception:  # noqa: BLE001 - a parser bug is reported on the file, never raised
        return ParsedFile(path=path, errors=(FileError(path, None, f"could not parse YAML: {ENGINE_BUG}"),))


def _parse(path: str, text: str, template: Rendered | None) -> ParsedFile:
    source = template.text if template is not None else text
    if looks_like_cloudformation_json(source):
        source = source.replace("\t", " ")  # JSON forbids raw tabs in strings; YAML forbids them as indentation
    source = yaml_safe_breaks(source)
    read = git_lines(source)
    lines = git_lines(yaml_safe_breaks(text)) if template is not None else read  # resources quote the text as written
    documents, key_lines = compose(source, read, template)
    is_workflow = is_workflow_path(path)
    resources: list[Resource] = []
    used: set[str] = set()
    for index, renderings in enumerate(documents, start=1):
        first: dict[str, str] = {}  # the first rendering's addresses, as written -> as given
        for variant, document in enumerate(renderings):
            if is_workflow:
                found = list(workflow_resources(path, document, lines))
            elif is_cloudformation(document):
                found = list(cloudformation_resources(path, document, lines, key_lines))
            elif variant == 0:
                found = list(kubernetes_resources(path, document, index, lines, used))
                first = {r.address.removesuffix(f"@{index}"): r.address for r in found}
            else:  # every rendering of a document is addressed as the first one is
                found = [replace(r, address=first.get(r.address) or (f"{r.address}@{index}" if r.address in used
                                                                     else r.address))
                         for r in kubernetes_resources(path, document, index, lines, set())]
            resources.extend(replace(r, variant=variant) if variant else r for r in found)
    return ParsedFile(path=path, resources=tuple(resources), templated=template is not None)
