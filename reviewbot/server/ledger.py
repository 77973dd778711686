"""The job ledger: the durable record of every accepted job, next to huey's queue.

huey moves job ids from the web process to the workers; the ledger is what makes that safe:

- ``accept`` records the delivery id (de-duplication), the job (state ``queued``) and the PR's
  latest job (coalescing) in one atomic write, before the webhook answers 202. Coalescing is
  per mode: a newer job supersedes queued jobs whose mode it covers (``tests`` covers
  ``full`` covers ``review``), so a push never cancels a queued ``/review full``;
- a comment command (``JobSpec.needs_permission``) is not trusted at accept time: it takes
  the latest keys only when it finishes ``done`` (its author's write access was confirmed
  and the review ran), dated from its claim, and only where no newer job took them since.
  Until then it is superseded only by a job that took its key at or after its own accept.
  So a denied (or failed) command never displaces the push review queued before it;
- ``claim`` turns a queued job into ``running`` under a lease (owner + expiry). The lease is
  also the per-PR lock: a job is not claimed while another job of the same PR holds a live
  lease, and a job that is no longer its PR's latest is ``superseded`` instead of run;
- ``heartbeat`` extends the lease while the job runs; ``finish`` records the outcome;
- ``requeue_expired`` hands back jobs whose worker died (SIGKILL, OOM, lost machine): the
  lease runs out and the next sweep puts the job back in the queue. huey removes a message
  when a worker takes it, so this is what makes a killed job run again.

A job id is the delivery id (``X-GitHub-Delivery``), so a redelivery is recognised even after
the job finished, until the delivery record expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from reviewbot.server.events import JobSpec

if TYPE_CHECKING:
    from reviewbot.server.settings import QueueURL

PENDING_STATES = ("queued", "running")
FINAL_STATES = ("done", "superseded", "failed", "denied")


@dataclass(frozen=True, slots=True)
class Claim:
    status: str
    """claimed | busy (another job of the PR runs) | leased (this job runs elsewhere) |
    superseded | exhausted (too many attempts; now failed) | finished (gone or already final)."""
    spec: JobSpec | None = None
    attempts: int = 0


class Ledger(Protocol):
    def accept(self, items: Sequence[tuple[str, JobSpec]], now: float,
               messages: Sequence[bytes] | None = None) -> list[bool]:
        """Record new jobs atomically; False for a delivery id seen before. ``messages``
        (aligned with ``items``): huey queue messages written in the same transaction for
        the jobs that are new."""
        ...

    def claim(self, job_id: str, owner: str, now: float, lease: float,
              max_attempts: int) -> Claim: ...

    def heartbeat(self, job_id: str, owner: str, now: float, lease: float) -> bool: ...

    def finish(self, job_id: str, owner: str, outcome: str, detail: str, now: float) -> bool: ...

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


def open_ledger(queue: QueueURL, *, ttl: float, name: str = "reviewbot",
                huey_storage: Any | None = None) -> Ledger:
    """``huey_storage``: huey's storage for the same queue; with it, ``accept`` writes the
    queue messages in the ledger's transaction (and SQLite shares its connection)."""
    if queue.kind == "redis":
        from reviewbot.server.ledger_redis import RedisLedger

        key = huey_storage.queue_key if huey_storage is not None else None
        return RedisLedger(queue.target, ttl=ttl, name=name, queue_key=key)
    from reviewbot.server.ledger_sqlite import SqliteLedger

    return SqliteLedger(queue.target, ttl=ttl, shared=huey_storage)
