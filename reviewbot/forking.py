"""Spread CPU-bound, per-item work of a large review over the machine's cores by forking.

The static rules are pure Python over tree-sitter nodes: threads do not help (the GIL) and
nodes cannot be pickled to a spawned process. A forked child instead inherits everything
already in memory (the parsed diff, the file contents), computes items and sends the
results back pickled through a pipe, while the parent computes items too and goes on with
other work.

The items go out in batches through a work queue, a pipe every process reads from, so a
process that is faster (or less busy) takes more: no share is fixed in advance from a guess
at each item's cost. The batch numbers are written before the fork, in one write of at most
``PIPE_BUF`` bytes, and each ``read`` of one fixed-size record takes a whole one; the queue
needs no lock.

Forking is used only where it is safe and pays: on Linux (fork is the platform's default
and cheap there), in a process with a single thread (a child forked from a threaded process
can deadlock on a lock another thread held), with more than one usable CPU, and when the
caller says the work is large. A child that fails, is killed or sends back something
incomplete costs time, never results: the parent computes what it left undone itself.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_RECORD = 2
"""Bytes of one batch number in the queue (little-endian)."""
_MAX_BATCHES = select.PIPE_BUF // _RECORD
"""Every batch number fits in one atomic write to an empty pipe, which never blocks."""
_BATCHES_PER_WORKER = 12
"""Batches per process: enough that the last ones are small, few enough that taking one
costs nothing next to computing it."""


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return (
        sys.platform.startswith("linux") and hasattr(os, "fork") and (threading.active_count() == 1)
    )


def batches(weights: Sequence[float], count: int) -> list[list[int]]:
    """Item indices in at most ``count`` batches, the heaviest items first and each batch
    lighter than the one before: a batch takes about 2 / (k + 1) of the weight left with
    k batches to go, so those taken last, when processes finish at different times, are
    the light ones."""
    order = sorted(range(len(weights)), key=lambda k: -weights[k])
    n = max(1, min(count, len(order)))
    out: list[list[int]] = []
    cur: list[int] = []
    held, left = 0.0, float(sum(weights))
    for i in order:
        k = n - len(out)  # batches still to make, the open one included
        if cur and k > 1 and held + weights[i] > left * 2.0 / (k + 1):
            out.append(cur)
            left -= held
            cur, held = [], 0.0
        cur.append(i)
        held += weights[i]
    if cur:
        out.append(cur)
    return out


class _Child:
    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd


class ForkMap(Generic[T, R]):
    """``fn`` over ``items``; children forked at construction start taking batches.

    Use as a context manager: :meth:`run_local` makes this process take batches too until
    none is left (call it, then do other work), :meth:`results` collects every result in
    item order. Leaving the block early (an exception) kills and reaps the children.
    """

    def __init__(
        self, fn: Callable[[T], R], items: Sequence[T], weights: Sequence[float], *, workers: int
    ) -> None:
        """``workers`` processes in all, the parent included (1 = no fork)."""
        self._fn = fn
        self._items = items
        self._results: dict[int, R] = {}
        self._children: list[_Child] = []
        self._queue = -1
        self._local: list[int] = []
        count = min(_MAX_BATCHES, _BATCHES_PER_WORKER * max(workers, 1))
        self._batches = batches(weights, count) if workers > 1 else []
        if len(self._batches) < 2:
            self._batches = [list(range(len(items)))] if items else []
            return
        r, w = os.pipe()
        try:
            numbers = b"".join(b.to_bytes(_RECORD, "little") for b in range(len(self._batches)))
            os.write(w, numbers)
        finally:
            os.close(w)  # before the fork: the queue ends (EOF) once it is empty
        self._queue = r
        for _ in range(workers - 1):
            child = self._fork()
            if child is None:
                break
            self._children.append(child)

    def _take(self) -> list[int] | None:
        """The next batch, or None when the queue is empty."""
        if self._queue < 0:
            if not self._batches:
                return None
            return self._batches.pop()
        got = os.read(self._queue, _RECORD)
        return self._batches[int.from_bytes(got, "little")] if len(got) == _RECORD else None

    def _fork(self) -> _Child | None:
        r, w = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no memory or process slots: the processes already there do it
            os.close(r)
            os.close(w)
            return None
        if pid == 0:  # pragma: no cover - runs in the child, which leaves by os._exit
            code = 1
            try:
                os.close(r)
                # The inherited objects live until exit: keep the collector off them (a full
                # collection would walk, and copy-on-write, every one of them).
                gc.freeze()
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                done: list[tuple[int, R]] = []
                while (batch := self._take()) is not None:
                    done += [(i, self._fn(self._items[i])) for i in batch]
                data = pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(w, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        return _Child(pid, r)

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
        """Indices of the items this process has computed itself so far."""
        return sorted(self._local)

    @property
    def forked(self) -> int:
        """Children that were started."""
        return len(self._children)

    def run_local(self, after: Callable[[int, R], None] | None = None) -> None:
        """Take batches until none is left; ``after(index, result)`` runs on each of this
        process's results as it comes (work that needs it, done while the children run)."""
        while (batch := self._take()) is not None:
            for i in batch:
                result = self._results[i] = self._fn(self._items[i])
                self._local.append(i)
                if after is not None:
                    after(i, result)

    def results(self) -> list[R]:
        self.run_local()
        for child in self._children:
            self._results.update(self._collect(child))
        self._children = []
        self._close_queue()
        for i in range(len(self._items)):
            if i not in self._results:  # a failed child's items: done here
                self._results[i] = self._fn(self._items[i])
        return [self._results[i] for i in range(len(self._items))]

    def _collect(self, child: _Child) -> list[tuple[int, R]]:
        with os.fdopen(child.fd, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(child.pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
            return []
        try:
            got: list[tuple[int, R]] = pickle.loads(data)
        except Exception:
            return []
        n = len(self._items)
        if not isinstance(got, list) or not all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], int) and 0 <= p[0] < n
            for p in got
        ):
            return []
        return got

    def _close_queue(self) -> None:
        if self._queue >= 0:
            os.close(self._queue)
            self._queue = -1

    def close(self) -> None:
        for child in self._children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGKILL)
            os.close(child.fd)
            os.waitpid(child.pid, 0)
        self._children = []
        self._close_queue()
