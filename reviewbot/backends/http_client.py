"""HTTP for OpenAI-compatible servers: one pooled client, retries, readable errors.

Policy (the numbers are config defaults, see :class:`reviewbot.config.LLMConfig`):

- connect timeout 5 s, read timeout 180 s (a 7B model writing 1,000 tokens on a busy GPU);
- retried, with exponential backoff and full jitter: connection errors (refused, reset, DNS,
  connect timeout), HTTP 429 (``Retry-After`` honoured, capped) and 5xx;
- never retried: other 4xx (the request itself is wrong; sending it again cannot help) and
  read timeouts (the server accepted the work and is slow; a resend would queue it twice).

Errors are returned as :class:`HttpFailure` values, not raised, so one failed request never
stops the others. Server error bodies are parsed in both of vLLM's shapes
(``{"object": "error", "message": ...}`` and ``{"error": {"message": ...}}``) and FastAPI's
``{"detail": ...}`` (llama-cpp-python).
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

BACKOFF_BASE_S = 0.5
"""First retry waits up to this long; each later one up to twice the previous."""
BACKOFF_CAP_S = 8.0
RETRY_AFTER_CAP_S = 60.0
"""A server asking for a longer pause than this is waited on for this long only."""
ERROR_TEXT_LIMIT = 300


@dataclass(frozen=True, slots=True)
class HttpSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 180.0
    retries: int = 3
    concurrency: int = 16
    api_key: str | None = None

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            self.read_timeout,
            connect=self.connect_timeout,
            pool=self.read_timeout + self.connect_timeout,
        )


@dataclass(frozen=True, slots=True)
class HttpFailure:
    """Why a request produced no answer; ``status`` is None for transport errors."""

    reason: str
    status: int | None = None
    connection: bool = False
    """True when the server could not be reached at all (refused, DNS, connect timeout)."""
    attempts: int = 1
    read_timeout: bool = False
    """True when the server took the request and sent no answer within llm.read_timeout."""


def make_client(
    settings: HttpSettings, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """One client shared by every worker thread (httpx.Client is thread-safe)."""
    headers = {"User-Agent": "reviewbot", "Accept": "application/json"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    limits = httpx.Limits(
        max_connections=max(settings.concurrency, 1) + 4,
        max_keepalive_connections=max(settings.concurrency, 1) + 4,
    )
    return httpx.Client(
        timeout=settings.timeout(),
        limits=limits,
        headers=headers,
        transport=transport,
        follow_redirects=False,
    )


def error_message(response: httpx.Response) -> str:
    """The server's own error message, one line, bounded."""
    text = ""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            text = str(inner.get("message") or "")
        elif isinstance(inner, str):
            text = inner
        if not text and body.get("message") is not None:
            text = str(body["message"])
        if not text and body.get("detail") is not None:
            detail = body["detail"]
            text = detail if isinstance(detail, str) else json.dumps(detail)
    if not text:
        text = response.text.strip() or response.reason_phrase
    text = " ".join(text.split())
    return text if len(text) <= ERROR_TEXT_LIMIT else text[: ERROR_TEXT_LIMIT - 3] + "..."


def retry_after(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asked us to wait (delta-seconds or an HTTP date), capped."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - now()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_S)


def backoff(attempt: int, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)]; attempt counts from 0."""
    return rng.uniform(0.0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))


def _transport_reason(exc: httpx.HTTPError, url: str, settings: HttpSettings) -> HttpFailure:
    if isinstance(exc, httpx.ConnectTimeout):
        return HttpFailure(
            f"could not connect to {url} within {settings.connect_timeout:g} s "
            "(llm.connect_timeout)",
            connection=True,
        )
    if isinstance(exc, httpx.ConnectError):
        detail = str(exc) or "connection failed"
        if "refused" in detail.lower():
            detail = "connection refused"
        return HttpFailure(f"no LLM server at {url} ({detail})", connection=True)
    if isinstance(exc, httpx.ReadTimeout):
        return HttpFailure(
            f"no answer within {settings.read_timeout:g} s (llm.read_timeout)", read_timeout=True
        )
    if isinstance(exc, httpx.TimeoutException):
        return HttpFailure(f"timed out talking to {url}: {type(exc).__name__}")
    return HttpFailure(f"connection to {url} failed: {type(exc).__name__}: {exc}", connection=True)


class Requester:
    """Sends JSON requests with the retry policy above. Thread-safe."""

    def __init__(
        self,
        client: httpx.Client,
        settings: HttpSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.sleep = sleep
        self.rng = rng or random.Random()

    def request(
        self,
        method: str,
        url: str,
        body: Any = None,
        retries: int | None = None,
        retry_connect: bool = True,
    ) -> httpx.Response | HttpFailure:
        """The successful (2xx) response, or why there is none.

        ``retry_connect=False`` gives up at once when no connection can be made (used by the
        first contact with the server, so a hook falls back to static checks without delay).
        """
        budget = self.settings.retries if retries is None else retries
        attempt = 0
        while True:
            wait: float | None = None
            try:
                response = self.client.request(method, url, json=body)
            except httpx.ReadTimeout as exc:
                return _with_attempts(_transport_reason(exc, url, self.settings), attempt)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                failure = _transport_reason(exc, url, self.settings)
                if not retry_connect:
                    return _with_attempts(failure, attempt)
            except httpx.HTTPError as exc:
                failure = _transport_reason(exc, url, self.settings)
            else:
                if response.is_success:
                    return response
                status = response.status_code
                failure = HttpFailure(
                    f"HTTP {status} from {url}: {error_message(response)}", status=status
                )
                if status == 429:
                    wait = retry_after(response)
                elif status < 500:
                    return _with_attempts(failure, attempt)
            if attempt >= budget:
                return _with_attempts(failure, attempt)
            self.sleep(wait if wait is not None else backoff(attempt, self.rng))
            attempt += 1


def _with_attempts(failure: HttpFailure, attempt: int) -> HttpFailure:
    return HttpFailure(
        failure.reason, failure.status, failure.connection, attempt + 1, failure.read_timeout
    )


def decode_json(response: httpx.Response) -> Any:
    """The body as JSON, or raise ValueError with a short description."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        snippet = " ".join(response.text[:120].split())
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ValueError(f"server sent a body that is not JSON ({why}): {snippet!r}") from exc
