"""The policy in force for one repository: the organisation's policy with the repository's on
top, where the repository may only tighten.

An organisation keeps its policy in its `.github` repository (`.github/compliance.yml` on the
default branch). When it has one, it applies to every repository of the organisation, whether or
not the repository's file says `extends: org` (which says so, and makes a missing organisation
policy an error instead of a silent gap). Each setting has a strict side, and the repository's
value counts only on that side of the organisation's (the organisation's default where it is
silent):

| setting | a repository may |
| --- | --- |
| fail_on, unknown.fail | lower the severity (block more) |
| rules.disable | disable only what the organisation disables |
| rules.modes | move a rule from monitor to comment to block, never back |
| paths.ignore | ignore only inside what the organisation ignores |
| not_reviewed.fail | add kinds (the lists are joined) |
| regressions | turn notice into block |
| drafts | turn review of drafts on |
| secrets.show_prefix | turn the prefix off |
| frameworks | add frameworks to the organisation's (never limit an organisation that evaluates every rule) |
| data_classification | only with the organisation's tag, for the frameworks it classifies, adding classes |
| suppressions | only where the organisation's `exceptions.allow_repository` is true |
| exceptions | nothing: the organisation's settings apply |
| comments.max, terraform.var_files | set freely (how to review, not how strictly) |

Each attempt to loosen is a `PolicyProblem` naming the repository file's line ("rules.disable:
CB-AWS-001 is required by the organisation policy"), which fails the check, and the
organisation's value stays in force: the review never runs looser than the organisation says.
Pure: the App fetches both files and the repository's facts and hands them here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from bot.engine.model import Severity
from bot.engine.policy import BLOCK, MODES, DataClassification, Policy, PolicyProblem, RepositoryFacts

ORG_POLICY_REPOSITORY = ".github"


def org_policy_source(owner: str) -> str:
    """How messages name an organisation's policy file: `octo-org/.github/.github/compliance.yml`."""
    return f"{owner}/{ORG_POLICY_REPOSITORY}/.github/compliance.yml"


@dataclass(frozen=True)
class ResolvedPolicy:
    """The policy in force, what in the files was refused (each fails the check), and notes."""

    policy: Policy
    problems: tuple[PolicyProblem, ...] = ()
    notes: tuple[str, ...] = ()


def resolve_policy(repo: Policy | None, org: Policy | None, facts: RepositoryFacts | None = None,
                   org_location: str = "the organisation's .github repository") -> ResolvedPolicy:
    """The policy for a repository from its own file (None: none) and its organisation's (None:
    none found at `org_location`), under what GitHub says of the repository (`facts`)."""
    facts = facts or RepositoryFacts()
    if org is None:
        policy = replace(repo or Policy(), facts=facts)
        if policy.extends == "org":
            return ResolvedPolicy(policy, (PolicyProblem(
                policy.source, policy.line_of("extends"),
                f"extends: org, but no organisation policy was found in {org_location} (.github/compliance.yml on its "
                "default branch; the App must be installed on that repository with contents: read)"),))
        return ResolvedPolicy(policy)
    org = replace(org, facts=facts)
    org_problems = tuple(_org_only(org))
    note = f"The organisation policy ({org.source}) applies"
    if repo is None:
        return ResolvedPolicy(org, org_problems, (f"{note}; this repository has no policy of its own.",))
    merged = merge_policies(org, replace(repo, facts=facts))
    hint = "" if repo.extends == "org" else " (`extends: org` in this repository's policy says so)"
    return ResolvedPolicy(merged.policy, org_problems + merged.problems, (f"{note} beneath this repository's{hint}.",))


def _org_only(org: Policy) -> Iterator[PolicyProblem]:
    if org.extends is not None:
        yield PolicyProblem(org.source, org.line_of("extends"),
                            "extends: an organisation policy is the base of every repository's; it extends nothing")


