"""Every known disagreement in GitHub's published data still holds in the pinned versions.

When one fails after a version bump, upstream fixed it: drop the workaround the entry names, then
the entry itself (tests/fakegithub/disagreements.py).
"""

from __future__ import annotations

import pytest

from tests.fakegithub.disagreements import DISAGREEMENTS, Disagreement


def test_ids_are_unique_and_each_says_why() -> None:
    ids = [d.id for d in DISAGREEMENTS]
    assert len(ids) == len(set(ids))
    assert all(d.where and d.workaround and "\n" not in d.workaround for d in DISAGREEMENTS)


@pytest.mark.parametrize("disagreement", DISAGREEMENTS, ids=lambda d: d.id)
def test_disagreement_still_present(disagreement: Disagreement) -> None:
    assert disagreement.present(), (
        f"{disagreement.id} no longer holds ({disagreement.where}): upstream fixed it, so drop the "
        f"workaround ({disagreement.workaround}) and this entry"
    )
