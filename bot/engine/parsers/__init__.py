"""Which parser reads which file, and one entry point that parses a set of files.

Terraform is parsed a module (directory) at a time, because variables and locals resolve
across the files of a module; everything else is parsed a file at a time.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Mapping

from bot.engine.model import FileError, ParsedFile

TERRAFORM = "terraform"
YAML = "yaml"
JSON = "json"
DOCKERFILE = "dockerfile"

MAX_PARSE_BYTES = 5 * 1024 * 1024  # larger infrastructure files are reported, not parsed (CRD bundles fit)
TERRAFORM_JSON_SUFFIX = ".tf.json"


def is_terraform_json(path: str) -> bool:
    """Terraform's JSON syntax (`main.tf.json`, as CDK for Terraform writes it), not HCL."""
    return path.lower().endswith(TERRAFORM_JSON_SUFFIX)


def classify(path: str) -> str | None:
    """The parser family for a path, or None for files only the secrets rules read."""
    name = posixpath.basename(path)
    lower = name.lower()
    if lower.endswith(".tf") or is_terraform_json(lower):  # before .json: a .tf.json file is Terraform
        return TERRAFORM
    if lower.endswith((".yml", ".yaml")):
        return YAML
    if lower.endswith((".json", ".template")):
        return JSON
    if (
        lower in ("dockerfile", "containerfile")
        or lower.startswith(("dockerfile.", "containerfile."))
        or lower.endswith((".dockerfile", ".containerfile"))
    ):
        return DOCKERFILE
    return None


def module_dir(path: str) -> str:
    """The Terraform module a .tf or .tf.json file belongs to: its directory ('' for the root)."""
    return posixpath.dirname(path)


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
    if family == JSON and not _claims_json(path, text[:MAX_PARSE_BYTES]):
        return ParsedFile(path)  # a package.json or lock file is never parsed (or reported) as infrastructure
    oversized = _too_large(path, text)
    if oversized:
        return oversized
    try:
        if family in (YAML, JSON):
            return parse_yaml(path, text)
        if family == DOCKERFILE:
            return parse_dockerfile(path, text)
    except Exception as exc:  # noqa: BLE001 - a parser bug must surface as an error on the file, never a crash
        return ParsedFile(path, errors=(FileError(path, None, f"could not parse: {type(exc).__name__}"),))
    return ParsedFile(path)


def _claims_json(path: str, text: str) -> bool:
    """JSON (and `.template`, which may be YAML) is ours only when it looks like CloudFormation."""
    from bot.engine.parsers.yaml_docs import looks_like_cloudformation_json

    if path.lower().endswith(".template") and "AWSTemplateFormatVersion" in text:
        return True
    return looks_like_cloudformation_json(text)


def parse_terraform(files: Mapping[str, str]) -> dict[str, ParsedFile]:
    """Parse .tf and .tf.json files grouped by module directory."""
    from bot.engine.parsers.terraform import parse_module

    by_dir: dict[str, dict[str, str]] = defaultdict(dict)
    results: dict[str, ParsedFile] = {}
    for path, text in files.items():
        oversized = _too_large(path, text)
        if oversized:
            results[path] = oversized
        else:
            by_dir[module_dir(path)][path] = text
    for module_files in by_dir.values():
        try:
            results.update(parse_module(module_files))
        except Exception as exc:  # noqa: BLE001 - one broken module never stops the review
            for path in module_files:
                results[path] = ParsedFile(
                    path, errors=(FileError(path, None, f"could not parse: {type(exc).__name__}"),)
                )
    return results
