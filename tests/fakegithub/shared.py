"""Where GitHub's real data lives (`shared/github`), so the fake and CI read the same files.

The folder sits next to the repository (`<repo_root>/../shared`); `COMPLIANCE_BOT_SHARED` overrides
it. It may point either at the `shared` folder or straight at its `github` subfolder.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=None)
def github_data_dir() -> Path:
    """The folder holding `openapi-subset.json`, `graphql-subset.graphql` and `webhooks/`."""
    env = os.environ.get("COMPLIANCE_BOT_SHARED")
    base = Path(env) if env else REPO_ROOT.parent / "shared"
    for candidate in (base / "github", base):
        if (candidate / "openapi-subset.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"GitHub test data not found under {base} (set COMPLIANCE_BOT_SHARED to the shared folder)"
    )
