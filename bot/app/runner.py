"""The review job: one pull request head in, one review and one completed check run out.

    lease (one job per pull request) → the pull request now and the policy in force (the
    repository's and its organisation's, from default branches: `bot.app.policy_source`)
    → the organisation's custom rules (its `.github` repository's default branch)
    → approvals at the head by approver teams (when the policy names any) → review key
    → check run found again, or created → files changed at this head
    → engine (reads the head through GitHubTree) → review planned from the threads on GitHub
    → check run completed

Idempotence in two sentences: the queue drops a delivery id it has seen; a review is keyed by
(repository, PR, head, base branch, policy blobs and the facts they were resolved with, engine
version, approvals) and its check run is found again on GitHub by that key, so a job whose review
is done does nothing and a job that died is finished by the next (an approval or a dismissal by an
approver team member changes the key, so it is reviewed again), while posting is planned from the
comments already on GitHub. With Redis
the per-PR lease spans processes, so two servers never review one head at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import __version__
from bot.app.context import JobContext
from bot.app.custom_rules import OrgRules, OrgRulesCache
from bot.app.engine_process import EnginePool, EngineWork, OverBudget, shared_pool
from bot.app.evidence_store import REVIEW, EvidenceStore, EvidenceStoreError, open_store
from bot.app.heads import Heads
from bot.app.jobs import JobFailed, ReviewJob
from bot.app.lease import LeaseLost, Leases, LocalLeases, RedisLeases
from bot.app.logs import job_scope
from bot.app.metrics import Metrics, process_metrics
from bot.app.policy_source import PolicySource as PolicyFiles
from bot.app.report_pages import ReportStore, open_reports
from bot.app.retries import RetryScheduler, cause_in_words, next_attempt
from bot.app.review_key import ReviewKey
from bot.app.shared_cache import SharedCache, cache_for
from bot.app.worker import stopped_by_shutdown
from bot.engine.diff import FileDiff
from bot.engine.exceptions import Approval, ExceptionSettings
from bot.engine.model import FileError, NotReviewed
from bot.engine.policy import POLICY_PATH, Policy, PolicyProblem
from bot.engine.review import Engine, Review, RuleSet, conclusion_of
from bot.engine.tree import PatchedBase
from bot.github.approvals import approvals_at_head
from bot.github.blobs import BlobCache, SharedBlobs
from bot.github.checks import CheckOutput, batches, check_output, with_evidence
from bot.github.client import GitHubApp, GitHubError
from bot.github.files import HeadChanges, changes_at_head, compared, diffs_of, listed_blobs
from bot.github.org_rules import ORG_REPOSITORY
from bot.github.records import CheckRunInfo, PullRequestInfo
from bot.github.review import ReviewPlan, plan_review, review_body
from bot.github.tokens import InstallationTokens
from bot.github.tree import GitHubTree, StaleListing
from bot.report.evidence import PolicySource, Subject, build_evidence
from bot.report.evidence_block import EvidenceUnreadable, parse_evidence_block
from bot.report.report_page import ControlNames, report_data
from rules.registry import default_rule_set, load_framework_files, with_custom_rules
from rules.spec.custom import CUSTOM_RULES_DIR

log = logging.getLogger(__name__)

ATTEMPTS = 3
ATTEMPT_BACKOFF_SECONDS = 2.0
INTERRUPTED_TITLE = "Interrupted; re-queued"
REQUEUE_SECONDS = 4.0  # within the worker's wait for a cancelled job (cancel_timeout, 5 s)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class JobRecord:
    """What the job knows beside the engine's frozen `Review`: its own errors (unreadable
    patches), notes, what it could not review at all (which fails the check), and entries it
    adds to the engine's not-reviewed list (shown the same way; failing only by policy), and the
    settings of the repository's policy its organisation's refused (each fails the check)."""

    errors: list[FileError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    not_reviewed: list[NotReviewed] = field(default_factory=list)
    policy_problems: list[PolicyProblem] = field(default_factory=list)  # refused settings: the check fails


@dataclass(frozen=True)
class Reviewed:
    """The engine's review of one head and the listing it was made from."""

    review: Review
    diffs: tuple[FileDiff, ...]
    diff_errors: tuple[FileError, ...]
    changes: HeadChanges


