"""The steps behind :func:`reviewbot.github.flow.review_pull_request` (see its docstring).

:func:`run_pipeline` runs four steps, each taking what the previous ones produced:

* **read** (:mod:`reviewbot.github.read_step`: :func:`read_pull`, :func:`load_base_config`,
  :func:`read_scope`): the PR, the config from the base SHA, who reviewbot posts as, what
  earlier runs left (:mod:`reviewbot.github.state`) and what to review this time. The only
  write before the review is :func:`~reviewbot.github.publish_step.report_config_error`,
  when the base config cannot be used;
* **review** (:func:`review`, here): the engine, with imported linter results;
* **plan** (:func:`~reviewbot.github.plan_step.decide`): every write decided before any is
  made;
* **publish** (:mod:`reviewbot.github.publish_step`: :func:`publish`, or :func:`preview`
  for a dry run): the writes.

The :class:`~reviewbot.github.outcome.PublishOutcome` is built once, by
:func:`build_outcome`, from all four.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import github

from reviewbot.engine import run_review
from reviewbot.errors import ConfigError
from reviewbot.github.outcome import PublishOutcome
from reviewbot.github.plan_step import Decision, decide
from reviewbot.github.publish_step import Written, preview, publish, report_config_error
from reviewbot.github.read_step import Reading, Scope, load_base_config, read_pull, read_scope
from reviewbot.imports import ImportBatch
from reviewbot.result import ReviewResult

if TYPE_CHECKING:
    from reviewbot.github.outcome import BackendFactory


def run_pipeline(
    gh: github.Github,
    repo_full_name: str,
    number: int,
    *,
    env: Mapping[str, str],
    base_config_defaults: dict[str, Any] | None,
    full: bool,
    dry_run: bool,
    workspace: Path | None,
    backend_factory: BackendFactory | None,
    config_path: str | None,
    overrides: Mapping[str, Any] | None,
    bot_login: str | None,
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
    reading = read_scope(
        gh,
        repo,
        pr,
        data,
        config,
        env,
        repo_full_name,
        number,
        full=full,
        workspace=workspace,
        bot_login=bot_login,
    )
    result = review(reading, backend_factory, imported)
    decision = decide(reading, result)
    written = (
        preview(reading, result, decision) if dry_run else publish(gh, reading, result, decision)
    )
    return build_outcome(reading, result, decision, written)


def review(
    reading: Reading, backend_factory: BackendFactory | None, imported: Sequence[ImportBatch]
) -> ReviewResult:
    from reviewbot.backends import create_backend
    from reviewbot.suggest import load_suggester

    config = reading.config
    backend = (backend_factory or create_backend)(config)
    try:
        result = run_review(
            reading.scope.source,
            config,
            backend,
            # Never execute a pull request's code (SECURITY.md): whatever
            # tests.run says, suggestions are checked statically only.
            suggester=load_suggester(execute=False) if config.tests.enabled else None,
            imported=imported,
        )
    finally:
        backend.close()
    return _with_extras(result, reading.scope)


def _with_extras(result: ReviewResult, scope: Scope) -> ReviewResult:
    cov = result.coverage
    cov = replace(
        cov,
        skipped=cov.skipped + scope.skipped_extra,
        files_total=cov.files_total + len(scope.skipped_extra),
        lines_total=cov.lines_total + sum(s.lines for s in scope.skipped_extra),
        notes=cov.notes + scope.notes,
    )
    return replace(result, coverage=cov)


def build_outcome(
    reading: Reading, result: ReviewResult, decision: Decision, written: Written
) -> PublishOutcome:
    return PublishOutcome(
        head_sha=reading.data.head_sha,
        review_id=written.review_id,
        comments_posted=written.comments_posted,
        comments_skipped_existing=written.comments_skipped_existing,
        comments_moved_to_summary=written.comments_moved_to_summary,
        comments_deleted_stale=written.comments_deleted_stale,
        summary_comment_id=written.summary_comment_id,
        check_run_id=written.check_run_id,
        findings_total=len(result.findings),
        findings_by_severity=decision.by_severity,
        findings_by_category=decision.by_category,
        failed=decision.failed,
        read_only=written.read_only,
        dry_run=written.dry_run,
        incremental_since=reading.scope.since,
        summary_markdown=written.summary_markdown,
        findings=result.findings,
        planned=written.planned,
        notes=written.notes,
        result=result,
    )
