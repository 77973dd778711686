"""Load test of the webhook server: signed deliveries at a fixed concurrency, on 127.0.0.1.

SQLite: the embedded default, one server process with its worker threads (the code of
``reviewbot serve``: :func:`reviewbot.server.app.run_server`). Redis: ``reviewbot serve
--workers 0`` plus --redis-workers worker processes (:class:`WorkerPool`, as in ``reviewbot
worker``) and a redis-server this script starts. In both, the job runner records every run
instead of calling GitHub: the load is on the acknowledgement path and the queue, not on
reviews. By default 2,000 deliveries at concurrency 32, of which 10% re-send an earlier
delivery id, 5% carry a bad signature and 2% a signed body that is not JSON; the rest are
``pull_request.synchronize`` payloads (the real octokit example, 28 kB) for --prs pull
requests, so newer pushes coalesce queued jobs of the same PR.

The load client (--client) is by default a minimal asyncio HTTP/1.1 client on 32 keep-alive
connections; ``--client httpx`` uses httpx's AsyncClient, which costs about 3 ms of CPU per
request here, so on two cores it, not the server, sets the latency. Latency is measured by the
client (request written -> response read) and, from the server's JSON logs, inside the server.
After the queue drains it reports:

- accepted (202), duplicates (200), bad signatures rejected (401), malformed (400);
- jobs created (ledger records; must equal the unique valid deliveries), jobs reviewed and
  superseded (coalescing), jobs lost (created but neither reviewed nor superseded: must be 0),
  PRs with accepted pushes but no review (must be 0; a PR's newest job is never superseded);
- duplicate reviews (a job run twice, or two runs of one PR overlapping: must be 0);
- acknowledgement latency p50/p90/p99/max (target p99 < 50 ms).

    .venv/bin/python benchmarks/webhook_load.py                  # SQLite, then Redis
    .venv/bin/python benchmarks/webhook_load.py --queue sqlite --deliveries 500
    .venv/bin/python benchmarks/webhook_load.py --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from webhook_load_clients import (  # noqa: E402
    SECRET,
    Result,
    build_deliveries,
    send_httpx,
    send_raw,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.05)
    raise SystemExit(f"benchmark: {what} did not happen within {timeout:.0f}s")


# --- children: the real server / worker code with a recording job runner --------------------


def recording_runner(args: argparse.Namespace) -> Any:
    from reviewbot.server.events import JobSpec
    from reviewbot.server.worker import JobResult

    record = open(args.record, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as we do

    def runner(job_id: str, spec: JobSpec) -> JobResult:
        start = time.time()
        time.sleep(args.job_seconds)
        line = json.dumps({"job": job_id, "pr": spec.pr_key, "start": start, "end": time.time()})
        record.write(line + "\n")
        record.flush()
        return JobResult("done", "recorded")

    return runner


def child(args: argparse.Namespace) -> int:
    from reviewbot.server import logs
    from reviewbot.server.metrics import Metrics
    from reviewbot.server.queue import JobQueue
    from reviewbot.server.settings import load_settings
    from reviewbot.server.worker import JobHandler, WorkerPool

    settings = load_settings(os.environ, None, Path.cwd())
    logs.configure("info")
    runner = recording_runner(args)
    if args._server:
        from reviewbot.server.app import run_server

        run_server(
            settings,
            host="127.0.0.1",
            port=args.port,
            threads=args.threads,
            make_runner=lambda metrics: runner,
        )
        return 0
    queue = JobQueue(settings)
    WorkerPool(
        queue, JobHandler(queue, runner, Metrics()), threads=args.threads, embedded=False
    ).run()
    return 0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def redis_up(queue_url: Any) -> bool:
    from reviewbot.server.ledger import open_ledger

    ledger = open_ledger(queue_url, ttl=3600)
    try:
        ledger.ping()
        return True
    finally:
        ledger.close()


def run_one(kind: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from reviewbot.server.ledger import open_ledger
    from reviewbot.server.settings import QueueURL

    procs: list[subprocess.Popen[bytes]] = []
    logs = open(tmp / "other-logs.txt", "wb")  # noqa: SIM115
    server_log = open(tmp / "server-log.jsonl", "wb")  # noqa: SIM115
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env.update(REVIEWBOT_WEBHOOK_SECRET=SECRET, REVIEWBOT_JOB_LEASE_SECONDS="30")
    record = tmp / "runs.jsonl"
    child_args = [
        "--record",
        str(record),
        "--threads",
        str(args.threads),
        "--job-seconds",
        str(args.job_seconds),
    ]
    http_port = free_port()
    try:
        if kind == "redis":
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [
                        args.redis_server,
                        "--port",
                        str(port),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--appendonly",
                        "yes",
                        "--appendfsync",
                        "everysec",
                        "--dir",
                        str(tmp),
                    ],
                    stdout=logs,
                    stderr=logs,
                )
            )
            env["REVIEWBOT_QUEUE_URL"] = f"redis://127.0.0.1:{port}/0"
            wait_until(
                lambda: redis_up(QueueURL.parse(env["REVIEWBOT_QUEUE_URL"])),
                10,
                "redis-server answering",
            )
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "reviewbot",
                        "serve",
                        "--port",
                        str(http_port),
                        "--workers",
                        "0",
                    ],
                    env=env,
                    cwd=tmp,
                    stdout=server_log,
                    stderr=server_log,
                )
            )

            def start_workers() -> None:
                for _ in range(args.redis_workers):
                    procs.append(
                        subprocess.Popen(
                            [
                                sys.executable,
                                str(Path(__file__).resolve()),
                                "--_worker",
                                *child_args,
                            ],
                            env=env,
                            cwd=tmp,
                            stdout=logs,
                            stderr=logs,
                        )
                    )

            if not args.workers_after_load:
                start_workers()
            layout = (
                f"reviewbot serve --workers 0 + {args.redis_workers} worker processes x "
                f"{args.threads} threads"
                + (" started after the load" if args.workers_after_load else "")
            )
        else:
            env["REVIEWBOT_QUEUE_URL"] = str(tmp / "queue.db")
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(Path(__file__).resolve()),
                        "--_server",
                        "--port",
                        str(http_port),
                        *child_args,
                    ],
                    env=env,
                    cwd=tmp,
                    stdout=server_log,
                    stderr=server_log,
                )
            )
            layout = f"one process: server + {args.threads} embedded worker threads"
        queue_url = QueueURL.parse(env["REVIEWBOT_QUEUE_URL"])
        import httpx

        url = f"http://127.0.0.1:{http_port}/webhook"
        wait_until(
            lambda: httpx.get(url.replace("/webhook", "/healthz")).status_code == 200,
            30,
            "the server answering",
        )
        deliveries = build_deliveries(
            args.deliveries, args.prs, args.dup_rate, args.bad_rate, args.malformed_rate, args.seed
        )
        send = (
            send_raw(http_port, deliveries, args.concurrency)
            if args.client == "raw"
            else send_httpx(url, deliveries, args.concurrency)
        )
        results, elapsed = asyncio.run(send)
        if kind == "redis" and args.workers_after_load:
            start_workers()
        ledger = open_ledger(queue_url, ttl=3600)
        drain_started = time.monotonic()
        wait_until(
            lambda: not {"queued", "running"} & {s for s, n in ledger.counts().items() if n},
            args.drain_timeout,
            "queue drained",
        )
        drain = time.monotonic() - drain_started
        counts = ledger.counts()
        ledger.close()
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        logs.close()
        server_log.close()
    server_ms = []
    for line in (tmp / "server-log.jsonl").read_text(errors="replace").splitlines():
        if '"delivery answered"' in line:
            server_ms.append(float(json.loads(line)["ms"]))
    result = summarize(kind, deliveries, results, elapsed, drain, counts, record, layout, args)
    if server_ms:
        result["server_ack_ms"] = {
            "p50": round(statistics.median(server_ms), 2),
            "p99": round(pct(server_ms, 0.99), 2),
            "max": round(max(server_ms), 2),
        }
    return result


def summarize(
    kind: str,
    deliveries: list[dict[str, Any]],
    results: list[Result],
    elapsed: float,
    drain: float,
    counts: dict[str, int],
    record: Path,
    layout: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    def by(kind: str) -> list[Result]:
        return [r for r in results if r[0] == kind]

    def status(rows: list[Result], code: int) -> int:
        return sum(1 for r in rows if r[1] == code)

    valid_ids = {d["id"] for d in deliveries if d["kind"] in ("valid", "dup")}
    runs = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    per_job: dict[str, int] = {}
    for r in runs:
        per_job[r["job"]] = per_job.get(r["job"], 0) + 1
    overlaps = 0
    by_pr: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        by_pr.setdefault(r["pr"], []).append(r)
    for items in by_pr.values():
        items.sort(key=lambda r: r["start"])
        overlaps += sum(1 for a, b in zip(items, items[1:], strict=False) if b["start"] < a["end"])
    prs = {d["pr"] for d in deliveries if d["kind"] == "valid"}
    created = sum(counts.values())
    latencies = [r[2] * 1000 for r in results]
    accepted_lat = [r[2] * 1000 for r in results if r[1] == 202]
    return {
        "queue": kind,
        "layout": layout,
        "client": args.client,
        "concurrency": args.concurrency,
        "deliveries": len(results),
        "seconds": round(elapsed, 2),
        "deliveries_per_s": round(len(results) / elapsed, 1),
        "accepted_202": status(results, 202),
        "duplicate_200": status(results, 200),
        "unique_valid_deliveries": len(valid_ids),
        "bad_signatures_sent": len(by("bad")),
        "bad_signatures_rejected_401": status(by("bad"), 401),
        "malformed_sent": len(by("malformed")),
        "malformed_rejected_400": status(by("malformed"), 400),
        "errors_5xx": sum(1 for r in results if r[1] >= 500),
        "jobs_created": created,
        "jobs_reviewed": counts.get("done", 0),
        "jobs_superseded": counts.get("superseded", 0),
        "jobs_failed": counts.get("failed", 0),
        "jobs_lost": created
        - counts.get("done", 0)
        - counts.get("superseded", 0)
        - counts.get("failed", 0),
        "prs": len(prs),
        "prs_without_review": len(prs - {int(p.rsplit("#", 1)[1]) for p in by_pr}),
        "duplicate_reviews": sum(n - 1 for n in per_job.values()) + overlaps,
        "drain_seconds": round(drain, 2),
        "ack_ms": {
            "p50": round(statistics.median(latencies), 2),
            "p90": round(pct(latencies, 0.90), 2),
            "p99": round(pct(latencies, 0.99), 2),
            "max": round(max(latencies), 2),
        },
        "ack_ms_accepted_only": {
            "p50": round(statistics.median(accepted_lat), 2),
            "p99": round(pct(accepted_lat, 0.99), 2),
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queue", choices=["sqlite", "redis", "both"], default="both")
    p.add_argument("--deliveries", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--prs", type=int, default=300, help="pull requests the pushes go to")
    p.add_argument("--dup-rate", type=float, default=0.10)
    p.add_argument("--bad-rate", type=float, default=0.05)
    p.add_argument("--malformed-rate", type=float, default=0.02)
    p.add_argument("--redis-workers", type=int, default=2, help="worker processes (Redis)")
    p.add_argument("--client", choices=["raw", "httpx"], default="raw")
    p.add_argument(
        "--workers-after-load",
        action="store_true",
        help="Redis: start the workers only after the last delivery (measures the "
        "web tier without workers competing for the same cores)",
    )
    p.add_argument("--threads", type=int, default=2, help="threads per worker process")
    p.add_argument("--job-seconds", type=float, default=0.02, help="simulated review time")
    p.add_argument("--drain-timeout", type=float, default=300)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--_worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--_server", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--record", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._worker or args._server:
        return child(args)
    kinds = ["sqlite", "redis"] if args.queue == "both" else [args.queue]
    if "redis" in kinds and shutil.which(args.redis_server) is None:
        print("benchmark: redis-server not found; running SQLite only", file=sys.stderr)
        kinds.remove("redis")
    out = []
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix=f"reviewbot-load-{kind}-") as tmp:
            result = run_one(kind, args, Path(tmp))
        out.append(result)
        print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    ok = all(
        r["jobs_lost"] == 0
        and r["duplicate_reviews"] == 0
        and r["errors_5xx"] == 0
        and r["bad_signatures_rejected_401"] == r["bad_signatures_sent"]
        and r["jobs_created"] == r["unique_valid_deliveries"] == r["accepted_202"]
        and r["prs_without_review"] == 0
        for r in out
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
