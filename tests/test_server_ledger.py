"""The job ledger on SQLite and on a real redis-server: the same contract on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.server.events import JobSpec
from reviewbot.server.ledger import ClaimStatus, JobOutcome, Ledger, open_ledger
from reviewbot.server.settings import QueueURL
from tests.test_server_support import start_redis, stop

TTL = 3600.0


def spec(number: int = 2, repo: str = "Codertocat/Hello-World", mode: str = "review") -> JobSpec:
    return JobSpec(
        repo=repo, number=number, installation_id=1, mode=mode, trigger="pull_request.opened"
    )


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QueueURL]:
    if request.param == "sqlite":
        yield QueueURL("sqlite", str(tmp_path / "queue.db"))
        return
    proc, url = start_redis(tmp_path)
    try:
        yield QueueURL("redis", url)
    finally:
        stop(proc)


@pytest.fixture
def ledger(queue_url: QueueURL) -> Iterator[Ledger]:
    led = open_ledger(queue_url, ttl=TTL, name="t")
    yield led
    led.close()


def test_accept_dedupes_by_delivery_id_across_reopen(queue_url: QueueURL) -> None:
    first = open_ledger(queue_url, ttl=TTL, name="t")
    assert first.accept([("d1", spec()), ("d2", spec(3)), ("d1", spec())], 100.0) == [
        True,
        True,
        False,
    ]
    first.close()
    again = open_ledger(queue_url, ttl=TTL, name="t")  # a restarted server
    assert again.accept([("d1", spec()), ("d3", spec(4))], 200.0) == [False, True]
    assert again.counts().get("queued") == 3
    again.close()


def test_claim_run_finish(ledger: Ledger) -> None:
    ledger.accept([("d1", spec())], 100.0)
    c = ledger.claim("d1", "w1", 101.0, 30.0, 5)
    assert (c.status, c.attempts, c.spec) == ("claimed", 1, spec())
    assert ledger.state("d1") == "running"
    assert ledger.claim("d1", "w2", 102.0, 30.0, 5).status == "leased"
    assert ledger.heartbeat("d1", "w1", 110.0, 30.0)
    assert not ledger.heartbeat("d1", "w2", 110.0, 30.0)
    assert not ledger.finish("d1", "w2", "done", "", 111.0), "only the lease owner finishes"
    assert ledger.finish("d1", "w1", "done", "ok", 111.0)
    assert ledger.state("d1") == "done"
    assert ledger.claim("d1", "w2", 112.0, 30.0, 5).status == "finished"
    assert ledger.claim("nope", "w2", 112.0, 30.0, 5).status == "finished"


def test_claim_statuses_are_members_and_outcomes_are_stored_as_their_text(ledger: Ledger) -> None:
    ledger.accept([("d1", spec()), ("d2", spec())], 100.0)
    assert ledger.claim("d1", "w1", 101.0, 30.0, 5).status is ClaimStatus.SUPERSEDED
    assert ledger.claim("d2", "w1", 101.0, 30.0, 5).status is ClaimStatus.CLAIMED
    assert ledger.claim("d2", "w2", 102.0, 30.0, 5).status is ClaimStatus.LEASED
    assert ledger.finish("d2", "w1", JobOutcome.DENIED, "", 103.0)
    state = ledger.state("d2")
    assert state == "denied" and type(state) is str
    assert ledger.claim("d2", "w1", 104.0, 30.0, 5).status is ClaimStatus.FINISHED


def test_newer_job_supersedes_a_queued_one(ledger: Ledger) -> None:
    ledger.accept([("d1", spec()), ("other", spec(9))], 100.0)
    ledger.accept([("d2", spec(mode="full"))], 101.0)
    assert ledger.claim("d1", "w1", 102.0, 30.0, 5).status == "superseded"
    assert ledger.state("d1") == "superseded"
    assert ledger.claim("d2", "w1", 102.0, 30.0, 5).status == "claimed"
    assert ledger.claim("other", "w2", 102.0, 30.0, 5).status == "claimed", "other PRs are free"


def test_a_push_does_not_cancel_a_queued_full_review(ledger: Ledger) -> None:
    ledger.accept([("full", spec(mode="full")), ("tests", spec(mode="tests"))], 100.0)
    ledger.accept([("push1", spec())], 101.0)
    ledger.accept([("push2", spec())], 102.0)
    assert ledger.claim("push1", "w1", 103.0, 30.0, 5).status == "superseded"
    assert ledger.claim("tests", "w1", 103.0, 30.0, 5).status == "claimed"
    assert ledger.finish("tests", "w1", "done", "", 104.0)
    # /tests (newer) covered the queued /review full: that one is superseded
    assert ledger.claim("full", "w1", 105.0, 30.0, 5).status == "superseded"
    assert ledger.claim("push2", "w1", 105.0, 30.0, 5).status == "claimed"


def test_per_pr_lock_while_an_older_job_runs(ledger: Ledger) -> None:
    ledger.accept([("d1", spec())], 100.0)
    assert ledger.claim("d1", "w1", 101.0, 30.0, 5).status == "claimed"
    ledger.accept([("d2", spec())], 102.0)  # a push arrives while d1 is being reviewed
    assert ledger.claim("d2", "w2", 103.0, 30.0, 5).status == "busy"
    assert ledger.finish("d1", "w1", "done", "", 104.0)
    assert ledger.claim("d2", "w2", 105.0, 30.0, 5).status == "claimed"


def test_expired_lease_is_requeued_and_frees_the_pr(ledger: Ledger) -> None:
    ledger.accept([("d1", spec())], 100.0)
    assert ledger.claim("d1", "dead-worker", 101.0, 10.0, 5).status == "claimed"
    assert ledger.requeue_expired(105.0) == []
    assert ledger.requeue_expired(111.5) == ["d1"]
    assert ledger.state("d1") == "queued"
    c = ledger.claim("d1", "w2", 112.0, 10.0, 5)
    assert (c.status, c.attempts) == ("claimed", 2)
    assert not ledger.finish("d1", "dead-worker", "done", "", 113.0)
    assert ledger.finish("d1", "w2", "done", "", 113.0)


def test_release_and_attempt_limit(ledger: Ledger) -> None:
    ledger.accept([("d1", spec())], 100.0)
    for attempt in (1, 2):
        c = ledger.claim("d1", "w", 100.0 + attempt, 10.0, 2)
        assert (c.status, c.attempts) == ("claimed", attempt)
        assert ledger.release("d1", "w", 100.5 + attempt)
    assert ledger.claim("d1", "w", 104.0, 10.0, 2).status == "exhausted"
    assert ledger.state("d1") == "failed"


def test_stale_queued_and_mark_enqueued(ledger: Ledger) -> None:
    ledger.accept([("d1", spec()), ("d2", spec(3))], 100.0)
    assert sorted(ledger.stale_queued(150.0)) == ["d1", "d2"]
    ledger.mark_enqueued(["d1"], 160.0)
    assert ledger.stale_queued(150.0) == ["d2"]
    ledger.claim("d2", "w", 161.0, 10.0, 5)
    assert ledger.stale_queued(200.0) == ["d1"], "running jobs are not stale"


def test_counts_and_ping(ledger: Ledger) -> None:
    ledger.ping()
    ledger.accept([("d1", spec()), ("d2", spec(3)), ("d3", spec(4))], 100.0)
    ledger.claim("d1", "w", 101.0, 10.0, 5)
    ledger.claim("d2", "w", 101.0, 10.0, 5)
    ledger.finish("d2", "w", "done", "", 102.0)
    counts = ledger.counts()
    assert (counts.get("queued"), counts.get("running"), counts.get("done")) == (1, 1, 1)


def test_sqlite_prune_forgets_old_deliveries(tmp_path: Path) -> None:
    led = open_ledger(QueueURL("sqlite", str(tmp_path / "q.db")), ttl=100.0)
    led.accept([("d1", spec())], 1000.0)
    led.claim("d1", "w", 1001.0, 10.0, 5)
    led.finish("d1", "w", "done", "", 1002.0)
    led.prune(1050.0)
    assert led.accept([("d1", spec())], 1060.0) == [False], "still remembered within the TTL"
    led.prune(1200.0)
    assert led.accept([("d1", spec())], 1210.0) == [True], "a redelivery after the TTL is new"
    led.close()


def command(mode: str = "review", by: str = "bob") -> JobSpec:
    words = {"review": "/review", "full": "/review full", "tests": "/tests"}[mode]
    return JobSpec(
        repo="Codertocat/Hello-World",
        number=2,
        installation_id=1,
        mode=mode,
        trigger=f"issue_comment.{words}",
        requested_by=by,
    )


@pytest.mark.parametrize("mode", ["review", "full", "tests"])
def test_a_denied_command_does_not_displace_the_queued_push(ledger: Ledger, mode: str) -> None:
    ledger.accept([("push", spec())], 100.0)
    ledger.accept([("cmd", command(mode))], 101.0)  # a read-only user's comment
    assert ledger.claim("cmd", "w1", 102.0, 30.0, 5).status == "claimed"
    assert ledger.finish("cmd", "w1", "denied", "bob has no write access", 103.0)
    c = ledger.claim("push", "w1", 104.0, 30.0, 5)
    assert c.status == "claimed", "the push review must still run at the PR's head"


def test_a_denied_full_does_not_cancel_a_maintainers_queued_full(ledger: Ledger) -> None:
    ledger.accept([("push", spec()), ("mia", command("full", by="mia"))], 100.0)
    ledger.accept([("bob", command("full"))], 101.0)
    assert ledger.claim("bob", "w1", 102.0, 30.0, 5).status == "claimed"
    assert ledger.finish("bob", "w1", "denied", "", 103.0)
    assert ledger.claim("mia", "w1", 104.0, 30.0, 5).status == "claimed"
    assert ledger.finish("mia", "w1", "done", "", 105.0)
    # mia's full review ran after the push was queued and covers it
    assert ledger.claim("push", "w1", 106.0, 30.0, 5).status == "superseded"


def test_a_command_that_ran_supersedes_only_what_was_queued_before_it(ledger: Ledger) -> None:
    ledger.accept([("old", spec()), ("older-cmd", command("full", by="mia"))], 100.0)
    ledger.accept([("cmd", command("full", by="alice"))], 101.0)
    assert ledger.claim("cmd", "w1", 102.0, 30.0, 5).status == "claimed"
    ledger.accept([("new", spec())], 103.0)  # pushed while the full review runs
    assert ledger.finish("cmd", "w1", "done", "", 104.0)
    assert ledger.claim("old", "w1", 105.0, 30.0, 5).status == "superseded"
    assert ledger.claim("older-cmd", "w1", 105.0, 30.0, 5).status == "superseded"
    assert ledger.claim("new", "w1", 105.0, 30.0, 5).status == "claimed"


def test_a_queued_command_is_superseded_only_by_newer_jobs(ledger: Ledger) -> None:
    ledger.accept([("push", spec())], 100.0)
    ledger.accept([("cmd", command(by="mia"))], 101.0)
    assert ledger.claim("cmd", "w1", 102.0, 30.0, 5).status == "claimed", (
        "an older push does not cancel a newer /review"
    )
    assert ledger.finish("cmd", "w1", "done", "", 103.0)
    ledger.accept([("cmd2", command(by="mia"))], 104.0)
    ledger.accept([("push2", spec())], 105.0)
    assert ledger.claim("cmd2", "w1", 106.0, 30.0, 5).status == "superseded"
    assert ledger.claim("push2", "w1", 106.0, 30.0, 5).status == "claimed"


def test_sqlite_queue_file_of_an_older_version_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "create table rb_job (job_id text primary key, pr_key text not null, "
        "spec text not null, state text not null, attempts integer not null default 0, "
        "lease_owner text, lease_until real, created_at real not null, "
        "enqueued_at real not null, finished_at real, detail text)"
    )
    conn.commit()
    conn.close()
    led = open_ledger(QueueURL("sqlite", str(path)), ttl=TTL)
    led.accept([("cmd", command(by="mia"))], 100.0)
    assert led.claim("cmd", "w", 101.0, 10.0, 5).status == "claimed"
    assert led.finish("cmd", "w", "done", "", 102.0)
    led.close()


def test_the_stores_depend_on_the_contract_only() -> None:
    """No import cycle: base imports no store, a store imports no other ledger module."""
    import ast

    import reviewbot.server.ledger as package

    folder = Path(package.__file__).parent
    for name, allowed in (
        ("base", set()),
        ("sqlite", {"reviewbot.server.ledger.base"}),
        ("redis", {"reviewbot.server.ledger.base"}),
    ):
        tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        used = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        used |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert {m for m in used if m.startswith("reviewbot.server.ledger")} == allowed, name
