"""`reviewbot eval DATASET`: measure reviewbot as a reviewer on a labelled corpus."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.commands.common import add_config_arguments

if TYPE_CHECKING:
    from reviewbot.io import IO


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", type=Path, help="SVEN-style .jsonl file (one fix per line)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--output", "-o", type=Path, help="write the report to FILE")
    p.add_argument("--limit", type=int, metavar="N", help="evaluate only the first N rows")
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=1,
        metavar="N",
        help="review N cases at a time (useful with a model server)",
    )
    p.add_argument(
        "--min-recall", type=float, metavar="R", help="exit 1 when overall recall is below R (0..1)"
    )
    p.add_argument(
        "--max-fp-rate",
        type=float,
        metavar="R",
        help="exit 1 when the overall false-positive rate is above R (0..1)",
    )
    add_config_arguments(p)


def run(args: argparse.Namespace, io: IO) -> int:
    from reviewbot.backends import create_backend
    from reviewbot.commands.common import load_cli_config
    from reviewbot.commands.options import ConfigFlags
    from reviewbot.errors import EXIT_FINDINGS, EXIT_OK, ReviewbotError
    from reviewbot.evaluation.dataset import load_sven
    from reviewbot.evaluation.render import render_json, render_table
    from reviewbot.evaluation.runner import run_eval
    from reviewbot.gitio import find_repo_root
    from reviewbot.progress import progress_for

    if args.limit is not None and args.limit < 1:
        raise ReviewbotError("--limit must be at least 1")
    if args.jobs < 1:
        raise ReviewbotError("--jobs must be at least 1")
    dataset = args.dataset if args.dataset.is_absolute() else io.cwd / args.dataset
    cases = load_sven(dataset, args.limit)
    # the usual config: .reviewbot.yml of the repository we are in (or --config), then
    # REVIEWBOT_* variables, then flags
    config = load_cli_config(ConfigFlags.from_args(args), find_repo_root(io.cwd, io.env), io.env)
    backend = create_backend(config)
    progress = progress_for(io.stderr, io.env)
    progress.start(len(cases), "evaluating")
    try:
        result = run_eval(cases, config, backend, jobs=args.jobs, advance=progress.advance)
    finally:
        progress.finish()
        backend.close()
    report = (render_json if args.format == "json" else render_table)(result, str(args.dataset))
    if args.output is not None:
        out = args.output if args.output.is_absolute() else io.cwd / args.output
        try:
            out.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise ReviewbotError(f"cannot write {args.output}: {exc.strerror}") from exc
    else:
        io.stdout.write(report)
    overall = result.report.overall
    failed = (args.min_recall is not None and overall.recall < args.min_recall) or (
        args.max_fp_rate is not None and overall.fp_rate > args.max_fp_rate
    )
    return EXIT_FINDINGS if failed else EXIT_OK
