"""Cloud KMS key rotation: a symmetric key's `rotation_period` must be at most 90 days.

The period is written as seconds with up to nine fractional digits and an `s` ("7776000s").
Only symmetric encryption keys (`purpose` ENCRYPT_DECRYPT, the default) rotate automatically;
asymmetric, MAC and raw keys, and keys whose material is imported (`import_only`), are not
judged. No `rotation_period` means the key is never rotated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from bot.engine.model import Resource, Unknown, Violation
from bot.engine.rule import RuleContext

MAX_ROTATION_SECONDS = 90 * 24 * 60 * 60  # 7776000
_PERIOD = re.compile(r"\s*(\d{1,12}(?:\.\d{1,9})?)s\s*")
_ROTATING_PURPOSE = "ENCRYPT_DECRYPT"


def kms_rotation_period(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    """Symmetric crypto keys rotate at least every 90 days."""
    body = resource.body
    purpose = body.get("purpose")
    if purpose is not None:
        if isinstance(purpose.value, Unknown):
            return []
        if str(purpose.value).strip().upper() != _ROTATING_PURPOSE:
            return []
    imported = body.get("import_only")
    if imported is not None and (imported.value is True or str(imported.value).strip().lower() == "true"):
        return []
    period = body.get("rotation_period")
    if period is None or period.value in (None, ""):
        return [Violation("Crypto key has no `rotation_period`: it is never rotated.", line=resource.line,
                          key="rotation_period")]
    if isinstance(period.value, Unknown):
        return [Violation("`rotation_period` is not known before apply.", line=period.line,
                          end_line=period.end_line, key="rotation_period", undecided=True)]
    match = _PERIOD.fullmatch(str(period.value))
    if match is None:
        return []
    seconds = Decimal(match.group(1))
    if seconds <= MAX_ROTATION_SECONDS:
        return []
    days = seconds / 86400
    about = f"{days:.0f} days" if days == days.to_integral_value() else f"{int(days)}+ days"
    return [Violation(f"Crypto key rotates every {about} ({str(period.value).strip()}); at most 90 days "
                      f"({MAX_ROTATION_SECONDS}s) is required.", line=period.line, end_line=period.end_line,
                      key="rotation_period")]
