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

    base.py     the Ledger protocol, Claim, ClaimStatus, JobOutcome and the job states
    sqlite.py   SqliteLedger: the same file as huey's SQLite queue
    redis.py    RedisLedger: Lua scripts on one Redis, for workers on several machines

Both stores import only ``base``; :func:`open_ledger` picks one by ``QueueURL.kind``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reviewbot.server.ledger.base import (
    FINAL_STATES,
    PENDING_STATES,
    Claim,
    ClaimStatus,
    JobOutcome,
    Ledger,
)
from reviewbot.server.ledger.redis import RedisLedger
from reviewbot.server.ledger.sqlite import SqliteLedger

if TYPE_CHECKING:
    from reviewbot.server.settings import QueueURL

__all__ = [
    "FINAL_STATES",
    "OPENERS",
    "PENDING_STATES",
    "Claim",
    "ClaimStatus",
    "JobOutcome",
    "Ledger",
    "RedisLedger",
    "SqliteLedger",
    "open_ledger",
]

Opener = Callable[["QueueURL", float, str, Any], Ledger]
"""(queue, ttl, name, huey_storage) -> the ledger of that queue."""


def _sqlite(queue: QueueURL, ttl: float, name: str, huey_storage: Any) -> Ledger:
    return SqliteLedger(queue.target, ttl=ttl, shared=huey_storage)


def _redis(queue: QueueURL, ttl: float, name: str, huey_storage: Any) -> Ledger:
    key = huey_storage.queue_key if huey_storage is not None else None
    return RedisLedger(queue.target, ttl=ttl, name=name, queue_key=key)


OPENERS: dict[str, Opener] = {"sqlite": _sqlite, "redis": _redis}
"""``QueueURL.kind`` -> its ledger. The Redis client library is imported only when a Redis
ledger is opened."""


def open_ledger(
    queue: QueueURL, *, ttl: float, name: str = "reviewbot", huey_storage: Any | None = None
) -> Ledger:
    """``huey_storage``: huey's storage for the same queue; with it, ``accept`` writes the
    queue messages in the ledger's transaction (and SQLite shares its connection)."""
    opener = OPENERS.get(queue.kind, _sqlite)  # QueueURL.parse makes only the two kinds
    return opener(queue, ttl, name, huey_storage)
