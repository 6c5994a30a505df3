"""POST /graphql: validate against GitHub's full public schema, then execute over the fake's state.

One schema, built once per process from `@octokit/graphql-schema` (see `descriptions.py`), both
validates and executes. graphql-core must be told to trust it (`assume_valid_sdl`, `assume_valid`):
GitHub's SDL is not valid by graphql-core's rules (see `disagreements.py`).

A field the schema has but the fake does not serve is an "unimplemented" violation, which fails
the test: the fake never answers null for something it does not know.

GitHub quirks kept on purpose: errors come back with HTTP 200; connections demand `first` or
`last` (max 100); `Bot.login` has no `[bot]` suffix in GraphQL (REST says `<slug>[bot]`);
`Blob.text` is cut at 512,000 bytes with `isTruncated: true`.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from . import descriptions
from .messages import Auth
from .payloads import blob_node_id, tree_node_id
from .rules import locate
from .state import Account, PullRequest, Repository, ReviewComment, ReviewThread

if TYPE_CHECKING:
    from graphql import GraphQLError, GraphQLSchema

    from .fake import FakeGitHub

MAX_PAGE = 100
_lock = threading.Lock()


@cache
def schema() -> GraphQLSchema:
    """GitHub's schema, built once per process (about 0.8 s)."""
    from graphql import build_schema

    sdl = descriptions.graphql_schema_path().read_text(encoding="utf-8")
    return build_schema(sdl, assume_valid_sdl=True, assume_valid=True)


class Unimplemented(Exception):
    """A schema field or node type the fake has no data for."""


class GraphQLFailure(Exception):
    """A resolver error with GitHub's `type` (NOT_FOUND, FORBIDDEN, ...)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


# -- result formatting ----------------------------------------------------------------------------


def _validation_error(err: GraphQLError) -> dict[str, Any]:
    """Phrase graphql-core's validation errors the way GitHub's GraphQL API does."""
    message = err.message
    out: dict[str, Any] = {}
    m = re.match(r"Cannot query field '([^']+)' on type '([^']+)'", message)
    if m:
        message = f"Field '{m.group(1)}' doesn't exist on type '{m.group(2)}'"
        out["extensions"] = {"code": "undefinedField", "typeName": m.group(2), "fieldName": m.group(1)}
    m = re.match(r"Argument '[^.]+\.([^(]+)\(([^:]+):\)' of type '[^']+' is required", message)
    if m:
        message = f"Field '{m.group(1)}' is missing required arguments: {m.group(2)}"
        out["extensions"] = {"code": "missingRequiredArguments", "className": "Field", "name": m.group(1), "arguments": m.group(2)}
    m = re.match(r"Unknown argument '([^']+)' on field '[^.]+\.([^']+)'", message)
    if m:
        message = f"Field '{m.group(2)}' doesn't accept argument '{m.group(1)}'"
        out["extensions"] = {"code": "argumentNotAccepted", "name": m.group(2), "typeName": "Field", "argumentName": m.group(1)}
    out["message"] = message
    if err.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in err.locations]
    return out


def _execution_error(err: GraphQLError) -> dict[str, Any]:
    out: dict[str, Any] = {}
    original = err.original_error
    if isinstance(original, GraphQLFailure):
        out["type"] = original.kind
    if err.path is not None:
        out["path"] = list(err.path)
    if err.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in err.locations]
    out["message"] = err.message
    return out


# -- views: plain dicts whose values may be callables taking (info, **args) ----------------------


def _default_resolver(source: Any, info: Any, **args: Any) -> Any:
    if isinstance(source, dict):
        if info.field_name not in source:
            raise Unimplemented(f"{info.parent_type.name}.{info.field_name}")
        value = source[info.field_name]
        return value(info, **args) if callable(value) else value
    raise Unimplemented(f"{info.parent_type.name}.{info.field_name} (on a {type(source).__name__})")


def _type_resolver(value: Any, info: Any, abstract_type: Any) -> str | None:
    return value.get("__typename") if isinstance(value, dict) else None


def _cursor(i: int) -> str:
    return base64.b64encode(f"cursor:v2:{i}".encode()).decode()


def _connection(name: str, items: list[Any], first: int | None, after: str | None, last: int | None, before: str | None, skip: int | None = None) -> dict[str, Any]:
    """A Relay connection with GitHub's rules: `first` or `last` required, at most 100."""
    if first is None and last is None:
        raise GraphQLFailure(f"You must provide a `first` or `last` value to properly paginate the `{name}` connection.", "MISSING_PAGINATION_BOUNDARIES")
    for arg, value in (("first", first), ("last", last)):
        if value is not None and (value < 0 or value > MAX_PAGE):
            raise GraphQLFailure(
                f"Requesting {value} records on the `{name}` connection exceeds the `{arg}` limit of {MAX_PAGE} records.",
                "EXCESSIVE_PAGINATION",
            )

    def decode(c: str) -> int:
        try:
            return int(base64.b64decode(c).decode().rsplit(":", 1)[1])
        except Exception as exc:
            raise GraphQLFailure(f"`{c}` does not appear to be a valid cursor.", "INVALID_CURSOR_ARGUMENTS") from exc

    start, end = 0, len(items)
    if after is not None:
        start = decode(after) + 1
    if before is not None:
        end = min(end, decode(before))
    if skip:
        start += skip
    window = list(range(start, end))
    has_next = has_prev = False
    if first is not None:
        has_next = len(window) > first
        window = window[:first]
    if last is not None:
        has_prev = len(window) > last
        window = window[-last:] if last else []
    nodes = [items[i] for i in window]
    return {
        "nodes": nodes,
        "edges": [{"cursor": _cursor(i), "node": items[i]} for i in window],
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_prev or (start > 0 and first is not None and bool(window)),
            "startCursor": _cursor(window[0]) if window else None,
            "endCursor": _cursor(window[-1]) if window else None,
        },
    }


