"""Workers: run queued jobs under a lease, and sweep up what dead workers left.

:class:`JobHandler` is the body of huey's ``review_job`` task. For one job id it

1. claims the job in the ledger (see :mod:`reviewbot.server.ledger`): a superseded job
   (a newer push for the same PR was queued) ends here; a job whose PR another worker is
   reviewing is retried a few seconds later through huey's schedule;
2. runs the job runner while a heartbeat thread extends the lease;
3. records the outcome. An error gives the job back for a retry with backoff until
   ``max_attempts`` runs were used; a worker killed mid-job never reaches this step, so its
   lease runs out and :class:`Sweeper` puts the job back in the queue.

A job that runs again after its worker died publishes through the same idempotent GitHub
publisher (fingerprint markers), so the pull request never gets duplicate comments.

:class:`WorkerPool` runs huey's consumer (threads) and the sweeper, in ``reviewbot worker``
or inside ``reviewbot serve`` (the embedded default).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from huey.consumer import Consumer
from huey.exceptions import RetryTask

from reviewbot.errors import ReviewbotError
from reviewbot.server import logs
from reviewbot.server.events import JobSpec
from reviewbot.server.ledger import ClaimStatus, JobOutcome
from reviewbot.server.metrics import Metrics
from reviewbot.server.queue import JobQueue

log = logging.getLogger("reviewbot.server.worker")

BUSY_RETRY_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class JobResult:
    outcome: JobOutcome
    """done | denied (the commenter lacks write access) | skipped."""
    detail: str = ""


class JobRunner(Protocol):
    def __call__(self, job_id: str, spec: JobSpec) -> JobResult: ...


class PermanentJobError(ReviewbotError):
    """A job that cannot succeed on retry (the PR is gone, the App was uninstalled)."""


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Heartbeat:
    def __init__(self, beat: Callable[[], bool], every: float) -> None:
        self._beat = beat
        self._every = every
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(target=self._run, name="reviewbot-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                if not self._beat():
                    self.lost = True
                    log.warning("lease lost: another worker may run this job again")
                    return
            except Exception as exc:  # noqa: BLE001 - keep trying until the job ends
                log.warning("lease heartbeat failed", extra={"error": type(exc).__name__})

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class JobHandler:
    def __init__(
        self,
        queue: JobQueue,
        runner: JobRunner,
        metrics: Metrics,
        *,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.queue = queue
        self.runner = runner
        self.metrics = metrics
        self.settings = queue.settings
        self.owner = owner or worker_identity()
        self._clock = clock

    def __call__(self, job_id: str) -> None:
        token = logs.delivery_id.set(job_id)
        try:
            self._handle(job_id)
        finally:
            logs.delivery_id.reset(token)

    def _handle(self, job_id: str) -> None:
        s = self.settings
        ledger = self.queue.ledger
        claim = ledger.claim(job_id, self.owner, self._clock(), s.lease_seconds, s.max_attempts)
        if claim.status == ClaimStatus.BUSY:
            self.metrics.jobs.labels("busy").inc()
            raise RetryTask(delay=BUSY_RETRY_SECONDS)
        if claim.status != ClaimStatus.CLAIMED or claim.spec is None:
            if claim.status in (ClaimStatus.SUPERSEDED, ClaimStatus.EXHAUSTED):
                self.metrics.jobs.labels(
                    "superseded" if claim.status == ClaimStatus.SUPERSEDED else "failed"
                ).inc()
            log.info("job not run", extra={"outcome": claim.status})
            return
        spec = claim.spec
        fields = {
            "repo": spec.repo,
            "number": spec.number,
            "mode": spec.mode,
            "attempt": claim.attempts,
        }
        log.info("job started", extra=fields)
        started = time.monotonic()

        def beat() -> bool:
            return ledger.heartbeat(job_id, self.owner, self._clock(), s.lease_seconds)

        try:
            with _Heartbeat(beat, max(0.2, s.lease_seconds / 3)):
                result = self.runner(job_id, spec)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded in the ledger
            elapsed = time.monotonic() - started
            self.metrics.job_seconds.observe(elapsed)
            self._failed(job_id, claim.attempts, exc, fields)
            return
        elapsed = time.monotonic() - started
        self.metrics.job_seconds.observe(elapsed)
        self.metrics.jobs.labels(result.outcome).inc()
        ledger.finish(job_id, self.owner, result.outcome, result.detail, self._clock())
        log.info(
            "job finished",
            extra={
                **fields,
                "outcome": result.outcome,
                "detail": result.detail,
                "seconds": round(elapsed, 3),
            },
        )

    def _failed(
        self, job_id: str, attempts: int, exc: Exception, fields: dict[str, object]
    ) -> None:
        ledger = self.queue.ledger
        message = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        final = isinstance(exc, PermanentJobError) or attempts >= self.settings.max_attempts
        extra = {**fields, "error_type": type(exc).__name__, "error": message}
        if final:
            self.metrics.jobs.labels("failed").inc()
            ledger.finish(job_id, self.owner, JobOutcome.FAILED, message, self._clock())
            log.error("job failed", extra=extra, exc_info=not isinstance(exc, ReviewbotError))
            return
        self.metrics.jobs.labels("retried").inc()
        ledger.release(job_id, self.owner, self._clock())
        delay = min(300.0, 10.0 * 2 ** (attempts - 1))
        log.warning(
            "job error; will retry",
            extra={**extra, "retry_in": delay},
            exc_info=not isinstance(exc, ReviewbotError),
        )
        raise RetryTask(delay=delay)


class Sweeper:
    """Re-enqueue jobs of dead workers (expired leases) and jobs huey lost, periodically."""

    def __init__(self, queue: JobQueue, interval: float) -> None:
        self.queue = queue
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reviewbot-sweeper", daemon=True)

    def sweep(self) -> list[str]:
        try:
            return self.queue.recover()
        except Exception as exc:  # noqa: BLE001 - retried at the next interval
            log.warning("queue sweep failed", extra={"error": type(exc).__name__})
            return []

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sweep()

    def start(self) -> None:
        self.sweep()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class _QuietConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer without its signal handlers (the embedding process owns signals)."""

    def _set_signal_handlers(self) -> None:
        return None


class WorkerPool:
    """``threads`` huey workers plus a sweeper, in this process."""

    def __init__(
        self,
        queue: JobQueue,
        handler: JobHandler,
        *,
        threads: int,
        embedded: bool,
        shutdown_timeout: float = 10.0,
    ) -> None:
        queue.set_handler(handler)
        self.queue = queue
        cls = _QuietConsumer if embedded else Consumer
        self.consumer = cls(
            queue.huey,
            workers=threads,
            worker_type="thread",
            periodic=False,
            initial_delay=0.05,
            backoff=1.5,
            max_delay=1.0,
            shutdown_timeout=shutdown_timeout,
            graceful_signal="TERM",
            check_worker_health=True,
            health_check_interval=10,
        )
        self.sweeper = Sweeper(queue, max(0.5, min(30.0, queue.settings.lease_seconds / 4)))

    def start(self) -> None:
        """Start in the background (embedded in the web server)."""
        self.sweeper.start()
        self.consumer.start()

    def stop(self) -> None:
        self.consumer.stop(graceful=True)
        self.sweeper.stop()

    def run(self) -> None:
        """Run in the foreground until SIGTERM/SIGINT (``reviewbot worker``)."""
        self.sweeper.start()
        try:
            self.consumer.run()
        finally:
            self.sweeper.stop()
