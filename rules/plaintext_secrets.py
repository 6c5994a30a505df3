"""Plaintext secrets in text: cloud keys, tokens, private keys and literal passwords.

The engine hands each rule a text resource whose body maps line numbers to the lines to check
(added lines in a review, every line in a full scan). A secret's value never leaves this
module: messages show it masked (`Violation.secret`) and `Violation.key` a short hash. Lines are read whole,
however long (a minified JSON config, a long `.env` line): every pattern starts on a literal
prefix (or a word boundary) and repeats a bounded number of times, and the code around a match
looks only near it, so the work stays linear in the line.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bot.engine.model import SECRET_SLOT, Resource, Violation
from bot.engine.rule import RuleContext
from rules import _token_formats as formats
from rules._secret_scan import line_scan
from rules._support import is_placeholder, masked, secret_key

_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])((?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16})(?![A-Z0-9])")
# `AWS_SECRET_ACCESS_KEY`, `aws-secret-access-key`, `aws.secretKey`, `SecretAccessKey` (the IAM API's
# JSON), `AWS_SECRET`: a 40-character base64 value right after such a name (or after it and a space,
# as in `aws configure set aws_secret_access_key <value>`).
_AWS_SECRET = re.compile(
    r"(?i)(?:aws[_.-]?secret(?:[_.-]?access)?(?:[_.-]?key)?|secret[_.-]?access[_.-]?key)[\"']?"
    r"(?:\s{0,5}(?:=|:|:=|=>)\s{0,5}|\s{1,5})[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
)
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:RSA |DSA |EC |OPENSSH |PGP |SSH2 |)PRIVATE KEY(?: BLOCK)?)-----"
)
_PRIVATE_KEY_BODY = re.compile(r"-----(?:\\n|\s{0,4})([A-Za-z0-9+/=]{20,})")
_GITHUB = re.compile(r"(?<![A-Za-z0-9_])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})")
_SLACK = re.compile(r"(?<![A-Za-z0-9])(xox[baprse]-[A-Za-z0-9]{1,40}-[A-Za-z0-9-]{8,200})")
_STRIPE = re.compile(r"(?<![A-Za-z0-9])((?:sk|rk)_live_[A-Za-z0-9]{20,247})(?![A-Za-z0-9])")
_GOOGLE = re.compile(r"(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])")
# Names that hold a secret: `db_password`, `DB_PASS` / `dbPass` (not `bypass`), `SECRET_KEY`,
# `secretKey`, `token_key`, `api_key`, `client_secret`...: the pattern starts on the word (a literal),
# and the rest of the name, up to 40 characters before it, is read back from there (`_name_before`).
_ASSIGNMENT = re.compile(
    r"(?i)(password|passwd|passphrase|pwd|(?<![a-z])pass|(?-i:(?<=[a-z0-9])Pass)"
    r"|secret(?:_?key)?|token(?:_?key)?|api_?key|apikey|access_?key|auth_?key"
    r"|client_?secret|private_?key)[\"']?\s{0,5}(?:=|:|:=|=>)\s{0,5}"
    r"(?:([\"'])([^\"'\s\\]{8,200})\2|([^\"'\s`;,#\\]{8,200})(?=$|[\s;,#\\]))"
)
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_MAX_NAME_PREFIX = 40
# An unquoted value that is code: a call, an index, a variable (`$x`, `$this->pass`), an attribute path
# or a constant's name. A `$`, `<` or `>` inside an otherwise literal value (`pa$$w0rd`) is not.
_CODE_LIKE = re.compile(
    r"[()\[\]{}%]|^\$|->|=>|::|^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$"
)
_TEMPLATE_LIKE = re.compile(r"\{[^}]{0,200}\}|%[sd]")
# Options about a password rather than the password (Ansible's `update_password: on_create`,
# `generate_password: yes`, `password_expire`, `password_lock`): a verb before the word, a keyword after.
_PASSWORD_OPTION = re.compile(
    r"(?i)(?:^|[_.-])(?:update|generate|encrypt|expire|lock|unlock|prompt|require|validate|check|random|show"
    r"|hide|min|max|force|allow|disable|use|no|skip|ask)[_.-]?(?:password|passwd|pass|pwd)$"
)
_KEYWORD_VALUE = re.compile(r"[a-z]+(?:_[a-z]+)*")
_BASE64_LINE = re.compile(r"\s{0,40}[A-Za-z0-9+/=]{40,}\s{0,4}")
_ONLY_QUOTES_AFTER = re.compile(r"\s*+[\"',]*+\s*+")  # possessive: the classes are disjoint, never backtrack
_AFTER_VALUE = re.compile(r"\s*(.?.?)", re.DOTALL)
_CONTEXT_WORDS = re.compile(r"(?i)password|secret|token|key")


@dataclass(frozen=True)
class _Hit:
    """A secret found on a line: the secret text (never shown) and what to call it."""

    secret: str
    label: str


Finder = Callable[[str], Iterator[_Hit]]


def _scan(words: str, finder: Finder) -> Callable[[Resource, RuleContext], Iterable[Violation]]:
    """A check running `finder` over the lines holding one of its `words` (a word set of
    rules/_secret_scan.py: no other line can hold what it finds); one violation per distinct
    secret per line."""

    def check(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
        for line, text in line_scan(resource).candidates(words):
            seen: set[str] = set()
            for hit in finder(text):
                if hit.secret in seen:
                    continue
                seen.add(hit.secret)
                yield Violation(message=f"Found {hit.label} `{SECRET_SLOT}` in plaintext (masked here).",
                                line=line, key=secret_key(hit.secret), secret=masked(hit.secret))

    return check


def _simple(pattern: re.Pattern[str], label: str) -> Finder:
    def find(text: str) -> Iterator[_Hit]:
        for match in pattern.finditer(text):
            secret = match.group(1)
            if "EXAMPLE" not in secret.upper() and not is_placeholder(secret):
                yield _Hit(secret, label)

    return find


def _find_aws_secret(text: str) -> Iterator[_Hit]:
    for match in _AWS_SECRET.finditer(text):
        secret = match.group(1)
        if "EXAMPLE" not in secret.upper() and not is_placeholder(secret):
            yield _Hit(secret, "AWS secret access key")


def _find_private_key(text: str, following: str | None) -> Iterator[_Hit]:
    """A key block's BEGIN line alone, or inline (`"-----BEGIN ...-----\\nMIIE..."` in JSON).

    A source line that merely mentions the marker (a parser, a check) is not a key, and neither
    is a marker followed by something other than key material (`...` in documentation, or the
    `Proc-Type: 4,ENCRYPTED` header of an encrypted key). `following` is the next line when it
    is among the lines to check.
    """
    for match in _PRIVATE_KEY.finditer(text):
        body = _PRIVATE_KEY_BODY.match(text, match.end() - 5)
        if body is not None:
            yield _Hit(body.group(1)[:64], match.group(1).lower())
            continue
        # Only the last marker of a line can have nothing after it: the text before it is read once.
        if not _ONLY_QUOTES_AFTER.fullmatch(text, match.end()):
            continue
        before = text[: match.start()].strip().strip("\"'")
        if before and not before.endswith((":", "=", "|")):
            continue
        if following is None:
            yield _Hit(text.strip(), match.group(1).lower())
        elif _BASE64_LINE.fullmatch(following):
            yield _Hit(following.strip()[:64], match.group(1).lower())


def _check_private_key(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    scan = line_scan(resource)
    candidates = dict(scan.candidates("private_key"))
    if not candidates:
        return
    lines = dict(scan.lines)  # the line after a marker is read whatever it holds
    for line in candidates:
        for hit in _find_private_key(lines[line], lines.get(line + 1)):
            yield Violation(message=f"Private key in plaintext: {hit.label} block.", line=line,
                            key=secret_key(hit.secret))


def _looks_random(value: str) -> bool:
    """At least two character classes: `cassandra` or `bearer` are words, `hunter2` is a password."""
    classes = [r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"]
    return re.search(r"[A-Za-z]", value) is not None and sum(bool(re.search(c, value)) for c in classes) >= 2


def _unquoted_in_code(text: str, end: int) -> bool:
    """An unquoted value followed by more code (`x,` `a + b` `--flag=v more`) is an expression."""
    after = _AFTER_VALUE.match(text, end)
    rest = after.group(1) if after is not None else ""
    return bool(rest) and not rest.startswith(("#", "//", ";"))


def _names_a_secret_object(name: str, value: str) -> bool:
    """`auth-secret: basic-auth`, `tlsSecret: default/ca-secret`: a reference to a secret by name."""
    return name.lower().endswith("secret") and re.fullmatch(r"[a-z0-9][a-z0-9./_-]*", value) is not None \
        and re.search(r"[-/.]", value) is not None


def _is_literal_secret(name: str, value: str, quoted: bool) -> bool:
    """Whether an assigned value is a real literal secret rather than a reference or a dummy."""
    if is_placeholder(value) or "EXAMPLE" in value.upper() or _TEMPLATE_LIKE.search(value):
        return False
    if not quoted and _CODE_LIKE.search(value):
        return False  # `password = settings.DB_PASSWORD`, `key = f(x)`, `token: API_TOKEN`
    if value.lower() in name.lower() or _CONTEXT_WORDS.search(value):
        return False  # `password: password_field`, `secret: test_ssl_secret`: names, not secrets
    if value.startswith(("/", "./", "~/", "http://", "https://")) or _names_a_secret_object(name, value):
        return False
    if _PASSWORD_OPTION.search(name) and _KEYWORD_VALUE.fullmatch(value):
        return False
    return _looks_random(value)


class _SpecificSpans:
    """Where on a line the secrets of the format-specific rules (an AWS secret key, a GitHub
    token...) sit, found once per line: a value overlapping one is reported by that rule, not
    again as a generic hard-coded secret. Each question costs a binary search."""

    def __init__(self, text: str) -> None:
        specific = (_AWS_KEY_ID, _AWS_SECRET, _GITHUB, _SLACK, _STRIPE, _GOOGLE)
        spans = sorted([match.span(1) for pattern in specific for match in pattern.finditer(text)]
                       + formats.specific_spans(text))
        self._starts = [start for start, _ in spans]
        self._furthest: list[int] = []  # the furthest end among the spans starting up to each one
        for _, end in spans:
            self._furthest.append(max(end, self._furthest[-1]) if self._furthest else end)

    def overlap(self, start: int, end: int) -> bool:
        before_end = bisect.bisect_left(self._starts, end)  # the spans starting before `end`
        return before_end > 0 and self._furthest[before_end - 1] > start


_ASSIGNMENT_WORDS = ("pass", "pwd", "secret", "token", "key")


def _name_before(text: str, start: int, floor: int) -> str:
    """The name a secret word ends (`db_password` for `password` at `start`): up to 40 name
    characters before it, never reaching back past `floor` (the end of the previous match)."""
    begin = start
    while begin > floor and start - begin < _MAX_NAME_PREFIX and text[begin - 1] in _NAME_CHARACTERS:
        begin -= 1
    return text[begin:start]


def _find_assignment(text: str) -> Iterator[_Hit]:
    lowered = text.lower()
    if not any(word in lowered for word in _ASSIGNMENT_WORDS):
        return  # the pattern needs one of these words: skip the regex on the great majority of lines
    specific: _SpecificSpans | None = None
    floor = 0
    for match in _ASSIGNMENT.finditer(text):
        name = _name_before(text, match.start(), floor) + match.group(1)
        floor = match.end()
        quoted = match.group(3) is not None
        group = 3 if quoted else 4
        value = match.group(group)
        if not value or (not quoted and _unquoted_in_code(text, match.end())):
            continue
        specific = specific or _SpecificSpans(text)
        if specific.overlap(match.start(group), match.end(group)):
            continue
        if _is_literal_secret(name, value, quoted):
            yield _Hit(value, f"literal value assigned to `{name.strip('._-')[-40:]}`")


def _formatted(find: Callable[[str], formats.Found]) -> Finder:
    """A finder over one of the format-specific detectors of rules/_token_formats.py."""

    def finder(text: str) -> Iterator[_Hit]:
        for token in find(text):
            yield _Hit(token.secret, token.label)

    return finder


def _either(*finders: Finder) -> Finder:
    def finder(text: str) -> Iterator[_Hit]:
        for find in finders:
            yield from find(text)

    return finder


# The checks the specs in rules/specs/secrets name (through rules/spec/functions.py); their
# metadata (titles, controls, peers) lives in those specs.
check_aws_access_key_id = _scan("aws_access_key_id", _simple(_AWS_KEY_ID, "AWS access key id"))
check_aws_secret_access_key = _scan("aws_secret_access_key", _find_aws_secret)
check_private_key = _check_private_key
check_github_token = _scan("github_token", _simple(_GITHUB, "GitHub token"))
check_slack = _scan("slack", _either(_simple(_SLACK, "Slack token"), _formatted(formats.find_slack_webhook)))
check_stripe_live_key = _scan("stripe_live_key", _simple(_STRIPE, "Stripe live secret key"))
check_google_api_key = _scan("google_api_key", _simple(_GOOGLE, "Google API key"))
check_assigned_secret = _scan("assigned_secret", _find_assignment)
check_url_credentials = _scan("url_credentials", _formatted(formats.find_url_credentials))
check_jwt = _scan("jwt", _formatted(formats.find_jwt))
check_azure_account_key = _scan("azure_account_key", _formatted(formats.find_azure_account_key))
check_sendgrid = _scan("sendgrid", _formatted(formats.find_sendgrid))
check_twilio = _scan("twilio", _formatted(formats.find_twilio))
check_mailgun = _scan("mailgun", _formatted(formats.find_mailgun))
check_npm_token = _scan("npm_token", _formatted(formats.find_npm))
check_pypi_token = _scan("pypi_token", _formatted(formats.find_pypi))
check_teams_webhook = _scan("teams_webhook", _formatted(formats.find_teams_webhook))


def find_secrets(text: str, assignments: bool = True) -> Iterator[tuple[str, str]]:
    """(label, secret) for every credential the text rules would find on one line: AWS keys,
    tokens of known services, and (with `assignments`) literal passwords/secrets assigned to a
    name. For checks that look inside a resource's attribute (user data, an environment value)
    rather than at changed lines."""
    line = text
    finders: tuple[Finder, ...] = (
        _simple(_AWS_KEY_ID, "AWS access key id"), _find_aws_secret, _simple(_GITHUB, "GitHub token"),
        _simple(_SLACK, "Slack token"), _formatted(formats.find_slack_webhook),
        _simple(_STRIPE, "Stripe live secret key"), _simple(_GOOGLE, "Google API key"),
        _formatted(formats.find_url_credentials), _formatted(formats.find_jwt),
        _formatted(formats.find_azure_account_key), _formatted(formats.find_sendgrid),
        _formatted(formats.find_twilio), _formatted(formats.find_mailgun), _formatted(formats.find_npm),
        _formatted(formats.find_pypi), _formatted(formats.find_teams_webhook),
        *((_find_assignment,) if assignments else ()),
    )
    for finder in finders:
        for hit in finder(line):
            yield hit.label, hit.secret
