"""GitHub clients: a token, or a GitHub App (JWT -> installation token, cached).

Tokens are passed to PyGithub's ``Auth`` objects and never formatted into messages; a
:class:`Secret` wrapper keeps them out of ``repr`` and logs.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import github
from github import Auth
from urllib3 import Retry

from reviewbot import __version__
from reviewbot.errors import GitHubError
from reviewbot.github.retry import safe_retry

DEFAULT_API_URL = "https://api.github.com"
WRITE_DELAY_S = 1.0
"""GitHub asks integrations to wait at least a second between writes (secondary limits)."""


_LOGINS: weakref.WeakKeyDictionary[github.Github, str] = weakref.WeakKeyDictionary()
"""Clients whose posting account is known from their credentials (GitHub App installations)."""


def known_login(gh: github.Github) -> str | None:
    """The login ``gh`` posts as, when its credentials tell (``<slug>[bot]`` for an App)."""
    return _LOGINS.get(gh)


@dataclass(frozen=True, slots=True)
class Secret:
    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret(****)"

    __str__ = __repr__


def make_github(
    token: str | Secret | None,
    base_url: str = DEFAULT_API_URL,
    *,
    auth: Auth.Auth | None = None,
    retry: Retry | None = None,
    timeout: int = 30,
    seconds_between_writes: float = WRITE_DELAY_S,
    per_page: int = 100,
) -> github.Github:
    """A PyGithub client with reviewbot's safe retry policy (:mod:`reviewbot.github.retry`).

    ``token``: a personal, Actions or installation token; ``auth`` instead for other PyGithub
    auth objects (e.g. ``Auth.AppInstallationAuth``). ``base_url`` is the REST root
    (``https://api.github.com``, or ``https://HOST/api/v3`` for GitHub Enterprise Server).
    """
    # PyGithub attaches a stderr handler at INFO to its logger on import, which prints every
    # retried request; reviewbot reports what matters itself.
    logging.getLogger("github").setLevel(logging.WARNING)
    if auth is None and token is not None:
        auth = Auth.Token(token.value if isinstance(token, Secret) else token)
    return github.Github(
        auth=auth,
        base_url=base_url.rstrip("/"),
        timeout=timeout,
        user_agent=f"reviewbot/{__version__}",
        per_page=per_page,
        retry=retry if retry is not None else safe_retry(),
        seconds_between_requests=None,
        seconds_between_writes=seconds_between_writes or None,
    )


def token_from_env(env: Mapping[str, str]) -> Secret | None:
    """``REVIEWBOT_GITHUB_TOKEN`` (preferred: an explicit choice) or ``GITHUB_TOKEN``."""
    for key in ("REVIEWBOT_GITHUB_TOKEN", "GITHUB_TOKEN"):
        value = env.get(key, "").strip()
        if value:
            return Secret(value)
    return None


def api_url_from_env(env: Mapping[str, str]) -> str:
    return (
        env.get("REVIEWBOT_GITHUB_API_URL") or env.get("GITHUB_API_URL") or DEFAULT_API_URL
    ).rstrip("/")


@dataclass(frozen=True, slots=True)
class _Cached:
    token: Secret
    expires_at: float


@dataclass(slots=True)
class InstallationTokens:
    """GitHub App credentials -> installation tokens, cached until 5 minutes before expiry.

    One instance per process (the webhook server keeps one); thread-safe.
    """

    app_id: str
    private_key: Secret
    base_url: str = DEFAULT_API_URL
    refresh_margin_s: float = 300.0
    clock: object = time.time
    _cache: dict[int, _Cached] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _login: str | None = None

    def _integration(self) -> github.GithubIntegration:
        return github.GithubIntegration(
            auth=Auth.AppAuth(self.app_id, self.private_key.value),
            base_url=self.base_url.rstrip("/"),
            retry=safe_retry(),
            user_agent=f"reviewbot/{__version__}",
            seconds_between_requests=None,
            seconds_between_writes=None,
        )

    def bot_login(self) -> str:
        """The account the App's installations post as: ``<slug>[bot]`` (``GET /app``)."""
        if self._login is None:
            try:
                slug = self._integration().get_app().slug
            except github.GithubException as exc:
                raise GitHubError(
                    f"cannot read the GitHub App's own record (GET /app, HTTP {exc.status})",
                    hint="check the app id and that the private key is the app's current key",
                ) from None
            if not slug:
                raise GitHubError("GitHub did not say the GitHub App's slug (GET /app)")
            self._login = f"{slug}[bot]"
        return self._login

    def installation_id(self, repo_full_name: str) -> int:
        owner, _, repo = repo_full_name.partition("/")
        try:
            return int(self._integration().get_repo_installation(owner, repo).id)
        except github.GithubException as exc:
            if exc.status == 401:
                raise GitHubError(
                    "GitHub refused the GitHub App's credentials (HTTP 401)",
                    hint="check the app id and that the private key is the app's current key",
                ) from None
            raise GitHubError(
                f"the GitHub App is not installed on {repo_full_name} (HTTP {exc.status})",
                hint="install the app on the repository",
            ) from None

    def token(self, installation_id: int) -> Secret:
        now = float(self.clock())  # type: ignore[operator]
        with self._lock:
            hit = self._cache.get(installation_id)
            if hit is not None and hit.expires_at - self.refresh_margin_s > now:
                return hit.token
            try:
                auth = self._integration().get_access_token(installation_id)
            except github.GithubException as exc:
                raise GitHubError(
                    f"could not get an installation token for installation {installation_id} "
                    f"(HTTP {exc.status})",
                    hint="check the app id and private key, and that the app is installed",
                ) from None
            expires = auth.expires_at.timestamp() if auth.expires_at else now + 3600
            cached = _Cached(Secret(auth.token), expires)
            self._cache[installation_id] = cached
            return cached.token

    def github_for(
        self,
        installation_id: int | None = None,
        repo_full_name: str | None = None,
        **kwargs: object,
    ) -> github.Github:
        """A client authenticated as the installation (looked up by repo when no id)."""
        if installation_id is None:
            if repo_full_name is None:
                raise GitHubError("an installation id or a repository is needed")
            installation_id = self.installation_id(repo_full_name)
        login = self.bot_login()
        gh = make_github(self.token(installation_id), self.base_url, **kwargs)  # type: ignore[arg-type]
        _LOGINS[gh] = login
        return gh


def client_from_env(
    env: Mapping[str, str], repo_full_name: str | None = None, *, required: bool = True
) -> github.Github:
    """A client from the environment of ``reviewbot pr`` / ``reviewbot action``.

    ``REVIEWBOT_GITHUB_TOKEN`` or ``GITHUB_TOKEN``; else a GitHub App
    (``REVIEWBOT_GITHUB_APP_ID`` and ``REVIEWBOT_GITHUB_PRIVATE_KEY`` or
    ``REVIEWBOT_GITHUB_PRIVATE_KEY_FILE``) installed on ``repo_full_name``. The API root is
    ``REVIEWBOT_GITHUB_API_URL`` or ``GITHUB_API_URL``; ``REVIEWBOT_GITHUB_WRITE_DELAY``
    (seconds between writes, default 1) exists for tests against a local fake.
    """
    base = api_url_from_env(env)
    if not base.startswith(("http://", "https://")):
        raise GitHubError(
            f"the GitHub API URL must be http(s), got {base!r}",
            hint="set REVIEWBOT_GITHUB_API_URL or GITHUB_API_URL",
        )
    try:
        delay = float(env.get("REVIEWBOT_GITHUB_WRITE_DELAY") or WRITE_DELAY_S)
    except ValueError:
        raise GitHubError("REVIEWBOT_GITHUB_WRITE_DELAY must be a number of seconds") from None
    token = token_from_env(env)
    if token is not None:
        return make_github(token, base, seconds_between_writes=delay)
    app_id = (env.get("REVIEWBOT_GITHUB_APP_ID") or "").strip()
    key = env.get("REVIEWBOT_GITHUB_PRIVATE_KEY") or ""
    key_file = env.get("REVIEWBOT_GITHUB_PRIVATE_KEY_FILE")
    if not key and key_file:
        try:
            with open(key_file, encoding="utf-8") as fh:
                key = fh.read()
        except OSError as exc:
            raise GitHubError(
                f"cannot read REVIEWBOT_GITHUB_PRIVATE_KEY_FILE: {exc.strerror}",
            ) from None
    if app_id and key and repo_full_name:
        tokens = InstallationTokens(app_id, Secret(key), base)
        return tokens.github_for(repo_full_name=repo_full_name, seconds_between_writes=delay)
    if not required:
        return make_github(None, base, seconds_between_writes=delay)
    raise GitHubError(
        "no GitHub credentials",
        hint="set GITHUB_TOKEN or REVIEWBOT_GITHUB_TOKEN (in a workflow: the github-token "
        "input), or REVIEWBOT_GITHUB_APP_ID with REVIEWBOT_GITHUB_PRIVATE_KEY_FILE",
    )
