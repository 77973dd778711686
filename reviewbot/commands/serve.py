"""`reviewbot serve`: the GitHub App webhook server (and, by default with SQLite, its worker)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewbot.commands.serve_flags import add_arguments, env_with_flags

if TYPE_CHECKING:
    import argparse

    from reviewbot.io import IO

__all__ = ["add_arguments", "run"]


def run(args: argparse.Namespace, io: IO) -> int:
    from reviewbot.server import extras

    extras.require("server", "`reviewbot serve`")
    from reviewbot.errors import ConfigError
    from reviewbot.server import logs
    from reviewbot.server.app import run_server
    from reviewbot.server.runner import GitHubJobRunner, github_factory
    from reviewbot.server.settings import load_settings

    settings = load_settings(env_with_flags(args, io.env), args.config, io.cwd)
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