class Executor:
    """Builds views over the fake's state for one request (auth decides what is visible)."""

    def __init__(self, fake: FakeGitHub, auth: Auth) -> None:
        self.fake = fake
        self.auth = auth
        self.world = fake.world

    # access control -------------------------------------------------------------------------

    def _can_see(self, repo: Repository) -> bool:
        return self.fake.token_can_access(self.auth, repo)

    def _need(self, permission: str, level: str) -> None:
        if not self.fake.token_has_permission(self.auth, permission, level):
            raise GraphQLFailure("Resource not accessible by integration", "FORBIDDEN")

    # actors ---------------------------------------------------------------------------------

    def actor(self, acc: Account | None) -> dict[str, Any] | None:
        if acc is None:
            return None
        if acc.type == "Bot":
            login = acc.login.removesuffix("[bot]")  # GraphQL drops the suffix REST shows
            return {
                "__typename": "Bot",
                "id": acc.node_id,
                "login": login,
                "databaseId": acc.id,
                "avatarUrl": lambda info, size=None: f"https://avatars.githubusercontent.com/in/{self.fake.app_id}?v=4",
                "createdAt": self.fake.app.created_at,
                "updatedAt": self.fake.app.created_at,
                "resourcePath": f"/apps/{login}",
                "url": f"https://github.com/apps/{login}",
            }
        return {
            "__typename": "User",
            "id": acc.node_id,
            "login": acc.login,
            "name": None,
            "avatarUrl": lambda info, size=None: f"https://avatars.githubusercontent.com/u/{acc.id}?v=4",
            "resourcePath": f"/{acc.login}",
            "url": f"https://github.com/{acc.login}",
        }

    # repositories and git objects ------------------------------------------------------------

    def repository(self, repo: Repository) -> dict[str, Any]:
        return {
            "__typename": "Repository",
            "id": repo.node_id,
            "name": repo.name,
            "nameWithOwner": repo.full_name,
            "resourcePath": f"/{repo.full_name}",
            "url": f"https://github.com/{repo.full_name}",
            "object": lambda info, expression=None, oid=None: self.git_object(repo, expression, oid),
            "pullRequest": lambda info, number: self.pull_request_by_number(repo, number),
        }

    def git_object(self, repo: Repository, expression: str | None, oid: str | None) -> dict[str, Any] | None:
        self._need("contents", "read")
        if expression is None and oid is None:
            raise GraphQLFailure("Either an `oid` or `expression` argument is required.", "ARGUMENT_ERROR")
        if oid is not None and not re.fullmatch(r"[0-9a-f]{40}", oid):
            return None  # GitObjectID is a full sha
        target = oid if oid is not None else expression
        assert target is not None
        obj = repo.git.read(target)
        if obj is None:
            return None
        rev = target.split(":", 1)[0] if ":" in target else None
        commit = repo.git.resolve_commit(rev) if rev else None
        if commit is None:
            commit = repo.git.resolve_commit(target) or repo.branch_sha(repo.default_branch)
        path = target.split(":", 1)[1] if ":" in target else ""
        return self.object_view(repo, obj.type, obj.sha, path, commit)

    def object_view(self, repo: Repository, kind: str, sha: str, path: str, commit: str) -> dict[str, Any] | None:
        common = {
            "abbreviatedOid": sha[:7],
            "oid": sha,
            "commitResourcePath": f"/{repo.full_name}/commit/{commit}",
            "commitUrl": f"https://github.com/{repo.full_name}/commit/{commit}",
            "repository": lambda info: self.repository(repo),
        }
        if kind == "blob":
            self.world.nodes[blob_node_id(repo, sha)] = ("Blob", (repo.id, sha))
            return {"__typename": "Blob", "id": blob_node_id(repo, sha), **common, **self._blob_fields(repo, sha)}
        if kind == "tree":
            self.world.nodes[tree_node_id(repo, sha)] = ("Tree", (repo.id, sha))
            return {
                "__typename": "Tree",
                "id": tree_node_id(repo, sha),
                **common,
                "entries": lambda info: self.tree_entries(repo, sha, path, commit),
            }
        if kind == "commit":
            return {"__typename": "Commit", "id": base64.b64encode(f"06:Commit{repo.id}:{sha}".encode()).decode(), **common}
        return None

    def _blob_fields(self, repo: Repository, sha: str) -> dict[str, Callable[..., Any]]:
        def data() -> bytes:
            obj = repo.git.read(sha)
            assert obj is not None
            return obj.data

        def is_binary(info: Any = None) -> bool:
            return b"\0" in data()[:8000]

        def text(info: Any) -> str | None:
            if is_binary():
                return None
            return data()[: self.fake.graphql_blob_text_limit].decode("utf-8", errors="replace")

        return {
            "byteSize": lambda info: len(data()),
            "isBinary": is_binary,
            "isTruncated": lambda info: not is_binary() and len(data()) > self.fake.graphql_blob_text_limit,
            "text": text,
        }

    def tree_entries(self, repo: Repository, sha: str, path: str, commit: str) -> list[dict[str, Any]]:
        entries = []
        for e in repo.git.ls_tree(sha):
            full = f"{path.rstrip('/')}/{e.path}" if path else e.path
            name = e.path
            ext = ("." + name.rsplit(".", 1)[1]) if "." in name.lstrip(".") else None
            entries.append(
                {
                    "name": name,
                    "nameRaw": base64.b64encode(name.encode()).decode(),
                    "path": full,
                    "pathRaw": base64.b64encode(full.encode()).decode(),
                    "type": e.type,
                    "mode": int(e.mode, 8),
                    "oid": e.sha,
                    "size": e.size or 0,
                    "extension": ext,
                    "isGenerated": False,
                    "language": None,
                    "lineCount": (lambda info, s=e.sha: self._line_count(repo, s)) if e.type == "blob" else None,
                    "submodule": None,
                    "repository": lambda info: self.repository(repo),
                    "object": (lambda info, k=e.type, s=e.sha, p=full: self.object_view(repo, k, s, p, commit)),
                }
            )
        return entries

    @staticmethod
    def _line_count(repo: Repository, sha: str) -> int | None:
        obj = repo.git.read(sha)
        if obj is None or b"\0" in obj.data[:8000]:
            return None
        return obj.data.count(b"\n") + (0 if obj.data.endswith(b"\n") or not obj.data else 1)

    # pull requests and threads ---------------------------------------------------------------

    def pull_request_by_number(self, repo: Repository, number: int) -> dict[str, Any] | None:
        self._need("pull_requests", "read")
        pr = repo.pulls.get(number)
        if pr is None:
            raise GraphQLFailure(f"Could not resolve to a PullRequest with the number of {number}.", "NOT_FOUND")
        return self.pull_request(repo, pr)

    def pull_request(self, repo: Repository, pr: PullRequest) -> dict[str, Any]:
        state = "MERGED" if pr.merged else pr.state.upper()

        def threads(info: Any, first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None) -> dict[str, Any]:
            items = sorted((t for t in repo.threads.values() if t.pull_number == pr.number), key=lambda t: t.database_id)
            items = [t for t in items if self._thread_visible(repo, t)]
            return _connection("reviewThreads", [self.thread(repo, t) for t in items], first, after, last, before)

        return {
            "__typename": "PullRequest",
            "id": pr.node_id,
            "number": pr.number,
            "title": pr.title,
            "state": state,
            "isDraft": pr.draft,
            "headRefOid": repo.head_sha(pr),
            "baseRefOid": repo.base_sha(pr),
            "author": lambda info: self.actor(pr.user),
            "resourcePath": f"/{repo.full_name}/pull/{pr.number}",
            "url": f"https://github.com/{repo.full_name}/pull/{pr.number}",
            "reviewThreads": threads,
        }

    def _thread_visible(self, repo: Repository, t: ReviewThread) -> bool:
        comments = repo.thread_comments(t)
        if not comments:
            return False
        review = repo.reviews.get(comments[0].review_id) if comments[0].review_id else None
        return review is None or review.state != "PENDING" or review.user.id == self.fake.bot.id

    def thread(self, repo: Repository, t: ReviewThread) -> dict[str, Any]:
        pr = repo.pulls[t.pull_number]

        def loc() -> Any:
            return locate(repo, pr, t)

        def comments(info: Any, first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None, skip: int | None = None) -> dict[str, Any]:
            return _connection("comments", [self.comment(repo, c) for c in repo.thread_comments(t)], first, after, last, before, skip)

        return {
            "__typename": "PullRequestReviewThread",
            "id": t.id,
            "path": t.path,
            "diffSide": t.side,
            "startDiffSide": t.start_side if t.original_start_line is not None else None,
            "isResolved": t.is_resolved,
            "isCollapsed": t.is_resolved,
            "isOutdated": lambda info: loc().outdated,
            "line": lambda info: loc().line,
            "startLine": lambda info: loc().start_line,
            "originalLine": t.original_line,
            "originalStartLine": t.original_start_line,
            "subjectType": "LINE",
            "resolvedBy": lambda info: self.actor(t.resolved_by) if t.resolved_by and t.resolved_by.type == "User" else None,
            "viewerCanReply": True,
            "viewerCanResolve": not t.is_resolved,
            "viewerCanUnresolve": t.is_resolved,
            "comments": comments,
            "pullRequest": lambda info: self.pull_request(repo, pr),
            "repository": lambda info: self.repository(repo),
        }

    def comment(self, repo: Repository, c: ReviewComment) -> dict[str, Any]:
        pr = repo.pulls[c.pull_number]

        def loc() -> Any:
            return locate(repo, pr, c)

        return {
            "__typename": "PullRequestReviewComment",
            "id": c.node_id,
            "databaseId": c.id,
            "fullDatabaseId": str(c.id),
            "body": c.body,
            "author": lambda info: self.actor(c.user),
            "createdAt": c.created_at,
            "diffHunk": c.diff_hunk,
            "isMinimized": c.minimized_reason is not None,
            "minimizedReason": c.minimized_reason,
            "viewerCanMinimize": True,
            "line": lambda info: loc().line,
            "startLine": lambda info: loc().start_line,
            "originalLine": c.original_line,
            "outdated": lambda info: loc().outdated,
            "path": c.path,
            "subjectType": "LINE",
            "pullRequest": lambda info: self.pull_request(repo, pr),
            "resourcePath": f"/{repo.full_name}/pull/{c.pull_number}#discussion_r{c.id}",
            "url": f"https://github.com/{repo.full_name}/pull/{c.pull_number}#discussion_r{c.id}",
        }

    # global ids ----------------------------------------------------------------------------

    def node(self, node_id: str) -> dict[str, Any] | None:
        entry = self.world.nodes.get(node_id)
        if entry is None:
            raise GraphQLFailure(f"Could not resolve to a node with the global id of '{node_id}'", "NOT_FOUND")
        kind, key = entry
        if kind in ("User", "Bot", "Organization"):
            acc = next((a for a in self.world.accounts.values() if a.node_id == node_id), None)
            if acc is not None and acc.type == "Organization":
                raise Unimplemented("node(id:) of an Organization")
            return self.actor(acc)
        repo_id = key if kind == "Repository" else key[0]
        repo = self.world.repo_by_id(repo_id)
        if repo is None or not self._can_see(repo):
            raise GraphQLFailure(f"Could not resolve to a node with the global id of '{node_id}'", "NOT_FOUND")
        if kind == "Repository":
            return self.repository(repo)
        if kind == "PullRequest":
            self._need("pull_requests", "read")
            return self.pull_request(repo, repo.pulls[key[1]])
        if kind == "PullRequestReviewThread":
            self._need("pull_requests", "read")
            thread = repo.threads.get(key[1])
            return self.thread(repo, thread) if thread else None
        if kind == "PullRequestReviewComment":
            self._need("pull_requests", "read")
            comment = repo.comments.get(key[1])
            return self.comment(repo, comment) if comment else None
        if kind in ("Blob", "Tree"):
            self._need("contents", "read")
            return self.object_view(repo, kind.lower(), key[1], "", repo.branch_sha(repo.default_branch))
        raise Unimplemented(f"node(id:) of a {kind}")  # e.g. PullRequestReview

    def _thread_for_mutation(self, thread_id: str) -> tuple[Repository, ReviewThread]:
        entry = self.world.nodes.get(thread_id)
        if entry is None or entry[0] != "PullRequestReviewThread":
            raise GraphQLFailure(f"Could not resolve to a node with the global id of '{thread_id}'", "NOT_FOUND")
        repo = self.world.repo_by_id(entry[1][0])
        if repo is None or not self._can_see(repo) or entry[1][1] not in repo.threads:
            raise GraphQLFailure(f"Could not resolve to a node with the global id of '{thread_id}'", "NOT_FOUND")
        self._need("pull_requests", "write")
        return repo, repo.threads[entry[1][1]]

    # roots ---------------------------------------------------------------------------------

    def root(self) -> dict[str, Any]:
        def repository(info: Any, owner: str, name: str, followRenames: bool = True) -> dict[str, Any] | None:
            repo = self.world.repo(owner, name)
            if repo is None or not self._can_see(repo):
                raise GraphQLFailure(f"Could not resolve to a Repository with the name '{owner}/{name}'.", "NOT_FOUND")
            return self.repository(repo)

        def nodes(info: Any, ids: list[str]) -> list[dict[str, Any] | None]:
            out: list[dict[str, Any] | None] = []
            for i in ids:
                try:
                    out.append(self.node(i))
                except GraphQLFailure:
                    out.append(None)
            return out

        def set_resolved(value: bool) -> Callable[..., dict[str, Any]]:
            def mutate(info: Any, input: dict[str, Any]) -> dict[str, Any]:
                repo, thread = self._thread_for_mutation(input["threadId"])
                thread.is_resolved = value
                thread.resolved_by = self.fake.bot if value else None
                self.fake.graphql_mutations.append(
                    {"mutation": "resolveReviewThread" if value else "unresolveReviewThread", "thread_id": thread.id}
                )
                return {"clientMutationId": input.get("clientMutationId"), "thread": self.thread(repo, thread)}

            return mutate

        def minimize(info: Any, input: dict[str, Any]) -> dict[str, Any]:
            subject = input["subjectId"]
            entry = self.world.nodes.get(subject)
            if entry is None or entry[0] != "PullRequestReviewComment":
                raise GraphQLFailure(f"Could not resolve to a node with the global id of '{subject}'", "NOT_FOUND")
            repo = self.world.repo_by_id(entry[1][0])
            if repo is None or not self._can_see(repo) or entry[1][1] not in repo.comments:
                raise GraphQLFailure(f"Could not resolve to a node with the global id of '{subject}'", "NOT_FOUND")
            self._need("pull_requests", "write")
            comment = repo.comments[entry[1][1]]
            comment.minimized_reason = input["classifier"].lower().replace("_", "-")
            self.fake.graphql_mutations.append(
                {"mutation": "minimizeComment", "subject_id": subject, "classifier": input["classifier"]}
            )
            return {"clientMutationId": input.get("clientMutationId"), "minimizedComment": self.comment(repo, comment)}

        return {
            "id": "Query",
            "repository": repository,
            "node": lambda info, id: self.node(id),
            "nodes": nodes,
            "resolveReviewThread": set_resolved(True),
            "unresolveReviewThread": set_resolved(False),
            "minimizeComment": minimize,
        }


