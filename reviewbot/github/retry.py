"""Retries that never duplicate a write.

PyGithub's default :class:`github.GithubRetry` retries POST on every 5xx. GitHub sometimes
answers 502 *after* it has created the review or comment, so a blind retry posts it twice.
Here:

* the transport retry (:func:`safe_retry`) retries only idempotent methods (GET, HEAD,
  OPTIONS, PUT, DELETE) on 5xx/429 and secondary rate limits (403 with ``Retry-After`` or a
  rate-limit message), sleeping ``Retry-After`` when GitHub sends it;
* every POST and PATCH goes through :func:`write_once`: a rate-limited write was not applied
  and is retried after ``Retry-After``; after a 5xx or a dropped connection the write *may*
  have landed, so ``landed()`` looks for it (by its hidden marker) before trying again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import requests
from github import GithubException, GithubRetry

from reviewbot.errors import GitHubError

T = TypeVar("T")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_WAIT_S = 120.0
"""Longest rate-limit wait reviewbot accepts before giving up with an error."""


def safe_retry(
    total: int = 5, backoff_factor: float = 0.5, max_wait: float = MAX_WAIT_S
) -> GithubRetry:
    """The transport retry for :func:`reviewbot.github.auth.make_github`: no POST/PATCH."""
    return GithubRetry(
        total=total,
        backoff_factor=backoff_factor,
        allowed_methods=IDEMPOTENT_METHODS,
        status_forcelist=list(RETRY_STATUSES),
        secondary_rate_wait=min(60.0, max_wait),
        max_rate_limit_wait=max_wait,
        raise_on_status=False,
    )


def retry_after_seconds(exc: GithubException) -> float | None:
    """Seconds to wait when ``exc`` is a (secondary) rate limit, else None."""
    if exc.status not in (403, 429):
        return None
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    value = headers.get("retry-after")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            return 60.0
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
        try:
            return max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 1.0
        except ValueError:
            return 60.0
    message = str((exc.data or {}).get("message", "")) if isinstance(exc.data, dict) else ""
    if "rate limit" in message.lower():
        return 60.0
    return None


def is_forbidden(exc: GithubException) -> bool:
    """403/404 that is not a rate limit: the token may not write here."""
    return exc.status in (401, 403, 404) and retry_after_seconds(exc) is None


def write_once(
    action: Callable[[], T],
    *,
    what: str,
    landed: Callable[[], T | None] | None = None,
    attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
    max_wait: float = MAX_WAIT_S,
) -> T:
    """Run a non-idempotent write so that it takes effect exactly once.

    ``landed`` returns the written object when an earlier attempt already took effect (found
    by its marker), else None; without it the write is treated as safe to repeat (an edit
    that sets the same content).
    """
    last: Exception | None = None
    for attempt in range(attempts):
        if attempt and landed is not None and last is not None:
            found = landed()
            if found is not None:
                return found
        try:
            return action()
        except GithubException as exc:
            wait = retry_after_seconds(exc)
            if wait is not None:
                if wait > max_wait:
                    raise GitHubError(
                        f"GitHub rate limit while trying to {what}: retry after {wait:.0f}s",
                        hint="run again later, or lower how often reviewbot runs",
                    ) from None
                sleep(wait)
                last = None  # a rate-limited write was not applied: no need to look for it
                continue
            if exc.status < 500:
                raise
            last = exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            last = exc
        sleep(min(2.0**attempt * 0.5, 8.0))
    if landed is not None:
        found = landed()
        if found is not None:
            return found
    raise GitHubError(
        f"GitHub kept failing while trying to {what}: {_describe(last)}",
        hint="GitHub may be having an outage (https://www.githubstatus.com); run again later",
    )


def _describe(exc: Exception | None) -> str:
    if isinstance(exc, GithubException):
        return f"HTTP {exc.status}"
    return type(exc).__name__ if exc else "rate limited"
