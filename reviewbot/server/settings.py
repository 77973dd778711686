"""Server settings: read once from the environment (and an optional config file) at start-up.

| variable | meaning |
|---|---|
| ``REVIEWBOT_WEBHOOK_SECRET`` / ``REVIEWBOT_WEBHOOK_SECRET_FILE`` | the GitHub App webhook secret |
| ``REVIEWBOT_GITHUB_APP_ID`` | the App id (JWT issuer) |
| ``REVIEWBOT_GITHUB_PRIVATE_KEY_FILE`` / ``REVIEWBOT_GITHUB_PRIVATE_KEY`` | the App's PEM key |
| ``REVIEWBOT_GITHUB_TOKEN`` | instead of an App: one token for every repository (single-account) |
| ``REVIEWBOT_GITHUB_API_URL`` | ``https://api.github.com`` or a GitHub Enterprise ``/api/v3`` URL |
| ``REVIEWBOT_QUEUE_URL`` | a SQLite path (default ``reviewbot-queue.db``) or ``redis://...`` |
| ``REVIEWBOT_MAX_BODY_BYTES`` | webhook body limit (default 25 MiB, GitHub's own cap) |
| ``REVIEWBOT_MAX_BODY_TOTAL_BYTES`` | body bytes all requests hold at once (100 MiB; then 503) |
| ``REVIEWBOT_HEADER_TIMEOUT_SECONDS`` | seconds for a request's line and headers (default 10) |
| ``REVIEWBOT_BODY_TIMEOUT_SECONDS`` | seconds for its body after the headers (default 30; 408) |
| ``REVIEWBOT_KEEPALIVE_TIMEOUT_SECONDS`` | idle kept-alive connections close after (default 5) |
| ``REVIEWBOT_JOB_LEASE_SECONDS`` | how long a worker owns a running job without a heartbeat |
| ``REVIEWBOT_JOB_MAX_ATTEMPTS`` | runs of one job (crashes and errors) before it is failed |
| ``REVIEWBOT_DELIVERY_TTL_HOURS`` | how long a delivery id is remembered (default 168) |
| ``REVIEWBOT_GITHUB_WRITE_DELAY`` | seconds between GitHub writes (default 1, GitHub's advice) |

Secrets are kept out of ``repr`` so a logged or printed ``Settings`` never shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewbot.config import ENV_KEYS, Config, load_config, parse_yaml_config
from reviewbot.errors import ConfigError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_QUEUE_PATH = "reviewbot-queue.db"
DEFAULT_MAX_BODY = 25 * 1024 * 1024
DEFAULT_MAX_BODY_TOTAL = 4 * DEFAULT_MAX_BODY
IDENTITY_ENV = ("REVIEWBOT_MARKER_KEY", "REVIEWBOT_BOT_LOGIN")
"""Passed to reviews with the config keys (see :mod:`reviewbot.github.identity`)."""


@dataclass(frozen=True, slots=True)
class QueueURL:
    kind: str
    """``sqlite`` or ``redis``."""
    target: str
    """The SQLite file path, or the Redis URL."""

    @classmethod
    def parse(cls, raw: str | None) -> QueueURL:
        text = (raw or "").strip() or DEFAULT_QUEUE_PATH
        if text.startswith(("redis://", "rediss://", "unix://")):
            return cls("redis", text)
        if text.startswith("sqlite:///"):
            text = "/" + text[len("sqlite:///") :].lstrip("/")
        elif text.startswith("sqlite://"):
            text = text[len("sqlite://") :]
        elif "://" in text:
            raise ConfigError(
                f"REVIEWBOT_QUEUE_URL: unsupported scheme in {text.split('://')[0]!r}",
                hint="use a SQLite file path or redis://host:port/db",
            )
        return cls("sqlite", text)

    def describe(self) -> str:
        """For logs: the Redis URL without its password."""
        if self.kind == "sqlite":
            return f"sqlite:{self.target}"
        from urllib.parse import urlsplit

        parts = urlsplit(self.target)
        host = parts.hostname or "localhost"
        return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path}"


@dataclass(frozen=True, slots=True)
class Settings:
    queue: QueueURL
    github_api_url: str = DEFAULT_API_URL
    webhook_secret: bytes = field(default=b"", repr=False)
    app_id: str | None = None
    private_key: str | None = field(default=None, repr=False)
    github_token: str | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY
    max_body_total_bytes: int = DEFAULT_MAX_BODY_TOTAL
    """Body bytes all requests in flight may hold together; a request over it gets 503."""
    header_timeout: float = 10.0
    """Seconds for a request's line and headers (from connect, or the request's first byte)."""
    body_timeout: float = 30.0
    """Seconds for a request's body, from the end of its headers."""
    keepalive_timeout: float = 5.0
    """Seconds an idle kept-alive connection stays open."""
    lease_seconds: float = 120.0
    max_attempts: int = 5
    delivery_ttl_seconds: float = 168 * 3600.0
    """GitHub lets users redeliver deliveries of the past 3 days; remember ids longer."""
    write_delay: float = 1.0
    config: Config = field(default_factory=Config)
    """Server-wide review config (LLM settings, ``review_drafts``); repositories refine it."""
    config_file: tuple[tuple[str, Any], ...] = ()
    """The server's ``--config`` file as dotted keys (repository files may refine them)."""
    review_env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """The ``REVIEWBOT_*`` review settings handed to the review flow (may hold an API key)."""

    def require_secret(self) -> bytes:
        if not self.webhook_secret:
            raise ConfigError(
                "no webhook secret configured",
                hint="set REVIEWBOT_WEBHOOK_SECRET or REVIEWBOT_WEBHOOK_SECRET_FILE to the "
                "secret entered in the GitHub App settings",
            )
        return self.webhook_secret

    def require_github_auth(self) -> None:
        if self.github_token:
            return
        if not self.app_id or not self.private_key:
            raise ConfigError(
                "no GitHub App credentials configured",
                hint="set REVIEWBOT_GITHUB_APP_ID and REVIEWBOT_GITHUB_PRIVATE_KEY_FILE (the .pem "
                "downloaded from the App settings), or REVIEWBOT_GITHUB_TOKEN",
            )


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _read_secret_file(path: str, var: str, cwd: Path | None) -> str:
    full = (cwd / path) if cwd is not None else Path(path)
    try:
        return full.expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"{var}: cannot read {path}: {exc.strerror}",
            hint=f"check the path in {var} and its permissions",
        ) from None


