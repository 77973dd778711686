"""The check run (with annotations) and its read-only fallback, workflow commands.

One check run named ``reviewbot`` per head commit: a re-run on the same commit updates it and
adds only annotations it does not have yet (GitHub appends annotations on every update, so
re-sending them would duplicate them). GitHub takes at most 50 annotations per request:
the first batch goes with the create request, the rest in updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import github
from github.Repository import Repository

from reviewbot.findings import Finding, Severity, Side
from reviewbot.github.reader import list_raw
from reviewbot.github.retry import write_once
from reviewbot.safe_publish import cut, safe_plain

CHECK_NAME = "reviewbot"
BATCH = 50
_LEVEL = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.INFO: "notice"}
_CMD = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
ACTIONS_ANNOTATIONS_PER_LEVEL = 10
"""GitHub Actions shows at most 10 annotations of each level per step."""


TITLE_CHARS = 255
"""GitHub's limit on an annotation's title (and a check run's output title here)."""
MESSAGE_BYTES = 60_000
"""GitHub's limit on an annotation's message is 64 KB."""
SUMMARY_CHARS = 65_000
"""GitHub's limit on a check run's summary is 65,535 characters."""


def annotation(f: Finding) -> dict[str, Any]:
    """A check-run annotation (plain text on GitHub): redacted, no controls, within limits."""
    title = safe_plain(f.title, TITLE_CHARS, max_bytes=1_000)
    return {
        "path": f.path,
        "start_line": f.line,
        "end_line": f.end_line,
        "annotation_level": _LEVEL[f.severity],
        "title": title,
        "message": safe_plain(f.message, MESSAGE_BYTES, max_bytes=MESSAGE_BYTES) or title,
    }


def _key(a: dict[str, Any]) -> tuple[str, int, int, str, str]:
    return (
        str(a.get("path")),
        int(a.get("start_line") or 0),
        int(a.get("end_line") or 0),
        str(a.get("title") or ""),
        str(a.get("message") or ""),
    )


def _batches(items: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [list(items[i : i + BATCH]) for i in range(0, len(items), BATCH)]


@dataclass(slots=True)
class CheckPublisher:
    gh: github.Github
    repo: Repository
    head_sha: str
    run_id: str

    def _find(self, external_id: str | None = None) -> dict[str, Any] | None:
        """This commit's reviewbot check run (the newest; by external id when given)."""
        try:
            _, data = self.gh.requester.requestJsonAndCheck(
                "GET",
                f"{self.repo.url}/commits/{self.head_sha}/check-runs",
                parameters={"check_name": CHECK_NAME, "per_page": 100},
            )
        except github.GithubException:
            return None
        for run in data.get("check_runs", []) if isinstance(data, dict) else []:
            if external_id is None or run.get("external_id") == external_id:
                return dict(run)
        return None

    def _annotation_keys(self, url: str) -> set[tuple[str, int, int, str, str]]:
        return {_key(a) for a in list_raw(self.gh, f"{url}/annotations")}

    def publish(
        self, findings: Iterable[Finding], conclusion: str, title: str, summary: str
    ) -> int:
        """Create or update the check run; returns its id."""
        annotations = [annotation(f) for f in findings if f.side is Side.RIGHT]
        title = safe_plain(title, TITLE_CHARS)
        summary = cut(summary, SUMMARY_CHARS)
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        existing = self._find()
        base = {"status": "completed", "conclusion": conclusion, "completed_at": now}
        if existing is not None:
            run = existing
            have = self._annotation_keys(str(run["url"]))
            todo = [a for a in annotations if _key(a) not in have]
            batches = _batches(todo) or [[]]
        else:
            batches = _batches(annotations) or [[]]
            payload = {
                "name": CHECK_NAME,
                "head_sha": self.head_sha,
                "external_id": self.run_id,
                **base,
                "output": {"title": title, "summary": summary, "annotations": batches[0]},
            }
            run = write_once(
                lambda: self._request("POST", f"{self.repo.url}/check-runs", payload),
                what="create the check run",
                landed=lambda: self._find(self.run_id),
            )
            batches = batches[1:]
        for batch in batches:
            self._update(
                str(run["url"]),
                {**base, "output": {"title": title, "summary": summary, "annotations": batch}},
            )
        return int(run["id"])

    def _request(self, verb: str, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        _, data = self.gh.requester.requestJsonAndCheck(verb, url, input=payload)
        return dict(data)

    def _update(self, url: str, payload: dict[str, Any]) -> None:
        wanted = {_key(a) for a in payload["output"]["annotations"]}

        def landed() -> dict[str, Any] | None:
            if not wanted:
                return None  # a plain update is safe to repeat
            return {} if wanted <= self._annotation_keys(url) else None

        write_once(
            lambda: self._request("PATCH", url, payload),
            what="add annotations to the check run",
            landed=landed,
        )


def conclusion_for(failed: bool, findings: Sequence[Finding]) -> str:
    if failed:
        return "failure"
    return "neutral" if findings else "success"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_commands(findings: Sequence[Finding]) -> list[str]:
    """``::warning file=...,line=...::`` lines for the Actions log, most severe first.

    Untrusted text (paths, model output) is escaped so it cannot start a new command.
    """
    out: list[str] = []
    used: dict[Severity, int] = {}
    for f in sorted(findings, key=lambda f: (-f.severity.rank, f.path, f.line)):
        if f.side is not Side.RIGHT:
            continue
        if used.get(f.severity, 0) >= ACTIONS_ANNOTATIONS_PER_LEVEL:
            continue
        used[f.severity] = used.get(f.severity, 0) + 1
        props = (
            f"file={_escape_property(safe_plain(f.path, 1000))},line={f.line},"
            f"endLine={f.end_line},title={_escape_property(safe_plain(f.title, 200))}"
        )
        out.append(f"::{_CMD[f.severity]} {props}::{_escape_data(safe_plain(f.message, 4000))}")
    return out
