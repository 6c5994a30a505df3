"""Both HCL readers over real Terraform: every file where tree-sitter's reader and hcl2's differ.

    python -m bench.hcl_corpus DIR [DIR ...]

Reviews read `.tf` files with `hcl_treesitter` (tree-sitter-hcl); the reader before it (python-hcl2
plus the lexer and outline) is kept as the reference. This runs both on every `.tf` file under
the given folders (checked-out modules, say) and prints, per file that differs, what differs:
one reader refuses what the other reads, the first value that differs (by its path in the
values), the first line span that differs, or the error. The last line counts them.
`tests/engine/parsers/terraform/hcl_treesitter_test.py` holds the repository's own files to no
difference at all; this is for corpora too large (or not ours) to keep in the repository.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from bot.engine.model import FileError
from bot.engine.parsers.terraform.module import read_hcl_file, read_hcl_file_hcl2


def first_difference(old: Any, new: Any, where: str = "$") -> str | None:
    """Where two readers' outputs first differ (values, outline blocks and spans), or None."""
    if type(old) is not type(new):
        return f"{where}: {old!r} (hcl2) != {new!r} (tree-sitter)"
    if isinstance(old, dict):
        for key in [*old, *(k for k in new if k not in old)]:
            if key not in old or key not in new:
                return f"{where}.{key}: only in {'tree-sitter' if key not in old else 'hcl2'}"
            found = first_difference(old[key], new[key], f"{where}.{key}")
            if found:
                return found
        return None if list(old) == list(new) else f"{where}: keys in another order"
    if isinstance(old, (list, tuple)):
        if len(old) != len(new):
            return f"{where}: {len(old)} items (hcl2) != {len(new)} (tree-sitter)"
        for index, (a, b) in enumerate(zip(old, new)):
            found = first_difference(a, b, f"{where}[{index}]")
            if found:
                return found
        return None
    if is_dataclass(old):
        for field in fields(old):
            found = first_difference(getattr(old, field.name), getattr(new, field.name), f"{where}.{field.name}")
            if found:
                return found
        return None
    return None if old == new else f"{where}: {old!r} (hcl2) != {new!r} (tree-sitter)"


def difference(path: str, text: str) -> str | None:
    """How the two readers differ on one file, in words; None when they agree exactly."""
    text = text.replace("\r\n", "\n")
    old, new = read_hcl_file_hcl2(path, text), read_hcl_file(path, text)
    if isinstance(old, FileError) and isinstance(new, FileError):
        return None if old == new else f"both refuse it: hcl2 {old.line}: {old.message} / tree-sitter {new.line}: {new.message}"
    if isinstance(old, FileError):
        return f"hcl2 refuses it ({old.line}: {old.message}), tree-sitter reads it"
    if isinstance(new, FileError):
        return f"tree-sitter refuses it ({new.line}: {new.message}), hcl2 reads it"
    return first_difference(old[0], new[0], "values") or first_difference(old[1], new[1], "outline")


def tf_files(folders: Sequence[Path]) -> Iterator[Path]:
    for folder in folders:
        yield from sorted(p for p in folder.rglob("*.tf") if p.is_file())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    files = differing = lines = 0
    for file in tf_files(args.folders):
        text = file.read_text(encoding="utf-8", errors="replace")
        files += 1
        lines += text.count("\n")
        found = difference(str(file), text)
        if found:
            differing += 1
            print(f"{file}: {found}")
    print(f"{files} files, {lines:,} lines: {differing} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
