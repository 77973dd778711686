"""The job ledger in Redis, for several workers on several machines.

Every state change is one Lua script, so it is atomic on the server:

    {p}:delivery:<id>   SET NX EX ttl               de-duplication
    {p}:job:<id>        HASH spec, pr_key, state, attempts, lease_owner, lease_until,
                        command (1: takes its latest keys when done), covers, since, ...
    {p}:pending         ZSET id -> created_at       jobs queued or running
    {p}:latest:<pr|mode> STRING id (EX ttl)         coalescing: the PR's newest job per mode
    {p}:lock:<pr>       STRING id (PX lease)        the per-PR lock, expires with the lease
    {p}:stats           HASH state -> count         jobs created and finished, for metrics

The lock and latest keys of a job's PR are derived inside the scripts from the job's
``pr_key``, so every call is one round trip.

Durability is Redis's: run it with ``appendonly yes`` (and ``appendfsync always`` if a 202
must survive a power cut, ``everysec`` for at most a second's loss). A single Redis (or a
Sentinel-managed primary) is assumed; the scripts touch keys they derive, which Redis
Cluster does not allow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reviewbot.server.events import JobSpec
from reviewbot.server.ledger.base import Claim, ClaimStatus, JobOutcome

# KEYS delivery, job, pending, stats, huey queue, latest keys it takes now...;
# ARGV id, spec, pr_key, now, ttl, message, own latest key, covered keys (comma-joined),
# command ('1': takes the covered keys only when done)
_ACCEPT = """
if not redis.call('SET', KEYS[1], ARGV[4], 'NX', 'EX', ARGV[5]) then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'spec', ARGV[2], 'pr_key', ARGV[3], 'latest_key', ARGV[7],
           'state', 'queued', 'attempts', 0, 'created_at', ARGV[4], 'enqueued_at', ARGV[4],
           'covers', ARGV[8], 'command', ARGV[9])
if ARGV[9] ~= '1' then redis.call('HSET', KEYS[2], 'since', ARGV[4]) end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
for i = 6, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'EX', ARGV[5]) end
redis.call('HINCRBY', KEYS[4], 'accepted', 1)
if ARGV[6] ~= '' then redis.call('LPUSH', KEYS[5], ARGV[6]) end
return 1
"""

# Every script below starts here: KEYS[1] is the job hash; the PR's lock and latest keys are
# derived from its pr_key and the prefix (the last ARGV), so a call is one round trip.
_PR = """
local pr = redis.call('HGET', KEYS[1], 'pr_key')
if not pr then return 'missing' end
local P = ARGV[#ARGV]
local LOCK = P .. ':lock:' .. pr
local LATEST = P .. ':latest:' .. (redis.call('HGET', KEYS[1], 'latest_key') or pr)
local COMMAND = redis.call('HGET', KEYS[1], 'command') == '1'
local function since_of(id)
  return tonumber(redis.call('HGET', P .. ':job:' .. id, 'since') or '0') or 0
end
"""

# Shared by the scripts that end a job: KEYS job, pending, stats; sets a final state.
_FINAL = """
local function final(state, detail, ttl)
  redis.call('HSET', KEYS[1], 'state', state, 'detail', detail, 'finished_at', ARGV[3])
  redis.call('HDEL', KEYS[1], 'lease_owner', 'lease_until')
  redis.call('ZREM', KEYS[2], ARGV[1])
  if redis.call('GET', LOCK) == ARGV[1] then redis.call('DEL', LOCK) end
  redis.call('HINCRBY', KEYS[3], state, 1)
  redis.call('EXPIRE', KEYS[1], ttl)
end
"""

# KEYS job, pending, stats; ARGV id, owner, now, lease_ms, max_attempts, ttl, prefix
_CLAIM = (
    _PR
    + _FINAL
    + """
local st = redis.call('HMGET', KEYS[1], 'state', 'lease_owner', 'lease_until', 'attempts', 'spec',
                     'created_at')
local state = st[1]
if state ~= 'queued' and state ~= 'running' then return {'finished'} end
local now = tonumber(ARGV[3])
if state == 'running' and tonumber(st[3]) > now and st[2] ~= ARGV[2] then
  return {'leased', st[5], st[4]}
end
local latest = redis.call('GET', LATEST)
if latest and latest ~= ARGV[1] and (not COMMAND or since_of(latest) >= tonumber(st[6])) then
  final('superseded', 'superseded by ' .. latest, ARGV[6])
  return {'superseded', st[5], st[4]}
end
if tonumber(st[4]) >= tonumber(ARGV[5]) then
  final('failed', 'gave up after ' .. st[4] .. ' attempts', ARGV[6])
  return {'exhausted', st[5], st[4]}
end
local holder = redis.call('GET', LOCK)
if holder and holder ~= ARGV[1] then return {'busy', st[5], st[4]} end
redis.call('SET', LOCK, ARGV[1], 'PX', ARGV[4])
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'state', 'running', 'lease_owner', ARGV[2],
           'lease_until', now + tonumber(ARGV[4]) / 1000, 'started_at', ARGV[3])
