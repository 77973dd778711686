"""The job ledger in SQLite: the same file as huey's queue, tables prefixed ``rb_``.

WAL mode with ``synchronous=FULL``: a commit that returned is on disk, so the 202 that
follows it is a promise the ledger keeps across a crash or power loss. Every change is one
``BEGIN IMMEDIATE`` transaction, which also makes it safe for the web process and separate
``reviewbot worker`` processes on the same machine to share the file.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reviewbot.errors import ConfigError
from reviewbot.server.events import JobSpec
from reviewbot.server.ledger.base import Claim, ClaimStatus, JobOutcome

SCHEMA = (
    "create table if not exists rb_delivery (delivery_id text primary key, seen_at real not null)",
    "create index if not exists rb_delivery_seen on rb_delivery (seen_at)",
    "create table if not exists rb_job (job_id text primary key, pr_key text not null, "
    "spec text not null, state text not null, attempts integer not null default 0, "
    "lease_owner text, lease_until real, created_at real not null, enqueued_at real not null, "
    "finished_at real, detail text, started_at real)",
    "create index if not exists rb_job_state on rb_job (state, enqueued_at)",
    "create index if not exists rb_job_pr on rb_job (pr_key, state)",
    "create table if not exists rb_pr (pr_key text primary key, latest_job text not null, "
    "updated_at real not null)",
)


class SqliteLedger:
    """``shared``: huey's ``SqliteStorage`` of the same file. Sharing its connection and lock
    serializes this process's ledger and queue writes in Python instead of leaving them to
    SQLite's busy handler, whose sleeps (1 ms, 2 ms, 5 ms, ...) would add up under load."""

    def __init__(
        self, path: str, *, ttl: float, timeout: float = 10.0, shared: Any | None = None
    ) -> None:
        self.path = path
        self.ttl = ttl
        parent = Path(path).expanduser().resolve().parent
        if not parent.is_dir():
            raise ConfigError(
                f"queue database directory {parent} does not exist",
                hint="create it or point REVIEWBOT_QUEUE_URL at a writable path",
            )
        self._shared = shared
        self._lock = shared.lock if shared is not None else threading.Lock()
        self._own: sqlite3.Connection | None = None
        if shared is None:
            self._own = sqlite3.connect(
                path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._own.execute("pragma journal_mode=wal")
            self._own.execute("pragma synchronous=full")
        with self._tx() as cur:
            for stmt in SCHEMA:
                cur.execute(stmt)
            columns = {row[1] for row in cur.execute("pragma table_info(rb_job)")}
            if "started_at" not in columns:  # a queue file written by an older reviewbot
                cur.execute("alter table rb_job add column started_at real")

    @property
    def _conn(self) -> sqlite3.Connection:
        conn = self._own if self._shared is None else self._shared.conn
        assert conn is not None
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            conn = self._conn
            cur = conn.cursor()
            cur.execute("begin immediate")
            try:
                yield cur
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()
            finally:
                cur.close()

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return list(self._conn.execute(sql, params).fetchall())

    def accept(
        self,
        items: Sequence[tuple[str, JobSpec]],
        now: float,
        messages: Sequence[bytes] | None = None,
    ) -> list[bool]:
        out: list[bool] = []
        queue_name = self._shared.name if self._shared is not None else None
        if messages is not None and queue_name is None:
            raise ValueError("queue messages need the ledger to share huey's storage")
        with self._tx() as cur:
            for i, (job_id, spec) in enumerate(items):
                cur.execute("insert or ignore into rb_delivery values (?, ?)", (job_id, now))
                if cur.rowcount != 1:
                    out.append(False)
                    continue
                cur.execute(
                    "insert or replace into rb_job (job_id, pr_key, spec, state, attempts, "
                    "created_at, enqueued_at) values (?, ?, ?, 'queued', 0, ?, ?)",
                    (job_id, spec.pr_key, spec.to_json(), now, now),
                )
                if not spec.needs_permission:  # a command takes its keys when it is done
                    self._take_keys(cur, job_id, spec, now, only_newer=False)
                if messages is not None:
                    # huey's own task table, as SqliteStorage.enqueue writes it: the job and
                    # its queue message commit together or not at all.
                    cur.execute(
                        "insert into task (queue, data, priority) values (?, ?, 0)",
                        (queue_name, messages[i]),
                    )
                out.append(True)
        return out

    def claim(self, job_id: str, owner: str, now: float, lease: float, max_attempts: int) -> Claim:
        with self._tx() as cur:
            row = cur.execute(
                "select pr_key, spec, state, attempts, lease_owner, lease_until, "
                "created_at from rb_job where job_id = ?",
                (job_id,),
            ).fetchone()
            if row is None or row[2] not in ("queued", "running"):
                return Claim(ClaimStatus.FINISHED)
            pr_key, spec_text, state, attempts, lease_owner, lease_until, created = row
            spec = JobSpec.from_json(spec_text)
            if state == "running" and lease_until > now and lease_owner != owner:
                return Claim(ClaimStatus.LEASED, spec, attempts)
            latest = cur.execute(
                "select latest_job, updated_at from rb_pr where pr_key = ?", (spec.latest_key,)
            ).fetchone()
            if (
                latest is not None
                and latest[0] != job_id
                and (not spec.needs_permission or latest[1] >= created)
            ):
                self._final(cur, job_id, "superseded", f"superseded by {latest[0]}", now)
                return Claim(ClaimStatus.SUPERSEDED, spec, attempts)
            if attempts >= max_attempts:
                self._final(cur, job_id, "failed", f"gave up after {attempts} attempts", now)
                return Claim(ClaimStatus.EXHAUSTED, spec, attempts)
            busy = cur.execute(
                "select 1 from rb_job where pr_key = ? and state = 'running' and "
                "lease_until > ? and job_id != ? limit 1",
                (pr_key, now, job_id),
            ).fetchone()
            if busy:
                return Claim(ClaimStatus.BUSY, spec, attempts)
            cur.execute(
                "update rb_job set state = 'running', attempts = attempts + 1, "
                "lease_owner = ?, lease_until = ?, started_at = ? where job_id = ?",
                (owner, now + lease, now, job_id),
            )
            return Claim(ClaimStatus.CLAIMED, spec, attempts + 1)

    @staticmethod
    def _take_keys(
        cur: sqlite3.Cursor, job_id: str, spec: JobSpec, since: float, *, only_newer: bool
    ) -> None:
        """Make ``job_id`` the latest job under every key it supersedes (``rb_pr.pr_key``
        holds coalescing keys, ``updated_at`` the time the job took them); ``only_newer``:
        leave keys a job took at or after ``since``."""
        guard = " where rb_pr.updated_at < excluded.updated_at" if only_newer else ""
        cur.executemany(
            "insert into rb_pr values (?, ?, ?) on conflict (pr_key) do update set "
            "latest_job = excluded.latest_job, updated_at = excluded.updated_at" + guard,
            [(key, job_id, since) for key in spec.supersedes()],
        )

    @staticmethod
    def _final(cur: sqlite3.Cursor, job_id: str, state: str, detail: str, now: float) -> None:
        cur.execute(
            "update rb_job set state = ?, detail = ?, finished_at = ?, lease_owner = null, "
            "lease_until = null where job_id = ?",
            (state, detail, now, job_id),
        )

    def heartbeat(self, job_id: str, owner: str, now: float, lease: float) -> bool:
        with self._tx() as cur:
            cur.execute(
                "update rb_job set lease_until = ? where job_id = ? and "
                "state = 'running' and lease_owner = ?",
                (now + lease, job_id, owner),
            )
            return cur.rowcount == 1

    def finish(self, job_id: str, owner: str, outcome: JobOutcome, detail: str, now: float) -> bool:
        with self._tx() as cur:
            cur.execute(
                "update rb_job set state = ?, detail = ?, finished_at = ?, "
                "lease_owner = null, lease_until = null where job_id = ? and "
                "state = 'running' and lease_owner = ?",
                (str(outcome), detail[:500], now, job_id, owner),
            )
            if cur.rowcount != 1:
                return False
            if outcome == JobOutcome.DONE:
                spec_text, started = cur.execute(
                    "select spec, started_at from rb_job where job_id = ?", (job_id,)
                ).fetchone()
                spec = JobSpec.from_json(spec_text)
                if spec.needs_permission:
                    self._take_keys(
                        cur, job_id, spec, now if started is None else started, only_newer=True
                    )
            return True

    def release(self, job_id: str, owner: str, now: float) -> bool:
        with self._tx() as cur:
            cur.execute(
                "update rb_job set state = 'queued', lease_owner = null, "
                "lease_until = null, enqueued_at = ? where job_id = ? and "
                "state = 'running' and lease_owner = ?",
                (now, job_id, owner),
            )
            return cur.rowcount == 1

    def requeue_expired(self, now: float) -> list[str]:
        with self._tx() as cur:
            rows = cur.execute(
                "update rb_job set state = 'queued', lease_owner = null, "
                "lease_until = null, enqueued_at = ? where state = 'running' "
                "and lease_until <= ? returning job_id",
                (now, now),
            ).fetchall()
        return [str(r[0]) for r in rows]

    def stale_queued(self, before: float) -> list[str]:
        rows = self._read(
            "select job_id from rb_job where state = 'queued' and enqueued_at < ? "
            "order by created_at",
            (before,),
        )
        return [str(r[0]) for r in rows]

    def mark_enqueued(self, job_ids: Sequence[str], now: float) -> None:
        if not job_ids:
            return
        with self._tx() as cur:
            cur.executemany(
                "update rb_job set enqueued_at = ? where job_id = ? and state = 'queued'",
                [(now, j) for j in job_ids],
            )

    def state(self, job_id: str) -> str | None:
        rows = self._read("select state from rb_job where job_id = ?", (job_id,))
        return str(rows[0][0]) if rows else None

    def counts(self) -> dict[str, int]:
        rows = self._read("select state, count(*) from rb_job group by state")
        return {str(s): int(n) for s, n in rows}  # type: ignore[call-overload]

    def prune(self, now: float) -> None:
        cutoff = now - self.ttl
        with self._tx() as cur:
            cur.execute("delete from rb_delivery where seen_at < ?", (cutoff,))
            cur.execute(
                "delete from rb_job where finished_at is not null and finished_at < ?", (cutoff,)
            )
            cur.execute(
                "delete from rb_pr where updated_at < ? and latest_job not in "
                "(select job_id from rb_job)",
                (cutoff,),
            )

    def ping(self) -> None:
        self._read("select 1")

    def close(self) -> None:
        if self._own is not None:
            with self._lock:
                self._own.close()
