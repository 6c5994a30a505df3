"""GitHub's published API descriptions, fetched from the npm registry when the tests start.

Why: the fake GitHub checks every request and response against GitHub's official OpenAPI
description and GraphQL schema, and it builds webhook deliveries from real payload examples.
That data must not depend on files beside the checkout (a fresh clone has none) and must not
be copied into the repository (it is large, and it belongs to GitHub and Octokit). So each
package is pinned here by version *and* by npm's sha512 integrity value, fetched once with
`npm pack` (no `npm install`, no node_modules, no scripts), checked, and unpacked into the
git-ignored `.cache/github-api/` of this checkout. Later runs reuse the cache.

- A tarball whose integrity differs from the pinned value is refused (`IntegrityError`).
- Unpacking uses `tarfile`'s "data" filter and only the members listed below.
- Two pytest processes may start at once: the fetch runs under an `fcntl.flock` on
  `.cache/github-api/.lock`, and every directory appears by one atomic `os.replace`.
- No npm, or no registry: `DescriptionsUnavailable` with one message saying what to install.
  The tests fail then; they never skip.

To bump a version: change `version` and `integrity` (`npm view <name>@<version> dist.integrity`),
run the suite, and follow what `tests/fakegithub/disagreements_test.py` says.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = REPO_ROOT / ".cache" / "github-api"
NPM_TIMEOUT = 300  # seconds; the OpenAPI tarball is about 29 MB


class DescriptionsUnavailable(RuntimeError):
    """GitHub's descriptions could not be fetched; the message says what to install or fix."""


class IntegrityError(DescriptionsUnavailable):
    """A fetched tarball is not the one pinned here."""


@dataclass(frozen=True)
class Package:
    """One npm package pinned by version and integrity, and the files kept from it."""

    name: str
    version: str
    integrity: str  # npm's dist.integrity: "sha512-" + base64(sha512(tarball))
    members: tuple[str, ...]  # paths inside the tarball's `package/` folder

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def folder(self) -> str:
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}"


OPENAPI = Package(
    "@octokit/openapi",
    "23.0.2",
    "sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg==",
    (
        "package.json",
        "generated/api.github.com.json",
        "generated/ghes-3.17.json",
        "generated/ghes-3.18.json",
        "generated/ghes-3.19.json",
    ),
)
GRAPHQL_SCHEMA = Package(
    "@octokit/graphql-schema",
    "15.26.1",
    "sha512-RFDC2MpRBd4AxSRvUeBIVeBU7ojN/SxDfALUd7iVYOSeEK3gZaqR2MGOysj4Zh2xj2RY5fQAUT+Oqq7hWTraMA==",
    ("package.json", "schema.graphql"),
)
WEBHOOK_EXAMPLES = Package(
    "@octokit/webhooks-examples",
    "7.6.1",
    "sha512-De6U3XB6O3DtCa7bKgCMzTHdeopqqZ6SNivMYJnK65ierKL1AnNIA0tkRYCRS7lwGT792d+Ps1WbfHlso6MynQ==",
    ("package.json", "api.github.com/index.json"),
)
# The JSON Schemas of the same payloads (same repository and release as the examples): the fake
# validates every delivery it builds against them.
WEBHOOK_SCHEMAS = Package(
    "@octokit/webhooks-schemas",
    "7.6.1",
    "sha512-qW0Bwtb76r4m2WzVhKDyfEeEnt1GEQoRjkCqmq2ZeB0nNVDJ+Z2LBDS9FDPyduuMXf/ZTWiCJp9PFFHgRfBe3A==",
    ("package.json", "schema.json"),
)
PACKAGES = (OPENAPI, GRAPHQL_SCHEMA, WEBHOOK_EXAMPLES, WEBHOOK_SCHEMAS)

# The REST descriptions the fake can serve: `FakeGitHub(flavor=...)`.
FLAVORS = ("api.github.com", "ghes-3.17", "ghes-3.18", "ghes-3.19")


@dataclass(frozen=True)
class Example:
    """A webhook example of `api.github.com/index.json`, chosen by the sha256 of its canonical
    JSON (sorted keys, compact): exact, and independent of its place in the list."""

    file: str  # the name tests use: `<event>.<action>[.<variant>].json`
    event: str
    sha256: str
    source: str  # its file in octokit/webhooks, `payload-examples/api.github.com/<source>`


EXAMPLES = (
    Example("pull_request.opened.json", "pull_request",
            "263467f8129b7a2b6e816053f5b68068309dd12a80b328789fb795591bf13be7", "pull_request/opened.payload.json"),
    Example("pull_request.synchronize.json", "pull_request",
            "aa482156a4a15e194c9de34905a147015a0dc8198a809a71e7f5f55a3ec56ff7",
            "pull_request/synchronize.payload.json"),
    Example("pull_request.reopened.json", "pull_request",
            "427584d724fd802889e0e2fe288a1e1f213c3bfbea78a5e62066313b1b57a645",
            "pull_request/reopened.payload.json"),
    Example("pull_request.closed.json", "pull_request",
            "3051e1c6f245611136590403459541f38dd997dbc4e7a17b5e615f4d4ece2a96",
            "pull_request/closed.payload.json (merged: false)"),
    # The plain ready_for_review example has no `installation`, which every App delivery has.
    Example("pull_request.ready_for_review.json", "pull_request",
            "fa9c0d284f383f5ce5912b980533e35c2053472091c4a9813115556c51db647f",
            "pull_request/ready_for_review.with-installation.payload.json"),
    Example("check_suite.requested.json", "check_suite",
            "f9ecfbc05ee42b7ba934035f3bf16ffba84936cb250a6eafa9c28c58fefc75eb",
            "check_suite/requested.payload.json"),
    Example("check_suite.rerequested.json", "check_suite",
            "9af3171ad0c6ed406ef950ba7f42f1acc8d0f6061bbfec1a73a19871440efe1a",
            "check_suite/rerequested.payload.json"),
    Example("check_run.rerequested.json", "check_run",
            "c2370a5cd6e6be3c3dd224b9d91a1b650ca9b678a6ef494d0784006a275ab56e",
            "check_run/rerequested.payload.json"),
    Example("check_run.requested_action.json", "check_run",
            "947a207f5edf385b18dbdd37ac950bdbefdf08413abb564bb720df3f292c1502",
            "check_run/requested_action.payload.json (identifier lgtm|26764)"),
    Example("installation.created.json", "installation",
            "8a939f40931bd74f588849ebbed6dda5491f6cfcea62344a6c3c6e4ca9d6c765", "installation/created.payload.json"),
    Example("installation.deleted.json", "installation",
            "81b0fbcedc719c564eee215be32c414977918f26270c2cf640bd53e84571de73", "installation/deleted.payload.json"),
    Example("installation_repositories.added.json", "installation_repositories",
            "22b24d4d596a3b3f9bfca31b11b6e0a5600bb19d725ed58bab1117842f9d0767",
            "installation_repositories/added.payload.json"),
    # The only ping with `hook.app_id` (its hook.type is still "Repository").
    Example("ping.json", "ping",
            "1d6bbb3fca3a8366cb5dd444fa718e7f100bda3a22630cdbb51bd0f81dc637dc", "ping/with-app_id.payload.json"),
    Example("pull_request_review.submitted.json", "pull_request_review",
            "292a8d65adcc1fb93ef1dced6b75362e4db00f0ec721e1e50f8ae5ef7d2f4d46",
            "pull_request_review/submitted.payload.json"),
    # What an App installed on an organization receives: the same review plus `organization`.
    Example("pull_request_review.submitted.with-organization.json", "pull_request_review",
            "a69f3609e057fa8b3c7abb0e8ecc709006da4c9a65c5b72ae973db981fe07876",
            "pull_request_review/submitted.with-organization.payload.json"),
    Example("pull_request_review.dismissed.json", "pull_request_review",
            "ed14a60b58ac9a4c2e6308fb64a000bb1df9baf9735b706ce77f504d62658063",
            "pull_request_review/dismissed.payload.json"),
    # A merge queue asks for checks on its group's head (tests point merge_group at the fake's commits).
    Example("merge_group.checks_requested.json", "merge_group",
            "dcf8781b7d13589c3307605499fd25c26f4d8358e805a46f5a475a4759d404dc",
            "merge_group/checks_requested.payload.json"),
)
# Schemas written beside the payloads: one per example, plus the `edited` actions that have no
# example (tests build those payloads and validate them).
EXTRA_SCHEMAS = ("pull_request.edited", "pull_request_review.edited")
# The delivery the header template describes (GitHub's description lists the same headers for every
# webhook).
HEADER_WEBHOOK = "pull-request-opened"


# -- fetching -------------------------------------------------------------------------------------


def _sri(path: Path) -> str:
    digest = hashlib.sha512()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """One process at a time fetches or builds anything under `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _publish(stage: Path, final: Path) -> None:
    """Make `stage` appear as `final` in one rename (an older `final` is moved away first)."""
    if final.exists():
        old = Path(tempfile.mkdtemp(dir=final.parent, prefix=".old-"))
        os.replace(final, old / "x")
        shutil.rmtree(old, ignore_errors=True)
    os.replace(stage, final)


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        raise DescriptionsUnavailable(
            "The tests need GitHub's API descriptions from the npm registry, and `npm` is not on PATH. "
            "Install Node.js 20 or later with npm (Debian/Ubuntu: `apt-get install nodejs npm`), then run "
            "the tests again."
        )
    return npm


def _pack(pkg: Package, into: Path) -> Path:
    """`npm pack <name>@<version>` into a folder; the tarball's path."""
    command = [_npm(), "pack", pkg.spec, "--pack-destination", str(into), "--ignore-scripts", "--prefer-offline", "--json",
               "--silent"]
    env = dict(os.environ, npm_config_update_notifier="false", npm_config_fund="false", npm_config_audit="false")
    try:
        done = subprocess.run(command, check=False, cwd=into, env=env, capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise DescriptionsUnavailable(
            f"`npm pack {pkg.spec}` did not finish in {NPM_TIMEOUT} s: the tests need the npm registry "
            "(https://registry.npmjs.org, or the one `npm config get registry` names) to fetch GitHub's "
            "API descriptions once."
        ) from exc
    tarballs = sorted(into.glob("*.tgz"))
    if done.returncode != 0 or len(tarballs) != 1:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        with contextlib.suppress(ValueError, TypeError, AttributeError):  # `--json` errors: keep the summary
            detail = [json.loads(done.stdout)["error"]["summary"]]
        raise DescriptionsUnavailable(
            f"`npm pack {pkg.spec}` failed (exit {done.returncode}): the tests need Node.js/npm and the npm "
            "registry to fetch GitHub's API descriptions once. npm said:\n  " + "\n  ".join(detail)
        )
    return tarballs[0]


def _extract(pkg: Package, tarball: Path, into: Path) -> None:
    """Unpack only the listed members, through tarfile's "data" filter (no traversal, no links)."""
    wanted = {f"package/{m}" for m in pkg.members}
    with tarfile.open(tarball, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.name in wanted]
        missing = wanted - {m.name for m in members}
        if missing:
            raise DescriptionsUnavailable(f"{pkg.spec} has no {', '.join(sorted(missing))}")
        if any(not m.isfile() for m in members):
            raise DescriptionsUnavailable(f"{pkg.spec}: a listed member is not a regular file")
        tar.extractall(into, members=members, filter="data")


def _fetch(pkg: Package, final: Path) -> None:
    work = Path(tempfile.mkdtemp(dir=final.parent, prefix=".fetch-"))
    try:
        tarball = _pack(pkg, work)
        got = _sri(tarball)
        if got != pkg.integrity:
            raise IntegrityError(
                f"Refusing {pkg.spec}: its tarball's integrity is {got}, but tests/fakegithub/descriptions.py "
                f"pins {pkg.integrity}. If the version was bumped on purpose, pin the value "
                f"`npm view {pkg.spec} dist.integrity` prints."
            )
        stage = work / "stage"
        _extract(pkg, tarball, stage)
        (stage / "package" / ".integrity").write_text(pkg.integrity + "\n")
        _publish(stage / "package", final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ready(folder: Path, stamp: str) -> bool:
    try:
        return (folder / ".integrity").read_text().strip() == stamp
    except OSError:
        return False


def fetch(pkg: Package, cache: Path) -> Path:
    """`cache/<folder>`: the unpacked package (its `package/` folder), fetched and checked unless
    an earlier fetch of the same integrity is already there."""
    final = cache / pkg.folder
    if _ready(final, pkg.integrity):
        return final
    with _locked(cache):
        if not _ready(final, pkg.integrity):  # another process may have fetched it meanwhile
            _fetch(pkg, final)
    return final


@cache
def package_dir(pkg: Package) -> Path:
    """The package in this checkout's cache (fetched on first use)."""
    return fetch(pkg, CACHE)


def ensure_all() -> None:
    """Fetch (if needed) everything the tests read; raises DescriptionsUnavailable."""
    for pkg in PACKAGES:
        package_dir(pkg)
    webhooks_dir()


# -- what the fake reads ------------------------------------------------------------------------


def openapi_path(flavor: str = "api.github.com") -> Path:
    """GitHub's REST description for api.github.com or a GHES release (Octokit's build of it)."""
    if flavor not in FLAVORS:
        raise ValueError(f"unknown flavor {flavor!r}; one of {', '.join(FLAVORS)}")
    return package_dir(OPENAPI) / "generated" / f"{flavor}.json"


def graphql_schema_path() -> Path:
    """GitHub's public GraphQL schema (SDL)."""
    return package_dir(GRAPHQL_SCHEMA) / "schema.graphql"


def webhook_index() -> list[dict[str, Any]]:
    with open(package_dir(WEBHOOK_EXAMPLES) / "api.github.com" / "index.json", encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def canonical_sha256(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def _select(index: list[dict[str, Any]], example: Example) -> dict[str, Any]:
    examples: list[dict[str, Any]] = next((e["examples"] for e in index if e["name"] == example.event), [])
    for candidate in examples:
        if canonical_sha256(candidate) == example.sha256:
            return candidate
    action = example.file.split(".")[1] if example.file.count(".") > 1 else None
    seen = [
        f"{canonical_sha256(c)} installation={'installation' in c} organization={'organization' in c}"
        for c in examples
        if c.get("action") == action
    ]
    raise DescriptionsUnavailable(
        f"{WEBHOOK_EXAMPLES.spec} has no example {example.file} ({example.source}, sha256 {example.sha256}); "
        f"its {example.event}.{action} examples are:\n  " + "\n  ".join(seen or ["none"])
    )


def _schema_closure(definitions: Mapping[str, Any], root: str) -> dict[str, Any]:
    """The definitions reachable from `root` through `#/definitions/...` refs."""
    out: dict[str, Any] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out[name] = definitions[name]
        stack: list[Any] = [definitions[name]]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref.startswith("#/definitions/"):
                    todo.append(ref[len("#/definitions/") :])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
    return out


def _schema_for(definitions: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A draft-07 schema for `<event>.<action>` (or a plain `<event>`, e.g. ping)."""
    event, _, action = name.partition(".")
    root = f"{event}${action or 'event'}"
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$comment": f"{WEBHOOK_SCHEMAS.spec} schema.json, definitions/{root} and what it references",
        "$ref": f"#/definitions/{root}",
        "definitions": _schema_closure(definitions, root),
    }


def _header_template(openapi: Mapping[str, Any]) -> dict[str, Any]:
    """Delivery headers from GitHub's REST description, in the layout tests/app/server_test.py reads."""
    recorded = dict(openapi["components"]["examples"]["hook-delivery"]["value"]["request"]["headers"])
    hook = openapi["x-webhooks"][HEADER_WEBHOOK]["post"]
    declared = {p["name"]: str(p["example"]) for p in hook["parameters"] if p.get("in") == "header"}
    declared["Content-Type"] = next(iter(hook["requestBody"]["content"]))
    return {
        "description": (
            "Webhook delivery headers from GitHub's REST description. `headers`: the request headers of "
            "components/examples/hook-delivery (a delivery as GitHub records it: X-GitHub-* casing, lowercase "
            f"content-type, Accept). `also_documented.rest_api_hook_delivery_example`: the header parameters "
            f"x-webhooks/{HEADER_WEBHOOK} declares (X-Github-* casing, their examples as values) plus its "
            "requestBody media type. Signatures are placeholders: compute your own."
        ),
        "source": {"package": OPENAPI.spec, "file": "generated/api.github.com.json"},
        "headers": recorded,
        "also_documented": {"rest_api_hook_delivery_example": {"headers": declared}},
    }


def _build_webhooks(into: Path) -> None:
    index = webhook_index()
    with open(package_dir(WEBHOOK_SCHEMAS) / "schema.json", encoding="utf-8") as fh:
        definitions = json.load(fh)["definitions"]
    with open(openapi_path(), encoding="utf-8") as fh:
        openapi = json.load(fh)
    (into / "schemas").mkdir(parents=True)
    names = set(EXTRA_SCHEMAS)
    for example in EXAMPLES:
        payload = _select(index, example)
        (into / example.file).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        names.add(".".join(example.file.split(".")[:2]).removesuffix(".json"))
    for name in sorted(names):
        schema = _schema_for(definitions, name)
        (into / "schemas" / f"{name}.schema.json").write_text(json.dumps(schema, indent=1) + "\n", encoding="utf-8")
    (into / "headers.example.json").write_text(json.dumps(_header_template(openapi), indent=2) + "\n")


def _webhooks_stamp() -> str:
    recipe = [p.integrity for p in (WEBHOOK_EXAMPLES, WEBHOOK_SCHEMAS, OPENAPI)]
    recipe += [f"{e.file}={e.sha256}" for e in EXAMPLES] + list(EXTRA_SCHEMAS) + [HEADER_WEBHOOK, "layout-2"]
    return hashlib.sha256("\n".join(recipe).encode()).hexdigest()


@cache
def webhooks_dir() -> Path:
    """A folder of the chosen webhook examples as `<event>.<action>.json` (pretty-printed),
    `schemas/<event>.<action>.schema.json` and `headers.example.json`, built from the packages."""
    for pkg in (WEBHOOK_EXAMPLES, WEBHOOK_SCHEMAS, OPENAPI):
        package_dir(pkg)
    stamp = _webhooks_stamp()
    final = CACHE / "webhooks"
    if _ready(final, stamp):
        return final
    with _locked(CACHE):
        if not _ready(final, stamp):
            stage = Path(tempfile.mkdtemp(dir=CACHE, prefix=".webhooks-"))
            try:
                _build_webhooks(stage / "w")
                (stage / "w" / ".integrity").write_text(stamp + "\n")
                _publish(stage / "w", final)
            finally:
                shutil.rmtree(stage, ignore_errors=True)
    return final


def webhook_example(file: str) -> dict[str, Any]:
    """One chosen example (a fresh copy), e.g. `webhook_example("pull_request.opened.json")`."""
    with open(webhooks_dir() / file, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]
