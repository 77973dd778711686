"""The read step of :func:`reviewbot.github.pipeline.run_pipeline`: everything read from
GitHub before the review, and nothing written.

:func:`read_pull` opens the pull request, :func:`load_base_config` reads the config from the
base SHA (never from the pull request), and :func:`read_scope` finds who reviewbot posts as,
what earlier runs left (:mod:`reviewbot.github.state`) and what to review this time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import github
from github.PullRequest import PullRequest
from github.Repository import Repository

from reviewbot.config import CONFIG_FILENAME, Config, load_config
from reviewbot.errors import ConfigError, GitHubError
from reviewbot.github.auth import known_login
from reviewbot.github.identity import Identity, detect_identity
from reviewbot.github.reader import (
    PullRequestData,
    build_diff,
    changed_since,
    head_reader,
    read_config_text,
    read_pull_request,
    unreviewable,
)
from reviewbot.github.state import PRState, read_state
from reviewbot.linters import NOT_RUN_NOTE
from reviewbot.sources import ReviewSource


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything read from GitHub before the review (nothing is written while reading)."""

    repo: Repository
    pr: PullRequest
    data: PullRequestData
    config: Config
    identity: Identity
    state: PRState
    scope: Scope


def read_pull(
    gh: github.Github,
    repo_full_name: str,
    number: int,
) -> tuple[Repository, PullRequest, PullRequestData]:
    try:
        repo = gh.get_repo(repo_full_name)
    except github.GithubException as exc:
        raise GitHubError(
            f"cannot open repository {repo_full_name} (HTTP {exc.status})",
            hint="check the name and that the token can read it",
        ) from None
    pr, data = read_pull_request(repo, number)
    return repo, pr, data


def load_base_config(
    repo: Any,
    data: PullRequestData,
    env: Mapping[str, str],
    defaults: Mapping[str, Any] | None,
    config_path: str | None,
    overrides: Mapping[str, Any] | None,
) -> Config:
    path = config_path or CONFIG_FILENAME
    text = read_config_text(repo, data.base_sha, path)
    if text is None and config_path and config_path != CONFIG_FILENAME:
        raise ConfigError(
            f"config file {config_path} does not exist in the base branch "
            f"({data.base_ref} at {data.base_sha[:12]})",
            hint="commit it to the base branch, or drop the config path",
        )
    return load_config(
        path=Path(path) if text is not None else None,
        env=env,
        text=text,
        defaults=defaults,
        overrides=overrides,
    )


def read_scope(
    gh: github.Github,
    repo: Repository,
    pr: PullRequest,
    data: PullRequestData,
    config: Config,
    env: Mapping[str, str],
    repo_full_name: str,
    number: int,
    *,
    full: bool,
    workspace: Path | None,
    bot_login: str | None,
) -> Reading:
    """Who reviewbot posts as, what earlier runs left, and what to review this time."""
    identity = detect_identity(
        gh,
        env,
        bot_login=bot_login or known_login(gh),
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
class Scope:
    source: ReviewSource
    since: str | None
    paths: Collection[str]
    notes: tuple[str, ...]
    skipped_extra: tuple[Any, ...]


def _scope(
    repo: Any, data: PullRequestData, state: PRState, full: bool, workspace: Path | None
) -> Scope:
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
    source = ReviewSource(
        build_diff(files),
        reader,
        f"{data.repo_full_name}#{data.number}",
        data.head_sha,
        data.base_sha,
    )
    return Scope(source, since, paths, tuple(notes), tuple(s for s in skipped if s.path in keep))
