"""Which parser family a file belongs to, by its name alone: a leaf every parser may import
(the package's entry points import the parsers, so the parsers cannot import them)."""

from __future__ import annotations

import posixpath

__all__ = ["DOCKERFILE", "JSON", "TERRAFORM", "TERRAFORM_JSON_SUFFIX", "YAML", "classify", "is_terraform_json",
           "module_dir"]

TERRAFORM = "terraform"
YAML = "yaml"
JSON = "json"
DOCKERFILE = "dockerfile"

TERRAFORM_JSON_SUFFIX = ".tf.json"


def is_terraform_json(path: str) -> bool:
    """Terraform's JSON syntax (`main.tf.json`, as CDK for Terraform writes it), not HCL."""
    return path.lower().endswith(TERRAFORM_JSON_SUFFIX)


def classify(path: str) -> str | None:
    """The parser family for a path, or None for files only the secrets rules read."""
    name = posixpath.basename(path)
    lower = name.lower()
    if lower.endswith((".tf", ".tfvars", ".tfvars.json")) or is_terraform_json(lower):  # before .json
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
