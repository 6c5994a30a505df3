"""Where a repository keeps Compliance Bot's own files, in a module of nothing else, so that what
only names them (the CLI's help) imports nothing to know them."""

from __future__ import annotations

POLICY_PATH = ".github/compliance.yml"
"""The repository's policy file (bot.engine.policy)."""
CUSTOM_RULES_DIR = ".github/compliance/rules"
"""An organisation's custom rules, in its `.github` repository (rules.spec.custom)."""