class ReviewRunner:
    """Runs review jobs for one App; owns what outlives a job (verified blob cache, parsed policy
    files by commit, leases)."""

    def __init__(self, app: GitHubApp, check_name: str, rule_set: RuleSet | None = None,
                 leases: Leases | None = None, evidence: EvidenceStore | None = None,
                 engines: EnginePool | None = None, hands_back: bool = False,
                 shared: SharedCache | None = None, metrics: Metrics | None = None,
                 reports: ReportStore | None = None, public_url: str | None = None) -> None:
        """`reports` and `public_url`: where report pages are kept and the server's public base URL;
        with both, each completed check run's details_url opens its report page."""
        self.app = app
        self.hands_back = hands_back  # a stopped job goes back to a shared queue (Redis) for another worker
        self.check_name = check_name
        # A rule set given here cannot cross to an engine process (compiled rules do not pickle):
        # the engine then runs in a thread, without a budget. The App never does that.
        self.in_thread = rule_set is not None
        self._rule_set = rule_set  # the built-in rules are loaded at the first review (see `rule_set`)
        self.engines = engines or shared_pool()
        self.leases = leases or LocalLeases()
        self.blobs = BlobCache()
        # Policy files and blob texts shared by every process on one Redis (`bot.app.shared_cache`);
        # None: this process's caches only.
        self.shared = shared
        self.shared_blobs = SharedBlobs(shared) if shared is not None else None
        self.org_rules = OrgRulesCache()
        self.evidence = evidence  # where each completed check run's evidence record is appended
        self.policies = PolicyFiles(shared=shared)
        # Where a transient failure sends the job to be tried later (`bot.app.retries`); None: a
        # few attempts in this call, then the check fails (a runner used on its own, as in tests).
        self.retries: RetryScheduler | None = None
        # The latest head per pull request (`bot.app.heads`): a job for an older head stops early.
        self.heads: Heads | None = None
        self.metrics = metrics or process_metrics()
        self.reports = reports  # the server reads its pages from here too (one process without Redis)
        self.public_url = public_url.rstrip("/") if public_url else None

    @property
    def rule_set(self) -> RuleSet:
        """The rules reviews run with, loaded when first needed: a web-only server (`serve
        --no-worker`) holds a runner for its sweeper and reports but reviews nothing, and the rule
        catalogue is most of a process's start-up and of the heap its collector walks."""
        if self._rule_set is None:
            self._rule_set = default_rule_set()
        return self._rule_set

    def prepare(self) -> None:
        """Load the rules now (a process that reviews calls this at start-up, off the event loop)."""
        _ = self.rule_set

    async def aclose(self) -> None:
        await self.leases.aclose()
        close = getattr(self.shared, "aclose", None)
        if close is not None:
            await close()
        if self.reports is not None:
            await self.reports.aclose()
        if self.engines is not shared_pool():
            await self.engines.aclose()

    async def __call__(self, job: ReviewJob) -> None:
        """Review `job`'s head once: retry passing GitHub failures, fail the check closed otherwise."""
        with job_scope(job.delivery_id, job.full_name, job.pull_number, job.head_sha):
            async with self.leases.hold(job.pull_request_key) as lease, \
                    self.app.installation(job.installation_id) as gh:
                await self._attempts(JobContext(job, gh, lease))

    async def _attempts(self, ctx: JobContext) -> None:
        attempts = 1 if self.retries is not None else ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                await self._review(ctx)
                return
            except LeaseLost:
                log.error("stopped: the lease expired; whoever holds it now finishes the check run")
                raise
            except asyncio.CancelledError:
                if stopped_by_shutdown():
                    await self._requeue_check(ctx)  # the worker hands the job back; the next one resumes this run
                else:  # its time-out, or its caller went away: nobody runs it again
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(REQUEUE_SECONDS):
                            await self._fail_check(ctx, "the review was stopped before it finished (it took longer "
                                                        "than the worker allows for one job)")
                raise
            except GitHubError as exc:
                log.warning("attempt %d failed: %s", ctx.job.retry + attempt, exc)
                if exc.transient and await self._retry_later(ctx, exc):
                    return
                if not exc.transient or attempt == attempts:
                    cause = cause_in_words(exc) if exc.transient else str(exc)
                    await self._fail_check(ctx, cause)
                    if exc.transient and self.retries is not None:
                        await self.retries.dead_letter(ctx.job, cause)
                    raise JobFailed(cause) from exc
                await asyncio.sleep(ATTEMPT_BACKOFF_SECONDS * attempt)
            except Exception:
                # A bug must not leave the required check "in progress" forever: fail it closed.
                log.exception("review failed unexpectedly")
                await self._fail_check(ctx, "internal error in Compliance Bot: the review could not finish (the App's log has the details; please report it)")
                raise

    async def _retry_later(self, ctx: JobContext, exc: GitHubError) -> bool:
        """Re-schedule the job after a transient failure; False when no attempt is left (or no
        scheduler). The retry finds the check run again by its external id; a long rate-limit wait
        is said on it meanwhile."""
        job = ctx.job
        if self.retries is None or not self.retries.policy.allows(job):
            return False
        retry = next_attempt(job)
        delay = self.retries.policy.delay(retry.retry, exc)
        try:
            await self.retries.schedule(retry, delay)
        except Exception as scheduling:  # noqa: BLE001 - Redis away too: fail the check now instead
            log.error("could not schedule retry %d (%s: %s)", retry.retry, type(scheduling).__name__, scheduling)
            return False
        log.warning("retry %d of %d in %.0fs: %s", retry.retry, self.retries.policy.attempts - 1, delay, exc)
        if exc.rate_limited and delay >= self.retries.policy.announce_after:
            await self._announce_wait(ctx, delay)
        return True

    async def _announce_wait(self, ctx: JobContext, delay: float) -> None:
        """Say on the check run that the review waits for GitHub's rate limit, and until when: an hour
        of "in progress" with nothing happening looks like a hang. Best effort: GitHub may refuse
        this call too while the limit lasts (the run then stays as it was, and is completed by the
        retry either way)."""
        if ctx.check_run_id is None:
            return
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)).strftime("%H:%M UTC")
        update = {"status": "queued", "output": {
            "title": f"Waiting for GitHub's rate limit until {until}",
            "summary": f"GitHub's API rate limit for this installation is used up; the review is scheduled to "
                       f"continue when it resets, at about {until}. Nothing to do: this check completes by itself."}}
        try:
            async with asyncio.timeout(REQUEUE_SECONDS):
                await ctx.gh.update_check_run(ctx.job.owner, ctx.job.repo, ctx.check_run_id, update)
        except (GitHubError, TimeoutError) as exc:
            log.info("could not say on check run %d that the review waits for the rate limit (%s)",
                     ctx.check_run_id, exc)

    async def _review(self, ctx: JobContext) -> None:
        job, gh = ctx.job, ctx.gh
        pull = (PullRequestInfo(0, "open", False, job.head_sha, job.base_ref, job.base_sha) if job.is_merge_group
                else await gh.get_pull(job.owner, job.repo, job.pull_number))
        newer = await self._superseded_by(ctx, pull.head_sha)
        if newer:
            await self._complete_superseded(ctx, newer)
            return
        loaded = await self.policies.load(gh, job.owner, job.repo, job.default_branch)
        policy = loaded.policy
        draft = pull.draft and not policy.review_drafts and not loaded.problems
        org_rules = await self.org_rules.load(gh, job.owner)
        rule_set = with_custom_rules(self.rule_set, org_rules.rules.rules)
        digest = rule_set.digest + (f".{org_rules.rules.digest}" if org_rules.rules.digest else "")
        approvals: tuple[Approval, ...] = ()
        if not loaded.problems and not draft:  # the approvals a review depends on are part of its key
            teams = ExceptionSettings.from_mapping(policy.exceptions_settings).approvers
            approvals = await approvals_at_head(gh, job.owner, job.repo, job.pull_number, job.head_sha, teams)
        key = ReviewKey(job.full_name, job.pull_number, job.head_sha, pull.base_ref, loaded.key, digest,
                        mode="draft" if draft else "review", rerun=job.delivery_id if job.is_rerun else "",
                        approvals=",".join(f"{a.login.lower()}:{a.review_id}" for a in approvals))
        ctx.base_sha, ctx.policy, ctx.review_key = pull.base_sha, policy, key.external_id
        ctx.policy_source = PolicySource(POLICY_PATH, loaded.file_oid)
        if not await self._claim_check_run(ctx, key):
            log.info("already reviewed (%s): nothing to do", key)
            return
        if loaded.problems:
            listed = "\n".join(f"- {problem}" for problem in loaded.problems)
            await self._complete(ctx, "failure", "Invalid compliance policy",
                                 f"The compliance policy (on the default branch `{job.default_branch}`, and the "
                                 f"organisation's where there is one) could not be read, so nothing was reviewed:\n\n"
                                 f"{listed}\n\nFix the file on its default branch; the check runs again on the next "
                                 "push or re-run.")
            return
        if draft:
            await self._complete(ctx, "neutral", "Draft pull request: not reviewed yet",
                                 "Drafts are reviewed when marked ready for review (set `drafts: true` in "
                                 f"`{POLICY_PATH}` to review them earlier).")
            return
        try:
            reviewed = await self._run_engine(ctx, pull, policy, rule_set, org_rules, approvals)
        except OverBudget as exc:
            await self._complete(ctx, "failure", f"Review exceeded its {exc.what} budget",
                                 f"The {exc}, so it was stopped and the check fails "
                                 "closed. Split the change, or exclude generated files with `paths.ignore` in "
                                 f"`{POLICY_PATH}`.")
            return
        record = JobRecord(errors=list(reviewed.diff_errors), notes=list(loaded.resolved.notes),
                           policy_problems=list(loaded.resolved.problems))
        changes = reviewed.changes
        if changes.truncated:
            record.incomplete.append(
                f"GitHub lists at most {changes.limit:,} changed files here; files beyond that were not "
                "reviewed. Split the change to review it all.")
        if job.is_merge_group:
            record.notes.append(f"This check reviews the merge queue's group: the changes from `{job.base_sha[:12]}` "
                                f"(`{job.base_ref}`) to `{job.head_sha[:12]}`. Inline comments stay on the pull "
                                "requests' own reviews.")
        elif not changes.current:
            record.notes.append("The pull request moved on to a newer head while this one waited; this check "
                                "covers this commit, inline comments are left to the newer head's review.")
        if any(f.path == POLICY_PATH for f in changes.files):
            record.notes.append(f"This pull request changes `{POLICY_PATH}`: the new policy applies after merge; "
                                f"this review used the one on `{job.default_branch}`.")
        if job.repo == ORG_REPOSITORY and any(f.path.startswith(f"{CUSTOM_RULES_DIR}/") for f in changes.files):
            record.notes.append(f"This pull request changes custom rules in `{CUSTOM_RULES_DIR}`: they apply after "
                                f"merge; this review used the ones on `{job.default_branch}` (try the new ones with "
                                f"`compliance-bot rules test {CUSTOM_RULES_DIR}`).")
        await self._report(ctx, reviewed, record, policy, org_rules)
        log.info("reviewed (%s)", key)

    async def _claim_check_run(self, ctx: JobContext, key: ReviewKey) -> bool:
        """Find this review's check run again, or create it; False when it is already completed."""
        job = ctx.job
        runs = await ctx.gh.list_check_runs(job.owner, job.repo, job.head_sha, self.check_name)
        latest = runs[0] if runs else None
        if latest is not None and latest.external_id == key.external_id:
            if latest.status == "completed":
                await self._recover_evidence(latest)
                return False
            log.info("resuming check run %d, left %s by an earlier attempt", latest.id, latest.status)
            ctx.check_run_id = latest.id
            return True
        ctx.lease.check()
        ctx.check_run_id = await ctx.gh.create_check_run(job.owner, job.repo, {
            "name": self.check_name,
            "head_sha": job.head_sha,
            "status": "in_progress",
            "started_at": _now(),
            "external_id": key.external_id,
            "output": {"title": "Reviewing", "summary": "Compliance Bot is reviewing the infrastructure changes."},
        })
        return True

    async def _run_engine(self, ctx: JobContext, pull: PullRequestInfo, policy: Policy, rule_set: RuleSet,
                          org_rules: OrgRules, approvals: tuple[Approval, ...] = ()) -> Reviewed:
        """Run the engine on the head's changes (in an engine process, under its budget); a listing
        found stale is replaced by a comparison anchored at this head, and the review starts over on it."""
        job = ctx.job
        changes = (await compared(ctx.gh, job.owner, job.repo, job.base_sha, job.head_sha) if job.is_merge_group
                   else await changes_at_head(ctx.gh, job.owner, job.repo, pull, job.head_sha))
        while True:
            diffs, diff_errors = diffs_of(changes.files)
            tree = GitHubTree(ctx.gh, job.owner, job.repo, job.head_sha, listed=listed_blobs(changes.files),
                              cache=self.blobs, loop=asyncio.get_running_loop(), shared=self.shared_blobs)
            try:
                if self.in_thread:
                    engine = Engine(rule_set, policy, approvals=approvals)
                    review = await asyncio.to_thread(engine.review_change, diffs, tree, PatchedBase(tree, diffs))
                else:
                    work = EngineWork(tuple(diffs), policy, org_rules.texts if org_rules.rules.rules else {},
                                      org_rules.rules.digest, approvals)
                    review = await self.engines.review(work, tree)
            except StaleListing as exc:
                if not changes.current:
                    raise
                log.warning("the file listing describes another head (%s); comparing at this head instead", exc)
                changes = await compared(ctx.gh, job.owner, job.repo, pull.base_sha, job.head_sha)
                continue
            return Reviewed(review, tuple(diffs), tuple(diff_errors), changes)

    async def _report(self, ctx: JobContext, reviewed: Reviewed, record: JobRecord, policy: Policy,
                      org_rules: OrgRules) -> None:
        newer = await self._superseded_by(ctx)
        if newer:  # checked again before posting: the head moved on while the engine ran
            await self._finish(ctx, "neutral", f"Superseded by {newer[:12]}", _superseded_summary(newer))
            return
        review = reviewed.review
        blocks = {f.fingerprint: policy.blocks(f) for f in review.findings}
        plan: ReviewPlan | None = None
        if reviewed.changes.current:
            plan = await self._post_review(ctx, review, policy, reviewed.diffs, record, sum(blocks.values()))
            await self._resolve_fixed(ctx, plan, record)
        errors = [*record.errors, *review.errors]
        not_reviewed = [*review.not_reviewed, *record.not_reviewed]
        refused = org_rules.errors  # a custom rule that is not what it says fails the check, never skipped
        conclusion = ("failure" if record.incomplete or refused or record.policy_problems
                      else conclusion_of(review.findings, errors, policy, not_reviewed))
        output = await check_output_off_loop(
            review.findings, errors, [*review.notes, *record.notes], blocks, plan, conclusion, record.incomplete,
            not_reviewed, {n for n in not_reviewed if policy.fails_for(n)}, refused, org_rules.repository,
            record.policy_problems, review.exceptions)
        await self._complete(ctx, output.conclusion, output.title, output.summary, output.text, output.annotations,
                             review, errors, not_reviewed, notes=[*review.notes, *record.notes])
        log.info("%s: %d finding(s), %d comment(s), %d thread(s) resolved", output.conclusion, len(review.findings),
                 len(plan.comments) if plan else 0, len(plan.resolve_thread_ids) if plan else 0)

    async def fail_abandoned(self, job: ReviewJob, cause: str) -> None:
        """The queue gave `job` up (its workers kept dying on it): complete the unfinished check
        runs of its head `failure` with `cause`, so the required check does not stay queued."""
        with job_scope(job.delivery_id, job.full_name, job.pull_number, job.head_sha):
            async with self.leases.hold(job.pull_request_key) as lease, \
                    self.app.installation(job.installation_id) as gh:
                for run in await gh.list_check_runs(job.owner, job.repo, job.head_sha, self.check_name):
                    if run.status == "completed":
                        continue
                    ctx = JobContext(job, gh, lease, check_run_id=run.id, review_key=run.external_id or None)
                    await self._complete(ctx, "failure", "Review could not finish",
                                         f"The review failed and the check fails closed: {cause}.\n\n"
                                         "Re-run the check from the Checks tab; if it fails again, the change may "
                                         "be too large to review (split it, or exclude generated files with "
                                         f"`paths.ignore` in `{POLICY_PATH}`).")
                    log.error("given up after repeated worker failures: check run %d completed failure", run.id)

    async def _superseded_by(self, ctx: JobContext, github_head: str | None = None) -> str:
        """The newer head that supersedes this job's, or "". Both the shared record and GitHub must
        say so: deliveries may arrive out of order, and a head GitHub still names is reviewed."""
        job = ctx.job
        if self.heads is None or job.is_rerun or job.is_merge_group:
            return ""
        try:
            latest = await self.heads.latest(job)
        except Exception as exc:  # noqa: BLE001 - without the record, review as if it were latest
            log.warning("latest head unknown (%s); reviewing this one", type(exc).__name__)
            return ""
        if latest is None or latest == job.head_sha:
            return ""
        if github_head is None:
            github_head = (await ctx.gh.get_pull(job.owner, job.repo, job.pull_number)).head_sha
        return github_head if github_head != job.head_sha else ""

    async def _complete_superseded(self, ctx: JobContext, newer: str) -> None:
        """Stop before any work: complete this head's unfinished check runs `neutral` (an earlier
        attempt's, or a re-run's), create none."""
        job = ctx.job
        log.info("superseded by %s: not reviewed", newer[:12])
        for run in await ctx.gh.list_check_runs(job.owner, job.repo, job.head_sha, self.check_name):
            if run.status != "completed":
                ctx.check_run_id = run.id
                await self._finish(ctx, "neutral", f"Superseded by {newer[:12]}", _superseded_summary(newer))

    async def _finish(self, ctx: JobContext, conclusion: str, title: str, summary: str) -> None:
        """Complete the claimed check run with no review in it."""
        if ctx.check_run_id is not None:
            await self._complete(ctx, conclusion, title, summary)

    async def _resolve_fixed(self, ctx: JobContext, plan: ReviewPlan, record: JobRecord) -> None:
        unresolved = 0
        for thread_id in plan.resolve_thread_ids:
            ctx.lease.check()
            try:
                await ctx.gh.resolve_thread(thread_id)
            except GitHubError as exc:  # a thread left open is untidy, not a reason to fail the check
                if exc.transient:
                    raise
                unresolved += 1
                log.info("could not resolve thread %s: %s", thread_id, exc)
        if unresolved:
            record.notes.append(f"{unresolved} thread(s) of fixed findings could not be resolved automatically.")

    async def _post_review(self, ctx: JobContext, review: Review, policy: Policy, diffs: Sequence[FileDiff],
                           record: JobRecord, blocking: int) -> ReviewPlan:
        """Post new comments once: after an ambiguous failure, re-read the threads and re-plan,
        so a review GitHub created despite the error is never posted twice."""
        job = ctx.job
        by_path = {d.path: d for d in diffs}
        for attempt in range(1, ATTEMPTS + 1):
            threads = await ctx.gh.list_review_threads(job.owner, job.repo, job.pull_number)
            plan = plan_review(review.findings, by_path, threads, policy.max_comments)
            if not plan.comments:
                return plan
            ctx.lease.check()
            try:
                await ctx.gh.create_review(job.owner, job.repo, job.pull_number, job.head_sha,
                                           review_body(plan, blocking), [comment for _, comment in plan.comments])
                return plan
            except GitHubError as exc:
                if exc.status == 422:
                    # GitHub disagrees about the diff: never lose the findings, they are all in the check run.
                    record.notes.append(f"Inline comments could not be posted ({exc}); see the annotations.")
                    plan.comments.clear()
                    return plan
                if not exc.transient or attempt == ATTEMPTS:
                    raise
                log.warning("posting the review failed (%s); re-reading threads", exc)
                await asyncio.sleep(ATTEMPT_BACKOFF_SECONDS * attempt / 2)
        raise AssertionError("unreachable")

    async def _requeue_check(self, ctx: JobContext) -> None:
        """The job was stopped (shutdown) before it finished; its check run is never left "in progress".

        With Redis the worker hands the job back: the run goes back to `queued`, and the worker
        that takes the job finds it by its key and completes it. In one process nobody takes it:
        the run is completed `neutral` and loses the review's key, so the next delivery for this
        head (a re-run, a redelivery) reviews it in a new run instead of taking it for done."""
        if ctx.check_run_id is None:
            return
        job = ctx.job
        update: dict[str, Any] = {
            "status": "queued",
            "output": {"title": INTERRUPTED_TITLE,
                       "summary": "The review was interrupted (a worker stopped) and is queued again: another "
                                  "worker finishes it."},
        } if self.hands_back else {
            "status": "completed", "conclusion": "neutral", "completed_at": _now(),
            "external_id": f"{ctx.review_key or ''}:interrupted",
            "output": {"title": "Interrupted: not reviewed",
                       "summary": "Compliance Bot stopped before this review finished. Re-run the check from the "
                                  "Checks tab (or push) to review this head."},
        }
        try:
            async with asyncio.timeout(REQUEUE_SECONDS):
                await ctx.gh.update_check_run(job.owner, job.repo, ctx.check_run_id, update)
            log.info("check run %d %s: the job was stopped", ctx.check_run_id,
                     "set back to queued" if self.hands_back else "completed neutral")
        except (GitHubError, TimeoutError) as exc:
            log.error("could not update check run %d of the stopped job (%s); the next job completes it",
                      ctx.check_run_id, exc)

    async def _fail_check(self, ctx: JobContext, why: str) -> None:
        if ctx.check_run_id is None:
            return
        try:
            await self._complete(ctx, "failure", "Review could not finish",
                                 f"The review failed and the check fails closed: {why}\n\n"
                                 "Re-run the check from the Checks tab once GitHub is reachable.")
        except (GitHubError, LeaseLost) as exc:
            log.error("could not mark check run %s failed: %s", ctx.check_run_id, exc)

    async def _complete(self, ctx: JobContext, conclusion: str, title: str, summary: str, text: str = "",
                        annotations: Sequence[dict[str, Any]] = (), review: Review | None = None,
                        errors: Sequence[FileError] = (), not_reviewed: Sequence[NotReviewed] = (), *,
                        notes: Sequence[str] = ()) -> None:
        """Send annotations 50 per request; the last request completes the run, its text ending in
        the evidence record, which is then appended to the store; with a report page, the run's
        details_url opens it."""
        job, run_id = ctx.job, ctx.check_run_id
        assert run_id is not None, "a check run is claimed before it is completed"
        evidence = self._evidence(ctx, conclusion, title, review, errors, not_reviewed)
        text = with_evidence(text, evidence)
        chunks = batches(annotations)
        for chunk in chunks[:-1]:
            ctx.lease.check()
            await ctx.gh.update_check_run(job.owner, job.repo, run_id, {
                "output": {"title": title, "summary": summary, "annotations": chunk},
            })
        output: dict[str, Any] = {"title": title, "summary": summary, "annotations": chunks[-1]}
        if text:
            output["text"] = text
        final: dict[str, Any] = {"status": "completed", "conclusion": conclusion, "completed_at": _now(),
                                 "output": output}
        details_url = await self._report_page(ctx, conclusion, title, review, errors, not_reviewed, notes, evidence)
        if details_url:
            final["details_url"] = details_url
        ctx.lease.check()
        await ctx.gh.update_check_run(job.owner, job.repo, run_id, final)
        self.metrics.completed(conclusion, time.monotonic() - ctx.started, review.findings if review else ())
        await self._store(evidence)

    async def _report_page(self, ctx: JobContext, conclusion: str, title: str, review: Review | None,
                           errors: Sequence[FileError], not_reviewed: Sequence[NotReviewed], notes: Sequence[str],
                           evidence: dict[str, Any]) -> str | None:
        """Keep this review's report page; its URL, or None (no PUBLIC_URL, or the store failed:
        the check run is complete without it and says everything the page would)."""
        if self.reports is None or not self.public_url:
            return None
        job, policy = ctx.job, ctx.policy or Policy()
        findings = review.findings if review is not None else ()
        data = report_data(repository=job.full_name, pull_request=job.pull_number or None, head_sha=job.head_sha,
                           check_name=self.check_name, conclusion=conclusion, title=title, findings=findings,
                           blocks={f.fingerprint: policy.blocks(f) for f in findings},
                           exceptions=review.exceptions if review is not None else (), not_reviewed=not_reviewed,
                           errors=errors, notes=notes, evidence=evidence, control_names=control_names(),
                           created_at=dt.datetime.now(dt.UTC))
        try:
            token = await self.reports.put(data)
        except Exception as exc:  # noqa: BLE001 - Redis away: the check run is complete without its page
            log.error("report page not stored (%s: %s); the check run has no details link", type(exc).__name__, exc)
            return None
        return f"{self.public_url}/reports/{token}"

    def _evidence(self, ctx: JobContext, conclusion: str, title: str, review: Review | None,
                  errors: Sequence[FileError], not_reviewed: Sequence[NotReviewed]) -> dict[str, Any]:
        job = ctx.job
        subject = Subject(job.full_name, job.pull_number, job.head_sha, ctx.base_sha or job.base_sha, job.base_ref,
                          self.check_name, ctx.check_run_id, ctx.review_key)
        source = ctx.policy_source or PolicySource(POLICY_PATH, None, unread=True)
        return build_evidence(subject, source, ctx.policy or Policy(), self.rule_set, __version__, conclusion,
                              dt.datetime.now(dt.UTC), review, errors, not_reviewed,
                              outcome="" if review is not None else title)

    async def _store(self, record: dict[str, Any]) -> None:
        """Append to the evidence store. A failure is logged, not raised: the check run is complete
        and holds the record, and the next job on this head stores it from there
        (`_recover_evidence`)."""
        if self.evidence is None:
            return
        try:
            entry = await asyncio.to_thread(self.evidence.append, REVIEW, record)
        except EvidenceStoreError as exc:
            log.error("evidence record not stored (the check run holds it): %s", exc)
            return
        log.info("evidence record %d stored in %s", entry.seq, self.evidence.description)

    async def _recover_evidence(self, run: CheckRunInfo) -> None:
        """Store the record of a completed check run the store lacks (its job stopped in between)."""
        if self.evidence is None or not run.external_id:
            return
        try:
            if await asyncio.to_thread(self.evidence.has_review, run.external_id):
                return
            record = parse_evidence_block(run.text)
        except (EvidenceStoreError, EvidenceUnreadable) as exc:
            log.error("could not recover the evidence record of check run %d: %s", run.id, exc)
            return
        if record is not None:
            log.info("check run %d is complete but its evidence record was not stored: storing it", run.id)
            await self._store(record)