def run(fake: FakeGitHub, auth: Auth, payload: Any) -> tuple[dict[str, Any], list[str], list[str]]:
    """Execute one GraphQL request: (response body, contract violations, unimplemented fields)."""
    from graphql import ExecutionResult, GraphQLError, execute, parse, validate

    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        msg = "A query attribute must be specified and must be a string."
        return {"errors": [{"message": msg}]}, [msg], []
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict):
        msg = "Variables must be an object."
        return {"errors": [{"message": msg}]}, [msg], []
    github = schema()
    try:
        document = parse(payload["query"])
    except GraphQLError as exc:
        err = {"message": f"Parse error: {exc.message}"}
        if exc.locations:
            err["locations"] = [{"line": loc.line, "column": loc.column} for loc in exc.locations]  # type: ignore[assignment]
        return {"errors": [err]}, [exc.message], []
    problems = validate(github, document)
    if problems:
        return {"errors": [_validation_error(e) for e in problems]}, [e.message for e in problems], []
    executor = Executor(fake, auth)
    with _lock:
        result = execute(
            github,
            document,
            root_value=executor.root(),
            variable_values=variables,
            operation_name=payload.get("operationName"),
            field_resolver=_default_resolver,
            type_resolver=_type_resolver,
        )
    if not isinstance(result, ExecutionResult):  # resolvers are synchronous, so this never happens
        raise TypeError("GraphQL execution unexpectedly returned an awaitable")
    body: dict[str, Any] = {}
    violations: list[str] = []
    unimplemented: list[str] = []
    if result.errors:
        body["errors"] = [_execution_error(e) for e in result.errors]
        unimplemented = [
            f"the fake does not serve {e.original_error} (add it to graphql_api.py)"
            for e in result.errors
            if isinstance(e.original_error, Unimplemented)
        ]
        # Errors from bad input (e.g. variables of the wrong type) break the contract too.
        violations = [
            e.message
            for e in result.errors
            if result.data is None and not isinstance(e.original_error, (GraphQLFailure, Unimplemented))
        ]
    body["data"] = result.data
    return body, violations, unimplemented


__all__ = ["Executor", "GraphQLFailure", "Unimplemented", "run", "schema"]
