"""How bad a finding is: its own module, so that the CLI's argument parser (`--fail-on`) can name
the levels without importing the engine's records (and `dataclasses` with them)."""

from __future__ import annotations

import enum

__all__ = ["Severity"]


class Severity(str, enum.Enum):
    """How bad a finding is; ordered so a policy can set a threshold."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is worse: critical=4 ... low=1."""
        return {"critical": 4, "high": 3, "medium": 2, "low": 1}[self.value]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank
