"""GitHub's full OpenAPI description as a contract: route matching, parameter/body/response
validation, examples.

The description (api.github.com, or a GHES release: `descriptions.FLAVORS`) is parsed and patched
once per process and shared by every FakeGitHub; the two patches are listed, with why, in
`disagreements.py` (`discriminator` dropped, `nullable` + `enum` accepts null). Validators are
compiled lazily, once per (operation, part), and every `$ref` resolves inside the one loaded
document through a `referencing` registry.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import descriptions

SPEC_URI = "urn:github-openapi"
GENERIC_ERROR_SCHEMAS = ("basic-error", "validation-error", "validation-error-simple")
DOCS = "https://docs.github.com/rest"

# Media types GitHub documents as alternative representations of an operation's 200 response
# even where the OpenAPI description only lists application/json (docs: "media types").
CUSTOM_MEDIA_TYPES: dict[str, tuple[str, ...]] = {
    "pulls/get": ("application/vnd.github.diff", "application/vnd.github.patch"),
    "repos/get-content": ("application/vnd.github.raw", "application/vnd.github.html"),
    "git/get-blob": ("application/vnd.github.raw",),
}


def is_json_media(media_type: str) -> bool:
    """Media types whose body is JSON (GitHub's `object` type is JSON too)."""
    return media_type.endswith("json") or media_type == "application/vnd.github.object"


def _patch_quirks(node: Any, versions: set[str]) -> None:
    """Apply the two patches of `disagreements.py` in place, everywhere in the document, and
    collect the API versions its `x-github-breaking-changes` name."""
    if isinstance(node, dict):
        for change in node.get("x-github-breaking-changes") or []:
            versions.add(change["version"])
        if isinstance(node.get("discriminator"), dict) and "propertyName" in node["discriminator"]:
            del node["discriminator"]
        enum = node.get("enum")
        if node.get("nullable") is True and isinstance(enum, list) and None not in enum:
            enum.append(None)
        for value in node.values():
            _patch_quirks(value, versions)
    elif isinstance(node, list):
        for value in node:
            _patch_quirks(value, versions)


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class Operation:
    """One (method, path template) of the spec."""

    method: str
    template: str
    operation_id: str
    regex: re.Pattern[str]
    param_names: tuple[str, ...]
    spec: Mapping[str, Any]
    literal_weight: int

    def parameters(self, spec: Spec) -> list[dict[str, Any]]:
        return [spec.deref(p) for p in self.spec.get("parameters", [])]


@dataclass
class Violation:
    """A break of the contract: by the client (request) or by the fake itself (response)."""

    kind: str  # "unknown_operation", "request", "response", "graphql", "fake_error"
    method: str
    path: str
    operation_id: str | None
    message: str

    def __str__(self) -> str:
        op = f" ({self.operation_id})" if self.operation_id else ""
        return f"[{self.kind}] {self.method} {self.path}{op}: {self.message}"


class Spec:
    """A loaded description with matching and validation helpers (thread-safe, shared by every fake)."""

    def __init__(self, document: dict[str, Any], flavor: str = "api.github.com") -> None:
        self.document = document
        self.flavor = flavor
        self._validators: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()
        self._registry: Any = None
        self.version = DEFAULT_VERSION
        self.removed_properties: dict[str, frozenset[str]] = {}  # schema name -> properties gone
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            names = tuple(re.findall(r"{([^}]+)}", template))
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                multi = {
                    p["name"]
                    for p in (self.deref(x) for x in op.get("parameters", []))
                    if p.get("in") == "path" and p.get("x-multi-segment")
                }
                pattern = "^"
                for part in re.split(r"({[^}]+})", template):
                    if part.startswith("{"):
                        pattern += "(.*)" if part[1:-1] in multi else "([^/]+)"  # names may hold "-"
                    else:
                        pattern += re.escape(part)
                pattern += "$"
                literal = len(re.sub(r"{[^}]+}", "", template))
                self.operations.append(
                    Operation(method.upper(), template, op["operationId"], re.compile(pattern), names, op, literal)
                )
        # Prefer the template with more literal text (e.g. /pulls/comments/{id} over /pulls/{n}).
        self.operations.sort(key=lambda o: -o.literal_weight)
        # Routing looks only at templates of the same method and first segment (no template
        # starts with a parameter), not at all 1,200 operations.
        self._by_start: dict[tuple[str, str], list[Operation]] = {}
        for op in self.operations:
            self._by_start.setdefault((op.method, _first_segment(op.template)), []).append(op)

    # -- document access -----------------------------------------------------------------------------

    def deref(self, node: Any) -> Any:
        """Follow a local `$ref` (repeatedly)."""
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            target: Any = self.document
            for token in ref[2:].split("/"):
                target = target[token.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def removed(self, *schemas: str) -> frozenset[str]:
        """Properties that this API version dropped from the given component schemas."""
        out: set[str] = set()
        for name in schemas:
            out |= self.removed_properties.get(name, frozenset())
        return frozenset(out)

    def example(self, name: str) -> Any:
        """A deep copy of `components/examples/<name>/value`."""
        return copy.deepcopy(self.document["components"]["examples"][name]["value"])

    def find(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for a method and (already URL-decoded) path, with path parameters."""
        for op in self._by_start.get((method, _first_segment(path)), ()):
            m = op.regex.match(path)
            if m:
                return op, dict(zip(op.param_names, m.groups(), strict=True))
        return None

    # -- validation ---------------------------------------------------------------------------------

    def _validator(self, pointer: str, write: bool) -> Any:
        key = (pointer, "w" if write else "r")
        with self._lock:
            v = self._validators.get(key)
            if v is None:
                from openapi_schema_validator import (  # heavy import, deferred
                    OAS30ReadValidator,
                    OAS30WriteValidator,
                    oas30_format_checker,
                )
                from referencing import Registry
                from referencing.jsonschema import DRAFT4

                if self._registry is None:
                    self._registry = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(self.document))
                cls = OAS30WriteValidator if write else OAS30ReadValidator
                v = cls({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self._registry, format_checker=oas30_format_checker)
                self._validators[key] = v
            return v

    @staticmethod
    def _errors(validator: Any, instance: Any) -> list[str]:
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        out = []
        for e in errors[:10]:
            where = "/".join(str(p) for p in e.absolute_path)
            out.append(_github_message(e, where))
        return out

    def schema_validator(self, pointer: str, *, write: bool = False) -> Any:
        """The (cached) jsonschema validator of the schema at a JSON pointer of the document."""
        return self._validator(pointer, write)

    def validate_schema(self, pointer: str, instance: Any, *, write: bool = False) -> list[str]:
        """Validate against the schema at a JSON pointer of the document; messages like GitHub's."""
        return self._errors(self._validator(pointer, write), instance)

    def validate_component(self, name: str, instance: Any) -> list[str]:
        return self.validate_schema(f"/components/schemas/{_escape(name)}", instance)

    def request_body_pointer(self, op: Operation) -> str | None:
        body = op.spec.get("requestBody")
        if not body:
            return None
        body = self.deref(body)
        media = body.get("content", {}).get("application/json")
        if not media or "schema" not in media:
            return None
        return f"/paths/{_escape(op.template)}/{op.method.lower()}/requestBody/content/application~1json/schema"

    def request_body_required(self, op: Operation) -> bool:
        body = self.deref(op.spec.get("requestBody") or {})
        return bool(body.get("required")) and self.request_body_pointer(op) is not None

    def _response_entry(self, op: Operation, status: int) -> tuple[str, dict[str, Any]] | None:
        """(JSON pointer, resolved response object) documented for a status code."""
        responses = op.spec.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                entry = responses[key]
                if "$ref" in entry:
                    return entry["$ref"][1:], self.deref(entry)
                return f"/paths/{_escape(op.template)}/{op.method.lower()}/responses/{key}", entry
        return None

    def validate_response(
        self, op: Operation, status: int, media_type: str, body: bytes, parsed: Any
    ) -> list[str]:
        """Check a response the fake is about to send; an empty list means it honours the contract."""
        found = self._response_entry(op, status)
        if found is None and status == 304 and op.method == "GET":
            # Conditional requests: GitHub answers any GET with 304 when the ETag matches.
            return [] if not body else [f"status 304 must have no body, got {len(body)} bytes"]
        if found is None:
            if status >= 400:
                # The subset leaves out most error codes (401, 404 ...): they must still be
                # one of GitHub's documented error shapes.
                if not isinstance(parsed, dict) or not isinstance(parsed.get("message"), str):
                    return [f"status {status} body is not a GitHub error object"]
                results = [self.validate_component(n, parsed) for n in GENERIC_ERROR_SCHEMAS]
                return [] if any(not r for r in results) else results[0]
            return [f"status {status} is not documented for {op.operation_id}"]
        pointer, resp = found
        content = resp.get("content")
        if not content:
            return [] if not body else [f"status {status} must have no body, got {len(body)} bytes"]
        if media_type not in content:
            if status == 200 and media_type in CUSTOM_MEDIA_TYPES.get(op.operation_id, ()):
                return []
            return [f"media type {media_type} is not documented for status {status}"]
        if "schema" not in content[media_type]:
            return []
        pointer += f"/content/{_escape(media_type)}/schema"
        if is_json_media(media_type):
            if parsed is None and body:
                return ["body is not valid JSON"]
            return self.validate_schema(pointer, parsed)
        return self.validate_schema(pointer, body.decode(errors="replace"))


def _github_message(error: Any, where: str) -> str:
    """Phrase a jsonschema error the way GitHub's 422 'Invalid request' messages do."""
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else error.message
        return f'"{name}" wasn\'t supplied.' + (f" (at '{where}')" if where else "")
    value = json.dumps(error.instance)
    if len(value) > 200:
        value = value[:200] + "..."
    target = f"properties/{where}" if where else "the request body"
    return f"For '{target}', {value} {_reason(error)}."


def _reason(error: Any) -> str:
    v = error.validator
    if v == "type":
        return f"is not {'an' if str(error.validator_value)[0] in 'aeiou' else 'a'} {error.validator_value}"
    if v == "enum":
        return f"is not a member of {list(error.validator_value)}"
    if v == "maxLength":
        return f"is too long (maximum is {error.validator_value} characters)"
    if v == "maxItems":
        return f"has too many items (maximum is {error.validator_value})"
    if v == "not":
        return "must not be present (removed in this API version)"
    if v in ("oneOf", "anyOf"):
        return f"is not valid under any of the given schemas ({v})"
    return str(error.message)


DEFAULT_VERSION = "2022-11-28"
# Operations Octokit's build adds as aliases of an upstream URL; they would shadow upstream's
# operation in routing, so the fake drops them (listed in disagreements.py).
OCTOKIT_ALIASES = (("/repos/{owner}/{repo}/compare/{base}...{head}", "get"),)
REMOVED = {"not": {}, "description": "Removed in this API version (x-github-breaking-changes)."}


def _merge_patch(target: dict[str, Any], patch: Mapping[str, Any], *, in_properties: bool = False) -> None:
    """RFC 7386 merge patch; a property removed by a breaking change must then be absent."""
    for key, value in patch.items():
        if value is None:
            if in_properties:
                target[key] = copy.deepcopy(REMOVED)
            else:
                target.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge_patch(target[key], value, in_properties=key == "properties")
        else:
            target[key] = copy.deepcopy(value)


def _json_patch(target: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    """The `remove` operations GitHub uses on examples (RFC 6902)."""
    for op in ops:
        *parents, last = [t.replace("~1", "/").replace("~0", "~") for t in op["path"].lstrip("/").split("/")]
        node: Any = target
        for token in parents:
            node = node[int(token)] if isinstance(node, list) else node[token]
        if op["op"] == "remove":
            if isinstance(node, list):
                del node[int(last)]
            else:
                node.pop(last, None)
        elif op["op"] in ("add", "replace"):
            node[last] = copy.deepcopy(op["value"])


def _apply_breaking_changes(node: Any, version: str, removed: dict[str, set[str]], name: str = "") -> None:
    """Turn the 2022-11-28 document into another API version using its own annotations."""
    if isinstance(node, dict):
        changes = node.pop("x-github-breaking-changes", None)
        for key, value in node.items():
            _apply_breaking_changes(value, version, removed, key)
        for change in changes or []:
            if change.get("version", "9999") > version:
                continue
            patch = change["patch"]
            if isinstance(patch, list):
                _json_patch(node, patch)
            else:
                _merge_patch(node, patch)
                gone = {k for k, v in patch.get("properties", {}).items() if v is None}
                if gone:
                    removed.setdefault(name, set()).update(gone)
    elif isinstance(node, list):
        for value in node:
            _apply_breaking_changes(value, version, removed)


@cache
def _base_document(flavor: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The patched description of a flavor, and the API versions it knows (parsed once)."""
    with open(descriptions.openapi_path(flavor), encoding="utf-8") as fh:
        document: dict[str, Any] = json.load(fh)
    versions = {DEFAULT_VERSION}
    _patch_quirks(document, versions)
    for template, method in OCTOKIT_ALIASES:
        item = document["paths"].get(template, {})
        item.pop(method, None)
        if not any(m in item for m in ("get", "post", "put", "patch", "delete")):
            document["paths"].pop(template, None)
    return document, tuple(sorted(versions))


def api_versions(flavor: str = "api.github.com") -> tuple[str, ...]:
    """The `X-GitHub-Api-Version` values a flavor accepts (GHES 3.19: 2022-11-28 only)."""
    return _base_document(flavor)[1]


@cache
def load_spec(version: str = DEFAULT_VERSION, flavor: str = "api.github.com") -> Spec:
    """The description as seen by a client sending `X-GitHub-Api-Version: <version>` (once per
    process and flavor, shared by every FakeGitHub).

    The file describes 2022-11-28 and annotates later changes (`x-github-breaking-changes`), e.g.
    2026-03-10 drops `merge_commit_sha`/`assignee` from pull requests and `rate` from /rate_limit.
    """
    base, versions = _base_document(flavor)
    if version not in versions:
        raise ValueError(f"unsupported API version {version} for {flavor}")
    document = base if version == DEFAULT_VERSION else copy.deepcopy(base)
    removed: dict[str, set[str]] = {}
    if version != DEFAULT_VERSION:
        _apply_breaking_changes(document, version, removed)
    spec = Spec(document, flavor)
    spec.version = version
    spec.removed_properties = {k: frozenset(v) for k, v in removed.items()}
    return spec
