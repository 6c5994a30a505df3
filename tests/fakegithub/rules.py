"""GitHub's documented rules for reviews and check runs, enforced on the fake's state.

Each rule returns a `Rejection` (GitHub's 422 body) instead of raising, so the caller can answer
exactly like GitHub: nothing is recorded unless the whole request is valid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diff import FilePatch
from .state import (
    Account,
    CheckRun,
    CheckSuite,
    PullRequest,
    Repository,
    Review,
    ReviewComment,
    ReviewThread,
    World,
    iso,
    node_id,
)

MAX_BODY = 65536
MAX_OUTPUT_TEXT = 65535
MAX_ANNOTATIONS = 50
REVIEW_STATES = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
REVIEW_DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"


@dataclass
class Rejection:
    """A 422 answer: GitHub's `message`, `errors` and docs link."""

    message: str
    errors: list[Any] = field(default_factory=list)
    documentation_url: str = "https://docs.github.com/rest"
    status: int = 422
    contract: bool = False  # the request breaks GitHub's documented request schema, not just a rule

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message, "documentation_url": self.documentation_url}
        if self.errors:
            out["errors"] = self.errors
        out["status"] = str(self.status)
        return out


# -- reviews ------------------------------------------------------------------------------------


def _review_error(*errors: str) -> Rejection:
    return Rejection("Unprocessable Entity", list(errors), REVIEW_DOCS)


@dataclass
class _Placed:
    path: str
    side: str
    start_side: str | None
    line: int
    start_line: int | None
    position: int
    diff_hunk: str
    body: str


def _place(file: FilePatch, c: dict[str, Any]) -> _Placed | Rejection:
    """Resolve one draft comment to a diff location, or explain why GitHub would not."""
    body = c.get("body", "")
    if len(body) > MAX_BODY:
        return _review_error(f"Body is too long (maximum is {MAX_BODY} characters)")
    requested: int | None = c.get("line")
    position: int | None = c.get("position")
    side: str = c.get("side", "RIGHT")
    if side not in ("LEFT", "RIGHT"):
        return _review_error(f"side must be LEFT or RIGHT, got {side!r}")
    start_line, start_side = c.get("start_line"), c.get("start_side")
    if requested is not None and position is not None:
        return _review_error("Position and line are mutually exclusive")
    if position is not None:
        d = file.line_at_position(position)
        if d is None or d.kind in ("@", "\\"):
            return _review_error("Position could not be resolved")
        side = "LEFT" if d.kind == "-" else "RIGHT"
        requested = d.old if side == "LEFT" else d.new
    if requested is None:
        return _review_error("Line could not be resolved")
    line: int = requested
    hunk = file.hunk_for(side, line)
    if hunk is None:
        return _review_error("Line could not be resolved")
    if start_side is not None and start_side not in ("LEFT", "RIGHT"):
        return _review_error(f"start_side must be LEFT or RIGHT, got {start_side!r}")
    if start_line is None and start_side is not None:
        return _review_error("start_side requires start_line")
    if start_line is not None:
        start_side = start_side or side
        if start_side == side and start_line >= line:
            return _review_error("pull_request_review_thread.start_line must precede the end line.")
        if not hunk.has(start_side, start_line):
            if file.hunk_for(start_side, start_line) is None:
                return _review_error("Start line could not be resolved")
            return _review_error("pull_request_review_thread.start_line must be part of the same hunk as the line.")
        start_pos = hunk.find(start_side, start_line)
        end_pos = hunk.find(side, line)
        assert start_pos is not None and end_pos is not None
        if start_pos.position >= end_pos.position:
            return _review_error("pull_request_review_thread.start_line must precede the end line.")
    target = hunk.find(side, line)
    assert target is not None
    return _Placed(
        path=file.filename,
        side=side,
        start_side=start_side,
        line=line,
        start_line=start_line,
        position=target.position,
        diff_hunk=file.diff_hunk(side, line),
        body=body,
    )


