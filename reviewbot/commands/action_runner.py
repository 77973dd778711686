"""The GitHub Actions runner's files, for `reviewbot action`: the event payload it reads,
and the step outputs, job summary, SARIF file and annotations it writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewbot.errors import ReviewbotError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from reviewbot.github.flow import PublishOutcome
    from reviewbot.io import IO

READ_ONLY_NOTICE = (
    "::notice title=reviewbot::the token cannot write to this pull request (pull requests "
    "from forks get a read-only GITHUB_TOKEN): findings are shown as annotations and in the "
    "job summary\n"
)


def read_event(env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """The event's name and payload (``GITHUB_EVENT_NAME``, ``GITHUB_EVENT_PATH``)."""
    name = env.get("GITHUB_EVENT_NAME", "")
    path = env.get("GITHUB_EVENT_PATH", "")
    if not name or not path:
        raise ReviewbotError(
            "GITHUB_EVENT_NAME and GITHUB_EVENT_PATH are not set: not inside GitHub Actions",
            hint="outside a workflow use `reviewbot pr OWNER/REPO#NUMBER`",
        )
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReviewbotError(f"cannot read the event payload {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ReviewbotError(f"the event payload {path} is not a JSON object")
    return name, data


def import_names(args: argparse.Namespace, env: Mapping[str, str]) -> list[str]:
    """``--import`` files, then those of ``REVIEWBOT_IMPORT`` (the Action's ``import``
    input: one path per line, relative to the workspace)."""
    listed = [line.strip() for line in env.get("REVIEWBOT_IMPORT", "").splitlines()]
    return [*args.imports, *(name for name in listed if name)]


def outputs(outcome: PublishOutcome, sarif: str | None) -> dict[str, str]:
    """The step outputs ``action.yml`` declares."""
    sev = outcome.findings_by_severity
    return {
        "findings": str(outcome.findings_total),
        "errors": str(sev.get("error", 0)),
        "warnings": str(sev.get("warning", 0)),
        "notices": str(sev.get("info", 0)),
        "comments-posted": str(outcome.comments_posted),
        "read-only": "true" if outcome.read_only else "false",
        "failed": "true" if outcome.failed else "false",
        "sarif": sarif or "",
    }


def write_results(
    outcome: PublishOutcome, io: IO, sarif: str | None, workspace: Path | None
) -> None:
    """Annotations when the token is read-only, the SARIF file when asked, the job summary
    and the step outputs."""
    from reviewbot.github.checks import workflow_commands

    env = io.env
    if outcome.read_only:
        io.stdout.write(READ_ONLY_NOTICE)
        for line in workflow_commands(outcome.findings):
            io.stdout.write(line + "\n")
    if sarif and outcome.result is not None:
        from reviewbot.reporters.sarif import render_sarif

        target = Path(sarif)
        if not target.is_absolute() and workspace is not None:
            target = workspace / target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_sarif(outcome.result), encoding="utf-8")
    _append(env.get("GITHUB_STEP_SUMMARY"), outcome.summary_markdown + "\n")
    _append(
        env.get("GITHUB_OUTPUT"), "".join(f"{k}={v}\n" for k, v in outputs(outcome, sarif).items())
    )


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
