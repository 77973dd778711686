"""How many requests to keep in flight at a server that may answer one at a time.

vLLM batches: ``llm.concurrency`` requests in flight keep it busy. Many other
OpenAI-compatible servers do not: llama-cpp-python answers one request at a time and
llama.cpp's server has a fixed number of slots. Sixteen requests sent at once to such a
server queue there, and each one's read timeout runs while it waits, so the last ones time
out although the server is working. reviewbot cannot see that queue, but it can see its
effect on latency.

:class:`AdaptiveGate` is an additive-increase, multiplicative-decrease limit on the
requests in flight, driven by latency (as TCP Vegas is): it starts at ``start`` (1 when
the server's parallelism is unknown) and allows one more request after each ``limit``
answers that came as fast as the fastest seen so far (within :data:`FAST`); an answer
slower than :data:`SLOW` times the fastest, or a read timeout, halves it. Behind a
one-slot server it settles at one or two requests in flight, so no request waits behind
more than one other; against a batching server it climbs to the ceiling.
"""

from __future__ import annotations

import threading

FAST = 1.5
"""An answer within this factor of the fastest one counts as unqueued."""
SLOW = 1.8
"""An answer slower than this factor of the fastest one waited in a queue."""


class AdaptiveGate:
    """A counting semaphore whose limit follows the server's observed parallelism."""

    def __init__(self, ceiling: int, start: int | None = None) -> None:
        self.ceiling = max(1, ceiling)
        self._limit = max(1, min(self.ceiling, start if start is not None else 1))
        self._in_flight = 0
        self._good = 0
        self._fastest: float | None = None
        self.peak = self._limit
        """The highest limit reached (reported in the review's notes)."""
        self._cond = threading.Condition()

    @property
    def limit(self) -> int:
        with self._cond:
            return self._limit

    def acquire(self) -> int:
        """Wait for a free place; returns how many requests were in flight before this one."""
        with self._cond:
            while self._in_flight >= self._limit:
                self._cond.wait()
            self._in_flight += 1
            return self._in_flight - 1

    def release(self, seconds: float | None, *, timed_out: bool = False) -> None:
        """Free a place. ``seconds`` is the answer's latency (None: no usable sample)."""
        with self._cond:
            self._in_flight -= 1
            if timed_out:
                self._shrink()
            elif seconds is not None:
                self._learn(seconds)
            self._cond.notify_all()

    def _learn(self, seconds: float) -> None:
        fastest = self._fastest
        if fastest is None or seconds < fastest:
            self._fastest = fastest = max(seconds, 1e-6)
        if seconds > SLOW * fastest:
            self._shrink()
        elif seconds <= FAST * fastest:
            self._good += 1
            if self._good >= self._limit and self._limit < self.ceiling:
                self._limit += 1
                self._good = 0
                self.peak = max(self.peak, self._limit)

    def _shrink(self) -> None:
        self._limit = max(1, self._limit // 2)
        self._good = 0
