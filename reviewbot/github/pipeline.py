"""The steps behind :func:`reviewbot.github.flow.review_pull_request` (see its docstring).

:func:`run_pipeline` runs four steps, each taking what the previous ones produced:

* **read** (:func:`read_pull`, :func:`load_base_config`, :func:`read_scope`): the PR, the
  config from the base SHA, who reviewbot posts as, what earlier runs left
  (:mod:`reviewbot.github.state`) and what to review this time. The only write before the
  review is :func:`report_config_error`, when the base config cannot be used;
* **review** (:func:`review`): the engine, with imported linter results;
* **plan** (:func:`decide`): every write decided before any is made;
* **publish** (:func:`publish`, or :func:`preview` for a dry run): the writes.

The :class:`~reviewbot.github.outcome.PublishOutcome` is built once, by
:func:`build_outcome`, from all four.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import github
from github.PullRequest import PullRequest
from github.Repository import Repository

from reviewbot.config import CONFIG_FILENAME, Config, load_config
from reviewbot.engine import run_review
from reviewbot.errors import ConfigError, GitHubError, PublishError
from reviewbot.findings import Finding, Severity
from reviewbot.github.auth import known_login
from reviewbot.github.checks import CheckPublisher, conclusion_for
from reviewbot.github.identity import Identity, detect_identity
from reviewbot.github.outcome import PublishOutcome
from reviewbot.github.plan import ExistingComment, Plan, make_plan
from reviewbot.github.publisher import PullRequestPublisher, ReadOnly
from reviewbot.github.reader import (
    PullRequestData,
    build_diff,
    changed_since,
    head_reader,
    read_config_text,
    read_pull_request,
    unreviewable,
)
from reviewbot.github.retry import is_forbidden
from reviewbot.github.state import PRState, read_state
from reviewbot.github.summary import SummaryFacts, carried_lines, render_summary
from reviewbot.imports import ImportBatch
from reviewbot.linters import NOT_RUN_NOTE
from reviewbot.result import ReviewResult
from reviewbot.safe_publish import safe_block
from reviewbot.sources import ReviewSource

if TYPE_CHECKING:
    from reviewbot.github.outcome import BackendFactory


UNVERIFIED_NOTE = (
    "{login} is shared with other workflows or unknown, so reviewbot cannot tell its own "
    "comments from theirs: it reviewed the whole pull request, edited and deleted nothing, and "
    "posted a new summary. Set a marker key (the Action's marker-key input or "
    "REVIEWBOT_MARKER_KEY, a repository secret) to have its comments signed and kept up to date.")

CONFIG_ERROR_TITLE = "reviewbot could not use its configuration"


def run_pipeline(
    gh: github.Github, repo_full_name: str, number: int, *, env: Mapping[str, str],
    base_config_defaults: dict[str, Any] | None, full: bool, dry_run: bool,
    workspace: Path | None, backend_factory: BackendFactory | None,
    config_path: str | None, overrides: Mapping[str, Any] | None, bot_login: str | None,
    imported: Sequence[ImportBatch] = (),
) -> PublishOutcome:
    """read -> review -> plan -> publish; the outcome is built once, from all four."""
    repo, pr, data = read_pull(gh, repo_full_name, number)
    try:
        config = load_base_config(repo, data, env, base_config_defaults, config_path, overrides)
    except ConfigError as exc:
        if not dry_run:  # the one write before the review: say why there is none
            report_config_error(gh, repo, data.head_sha, exc)
        raise
    reading = read_scope(gh, repo, pr, data, config, env, repo_full_name, number, full=full,
                         workspace=workspace, bot_login=bot_login)
    result = review(reading, backend_factory, imported)
    decision = decide(reading, result)
    written = (preview(reading, result, decision) if dry_run
               else publish(gh, reading, result, decision))
    return build_outcome(reading, result, decision, written)


# -- read ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything read from GitHub before the review (nothing is written while reading)."""

    repo: Repository
    pr: PullRequest
    data: PullRequestData
    config: Config
    identity: Identity
    state: PRState
    scope: _Scope


def read_pull(gh: github.Github, repo_full_name: str, number: int,
              ) -> tuple[Repository, PullRequest, PullRequestData]:
    try:
        repo = gh.get_repo(repo_full_name)
    except github.GithubException as exc:
        raise GitHubError(f"cannot open repository {repo_full_name} (HTTP {exc.status})",
                          hint="check the name and that the token can read it") from None
    pr, data = read_pull_request(repo, number)
    return repo, pr, data


def load_base_config(repo: Any, data: PullRequestData, env: Mapping[str, str],
                     defaults: Mapping[str, Any] | None, config_path: str | None,
                     overrides: Mapping[str, Any] | None) -> Config:
    path = config_path or CONFIG_FILENAME
    text = read_config_text(repo, data.base_sha, path)
    if text is None and config_path and config_path != CONFIG_FILENAME:
        raise ConfigError(f"config file {config_path} does not exist in the base branch "
                          f"({data.base_ref} at {data.base_sha[:12]})",
                          hint="commit it to the base branch, or drop the config path")
    return load_config(path=Path(path) if text is not None else None, env=env, text=text,
                       defaults=defaults, overrides=overrides)


