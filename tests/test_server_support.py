"""Helpers for the webhook server tests: signed deliveries, free ports, a real redis-server,
the app under a real uvicorn on 127.0.0.1. (The few tests here check the helpers themselves.)
"""

from __future__ import annotations

import copy
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reviewbot.server.settings import Settings
from reviewbot.server.signature import sign
from tests.conftest import FIXTURES, require_slow

WEBHOOKS = FIXTURES / "webhooks"
SECRET = "It's a Secret to Everybody"


def payload(name: str) -> dict[str, Any]:
    """A real GitHub payload from tests/fixtures/webhooks (a fresh copy to edit)."""
    return copy.deepcopy(json.loads((WEBHOOKS / f"{name}.json").read_text(encoding="utf-8")))


def delivery(
    event: str,
    body: dict[str, Any] | bytes,
    *,
    secret: str = SECRET,
    delivery_id: str | None = None,
    signature: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Body bytes and the headers GitHub would send for them."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/123abc",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature or sign(secret.encode(), raw),
    }
    return raw, headers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met in time")


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        require_slow("redis-server is not installed (Debian package redis-server)")
    assert binary is not None
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        wait_for(lambda: _pings(client), timeout=10)
    finally:
        client.close()
    return proc, url


def _pings(client: Any) -> bool:
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - not up yet
        return False


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    proc, url = start_redis(tmp_path)
    try:
        yield url
    finally:
        stop(proc)


class ThreadedServer:
    """An ASGI app under a real uvicorn on 127.0.0.1:<free port>, in a thread."""

    def __init__(self, app: Any, settings: Settings | None = None) -> None:
        """``settings``: serve with ``reviewbot serve``'s uvicorn configuration for them."""
        import uvicorn

        from reviewbot.server.app import uvicorn_config

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if settings is not None:
            config = uvicorn_config(app, settings, host="127.0.0.1", port=self.port)
        else:
            config = uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_config=None,
                access_log=False,
                lifespan="on",
            )
        self.server = uvicorn.Server(config)
        self.server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        wait_for(lambda: self.server.started, timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def test_delivery_headers_match_githubs_examples() -> None:
    examples = json.loads((WEBHOOKS / "delivery-headers.examples.json").read_text())
    documented = {k.lower() for k in examples["events"]["pull-request-opened"]["headers"]}
    _, headers = delivery("pull_request", payload("pull_request.opened"))
    sent = {k.lower() for k in headers}
    assert {"x-github-event", "x-github-delivery", "x-hub-signature-256", "user-agent"} <= sent
    assert sent - {"content-type"} <= documented


@pytest.mark.redis
def test_redis_fixture_serves_on_loopback(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    assert client.ping()
    assert client.config_get("appendonly")["appendonly"] == "yes"
    client.close()
