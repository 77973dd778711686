"""End to end: `reviewbot serve` / `reviewbot worker` subprocesses, the fake GitHub (App auth,
installation tokens, the PR API) and real signed deliveries, all on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from reviewbot.github.markers import SUMMARY_MARKER
from reviewbot.server.ledger.sqlite import SqliteLedger
from tests.conftest import GitRepo
from tests.fakes.github_server import FakeGitHub
from tests.fakes.vllm_server import FakeVLLM, on_changed_lines
from tests.github_support import file_patches, shop_repo
from tests.test_server_support import (
    SECRET,
    delivery,
    free_port,
    payload,
    start_redis,
    stop,
    wait_for,
    wait_http,
)

REPO, NUMBER, APP_ID = "octo/shop", 7, "4242"
ONE_REVIEW = {"reviews": 1, "summaries": 1, "check_runs": 1}
"""What one run publishes: one review (with its inline comments), one summary, one check."""


@dataclass
class World:
    tmp: Path
    fake: FakeGitHub
    heads: dict[int, str]
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, *args: str, api_url: str | None = None, **env: str) -> subprocess.Popen[bytes]:
        full = dict(self.env, **env)
        if api_url:
            full["REVIEWBOT_GITHUB_API_URL"] = api_url
        log = open(self.tmp / f"{args[0]}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "reviewbot", *args],
            env=full,
            cwd=self.tmp,
            stdout=log,
            stderr=log,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def serve(self, *extra: str, **env: str) -> str:
        port = free_port()
        self.start("serve", "--port", str(port), *extra, **env)
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/healthz")
        return url

    def state(self, job_id: str) -> str | None:
        ledger = SqliteLedger(self.env["REVIEWBOT_QUEUE_URL"], ttl=3600)
        try:
            return ledger.state(job_id)
        finally:
            ledger.close()

    def published(self, number: int = NUMBER) -> dict[str, int]:
        repo = self.fake.repos[REPO]
        pr = repo.pulls[number]
        routes = self.fake.routes
        return {
            "reviews": len(routes._reviews(pr)),
            "comments": len(routes.review_comments(repo, pr)),
            "summaries": sum(SUMMARY_MARKER in c["body"] for c in routes._issue_comments(pr)),
            "check_runs": sum(
                1 for r in routes.check_runs(repo) if r["head_sha"] == self.heads[number]
            ),
        }

    def opened(self, number: int = NUMBER) -> dict[str, Any]:
        return opened(number, self.heads[number])

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("*.log")))


def opened(number: int = NUMBER, head: str = "") -> dict[str, Any]:
    p = payload("pull_request.opened")
    p["repository"]["full_name"] = REPO
    p["repository"]["name"] = REPO.split("/")[1]
    p["number"] = p["pull_request"]["number"] = number
    p["pull_request"]["head"]["sha"] = head
    p["installation"]["id"] = 1001  # the fake's installation of octo/shop
    return p


def post(url: str, body: dict[str, Any], **kw: str) -> httpx.Response:
    raw, headers = delivery("pull_request", body, **kw)
    return httpx.post(url + "/webhook", content=raw, headers=headers, timeout=10)


@pytest.fixture
def world(tmp_path: Path, git_repo: GitRepo) -> Iterator[World]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "app.pem").write_bytes(pem)
    base, head = shop_repo(git_repo)
    with FakeGitHub() as fake:
        fake.app = (APP_ID, public.decode())
        heads = {NUMBER: head, 8: "8" * 40, 9: "9" * 40}
        for number, sha in heads.items():
            fake.open_pr(
                REPO, number, file_patches(git_repo, base, head), base_sha=base, head_sha=sha
            )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REVIEWBOT_", "GITHUB_"))}
        env.update(
            REVIEWBOT_WEBHOOK_SECRET=SECRET,
            REVIEWBOT_GITHUB_APP_ID=APP_ID,
            REVIEWBOT_GITHUB_PRIVATE_KEY_FILE=str(tmp_path / "app.pem"),
            REVIEWBOT_GITHUB_API_URL=fake.base_url,
            REVIEWBOT_QUEUE_URL=str(tmp_path / "queue.db"),
            REVIEWBOT_GITHUB_WRITE_DELAY="0",
            REVIEWBOT_TESTS="0",
            REVIEWBOT_BACKEND="static",
            REVIEWBOT_JOB_LEASE_SECONDS="2",
        )
        w = World(tmp_path, fake, heads, env)
        try:
            yield w
        finally:
            for proc in w.procs:
                stop(proc)
        assert fake.violations == [], fake.violations[:5]
        assert pem.decode() not in w.logs() and SECRET not in w.logs()


def test_opened_pr_gets_exactly_one_review_and_redelivery_nothing(world: World) -> None:
    with FakeVLLM(responder=on_changed_lines(title="model finding")) as llm:
        # The embedded default (SQLite queue, one worker thread), reviewing with the "vLLM".
        url = world.serve(
            REVIEWBOT_BACKEND="vllm", REVIEWBOT_LLM_URL=llm.url, REVIEWBOT_MODEL=llm.model
        )
        r = post(url, world.opened(), delivery_id="e2e-1")
        assert (r.status_code, r.json()["status"]) == (202, "queued")
        wait_for(lambda: world.state("e2e-1") == "done", timeout=60)
        assert llm.completions(), "the worker asked the model"
        ready = httpx.get(url + "/readyz").json()
        assert ready["checks"] == {"queue": "ok", "llm": "ok"}
        _redelivery_and_forgery_change_nothing(world, url)
    metrics = httpx.get(url + "/metrics").text
    assert 'reviewbot_jobs_total{outcome="done"} 1.0' in metrics
    assert "reviewbot_llm_request_seconds_count" in metrics
    assert "reviewbot_llm_request_seconds_count 0.0" not in metrics


def _redelivery_and_forgery_change_nothing(world: World, url: str) -> None:
    first = world.published()
    assert first == dict(ONE_REVIEW, comments=first["comments"]) and first["comments"] >= 3
    requests_so_far = len(world.fake.log)

    again = post(url, world.opened(), delivery_id="e2e-1")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    forged = post(url, world.opened(), delivery_id="e2e-2", secret="not the secret")
    assert forged.status_code == 401
    assert world.state("e2e-2") is None
    assert world.published() == first
    assert len(world.fake.log) == requests_so_far, "nothing reached GitHub after the review"


def test_restart_between_two_deliveries_of_the_same_id(world: World) -> None:
    url = world.serve()
    assert post(url, world.opened(), delivery_id="same-id").status_code == 202
    wait_for(lambda: world.state("same-id") == "done", timeout=60)
    server = world.procs[-1]
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal
    assert "Finished server process" in world.logs()
    url = world.serve()  # a new process on the same queue database
    r = post(url, world.opened(), delivery_id="same-id")
    assert (r.status_code, r.json()["status"]) == (200, "duplicate")
    assert post(url, world.opened(), delivery_id="other-id").status_code == 202
    wait_for(lambda: world.state("other-id") == "done", timeout=60)
    after = world.published()
    assert after == dict(ONE_REVIEW, comments=after["comments"]) and after["comments"] >= 3


class StallingProxy:
    """Forwards to the fake GitHub; holds the first request matching ``pattern`` until
    released, then forwards it (the write lands although its client may be gone)."""

    def __init__(self, upstream: str, method: str, pattern: str) -> None:
        self.upstream, self.method, self.pattern = upstream, method, re.compile(pattern)
        self.held = threading.Event()
        self.release = threading.Event()
        self.forwarded = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stall = (
                    self.command == proxy.method
                    and proxy.pattern.search(self.path)
                    and not proxy.held.is_set()
                )
                if stall:
                    proxy.held.set()
                    proxy.release.wait(60)
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "content-type", "accept")
                }
                resp = httpx.request(
                    self.command,
                    proxy.upstream + self.path,
                    content=body,
                    headers=headers,
                    timeout=30,
                )
                if stall:
                    proxy.forwarded.set()
                # GitHub's answers carry absolute URLs PyGithub follows: make them ours.
                content = resp.content.replace(proxy.upstream.encode(), proxy.url.encode())
                try:
                    self.send_response(resp.status_code)
                    for k, v in resp.headers.items():
                        if k.lower() not in (
                            "content-length",
                            "transfer-encoding",
                            "connection",
                            "content-encoding",
                        ):
                            self.send_header(k, v.replace(proxy.upstream, proxy.url))
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except OSError:
                    pass  # the client was killed while we held its request

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_worker_killed_mid_publish_reruns_without_duplicates(world: World) -> None:
    url = world.serve("--workers", "0")
    # The review (with its 5 comments) is posted, then the summary comment's POST is held.
    proxy = StallingProxy(world.fake.base_url, "POST", rf"/issues/{NUMBER}/comments$")
    try:
        worker = world.start("worker", "--threads", "1", api_url=proxy.url)
        assert post(url, world.opened(), delivery_id="kill-1").status_code == 202
        assert proxy.held.wait(60), "the worker never reached the summary comment"
        inline = world.published()["comments"]
        assert inline >= 3 and world.state("kill-1") == "running"
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        proxy.release.set()  # the held write still lands on GitHub, after its client died
        assert proxy.forwarded.wait(30)
        world.start("worker", "--threads", "1", api_url=proxy.url)
        wait_for(lambda: world.state("kill-1") == "done", timeout=60)
    finally:
        proxy.close()
    assert world.published() == dict(ONE_REVIEW, comments=inline)
    assert '"attempt": 2' in world.logs()


@pytest.mark.redis
def test_redis_queue_with_two_worker_processes(world: World) -> None:
    redis_proc, redis_url = start_redis(world.tmp)
    try:
        world.env["REVIEWBOT_QUEUE_URL"] = redis_url
        url = world.serve()  # with Redis, serve runs no worker by default
        metrics_port = free_port()
        world.start("worker", "--threads", "2", "--metrics-port", str(metrics_port))
        world.start("worker", "--threads", "2")
        ids = {n: f"redis-{n}" for n in (NUMBER, 8, 9)}
        for number, job_id in ids.items():
            assert post(url, world.opened(number), delivery_id=job_id).status_code == 202
        assert post(url, world.opened(8), delivery_id="redis-8").json()["status"] == "duplicate"
        from reviewbot.server.ledger.redis import RedisLedger

        ledger = RedisLedger(redis_url, ttl=3600)
        wait_for(lambda: all(ledger.state(j) == "done" for j in ids.values()), timeout=90)
        ledger.close()
        counts = [world.published(number) for number in ids]
        assert counts == [dict(ONE_REVIEW, comments=counts[0]["comments"])] * 3
        scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        assert 'reviewbot_queue_jobs{state="queued"} 0.0' in scraped
        assert "reviewbot_job_duration_seconds_count" in scraped
    finally:
        stop(redis_proc)
