"""What makes two reviews the same review, and how its check run is found again on GitHub.

A review is keyed by (repository, pull request, head SHA, base branch, policy, engine version),
where the policy is named by its blob (or, beneath an organisation policy or under repository
facts, by a digest of both blobs and the facts: `bot.app.policy_source`): the same key means the
same inputs, so the same verdict. The key travels as the check run's `external_id`; a job first
looks at the latest check run of this App with the check's name on the head, and when that run
carries its key the review is done (completed) or is resumed (a job that died left it in
progress), instead of being created twice. No process memory decides
whether a pull request is reviewed: GitHub does.

The approvals of the pull request at its head by members of the policy's approver teams are
inputs too (they make exceptions count): an approval, or its dismissal, is a new review.

Two more things make a different review of the same inputs: a draft's placeholder (`mode`
"draft": the full review runs when the pull request is ready) and an explicit re-run request
(`rerun`: the delivery id, so each request gets a new check run, as GitHub's re-run expects).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot import __version__

KEY_PREFIX = "compliance-bot/v1:"
NO_POLICY = "none"


@dataclass(frozen=True)
class ReviewKey:
    repository: str
    pull_number: int
    head_sha: str
    base_ref: str
    policy_sha: str
    rules_digest: str
    mode: str = "review"
    rerun: str = ""
    approvals: str = ""  # the approvals by approver team members at the head (`login:review id`, ...)

    @property
    def engine_version(self) -> str:
        return f"{__version__}+{self.rules_digest}"

    @property
    def external_id(self) -> str:
        """`compliance-bot/v1:<40 hex>`: fits GitHub's external_id, reveals nothing of the inputs."""
        fields = (self.repository.lower(), str(self.pull_number), self.head_sha.lower(), self.base_ref,
                  self.policy_sha, self.engine_version, self.mode, self.rerun,
                  *((self.approvals,) if self.approvals else ()))  # keys without approvals stay as they were
        return KEY_PREFIX + hashlib.sha256("\x00".join(fields).encode("utf-8")).hexdigest()[:40]

    def __str__(self) -> str:
        extra = f" {self.mode}" if self.mode != "review" else ""
        extra += f" rerun {self.rerun}" if self.rerun else ""
        extra += f" approved by {self.approvals}" if self.approvals else ""
        return (f"{self.repository}#{self.pull_number}@{self.head_sha[:12]} base {self.base_ref} "
                f"policy {self.policy_sha[:12]} engine {self.engine_version}{extra}")