def report_config_error(gh: github.Github, repo: Any, head_sha: str, exc: ConfigError) -> None:
    """Say on the pull request why it was not reviewed: a failed check run naming the
    problem (the message quotes the config, which the repository wrote: escaped for
    markdown, bounded and redacted). Best effort: without checks: write the error is still
    the job's or the Action's own outcome."""
    hint = f"\n\nWhat to do: {safe_block(exc.hint[:1_000])}" if exc.hint else ""
    summary = (f"{safe_block(exc.message[:3_000])}{hint}\n\nThis pull request was not "
               "reviewed. Fix the configuration in the base branch (reviewbot never reads it "
               "from the pull request) and push again.")
    with contextlib.suppress(github.GithubException):
        CheckPublisher(gh, repo, head_sha, uuid.uuid4().hex[:16]).publish(
            (), "failure", CONFIG_ERROR_TITLE, summary)


def read_scope(gh: github.Github, repo: Repository, pr: PullRequest, data: PullRequestData,
               config: Config, env: Mapping[str, str], repo_full_name: str, number: int, *,
               full: bool, workspace: Path | None, bot_login: str | None) -> Reading:
    """Who reviewbot posts as, what earlier runs left, and what to review this time."""
    identity = detect_identity(gh, env, bot_login=bot_login or known_login(gh),
                               in_actions=env.get("GITHUB_ACTIONS") == "true",
                               ).for_pull(repo_full_name, number)
    state = read_state(gh, pr, identity)
    scope = _scope(repo, data, state, full, workspace)
    if config.linters:  # never run here: the PR's own linter config can run code
        scope = replace(scope, notes=(*scope.notes, NOT_RUN_NOTE))
    return Reading(repo, pr, data, config, identity, state, scope)


class _All(Collection[str]):
    """Every path: a full review may clean up comments on any file."""

    def __contains__(self, item: object) -> bool:
        return True

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True, slots=True)
class _Scope:
    source: ReviewSource
    since: str | None
    paths: Collection[str]
    notes: tuple[str, ...]
    skipped_extra: tuple[Any, ...]


def _scope(repo: Any, data: PullRequestData, state: PRState, full: bool,
           workspace: Path | None) -> _Scope:
    files = list(data.files)
    since: str | None = None
    paths: Collection[str] = _All()
    last = state.last_reviewed
    if not full and last and last != data.head_sha:
        changed = changed_since(repo, last, data.head_sha)
        if changed is not None:
            since = last
            files = [f for f in files if f.path in changed or (f.old_path or "") in changed]
            paths = changed
    skipped, notes = unreviewable(data)
    keep = {f.path for f in files}
    reader = head_reader(repo, data.head_sha, workspace)
    source = ReviewSource(build_diff(files), reader, f"{data.repo_full_name}#{data.number}",
                          data.head_sha, data.base_sha)
    return _Scope(source, since, paths, tuple(notes),
                  tuple(s for s in skipped if s.path in keep))


# -- review ----------------------------------------------------------------------------------------


def review(reading: Reading, backend_factory: BackendFactory | None,
           imported: Sequence[ImportBatch]) -> ReviewResult:
    from reviewbot.backends import create_backend
    from reviewbot.suggest import load_suggester

    config = reading.config
    backend = (backend_factory or create_backend)(config)
    try:
        result = run_review(reading.scope.source, config, backend,
                            # Never execute a pull request's code (SECURITY.md): whatever
                            # tests.run says, suggestions are checked statically only.
                            suggester=load_suggester(execute=False) if config.tests.enabled
                            else None, imported=imported)
    finally:
        backend.close()
    return _with_extras(result, reading.scope)


def _with_extras(result: ReviewResult, scope: _Scope) -> ReviewResult:
    cov = result.coverage
    cov = replace(cov, skipped=cov.skipped + scope.skipped_extra,
                  files_total=cov.files_total + len(scope.skipped_extra),
                  lines_total=cov.lines_total + sum(s.lines for s in scope.skipped_extra),
                  notes=cov.notes + scope.notes)
    return replace(result, coverage=cov)


# -- plan ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """Every write decided before any is made (:func:`reviewbot.github.plan.make_plan`)."""

    plan: Plan
    failed: bool
    by_severity: dict[str, int]
    by_category: dict[str, int]
    facts: SummaryFacts


def decide(reading: Reading, result: ReviewResult) -> Decision:
    scope, state = reading.scope, reading.state
    plan = make_plan(result.findings, result.diff, state.comments,
                     cap=reading.config.max_comments, reviewed_paths=scope.paths)
    failed = _failed(reading.config, result.findings, plan.kept_earlier)
    sev, cat = _counts(result.findings)
    facts = SummaryFacts(reading.data.head_sha, posted=len(plan.inline),
                         already=len(plan.existing), deleted=len(plan.stale),
                         kept_earlier=len(plan.kept_earlier), incremental_since=scope.since,
                         reviewed_files=len(result.diff.files),
                         carried=carried_lines(state.summaries[0].body, scope.paths)
                         if scope.since and state.summaries else ())
    return Decision(plan, failed, sev, cat, facts)


