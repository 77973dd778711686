"""A recording HTTP proxy on 127.0.0.1: forwards every request to a real server unchanged and
keeps (method, path, request body, status, response body), so a test can check what a real
model answered before reviewbot parsed it.

    with RecordingProxy("http://127.0.0.1:8000") as proxy:
        proxy.url        # "http://127.0.0.1:PORT/v1"
        proxy.exchanges  # list[Exchange]
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    request: Any
    status: int
    response: Any

    def json(self) -> Any:
        return self.response


class RecordingProxy:
    def __init__(self, upstream_root: str, timeout: float = 600.0) -> None:
        self.upstream = upstream_root.rstrip("/")
        self.client = httpx.Client(timeout=timeout)
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def completions(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.path.endswith("completions")]

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.client.close()


def _loads(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return data.decode("utf-8", "replace")


class _Handler(BaseHTTPRequestHandler):
    proxy: RecordingProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _forward(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() in ("content-type", "authorization", "accept")
        }
        try:
            resp = self.proxy.client.request(
                method, self.proxy.upstream + self.path, content=body or None, headers=headers
            )
        except httpx.HTTPError as exc:  # the upstream died or hung: recorded as status 599
            with self.proxy._lock:
                self.proxy.exchanges.append(
                    Exchange(
                        method,
                        self.path,
                        _loads(body) if body else None,
                        599,
                        f"upstream failed: {exc!r}",
                    )
                )
            self.send_error(502, "upstream failed")
            return
        with self.proxy._lock:
            self.proxy.exchanges.append(
                Exchange(
                    method,
                    self.path,
                    _loads(body) if body else None,
                    resp.status_code,
                    _loads(resp.content),
                )
            )
        self.send_response(resp.status_code)
        self.send_header("Content-Type", resp.headers.get("content-type", "application/json"))
        self.send_header("Content-Length", str(len(resp.content)))
        self.end_headers()
        self.wfile.write(resp.content)

    def do_GET(self) -> None:
        self._forward("GET")

    def do_POST(self) -> None:
        self._forward("POST")