def _number(env: Mapping[str, str], var: str, default: float, low: float) -> float:
    raw = env.get(var, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{var} must be a number, got {raw!r}") from None
    if value < low:
        raise ConfigError(f"{var} must be at least {low:g}, got {raw!r}")
    return value


def load_settings(
    env: Mapping[str, str], config_path: Path | None = None, cwd: Path | None = None
) -> Settings:
    """Read the settings; relative file paths (queue, secret, key) are taken from ``cwd``."""
    secret = env.get("REVIEWBOT_WEBHOOK_SECRET", "")
    if not secret and env.get("REVIEWBOT_WEBHOOK_SECRET_FILE"):
        secret = _read_secret_file(
            env["REVIEWBOT_WEBHOOK_SECRET_FILE"], "REVIEWBOT_WEBHOOK_SECRET_FILE", cwd
        )
    key = env.get("REVIEWBOT_GITHUB_PRIVATE_KEY") or None
    if key is None and env.get("REVIEWBOT_GITHUB_PRIVATE_KEY_FILE"):
        key = _read_secret_file(
            env["REVIEWBOT_GITHUB_PRIVATE_KEY_FILE"], "REVIEWBOT_GITHUB_PRIVATE_KEY_FILE", cwd
        )
    api_url = (env.get("REVIEWBOT_GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"REVIEWBOT_GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
    if config_path is not None and cwd is not None:
        config_path = cwd / config_path
    config = load_config(None, config_path, env)
    file_values: dict[str, Any] = {}
    if config_path is not None:
        file_values = _flatten(
            parse_yaml_config(config_path.read_text(encoding="utf-8"), str(config_path))
        )
    queue = QueueURL.parse(env.get("REVIEWBOT_QUEUE_URL"))
    max_body = int(_number(env, "REVIEWBOT_MAX_BODY_BYTES", DEFAULT_MAX_BODY, 1024))
    max_total = int(
        _number(env, "REVIEWBOT_MAX_BODY_TOTAL_BYTES", max(DEFAULT_MAX_BODY_TOTAL, max_body), 1024)
    )
    if max_total < max_body:
        raise ConfigError(
            f"REVIEWBOT_MAX_BODY_TOTAL_BYTES ({max_total}) is below "
            f"REVIEWBOT_MAX_BODY_BYTES ({max_body})",
            hint="the total must leave room for at least one request",
        )
    if queue.kind == "sqlite" and cwd is not None:
        queue = QueueURL("sqlite", str(cwd / Path(queue.target).expanduser()))
    return Settings(
        queue=queue,
        github_api_url=api_url,
        webhook_secret=secret.encode("utf-8"),
        app_id=(env.get("REVIEWBOT_GITHUB_APP_ID") or "").strip() or None,
        private_key=key,
        github_token=env.get("REVIEWBOT_GITHUB_TOKEN") or None,
        max_body_bytes=max_body,
        max_body_total_bytes=max_total,
        header_timeout=_number(env, "REVIEWBOT_HEADER_TIMEOUT_SECONDS", 10.0, 0.1),
        body_timeout=_number(env, "REVIEWBOT_BODY_TIMEOUT_SECONDS", 30.0, 0.1),
        keepalive_timeout=_number(env, "REVIEWBOT_KEEPALIVE_TIMEOUT_SECONDS", 5.0, 0.1),
        lease_seconds=_number(env, "REVIEWBOT_JOB_LEASE_SECONDS", 120.0, 1.0),
        max_attempts=int(_number(env, "REVIEWBOT_JOB_MAX_ATTEMPTS", 5, 1)),
        delivery_ttl_seconds=_number(env, "REVIEWBOT_DELIVERY_TTL_HOURS", 168, 1) * 3600.0,
        write_delay=_number(env, "REVIEWBOT_GITHUB_WRITE_DELAY", 1.0, 0.0),
        config=config,
        config_file=tuple(sorted(file_values.items())),
        review_env=tuple(
            sorted((k, v) for k, v in env.items() if k in ENV_KEYS or k in IDENTITY_ENV)
        ),
    )
