"""The webhook app under a real uvicorn on 127.0.0.1, with a real SQLite queue."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reviewbot.config import Config, LLMConfig
from reviewbot.server.app import create_app
from reviewbot.server.metrics import Metrics
from reviewbot.server.queue import JobQueue
from reviewbot.server.settings import QueueURL, Settings
from tests.fakes.vllm_server import FakeVLLM
from tests.test_server_support import SECRET, ThreadedServer, delivery, free_port, payload


@dataclasses.dataclass
class Running:
    url: str
    queue: JobQueue
    client: httpx.Client

    def post(self, event: str, body: dict[str, object] | bytes, **kw: str) -> httpx.Response:
        raw, headers = delivery(event, body, **kw)
        return self.client.post(self.url + "/webhook", content=raw, headers=headers)

    def jobs(self) -> int:
        return sum(self.queue.ledger.counts().values())


def _settings(tmp_path: Path, **changes: object) -> Settings:
    base = Settings(
        queue=QueueURL("sqlite", str(tmp_path / "queue.db")),
        webhook_secret=SECRET.encode(),
        max_body_bytes=64 * 1024,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    settings = _settings(tmp_path)
    queue = JobQueue(settings)
    with ThreadedServer(create_app(settings, queue, Metrics())) as srv, httpx.Client() as client:
        yield Running(srv.url, queue, client)


def test_accepted_delivery_is_recorded_before_202(server: Running) -> None:
    r = server.post("pull_request", payload("pull_request.opened"), delivery_id="d-1")
    assert r.status_code == 202
    assert r.json() == {"status": "queued", "job_id": "d-1", "trigger": "pull_request.opened"}
    assert server.queue.ledger.state("d-1") == "queued"
    assert server.queue.huey.pending_count() == 1


def test_redelivery_is_a_duplicate(server: Running) -> None:
    assert (
        server.post("pull_request", payload("pull_request.opened"), delivery_id="d-1").status_code
        == 202
    )
    r = server.post("pull_request", payload("pull_request.opened"), delivery_id="d-1")
    assert (r.status_code, r.json()["status"]) == (200, "duplicate")
    assert server.jobs() == 1 and server.queue.huey.pending_count() == 1


def test_forged_or_missing_signature_is_401_and_nothing_is_queued(server: Running) -> None:
    body = payload("pull_request.opened")
    assert server.post("pull_request", body, secret="wrong secret").status_code == 401
    raw, headers = delivery("pull_request", body)
    del headers["X-Hub-Signature-256"]
    r = server.client.post(server.url + "/webhook", content=raw, headers=headers)
    assert r.status_code == 401
    # Signed correctly, then tampered with: a different body.
    raw, headers = delivery("pull_request", body)
    tampered = raw.replace(b'"number": 2', b'"number": 3')
    assert tampered != raw
    r = server.client.post(server.url + "/webhook", content=tampered, headers=headers)
    assert r.status_code == 401
    assert server.jobs() == 0 and server.queue.huey.pending_count() == 0


def test_body_limit_is_413(server: Running) -> None:
    big = payload("pull_request.opened")
    big["pull_request"]["body"] = "x" * (70 * 1024)
    assert server.post("pull_request", big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        for _ in range(100):
            yield b"x" * 1024

    raw, headers = delivery("pull_request", b"x" * 100 * 1024)
    r = server.client.post(server.url + "/webhook", content=chunks(), headers=headers)
    assert r.status_code == 413
    assert server.jobs() == 0


def test_signed_non_json_is_400(server: Running) -> None:
    for body in (b"payload=%7B%7D", b"\xff\xfe not utf-8", b"[1, 2]", b""):
        r = server.post("pull_request", body)
        assert r.status_code == 400, body
    assert server.jobs() == 0


def test_ping_ignored_and_logged_events_are_200(server: Running) -> None:
    r = server.post("ping", payload("ping"))
    assert (r.status_code, r.json()) == (200, {"status": "pong"})
    r = server.post("pull_request", payload("pull_request.closed"))
    assert (r.status_code, r.json()["status"]) == (200, "ignored")
    r = server.post("installation", payload("installation.created"))
    assert (r.status_code, r.json()["status"]) == (200, "logged")
    assert server.jobs() == 0


def test_health_ready_and_metrics(server: Running) -> None:
    assert server.client.get(server.url + "/healthz").json() == {"status": "ok"}
    ready = server.client.get(server.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["queue"] == "ok"
    server.post("pull_request", payload("pull_request.opened"))
    server.post("pull_request", payload("pull_request.opened"), secret="forged")
    text = server.client.get(server.url + "/metrics").text
    assert 'reviewbot_webhook_deliveries_total{event="pull_request",outcome="accepted"} 1.0' in text
    assert (
        'reviewbot_webhook_deliveries_total{event="pull_request",outcome="bad_signature"} 1.0'
        in text
    )
    assert 'reviewbot_queue_jobs{state="queued"} 1.0' in text
    assert "reviewbot_webhook_ack_seconds_bucket" in text


def test_readyz_fails_when_the_llm_endpoint_is_down(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    settings = _settings(tmp_path, config=Config(llm=LLMConfig(url=dead, model="m")))
    queue = JobQueue(settings)
    with ThreadedServer(create_app(settings, queue, Metrics())) as srv:
        r = httpx.get(srv.url + "/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["llm"].startswith("unreachable")


def test_readyz_asks_the_llm_endpoint_through_the_injected_client(tmp_path: Path) -> None:
    seen: list[tuple[str, str, str | None]] = []

    async def record(request: httpx.Request) -> None:
        seen.append((request.method, str(request.url), request.headers.get("authorization")))

    def probe() -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=3.0, event_hooks={"request": [record]})

    with FakeVLLM(lambda req: {"findings": []}, model="m") as llm:
        config = Config(llm=LLMConfig(url=llm.url, model="m", api_key="k-1"))
        settings = _settings(tmp_path, config=config)
        app = create_app(settings, JobQueue(settings), Metrics(), probe=probe)
        with ThreadedServer(app) as srv:
            first = httpx.get(srv.url + "/readyz")
            second = httpx.get(srv.url + "/readyz")
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["checks"] == {"queue": "ok", "llm": "ok"}
    assert seen == [("GET", llm.url + "/models", "Bearer k-1")] * 2, "every probe asks again"


def test_logs_are_json_with_the_delivery_id_and_no_secret(server: Running) -> None:
    import io
    import logging

    from reviewbot.server import logs

    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    logs.configure("info", stream)
    try:
        _post_two(server)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    answered = {x["delivery_id"]: x for x in lines if x["msg"] == "delivery answered"}
    assert answered["d-log"]["outcome"] == "accepted"
    assert answered["d-forged"]["status"] == 401
    assert SECRET not in stream.getvalue()


def _post_two(server: Running) -> None:
    server.post("pull_request", payload("pull_request.opened"), delivery_id="d-log")
    server.post(
        "pull_request", payload("pull_request.opened"), secret="forged", delivery_id="d-forged"
    )


def test_concurrent_deliveries_and_redeliveries_share_commits(server: Running) -> None:
    """40 requests at once, every delivery id twice: 20 jobs, 20 duplicates, nothing lost."""
    from concurrent.futures import ThreadPoolExecutor

    def send(i: int) -> int:
        body = payload("pull_request.opened")
        body["pull_request"]["number"] = body["number"] = 100 + i % 20
        raw, headers = delivery("pull_request", body, delivery_id=f"c-{i % 20}")
        return httpx.post(server.url + "/webhook", content=raw, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(send, range(40)))
    assert sorted(codes) == [200] * 20 + [202] * 20
    assert server.queue.ledger.counts() == {"queued": 20}
    assert server.queue.huey.pending_count() == 20
