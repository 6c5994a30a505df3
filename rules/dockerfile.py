"""Dockerfiles: the image's runtime user, secrets baked into layers, and what the build trusts.

Each build stage is a resource (see bot/engine/parsers/dockerfile.py); the checks read its
instructions: USER, ENV/ARG, ADD sources, FROM images, RUN scripts and EXPOSE.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence

from bot.engine.model import SECRET_SLOT, Node, Resource, Violation
from bot.engine.rule import RuleContext
from rules._shell import commands, describe_download, downloads_to_shell, split_words
from rules._support import is_placeholder, masked, secret_key

_ROOT_USERS = frozenset({"root", "0"})
# Base images documented to run as a non-root user by default.
_NON_ROOT_BASE = re.compile(
    r"nonroot|rootless|unprivileged|^cgr\.dev/chainguard/(?!.*-dev\b)|^(?:docker\.io/)?bitnami/", re.IGNORECASE
)
_SECRET_NAME = re.compile(
    r"(?:^|[_.-])(?:PASSWORD|PASSWD|PASS|PWD|SECRET|SECRET_?KEY|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|CLIENT_?SECRET|CREDENTIALS?|AUTH_?TOKEN)$",
    re.IGNORECASE,
)
_NOT_SECRET_VALUE = re.compile(r"^(?:/|\./|~/|https?://)|^\d{1,6}$|^(?:true|false|yes|no|on|off)$", re.IGNORECASE)


def instructions(stage: Node, key: str = "instructions") -> list[Node]:
    """The instruction nodes of a stage body ({instruction, arguments} mappings)."""
    listed = stage.get(key)
    return listed.children() if listed is not None else []


def _keyword(item: Node) -> str:
    node = item.get("instruction")
    return str(node.value).upper() if node is not None else ""


def _arguments(item: Node) -> str:
    node = item.get("arguments")
    return str(node.value) if node is not None else ""


def _last_user(stage: Node) -> Node | None:
    users = [item for item in instructions(stage) if _keyword(item) == "USER"]
    return users[-1] if users else None


def _is_root(user: str) -> bool | None:
    """True for root/0 (with any group), False for another user, None when it is a variable."""
    name = user.strip().split(":", 1)[0].strip()
    if not name or "$" in name:
        return None
    return name.lower() in _ROOT_USERS


def _parent_stage(resource: Resource, siblings: Sequence[Resource]) -> Resource | None:
    """The earlier stage this stage is built FROM, if it is built from one."""
    image = resource.body.get("from")
    if image is None:
        return None
    for sibling in siblings:
        name = sibling.body.get("name")
        if sibling is not resource and sibling.line < resource.line and name is not None \
                and str(name.value).lower() == str(image.value).lower():
            return sibling
    return None


def _effective_user(resource: Resource, ctx: RuleContext) -> tuple[Node | None, Resource]:
    """The last USER of the stage or of the stages it is built from, and the stage's root ancestor."""
    stage, hops = resource, 0
    siblings = ctx.siblings(resource)
    while hops < 50:
        user = _last_user(stage.body)
        if user is not None:
            return user, stage
        parent = _parent_stage(stage, siblings)
        if parent is None:
            return None, stage
        stage, hops = parent, hops + 1
    return None, stage


