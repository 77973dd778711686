"""`reviewbot action`: run inside a GitHub Actions workflow on a pull request event.

Reads the runner's environment (``GITHUB_EVENT_NAME``, ``GITHUB_EVENT_PATH``,
``GITHUB_REPOSITORY``, ``GITHUB_API_URL``, ``GITHUB_TOKEN`` or ``REVIEWBOT_GITHUB_TOKEN``,
``GITHUB_WORKSPACE``), reviews the pull request through the API and posts the results.
Writes step outputs to ``GITHUB_OUTPUT``, the summary to ``GITHUB_STEP_SUMMARY`` and,
when asked, a SARIF file. With a read-only token (pull requests from forks) the findings
become workflow annotations (``::warning file=...``) and the job summary.

Under ``pull_request_target`` the workflow runs with the base repository's secrets: reviewbot
only reads the PR through the API and never runs its code (suggested tests are not run).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewbot.commands.action_runner import import_names, read_event, write_results
from reviewbot.commands.common import add_import_arguments

if TYPE_CHECKING:
    from reviewbot.io import IO

PR_EVENTS = ("pull_request", "pull_request_target")
REVIEWED_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sarif", metavar="FILE", help="also write a SARIF report here (default: $REVIEWBOT_SARIF)"
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="review the whole PR even if an earlier run reviewed part of it",
    )
    p.add_argument(
        "--config-path",
        metavar="PATH",
        help="the config file's path in the base branch "
        "(default: $REVIEWBOT_CONFIG_PATH or .reviewbot.yml)",
    )
    add_import_arguments(p)


def run(args: argparse.Namespace, io: IO) -> int:
    from reviewbot.commands.common import read_imports
    from reviewbot.errors import EXIT_FINDINGS, EXIT_OK
    from reviewbot.github.auth import client_from_env
    from reviewbot.github.flow import review_pull_request

    env = io.env
    name, event = read_event(env)
    action = str(event.get("action", ""))
    pr = event.get("pull_request")
    if name not in PR_EVENTS or not isinstance(pr, dict):
        io.stdout.write(f"::notice title=reviewbot::nothing to review for a {name} event\n")
        return EXIT_OK
    if action not in REVIEWED_ACTIONS:
        io.stdout.write(f"::notice title=reviewbot::pull request {action}: nothing to review\n")
        return EXIT_OK
    repo = env.get("GITHUB_REPOSITORY") or str(event.get("repository", {}).get("full_name", ""))
    number = int(pr["number"])
    overrides: dict[str, Any] = {}
    if name == "pull_request_target":
        overrides["tests.run"] = False  # never execute PR code with the base repo's token
    workspace = Path(env["GITHUB_WORKSPACE"]) if env.get("GITHUB_WORKSPACE") else None
    # Linter results a workflow step wrote; reviewbot itself never runs a linter here (the
    # PR's own linter config can be code: SECURITY.md).
    imported = read_imports(
        import_names(args, env), args.import_format, workspace or io.cwd, workspace or io.cwd
    )
    gh = client_from_env(env, repo)
    outcome = review_pull_request(
        gh,
        repo,
        number,
        env=env,
        base_config_defaults={"tests.run": False},
        full=args.full,
        workspace=workspace,
        overrides=overrides,
        config_path=args.config_path or env.get("REVIEWBOT_CONFIG_PATH") or None,
        imported=imported,
    )
    write_results(outcome, io, args.sarif or env.get("REVIEWBOT_SARIF") or None, workspace)
    io.stderr.write(f"reviewbot: {repo}#{number}: {outcome.describe()}\n")
    for note in outcome.notes:
        io.stdout.write(f"::notice title=reviewbot::{note}\n")
    return EXIT_FINDINGS if outcome.failed else EXIT_OK
