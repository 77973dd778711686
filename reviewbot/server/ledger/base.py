"""The ledger's contract: the :class:`Ledger` protocol, :class:`Claim` and the job states.

What the operations promise is told in :mod:`reviewbot.server.ledger`; the SQLite and Redis
implementations beside this module keep it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from reviewbot.server.events import JobSpec

PENDING_STATES = ("queued", "running")
FINAL_STATES = ("done", "superseded", "failed", "denied")


class ClaimStatus(StrEnum):
    """What :meth:`Ledger.claim` did with a job."""

    CLAIMED = "claimed"  # now running under this worker's lease
    BUSY = "busy"  # another job of the PR runs
    LEASED = "leased"  # this job runs elsewhere
    SUPERSEDED = "superseded"  # a newer job of the PR took its key; now final
    EXHAUSTED = "exhausted"  # too many attempts; now failed
    FINISHED = "finished"  # gone or already final


class JobOutcome(StrEnum):
    """How a job that ran ended: what :meth:`Ledger.finish` records as its state."""

    DONE = "done"
    DENIED = "denied"  # the commenter lacks write access
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Claim:
    status: ClaimStatus
    spec: JobSpec | None = None
    attempts: int = 0


class Ledger(Protocol):
    def accept(
        self,
        items: Sequence[tuple[str, JobSpec]],
        now: float,
        messages: Sequence[bytes] | None = None,
    ) -> list[bool]:
        """Record new jobs atomically; False for a delivery id seen before. ``messages``
        (aligned with ``items``): huey queue messages written in the same transaction for
        the jobs that are new."""
        ...

    def claim(
        self, job_id: str, owner: str, now: float, lease: float, max_attempts: int
    ) -> Claim: ...

    def heartbeat(self, job_id: str, owner: str, now: float, lease: float) -> bool: ...

    def finish(
        self, job_id: str, owner: str, outcome: JobOutcome, detail: str, now: float
    ) -> bool: ...

    def release(self, job_id: str, owner: str, now: float) -> bool:
        """Give a claimed job back (state queued) to be retried; its attempts stay counted."""
        ...

    def requeue_expired(self, now: float) -> list[str]:
        """Jobs whose lease ran out go back to ``queued``; returns their ids."""
        ...

    def stale_queued(self, before: float) -> list[str]:
        """Queued jobs last handed to the queue before ``before``."""
        ...

    def mark_enqueued(self, job_ids: Sequence[str], now: float) -> None: ...

    def state(self, job_id: str) -> str | None: ...

    def counts(self) -> dict[str, int]:
        """Jobs by state (pending states exactly; final states while remembered)."""
        ...

    def prune(self, now: float) -> None:
        """Forget expired delivery ids and old finished jobs."""
        ...

    def ping(self) -> None:
        """Raise when the store cannot be reached."""
        ...

    def close(self) -> None: ...