return {'claimed', st[5], tostring(attempts)}
"""
)

# KEYS job; ARGV id, owner, now, lease_ms, prefix
_HEARTBEAT = (
    _PR
    + """
local st = redis.call('HMGET', KEYS[1], 'state', 'lease_owner')
if st[1] ~= 'running' or st[2] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'lease_until', tonumber(ARGV[3]) + tonumber(ARGV[4]) / 1000)
redis.call('SET', LOCK, ARGV[1], 'PX', ARGV[4])
return 1
"""
)

# KEYS job, pending, stats; ARGV id, owner, now, outcome, detail, ttl, prefix
_FINISH = (
    _PR
    + _FINAL
    + """
local st = redis.call('HMGET', KEYS[1], 'state', 'lease_owner')
if st[1] ~= 'running' or st[2] ~= ARGV[2] then return 0 end
final(ARGV[4], ARGV[5], ARGV[6])
if ARGV[4] == 'done' and COMMAND then
  -- the command's author may run it: it now takes the keys no newer job took meanwhile
  local started = tonumber(redis.call('HGET', KEYS[1], 'started_at') or ARGV[3])
  for key in string.gmatch(redis.call('HGET', KEYS[1], 'covers') or '', '[^,]+') do
    local k = P .. ':latest:' .. key
    local holder = redis.call('GET', k)
    if not holder or holder == ARGV[1] or since_of(holder) < started then
      redis.call('SET', k, ARGV[1], 'EX', ARGV[6])
    end
  end
  redis.call('HSET', KEYS[1], 'since', started)
end
return 1
"""
)

# KEYS job; ARGV id, owner, now, mode ('release' checks owner, 'expired' the lease), prefix
_REQUEUE = (
    _PR
    + """
