"""Files a tool writes rather than a person: dependency lockfiles, minified bundles, source maps.

Their lines are package names, versions, URLs and hashes, thousands of them, and words such as
`token`, `key` or `password` appear there as package names (`js-tokens`, `keyv`, `password-hash`),
never as a person's assignment. So the secrets rules read them as their own text type, `generated`,
and each rule's spec says whether it reads that type: the formats a provider gives its credentials
(a private key block, an access key id, a token with its prefix, a password inside a registry URL)
can sit there, since a tool copies them from where a person put them; a guess from a name and a
value (`password = ...`) cannot.
"""

from __future__ import annotations

import posixpath

TEXT, BINARY, GENERATED = "text", "binary", "generated"

LOCKFILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock",
    "poetry.lock", "pipfile.lock", "pdm.lock", "uv.lock", "cargo.lock", "go.sum", "composer.lock",
    "gemfile.lock", "podfile.lock", "pubspec.lock", "mix.lock", "flake.lock", "packages.lock.json",
    "gradle.lockfile", "paket.lock", "conan.lock", "package.resolved", ".terraform.lock.hcl",
})
"""Lockfile names, lower case (`Cargo.lock`, `Gemfile.lock` and `Pipfile.lock` are capitalised)."""
MINIFIED_SUFFIXES = (".min.js", ".min.mjs", ".min.css", ".js.map", ".mjs.map", ".css.map")
"""Minified bundles and source maps. Not `.min.json`: a minified configuration is still one a
person wrote, and its `password` keys are theirs."""


def machine_written(path: str) -> bool:
    """Whether `path` names a file a tool writes (by its name: the content is not read for it)."""
    name = posixpath.basename(path).lower()
    return name in LOCKFILES or name.endswith(MINIFIED_SUFFIXES)
