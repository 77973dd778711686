"""A pids cgroup for one sandboxed run: a process limit that binds root too.

RLIMIT_NPROC does not bind processes of uid 0 (the kernel exempts root's user, in user
namespaces too, since they still run as kernel uid 0). So where reviewbot may create a
cgroup (under its own in cgroup v1's ``pids`` hierarchy, or cgroup v2's root when this
process sits in it with ``pids`` enabled), each run gets its own with ``pids.max`` set: a
fork bomb gets EAGAIN there, ``pids.events`` tells that the limit was hit even when no
Python code saw it, and every process left in it is killed at the end, also those that
started their own session to escape the process-group kill. Elsewhere
:meth:`PidsCgroup.create` returns None and the caller reports that it has only the rlimit.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from pathlib import Path

V1_ROOT = Path("/sys/fs/cgroup/pids")
V2_ROOT = Path("/sys/fs/cgroup")
_counter = itertools.count()


def _bases() -> list[Path]:
    """Where this process may make a child cgroup with a pids limit: under its own cgroup in
    the v1 ``pids`` hierarchy (so limits above it still hold), or the v2 root."""
    try:
        own = Path("/proc/self/cgroup").read_text(encoding="ascii").splitlines()
    except OSError:
        return []
    bases = []
    for line in own:
        _, controllers, path = line.split(":", 2)
        if "pids" in controllers.split(",") and (V1_ROOT / "cgroup.procs").exists():
            bases.append(V1_ROOT / path.lstrip("/"))
    try:
        controls = (V2_ROOT / "cgroup.subtree_control").read_text(encoding="ascii").split()
    except OSError:
        controls = []
    if "0::/" in own and "pids" in controls:
        bases.append(V2_ROOT)
    return bases


class PidsCgroup:
    """One run's cgroup; enter it from the child (:attr:`procs_fd`), then :meth:`close`."""

    def __init__(self, path: Path, limit: int, procs_fd: int) -> None:
        self.path = path
        self.limit = limit
        self.procs_fd = procs_fd
        """Open for writing ``cgroup.procs``: the child writes ``0`` to it to move itself."""

    @classmethod
    def create(cls, limit: int, bases: list[Path] | None = None) -> PidsCgroup | None:
        for base in _bases() if bases is None else bases:
            path = base / f"reviewbot-{os.getpid()}-{next(_counter)}"
            try:
                path.mkdir()
            except OSError:
                continue
            try:
                (path / "pids.max").write_text(str(limit), encoding="ascii")
                fd = os.open(path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
            except OSError:
                _rmdir(path)
                continue
            return cls(path, limit, fd)
        return None

    def limit_hit(self) -> bool:
        """A fork or clone in the cgroup failed because of ``pids.max``."""
        try:
            text = (self.path / "pids.events").read_text(encoding="ascii")
        except OSError:
            return False
        return any(
            line.split()[:1] == ["max"] and line.split()[1:2] != ["0"] for line in text.splitlines()
        )

    def kill_all(self, rounds: int = 100) -> bool:
        """SIGKILL every process in the cgroup until it is empty; True when it is."""
        kill_file = self.path / "cgroup.kill"
        for _ in range(rounds):
            pids = self._pids()
            if not pids:
                return True
            if kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1", encoding="ascii")
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    continue
            time.sleep(0.01)
        return not self._pids()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.procs_fd)
        self.kill_all()
        _rmdir(self.path)

    def _pids(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text(encoding="ascii")
        except OSError:
            return []
        return [int(p) for p in text.split()]


def _rmdir(path: Path) -> None:
    for _ in range(50):
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