def _counts(findings: Sequence[Finding]) -> tuple[dict[str, int], dict[str, int]]:
    sev: dict[str, int] = {}
    cat: dict[str, int] = {}
    for f in findings:
        sev[f.severity.value] = sev.get(f.severity.value, 0) + 1
        cat[f.category.value] = cat.get(f.category.value, 0) + 1
    return sev, cat


def _failed(config: Config, findings: Sequence[Finding], kept: Sequence[ExistingComment]) -> bool:
    """The check run fails on this run's findings and on earlier comments still standing."""
    known = {s.value: s for s in Severity}
    return config.fail_on.fails([f.severity for f in findings]
                                + [known[c.severity] for c in kept if c.severity in known])


# -- publish ---------------------------------------------------------------------------------------


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
        summary_comment_id=summaries[0].id if summaries else None, dry_run=True,
        summary_markdown=render_summary(result, decision.facts, plan.to_summary),
        planned=_planned(plan))


def _planned(plan: Plan) -> tuple[str, ...]:
    out = [f"inline {c.path}:{c.start_line or c.line}"
           + (f"-{c.line}" if c.start_line else "") + f" [{c.finding.severity.value}] "
           + c.finding.title for c in plan.inline]
    out += [f"summary {f.path}:{f.line} [{f.severity.value}] {f.title} ({why})"
            for f, why in plan.to_summary]
    out += [f"delete stale comment {c.id} on {c.path}" for c in plan.stale]
    return tuple(out)


def publish(gh: github.Github, reading: Reading, result: ReviewResult,
            decision: Decision) -> Written:
    """The review, stale-comment cleanup, the summary comment, then the check run."""
    data, identity, plan, facts = reading.data, reading.identity, decision.plan, decision.facts
    unverified = () if identity.verifiable else (UNVERIFIED_NOTE.format(
        login=identity.login or "the token's account"),)
    run_id = uuid.uuid4().hex[:16]
    publisher = PullRequestPublisher(gh, reading.repo, reading.pr, data.head_sha, identity,
                                     run_id)
    notes: list[str] = list(unverified)
    body = (f"reviewbot: {len(result.findings)} finding(s) at `{data.head_sha[:12]}`; "
            "the summary comment lists them all.")
    done: list[str] = []
    try:
        review_id, posted, refused = publisher.post_review(plan.inline, body)
        if review_id is not None:
            done.append(f"a review with {len(posted)} inline comment(s)")
        moved = list(plan.to_summary) + [(c.finding, "GitHub refused the comment (422)")
                                         for c in refused]
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
        return Written(read_only=True, summary_markdown=render_summary(result, facts, ()),
                       notes=("the token cannot write to this pull request; nothing was "
                              "posted",))
    except github.GithubException as exc:
        missing = ("the summary comment and the check run" if done
                   else "the review, the summary comment and the check run")
        raise _partial(done, missing, f"HTTP {exc.status}") from None

    check_id: int | None = None
    sev = decision.by_severity
    title = (f"{len(result.findings)} finding(s): {sev.get('error', 0)} error, "
             f"{sev.get('warning', 0)} warning, {sev.get('info', 0)} info")
    try:
        check_id = CheckPublisher(gh, reading.repo, data.head_sha, run_id).publish(
            result.findings, conclusion_for(decision.failed, result.findings), title,
            summary_md)
    except github.GithubException as exc:
        if not is_forbidden(exc):
            raise _partial(done, "the check run", f"HTTP {exc.status}") from None
        notes.append("no check run: the token lacks checks: write")
    return Written(
        review_id=review_id, comments_posted=len(posted),
        comments_skipped_existing=len(plan.existing), comments_moved_to_summary=len(moved),
        comments_deleted_stale=deleted, summary_comment_id=summary_id, check_run_id=check_id,
        summary_markdown=summary_md, notes=tuple(notes))


def _partial(done: Sequence[str], missing: str, why: str) -> PublishError:
    posted = ", ".join(done) if done else "nothing"
    return PublishError(f"GitHub refused a write ({why}): posted {posted}; not posted: {missing}",
                        hint="run reviewbot again on the same commit to complete it (what was "
                        "posted is recognised and not repeated)")


def build_outcome(reading: Reading, result: ReviewResult, decision: Decision,
                  written: Written) -> PublishOutcome:
    return PublishOutcome(
        head_sha=reading.data.head_sha, review_id=written.review_id,
        comments_posted=written.comments_posted,
        comments_skipped_existing=written.comments_skipped_existing,
        comments_moved_to_summary=written.comments_moved_to_summary,
        comments_deleted_stale=written.comments_deleted_stale,
        summary_comment_id=written.summary_comment_id, check_run_id=written.check_run_id,
        findings_total=len(result.findings), findings_by_severity=decision.by_severity,
        findings_by_category=decision.by_category, failed=decision.failed,
        read_only=written.read_only, dry_run=written.dry_run,
        incremental_since=reading.scope.since, summary_markdown=written.summary_markdown,
        findings=result.findings, planned=written.planned, notes=written.notes,
        result=result)
