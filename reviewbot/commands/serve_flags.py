"""The flags of `reviewbot serve`, and the client-limit variables they override."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

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
    for dest, kind, unit, what, var, default in LIMIT_FLAGS:
        limits.add_argument(
            "--" + dest.replace("_", "-"),
            type=kind,
            metavar=unit,
            help=f"{what} ({var}, default {default})",
        )


LIMIT_FLAGS: tuple[tuple[str, type, str, str, str, str], ...] = (
    (
        "header_timeout",
        float,
        "SECONDS",
        "close a connection whose request headers take longer",
        "REVIEWBOT_HEADER_TIMEOUT_SECONDS",
        "10",
    ),
    (
        "body_timeout",
        float,
        "SECONDS",
        "answer 408 to a body that takes longer",
        "REVIEWBOT_BODY_TIMEOUT_SECONDS",
        "30",
    ),
    (
        "keepalive_timeout",
        float,
        "SECONDS",
        "close idle kept-alive connections after this",
        "REVIEWBOT_KEEPALIVE_TIMEOUT_SECONDS",
        "5",
    ),
    (
        "max_body_total",
        int,
        "BYTES",
        "body bytes all requests may hold at once; 503 beyond",
        "REVIEWBOT_MAX_BODY_TOTAL_BYTES",
        "100 MiB",
    ),
)
"""Flag (argparse dest), type, unit, help, the variable it overrides (settings.py checks
both the same way), its default."""


def env_with_flags(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the client-limit flags given on the command line written over it."""
    out = dict(env)
    for dest, *_, var, _default in LIMIT_FLAGS:
        value = vars(args).get(dest)
        if value is not None:
            out[var] = str(value)
    return out