def create_review(
    world: World,
    repo: Repository,
    pr: PullRequest,
    user: Account,
    *,
    event: str | None,
    body: str | None,
    commit_id: str | None,
    comments: list[dict[str, Any]],
    strict_commit: bool = True,
) -> Review | Rejection:
    """Validate a whole review like GitHub (all or nothing) and record it with its threads."""
    head = repo.head_sha(pr)
    target = head  # the commit whose diff the comments are placed on
    if commit_id is not None:
        resolved = repo.git.resolve_commit(commit_id)
        if resolved is None:
            return _review_error("No commit found for SHA: " + commit_id)
        if strict_commit and resolved != head:
            return _review_error(f"commit_id {commit_id} is not the head of the pull request ({head})")
        if resolved not in repo.git.rev_list(repo.base_sha(pr), head):
            return _review_error(f"commit_id {commit_id} is not part of the pull request")
        target = resolved
    body = body or ""
    if len(body) > MAX_BODY:
        return _review_error(f"Body is too long (maximum is {MAX_BODY} characters)")
    if event in ("COMMENT", "REQUEST_CHANGES") and not body and not comments:
        return _review_error(f"Review body is required for {event} when there are no comments")
    if event in ("APPROVE", "REQUEST_CHANGES") and user.login.lower() == pr.user.login.lower():
        verb = "approve" if event == "APPROVE" else "request changes on"
        return _review_error(f"Can not {verb} your own pull request")
    if pr.state != "open" and event in ("APPROVE", "REQUEST_CHANGES"):
        return _review_error("Pull request is closed")
    if event is None and any(
        r.state == "PENDING" and r.user.id == user.id for r in repo.reviews.values() if r.pull_number == pr.number
    ):
        return _review_error("User can only have one pending review per pull request")
    diff = world.diff(repo, repo.base_sha(pr), target)
    placed: list[_Placed] = []
    for c in comments:
        file = diff.file(c.get("path", ""))
        if file is None:
            return _review_error("Path could not be resolved")
        p = _place(file, c)
        if isinstance(p, Rejection):
            return p
        placed.append(p)

    now = iso()
    rid = world.ids.next("review")
    review = Review(
        id=rid,
        node_id=node_id("PRR", repo.id, rid),
        repo_id=repo.id,
        pull_number=pr.number,
        user=user,
        body=body,
        state=REVIEW_STATES.get(event or "", "PENDING"),
        event=event,
        commit_id=target,
        submitted_at=None if event is None else now,
    )
    for p in placed:
        cid = world.ids.next("comment")
        thread = ReviewThread(
            id=node_id("PRRT", repo.id, cid),
            database_id=cid,
            repo_id=repo.id,
            pull_number=pr.number,
            path=p.path,
            side=p.side,
            start_side=p.start_side,
            original_line=p.line,
            original_start_line=p.start_line,
            original_commit_id=target,
        )
        comment = ReviewComment(
            id=cid,
            node_id=node_id("PRRC", repo.id, cid),
            repo_id=repo.id,
            pull_number=pr.number,
            review_id=rid,
            thread_id=thread.id,
            path=p.path,
            side=p.side,
            start_side=p.start_side,
            original_line=p.line,
            original_start_line=p.start_line,
            original_position=p.position,
            original_commit_id=target,
            body=p.body,
            user=user,
            created_at=now,
            updated_at=now,
            diff_hunk=p.diff_hunk,
        )
        thread.comment_ids.append(cid)
        review.comment_ids.append(cid)
        repo.comments[cid] = comment
        repo.threads[thread.id] = thread
        world.nodes[thread.id] = ("PullRequestReviewThread", (repo.id, thread.id))
        world.nodes[comment.node_id] = ("PullRequestReviewComment", (repo.id, cid))
    repo.reviews[rid] = review
    world.nodes[review.node_id] = ("PullRequestReview", (repo.id, rid))
    pr.updated_at = now
    return review


# -- where a comment is now ----------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """Where a comment/thread sits in the PR's current diff; all None when it is outdated."""

    line: int | None
    start_line: int | None
    position: int | None

    @property
    def outdated(self) -> bool:
        return self.line is None


def _follow(moves: list[tuple[int, int, int, int]], line: int) -> int | None:
    """Map a line of the old file to the new one through zero-context hunks; None if it changed."""
    offset = 0
    for old_start, old_len, _new_start, new_len in moves:
        if old_len > 0:
            if old_start <= line < old_start + old_len:
                return None
            if line >= old_start + old_len:
                offset += new_len - old_len
                continue
        elif line > old_start:
            offset += new_len
            continue
        break
    return line + offset


def locate(repo: Repository, pr: PullRequest, t: ReviewThread | ReviewComment) -> Location:
    """Follow a comment from the commit it was written on to the PR head, like GitHub does.

    A RIGHT-side line is carried through later commits when it did not change; the comment is
    outdated when its line changed or is no longer part of the PR's diff.
    """
    head = repo.head_sha(pr)
    line: int | None = t.original_line
    start: int | None = t.original_start_line
    if t.original_commit_id != head:
        if t.side == "RIGHT":
            moves = repo.git.line_moves(t.original_commit_id, head, t.path)
            line = _follow(moves, t.original_line)
        if start is not None and (t.start_side or t.side) == "RIGHT":
            moves = repo.git.line_moves(t.original_commit_id, head, t.path)
            start = _follow(moves, start)
            if start is None:
                line = None
    if line is None:
        return Location(None, None, None)
    file = repo.pull_diff(pr).file(t.path)
    hunk = file.hunk_for(t.side, line) if file is not None else None
    if hunk is None:
        return Location(None, None, None)
    if start is not None and not hunk.has(t.start_side or t.side, start):
        return Location(None, None, None)
    target = hunk.find(t.side, line)
    assert target is not None
    return Location(line, start, target.position)


# -- check runs ----------------------------------------------------------------------------------


CHECKS_DOCS = "https://docs.github.com/rest/checks/runs"


