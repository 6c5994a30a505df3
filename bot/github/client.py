"""The GitHub API as this App uses it: a thin, typed layer over githubkit.

It knows GitHub (endpoints, pagination, GraphQL batching, retries, limits) and nothing of
rules. Every call the App makes goes through `InstallationClient`, so the whole surface the
App touches is visible here and in `app.yml`'s permissions.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from githubkit import AppAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException, GraphQLFailed, RateLimitExceeded, RequestError, RequestFailed
from githubkit.retry import RetryOption

from bot.engine.tree import MAX_SCAN_BYTES, decode_text
from bot.github.records import (
    BlobText,
    CheckRunInfo,
    DirectoryEntry,
    FileAtRef,
    HookDelivery,
    MergedPull,
    PullFile,
    PullRequestInfo,
    PullReview,
    RepositoryInfo,
    ReviewComment,
    ReviewThread,
    TreeEntry,
)
from bot.github.routes import RequestObserver, response_hook
from bot.github.tokens import InstallationTokens, SharedTokenAuthStrategy

log = logging.getLogger(__name__)

MAX_PR_FILES = 3000  # GitHub's files API never lists more
MAX_COMPARE_FILES = 300  # nor does the compare API
FILES_PER_PAGE = 100
PULLS_PER_PAGE = 100
BLOBS_PER_QUERY = 50  # aliases per GraphQL query: well inside GitHub's node limits
THREADS_PER_PAGE = 100
REVIEWS_PER_PAGE = 100
MAX_REVIEW_PAGES = 30  # 3,000 reviews: more on one pull request is not a review, it is a loop
MIN_RETRY_WAIT = timedelta(seconds=1)
MAX_RETRY_WAIT = timedelta(seconds=90)  # a longer rate-limit wait fails the attempt instead of blocking
MAX_BLOB_BYTES = MAX_SCAN_BYTES  # larger blobs are not read: the engine says so, failing the review
# The REST shapes this code reads are those of API version 2022-11-28 (shared/github/openapi-subset.json).
API_HEADERS = {"X-GitHub-Api-Version": "2022-11-28"}
REST_THREAD_PREFIX = "rest-comment:"  # a thread known only by its first REST review comment
GRAPHQL_ERROR_STATUS = 200  # GraphQL reports errors in a 200 response: not worth repeating as is

BLOB_FIELDS = "__typename ... on Blob { oid byteSize isBinary isTruncated text }"


class GitHubError(RuntimeError):
    """A GitHub call failed for good (after retries); `status` is the HTTP status if any."""

    def __init__(self, message: str, status: int | None = None, rate_limited: bool = False, *,
                 retry_after: float | None = None, unreachable: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.rate_limited = rate_limited
        self.retry_after = retry_after  # seconds GitHub asked us to wait (retry-after / x-ratelimit-reset)
        self.unreachable = unreachable  # "<host>: <reason>" when no answer came at all

    @property
    def graphql_unavailable(self) -> bool:
        """GraphQL refused or failed the query for good (not auth, not a passing fault): the
        REST API can answer instead, with more calls."""
        return not self.transient and self.status not in (401, 403)

    @property
    def transient(self) -> bool:
        """Worth another attempt later: network trouble, a server error or a rate limit; a plain
        403 (missing permission) or 404 will not get better."""
        return self.status is None or self.status >= 500 or self.status == 429 or self.rate_limited


class RetryDecision:
    """Retry 5xx, rate limits (honouring retry-after / x-ratelimit-reset) and network errors.

    A wait longer than MAX_RETRY_WAIT is not slept through here: the attempt fails and the
    job-level retry decides, so one worker never blocks for an hour.
    """

    def __init__(self, max_retry: int = 4) -> None:
        self.max_retry = max_retry

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if retry_count >= self.max_retry:
            return RetryOption(False)
        if isinstance(exc, RateLimitExceeded):
            # githubkit sleeps 60 s for a zero wait (a reset already past): wait one second instead.
            wait = max(exc.retry_after, MIN_RETRY_WAIT)
            return RetryOption(wait <= MAX_RETRY_WAIT, wait)
        if _ambiguous_to_repeat(exc):
            return RetryOption(False)
        if isinstance(exc, RequestFailed) and exc.response.status_code >= 500:
            return RetryOption(True, timedelta(seconds=0.5 * 2**retry_count))
        if isinstance(exc, RequestError) and not isinstance(exc, RequestFailed):
            return RetryOption(True, timedelta(seconds=0.5 * 2**retry_count))
        return RetryOption(False)


def _ambiguous_to_repeat(exc: GitHubException) -> bool:
    """A 5xx or lost connection on creating a review or a check run may have created it all the
    same; the job looks again (threads, check runs by the review's key) before trying again
    instead of creating it twice."""
    request = getattr(exc, "request", None)
    return bool(request is not None and request.method == "POST"
                and request.url.path.endswith(("/reviews", "/check-runs")))


def _error(exc: Exception, what: str) -> GitHubError:
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        try:
            body = exc.response.json()
        except ValueError:  # an HTML error page from a proxy
            body = None
        message = str(body.get("message", "")) if isinstance(body, dict) else ""
        limited = isinstance(exc, RateLimitExceeded)
        wait = exc.retry_after.total_seconds() if isinstance(exc, RateLimitExceeded) else None
        return GitHubError(f"{what}: HTTP {status} {message}".strip(), status, limited, retry_after=wait)
    if isinstance(exc, GraphQLFailed):
        first = exc.response.errors[0].message if exc.response.errors else str(exc)
        return GitHubError(f"{what}: GraphQL error: {first}", GRAPHQL_ERROR_STATUS)
    return GitHubError(f"{what}: {_cause(exc)}", unreachable=_unreachable(exc))


def _unreachable(exc: Exception) -> str:
    """`<host>: <reason in words>` for a request that got no answer ("api.github.com: connection
    refused"), for the check run's cause; "" when the host is not known."""
    origin = getattr(exc, "exc", None) or exc.__cause__ or exc
    if not isinstance(origin, httpx.RequestError):
        return ""
    try:
        host = origin.request.url.host
    except RuntimeError:
        return ""
    text = " ".join(str(e).lower() for e in _chain(origin))
    refused = any(isinstance(e, ConnectionRefusedError) for e in _chain(origin))
    if isinstance(origin, httpx.TimeoutException):
        reason = "no answer in time"
    elif refused or "refused" in text:
        reason = "connection refused"
    elif "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        reason = "host name not found"
    elif "reset" in text:
        reason = "connection reset"
    else:
        reason = "the connection failed"
    return f"{host}: {reason}"


def _next_cursor(link: str) -> str | None:
    """The `cursor` of the Link header's rel="next" URL (cursor pagination), if any."""
    for part in link.split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            cursor = parse_qs(urlsplit(url.strip().strip("<>")).query).get("cursor")
            return cursor[0] if cursor else None
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and what it was raised from, outermost first (bounded: a chain may loop)."""
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _cause(exc: Exception) -> str:
    """One line naming the host and the transport's own reason (`cannot reach api.github.com:
    ConnectError: [Errno 111] Connection refused`), never a bare exception class name."""
    origin = getattr(exc, "exc", None) or exc.__cause__ or exc
    host = ""
    if isinstance(origin, httpx.RequestError):
        with contextlib.suppress(RuntimeError):  # an error raised without a request attached
            host = origin.request.url.host
    reason = str(origin).strip().splitlines()[0] if str(origin).strip() else ""
    detail = f"{type(origin).__name__}: {reason}" if reason else type(origin).__name__
    return f"cannot reach {host}: {detail}" if host else detail


class InstallationClient:
    """Calls made as one installation (one repository's owner)."""

    def __init__(self, github: GitHub[Any], app_id: int) -> None:
        self._gh = github
        self.app_id = app_id

    async def _rest(self, method: str, url: str, what: str, **kwargs: Any) -> Any:
        return (await self._rest_with_next(method, url, what, **kwargs))[0]

    async def _rest_with_next(self, method: str, url: str, what: str, **kwargs: Any) -> tuple[Any, bool]:
        """The decoded body and whether the Link header names a next page."""
        try:
            response = await self._gh.arequest(method, url, headers=API_HEADERS, **kwargs)
        except (GitHubException, httpx.HTTPError) as exc:
            raise _error(exc, what) from None
        has_next = 'rel="next"' in response.headers.get("link", "")
        return (response.json() if response.content else None), has_next

    async def _pages(self, url: str, what: str, per_page: int, params: Mapping[str, Any] | None = None,
                     max_pages: int | None = None) -> AsyncIterator[list[Any]]:
        """The pages of a REST list, one batch at a time, until a page is empty, GitHub's Link header
        names no next page, or `max_pages` were read; a caller stops earlier by leaving the loop."""
        page = 1
        while True:
            batch, has_next = await self._rest_with_next(
                "GET", url, what, params={**(params or {}), "per_page": per_page, "page": page})
            if not batch:
                return
            yield batch
            if not has_next or (max_pages is not None and page >= max_pages):
                return
            page += 1

    async def graphql(self, query: str, variables: Mapping[str, Any], what: str) -> dict[str, Any]:
        try:
            return await self._gh.async_graphql(query, dict(variables))
        except (GitHubException, httpx.HTTPError) as exc:
            raise _error(exc, what) from None

    async def _rest_or_none(self, url: str, what: str, absent: Collection[int] = (404,), **kwargs: Any) -> Any:
        """A GET whose `absent` statuses mean "nothing there" (None), not a failure."""
        try:
            response = await self._gh.arequest("GET", url, headers=API_HEADERS, **kwargs)
        except RequestFailed as exc:
            if exc.response.status_code in absent:
                return None
            raise _error(exc, what) from None
        except (GitHubException, httpx.HTTPError) as exc:
            raise _error(exc, what) from None
        return response.json() if response.content else None

    async def get_repository(self, owner: str, repo: str) -> RepositoryInfo | None:
        """The repository's default branch and topics; None when it does not exist for this
        installation (GitHub answers 404 for a repository the App is not installed on)."""
        data = await self._rest_or_none(f"/repos/{owner}/{repo}", f"read repository {owner}/{repo}")
        if not isinstance(data, dict):
            return None
        return RepositoryInfo(str(data["default_branch"]), tuple(str(t) for t in data.get("topics") or ()))

    async def get_branch_head(self, owner: str, repo: str, branch: str) -> str | None:
        """The commit a branch points at now; None when there is no such branch (404) or the
        repository is empty (409)."""
        data = await self._rest_or_none(f"/repos/{owner}/{repo}/git/ref/heads/{quote(branch, safe='/')}",
                                        f"read branch {branch} of {owner}/{repo}", absent=(404, 409))
        return str(data["object"]["sha"]) if isinstance(data, dict) else None

    async def get_custom_properties(self, owner: str, repo: str) -> dict[str, str | list[str] | None]:
        """The repository's custom property values (set by its organisation): name -> text, list
        of text or null. Nothing for a repository without any (or a personal account's: 404)."""
        data = await self._rest_or_none(f"/repos/{owner}/{repo}/properties/values",
                                        f"read custom properties of {owner}/{repo}")
        return {str(item["property_name"]): item.get("value") for item in data or () if isinstance(item, dict)}

    async def get_file(self, owner: str, repo: str, path: str, ref: str) -> FileAtRef | None:
        """A file's text and blob id at `ref`; None when it does not exist there."""
        found = await self._contents(owner, repo, path, ref)
        if found is None:
            return None
        oid, raw = found
        if raw is None:
            return FileAtRef((await self._blob_by_rest(owner, repo, oid)).text or "", oid)
        return FileAtRef(raw.decode("utf-8", errors="replace"), oid)

    async def _contents_api(self, owner: str, repo: str, path: str, ref: str | None) -> Any:
        """The contents API's answer for `path` at `ref` (None: the default branch); None on 404
        (no such repository, ref or path)."""
        what = f"read {path}@{ref[:12]}" if ref else f"read {path} on the default branch"
        try:
            response = await self._gh.arequest("GET", f"/repos/{owner}/{repo}/contents/{path}",
                                               params={"ref": ref} if ref else {}, headers=API_HEADERS)
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return None
            raise _error(exc, what) from None
        except (GitHubException, httpx.HTTPError) as exc:
            raise _error(exc, what) from None
        return response.json()

    async def list_directory(self, owner: str, repo: str, path: str, ref: str | None = None
                             ) -> list[DirectoryEntry] | None:
        """A folder's entries at `ref` (None: the default branch; GitHub lists at most 1,000);
        None when the repository or the folder does not exist, or `path` is not a folder."""
        data = await self._contents_api(owner, repo, path, ref)
        if not isinstance(data, list):
            return None
        return [DirectoryEntry(path=str(item["path"]), kind=str(item["type"]), oid=str(item["sha"]),
                               size=int(item.get("size") or 0)) for item in data if isinstance(item, dict)]

    async def read_blob(self, owner: str, repo: str, oid: str, size: int = 0) -> BlobText:
        """A blob by its id (exactly the content a listing named); text None past MAX_BLOB_BYTES."""
        return await self._blob_by_rest(owner, repo, oid, size)

    async def _contents(self, owner: str, repo: str, path: str, ref: str) -> tuple[str, bytes | None] | None:
        """(blob id, bytes) of a file at `ref` (bytes None past 1 MB); None unless it is a file there."""
        data = await self._contents_api(owner, repo, path, ref)
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        if data.get("encoding") == "none":  # 1-100 MB: GitHub leaves the content out
            return str(data["sha"]), None
        return str(data["sha"]), base64.b64decode(data.get("content") or "")

    async def get_pull(self, owner: str, repo: str, number: int) -> PullRequestInfo:
        """The pull request as it is now: its head may have moved past the one a job was queued for."""
        data = await self._rest("GET", f"/repos/{owner}/{repo}/pulls/{number}", "read the pull request")
        return PullRequestInfo(
            number=int(data["number"]),
            state=str(data["state"]),
            draft=bool(data.get("draft")),
            head_sha=str(data["head"]["sha"]),
            base_ref=str(data["base"]["ref"]),
            base_sha=str(data["base"]["sha"]),
        )

    async def list_merged_pulls(self, owner: str, repo: str, since: str) -> list[MergedPull]:
        """The pull requests merged at or after `since` (GitHub's `2026-01-31T00:00:00Z` form), newest
        update first. Closed pull requests are read by last update, newest first, until one was last
        updated before `since`: a pull request merged after it was updated after it too."""
        merged: list[MergedPull] = []
        async for batch in self._pages(f"/repos/{owner}/{repo}/pulls", "list pull requests", PULLS_PER_PAGE,
                                       {"state": "closed", "sort": "updated", "direction": "desc"}):
            for item in batch:
                if (item.get("merged_at") or "") >= since:
                    merged.append(MergedPull(int(item["number"]), str(item["head"]["sha"]), str(item["base"]["sha"]),
                                             str(item["base"]["ref"]), str(item["merged_at"])))
            if (batch[-1].get("updated_at") or "") < since:
                break
        return merged

    async def list_reviews(self, owner: str, repo: str, number: int) -> list[PullReview]:
        """Every submitted review of a pull request, oldest first (GitHub's order), following pagination."""
        reviews: list[PullReview] = []
        async for batch in self._pages(f"/repos/{owner}/{repo}/pulls/{number}/reviews", "list reviews",
                                       REVIEWS_PER_PAGE, max_pages=MAX_REVIEW_PAGES):
            for item in batch:
                user = item.get("user") or {}
                reviews.append(PullReview(id=int(item["id"]), login=str(user.get("login") or ""),
                                          user_type=str(user.get("type") or ""), state=str(item.get("state") or ""),
                                          commit_id=item.get("commit_id"), submitted_at=item.get("submitted_at")))
        return reviews

    async def team_membership(self, org: str, team_slug: str, username: str) -> str | None:
        """The user's membership state in the team ("active", or "pending" for an invitation not yet
        accepted); None when the user is no member (GitHub answers 404, as it does for a team the
        App cannot see). Any other failure (403: no `members: read` permission) raises."""
        what = f"check membership of team {org}/{team_slug}"
        try:
            response = await self._gh.arequest("GET", f"/orgs/{org}/teams/{team_slug}/memberships/{username}",
                                               headers=API_HEADERS)
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                return None
            raise _error(exc, what) from None
        except (GitHubException, httpx.HTTPError) as exc:
            raise _error(exc, what) from None
        data = response.json()
        return str(data.get("state") or "") if isinstance(data, dict) else None

    async def list_check_runs(self, owner: str, repo: str, ref: str, name: str) -> list[CheckRunInfo]:
        """The latest check run of this App named `name` on `ref` (GitHub's `filter=latest`), if any."""
        params: dict[str, Any] = {"check_name": name, "filter": "latest", "app_id": self.app_id, "per_page": 100}
        data = await self._rest("GET", f"/repos/{owner}/{repo}/commits/{ref}/check-runs", "list check runs",
                                params=params)
        return [_check_run(run) for run in (data or {}).get("check_runs") or []]

    async def compare_files(self, owner: str, repo: str, base: str, head: str) -> tuple[list[PullFile], bool]:
        """The files changed between the merge base of `base` and `head`, and whether GitHub cut the
        list short (it returns at most 300 files)."""
        data = await self._rest("GET", f"/repos/{owner}/{repo}/compare/{base}...{head}", "compare commits",
                                params={"per_page": 1})
        files = [_pull_file(item) for item in (data or {}).get("files") or []]
        return files, len(files) >= MAX_COMPARE_FILES

    async def list_pull_files(self, owner: str, repo: str, number: int) -> list[PullFile]:
        """Every changed file of a PR (GitHub lists at most 3,000), following pagination."""
        files: list[PullFile] = []
        async for batch in self._pages(f"/repos/{owner}/{repo}/pulls/{number}/files", "list PR files", FILES_PER_PAGE):
            files.extend(_pull_file(item) for item in batch)
            if len(files) >= MAX_PR_FILES:
                break
        return files[:MAX_PR_FILES]

    async def list_tree(self, owner: str, repo: str, commit: str) -> tuple[list[TreeEntry], bool]:
        """Every file of `commit` (one recursive git tree), and whether GitHub listed it all: it cuts
        trees past 100,000 entries or 7 MB short and says so with `truncated`."""
        tree = await self._rest("GET", f"/repos/{owner}/{repo}/git/trees/{commit}", "list files",
                                params={"recursive": "1"})
        entries = [TreeEntry(path=item["path"], oid=item["sha"], type=item["type"],
                             size=item["size"] if isinstance(item.get("size"), int) else None)
                   for item in (tree or {}).get("tree") or [] if item.get("type") == "blob"]
        return entries, not bool((tree or {}).get("truncated"))

    async def read_blobs(self, owner: str, repo: str, commit: str, paths: Collection[str]
                         ) -> dict[str, BlobText | None]:
        """Files at `commit` by path, 50 per GraphQL query (`<commit>:<path>`), each with the blob id
        GitHub returned beside its text; None for a path that is no file at `commit`.

        Whatever GraphQL cannot answer is read over REST *at the same commit* (the contents API),
        never by a blob id some listing named: that id may belong to another head. Large or
        non-UTF-8 blobs are read over REST by the id GitHub returned for this commit."""
        ordered = sorted(paths)
        blobs: dict[str, BlobText | None] = {}
        for start in range(0, len(ordered), BLOBS_PER_QUERY):
            chunk = ordered[start : start + BLOBS_PER_QUERY]
            fields = "\n".join(
                f"b{i}: object(expression: {_gql_string(f'{commit}:{path}')}) {{ {BLOB_FIELDS} }}"
                for i, path in enumerate(chunk)
            )
            query = f"query($owner: String!, $name: String!) {{ repository(owner: $owner, name: $name) {{ {fields} }} }}"
            try:
                data = await self.graphql(query, {"owner": owner, "name": repo}, "read files")
            except GitHubError as exc:
                if not exc.graphql_unavailable:
                    raise
                log.info("reading files over GraphQL failed (%s); reading them over REST", exc)
                data = {}
            repository = data.get("repository") or {}
            for i, path in enumerate(chunk):
                blob = repository.get(f"b{i}")
                if not isinstance(blob, dict) or blob.get("__typename") != "Blob":
                    blobs[path] = await self._file_at_commit(owner, repo, path, commit)
                elif blob.get("isBinary") or blob.get("isTruncated") or blob.get("text") is None:
                    # binary (scanned for secrets all the same), large, or not valid UTF-8: its bytes
                    blobs[path] = await self._blob_by_rest(owner, repo, str(blob["oid"]), blob.get("byteSize") or 0)
                else:
                    blobs[path] = BlobText(str(blob["oid"]), blob["text"])
        return blobs

    async def _file_at_commit(self, owner: str, repo: str, path: str, commit: str) -> BlobText | None:
        found = await self._contents(owner, repo, path, commit)
        if found is None:
            return None
        oid, raw = found
        if raw is None:  # over 1 MB: the contents API names the blob but leaves its bytes out
            return await self._blob_by_rest(owner, repo, oid)
        return BlobText(oid, decode_text(raw) if len(raw) <= MAX_BLOB_BYTES else None, len(raw))

    async def _blob_by_rest(self, owner: str, repo: str, oid: str, size: int = 0) -> BlobText:
        if size > MAX_BLOB_BYTES:
            return BlobText(oid, None, size)
        data = await self._rest("GET", f"/repos/{owner}/{repo}/git/blobs/{oid}", "read a blob")
        raw = base64.b64decode(data.get("content") or "")
        return BlobText(str(data.get("sha") or oid), decode_text(raw) if len(raw) <= MAX_BLOB_BYTES else None,
                        len(raw))

    async def create_check_run(self, owner: str, repo: str, body: Mapping[str, Any]) -> int:
        data = await self._rest("POST", f"/repos/{owner}/{repo}/check-runs", "create check run", json=dict(body))
        return int(data["id"])

    async def update_check_run(self, owner: str, repo: str, check_run_id: int, body: Mapping[str, Any]) -> None:
        await self._rest("PATCH", f"/repos/{owner}/{repo}/check-runs/{check_run_id}", "update check run",
                         json=dict(body))

    async def create_review(self, owner: str, repo: str, number: int, commit_id: str, body: str,
                            comments: Sequence[ReviewComment]) -> int:
        payload = {"commit_id": commit_id, "event": "COMMENT", "body": body,
                   "comments": [c.to_api() for c in comments]}
        data = await self._rest("POST", f"/repos/{owner}/{repo}/pulls/{number}/reviews", "create review", json=payload)
        return int(data["id"])

    async def list_review_threads(self, owner: str, repo: str, number: int) -> list[ReviewThread]:
        """The PR's review threads (GraphQL); from REST review comments when GraphQL cannot answer,
        which still prevents duplicate comments but cannot tell or change resolution."""
        try:
            return await self._review_threads_graphql(owner, repo, number)
        except GitHubError as exc:
            if not exc.graphql_unavailable:
                raise
            log.info("listing review threads over GraphQL failed (%s); using review comments", exc)
        threads = []
        async for batch in self._pages(f"/repos/{owner}/{repo}/pulls/{number}/comments", "list review comments",
                                       THREADS_PER_PAGE):
            for item in batch:
                if item.get("in_reply_to_id") is None:
                    threads.append(ReviewThread(
                        id=f"{REST_THREAD_PREFIX}{item['id']}", is_resolved=False, is_outdated=item.get("line") is None,
                        path=item.get("path") or "", line=item.get("line"), first_comment_body=item.get("body") or "",
                        first_comment_author=(item.get("user") or {}).get("login"),
                    ))
        return threads

    async def _review_threads_graphql(self, owner: str, repo: str, number: int) -> list[ReviewThread]:
        threads: list[ReviewThread] = []
        cursor: str | None = None
        while True:
            data = await self.graphql(REVIEW_THREADS_QUERY, {"owner": owner, "name": repo, "number": number,
                                                             "after": cursor, "first": THREADS_PER_PAGE},
                                      "list review threads")
            pull = ((data.get("repository") or {}).get("pullRequest")) or {}
            connection = pull.get("reviewThreads") or {}
            for node in connection.get("nodes") or []:
                comments = (node.get("comments") or {}).get("nodes") or []
                first = comments[0] if comments else {}
                threads.append(ReviewThread(
                    id=node["id"],
                    is_resolved=bool(node.get("isResolved")),
                    is_outdated=bool(node.get("isOutdated")),
                    path=node.get("path") or "",
                    line=node.get("line"),
                    first_comment_body=first.get("body") or "",
                    first_comment_author=(first.get("author") or {}).get("login"),
                ))
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return threads
            cursor = page.get("endCursor")

    async def resolve_thread(self, thread_id: str) -> None:
        if thread_id.startswith(REST_THREAD_PREFIX):
            raise GitHubError("resolve review thread: no GraphQL thread id (listed over REST)", GRAPHQL_ERROR_STATUS)
        await self.graphql(RESOLVE_THREAD_MUTATION, {"threadId": thread_id}, "resolve review thread")


REVIEW_THREADS_QUERY = """
query($owner: String!, $name: String!, $number: Int!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: $first, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes {
          id isResolved isOutdated path line
          comments(first: 1) { nodes { body author { login } } }
        }
      }
    }
  }
}
"""

RESOLVE_THREAD_MUTATION = """
mutation($threadId: ID!) {
  resolveReviewThread(input: {threadId: $threadId}) { thread { id isResolved } }
}
"""


def _check_run(run: Mapping[str, Any]) -> CheckRunInfo:
    return CheckRunInfo(id=int(run["id"]), name=str(run["name"]), status=str(run["status"]),
                        conclusion=run.get("conclusion"), external_id=run.get("external_id"),
                        text=(run.get("output") or {}).get("text"), head_sha=run.get("head_sha"))


def _pull_file(item: Mapping[str, Any]) -> PullFile:
    """One entry of the files API (pull request files and compare share the shape)."""
    return PullFile(path=item["filename"], status=item.get("status", "modified"), sha=item.get("sha"),
                    previous_path=item.get("previous_filename"), patch=item.get("patch"))


def _gql_string(value: str) -> str:
    """A GraphQL string literal (JSON escaping is valid GraphQL escaping)."""
    import json

    return json.dumps(value)


class GitHubApp:
    """The App's identity; hands out one installation-scoped client per job."""

    def __init__(self, app_id: int, private_key: str, api_url: str, timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None, tokens: InstallationTokens | None = None,
                 observe: RequestObserver | None = None) -> None:
        """`observe`: told of every response (method, route template, status, headers), for metrics."""
        self._app_id = app_id
        self.tokens = tokens  # installation tokens shared by processes (None: githubkit's, per App instance)
        self._private_key = private_key
        self._api_url = api_url
        self._timeout = timeout
        self._transport = transport
        self._hooks = {"response": [response_hook(observe, api_url)]} if observe is not None else None
        self._cache = MemCacheStrategy()  # the JWT (and, without `tokens`, installation tokens) per App instance
        self._app_client: GitHub[Any] = self._client(AppAuthStrategy(str(app_id), private_key))

    def _client(self, auth: Any) -> GitHub[Any]:
        return GitHub(
            auth,
            base_url=self._api_url,
            timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 5.0)),
            user_agent="compliance-bot",
            auto_retry=RetryDecision(),
            http_cache=False,
            cache_strategy=self._cache,
            async_transport=self._transport,
            async_event_hooks=self._hooks,
        )

    async def repository_installation(self, owner: str, repo: str) -> int:
        """The id of this App's installation on `owner/repo` (asked as the App, with its JWT)."""
        what = f"find the App's installation on {owner}/{repo}"
        try:
            async with self._client(AppAuthStrategy(str(self._app_id), self._private_key)) as github:
                response = await github.arequest("GET", f"/repos/{owner}/{repo}/installation", headers=API_HEADERS)
        except RequestFailed as exc:
            if exc.response.status_code == 404:
                raise GitHubError(f"{what}: the App is not installed there (HTTP 404)", 404) from None
            raise _error(exc, what) from None
        except (GitHubException, httpx.HTTPError) as exc:
            raise _error(exc, what) from None
        return int(response.json()["id"])

    async def failed_deliveries(self, since: str, max_pages: int = 50) -> list[HookDelivery]:
        """The App's webhook deliveries GitHub could not deliver (status failure) from `since`
        (ISO 8601, UTC) on, newest first; cursor pages followed through the Link header, and
        stopped at the first delivery older than `since` (GitHub lists newest first)."""
        what = "list the App's failed webhook deliveries"
        found: list[HookDelivery] = []
        params: dict[str, Any] = {"per_page": 100, "status": "failure"}
        try:
            async with self._client(AppAuthStrategy(str(self._app_id), self._private_key)) as github:
                for _ in range(max_pages):
                    response = await github.arequest("GET", "/app/hook/deliveries", params=params,
                                                     headers=API_HEADERS)
                    older = False
                    for item in response.json():
                        if str(item["delivered_at"]) < since:
                            older = True
                            break
                        found.append(HookDelivery(int(item["id"]), str(item["guid"]), str(item["delivered_at"]),
                                                  int(item["status_code"]), bool(item["redelivery"]),
                                                  str(item["event"])))
                    cursor = _next_cursor(response.headers.get("link", ""))
                    if older or cursor is None:
                        break
                    params = {**params, "cursor": cursor}
        except (GitHubException, httpx.HTTPError) as exc:
            raise _error(exc, what) from None
        return found

    async def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to deliver webhook delivery `delivery_id` again (it answers 202 at once)."""
        what = f"redeliver webhook delivery {delivery_id}"
        try:
            async with self._client(AppAuthStrategy(str(self._app_id), self._private_key)) as github:
                await github.arequest("POST", f"/app/hook/deliveries/{delivery_id}/attempts", headers=API_HEADERS)
        except (GitHubException, httpx.HTTPError) as exc:
            raise _error(exc, what) from None

    @asynccontextmanager
    async def installation(self, installation_id: int) -> AsyncIterator[InstallationClient]:
        """An installation client; its token is minted by githubkit, and kept in `tokens` when
        given (shared by processes), else in this App instance."""
        strategy = (SharedTokenAuthStrategy(str(self._app_id), self._private_key, installation_id, tokens=self.tokens)
                    if self.tokens is not None
                    else AppAuthStrategy(str(self._app_id), self._private_key).as_installation(installation_id))
        github = self._app_client.with_auth(strategy)
        async with github:
            yield InstallationClient(github, self._app_id)
