"""Review one pull request and publish the result: the function every GitHub entry point calls.

Public interface (stable; the webhook worker, ``reviewbot pr`` and ``reviewbot action`` use it)::

    from reviewbot.github.auth import make_github
    from reviewbot.github.flow import PublishOutcome, review_pull_request

    gh = make_github(token, base_url)          # PyGithub client with the safe retry policy
    outcome = review_pull_request(
        gh, "owner/repo", 42,
        env=os.environ,                        # REVIEWBOT_* settings (config precedence)
        base_config_defaults={"tests.run": False},  # caller defaults below .reviewbot.yml
        full=False,          # True: review the whole PR even when an earlier run reviewed part
        dry_run=False,       # True: read and plan only; nothing is written to GitHub
        workspace=None,      # a checkout to read head files from (used only when it has the
                             # head commit); else the contents API at the head SHA
        backend_factory=None,  # (Config) -> Backend; default reviewbot.backends.create_backend
    )

What it does, in order:

1. reads the PR (head/base SHAs, files with patches; a truncated files list is recorded in the
   coverage) and ``.reviewbot.yml`` from the **base** SHA (a PR cannot change the bot's own
   settings, endpoint or token);
2. on a PR an earlier run reviewed, reviews only the files changed since the last reviewed
   head SHA (recorded in the summary comment's marker) when GitHub's compare API says the new
   head descends from it; otherwise (or with ``full=True``) the whole PR;
3. runs :func:`reviewbot.engine.run_review` with the configured backend;
4. publishes (see :mod:`reviewbot.github.publisher`): one ``COMMENT`` review with inline
   comments validated against the PR's diff, the persistent summary comment, a check run
   with annotations, and cleanup of stale comments of earlier runs. Writes are idempotent:
   re-running never duplicates a comment, a review or a check run.

With a read-only token (a fork PR's ``GITHUB_TOKEN``) nothing is written;
``PublishOutcome.read_only`` is True and ``summary_markdown``/``findings`` carry what the
caller should show instead (the Action prints workflow annotations and a job summary).
Errors GitHub gives that cannot be worked around raise :class:`reviewbot.errors.GitHubError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewbot.github.outcome import BackendFactory, PublishOutcome

if TYPE_CHECKING:
    import github

    from reviewbot.imports import ImportBatch

__all__ = ["BackendFactory", "PublishOutcome", "review_pull_request"]


def review_pull_request(
    gh: github.Github,
    repo_full_name: str,
    number: int,
    *,
    env: Mapping[str, str],
    base_config_defaults: dict[str, Any] | None = None,
    full: bool = False,
    dry_run: bool = False,
    workspace: Path | None = None,
    backend_factory: BackendFactory | None = None,
    config_path: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    bot_login: str | None = None,
    imported: Sequence[ImportBatch] = (),
) -> PublishOutcome:
    """Review PR ``number`` of ``repo_full_name`` and publish the result (see module doc).

    ``config_path``: the config file's path in the base branch (default ``.reviewbot.yml``).
    ``overrides``: dotted config keys above everything else (command-line flags, Action
    inputs). ``bot_login``: the account reviewbot posts as, when known; comments are only
    treated as reviewbot's when written by it (by default: by any Bot account).
    ``imported``: other linters' results (the Action's ``import`` input), reviewed with the
    built-in findings.
    """
    from reviewbot.errors import GitHubError
    from reviewbot.github.pipeline import run_pipeline

    try:
        return run_pipeline(
            gh,
            repo_full_name,
            number,
            env=env,
            base_config_defaults=base_config_defaults,
            full=full,
            dry_run=dry_run,
            workspace=workspace,
            backend_factory=backend_factory,
            config_path=config_path,
            overrides=overrides,
            bot_login=bot_login,
            imported=imported,
        )
    except (AssertionError, RuntimeError) as exc:
        # PyGithub refuses, with these, a Link or a redirect to a host or path outside the
        # API root it was given: a misconfigured API URL or a hostile proxy, not a bug.
        if not _raised_by_pygithub(exc):
            raise
        raise GitHubError(
            "GitHub answered with a link or redirect outside the API root",
            hint="check the API URL (REVIEWBOT_GITHUB_API_URL or GITHUB_API_URL)"
            "; run again to complete what was not posted",
        ) from None


def _raised_by_pygithub(exc: BaseException) -> bool:
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and frames[-1].filename.replace("\\", "/").endswith("/github/Requester.py")
