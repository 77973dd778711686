"""`reviewbot pr OWNER/REPO#N|URL`: review a GitHub pull request and post the results."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewbot.io import IO

_SHORT = re.compile(r"^(?P<repo>[\w.-]+/[\w.-]+)#(?P<n>\d+)$")
_URL = re.compile(r"^https?://[^/]+/(?P<repo>[\w.-]+/[\w.-]+)/pulls?/(?P<n>\d+)(?:[/?#].*)?$")


def parse_target(text: str) -> tuple[str, int]:
    from reviewbot.errors import ReviewbotError

    for rx in (_SHORT, _URL):
        m = rx.match(text.strip())
        if m:
            return m.group("repo"), int(m.group("n"))
    raise ReviewbotError(
        f"not a pull request: {text!r}",
        hint="use OWNER/REPO#NUMBER or https://github.com/OWNER/REPO/pull/NUMBER",
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    from reviewbot.backends import BACKEND_NAMES
    from reviewbot.config import FailOn, FilterMode

    p.add_argument("target", help="OWNER/REPO#NUMBER or a pull request URL")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="read the PR and print what would be posted; write nothing",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="review the whole PR even if an earlier run reviewed part of it",
    )
    p.add_argument(
        "--config-path",
        metavar="PATH",
        help="the config file's path in the base branch (default .reviewbot.yml)",
    )
    p.add_argument("--backend", choices=BACKEND_NAMES)
    p.add_argument("--llm-url", help="OpenAI-compatible base URL ending in /v1")
    p.add_argument("--model", help="model name served at --llm-url")
    p.add_argument("--fail-on", choices=[m.value for m in FailOn])
    p.add_argument("--filter-mode", choices=[m.value for m in FilterMode])
    p.add_argument("--max-comments", type=int, help="inline comments per run (default 30)")


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        k: v
        for k, v in {
            "backend": args.backend,
            "llm.url": args.llm_url,
            "llm.model": args.model,
            "fail_on": args.fail_on,
            "filter_mode": args.filter_mode,
            "max_comments": args.max_comments,
        }.items()
        if v is not None
    }


def run(args: argparse.Namespace, io: IO) -> int:
    from reviewbot.errors import EXIT_FINDINGS, EXIT_OK
    from reviewbot.github.auth import client_from_env
    from reviewbot.github.flow import review_pull_request

    repo, number = parse_target(args.target)
    gh = client_from_env(io.env, repo, required=not args.dry_run)
    outcome = review_pull_request(
        gh,
        repo,
        number,
        env=io.env,
        full=args.full,
        dry_run=args.dry_run,
        config_path=args.config_path,
        overrides=overrides(args),
    )
    if outcome.dry_run or outcome.read_only:
        for line in outcome.planned:
            io.stdout.write(f"would post: {line}\n")
        io.stdout.write(outcome.summary_markdown)
    io.stderr.write(
        f"reviewbot: {repo}#{number} at {outcome.head_sha[:12]}: {outcome.describe()}\n"
    )
    for note in outcome.notes:
        io.stderr.write(f"reviewbot: {note}\n")
    return EXIT_FINDINGS if outcome.failed else EXIT_OK