def _check_output(output: dict[str, Any] | None) -> Rejection | None:
    if output is None:
        return None
    if not output.get("title"):
        return Rejection('Invalid request.\n\n"title" wasn\'t supplied.', documentation_url=CHECKS_DOCS)
    for key in ("summary", "text"):
        value = output.get(key)
        if isinstance(value, str) and len(value) > MAX_OUTPUT_TEXT:
            return Rejection(
                f"Invalid request.\n\nFor 'properties/{key}', the value is too long "
                f"(maximum is {MAX_OUTPUT_TEXT} characters).",
                documentation_url=CHECKS_DOCS,
            )
    annotations = output.get("annotations") or []
    if len(annotations) > MAX_ANNOTATIONS:
        return Rejection(
            f"Invalid request.\n\nFor 'properties/annotations', a maximum of {MAX_ANNOTATIONS} "
            "annotations can be sent per request.",
            documentation_url=CHECKS_DOCS,
        )
    for a in annotations:
        if a["start_line"] > a["end_line"]:
            return Rejection("Invalid request.\n\nstart_line must be <= end_line.", documentation_url=CHECKS_DOCS)
        if a["start_line"] != a["end_line"] and ("start_column" in a or "end_column" in a):
            return Rejection(
                "Invalid request.\n\nstart_column and end_column may only be given when start_line == end_line.",
                documentation_url=CHECKS_DOCS,
            )
    return None


def _snapshot(run: CheckRun, request: dict[str, Any], method: str) -> dict[str, Any]:
    return {
        "at": iso(),
        "method": method,
        "request": request,
        "status": run.status,
        "conclusion": run.conclusion,
        "output": dict(run.output),
        "annotations_count": len(run.annotations),
    }


def _apply(run: CheckRun, body: dict[str, Any]) -> None:
    now = iso()
    for key in ("name", "external_id", "details_url", "started_at"):
        if key in body:
            setattr(run, key, body[key])
    if "conclusion" in body:
        run.conclusion = body["conclusion"]
        run.status = "completed"
    if "status" in body:
        run.status = body["status"]
        if run.status != "completed":
            run.conclusion = None
            run.completed_at = None
    if run.status == "completed":
        run.completed_at = body.get("completed_at") or run.completed_at or now
    if run.status == "in_progress" and run.started_at is None:
        run.started_at = now
    output = body.get("output")
    if output is not None:
        for key in ("title", "summary", "text"):
            if key in output:
                run.output[key] = output[key]
        run.annotations.extend(dict(a) for a in output.get("annotations") or [])
        run.images.extend(dict(i) for i in output.get("images") or [])
    if "actions" in body:
        run.actions = [dict(a) for a in body["actions"]]


def create_check_run(world: World, repo: Repository, body: dict[str, Any]) -> CheckRun | Rejection:
    """POST /check-runs after schema validation: the head sha must be a commit of the repo."""
    sha = body["head_sha"]
    if repo.git.resolve_commit(sha) != sha.lower():
        return Rejection(f"No commit found for SHA: {sha}", documentation_url=CHECKS_DOCS + "#create-a-check-run")
    if body.get("status") == "completed" and not body.get("conclusion"):
        # Upstream's request schema says so (a oneOf); Octokit's build lost it (disagreements.py).
        return Rejection("Conclusion is required when status is completed", documentation_url=CHECKS_DOCS, contract=True)
    bad = _check_output(body.get("output"))
    if bad:
        return bad
    suite = next((s for s in repo.check_suites.values() if s.head_sha == sha.lower()), None)
    now = iso()
    if suite is None:
        sid = world.ids.next("check_suite")
        branch = next((p.head_ref for p in repo.pulls.values() if repo.head_sha(p) == sha), None)
        suite = CheckSuite(sid, node_id("CS", repo.id, sid), repo.id, sha.lower(), branch, now, now)
        repo.check_suites[sid] = suite
    rid = world.ids.next("check_run")
    run = CheckRun(
        id=rid,
        node_id=node_id("CR", repo.id, rid),
        repo_id=repo.id,
        name=body["name"],
        head_sha=sha.lower(),
        check_suite_id=suite.id,
        status="queued",
        conclusion=None,
        started_at=now,
        completed_at=None,
        external_id=body.get("external_id", ""),
        details_url=body.get("details_url"),
        output={"title": None, "summary": None, "text": None},
        created_seq=world.next_check_seq(),
    )
    _apply(run, body)
    run.history.append(_snapshot(run, body, "POST"))
    suite.updated_at = now
    repo.check_runs[rid] = run
    return run


def update_check_run(world: World, repo: Repository, run: CheckRun, body: dict[str, Any]) -> CheckRun | Rejection:
    """PATCH /check-runs/{id}: annotations accumulate, every version is kept in `history`."""
    status = body.get("status")
    if status == "completed" and not body.get("conclusion") and run.conclusion is None:
        return Rejection("Conclusion is required when status is completed", documentation_url=CHECKS_DOCS)
    bad = _check_output(body.get("output"))
    if bad:
        return bad
    _apply(run, body)
    run.history.append(_snapshot(run, body, "PATCH"))
    repo.check_suites[run.check_suite_id].updated_at = iso()
    return run
