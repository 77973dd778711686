"""`reviewbot worker`: review jobs from the webhook server's queue (SQLite or Redis)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.io import IO


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        metavar="N",
        help="jobs this process runs at once (default 2)",
    )
    p.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help="serve this worker's Prometheus metrics on PORT",
    )
    p.add_argument("--metrics-host", default="127.0.0.1")
    p.add_argument("--config", type=Path, help="server-wide .reviewbot.yml (LLM settings)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")


def run(args: argparse.Namespace, io: IO) -> int:
    from reviewbot.server import extras

    extras.require("server", "`reviewbot worker`")
    from reviewbot.errors import ConfigError
    from reviewbot.server import logs
    from reviewbot.server.metrics import Metrics
    from reviewbot.server.queue import JobQueue
    from reviewbot.server.runner import GitHubJobRunner, github_factory
    from reviewbot.server.settings import load_settings
    from reviewbot.server.worker import JobHandler, WorkerPool

    if args.threads < 1:
        raise ConfigError("--threads must be at least 1")
    settings = load_settings(io.env, args.config, io.cwd)
    make_gh = github_factory(settings)
    logs.configure(args.log_level, io.stderr)
    metrics = Metrics()
    queue = JobQueue(settings)
    if args.metrics_port is not None:
        from prometheus_client import start_http_server

        metrics.watch_queue(queue.depth)
        start_http_server(args.metrics_port, args.metrics_host, registry=metrics.registry)
    runner = GitHubJobRunner(settings, metrics, make_gh)
    pool = WorkerPool(
        queue, JobHandler(queue, runner, metrics), threads=args.threads, embedded=False
    )
    try:
        pool.run()
    finally:
        queue.close()
    return 0
