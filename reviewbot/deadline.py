"""The review's time budget (``time_budget``): one deadline every stage checks.

A pathological pull request (tens of thousands of tiny hunks, a slow model server) must not
hold a worker for as long as it likes. The engine takes one :class:`Deadline` when the
review starts; each stage asks it before the next unit of work (a file's static checks, a
model request, the test suggestions) and stops starting new ones once it has passed. What
was done is reported as usual, and the review says where it stopped ("review stopped after
N s (time_budget): ..."). Work already started finishes; nothing is killed mid-way.

The clock is :func:`time.monotonic`, which is system-wide on Linux, so forked static
workers check the same deadline as their parent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Deadline:
    at: float | None
    """A :func:`time.monotonic` value; None when the review has no time budget."""
    seconds: float = 0.0
    """The budget it was made from (for messages)."""

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """A deadline ``seconds`` from now; ``seconds <= 0`` means none."""
        return cls(clock() + seconds, seconds) if seconds > 0 else cls(None)

    def expired(self, clock: Callable[[], float] = time.monotonic) -> bool:
        return self.at is not None and clock() >= self.at

    def remaining(self, clock: Callable[[], float] = time.monotonic) -> float | None:
        return None if self.at is None else max(0.0, self.at - clock())


NO_DEADLINE = Deadline(None)


def past_deadline(at: float | None) -> bool:
    """True when the monotonic time ``at`` has passed (False for None)."""
    return at is not None and time.monotonic() >= at


def past(request: HasDeadline) -> bool:
    """True when a model request's deadline has passed: it is not sent."""
    return past_deadline(request.deadline)


class HasDeadline(Protocol):
    @property
    def deadline(self) -> float | None: ...


BUDGET_REASON = "time budget spent"
"""The Skipped reason (and request error) for work not started because time ran out."""
