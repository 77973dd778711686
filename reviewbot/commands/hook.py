"""`reviewbot hook`: the entry point of the pre-commit framework hook (.pre-commit-hooks.yaml).

What it reviews (pre-push ranges, a branch new to the remote, the staged changes of the
files pre-commit passes, else their uncommitted changes) is decided by
``reviewbot.hook_sources.plan_review``, whose docstring gives the order. Nothing to
review: one line saying so, exit 0.

git is only read: the index and the working tree are never written. Test suggestions are
off in the hook.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from reviewbot.commands.common import add_config_arguments, add_import_arguments

if TYPE_CHECKING:
    from reviewbot.commands.options import ReportOptions
    from reviewbot.io import IO

HOOK_CONNECT_TIMEOUT = 2.0
"""Seconds to wait for the LLM server to accept a connection before reviewing static-only."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "filenames",
        nargs="*",
        default=[],
        help="files to review (pre-commit passes the files it selected)",
    )
    p.add_argument("--from-ref", help="review FROM_REF..TO_REF (default: $PRE_COMMIT_FROM_REF)")
    p.add_argument("--to-ref", help="see --from-ref (default: $PRE_COMMIT_TO_REF)")
    p.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 2) when the model cannot be used, instead of running the "
        "static checks only (config: llm.require_model)",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=HOOK_CONNECT_TIMEOUT,
        metavar="SECONDS",
        help=f"LLM server connect timeout in the hook (default {HOOK_CONNECT_TIMEOUT:g})",
    )
    add_import_arguments(p)
    add_config_arguments(p)


def run(args: argparse.Namespace, io: IO) -> int:
    from reviewbot.commands.review_flow import review_and_report
    from reviewbot.errors import ReviewbotError
    from reviewbot.gitio import find_repo_root
    from reviewbot.hook_sources import hook_refs, plan_review, to_pathspecs

    root = find_repo_root(io.cwd, io.env)
    if root is None:
        raise ReviewbotError(
            f"{io.cwd} is not inside a git repository",
            hint="run `reviewbot hook` from pre-commit or inside a repository",
        )
    pathspecs = to_pathspecs(args.filenames, io.cwd, root)
    from_ref, to_ref = hook_refs(args.from_ref, args.to_ref, io.env)
    plan = plan_review(root, io.env, io.cwd, pathspecs, from_ref, to_ref)
    if plan.source is None:
        io.stdout.write(f"reviewbot hook: nothing to review: {plan.description}\n")
        return 0
    io.stdout.write(f"reviewbot hook: reviewing {plan.description}\n")
    return review_and_report(hook_options(args), io, plan.source, root)


def hook_options(args: argparse.Namespace) -> ReportOptions:
    """The hook always prints the terminal report on standard output and never writes or
    runs suggested tests inside a commit."""
    from reviewbot.commands.options import ConfigFlags, ReportOptions

    return ReportOptions(
        config=ConfigFlags.from_args(args),
        suggest_tests=False,
        run_tests=False,
        imports=tuple(args.imports),
        import_format=args.import_format,
        extra=hook_overrides(args),
    )


def hook_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Config the hook adds over the flags: a short connect timeout, strict on request."""
    extra: dict[str, Any] = {"llm.connect_timeout": args.connect_timeout}
    if args.strict:
        extra["llm.require_model"] = True
    return extra
