"""Workers over a real SQLite queue, with a job runner that records what it was asked."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from huey.exceptions import RetryTask

from reviewbot.errors import GitHubError
from reviewbot.server.events import JobSpec
from reviewbot.server.metrics import Metrics
from reviewbot.server.queue import JobQueue
from reviewbot.server.settings import QueueURL, Settings
from reviewbot.server.worker import JobHandler, JobResult, PermanentJobError, WorkerPool
from tests.test_server_support import wait_for


def spec(number: int = 2, mode: str = "review") -> JobSpec:
    return JobSpec(
        repo="o/r", number=number, installation_id=1, mode=mode, trigger="pull_request.synchronize"
    )


class Recorder:
    """A job runner that records each run (start and end times) and can be slow or fail."""

    def __init__(self, seconds: float = 0.0, fail: Exception | None = None) -> None:
        self.seconds = seconds
        self.fail = fail
        self.runs: list[tuple[str, JobSpec, float, float]] = []
        self._lock = threading.Lock()

    def __call__(self, job_id: str, spec: JobSpec) -> JobResult:
        start = time.monotonic()
        if self.fail is not None:
            raise self.fail
        time.sleep(self.seconds)
        with self._lock:
            self.runs.append((job_id, spec, start, time.monotonic()))
        return JobResult("done", f"reviewed {spec.pr_key}")

    def ids(self) -> list[str]:
        return [r[0] for r in self.runs]


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[JobQueue]:
    settings = Settings(
        queue=QueueURL("sqlite", str(tmp_path / "q.db")), lease_seconds=2.0, max_attempts=3
    )
    q = JobQueue(settings)
    yield q
    q.close()


def pool_for(queue: JobQueue, runner: Recorder, threads: int = 2) -> WorkerPool:
    return WorkerPool(
        queue,
        JobHandler(queue, runner, Metrics()),
        threads=threads,
        embedded=True,
        shutdown_timeout=5,
    )


def test_pool_runs_a_submitted_job_once(queue: JobQueue) -> None:
    runner = Recorder()
    queue.submit([("d1", spec())])
    pool = pool_for(queue, runner)
    pool.start()
    try:
        wait_for(lambda: queue.ledger.state("d1") == "done")
    finally:
        pool.stop()
    assert runner.ids() == ["d1"]


def test_queued_jobs_of_one_pr_coalesce_to_the_newest(queue: JobQueue) -> None:
    runner = Recorder()
    queue.submit([("d1", spec()), ("d2", spec()), ("other", spec(7)), ("d3", spec(mode="full"))])
    pool = pool_for(queue, runner)
    pool.start()
    try:
        wait_for(lambda: queue.ledger.counts().get("done") == 2)
    finally:
        pool.stop()
    assert sorted(runner.ids()) == ["d3", "other"]
    assert [queue.ledger.state(j) for j in ("d1", "d2")] == ["superseded", "superseded"]


def test_two_workers_never_review_one_pr_at_once(queue: JobQueue) -> None:
    runner = Recorder(seconds=0.6)
    pool = pool_for(queue, runner, threads=3)
    pool.start()
    try:
        queue.submit([("a1", spec())])
        wait_for(lambda: queue.ledger.state("a1") == "running")
        queue.submit([("a2", spec()), ("b1", spec(9))])  # a new push while a1 runs
        wait_for(lambda: queue.ledger.state("a2") == "done", timeout=30)
    finally:
        pool.stop()
    runs = {r[0]: r for r in runner.runs}
    assert set(runs) == {"a1", "a2", "b1"}
    assert runs["a2"][2] >= runs["a1"][3], "a2 started only after a1 ended"
    assert runs["b1"][2] < runs["a1"][3], "another PR ran alongside"


def test_sweeper_reruns_a_job_whose_worker_died(queue: JobQueue) -> None:
    queue.submit([("d1", spec())])
    # A worker took the message and claimed the job, then died: huey no longer has it.
    assert queue.huey.dequeue() is not None
    assert queue.ledger.claim("d1", "dead", time.time(), 1.0, 3).status == "claimed"
    runner = Recorder()
    pool = pool_for(queue, runner)
    pool.start()
    try:
        wait_for(lambda: queue.ledger.state("d1") == "done", timeout=20)
    finally:
        pool.stop()
    assert runner.ids() == ["d1"]


def test_recover_enqueues_what_huey_lost_but_not_twice(queue: JobQueue) -> None:
    queue.ledger.accept([("lost", spec()), ("kept", spec(3))], time.time() - 60)
    queue.enqueue("kept")
    assert queue.recover(grace=30) == ["lost"]
    assert queue.huey.pending_count() == 2
    assert queue.recover(grace=30) == [], "now both are in huey's queue"


def test_errors_are_retried_then_failed(queue: JobQueue) -> None:
    queue.submit([("d1", spec())])
    handler = JobHandler(queue, Recorder(fail=GitHubError("GitHub answered 502")), Metrics())
    for attempt in (1, 2):
        with pytest.raises(RetryTask) as info:
            handler("d1")
        assert info.value.delay == 10.0 * 2 ** (attempt - 1)
        assert queue.ledger.state("d1") == "queued"
    handler("d1")  # third attempt of max 3: recorded as failed, not retried
    assert queue.ledger.state("d1") == "failed"


def test_permanent_errors_fail_at_once(queue: JobQueue) -> None:
    queue.submit([("d1", spec())])
    handler = JobHandler(queue, Recorder(fail=PermanentJobError("PR is gone")), Metrics())
    handler("d1")
    assert queue.ledger.state("d1") == "failed"


def test_busy_pr_is_retried_later(queue: JobQueue) -> None:
    queue.submit([("d1", spec())])
    assert queue.ledger.claim("d1", "other-worker", time.time(), 60.0, 3).status == "claimed"
    queue.submit([("d2", spec())])
    with pytest.raises(RetryTask):
        JobHandler(queue, Recorder(), Metrics())("d2")
    assert queue.ledger.state("d2") == "queued"


def test_heartbeat_keeps_a_long_job_leased(tmp_path: Path) -> None:
    settings = Settings(queue=QueueURL("sqlite", str(tmp_path / "q.db")), lease_seconds=1.0)
    queue = JobQueue(settings)
    queue.submit([("d1", spec())])
    runner = Recorder(seconds=2.5)  # 2.5 leases long
    done = threading.Thread(target=JobHandler(queue, runner, Metrics()), args=("d1",))
    done.start()
    wait_for(lambda: queue.ledger.state("d1") == "running")
    time.sleep(1.5)
    assert queue.ledger.requeue_expired(time.time()) == [], "the heartbeat renewed the lease"
    done.join()
    assert queue.ledger.state("d1") == "done"
    queue.close()
