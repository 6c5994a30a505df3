"""Where GitHub's published data disagrees with itself, or the fake must deviate from it.

Each entry names the place in the pinned packages (`descriptions.py`), says in one line what the
fake does about it, and carries a check that the disagreement is still there. The test
`disagreements_test.py` runs every check: when a version bump fixes one upstream, it fails and
says which workaround to drop (and where it lives).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import descriptions


@dataclass(frozen=True)
class Disagreement:
    id: str
    where: str  # the package and the place in it
    workaround: str  # one line: what the fake does, and where
    present: Callable[[], bool]  # True while the pinned data still disagrees


# -- the pinned data, unpatched ---------------------------------------------------------------------


@cache
def raw_openapi() -> dict[str, Any]:
    """api.github.com.json exactly as shipped (the fake's own copy is patched)."""
    with open(descriptions.openapi_path(), encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def _operation(template: str, method: str = "get") -> dict[str, Any]:
    return raw_openapi()["paths"][template][method]  # type: ignore[no-any-return]


def _schema(name: str) -> dict[str, Any]:
    return raw_openapi()["components"]["schemas"][name]  # type: ignore[no-any-return]


def _example_errors(example: str, schema: str) -> list[str]:
    """Errors of a components/examples value against a component schema (with the fake's patches)."""
    from .openapi import load_spec

    spec = load_spec()
    return spec.validate_component(schema, spec.example(example))


def _webhook_errors(file: str, webhook: str) -> list[str]:
    """Every error of an Octokit webhook example against GitHub's own x-webhooks schema, as
    `<path>: <message>`."""
    from .openapi import load_spec

    spec = load_spec()
    ref = spec.document["x-webhooks"][webhook]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    validator = spec.schema_validator(ref[1:])
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(descriptions.webhook_example(file))]


# -- the checks ---------------------------------------------------------------------------------


def _discriminator_maps_an_array() -> bool:
    schema = _operation("/repos/{owner}/{repo}/contents/{path}")["responses"]["200"]["content"]["application/json"]
    mapping = schema["schema"].get("discriminator", {}).get("mapping", {})
    targets = [_schema(ref.rsplit("/", 1)[1]) for ref in mapping.values()]
    return any(t.get("type") == "array" for t in targets)


def _nullable_enum_without_null() -> bool:
    conclusion = _schema("check-run")["properties"]["conclusion"]
    return conclusion.get("nullable") is True and None not in conclusion["enum"]


def _checks_create_has_no_one_of() -> bool:
    body = _operation("/repos/{owner}/{repo}/check-runs", "post")["requestBody"]["content"]["application/json"]
    return "oneOf" not in body["schema"] and "conclusion" in body["schema"]["properties"]


def _compare_alias() -> bool:
    alias: dict[str, Any] | None = raw_openapi()["paths"].get("/repos/{owner}/{repo}/compare/{base}...{head}", {}).get("get")
    return alias is not None and alias["operationId"] == "repos/compare-commits"


def _compare_renamed() -> bool:
    name: str = _operation("/repos/{owner}/{repo}/compare/{basehead}")["operationId"]
    return name == "repos/compare-commits-with-basehead"


def _installations_inlined() -> bool:
    content = _operation("/app/installations")["responses"]["200"]["content"]["application/json"]
    return "$ref" not in content["schema"]["items"]


def _media_types_undocumented() -> bool:
    def listed(template: str) -> set[str]:
        return set(_operation(template)["responses"]["200"]["content"])

    return (
        not {"application/vnd.github.diff", "application/vnd.github.patch"} & listed(
            "/repos/{owner}/{repo}/pulls/{pull_number}"
        )
        and "application/vnd.github.raw" not in listed("/repos/{owner}/{repo}/contents/{path}")
        and "application/vnd.github.raw" not in listed("/repos/{owner}/{repo}/git/blobs/{file_sha}")
    )


def _null_examples_for_objects() -> bool:
    rerequest = _operation("/repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest", "post")["responses"]["201"]
    accepted = raw_openapi()["components"]["responses"]["accepted"]
    values = [r["content"]["application/json"]["examples"]["default"]["value"] for r in (rerequest, accepted)]
    return values == [None, None]


def _graphql_duplicate_fields() -> bool:
    from graphql import build_schema

    try:
        build_schema(descriptions.graphql_schema_path().read_text(encoding="utf-8"))
    except TypeError as exc:
        return "Field 'EnterpriseOwnerInfo.repositoryDeployKeySetting' can only be defined once." in str(exc)
    return False


def _graphql_deprecated_implementations() -> bool:
    from graphql import build_schema, validate_schema

    sdl = descriptions.graphql_schema_path().read_text(encoding="utf-8")
    messages = [e.message for e in validate_schema(build_schema(sdl, assume_valid_sdl=True))]
    return bool(messages) and all("must not be deprecated" in m for m in messages) and any(
        "PullRequestReviewComment.databaseId must not be deprecated" in m for m in messages
    )


def _has(errors: list[str], *fragments: str) -> bool:
    return all(any(f in e for e in errors) for f in fragments)


DISAGREEMENTS: tuple[Disagreement, ...] = (
    # -- GitHub's OpenAPI description, as OAS 3.0 validators read it ----------------------------
    Disagreement(
        "openapi-discriminator",
        "api.github.com.json: GET /repos/{owner}/{repo}/contents/{path} 200, a discriminator whose mapping "
        "names an array schema (content-directory)",
        "openapi._patch_quirks drops every `discriminator` and validates the plain oneOf, as GitHub means it",
        _discriminator_maps_an_array,
    ),
    Disagreement(
        "openapi-nullable-enum",
        "api.github.com.json: check-run.conclusion (and 70 more) is nullable, but its enum has no null",
        "openapi._patch_quirks adds null to such enums, so `conclusion: null` (in progress) validates",
        _nullable_enum_without_null,
    ),
    Disagreement(
        "openapi-undocumented-media-types",
        "api.github.com.json: pulls/get lists no diff/patch media type, repos/get-content and git/get-blob "
        "no raw one, though GitHub documents them",
        "openapi.CUSTOM_MEDIA_TYPES accepts those 200 bodies without a schema",
        _media_types_undocumented,
    ),
    # -- Octokit's build of it -----------------------------------------------------------------
    Disagreement(
        "octokit-checks-create",
        "api.github.com.json: POST /repos/{owner}/{repo}/check-runs, Octokit's older request schema without "
        "upstream's oneOf (status completed requires a conclusion)",
        "rules.create_check_run enforces that rule and records a request violation (contract=True)",
        _checks_create_has_no_one_of,
    ),
    Disagreement(
        "octokit-compare-alias",
        "api.github.com.json: Octokit adds GET /repos/{owner}/{repo}/compare/{base}...{head} (repos/compare-commits), "
        "which shadows upstream's {basehead} operation in routing",
        "openapi.OCTOKIT_ALIASES drops it, so compare URLs route to upstream's operation",
        _compare_alias,
    ),
    Disagreement(
        "octokit-compare-renamed",
        "api.github.com.json: upstream's repos/compare-commits is named repos/compare-commits-with-basehead",
        "rest.py registers the compare handler (and its permission) under Octokit's name",
        _compare_renamed,
    ),
    Disagreement(
        "octokit-list-installations",
        "api.github.com.json: GET /app/installations, Octokit's override inlines an old Installation schema "
        "instead of upstream's $ref to installation",
        "none: the fake's installations are validated against the inlined copy as shipped",
        _installations_inlined,
    ),
    # -- GitHub's examples against GitHub's schemas ---------------------------------------------
    Disagreement(
        "example-pull-request-teams",
        "api.github.com.json: example pull-request, requested_teams[0] has no `type`, which team-simple requires",
        "payloads.pull_request sends requested_teams []",
        lambda: _has(_example_errors("pull-request", "pull-request"), "\"type\" wasn't supplied. (at 'requested_teams/0')"),
    ),
    Disagreement(
        "example-full-repository-language",
        "api.github.com.json: example full-repository-default-response has no `language` (top level, source)",
        "payloads.repository sets language null and drops source",
        lambda: _has(_example_errors("full-repository-default-response", "full-repository"),
                     "\"language\" wasn't supplied.", "(at 'source')"),
    ),
    Disagreement(
        "example-null-objects",
        "api.github.com.json: the examples of checks/rerequest-run 201 (empty-object) and of the `accepted` "
        "response (apps/redeliver-webhook-delivery 202) are null, for schemas of type object",
        "rest.rerequest_run and rest.redeliver answer {}",
        _null_examples_for_objects,
    ),
    # -- GitHub's GraphQL schema ------------------------------------------------------------
    Disagreement(
        "graphql-duplicate-fields",
        "schema.graphql: EnterpriseOwnerInfo defines repositoryDeployKeySetting and "
        "repositoryDeployKeySettingOrganizations twice",
        "graphql_api.schema builds with assume_valid_sdl=True",
        _graphql_duplicate_fields,
    ),
    Disagreement(
        "graphql-deprecated-implementations",
        "schema.graphql: fields deprecated in implementations but not in their interfaces (e.g. "
        "PullRequestReviewComment.databaseId vs Reactable.databaseId)",
        "graphql_api.schema builds with assume_valid=True, or graphql-core refuses to validate or execute",
        _graphql_deprecated_implementations,
    ),
    # -- Octokit's webhook examples against GitHub's x-webhooks schemas ----------------------
    Disagreement(
        "webhook-repo-has-discussions",
        "webhooks-examples: pull_request.synchronize and the pull_request_review examples, whose head/base "
        "repositories lack has_discussions (required by GitHub's webhook schemas)",
        "webhooks.WebhookBuilder fills has_discussions from the fake's repository",
        lambda: all(
            _has(_webhook_errors(f, w), "pull_request/base/repo: 'has_discussions' is a required property")
            for f, w in (
                ("pull_request.synchronize.json", "pull-request-synchronize"),
                ("pull_request_review.submitted.json", "pull-request-review-submitted"),
                ("pull_request_review.dismissed.json", "pull-request-review-dismissed"),
            )
        ),
    ),
    Disagreement(
        "webhook-installation",
        "webhooks-examples: installation.created/deleted and installation_repositories.added have no "
        "installation.app_slug and give created_at/updated_at as Unix times (GitHub: date-time strings)",
        "webhooks.WebhookBuilder fills app_slug and writes ISO 8601 times",
        lambda: all(
            _has(_webhook_errors(f, w), "installation: 'app_slug' is a required property",
                 "installation/created_at: ", "installation/updated_at: ")
            for f, w in (
                ("installation.created.json", "installation-created"),
                ("installation.deleted.json", "installation-deleted"),
                ("installation_repositories.added.json", "installation-repositories-added"),
            )
        ),
    ),
    Disagreement(
        "webhook-check-run-rerequested",
        "webhooks-examples: check_run.rerequested has no check_run.node_id, details_url or "
        "repository.disabled, its apps no permissions or events and not ISO 8601 times (GitHub's schema)",
        "webhooks.WebhookBuilder fills them from the fake's check run, repository and app",
        lambda: _has(
            _webhook_errors("check_run.rerequested.json", "check-run-rerequested"),
            "check_run: 'node_id' is a required property",
            "check_run: 'details_url' is a required property",
            "repository: 'disabled' is a required property",
            "check_run/app: 'permissions' is a required property",
            "check_run/app: 'events' is a required property",
            "check_run/app/created_at: '2018-04-25 20:42:10' is not a 'date-time'",
        ),
    ),
)
