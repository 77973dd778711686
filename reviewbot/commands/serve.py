"""`reviewbot serve`: the GitHub App webhook server (and, by default with SQLite, its worker)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.io import IO

LOG_LEVELS = ("debug", "info", "warning", "error")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; put a TLS proxy in front)",
    )
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="review threads inside this process (default: 1 with the SQLite queue, "
        "0 with Redis, where `reviewbot worker` processes do the reviews)",
    )
    p.add_argument(
        "--config", type=Path, help="server-wide .reviewbot.yml (LLM settings, review_drafts)"
    )
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    limits = p.add_argument_group("client limits (override the REVIEWBOT_* variables)")
    limits.add_argument(
        "--header-timeout",
        type=float,
        metavar="SECONDS",
        help="close a connection whose request headers take longer "
        "(REVIEWBOT_HEADER_TIMEOUT_SECONDS, default 10)",
    )
    limits.add_argument(
        "--body-timeout",
        type=float,
        metavar="SECONDS",
        help="answer 408 to a body that takes longer (REVIEWBOT_BODY_TIMEOUT_SECONDS, default 30)",
    )
    limits.add_argument(
        "--keepalive-timeout",
        type=float,
        metavar="SECONDS",
        help="close idle kept-alive connections after this "
        "(REVIEWBOT_KEEPALIVE_TIMEOUT_SECONDS, default 5)",
    )
    limits.add_argument(
        "--max-body-total",
        type=int,
        metavar="BYTES",
        help="body bytes all requests may hold at once; 503 beyond "
        "(REVIEWBOT_MAX_BODY_TOTAL_BYTES, default 100 MiB)",
    )


FLAG_VARS = (
    ("header_timeout", "REVIEWBOT_HEADER_TIMEOUT_SECONDS"),
    ("body_timeout", "REVIEWBOT_BODY_TIMEOUT_SECONDS"),
    ("keepalive_timeout", "REVIEWBOT_KEEPALIVE_TIMEOUT_SECONDS"),
    ("max_body_total", "REVIEWBOT_MAX_BODY_TOTAL_BYTES"),
)
"""Flag (argparse dest) -> the variable it overrides; settings.py checks both the same way."""


def _env_with_flags(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str]:
    out = dict(env)
    for dest, var in FLAG_VARS:
        value = vars(args).get(dest)
        if value is not None:
            out[var] = str(value)
    return out


def run(args: argparse.Namespace, io: IO) -> int:
    from reviewbot.server import extras

    extras.require("server", "`reviewbot serve`")
    from reviewbot.errors import ConfigError
    from reviewbot.server import logs
    from reviewbot.server.app import run_server
    from reviewbot.server.runner import GitHubJobRunner, github_factory
    from reviewbot.server.settings import load_settings

    settings = load_settings(_env_with_flags(args, io.env), args.config, io.cwd)
    settings.require_secret()
    threads = (
        args.workers if args.workers is not None else (1 if settings.queue.kind == "sqlite" else 0)
    )
    if threads < 0:
        raise ConfigError("--workers must be 0 or more")
    make_gh = github_factory(settings) if threads else None
    logs.configure(args.log_level, io.stderr)
    run_server(
        settings,
        host=args.host,
        port=args.port,
        threads=threads,
        make_runner=None
        if make_gh is None
        else lambda metrics: GitHubJobRunner(settings, metrics, make_gh),
    )
    return 0
