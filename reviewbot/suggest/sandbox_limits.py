"""What the sandboxed process may do: its resource limits and, as root, its capabilities;
and this process made non-dumpable while it runs (see :mod:`reviewbot.suggest.sandbox`).

The limits are set with ``resource.setrlimit`` in ``preexec_fn`` (CPU time, address space,
file size, open files, processes, no core files); :func:`limiter` computes every value
beforehand, so the child only makes the system calls.
"""

from __future__ import annotations

import ctypes
import os
import resource
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_PR_GET_DUMPABLE, _PR_SET_DUMPABLE, _PR_CAPBSET_DROP = 3, 4, 24
_DROPPED_CAPS = (12, 16, 17, 19, 21, 22, 38, 39)
"""NET_ADMIN, SYS_MODULE, SYS_RAWIO, SYS_PTRACE, SYS_ADMIN, SYS_BOOT, PERFMON, BPF: with
PTRACE, ADMIN or PERFMON a root child could still read this non-dumpable process's memory
and environment."""


@dataclass(frozen=True, slots=True)
class Limits:
    timeout: float
    """Wall-clock seconds one test file's collection or one test may take."""
    total: float
    """Wall-clock seconds for the whole pytest process."""
    memory_bytes: int = 4 << 30
    file_bytes: int = 64 << 20
    open_files: int = 1024
    extra_processes: int = 64
    """Processes (and threads) the run may have: ``pids.max`` of its own pids cgroup where
    one can be made (sandbox_cgroup.py), and RLIMIT_NPROC on top of the user's count (which
    does not bind root: see
    :func:`~reviewbot.suggest.sandbox.process_limit_enforced`)."""
    cgroup: bool = True
    """Try to make the pids cgroup (off: the rlimit only)."""


def _user_processes() -> int | None:
    uid = os.getuid()
    count = 0
    try:
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    if entry.stat().st_uid == uid:
                        count += 1
                except OSError:
                    continue
    except OSError:
        return None
    return count


def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def limiter(
    limits: Limits, *, drop_caps: bool = False, cgroup_fd: int | None = None
) -> Callable[[], None]:
    """The ``preexec_fn``: only setrlimit (with ``drop_caps``, prctl; with ``cgroup_fd``, a
    write of ``0`` that moves the child into that cgroup) calls on values computed
    beforehand."""
    cpu = int(limits.total) + 5
    wanted: list[tuple[int, int]] = [
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, limits.open_files),
    ]
    procs = _user_processes()
    if procs is not None:
        wanted.append((resource.RLIMIT_NPROC, procs + limits.extra_processes))
    plan: list[tuple[int, int, int]] = []
    for res, value in wanted:
        soft, hard = resource.getrlimit(res)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        plan.append((res, value, value))
    prctl = _libc().prctl if drop_caps and sys.platform.startswith("linux") else None

    def apply() -> None:
        if cgroup_fd is not None:
            os.write(cgroup_fd, b"0")
        for res, soft, hard in plan:
            resource.setrlimit(res, (soft, hard))
        if prctl is not None:
            for cap in _DROPPED_CAPS:
                prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # EPERM without CAP_SETPCAP: no caps

    return apply


@contextmanager
def not_dumpable() -> Iterator[None]:
    """While it lasts, processes of the same user without CAP_SYS_PTRACE (and the root
    children started with ``limiter(drop_caps=True)``) cannot read this process's
    ``/proc/PID/environ`` or memory. Restored afterwards; no-op off Linux."""
    if not sys.platform.startswith("linux"):
        yield
        return
    libc = _libc()
    before = libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    try:
        yield
    finally:
        if before == 1:
            libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
