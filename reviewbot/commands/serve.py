"""`reviewbot serve`: the GitHub App webhook server (and, by default with SQLite, its worker)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.cli import IO

LOG_LEVELS = ("debug", "info", "warning", "error")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; put a TLS proxy in front)")
    p.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="review threads inside this process (default: 1 with the SQLite queue, "
                        "0 with Redis, where `reviewbot worker` processes do the reviews)")
    p.add_argument("--config", type=Path,
                   help="server-wide .reviewbot.yml (LLM settings, review_drafts)")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info")


def run(args: argparse.Namespace, io: IO) -> int:
    from reviewbot.errors import ConfigError
    from reviewbot.server import logs
    from reviewbot.server.app import run_server
    from reviewbot.server.runner import GitHubJobRunner, github_factory
    from reviewbot.server.settings import load_settings

    settings = load_settings(io.env, args.config, io.cwd)
    settings.require_secret()
    threads = args.workers if args.workers is not None else (
        1 if settings.queue.kind == "sqlite" else 0)
    if threads < 0:
        raise ConfigError("--workers must be 0 or more")
    make_gh = github_factory(settings) if threads else None
    logs.configure(args.log_level, io.stderr)
    run_server(settings, host=args.host, port=args.port, threads=threads,
               make_runner=None if make_gh is None
               else lambda metrics: GitHubJobRunner(settings, metrics, make_gh))
    return 0
