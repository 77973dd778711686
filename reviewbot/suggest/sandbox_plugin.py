"""pytest plugin loaded in the sandbox (``-p reviewbot_sandbox_plugin``): reports progress.

Writes one JSON object per line to the file descriptor named by REVIEWBOT_REPORT_FD (a pipe
the parent reads): which test file is being collected, what it collected or why it failed,
which test starts and how each phase ended. The parent uses the stream both for the results
and as a watchdog: the item that started and never finished is the one that hung.

Processes: when a fork fails for want of processes (EAGAIN: the sandbox's RLIMIT_NPROC),
it reports ``{"ev": "limit"}`` naming the item, and the parent kills the run at once (a fork
bomb). A child forked by a test (not exec'd) that returns into pytest exits there, so it
neither reports nor runs the rest of the session.

Standalone on purpose: it runs inside the sandboxed interpreter and must not import
reviewbot.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from typing import Any

import pytest

_FD = int(os.environ.get("REVIEWBOT_REPORT_FD", "-1"))
_MAX_MESSAGE = 2000
_MAIN = os.getpid()
_current = ""


def _emit(**event: Any) -> None:
    if _FD < 0 or (os.getpid() != _MAIN and event.get("ev") != "limit"):
        return
    data = (json.dumps(event, default=str) + "\n").encode("utf-8", "replace")
    while data:
        data = data[os.write(_FD, data) :]


def _limited(fork: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fork(*args, **kwargs)
        except OSError as exc:
            if exc.errno == errno.EAGAIN:
                _emit(ev="limit", what="processes", nodeid=_current)
            raise

    return wrapper


os.fork = _limited(os.fork)
try:
    import _posixsubprocess  # subprocess forks through it

    _posixsubprocess.fork_exec = _limited(_posixsubprocess.fork_exec)
except (ImportError, AttributeError):  # pragma: no cover - not CPython on POSIX
    pass


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _message(report: Any) -> str:
    """The exception line of a failure (``E   X: msg``), else the text's last line."""
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])[:_MAX_MESSAGE]  # a skip: (path, line, reason)
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)[:_MAX_MESSAGE]
    lines = [ln for ln in str(longrepr).splitlines() if ln.strip()]
    errors = [ln[1:].strip() for ln in lines if ln.startswith("E ")]
    return (errors[-1] if errors else lines[-1] if lines else "")[:_MAX_MESSAGE]


def pytest_collectstart(collector: pytest.Collector) -> None:
    global _current
    if isinstance(collector, pytest.Module):
        _current = collector.nodeid
        _emit(ev="collect", file=collector.nodeid)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if os.getpid() != _MAIN:
        os._exit(70)  # a child forked while importing a test file
    if report.nodeid.endswith(".py") and "::" not in report.nodeid:
        _emit(
            ev="collected",
            file=report.nodeid,
            ok=not report.failed,
            msg=_message(report) if report.failed else "",
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _emit(ev="items", items=[[_file(i.nodeid), i.nodeid] for i in items])


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    global _current
    _current = nodeid
    _emit(ev="start", nodeid=nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> None:
    if os.getpid() != _MAIN:
        os._exit(70)  # a test's forked child came back into pytest


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or report.outcome != "passed":
        _emit(
            ev="report",
            nodeid=report.nodeid,
            when=report.when,
            outcome=report.outcome,
            msg=_message(report) if report.outcome != "passed" else "",
        )


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    _emit(ev="finish", nodeid=nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _emit(ev="done", status=int(exitstatus))