def _check_root_user(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    final = resource.body.get("final")
    if final is None or final.value is not True:
        return
    user, origin = _effective_user(resource, ctx)
    if user is None:
        base = origin.body.get("from")
        if base is not None and _NON_ROOT_BASE.search(str(base.value)):
            return
        yield Violation(message="The final stage sets no USER, so the container runs as root.",
                        line=resource.line, end_line=resource.line)
        return
    if _is_root(_arguments(user)) and origin is resource:
        yield Violation(message=f"The final stage switches to `USER {_arguments(user)}` and runs as root.",
                        line=user.line, end_line=user.end_line)
    elif _is_root(_arguments(user)):
        yield Violation(message=f"The final stage inherits `USER {_arguments(user)}` and runs as root.",
                        line=resource.line, end_line=resource.line)


def _pairs(keyword: str, arguments: str) -> Iterator[tuple[str, str | None]]:
    """(name, literal value or None) of an ENV or ARG instruction, in both ENV syntaxes."""
    text = arguments.split("\n", 1)[0]
    try:
        words = split_words(text)
    except ValueError:
        return
    if not words:
        return
    if keyword == "ENV" and "=" not in words[0]:
        yield words[0], " ".join(words[1:])  # legacy `ENV NAME value with spaces`
        return
    for word in words:
        if word.startswith("--"):
            continue
        name, sep, value = word.partition("=")
        yield name, value if sep else None


def _secret_value(value: str | None) -> bool:
    if value is None or len(value) < 4 or "$" in value:
        return False
    return not is_placeholder(value) and not _NOT_SECRET_VALUE.search(value)


def _check_baked_secrets(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for item in [*instructions(resource.body, "global"), *instructions(resource.body)]:
        keyword = _keyword(item)
        if keyword not in ("ENV", "ARG"):
            continue
        for name, value in _pairs(keyword, _arguments(item)):
            if _SECRET_NAME.search(name) and value is not None and _secret_value(value):
                yield Violation(
                    message=f"{keyword} {name} bakes a literal secret (`{SECRET_SLOT}`, masked here) into the image.",
                    line=item.line, end_line=item.line, key=secret_key(value), secret=masked(value),
                )


_FLAG = re.compile(r"--[A-Za-z][\w-]*(?:=\S*)?")


def _words(arguments: str) -> list[str]:
    """An instruction's words: its leading `--flags`, then the exec form (a JSON array) or the shell
    form's words (first line only, so a heredoc body is not taken for arguments)."""
    text = arguments.split("\n", 1)[0].strip()
    flags: list[str] = []
    while (flag := _FLAG.match(text)) is not None:
        flags.append(flag.group(0))
        text = text[flag.end():].lstrip()
    if text.startswith("["):
        try:
            listed = json.loads(text)
        except ValueError:
            listed = None
        if isinstance(listed, list) and all(isinstance(word, str) for word in listed):
            return flags + list(listed)
    try:
        return flags + split_words(text)
    except ValueError:
        return flags + text.split()


def _script(arguments: str) -> str:
    """A RUN instruction's script: the shell form as written (with heredoc bodies), the exec form's
    words joined."""
    if arguments.lstrip().startswith("["):
        words = _words(arguments)
        if words and not words[0].startswith("["):
            return " ".join(words)
    return arguments


def _line_of(resource: Resource, item: Node, needle: str | re.Pattern[str]) -> int:
    """The physical line of a (continued) instruction holding `needle`, else its first line."""
    for line in range(item.line, item.end_line + 1):
        text = resource.text_at(line)
        if text is None or not needle:
            continue
        if (needle in text) if isinstance(needle, str) else (needle.search(text) is not None):
            return line
    return item.line


_USERINFO = re.compile(r"(://)[^/@\s]{1,300}@")


def _without_credentials(url: str) -> str:
    """A URL fit for a message: `https://user:pw@host/x` -> `https://***@host/x`."""
    return _USERINFO.sub(r"\1***@", url)


_REMOTE_SOURCE = re.compile(r"^(?:https?|ftp)://|^git@|^ssh://|\.git(?:#\S*)?$", re.IGNORECASE)


def _check_add_remote(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for item in instructions(resource.body):
        if _keyword(item) != "ADD":
            continue
        words = _words(_arguments(item))
        flags = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        if any(flag.lower().startswith("--checksum=") for flag in flags):
            continue  # BuildKit verifies the download against the pinned digest
        for source in paths[:-1]:
            if _REMOTE_SOURCE.search(source):
                yield Violation(
                    message=f"ADD fetches `{_without_credentials(source)}` at build time with no `--checksum`: "
                    "whatever the server returns then goes into the image, unverified.",
                    line=item.line, end_line=item.end_line, key=secret_key(source),
                )


_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))")


def _global_args(resource: Resource, ctx: RuleContext) -> dict[str, str]:
    """Defaults of the ARGs declared before the first FROM (the only ones FROM can read)."""
    values: dict[str, str] = {}
    for stage in ctx.siblings(resource):
        for item in instructions(stage.body, "global"):
            if _keyword(item) == "ARG":
                for name, value in _pairs("ARG", _arguments(item)):
                    if value is not None:
                        values[name] = value
    return values


def _resolved_image(image: str, values: dict[str, str]) -> str | None:
    """The image with `$VAR`/`${VAR}` replaced by the global ARG defaults; None if one has none."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1) or match.group(2)
        if name not in values:
            missing = True
            return ""
        return values[name]

    resolved = _VARIABLE.sub(value, image)
    return None if missing or "$" in resolved else resolved


def _floating_tag(image: str) -> str | None:
    """Why an image reference moves under us: no tag (so `latest`) or the `latest` tag; None when it
    names a version tag or a digest."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag, so it pulls `latest`"
    return "uses the `latest` tag" if last.split(":", 1)[1].lower() == "latest" else None


def _check_base_image(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    image_node = resource.body.get("from")
    if image_node is None or not isinstance(image_node.value, str):
        return
    written = image_node.value.strip()
    if written.lower() == "scratch" or _parent_stage(resource, ctx.siblings(resource)) is not None:
        return  # the empty image, or an earlier stage of this build
    image = _resolved_image(written, _global_args(resource, ctx)) if "$" in written else written
    if not image:
        return  # built from a variable with no default: decided by the build command
    reason = _floating_tag(image)
    if reason is not None:
        yield Violation(
            message=f"Base image `{image}` {reason}: each build may get a different image, and whoever can "
            "push that tag decides what this one is built on.",
            line=image_node.line, end_line=image_node.end_line, key=image,
        )


def _check_download_to_shell(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for item in instructions(resource.body):
        if _keyword(item) != "RUN":
            continue
        for number, match in enumerate(downloads_to_shell(_script(_arguments(item)))):
            yield Violation(
                message=f"RUN pipes a {describe_download(match)}: the script runs as the build user, unreviewed "
                "and unverified, and its result is baked into the image.",
                line=_line_of(resource, item, match.group(0)[:20]), key=f"{item.line}:{number}",
            )


def _exposes_ssh(word: str) -> bool:
    port, _, protocol = word.partition("/")
    if protocol and protocol.lower() != "tcp":
        return False
    low, _, high = port.partition("-")
    if not low.isdigit() or (high and not high.isdigit()):
        return False  # a variable (`$PORT`) or a typo: not ours to guess
    return int(low) <= 22 <= int(high or low)


def _check_expose_ssh(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for item in instructions(resource.body):
        if _keyword(item) == "EXPOSE" and any(_exposes_ssh(word) for word in _words(_arguments(item))):
            yield Violation(message="The image declares SSH's port 22 (`EXPOSE " + _arguments(item) + "`).",
                            line=item.line, end_line=item.end_line, key=str(item.line))


_INSTALL = {
    "apt-get": ("install",), "apt": ("install",), "aptitude": ("install",), "yum": ("install",),
    "dnf": ("install",), "microdnf": ("install",), "tdnf": ("install",), "apk": ("add",),
    "zypper": ("install", "in"), "pacman": ("-S", "-Sy", "-Syu"),
}


_SUDO_WORD = re.compile(r"(?<![\w-])sudo(?![\w-])")


def _sudo_use(words: list[str]) -> str | None:
    """`runs sudo` / `installs sudo` for one simple command, else None."""
    if words[0] == "sudo":
        return "runs `sudo`"
    verbs = _INSTALL.get(words[0].rsplit("/", 1)[-1])
    rest = [w for w in words[1:] if not w.startswith("-") or w in (verbs or ())]
    if verbs and rest and rest[0] in verbs and "sudo" in rest[1:]:
        return "installs `sudo`"
    return None


def _check_sudo(resource: Resource, ctx: RuleContext) -> Iterable[Violation]:
    for item in instructions(resource.body):
        if _keyword(item) != "RUN":
            continue
        for number, words in enumerate(commands(_script(_arguments(item)))):
            use = _sudo_use(words)
            if use is not None:
                yield Violation(
                    message=f"RUN {use}: in an image it only adds a set-uid root binary (and a way back to "
                    "root for the runtime user); the build already runs as root where it needs to.",
                    line=_line_of(resource, item, _SUDO_WORD), key=f"{item.line}:{number}",
                )


# The checks the specs in rules/specs/dockerfile name (through rules/spec/functions.py); their
# metadata (titles, controls, peers) lives in those specs.
check_root_user = _check_root_user
check_baked_secrets = _check_baked_secrets
check_add_remote = _check_add_remote
check_base_image = _check_base_image
check_download_to_shell = _check_download_to_shell
check_expose_ssh = _check_expose_ssh
check_sudo = _check_sudo
