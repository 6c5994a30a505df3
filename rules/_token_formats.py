"""Credentials with a recognisable format: where each one starts, what it is made of, what it is not.

Pure functions over one line of text, used by the secrets pack (rules/plaintext_secrets.py). Each
finder yields (secret, label) pairs; the secret never leaves the pack unmasked. Every pattern is
anchored on a literal prefix or a structural character with bounded repetitions, so matching stays
linear on hostile lines. The formats come from the providers' own documentation of their keys.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator

from rules._support import is_placeholder

Found = Iterator[tuple[str, str]]

# scheme://user:password@host — the user part may be empty (`redis://:pw@host`), the password may
# not; neither holds whitespace, quotes, `/` or `@`, so a URL's path or a second URL never joins in.
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{1,20})://([^\s:/@\"'`<>]{0,100}):([^\s/@\"'`]{1,200})@"
    r"(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9_.-]{1,253})"
)
_EXAMPLE_HOST = re.compile(r"(?i)(?:^|\.)(?:example\.(?:com|net|org)|example|invalid)$")
_FORMAT_FIELD = re.compile(r"\{[^{}]{0,100}\}|%[sd]|%\([^)]{1,50}\)[sd]")

# header.payload.signature, each base64url; a JSON header starts `{"` -> `eyJ` (or `{ "` -> `eyAi`).
# Exactly three parts: a fourth (`a.b.c.d`) makes it something else (a JWE has five).
_JWT = re.compile(
    r"(?<![A-Za-z0-9_.-])((?:eyJ|eyAi)[A-Za-z0-9_-]{10,2000}\.[A-Za-z0-9_-]{10,8000}\.[A-Za-z0-9_-]{20,2000})"
    r"(?!\.?[A-Za-z0-9_-])"
)
_DOCS_JWT_PAYLOAD = re.compile(r'"name"\s*:\s*"John Doe"')  # jwt.io's sample token, in every tutorial

# Azure Storage connection strings: 64 random bytes, base64 (88 characters, ending in `==`).
_AZURE_ACCOUNT_KEY = re.compile(r"(?i)\bAccountKey\s{0,3}=\s{0,3}([A-Za-z0-9+/]{86}==)")
# The storage emulator's (Azurite's) published development key is the same on every machine.
_AZURITE_KEY_PREFIX = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6"

_SENDGRID = re.compile(r"(?<![A-Za-z0-9_-])(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
# Twilio account SIDs (AC) and API key SIDs (SK) are 32 lowercase hex; alone they could be any id,
# so a line must also name Twilio.
_TWILIO = re.compile(r"(?<![A-Za-z0-9])((?:AC|SK)[0-9a-f]{32})(?![A-Za-z0-9])")
_TWILIO_CONTEXT = re.compile(r"(?i)twilio")
_MAILGUN = re.compile(r"(?<![A-Za-z0-9_-])(key-[0-9a-f]{32})(?![A-Za-z0-9])")
_NPM = re.compile(r"(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9])")
# PyPI tokens are macaroons whose first bytes encode the issuing index (pypi.org / test.pypi.org).
_PYPI = re.compile(r"(?<![A-Za-z0-9_-])(pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,1000})")
_TEAMS = re.compile(
    r"(https://[A-Za-z0-9-]{1,63}\.webhook\.office\.com/webhookb2/"
    r"[0-9a-f-]{36}@[0-9a-f-]{36}/IncomingWebhook/[0-9a-f]{32}/[0-9a-f-]{36}(?:/[A-Za-z0-9_-]{20,200})?)"
)
# Incoming webhooks: services/T<team>/B<bot>/<24-character secret>; workflow and trigger URLs vary more.
_SLACK_WEBHOOK = re.compile(
    r"(https://hooks\.slack\.com/(?:services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,40}"
    r"|(?:workflows|triggers)/[A-Za-z0-9_/]{20,200}))"
)


def _plausible(secret: str) -> bool:
    return "EXAMPLE" not in secret.upper() and not is_placeholder(secret)


def find_url_credentials(text: str) -> Found:
    """A password written into a URL (`postgres://app:pw@db`); a user alone (`ssh://git@host`),
    templates (`{password}`, `${DB_PASS}`), dummies (`user:password`), a password equal to the user
    name (`guest:guest`, a product's documented default) and documentation hosts are not."""
    if "://" not in text or "@" not in text:
        return
    for match in _URL_CREDENTIALS.finditer(text):
        scheme, user, password, host = match.groups()
        if password == user or _EXAMPLE_HOST.search(host) or _FORMAT_FIELD.search(password):
            continue
        if re.fullmatch(r"\d{1,5}", password) or not _plausible(password):
            continue
        yield password, f"password in a `{scheme.lower()}://` URL"


def _b64url_json(part: str) -> object:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def find_jwt(text: str) -> Found:
    """Signed JSON Web Tokens: the header must decode to a JSON object naming its `alg`, the payload
    to a JSON object of claims."""
    if "eyJ" not in text and "eyAi" not in text:
        return
    for match in _JWT.finditer(text):
        token = match.group(1)
        header_part, payload_part, _ = token.split(".", 2)
        header = _b64url_json(header_part)
        if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
            continue
        if str(header["alg"]).lower() == "none":
            continue  # an unsigned token authenticates nothing
        payload = _b64url_json(payload_part)
        if not isinstance(payload, dict) or _DOCS_JWT_PAYLOAD.search(json.dumps(payload)):
            continue  # claims are a JSON object; jwt.io's sample is documentation
        yield token, "JSON Web Token"


def find_azure_account_key(text: str) -> Found:
    for match in _AZURE_ACCOUNT_KEY.finditer(text):
        key = match.group(1)
        if not key.startswith(_AZURITE_KEY_PREFIX) and _plausible(key):
            yield key, "Azure Storage account key"


def _simple(pattern: re.Pattern[str], label: str, text: str, needle: str) -> Found:
    if needle not in text:
        return
    for match in pattern.finditer(text):
        if _plausible(match.group(1)):
            yield match.group(1), label


def find_sendgrid(text: str) -> Found:
    yield from _simple(_SENDGRID, "SendGrid API key", text, "SG.")


def find_twilio(text: str) -> Found:
    if _TWILIO_CONTEXT.search(text):
        for secret, _ in _simple(_TWILIO, "", text, ""):
            yield secret, "Twilio API key SID" if secret.startswith("SK") else "Twilio account SID"


def find_mailgun(text: str) -> Found:
    yield from _simple(_MAILGUN, "Mailgun API key", text, "key-")


def find_npm(text: str) -> Found:
    yield from _simple(_NPM, "npm access token", text, "npm_")


def find_pypi(text: str) -> Found:
    for secret, label in _simple(_PYPI, "PyPI API token", text, "pypi-"):
        if "pypi-" not in secret[5:]:  # base64 of a macaroon never spells the prefix again
            yield secret, label


def find_teams_webhook(text: str) -> Found:
    yield from _simple(_TEAMS, "Microsoft Teams incoming webhook URL", text, ".webhook.office.com/")


def find_slack_webhook(text: str) -> Found:
    yield from _simple(_SLACK_WEBHOOK, "Slack webhook URL", text, "hooks.slack.com/")


FINDERS = (find_url_credentials, find_jwt, find_azure_account_key, find_sendgrid, find_twilio, find_mailgun,
           find_npm, find_pypi, find_teams_webhook, find_slack_webhook)


def specific_secrets(text: str) -> set[str]:
    """Secrets on the line that a format-specific rule reports (so the generic rule does not)."""
    return {secret for finder in FINDERS for secret, _ in finder(text)}
