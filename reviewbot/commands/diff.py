"""`reviewbot diff`: review local changes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.commands.common import add_config_arguments, add_import_arguments

if TYPE_CHECKING:
    from reviewbot.commands.options import ReportOptions
    from reviewbot.io import IO


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("rev", nargs="?", help="REV (working tree vs REV), A..B or A...B")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--staged", "--cached", action="store_true", help="review the index")
    src.add_argument("--patch", metavar="FILE", help="review a patch file ('-' for stdin)")
    p.add_argument("--format", choices=["text", "json", "sarif", "markdown"], default="text")
    p.add_argument("--output", "-o", type=Path, help="write the report to FILE instead of stdout")
    p.add_argument(
        "--tests-out", type=Path, metavar="DIR", help="write checked test suggestions into DIR"
    )
    p.add_argument("--no-tests", action="store_true", help="skip test suggestions")
    p.add_argument(
        "--no-untracked",
        dest="untracked",
        action="store_false",
        help="working-tree reviews leave out files git does not track yet "
        "(by default they are reviewed as new files)",
    )
    p.add_argument(
        "--run-tests",
        dest="run_tests",
        action="store_true",
        default=None,
        help="run suggested tests (default for the CLI unless tests.run is set)",
    )
    p.add_argument("--no-run-tests", dest="run_tests", action="store_false")
    p.add_argument("paths", nargs="*", default=[], help=argparse.SUPPRESS)
    add_import_arguments(p)
    add_config_arguments(p)


def report_options(args: argparse.Namespace) -> ReportOptions:
    """What ``reviewbot diff``'s flags ask the review flow for."""
    from reviewbot.commands.options import ConfigFlags, ReportOptions

    return ReportOptions(
        config=ConfigFlags.from_args(args),
        format=args.format,
        output=args.output,
        tests_out=args.tests_out,
        suggest_tests=not args.no_tests,
        run_tests=args.run_tests,
        imports=tuple(args.imports),
        import_format=args.import_format,
    )


def run(args: argparse.Namespace, io: IO) -> int:
    from reviewbot.commands.review_flow import review_and_report
    from reviewbot.errors import ReviewbotError
    from reviewbot.gitio import find_repo_root
    from reviewbot.sources import WorkingTreeReader, git_source, patch_source, read_patch

    root = find_repo_root(io.cwd, io.env)
    if args.patch is not None:
        if args.rev or args.staged:
            raise ReviewbotError("--patch cannot be combined with a revision or --staged")
        data, label = read_patch(args.patch, io.stdin)
        reader = WorkingTreeReader(root) if root is not None else None
        source = patch_source(data, label, reader)
    else:
        if root is None:
            raise ReviewbotError(
                f"{io.cwd} is not inside a git repository",
                hint="run reviewbot diff inside a repository, or pass --patch FILE",
            )
        source = git_source(
            root,
            rev=args.rev,
            staged=args.staged,
            paths=tuple(args.paths),
            env=io.env,
            untracked=args.untracked,
        )
    return review_and_report(report_options(args), io, source, root)
