"""Which comments on a pull request are reviewbot's own: the only ones it reads state from,
edits or deletes.

A comment is reviewbot's when its author is the account reviewbot posts as:

* a GitHub App: ``<slug>[bot]``, the slug from ``GET /app`` with the App's JWT
  (:meth:`reviewbot.github.auth.InstallationTokens.bot_login`);
* a personal or fine-grained token: the login ``GET /user`` answers;
* the Actions ``GITHUB_TOKEN``: ``github-actions[bot]``. That account is **shared** by every
  workflow of the repository, so another workflow (one that echoes a PR's title into a
  comment, say) can write text that looks like reviewbot's. There, and wherever the login is
  unknown, authorship proves nothing: reviewbot trusts a comment only when its body carries a
  valid signature, an HMAC-SHA256 keyed by a secret the operator provides
  (``REVIEWBOT_MARKER_KEY``; the Action's ``marker-key`` input) over the repository, the pull
  request number and the whole body. Without a key such comments are never trusted: every
  run is a full review, nothing is edited or deleted, and a fresh summary is posted.

With a key, every body reviewbot posts is signed and a comment is trusted only when the
author matches (where known) *and* the signature verifies, so a key also protects unique
logins against a leaked token being used to plant state.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

import github

from reviewbot.errors import ConfigError

ACTIONS_LOGIN = "github-actions[bot]"
_SIG = re.compile(r"^<!-- reviewbot:sig=([0-9a-f]{64}) -->$")
MIN_KEY_BYTES = 16


def _normalised(body: str) -> bytes:
    """The body as signed: line endings and trailing blanks do not count (GitHub may turn
    ``\\n`` into ``\\r\\n`` when a body is edited in the web UI)."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(ln.rstrip() for ln in lines).strip().encode("utf-8", "surrogateescape")


def body_digest(body: str) -> str:
    """A comment body's digest, as compared by :func:`reviewbot.github.plan.make_plan`."""
    return hashlib.sha256(_normalised(body)).hexdigest()


@dataclass(frozen=True, slots=True)
class Identity:
    """The account reviewbot posts as, and how its comments are told apart from others'."""

    login: str | None = None
    """None when unknown (then only signed comments can be trusted)."""
    shared: bool = False
    """Other writers post as ``login`` too (``github-actions[bot]``)."""
    key: bytes | None = None
    """The marker key: sign what is posted, trust only what verifies."""
    context: str = ""
    """``owner/repo#number``: signatures are bound to one pull request."""

    @property
    def verifiable(self) -> bool:
        """Can reviewbot tell its own comments from others' on this PR at all?"""
        return self.key is not None or (self.login is not None and not self.shared)

    def for_pull(self, repo_full_name: str, number: int) -> Identity:
        return Identity(self.login, self.shared, self.key, f"{repo_full_name}#{number}")

    def _mac(self, body: str) -> str:
        assert self.key is not None
        msg = self.context.encode("utf-8") + b"\n" + _normalised(body)
        return hmac.new(self.key, msg, hashlib.sha256).hexdigest()

    def seal(self, body: str) -> str:
        """``body`` as posted: with a signature line when there is a key."""
        if self.key is None:
            return body
        body = body.rstrip("\n")
        return f"{body}\n<!-- reviewbot:sig={self._mac(body)} -->"

    def same_login(self, user: object) -> bool:
        """Written by the login reviewbot posts as (which proves nothing when shared)."""
        return self.login is not None and isinstance(user, dict) and user.get("login") == self.login

    def owns(self, user: object, body: str | None) -> bool:
        """Is a comment by ``user`` (the API's user object) with ``body`` reviewbot's?"""
        if not isinstance(user, dict):
            return False
        if self.login is not None and user.get("login") != self.login:
            return False
        if self.key is None:
            return self.login is not None and not self.shared
        lines = (body or "").rstrip().splitlines()
        if not lines:
            return False
        m = _SIG.match(lines[-1].strip())
        if m is None:
            return False
        return hmac.compare_digest(m.group(1), self._mac("\n".join(lines[:-1])))


def marker_key(env: Mapping[str, str]) -> bytes | None:
    """``REVIEWBOT_MARKER_KEY`` (at least 16 bytes), or None when unset."""
    raw = env.get("REVIEWBOT_MARKER_KEY", "")
    if not raw:
        return None
    key = raw.strip().encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"REVIEWBOT_MARKER_KEY is too short ({len(key)} bytes)",
            hint=f"use a random secret of at least {MIN_KEY_BYTES} bytes, e.g. "
            "`openssl rand -hex 32`, stored as a repository secret",
        )
    return key


def user_login(gh: github.Github) -> str | None:
    """The token's own login (``GET /user``); None for Actions and App installation tokens,
    which GitHub refuses it to."""
    try:
        _, data = gh.requester.requestJsonAndCheck("GET", "/user")
    except github.GithubException:
        return None
    login = data.get("login") if isinstance(data, dict) else None
    return str(login) if login else None


def detect_identity(
    gh: github.Github,
    env: Mapping[str, str],
    *,
    bot_login: str | None = None,
    in_actions: bool = False,
) -> Identity:
    """Who reviewbot posts as: ``bot_login`` when the caller knows it (a GitHub App's
    ``<slug>[bot]``), else ``REVIEWBOT_BOT_LOGIN``, else ``GET /user``, else, inside Actions,
    the shared ``github-actions[bot]``; unknown otherwise."""
    key = marker_key(env)
    login = bot_login or (env.get("REVIEWBOT_BOT_LOGIN") or "").strip() or None
    if login is None:
        login = user_login(gh)
    if login is None and in_actions:
        return Identity(ACTIONS_LOGIN, shared=True, key=key)
    return Identity(login, shared=login == ACTIONS_LOGIN, key=key)
