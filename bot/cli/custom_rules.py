"""Custom rules from a local folder, read as the App reads an organisation's
`.github/compliance/rules/`: its `*.yml` files (not its sub-folders), each validated and run
against its own examples (`compliance-bot rules test DIR`, `check` / `scan --rules DIR`)."""

from __future__ import annotations

from pathlib import Path

from bot.engine.model import FileError
from bot.engine.tree import decode_text
from rules.spec.custom import CustomRules, load_custom_rules, rule_files


class RulesFolderError(Exception):
    """The folder named is not one (a usage error, not a refused rule)."""


def load_rules_folder(folder: Path) -> CustomRules:
    """The custom rules of `folder`; errors name each file as `folder/name.yml:line`."""
    if not folder.is_dir():
        raise RulesFolderError(f"{folder}: not a directory (custom rules are the *.yml files of a folder, "
                               "such as .github/compliance/rules)")
    listing = []
    for entry in sorted(folder.iterdir()):
        kind = "symlink" if entry.is_symlink() else "dir" if entry.is_dir() else "file"
        try:
            size = entry.stat().st_size if kind == "file" else 0
        except OSError:
            size = 0  # vanished or unreadable: reading it says so
        listing.append((entry.as_posix(), kind, size))
    wanted, refused = rule_files(listing)
    return load_custom_rules({path: _read(Path(path)) for path in wanted}, None, refused)


def _read(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return decode_text(data)


def as_file_errors(custom: CustomRules) -> tuple[FileError, ...]:
    """Refused rules as the errors a review reports (they fail it, as in the App)."""
    return tuple(FileError(e.path, e.line, e.message) for e in custom.errors)
