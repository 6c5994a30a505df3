"""Which parser reads which file, and one entry point that parses a set of files.

Terraform is parsed a module (directory) at a time, because variables and locals resolve
across the files of a module; everything else is parsed a file at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from bot.engine import limits
from bot.engine.model import ENGINE_BUG, FileError, NotReviewed, ParsedFile
from bot.engine.parsers.families import (
    DOCKERFILE,
    JSON,
    TERRAFORM,
    TERRAFORM_JSON_SUFFIX,
    YAML,
    classify,
    is_terraform_json,
    module_dir,
)

if TYPE_CHECKING:
    from bot.engine.parsers.terraform.module import LoadedFile

__all__ = [
    "DOCKERFILE",
    "JSON",
    "MAX_PARSE_BYTES",
    "TERRAFORM",
    "TERRAFORM_JSON_SUFFIX",
    "YAML",
    "claims_json",
    "classify",
    "evaluate_terraform",
    "is_terraform_json",
    "module_dir",
    "parse_one",
    "parse_terraform",
]

MAX_PARSE_BYTES = limits.FILE_BYTES  # larger infrastructure files are reported, not parsed (CRD bundles fit)


def _too_large(path: str, text: str) -> ParsedFile | None:
    if len(text) > MAX_PARSE_BYTES:
        size = len(text.encode("utf-8", "replace")) / (1024 * 1024)
        message = f"file too large to review ({size:.1f} MiB, limit {MAX_PARSE_BYTES // (1024 * 1024)} MiB)"
        return ParsedFile(path, errors=(FileError(path, None, message),))
    return None


def parse_one(path: str, text: str) -> ParsedFile:
    """Parse a non-Terraform file by its family; unknown families give an empty result."""
    from bot.engine.parsers.dockerfile import parse_dockerfile
    from bot.engine.parsers.yaml_docs import parse_yaml

    family = classify(path)
    if family == JSON and not claims_json(path, text[:MAX_PARSE_BYTES]):
        return ParsedFile(path)  # a package.json or lock file is never parsed (or reported) as infrastructure
    oversized = _too_large(path, text)
    if oversized:
        return oversized
    try:
        if family in (YAML, JSON):
            return parse_yaml(path, text)
        if family == DOCKERFILE:
            return parse_dockerfile(path, text)
    except Exception:  # noqa: BLE001 - a parser bug must surface as an error on the file, never a crash
        return ParsedFile(path, errors=(FileError(path, None, f"could not parse: {ENGINE_BUG}"),))
    return ParsedFile(path)


def claims_json(path: str, text: str) -> bool:
    """JSON (and `.template`, which may be YAML) is ours only when it looks like CloudFormation."""
    from bot.engine.parsers.yaml_docs import looks_like_cloudformation_json

    if path.lower().endswith(".template") and "AWSTemplateFormatVersion" in text:
        return True
    return looks_like_cloudformation_json(text)


def parse_terraform(files: Mapping[str, str], loaded: Mapping[str, LoadedFile | FileError] | None = None
                    ) -> dict[str, ParsedFile]:
    """Parse Terraform (.tf, .tf.json, variable files) module by module (directory by directory),
    each on its own: variables take their defaults and module calls are not followed (what a
    base-side look needs). `loaded`: files already read (`load_file`, perhaps in another process)."""
    from bot.engine.parsers.terraform import parse_module
    from bot.engine.parsers.terraform.varfiles import is_variable_file, load_variable_file

    by_dir: dict[str, dict[str, str]] = defaultdict(dict)
    results: dict[str, ParsedFile] = {}
    for path, text in files.items():
        oversized = _too_large(path, text)
        if oversized:
            results[path] = oversized
        elif is_variable_file(path):
            results[path] = load_variable_file(path, text).parsed
        else:
            by_dir[module_dir(path)][path] = text
    for module_files in by_dir.values():
        try:
            results.update(parse_module(module_files, loaded))
        except Exception:  # noqa: BLE001 - one broken module never stops the review
            for path in module_files:
                results[path] = ParsedFile(
                    path, errors=(FileError(path, None, f"could not parse: {ENGINE_BUG}"),)
                )
    return results


def evaluate_terraform(files: Mapping[str, str], var_files: Mapping[str, Sequence[str]] | None = None,
                       loaded: Mapping[str, LoadedFile | FileError] | None = None,
                       changed: Collection[str] | None = None
                       ) -> tuple[dict[str, ParsedFile], tuple[NotReviewed, ...]]:
    """Evaluate the Terraform of a repository as Terraform instantiates it (root modules with their
    variable files, local module calls with their arguments); see `terraform.stack`. `loaded`:
    files already read (`load_file`, perhaps in another process). `changed`: the directories a
    review judges the instances of (None: every instance is built)."""
    from bot.engine.parsers.terraform.stack import evaluate

    oversized = {path: result for path, text in files.items() if (result := _too_large(path, text))}
    try:
        evaluated = evaluate({p: t for p, t in files.items() if p not in oversized}, var_files, loaded, changed)
    except Exception:  # noqa: BLE001 - a bug here must surface as errors on the files, never a crash
        return ({path: ParsedFile(path, errors=(FileError(path, None, f"could not evaluate: {ENGINE_BUG}"),))
                 for path in files}, ())
    return {**evaluated.files, **oversized}, evaluated.not_reviewed
