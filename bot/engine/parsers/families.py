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
    if _is_dockerfile(lower):
        return DOCKERFILE
    return None


# `Dockerfile.<suffix>` names a variant (`Dockerfile.prod`, `Dockerfile.arm64`), unless the suffix
# is a language's or a document's: `dockerfile.py`, `Dockerfile.md` and `dockerfile.go` are code
# and documentation about Dockerfiles, and parsing them as one would fail the review on valid code.
_NOT_DOCKERFILE_SUFFIXES = frozenset({
    "py", "pyi", "go", "rs", "js", "mjs", "cjs", "ts", "tsx", "jsx", "java", "kt", "scala", "rb", "php", "cs",
    "c", "h", "cc", "cpp", "hpp", "swift", "sh", "bash", "zsh", "ps1", "pl", "lua", "r", "ex", "exs", "clj",
    "md", "markdown", "rst", "adoc", "txt", "html", "htm", "css", "svg", "png", "jpg", "gif", "pdf",
    "json", "yml", "yaml", "toml", "ini", "cfg", "xml", "csv", "lock", "snap", "orig", "rej", "diff", "patch",
})


def _is_dockerfile(lower: str) -> bool:
    for stem in ("dockerfile", "containerfile"):
        if lower == stem or lower.endswith("." + stem):
            return True
        if lower.startswith(stem + "."):
            return lower.rsplit(".", 1)[-1] not in _NOT_DOCKERFILE_SUFFIXES
    return False


def module_dir(path: str) -> str:
    """The Terraform module a .tf or .tf.json file belongs to: its directory ('' for the root)."""
    return posixpath.dirname(path)
