"""Spread CPU-bound, per-item work of a large review over the machine's cores by forking.

The static rules are pure Python over tree-sitter nodes: threads do not help (the GIL) and
nodes cannot be pickled to a spawned process. A forked child instead inherits everything
already in memory (the parsed diff, the file contents), computes its share of the items and
sends the results back pickled through a pipe, while the parent computes its own share and
goes on with other work.

Forking is used only where it is safe and pays: on Linux (fork is the platform's default
and cheap there), in a process with a single thread (a child forked from a threaded process
can deadlock on a lock another thread held), with more than one usable CPU, and when the
caller says the work is large. A child that fails, is killed or sends back something
incomplete costs time, never results: the parent computes that share itself.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return (
        sys.platform.startswith("linux") and hasattr(os, "fork") and (threading.active_count() == 1)
    )


def partition(weights: Sequence[float], shares: Sequence[float]) -> list[list[int]]:
    """Item indices for each share, the heaviest items first into the share with the most
    room left, so every share's total weight ends near its part of the whole."""
    total = float(sum(weights)) or 1.0
    scale = sum(shares) or 1.0
    room = [total * s / scale for s in shares]
    parts: list[list[int]] = [[] for _ in shares]
    for i in sorted(range(len(weights)), key=lambda k: -weights[k]):
        best = max(range(len(shares)), key=lambda k: room[k])
        parts[best].append(i)
        room[best] -= weights[i]
    for part in parts:
        part.sort()
    return parts


class _Child:
    def __init__(self, pid: int, fd: int, indices: list[int]) -> None:
        self.pid = pid
        self.fd = fd
        self.indices = indices


class ForkMap(Generic[T, R]):
    """``fn`` over ``items``; children forked at construction compute their shares.

    Use as a context manager: :meth:`run_local` computes the parent's share (call it, then
    do other work), :meth:`results` collects every result in item order. Leaving the block
    early (an exception) kills and reaps the children.
    """

    def __init__(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        weights: Sequence[float],
        *,
        workers: int,
        parent_share: float = 1.0,
    ) -> None:
        """``workers`` processes in all, the parent included (1 = no fork); the parent
        takes ``parent_share`` of one child's load (less than 1 when it has other work to
        do while the children run)."""
        self._fn = fn
        self._items = items
        self._results: dict[int, R] = {}
        self._children: list[_Child] = []
        if workers > 1 and len(items) > 1:
            parts = partition(weights, [parent_share] + [1.0] * (workers - 1))
        else:
            parts = [list(range(len(items)))]
        self._local = parts[0]
        for part in parts[1:]:
            if part:
                self._children.append(self._fork(part))

    def _fork(self, indices: list[int]) -> _Child:
        r, w = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no memory or process slots: the parent does it
            os.close(r)
            os.close(w)
            self._local = sorted(self._local + indices)
            return _Child(-1, -1, [])
        if pid == 0:  # pragma: no cover - runs in the child, which leaves by os._exit
            code = 1
            try:
                os.close(r)
                # The inherited objects live until exit: keep the collector off them (a full
                # collection would walk, and copy-on-write, every one of them).
                gc.freeze()
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                data = pickle.dumps(
                    [(i, self._fn(self._items[i])) for i in indices],
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
                with os.fdopen(w, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        return _Child(pid, r, indices)

    def __enter__(self) -> ForkMap[T, R]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def local(self) -> list[int]:
        """Indices of the items this process computes itself."""
        return list(self._local)

    @property
    def forked(self) -> int:
        """Children that were started."""
        return sum(1 for c in self._children if c.pid > 0)

    def run_local(self) -> None:
        for i in self._local:
            if i not in self._results:
                self._results[i] = self._fn(self._items[i])

    def results(self) -> list[R]:
        self.run_local()
        for child in self._children:
            got = self._collect(child)
            if got is None:  # the child failed: do its share here
                got = [(i, self._fn(self._items[i])) for i in child.indices]
            self._results.update(got)
        self._children = []
        return [self._results[i] for i in range(len(self._items))]

    def _collect(self, child: _Child) -> list[tuple[int, R]] | None:
        if child.pid <= 0:
            return None
        with os.fdopen(child.fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(child.pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return None
        try:
            got: list[tuple[int, R]] = pickle.loads(data)
        except Exception:
            return None
        if sorted(i for i, _ in got) != child.indices:
            return None
        return got

    def close(self) -> None:
        for child in self._children:
            if child.pid <= 0:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            os.close(child.fd)
            os.waitpid(child.pid, 0)
        self._children = []
