"""The job runner: one queued job -> one run of the GitHub review flow.

It authenticates as the App installation (or with ``REVIEWBOT_GITHUB_TOKEN``), confirms the
write access of whoever typed a ``/review`` command, and calls
:func:`reviewbot.github.flow.review_pull_request` - the same engine and publisher as the
Action and ``reviewbot pr``. The server's own settings (``--config`` file, ``REVIEWBOT_*``)
are the defaults a repository's ``.reviewbot.yml`` refines, except the backend, the LLM and
local-model settings and ``tests.run``, which are the operator's alone (see
:func:`pinned_settings`): model-written tests never run here unless the operator enables
``tests.run``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reviewbot.errors import ConfigError, GitHubError
from reviewbot.server.events import JobMode, JobSpec
from reviewbot.server.ledger import JobOutcome
from reviewbot.server.metrics import Metrics, TimedBackend
from reviewbot.server.settings import Settings
from reviewbot.server.worker import JobResult, PermanentJobError

if TYPE_CHECKING:
    import github

    from reviewbot.backends.base import Backend
    from reviewbot.config import Config

log = logging.getLogger("reviewbot.server.runner")

WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})
PINNED_SECTIONS = ("llm", "local")
DEFAULT_JOB_BUDGET_S = 600.0
"""A job's time budget when the operator sets no ``time_budget``: one pathological pull
request must not hold a worker for as long as it likes."""
"""Settings only the operator decides: where code is sent and with which key."""
GithubFactory = Callable[[JobSpec], "github.Github"]


def check_private_key(app_id: str, private_key: str) -> None:
    """Fail at start-up, not at the first job, when the key cannot sign an App JWT."""
    import time

    import jwt

    now = int(time.time())
    try:
        jwt.encode(
            {"iat": now - 60, "exp": now + 540, "iss": app_id}, private_key, algorithm="RS256"
        )
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ConfigError(
            f"the GitHub App private key cannot sign a JWT ({type(exc).__name__})",
            hint="REVIEWBOT_GITHUB_PRIVATE_KEY_FILE must be the App's .pem private key",
        ) from None


def github_factory(settings: Settings) -> GithubFactory:
    """Clients per job: the installation's token (cached per installation) or the static one."""
    from reviewbot.github.auth import InstallationTokens, Secret, make_github

    settings.require_github_auth()
    delay = settings.write_delay
    if settings.github_token:
        token = Secret(settings.github_token)
        return lambda spec: make_github(
            token, settings.github_api_url, seconds_between_writes=delay
        )
    assert settings.app_id and settings.private_key
    check_private_key(settings.app_id, settings.private_key)
    tokens = InstallationTokens(
        settings.app_id, Secret(settings.private_key), settings.github_api_url
    )
    return lambda spec: tokens.github_for(
        spec.installation_id, spec.repo, seconds_between_writes=delay
    )


def pinned_settings(config: Config) -> dict[str, Any]:
    """The server's backend, ``llm.*``, ``local.*`` and ``tests.run`` as dotted overrides.

    A repository's ``.reviewbot.yml`` must not point the server at another LLM endpoint (it
    would receive the operator's API key and every reviewed file) nor make it run
    model-written code, so these sit above the repository's file.
    """
    import dataclasses

    out: dict[str, Any] = {
        "backend": config.backend,
        "tests.run": config.tests.run,
        "time_budget": config.time_budget or DEFAULT_JOB_BUDGET_S,
    }
    for section in PINNED_SECTIONS:
        for f in dataclasses.fields(getattr(config, section)):
            out[f"{section}.{f.name}"] = getattr(getattr(config, section), f.name)
    return out


class GitHubJobRunner:
    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        make_gh: GithubFactory,
        *,
        review: Callable[..., Any] | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.make_gh = make_gh
        self._review = review

    def _backend(self, config: Config) -> Backend:
        from reviewbot.backends import create_backend

        return TimedBackend(create_backend(config), self.metrics)

    def _may_command(self, gh: github.Github, spec: JobSpec) -> bool:
        """Ask GitHub whether the commenter has write access (the decisive check)."""
        assert spec.requested_by is not None
        permission = gh.get_repo(spec.repo).get_collaborator_permission(spec.requested_by)
        return str(permission).lower() in WRITE_PERMISSIONS

    def __call__(self, job_id: str, spec: JobSpec) -> JobResult:
        import github

        try:
            return self._run(spec)
        except github.GithubException as exc:
            self.metrics.github_errors.labels(str(exc.status)).inc()
            if exc.status in (404, 410):
                raise PermanentJobError(
                    f"GitHub answered {exc.status} for {spec.repo}#{spec.number}",
                    hint="the pull request or repository is gone, or the App lost access",
                ) from None
            raise GitHubError(
                f"GitHub answered {exc.status} for {spec.repo}#{spec.number}"
            ) from None
        except GitHubError:
            self.metrics.github_errors.labels("error").inc()
            raise
        except ConfigError as exc:
            # the base branch's .reviewbot.yml is broken: the check run says so (see
            # github.publish_step.report_config_error); retrying cannot help until it is fixed
            raise PermanentJobError(exc.message, hint=exc.hint) from None

    def _run(self, spec: JobSpec) -> JobResult:
        gh = self.make_gh(spec)
        if spec.requested_by and not self._may_command(gh, spec):
            return JobResult(
                JobOutcome.DENIED,
                f"{spec.requested_by} has no write access; {spec.trigger} ignored",
            )
        review = self._review
        if review is None:
            from reviewbot.github.flow import review_pull_request

            review = review_pull_request
        overrides = pinned_settings(self.settings.config)
        if spec.mode == JobMode.TESTS:
            overrides["tests.enabled"] = True
        defaults = {**dict(self.settings.config_file), "tests.run": False}
        outcome = review(
            gh,
            spec.repo,
            spec.number,
            env=dict(self.settings.review_env),
            base_config_defaults=defaults,
            full=spec.mode in (JobMode.FULL, JobMode.TESTS),
            backend_factory=self._backend,
            overrides=overrides,
        )
        detail = (
            f"head {str(outcome.head_sha)[:12]}: {outcome.comments_posted} comments "
            f"posted, {outcome.comments_skipped_existing} already there, "
            f"{outcome.findings_total} findings"
        )
        if outcome.read_only:
            detail += " (read-only token: nothing posted)"
        stopped = outcome.result.stopped if outcome.result is not None else None
        if stopped:
            self.metrics.reviews_stopped.inc()
            detail += f"; {stopped}"
        return JobResult(JobOutcome.DONE, detail)