@functools.cache
def control_names() -> ControlNames:
    """Each framework's name and its controls' names, as the shipped framework files say."""
    return {f.key: (f"{f.name} {f.version}".strip(), {c.id: c.name for c in f.controls})
            for f in load_framework_files()}


async def check_output_off_loop(*args: Any) -> CheckOutput:
    """`check_output` in a thread: for tens of thousands of findings it takes seconds of CPU, and on
    the event loop those seconds would stall every other job, webhook and heartbeat of the process
    (a worker then looks dead and loses its jobs). Its inputs are frozen or no longer changed."""
    return await asyncio.to_thread(check_output, *args)


def _superseded_summary(newer: str) -> str:
    return (f"Superseded by {newer}: the pull request moved on to a newer head before this one was reviewed; "
            "that head's check is the one that counts.")


def make_handler(settings: Any) -> Callable[[ReviewJob], Awaitable[None]]:
    """The job handler the server's worker calls, built once per process from the settings."""
    metrics = process_metrics()
    private_key = settings.private_key.get_secret_value()
    cache = cache_for(settings)  # in Redis when REDIS_URL is set: shared by every web server and worker
    app = GitHubApp(settings.app_id, private_key, settings.github_api_url, settings.http_timeout,
                    tokens=InstallationTokens(cache, private_key), observe=metrics.github_response)
    leases: Leases = (RedisLeases.from_url(settings.redis_url, prefix=f"{settings.redis_namespace}:lease:",
                                           ttl=settings.claim_idle)
                      if settings.redis_url else LocalLeases())
    engines = EnginePool(settings.worker_concurrency, settings.review_seconds, settings.review_memory_mb,
                         niceness=settings.engine_niceness)
    # Without Redis the runner's own caches (parsed policies, verified blobs) already serve the process.
    return ReviewRunner(app, settings.check_name, leases=leases, evidence=open_store(settings), engines=engines,
                        hands_back=bool(settings.redis_url), shared=cache if settings.redis_url else None,
                        metrics=metrics, reports=open_reports(settings), public_url=settings.public_url)