local st = redis.call('HMGET', KEYS[1], 'state', 'lease_owner', 'lease_until')
if st[1] ~= 'running' then return 0 end
if ARGV[4] == 'release' and st[2] ~= ARGV[2] then return 0 end
if ARGV[4] == 'expired' and tonumber(st[3]) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'queued', 'enqueued_at', ARGV[3])
redis.call('HDEL', KEYS[1], 'lease_owner', 'lease_until')
if redis.call('GET', LOCK) == ARGV[1] then redis.call('DEL', LOCK) end
return 1
"""
)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class RedisLedger:
    def __init__(
        self, url: str, *, ttl: float, name: str = "reviewbot", queue_key: str | None = None
    ) -> None:
        """``queue_key``: huey's list for this queue (``RedisStorage.queue_key``)."""
        import redis

        self.ttl = int(ttl)
        self.queue_key = queue_key
        self.p = f"{name}:ledger"
        self.r = redis.Redis.from_url(
            url, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30
        )
        self._accept = self.r.register_script(_ACCEPT)
        self._claim = self.r.register_script(_CLAIM)
        self._heartbeat = self.r.register_script(_HEARTBEAT)
        self._finish = self.r.register_script(_FINISH)
        self._requeue = self.r.register_script(_REQUEUE)

    def _job(self, job_id: str) -> str:
        return f"{self.p}:job:{job_id}"

    def accept(
        self,
        items: Sequence[tuple[str, JobSpec]],
        now: float,
        messages: Sequence[bytes] | None = None,
    ) -> list[bool]:
        if messages is not None and self.queue_key is None:
            raise ValueError("queue messages need the ledger to know huey's queue key")
        pipe = self.r.pipeline(transaction=False)
        for i, (job_id, spec) in enumerate(items):
            # The same LPUSH as huey's RedisStorage.enqueue, inside the accepting script: the
            # job and its queue message are written together or not at all.
            takes = [] if spec.needs_permission else spec.supersedes()
            keys = [
                f"{self.p}:delivery:{job_id}",
                self._job(job_id),
                f"{self.p}:pending",
                f"{self.p}:stats",
                self.queue_key or f"{self.p}:unused",
                *(f"{self.p}:latest:{key}" for key in takes),
            ]
            message = messages[i] if messages is not None else b""
            self._accept(
                keys=keys,
                args=[
                    job_id,
                    spec.to_json(),
                    spec.pr_key,
                    now,
                    self.ttl,
                    message,
                    spec.latest_key,
                    ",".join(spec.supersedes()),
                    "1" if spec.needs_permission else "0",
                ],
                client=pipe,
            )
        return [bool(v) for v in pipe.execute()]

    def claim(self, job_id: str, owner: str, now: float, lease: float, max_attempts: int) -> Claim:
        res = self._claim(
            keys=[self._job(job_id), f"{self.p}:pending", f"{self.p}:stats"],
            args=[job_id, owner, now, int(lease * 1000), max_attempts, self.ttl, self.p],
        )
        if not isinstance(res, list):  # 'missing'
            return Claim(ClaimStatus.FINISHED)
        status = ClaimStatus(_text(res[0]))
        if len(res) == 1:
            return Claim(status)
        return Claim(status, JobSpec.from_json(_text(res[1])), int(_text(res[2])))

    def heartbeat(self, job_id: str, owner: str, now: float, lease: float) -> bool:
        res = self._heartbeat(
            keys=[self._job(job_id)], args=[job_id, owner, now, int(lease * 1000), self.p]
        )
        return bool(res == 1)

    def finish(self, job_id: str, owner: str, outcome: JobOutcome, detail: str, now: float) -> bool:
        res = self._finish(
            keys=[self._job(job_id), f"{self.p}:pending", f"{self.p}:stats"],
            args=[job_id, owner, now, str(outcome), detail[:500], self.ttl, self.p],
        )
        return bool(res == 1)

    def _requeue_one(self, job_id: str, owner: str, now: float, mode: str) -> bool:
        res = self._requeue(keys=[self._job(job_id)], args=[job_id, owner, now, mode, self.p])
        return bool(res == 1)

    def release(self, job_id: str, owner: str, now: float) -> bool:
        return self._requeue_one(job_id, owner, now, "release")

    def _pending(self) -> list[tuple[str, list[Any]]]:
        ids = [_text(i) for i in self.r.zrange(f"{self.p}:pending", 0, -1)]
        pipe = self.r.pipeline(transaction=False)
        for job_id in ids:
            pipe.hmget(self._job(job_id), "state", "lease_until", "enqueued_at")
        return list(zip(ids, pipe.execute(), strict=True))

    def requeue_expired(self, now: float) -> list[str]:
        out = []
        for job_id, (state, lease_until, _) in self._pending():
            if (
                state == b"running"
                and lease_until is not None
                and float(lease_until) <= now
                and self._requeue_one(job_id, "", now, "expired")
            ):
                out.append(job_id)
        return out

    def stale_queued(self, before: float) -> list[str]:
        return [
            job_id
            for job_id, (state, _, enq) in self._pending()
            if state == b"queued" and enq is not None and float(enq) < before
        ]

    def mark_enqueued(self, job_ids: Sequence[str], now: float) -> None:
        pipe = self.r.pipeline(transaction=False)
        for job_id in job_ids:
            pipe.hset(self._job(job_id), "enqueued_at", now)
        pipe.execute()

    def state(self, job_id: str) -> str | None:
        raw = self.r.hget(self._job(job_id), "state")
        return None if raw is None else _text(raw)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, (state, _, _) in self._pending():
            if state is not None:
                out[_text(state)] = out.get(_text(state), 0) + 1
        for key, value in self.r.hgetall(f"{self.p}:stats").items():
            name = _text(key)
            if name != "accepted":
                out[name] = int(value)
        return out

    def accepted_total(self) -> int:
        return int(self.r.hget(f"{self.p}:stats", "accepted") or 0)

    def prune(self, now: float) -> None:
        """Nothing to do: delivery ids, finished jobs and PR records carry Redis TTLs."""

    def ping(self) -> None:
        self.r.ping()

    def close(self) -> None:
        self.r.close()
