"""Running pytest on the suggested test files until each is settled (levels 2 and 3 of
:mod:`reviewbot.suggest.check`).

One pytest process collects (or runs) every pending file in the sandbox; its event stream is
folded into one :class:`FileState` per file. When the watchdog kills a run on one file's
collection or one test, or the process dies, that file is blamed and the files not finished
yet are run again without it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.config import TestsConfig
from reviewbot.safe_publish import redact, visible
from reviewbot.suggest.sandbox import RunReport, Sandbox, run_pytest
from reviewbot.suggest.sandbox_limits import Limits


def clean_message(text: str, limit: int = 240) -> str:
    """One line of sandbox output fit to show: first line, truncated, token-like text
    redacted (a test could print a file it read into its failure message)."""
    lines = (ln.strip() for ln in visible(redact(text)).splitlines())
    line = next((ln for ln in lines if ln), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


@dataclass(slots=True)
class FileState:
    collect_done: bool = False
    """pytest reported on collecting it (successfully or not)."""
    collected: bool = False
    collect_error: str = ""
    items: list[str] = field(default_factory=list)
    items_known: bool = False
    """pytest finished collecting (its item list covers this file)."""
    outcomes: dict[str, tuple[str, str]] = field(default_factory=dict)
    """node id -> (passed | failed | skipped, message of the first failure or skip)."""
    finished: set[str] = field(default_factory=set)
    stalled: str = ""
    """Set when the watchdog killed the run on this file."""
    died: str = ""


def _apply(events: list[dict[str, object]], states: Mapping[str, FileState]) -> str | None:
    """Fold one run's events into ``states``; returns the item left unfinished, if any."""
    current: str | None = None
    for ev in events:
        kind = ev.get("ev")
        if kind == "collect":
            current = str(ev.get("file"))
        elif kind == "collected":
            st = states.get(str(ev.get("file")))
            current = None
            if st is not None:
                st.collect_done = True
                st.collected = bool(ev.get("ok"))
                st.collect_error = "" if st.collected else str(ev.get("msg") or "error")
        elif kind == "items":
            for st in states.values():
                st.items_known = st.items_known or st.collect_done
            raw = ev.get("items")
            for pair in raw if isinstance(raw, list) else []:
                st = states.get(str(pair[0]))
                if st is not None and str(pair[1]) not in st.items:
                    st.items.append(str(pair[1]))
        elif kind == "start":
            current = str(ev.get("nodeid"))
        elif kind == "report":
            nodeid = str(ev.get("nodeid"))
            st = states.get(nodeid.split("::", 1)[0])
            if st is not None:
                outcome, msg = str(ev.get("outcome")), str(ev.get("msg") or "")
                old = st.outcomes.get(nodeid)
                if old is None or old[0] == "passed" or (outcome == "failed" != old[0]):
                    st.outcomes[nodeid] = (outcome, msg)
        elif kind == "finish":
            nodeid = str(ev.get("nodeid"))
            st = states.get(nodeid.split("::", 1)[0])
            if st is not None:
                st.finished.add(nodeid)
            current = None
    return current


def _unfinished(states: Mapping[str, FileState], run: bool) -> list[str]:
    return [
        name
        for name, st in states.items()
        if not (st.stalled or st.died)
        and (
            not st.collect_done
            or (st.collected and not st.items_known)
            or (run and st.collected and any(i not in st.finished for i in st.items))
        )
    ]


def run_checks(
    files: Sequence[str],
    sandbox: Sandbox,
    pythonpath: Sequence[Path],
    config: TestsConfig,
    *,
    run: bool,
    base_env: Mapping[str, str],
    python: str = sys.executable,
    isolation: str = "auto",
) -> tuple[dict[str, FileState], list[RunReport]]:
    """Collect (or run) the test ``files`` (sandbox-relative) until each is settled."""
    states = {f: FileState() for f in files}
    reports: list[RunReport] = []
    pending = list(files)
    for _ in range(len(files) + 1):
        if not pending:
            break
        args = (["--continue-on-collection-errors"] if run else ["--collect-only"]) + pending
        limits = Limits(timeout=config.timeout, total=config.timeout * (len(pending) + 1) + 30.0)
        report = run_pytest(
            sandbox, args, pythonpath, limits, base_env=base_env, python=python, isolation=isolation
        )
        reports.append(report)
        _strip_paths(report, sandbox.root)
        left = _apply(report.events, states)
        if not report.events:
            why = clean_message("\n".join(reversed(report.output.strip().splitlines())))
            for f in pending:
                states[f].died = f"pytest did not start: {why or 'no output'}"
            break
        blamed = report.stalled or left
        if blamed is not None:
            st = states.get(blamed.split("::", 1)[0])
            if st is not None:
                if report.killed_for is not None:
                    st.died = f"the test process was killed: {report.killed_for}"
                elif report.stalled is not None:
                    st.stalled = blamed
                else:
                    doing = "running" if "::" in blamed else "collecting"
                    st.died = (
                        f"the test process ended while {doing} {blamed.split('::')[-1]} "
                        f"(exit status {report.returncode})"
                    )
        before = pending
        pending = [f for f in _unfinished(states, run) if f in before]
        if pending and blamed is None:
            for f in pending:
                states[f].died = f"pytest ended early (exit status {report.returncode})"
            break
    return states, reports


def _strip_paths(report: RunReport, root: Path) -> None:
    """Messages name files relative to the sandbox, not by its temporary path."""
    prefixes = [f"{root / 'src'}/", f"{root}/"]
    for ev in report.events:
        msg = ev.get("msg")
        if isinstance(msg, str) and msg:
            for p in prefixes:
                msg = msg.replace(p, "")
            ev["msg"] = msg
