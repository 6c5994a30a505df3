"""The review job: one pull request head in, one review and one completed check run out.

    check run in_progress → policy (default branch) → changed files → module listings →
    blobs (batched, cached) → engine → review comments + resolved threads → check run completed

Posting is idempotent (fingerprints in comments), so a job may safely run again after a crash
or a redelivered webhook: at-least-once delivery never means duplicate comments.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.app.jobs import ReviewJob
from bot.engine.diff import DiffError, FileDiff, parse_file_patch, reconstruct_base
from bot.engine.model import FileError
from bot.engine.parsers import TERRAFORM, classify, module_dir
from bot.engine.policy import POLICY_PATH, Policy, PolicyError, parse_policy
from bot.engine.review import Engine, Review, RuleSet, plan_reads
from bot.engine.tree import MemoryTree
from bot.github.client import MAX_PR_FILES, GitHubApp, GitHubError, InstallationClient, PullFile
from bot.github.review import ReviewPlan, batches, check_output, plan_review, review_body
from rules.registry import default_rule_set

log = logging.getLogger(__name__)

ATTEMPTS = 3
ATTEMPT_BACKOFF_SECONDS = 2.0
# GitHub sends both `pull_request.opened` and `check_suite.requested` for a new head: the second
# is skipped when this process reviewed that head moments ago. Explicit re-runs always run.
RECENT_HEAD_SECONDS = 600.0
RERUN_TRIGGERS = frozenset({"check_suite.rerequested", "check_run.rerequested", "check_run.requested_action"})


class BlobCache:
    """Blob texts by oid: a blob's content never changes, so it is safe to share across jobs."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._items: OrderedDict[str, str | None] = OrderedDict()
        self._bytes = 0
        self._max = max_bytes

    def get_many(self, oids: Sequence[str]) -> tuple[dict[str, str | None], list[str]]:
        found, missing = {}, []
        for oid in oids:
            if oid in self._items:
                self._items.move_to_end(oid)
                found[oid] = self._items[oid]
            else:
                missing.append(oid)
        return found, missing

    def put(self, oid: str, text: str | None) -> None:
        if oid in self._items:
            return
        size = len(text or "")
        if size > self._max:
            return
        self._items[oid] = text
        self._bytes += size
        while self._bytes > self._max:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped or "")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReviewRunner:
    """Runs review jobs for one App; owns the caches that outlive a job."""

    def __init__(self, app: GitHubApp, check_name: str, rule_set: RuleSet | None = None) -> None:
        self.app = app
        self.check_name = check_name
        self.rule_set = rule_set or default_rule_set()
        self.blobs = BlobCache()
        self._recent_heads: dict[tuple[str, str], float] = {}

    def _reviewed_recently(self, job: ReviewJob) -> bool:
        now = time.monotonic()
        for key, at in list(self._recent_heads.items()):
            if now - at > RECENT_HEAD_SECONDS:
                del self._recent_heads[key]
        return job.trigger not in RERUN_TRIGGERS and (job.full_name.lower(), job.head_sha) in self._recent_heads

    async def __call__(self, job: ReviewJob) -> None:
        """Run a job, retrying transient GitHub failures; fail the check run closed otherwise."""
        if self._reviewed_recently(job):
            log.info("skipping %s: head %s was just reviewed", job.trigger, job.head_sha[:12])
            return
        await self._run(job)
        self._recent_heads[(job.full_name.lower(), job.head_sha)] = time.monotonic()

    async def _run(self, job: ReviewJob) -> None:
        check_run_id: int | None = None
        async with self.app.installation(job.installation_id) as gh:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    if check_run_id is None:
                        check_run_id = await self._start_check(gh, job)
                    await self._review(gh, job, check_run_id)
                    return
                except GitHubError as exc:
                    log.warning("review %s attempt %d failed: %s", job.dedup_key, attempt, exc)
                    if not exc.transient or attempt == ATTEMPTS:
                        await self._fail_check(gh, job, check_run_id, str(exc))
                        raise
                    await asyncio.sleep(ATTEMPT_BACKOFF_SECONDS * attempt)
                except Exception as exc:
                    # A bug must not leave the required check "in progress" forever: fail it closed.
                    log.exception("review %s failed unexpectedly", job.dedup_key)
                    await self._fail_check(gh, job, check_run_id, f"internal error ({type(exc).__name__})")
                    raise

    async def _start_check(self, gh: InstallationClient, job: ReviewJob) -> int:
        return await gh.create_check_run(job.owner, job.repo, {
            "name": self.check_name,
            "head_sha": job.head_sha,
            "status": "in_progress",
            "started_at": _now(),
            "external_id": job.delivery_id[:255],
            "output": {"title": "Reviewing", "summary": "Compliance Bot is reviewing the infrastructure changes."},
        })

    async def _fail_check(self, gh: InstallationClient, job: ReviewJob, check_run_id: int | None, why: str) -> None:
        if check_run_id is None:
            return
        try:
            await self._complete(gh, job, check_run_id, "failure", "Review could not finish",
                                 f"The review failed and the check fails closed: {why}\n\n"
                                 "Re-run the check from the Checks tab once GitHub is reachable.", "", [])
        except GitHubError as exc:
            log.error("could not mark check run %s failed: %s", check_run_id, exc)

    async def _complete(self, gh: InstallationClient, job: ReviewJob, check_run_id: int, conclusion: str,
                        title: str, summary: str, text: str, annotations: list[dict[str, Any]]) -> None:
        """Send annotations 50 per request; the last request completes the run."""
        chunks = batches(annotations)
        for chunk in chunks[:-1]:
            await gh.update_check_run(job.owner, job.repo, check_run_id, {
                "output": {"title": title, "summary": summary, "annotations": chunk},
            })
        output: dict[str, Any] = {"title": title, "summary": summary, "annotations": chunks[-1]}
        if text:
            output["text"] = text
        await gh.update_check_run(job.owner, job.repo, check_run_id, {
            "status": "completed", "conclusion": conclusion, "completed_at": _now(), "output": output,
        })

    async def _review(self, gh: InstallationClient, job: ReviewJob, check_run_id: int) -> None:
        owner, repo = job.owner, job.repo
        try:
            policy = parse_policy(await gh.get_file_text(owner, repo, POLICY_PATH, job.default_branch))
        except PolicyError as exc:
            await self._complete(gh, job, check_run_id, "failure", "Invalid compliance policy",
                                 f"The policy on `{job.default_branch}` could not be read: {exc}", "", [])
            return
        if job.is_draft and not policy.review_drafts:
            await self._complete(gh, job, check_run_id, "neutral", "Draft pull request: not reviewed yet",
                                 "Drafts are reviewed when marked ready for review (set `drafts: true` in "
                                 f"`{POLICY_PATH}` to review them earlier).", "", [])
            return
        files = await gh.list_pull_files(owner, repo, job.pull_number)
        diffs, errors = _diffs(files)
        head, base = await self._trees(gh, job, files, diffs, policy)
        engine = Engine(self.rule_set, policy)
        review = await asyncio.to_thread(engine.review_change, diffs, head, base)
        review.errors[:0] = errors
        if len(files) >= MAX_PR_FILES:
            review.notes.append(f"GitHub lists at most {MAX_PR_FILES:,} changed files of a pull request; "
                                "files beyond that were not reviewed. Split the change to review it all.")
        if any(f.path == POLICY_PATH for f in files):
            review.notes.append(f"This pull request changes `{POLICY_PATH}`: the new policy applies after merge; "
                                f"this review used the one on `{job.default_branch}`.")
        await self._report(gh, job, check_run_id, review, policy, diffs)

    async def _trees(self, gh: InstallationClient, job: ReviewJob, files: Sequence[PullFile],
                     diffs: Sequence[FileDiff], policy: Policy) -> tuple[MemoryTree, MemoryTree]:
        """Fetch exactly what the engine will read: changed files plus their Terraform modules."""
        modules = {module_dir(d.path) for d in diffs if classify(d.path) == TERRAFORM and not policy.ignores(d.path)}
        entries = await gh.list_directories(job.owner, job.repo, job.head_sha, modules) if modules else []
        oid_by_path = {e.path: e.oid for e in entries if e.type == "blob"}
        oid_by_path.update({f.path: f.sha for f in files if f.sha and f.status != "removed"})
        plan = plan_reads(diffs, oid_by_path.keys(), policy)
        wanted = {p: oid_by_path[p] for p in plan.head if p in oid_by_path}
        texts, missing = self.blobs.get_many(sorted(set(wanted.values())))
        if missing:
            missing_set = set(missing)
            fetched = await gh.get_file_texts(job.owner, job.repo, job.head_sha,
                                              {p: oid for p, oid in wanted.items() if oid in missing_set})
            for oid, text in fetched.items():
                self.blobs.put(oid, text)
            texts.update(fetched)
        head = MemoryTree({p: texts.get(oid_by_path[p]) for p in plan.head if p in oid_by_path}, oid_by_path.keys())
        base: dict[str, str | None] = {}
        for diff in diffs:
            if diff.base_path in plan.base and diff.complete:
                head_text = "" if not diff.exists_at_head else head.read(diff.path)
                if head_text is None:
                    continue
                try:
                    base[diff.base_path] = reconstruct_base(head_text, diff)
                except DiffError as exc:
                    log.info("%s: base not rebuilt: %s", diff.path, exc)
        return head, MemoryTree(base)

    async def _report(self, gh: InstallationClient, job: ReviewJob, check_run_id: int, review: Review,
                      policy: Policy, diffs: Sequence[FileDiff]) -> None:
        blocks = {f.fingerprint: policy.blocks(f) for f in review.findings}
        plan = await self._post_review(gh, job, review, policy, diffs, sum(blocks.values()))
        unresolved = 0
        for thread_id in plan.resolve_thread_ids:
            try:
                await gh.resolve_thread(thread_id)
            except GitHubError as exc:  # a thread left open is untidy, not a reason to fail the check
                if exc.transient:
                    raise
                unresolved += 1
                log.info("could not resolve thread %s: %s", thread_id, exc)
        if unresolved:
            review.notes.append(f"{unresolved} thread(s) of fixed findings could not be resolved automatically.")
        output = check_output(review.findings, review.errors, review.notes, blocks, plan, review.conclusion(policy))
        await self._complete(gh, job, check_run_id, output.conclusion, output.title, output.summary, output.text,
                             output.annotations)
        log.info("reviewed %s: %s, %d finding(s), %d comment(s), %d resolved", job.dedup_key, output.conclusion,
                 len(review.findings), len(plan.comments), len(plan.resolve_thread_ids))


    async def _post_review(self, gh: InstallationClient, job: ReviewJob, review: Review, policy: Policy,
                           diffs: Sequence[FileDiff], blocking: int) -> ReviewPlan:
        """Post new comments once: after an ambiguous failure, re-read the threads and re-plan,
        so a review GitHub created despite the error is never posted twice."""
        by_path = {d.path: d for d in diffs}
        for attempt in range(1, ATTEMPTS + 1):
            threads = await gh.list_review_threads(job.owner, job.repo, job.pull_number)
            plan = plan_review(review.findings, by_path, threads, policy.max_comments)
            if not plan.comments:
                return plan
            try:
                await gh.create_review(job.owner, job.repo, job.pull_number, job.head_sha,
                                       review_body(plan, blocking), [comment for _, comment in plan.comments])
                return plan
            except GitHubError as exc:
                if exc.status == 422:
                    # The head moved under us or GitHub disagrees about the diff: never lose the
                    # findings, they are all in the check run.
                    review.notes.append(f"Inline comments could not be posted ({exc}); see the annotations.")
                    plan.comments.clear()
                    return plan
                if not exc.transient or attempt == ATTEMPTS:
                    raise
                log.warning("posting the review for %s failed (%s); re-reading threads", job.dedup_key, exc)
                await asyncio.sleep(ATTEMPT_BACKOFF_SECONDS * attempt / 2)
        raise AssertionError("unreachable")


def _diffs(files: Sequence[PullFile]) -> tuple[list[FileDiff], list[FileError]]:
    diffs: list[FileDiff] = []
    errors: list[FileError] = []
    for f in files:
        try:
            diffs.append(parse_file_patch(f.path, f.patch, f.status, f.previous_path))
        except DiffError as exc:
            errors.append(FileError(f.path, None, str(exc)))
    return diffs, errors


def make_handler(settings: Any) -> Callable[[ReviewJob], Awaitable[None]]:
    """The job handler the server's worker calls, built once per process from the settings."""
    app = GitHubApp(settings.app_id, settings.private_key.get_secret_value(), settings.github_api_url,
                    settings.http_timeout)
    return ReviewRunner(app, settings.check_name)
