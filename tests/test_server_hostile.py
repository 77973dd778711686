"""The webhook server against hostile or broken clients, over real sockets on 127.0.0.1:
deep or non-standard JSON, clients that trickle bytes or say nothing, too many bodies at
once; and the CLI without its optional extras, in a subprocess with the modules blocked."""

from __future__ import annotations

import dataclasses
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reviewbot.errors import ConfigError
from reviewbot.server.app import create_app
from reviewbot.server.events import JobSpec
from reviewbot.server.metrics import Metrics
from reviewbot.server.queue import JobQueue
from reviewbot.server.settings import QueueURL, Settings, load_settings
from reviewbot.server.worker import JobHandler, JobResult, WorkerPool
from tests.test_server_support import SECRET, ThreadedServer, delivery, wait_for


@dataclasses.dataclass
class Live:
    url: str
    port: int
    queue: JobQueue
    metrics: Metrics

    def answered(self, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "reviewbot_webhook_deliveries_total", {"event": "ping", "outcome": outcome}
        )
        return value or 0.0


def _settings(tmp_path: Path, **changes: object) -> Settings:
    base = Settings(
        queue=QueueURL("sqlite", str(tmp_path / "queue.db")),
        webhook_secret=SECRET.encode(),
        max_body_bytes=64 * 1024,
        header_timeout=0.6,
        body_timeout=0.6,
        keepalive_timeout=0.6,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    settings = _settings(tmp_path, **getattr(request, "param", {}))
    queue = JobQueue(settings)
    metrics = Metrics()
    with ThreadedServer(create_app(settings, queue, metrics), settings) as srv:
        yield Live(srv.url, srv.port, queue, metrics)
    queue.close()


def _connect(live: Live) -> socket.socket:
    return socket.create_connection(("127.0.0.1", live.port), timeout=10)


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> float | None:
    """Send ``trickle`` a byte each 0.1 s (then nothing) until the server closes the
    connection; the seconds that took, or None if it stayed open ``seconds``."""
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < seconds:
        readable, _, _ = select.select([sock], [], [], 0.1)
        if readable:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                return time.monotonic() - start
            if not data:
                return time.monotonic() - start
            continue  # an answer (e.g. 408); the close follows
        if sent < len(trickle):
            try:
                sock.send(trickle[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - start
            sent += 1
    return None


def _post(live: Live, event: str, raw: bytes, **kw: str) -> httpx.Response:
    body, headers = delivery(event, raw, **kw)
    return httpx.post(live.url + "/webhook", content=body, headers=headers, timeout=10)


# -- JSON --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000],
    ids=["array", "object"],
)
def test_signed_deeply_nested_json_is_400_not_500(tmp_path: Path, raw: bytes) -> None:
    settings = _settings(tmp_path, max_body_bytes=1024 * 1024)
    queue = JobQueue(settings)
    with ThreadedServer(create_app(settings, queue, Metrics()), settings) as srv:
        body, headers = delivery("pull_request", raw)
        resp = httpx.post(srv.url + "/webhook", content=body, headers=headers, timeout=10)
        assert resp.status_code == 400, resp.text
        assert "nested too deeply" in resp.json()["error"]
        assert httpx.get(srv.url + "/healthz").status_code == 200
    queue.close()


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_rejected(live: Live, constant: bytes) -> None:
    resp = _post(live, "pull_request", b'{"action": "opened", "number": ' + constant + b"}")
    assert resp.status_code == 400
    assert "not a JSON number" in resp.json()["error"]
    assert sum(live.queue.ledger.counts().values()) == 0


# -- slow clients ------------------------------------------------------------------------


def test_a_client_that_sends_nothing_is_cut_off(live: Live) -> None:
    with _connect(live) as sock:
        took = _closed_within(sock, 5.0)
    assert took is not None, "the silent connection stayed open"
    assert 0.4 < took < 2.5


def test_a_client_that_trickles_headers_is_cut_off(live: Live) -> None:
    request = (
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: ping\r\n"
        b"X-Padding: " + b"a" * 200 + b"\r\n\r\n"
    )
    with _connect(live) as sock:
        took = _closed_within(sock, 5.0, trickle=request)
    assert took is not None, "the trickling client was never cut off"
    assert took < 2.5


def test_a_client_that_trickles_its_body_gets_408_and_is_cut_off(live: Live) -> None:
    body, headers = delivery("ping", json.dumps({"zen": "x" * 500}).encode())
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with _connect(live) as sock:
        sock.sendall(
            f"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            f"{head}\r\n".encode()
        )
        start = time.monotonic()
        answer = b""
        sent = 0
        while time.monotonic() - start < 5.0 and sent < len(body):
            readable, _, _ = select.select([sock], [], [], 0.1)
            try:
                if readable:
                    chunk = sock.recv(65536)
                    answer += chunk
                    if not chunk:
                        break
                    continue
                sock.send(body[sent : sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break  # closed with our unread bytes: a reset, which may eat the 408
            sent += 1
        took = time.monotonic() - start
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert sent < len(body) and took < 2.5, "the trickled body was not cut off"
    assert live.answered("body_timeout") == 1.0


def test_an_idle_kept_alive_connection_is_closed(live: Live) -> None:
    with _connect(live) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        took = _closed_within(sock, 5.0)
    assert took is not None and took < 2.5


def test_timeouts_and_budget_are_settings_with_checks() -> None:
    env = {
        "REVIEWBOT_HEADER_TIMEOUT_SECONDS": "3",
        "REVIEWBOT_BODY_TIMEOUT_SECONDS": "4.5",
        "REVIEWBOT_KEEPALIVE_TIMEOUT_SECONDS": "2",
        "REVIEWBOT_MAX_BODY_TOTAL_BYTES": "9000",
        "REVIEWBOT_MAX_BODY_BYTES": "4096",
    }
    s = load_settings(env)
    assert (s.header_timeout, s.body_timeout, s.keepalive_timeout) == (3.0, 4.5, 2.0)
    assert (s.max_body_bytes, s.max_body_total_bytes) == (4096, 9000)
    defaults = load_settings({})
    assert defaults.max_body_total_bytes >= defaults.max_body_bytes
    with pytest.raises(ConfigError, match="REVIEWBOT_MAX_BODY_TOTAL_BYTES"):
        load_settings({**env, "REVIEWBOT_MAX_BODY_TOTAL_BYTES": "2048"})
    with pytest.raises(ConfigError, match="REVIEWBOT_HEADER_TIMEOUT_SECONDS"):
        load_settings({"REVIEWBOT_HEADER_TIMEOUT_SECONDS": "0"})


def test_serve_flags_override_the_environment(tmp_path: Path) -> None:
    from reviewbot.cli import build_parser
    from reviewbot.commands.serve_flags import env_with_flags

    args = build_parser().parse_args(
        ["serve", "--header-timeout", "2.5", "--max-body-total", "50000000"]
    )
    env = env_with_flags(args, {"REVIEWBOT_HEADER_TIMEOUT_SECONDS": "9"})
    s = load_settings(env)
    assert s.header_timeout == 2.5 and s.max_body_total_bytes == 50_000_000
    assert s.body_timeout == 30.0


# -- memory: a budget across requests ----------------------------------------------------


@pytest.mark.parametrize(
    "live",
    [{"max_body_bytes": 2048, "max_body_total_bytes": 3000, "body_timeout": 10.0}],
    indirect=True,
)
def test_body_bytes_held_at_once_are_bounded(live: Live) -> None:
    raw = json.dumps({"zen": "x" * 1900}).encode()
    body, headers = delivery("ping", raw)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    with _connect(live) as slow:
        # one request declares 1.9 kB and holds it while its body trickles in
        slow.sendall(
            f"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            f"{head}\r\n".encode()
            + body[:100]
        )
        time.sleep(0.3)
        other = _post(live, "ping", raw)
        assert other.status_code == 503
        assert other.headers["retry-after"] == "5"
        slow.sendall(body[100:])
        answer = slow.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    # the first request's bytes were given back: the same delivery now fits
    assert _post(live, "ping", raw).status_code == 200
    assert _post(live, "ping", raw).status_code == 200, "413s and 503s give their bytes back"


@pytest.mark.parametrize(
    "live",
    [{"max_body_bytes": 2048, "max_body_total_bytes": 3000, "body_timeout": 10.0}],
    indirect=True,
)
def test_a_chunked_body_is_counted_as_it_arrives(live: Live) -> None:
    raw = json.dumps({"zen": "x" * 1900}).encode()
    body, headers = delivery("ping", raw)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k != "Content-Length")

    with _connect(live) as slow:
        slow.sendall(
            f"POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            f"{head}\r\n".encode()
            + f"{1500:x}\r\n".encode()
            + body[:1500]
            + b"\r\n"
        )
        time.sleep(0.3)
        assert _post(live, "ping", raw).status_code == 503
        rest = body[1500:]
        slow.sendall(f"{len(rest):x}\r\n".encode() + rest + b"\r\n0\r\n\r\n")
        assert slow.recv(65536).startswith(b"HTTP/1.1 200")
    assert _post(live, "ping", raw).status_code == 200


# -- a denied command keeps the push review (worker level) -------------------------------


class PermissionRunner:
    """Denies commands from ``bob`` the way GitHubJobRunner does; records what ran."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, job_id: str, spec: JobSpec) -> JobResult:
        if spec.requested_by == "bob":
            return JobResult("denied", "bob has no write access")
        with self._lock:
            self.ran.append(job_id)
        return JobResult("done")


def test_pr_is_reviewed_at_its_head_after_a_denied_command(tmp_path: Path) -> None:
    settings = _settings(tmp_path, lease_seconds=2.0)
    queue = JobQueue(settings)
    push = JobSpec(
        repo="o/r",
        number=1,
        installation_id=1,
        mode="review",
        trigger="pull_request.synchronize",
        head_sha="b" * 40,
    )
    bob = JobSpec(
        repo="o/r",
        number=1,
        installation_id=1,
        mode="full",
        trigger="issue_comment./review full",
        requested_by="bob",
    )
    queue.submit([("push", push), ("bob", bob)])
    runner = PermissionRunner()
    pool = WorkerPool(
        queue, JobHandler(queue, runner, Metrics()), threads=1, embedded=True, shutdown_timeout=5
    )
    pool.start()
    try:
        wait_for(
            lambda: (
                queue.ledger.state("push") in ("done", "superseded")
                and queue.ledger.state("bob") == "denied"
            )
        )
    finally:
        pool.stop()
    assert queue.ledger.state("push") == "done" and runner.ran == ["push"]
    queue.close()


# -- missing optional extras -------------------------------------------------------------

BLOCKER = """
import sys
from importlib.abc import MetaPathFinder

class Blocked(MetaPathFinder):
    def __init__(self, names):
        self.names = names
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocked(set(sys.argv[1].split(","))))
from reviewbot.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _cli_without(
    modules: str, args: list[str], tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, modules, *args],
        cwd=tmp_path,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("blocked", "command", "extra"),
    [
        ("starlette", ["serve"], "server"),
        ("uvicorn", ["serve"], "server"),
        ("httptools", ["serve"], "server"),
        ("huey", ["worker"], "server"),
        ("prometheus_client", ["worker"], "server"),
        ("jwt", ["serve"], "server"),
    ],
)
def test_server_commands_without_the_server_extra(
    tmp_path: Path, blocked: str, command: list[str], extra: str
) -> None:
    proc = _cli_without(
        blocked, command, tmp_path, {"REVIEWBOT_WEBHOOK_SECRET": "s", "REVIEWBOT_GITHUB_TOKEN": "t"}
    )
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr
    assert blocked in proc.stderr and f"pip install 'reviewbot[{extra}]'" in proc.stderr


def test_redis_queue_without_the_redis_extra(tmp_path: Path) -> None:
    proc = _cli_without(
        "redis",
        ["serve", "--workers", "0", "--port", "1"],
        tmp_path,
        {"REVIEWBOT_WEBHOOK_SECRET": "s", "REVIEWBOT_QUEUE_URL": "redis://127.0.0.1:1/0"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr
    assert "pip install 'reviewbot[redis]'" in proc.stderr


@pytest.mark.parametrize(
    ("blocked", "env", "extra"),
    [
        ("llama_cpp", {"REVIEWBOT_BACKEND": "local", "REVIEWBOT_LOCAL_MODEL": "m.gguf"}, "local"),
        ("vllm", {"REVIEWBOT_BACKEND": "vllm-offline", "REVIEWBOT_MODEL": "m"}, "vllm"),
    ],
)
def test_model_backends_without_their_extra(
    tmp_path: Path, blocked: str, env: dict[str, str], extra: str
) -> None:
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    (tmp_path / "p.patch").write_text(
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1,2 @@\n x = 1\n+y = 2\n"
    )
    strict = _cli_without(
        blocked, ["diff", "--patch", "p.patch"], tmp_path, {**env, "REVIEWBOT_REQUIRE_MODEL": "1"}
    )
    assert strict.returncode == 2, strict.stderr
    assert "internal error" not in strict.stderr
    assert f"pip install 'reviewbot[{extra}]'" in strict.stderr
    lenient = _cli_without(blocked, ["diff", "--patch", "p.patch"], tmp_path, env)
    assert f"the '{extra}' extra" in lenient.stdout + lenient.stderr, "the note names the extra"
