"""The durable job queue: huey (SQLite or Redis storage) plus the job ledger.

huey carries job ids from the webhook to the workers, runs the worker threads, and holds
delayed retries in its schedule; the ledger (:mod:`reviewbot.server.ledger`) holds what must
not be lost or duplicated. :meth:`JobQueue.submit` writes a job's ledger record and its huey
message in one transaction (the 202 waits for that commit). :meth:`JobQueue.recover` is the
safety net for what huey cannot see: jobs whose worker died (lease expired), and jobs the
ledger holds as queued whose message huey no longer has (taken by a worker that died before
claiming it, or a scheduled retry lost in a crash) are enqueued again. Running a job id twice
is harmless: :meth:`Ledger.claim` lets only one run through.

Task messages are JSON, not huey's default pickle: a message read from a shared Redis must
never be able to run code in a worker.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.registry import Message
from huey.serializer import Serializer

from reviewbot.server import extras
from reviewbot.server.events import JobSpec
from reviewbot.server.ledger import Ledger, open_ledger
from reviewbot.server.settings import Settings

log = logging.getLogger("reviewbot.server.queue")

TASK_NAME = "review_job"
REQUEUE_GRACE = 30.0
"""A queued job older than this that huey does not hold is enqueued again."""


class JSONSerializer(Serializer):  # type: ignore[misc]
    """huey messages as JSON (a job id and scheduling fields; nothing executable)."""

    def _serialize(self, data: Any) -> bytes:
        if not isinstance(data, Message):
            raise TypeError(f"reviewbot queues only task messages, not {type(data).__name__}")
        fields = data._asdict()
        for key in ("on_complete", "on_error", "chord_config"):
            if fields[key] is not None:
                raise TypeError(f"reviewbot tasks do not use {key}")
        for key in ("eta", "expires_resolved"):
            if isinstance(fields[key], datetime.datetime):
                fields[key] = fields[key].isoformat()
        if isinstance(fields["expires"], datetime.datetime | datetime.timedelta):
            raise TypeError("reviewbot tasks do not expire")
        fields["args"] = list(fields["args"])
        return json.dumps(fields, separators=(",", ":")).encode("utf-8")

    def _deserialize(self, data: bytes) -> Message:
        fields = json.loads(data)
        for key in ("eta", "expires_resolved"):
            if fields.get(key):
                fields[key] = datetime.datetime.fromisoformat(fields[key])
        fields["args"] = tuple(fields.get("args") or ())
        return Message(**{k: fields.get(k) for k in Message._fields})


def build_huey(settings: Settings, name: str = "reviewbot") -> Huey:
    common: dict[str, Any] = {"results": False, "serializer": JSONSerializer(), "utc": True}
    if settings.queue.kind == "redis":
        return RedisHuey(name, url=settings.queue.target, blocking=True, read_timeout=1, **common)
    return SqliteHuey(name, filename=settings.queue.target, fsync=True, **common)


Handler = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Submitted:
    job_id: str
    accepted: bool
    """False: the delivery id was seen before; nothing was queued."""


class JobQueue:
    """One process's view of the queue: submit jobs, register the worker task, recover."""

    def __init__(
        self,
        settings: Settings,
        *,
        huey: Huey | None = None,
        ledger: Ledger | None = None,
        name: str = "reviewbot",
    ) -> None:
        self.settings = settings
        if settings.queue.kind == "redis" and (huey is None or ledger is None):
            # before huey, which reports a missing redis package as its own ConfigurationError
            extras.require("redis", f"the queue {settings.queue.describe()}")
        self.huey = huey or build_huey(settings, name)
        self.ledger = ledger or open_ledger(
            settings.queue,
            ttl=settings.delivery_ttl_seconds,
            name=name,
            huey_storage=self.huey.storage,
        )
        self._handler: Handler | None = None
        self.task = self.huey.task(name=TASK_NAME)(self._run)

    def _run(self, job_id: str) -> None:
        if self._handler is None:
            raise RuntimeError("this process has no job handler (web-only); run a worker")
        self._handler(job_id)

    def set_handler(self, handler: Handler) -> None:
        self._handler = handler

    def submit(self, items: Sequence[tuple[str, JobSpec]]) -> list[Submitted]:
        """Record jobs and their queue messages in one atomic, durable write (one commit for
        the whole batch). Returns after the commit."""
        messages = [self.huey.serialize_task(self.task.s(job_id)) for job_id, _ in items]
        accepted = self.ledger.accept(items, time.time(), messages)
        return [Submitted(job_id, ok) for (job_id, _), ok in zip(items, accepted, strict=True)]

    def enqueue(self, job_id: str, delay: float | None = None) -> None:
        if delay:
            self.task.schedule(args=(job_id,), delay=delay)
        else:
            self.task(job_id)

    def _ids_in_huey(self) -> set[str]:
        ids: set[str] = set()
        for raw in [*self.huey.storage.enqueued_items(), *self.huey.storage.scheduled_items()]:
            try:
                msg = self.huey.serializer.deserialize(raw)
            except (ValueError, TypeError):
                continue
            if msg.args:
                ids.add(str(msg.args[0]))
        return ids

    def recover(self, now: float | None = None, grace: float = REQUEUE_GRACE) -> list[str]:
        """Enqueue again what a dead worker or a crash left behind. Returns the job ids."""
        now = time.time() if now is None else now
        expired = self.ledger.requeue_expired(now)
        in_huey = self._ids_in_huey()
        lost = [j for j in self.ledger.stale_queued(now - grace) if j not in in_huey]
        again = list(dict.fromkeys([*expired, *lost]))
        for job_id in again:
            self.enqueue(job_id)
        self.ledger.mark_enqueued(again, now)
        if again:
            log.info("re-enqueued jobs", extra={"count": len(again), "expired": len(expired)})
        self.ledger.prune(now)
        return again

    def depth(self) -> dict[str, int]:
        counts = self.ledger.counts()
        return {
            "queued": counts.get("queued", 0),
            "running": counts.get("running", 0),
            "huey_queue": int(self.huey.pending_count()),
            "huey_scheduled": int(self.huey.scheduled_count()),
        }

    def ping(self) -> None:
        self.ledger.ping()
        self.huey.pending_count()

    def close(self) -> None:
        self.ledger.close()
        self.huey.storage.close()
