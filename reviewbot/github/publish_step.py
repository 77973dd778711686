"""The writes of :func:`reviewbot.github.pipeline.run_pipeline`.

:func:`publish` posts the review, deletes stale comments, writes the summary comment, then
the check run; :func:`preview` says what a dry run would post. :func:`report_config_error`
is the one write before the review, when the base config cannot be used.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import github

from reviewbot.errors import ConfigError, PublishError
from reviewbot.github.checks import CheckPublisher, conclusion_for
from reviewbot.github.identity import Identity
from reviewbot.github.plan import Plan
from reviewbot.github.plan_step import Decision
from reviewbot.github.publisher import PullRequestPublisher, ReadOnly
from reviewbot.github.read_step import Reading
from reviewbot.github.retry import is_forbidden
from reviewbot.github.summary import render_summary
from reviewbot.result import ReviewResult
from reviewbot.safe_publish import safe_block

UNVERIFIED_NOTE = (
    "{login} is shared with other workflows or unknown, so reviewbot cannot tell its own "
    "comments from theirs: it reviewed the whole pull request, edited and deleted nothing, and "
    "posted a new summary. Set a marker key (the Action's marker-key input or "
    "REVIEWBOT_MARKER_KEY, a repository secret) to have its comments signed and kept up to date."
)

CONFIG_ERROR_TITLE = "reviewbot could not use its configuration"


def report_config_error(gh: github.Github, repo: Any, head_sha: str, exc: ConfigError) -> None:
    """Say on the pull request why it was not reviewed: a failed check run naming the
    problem (the message quotes the config, which the repository wrote: escaped for
    markdown, bounded and redacted). Best effort: without checks: write the error is still
    the job's or the Action's own outcome."""
    hint = f"\n\nWhat to do: {safe_block(exc.hint[:1_000])}" if exc.hint else ""
    summary = (
        f"{safe_block(exc.message[:3_000])}{hint}\n\nThis pull request was not "
        "reviewed. Fix the configuration in the base branch (reviewbot never reads it "
        "from the pull request) and push again."
    )
    with contextlib.suppress(github.GithubException):
        CheckPublisher(gh, repo, head_sha, uuid.uuid4().hex[:16]).publish(
            (), "failure", CONFIG_ERROR_TITLE, summary
        )


@dataclass(frozen=True, slots=True)
class Written:
    """What the publish step did (or, for a dry run, would do) on the pull request."""

    review_id: int | None = None
    comments_posted: int = 0
    comments_skipped_existing: int = 0
    comments_moved_to_summary: int = 0
    comments_deleted_stale: int = 0
    summary_comment_id: int | None = None
    check_run_id: int | None = None
    summary_markdown: str = ""
    notes: tuple[str, ...] = ()
    planned: tuple[str, ...] = ()
    read_only: bool = False
    dry_run: bool = False


def preview(reading: Reading, result: ReviewResult, decision: Decision) -> Written:
    """A dry run: what would be posted, nothing written."""
    plan, summaries = decision.plan, reading.state.summaries
    return Written(
        comments_skipped_existing=len(plan.existing),
        comments_moved_to_summary=len(plan.to_summary),
        summary_comment_id=summaries[0].id if summaries else None,
        dry_run=True,
        summary_markdown=render_summary(result, decision.facts, plan.to_summary),
        planned=_planned(plan),
    )


def _planned(plan: Plan) -> tuple[str, ...]:
    out = [
        f"inline {c.path}:{c.start_line or c.line}"
        + (f"-{c.line}" if c.start_line else "")
        + f" [{c.finding.severity.value}] "
        + c.finding.title
        for c in plan.inline
    ]
    out += [
        f"summary {f.path}:{f.line} [{f.severity.value}] {f.title} ({why})"
        for f, why in plan.to_summary
    ]
    out += [f"delete stale comment {c.id} on {c.path}" for c in plan.stale]
    return tuple(out)


def publish(
    gh: github.Github, reading: Reading, result: ReviewResult, decision: Decision
) -> Written:
    """The review, stale-comment cleanup, the summary comment, then the check run."""
    data, identity, plan, facts = reading.data, reading.identity, decision.plan, decision.facts
    unverified = _unverified(identity)
    run_id = uuid.uuid4().hex[:16]
    publisher = PullRequestPublisher(gh, reading.repo, reading.pr, data.head_sha, identity, run_id)
    notes: list[str] = list(unverified)
    body = _REVIEW_BODY.format(count=len(result.findings), sha=data.head_sha[:12])
    done: list[str] = []
    try:
        review_id, posted, refused = publisher.post_review(plan.inline, body)
        if review_id is not None:
            done.append(f"a review with {len(posted)} inline comment(s)")
        moved = list(plan.to_summary) + [
            (c.finding, "GitHub refused the comment (422)") for c in refused
        ]
        deleted = publisher.delete_comments([c.id for c in plan.stale])
        if deleted:
            done.append(f"{deleted} stale comment(s) deleted")
        facts = replace(facts, posted=len(posted), deleted=deleted, notes=tuple(unverified))
        summary_md = identity.seal(render_summary(result, facts, moved))
        summary_id = publisher.upsert_summary(summary_md, reading.state)
        done.append("the summary comment")
    except ReadOnly as exc:
        if done:
            raise _partial(done, "the summary comment and the check run", str(exc)) from None
        facts = replace(facts, posted=0, deleted=0, read_only=True)
        return Written(
            read_only=True,
            summary_markdown=render_summary(result, facts, ()),
            notes=("the token cannot write to this pull request; nothing was posted",),
        )
    except github.GithubException as exc:
        missing = "the summary comment and the check run"
        raise _partial(
            done, missing if done else f"the review, {missing}", f"HTTP {exc.status}"
        ) from None

    check_id = _check_run(gh, reading, result, decision, run_id, summary_md, done, notes)
    return Written(
        review_id=review_id,
        comments_posted=len(posted),
        comments_skipped_existing=len(plan.existing),
        comments_moved_to_summary=len(moved),
        comments_deleted_stale=deleted,
        summary_comment_id=summary_id,
        check_run_id=check_id,
        summary_markdown=summary_md,
        notes=tuple(notes),
    )


_REVIEW_BODY = "reviewbot: {count} finding(s) at `{sha}`; the summary comment lists them all."


def _unverified(identity: Identity) -> tuple[str, ...]:
    """The summary's note when the bot cannot tell its own comments apart (no login)."""
    if identity.verifiable:
        return ()
    return (UNVERIFIED_NOTE.format(login=identity.login or "the token's account"),)


def _check_run(
    gh: github.Github,
    reading: Reading,
    result: ReviewResult,
    decision: Decision,
    run_id: str,
    summary_md: str,
    done: Sequence[str],
    notes: list[str],
) -> int | None:
    """The check run's id; None (and a note) when the token may not write checks."""
    sev = decision.by_severity
    title = (
        f"{len(result.findings)} finding(s): {sev.get('error', 0)} error, "
        f"{sev.get('warning', 0)} warning, {sev.get('info', 0)} info"
    )
    try:
        return CheckPublisher(gh, reading.repo, reading.data.head_sha, run_id).publish(
            result.findings, conclusion_for(decision.failed, result.findings), title, summary_md
        )
    except github.GithubException as exc:
        if not is_forbidden(exc):
            raise _partial(done, "the check run", f"HTTP {exc.status}") from None
        notes.append("no check run: the token lacks checks: write")
        return None


def _partial(done: Sequence[str], missing: str, why: str) -> PublishError:
    posted = ", ".join(done) if done else "nothing"
    return PublishError(
        f"GitHub refused a write ({why}): posted {posted}; not posted: {missing}",
        hint="run reviewbot again on the same commit to complete it (what was "
        "posted is recognised and not repeated)",
    )