def merge_policies(org: Policy, repo: Policy) -> ResolvedPolicy:
    """The repository's policy on top of the organisation's: where the repository is looser, the
    organisation's value stays and a problem names the repository's line. Both carry the facts."""
    problems: list[PolicyProblem] = []

    def refuse(setting: str, message: str, item: str | None = None) -> None:
        problems.append(PolicyProblem(repo.source, repo.line_of(setting, item), message))

    fail_on = _stricter(org.fail_on, repo.fail_on) if repo.sets("fail_on") else org.fail_on
    if repo.sets("fail_on") and fail_on is not repo.fail_on:
        refuse("fail_on", f"fail_on: {repo.fail_on.value} would block less than the organisation policy's "
                          f"{org.fail_on.value}; a repository may only lower it")
    for rule in sorted(repo.disabled_rules - org.disabled_rules):
        refuse("rules.disable", f"rules.disable: {rule} is required by the organisation policy", rule)
    modes = dict(org.rule_modes)
    for rule, mode in sorted(repo.rule_modes.items()):
        floor = org.rule_modes.get(rule, BLOCK)
        if MODES.index(mode) < MODES.index(floor):
            refuse(f"rules.modes.{rule}", f"rules.modes: {rule} cannot be {mode}: the organisation policy sets it to "
                                          f"{floor} (a repository may only go monitor → comment → block)")
        else:
            modes[rule] = mode
    for pattern in repo.ignore_paths:
        if not any(_within(pattern, outer) for outer in org.ignore_paths):
            refuse("paths.ignore", f"paths.ignore: '{pattern}' is not ignored by the organisation policy; a repository "
                                   "may not ignore more than it does", pattern)
    if org.regressions == "block" and repo.regressions != "block":
        refuse("regressions", "regressions: notice would let weakened controls pass where the organisation policy "
                              "blocks them")
    unknown = _stricter_unknown(org.fail_unknown, repo.fail_unknown)
    if repo.fail_unknown is not None and unknown is not repo.fail_unknown:
        refuse("unknown.fail", f"unknown.fail: {repo.fail_unknown.value} would fail fewer unknown values than the "
                               f"organisation policy's {org.fail_unknown.value if org.fail_unknown else ''}".rstrip())
    if repo.sets("drafts") and org.review_drafts and not repo.review_drafts:
        refuse("drafts", "drafts: false would leave drafts unreviewed that the organisation policy reviews")
    show_prefix = org.show_secret_prefix and (repo.show_secret_prefix if repo.sets("secrets.show_prefix") else True)
    if repo.show_secret_prefix and not org.show_secret_prefix:
        refuse("secrets.show_prefix", "secrets.show_prefix: the organisation policy masks found secrets whole")
    suppressions = org.suppressions
    if org.allows_repository_exceptions:
        suppressions += repo.suppressions
    else:
        for index, suppression in enumerate(repo.suppressions):
            problems.append(PolicyProblem(
                repo.source, suppression.line or repo.line_of(f"suppressions[{index}]"),
                f"suppressions: {suppression.rule} is not suppressed: the organisation policy does not allow "
                "repository exceptions (exceptions.allow_repository: true in its policy would)"))
    if repo.sets("exceptions"):
        refuse("exceptions", "exceptions: these settings are the organisation policy's; a repository cannot change them")
    frameworks = org.frameworks
    if org.active_frameworks is None and repo.active_frameworks is not None:
        refuse("frameworks", "frameworks: the organisation policy evaluates every rule here; a repository may add "
                             "frameworks to the organisation's, not limit them")
    elif org.active_frameworks is not None:
        frameworks += repo.frameworks
    classification, refused = _classification(org.data_classification, repo.data_classification)
    for setting, message in refused:
        refuse(setting, message)
    policy = replace(
        repo,
        fail_on=fail_on,
        disabled_rules=org.disabled_rules,
        ignore_paths=org.ignore_paths,
        max_comments=repo.max_comments if repo.sets("comments.max") else org.max_comments,
        review_drafts=org.review_drafts or repo.review_drafts,
        suppressions=suppressions,
        var_files={**org.var_files, **repo.var_files},
        fail_not_reviewed=org.fail_not_reviewed | repo.fail_not_reviewed,
        fail_unknown=unknown,
        regressions="block" if "block" in (org.regressions, repo.regressions if repo.sets("regressions") else "") \
        else "notice",
        show_secret_prefix=show_prefix,
        extends="org",
        rule_modes=modes,
        frameworks=frameworks,
        data_classification=classification,
        exceptions_settings=org.exceptions_settings,
    )
    return ResolvedPolicy(policy, tuple(problems))


def _stricter(first: Severity, second: Severity) -> Severity:
    """The lower threshold: it blocks more."""
    return first if first.rank <= second.rank else second


def _stricter_unknown(org: Severity | None, repo: Severity | None) -> Severity | None:
    if org is None or repo is None:
        return org or repo
    return _stricter(org, repo)


def _within(pattern: str, outer: str) -> bool:
    """Whether every path `pattern` ignores is ignored by `outer` too: the same pattern, or one
    inside a folder `outer` ignores whole (`examples/**` holds `examples/old/**`; a glob can match
    only paths starting with its literal start, so the prefix decides)."""
    return pattern == outer or (outer.endswith("/**") and pattern.startswith(outer[:-2])) or outer == "**"


def _classification(org: DataClassification | None, mine: DataClassification | None
                    ) -> tuple[DataClassification | None, list[tuple[str, str]]]:
    """A repository may add classes to the frameworks the organisation classifies, with its tag;
    anything else would turn blocking findings into notices. (setting, message) per refusal."""
    if mine is None:
        return org, []
    if org is None:
        return None, [("data_classification", ("data_classification: the organisation policy blocks findings on every "
                                              "resource; a repository cannot make some of them notices"))]
    if mine.tag.lower() != org.tag.lower():
        return org, [("data_classification.tag", (f"data_classification.tag: the organisation policy reads the tag "
                                                 f"'{org.tag}', not '{mine.tag}'"))]
    classes = dict(org.frameworks)
    refused = []
    for framework, values in sorted(mine.frameworks.items()):
        if framework not in org.frameworks:
            refused.append((f"data_classification.frameworks.{framework}",
                            (f"data_classification.frameworks: the organisation policy blocks {framework} findings on "
                            "every resource; a repository cannot limit them to some")))
        else:
            classes[framework] = org.frameworks[framework] | values
    return replace(org, frameworks=classes), refused
