"""The self-hosted webhook server (``reviewbot serve`` / ``reviewbot worker``).

signature.py   X-Hub-Signature-256 (HMAC-SHA256 over the raw body)
events.py      which deliveries become review jobs (JobSpec)
app.py         the Starlette app: /webhook, /healthz, /readyz, /metrics
queue.py       huey (SQLite or Redis) plus the ledger: submit, recover
ledger/        the durable job record: de-duplication, coalescing, leases (the
               protocol in base.py, sqlite.py and redis.py beside it)
worker.py      the job handler (claim, heartbeat, finish), sweeper, worker pool
runner.py      one job -> reviewbot.github.flow.review_pull_request
settings.py    REVIEWBOT_* server settings; metrics.py, logs.py
"""
