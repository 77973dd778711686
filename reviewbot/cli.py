"""Command-line entry: ``main(argv) -> int`` parses, dispatches, and maps errors to exit codes.

Commands live in ``reviewbot.commands.<name>`` and are imported only when run, so
``reviewbot --version`` stays fast. Each command module has ``add_arguments(parser)`` and
``run(args, io) -> int``. ``IO`` lives in ``reviewbot.io`` (re-exported here).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from reviewbot import __version__
from reviewbot.io import IO, default_io

__all__ = ["COMMANDS", "IO", "build_parser", "default_io", "main"]

# name -> (module, one-line help). Modules must keep top-level imports light.
COMMANDS: dict[str, tuple[str, str]] = {
    "diff": (
        "reviewbot.commands.diff",
        "review local changes (working tree, --staged, A..B, --patch)",
    ),
    "pr": ("reviewbot.commands.pr", "review a GitHub pull request (OWNER/REPO#N or URL)"),
    "action": ("reviewbot.commands.action", "run inside a GitHub Actions workflow"),
    "hook": ("reviewbot.commands.hook", "run as a pre-commit / pre-push hook"),
    "serve": ("reviewbot.commands.serve", "run the GitHub App webhook server"),
    "worker": ("reviewbot.commands.worker", "run extra review workers for the webhook server"),
    "eval": ("reviewbot.commands.eval", "measure reviewbot on a labelled corpus"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reviewbot",
        description="Code review bot: static checks plus an LLM (vLLM) review of a diff.",
    )
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            p.set_defaults(_missing=name)
            continue
        mod.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None, io: IO | None = None) -> int:
    io = io or default_io()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv in (["--version"], ["-V"]):
        io.stdout.write(f"reviewbot {__version__}\n")
        return 0
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    if getattr(args, "command", None) is None:
        parser.print_help(io.stderr)
        return 2
    if getattr(args, "_missing", None):
        io.stderr.write(
            f"reviewbot: the '{args._missing}' command is not available in this build\n"
        )
        return 2
    from reviewbot.errors import EXIT_INTERNAL, ReviewbotError

    try:
        mod = importlib.import_module(args._module)
        return int(mod.run(args, io))
    except ReviewbotError as exc:
        io.stderr.write(f"reviewbot: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        io.stderr.write("reviewbot: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the one place that catches everything
        import traceback

        if io.env.get("REVIEWBOT_DEBUG"):
            traceback.print_exc(file=io.stderr)
        io.stderr.write(
            f"reviewbot: internal error: {type(exc).__name__}: {exc}\n"
            "  this is a bug in reviewbot; rerun with REVIEWBOT_DEBUG=1 for the traceback and "
            "report it\n"
        )
        return EXIT_INTERNAL
