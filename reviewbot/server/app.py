"""The webhook server: a Starlette ASGI app.

    POST /webhook   verify, route, record the job durably, answer 202 (GitHub waits 10 s)
    GET  /healthz   liveness: the process answers
    GET  /readyz    readiness: the queue answers and the LLM endpoint (when one is set) too
    GET  /metrics   Prometheus text format

Order of checks on ``/webhook``: body size (413, before reading more than the limit), the
server-wide body budget (503 with ``Retry-After``), the body deadline (408), the
``X-Hub-Signature-256`` HMAC over the raw bytes (401; nothing else is looked at before it
passes), strict JSON (400: no ``NaN``, no nesting past the parser's depth), then routing.
The answer is 202 only after the commit that records the job and its queue message returned
(deliveries arriving together share one commit). See :mod:`reviewbot.server.limits`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reviewbot.config import BackendName
from reviewbot.server import logs
from reviewbot.server.events import DecisionOutcome, JobSpec, route
from reviewbot.server.limits import (
    BadJSON,
    BodyBudget,
    BodyTimeout,
    Disconnected,
    OverBudget,
    Reservation,
    TooLarge,
    parse_json,
    read_body,
)
from reviewbot.server.metrics import CONTENT_TYPE, Metrics, event_label
from reviewbot.server.queue import JobQueue, Submitted
from reviewbot.server.settings import Settings
from reviewbot.server.signature import verify
from reviewbot.server.worker import JobHandler, JobRunner, WorkerPool

log = logging.getLogger("reviewbot.server.app")
RETRY_AFTER_SECONDS = 5
"""Told to a client turned away because the server holds too many bodies already."""
PROBE_TIMEOUT_SECONDS = 3.0
"""How long ``/readyz`` waits for the LLM endpoint's ``/models``."""
ProbeClient = Callable[[], httpx.AsyncClient]
"""Makes the HTTP client of one readiness probe (closed when the probe ends)."""


def probe_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=PROBE_TIMEOUT_SECONDS)


class SubmitBatcher:
    """Group commit: deliveries that arrive while a commit runs share the next one.

    Each caller still gets its answer only after the commit that holds its job returned, so
    "202 after the job is durably recorded" holds; under load one fsync covers many jobs.
    """

    def __init__(
        self, submit: Callable[[list[tuple[str, JobSpec]]], list[Submitted]], max_batch: int = 128
    ) -> None:
        self._submit = submit
        self._max = max_batch
        self._pending: list[tuple[tuple[str, JobSpec], asyncio.Future[bool]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def submit(self, job_id: str, spec: JobSpec) -> bool:
        """True: recorded as a new job; False: a duplicate delivery id."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[bool] = loop.create_future()
        self._pending.append(((job_id, spec), fut))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self._max], self._pending[self._max :]
                try:
                    results = await run_in_threadpool(self._submit, [item for item, _ in batch])
                except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (_, fut), res in zip(batch, results, strict=True):
                    if not fut.done():
                        fut.set_result(res.accepted)
        finally:
            self._drainer = None


class WebhookApp:
    def __init__(
        self,
        settings: Settings,
        queue: JobQueue,
        metrics: Metrics,
        pool: WorkerPool | None = None,
        *,
        probe: ProbeClient = probe_client,
    ) -> None:
        self.settings = settings
        self.probe = probe
        self.secret = settings.require_secret()
        self.queue = queue
        self.metrics = metrics
        self.pool = pool
        self.batcher = SubmitBatcher(queue.submit)
        self.budget = BodyBudget(settings.max_body_total_bytes)
        metrics.watch_queue(queue.depth)

    def _answer(
        self,
        started: float,
        event: str | None,
        outcome: str,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        elapsed = time.perf_counter() - started
        self.metrics.deliveries.labels(event_label(event), outcome).inc()
        self.metrics.ack_seconds.observe(elapsed)
        level = logging.WARNING if status in (400, 401, 408, 413, 503) else logging.INFO
        log.log(
            level,
            "delivery answered",
            extra={
                "event": event_label(event),
                "outcome": outcome,
                "status": status,
                "ms": round(elapsed * 1000, 2),
                **{k: v for k, v in body.items() if k in ("reason", "job_id")},
            },
        )
        return JSONResponse(body, status_code=status, headers=headers)

    async def webhook(self, request: Request) -> Response:
        started = time.perf_counter()
        event = request.headers.get("x-github-event")
        delivery = request.headers.get("x-github-delivery", "").strip()[:100] or None
        token = logs.delivery_id.set(delivery)
        reservation = Reservation(self.budget)
        try:
            return await self._webhook(request, started, event, delivery, reservation)
        finally:
            reservation.close()  # the body is dropped once the answer is decided
            logs.delivery_id.reset(token)

    async def _webhook(
        self,
        request: Request,
        started: float,
        event: str | None,
        delivery: str | None,
        reservation: Reservation,
    ) -> Response:
        body = await self._receive(request, started, event, reservation)
        if isinstance(body, Response):
            return body
        payload = self._payload(request, started, event, body)
        del body
        if isinstance(payload, Response):
            return payload
        # (_payload has answered a delivery without an event header: ``event`` is set here)
        decision = route(event or "", payload, review_drafts=self.settings.config.review_drafts)
        if decision.outcome == DecisionOutcome.PING:
            return self._answer(started, event, "ping", 200, {"status": "pong"})
        if decision.outcome == DecisionOutcome.LOGGED:
            log.info(
                "installation event",
                extra={"reason": decision.reason, "installation_id": _installation(payload)},
            )
        if decision.job is None:
            return self._answer(
                started,
                event,
                decision.outcome,
                200,
                {"status": decision.outcome, "reason": decision.reason},
            )
        if delivery is None:
            return self._answer(
                started, event, "bad_request", 400, {"error": "missing X-GitHub-Delivery header"}
            )
        return await self._enqueue(started, event, delivery, decision.job)

    async def _receive(
        self, request: Request, started: float, event: str | None, reservation: Reservation
    ) -> bytes | Response:
        """The request body, or the answer when it could not be read whole in time."""
        s = self.settings
        try:
            return await read_body(
                request, limit=s.max_body_bytes, reservation=reservation, timeout=s.body_timeout
            )
        except TooLarge:
            return self._answer(
                started,
                event,
                "too_large",
                413,
                {"error": "body too large", "limit": s.max_body_bytes},
                {"Connection": "close"},
            )
        except OverBudget:
            return self._answer(
                started,
                event,
                "busy",
                503,
                {"error": "server busy: too many request bodies in flight; redeliver later"},
                {"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"},
            )
        except BodyTimeout:
            return self._answer(
                started,
                event,
                "body_timeout",
                408,
                {"error": f"body not received within {s.body_timeout:g}s"},
                {"Connection": "close"},
            )
        except Disconnected:
            return self._answer(
                started,
                event,
                "disconnected",
                400,
                {"error": "client disconnected"},
                {"Connection": "close"},
            )

    def _payload(
        self, request: Request, started: float, event: str | None, body: bytes
    ) -> dict[str, Any] | Response:
        """The signed delivery's JSON object, or the answer saying why there is none."""
        if not verify(self.secret, body, request.headers.get("x-hub-signature-256")):
            return self._answer(
                started,
                event,
                "bad_signature",
                401,
                {"error": "missing or invalid X-Hub-Signature-256"},
            )
        if not event:
            return self._answer(
                started, event, "bad_request", 400, {"error": "missing X-GitHub-Event header"}
            )
        try:
            payload = parse_json(body)
        except BadJSON as exc:
            return self._answer(started, event, "bad_json", 400, {"error": str(exc)})
        if not isinstance(payload, dict):
            return self._answer(
                started, event, "bad_json", 400, {"error": "body is not a JSON object"}
            )
        return payload

    async def _enqueue(
        self, started: float, event: str | None, delivery: str, job: JobSpec
    ) -> Response:
        try:
            accepted = await self.batcher.submit(delivery, job)
        except Exception as exc:  # noqa: BLE001 - GitHub shows the failure; redeliver later
            log.error("queue unavailable", extra={"error_type": type(exc).__name__})
            return self._answer(
                started,
                event,
                "queue_error",
                503,
                {"error": "queue unavailable; redeliver this delivery later"},
            )
        if not accepted:
            return self._answer(
                started, event, "duplicate", 200, {"status": "duplicate", "job_id": delivery}
            )
        return self._answer(
            started,
            event,
            "accepted",
            202,
            {"status": "queued", "job_id": delivery, "trigger": job.trigger},
        )

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        ok = True
        try:
            await run_in_threadpool(self.queue.ping)
            checks["queue"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            ok, checks["queue"] = False, f"unreachable ({type(exc).__name__})"
        cfg = self.settings.config
        if cfg.effective_backend() in (BackendName.VLLM, BackendName.OPENAI) and cfg.llm.url:
            try:
                async with self.probe() as client:
                    headers = (
                        {"Authorization": f"Bearer {cfg.llm.api_key}"} if cfg.llm.api_key else {}
                    )
                    resp = await client.get(cfg.llm.url.rstrip("/") + "/models", headers=headers)
                checks["llm"] = "ok" if resp.status_code == 200 else f"HTTP {resp.status_code}"
                ok = ok and resp.status_code == 200
            except httpx.HTTPError as exc:
                ok, checks["llm"] = False, f"unreachable ({type(exc).__name__})"
        else:
            checks["llm"] = f"not used (backend {cfg.effective_backend()})"
        return JSONResponse(
            {"status": "ready" if ok else "not ready", "checks": checks},
            status_code=200 if ok else 503,
        )

    async def metrics_endpoint(self, request: Request) -> Response:
        body = await run_in_threadpool(self.metrics.render)
        return Response(body, media_type=CONTENT_TYPE)

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        if self.pool is not None:
            await run_in_threadpool(self.pool.start)
        log.info(
            "webhook server ready",
            extra={
                "queue": self.settings.queue.describe(),
                "embedded_worker": self.pool is not None,
            },
        )
        try:
            yield
        finally:
            if self.pool is not None:
                await run_in_threadpool(self.pool.stop)
            await run_in_threadpool(self.queue.close)


def _installation(payload: dict[str, Any]) -> int | None:
    inst = payload.get("installation")
    value = inst.get("id") if isinstance(inst, dict) else None
    return value if isinstance(value, int) else None


def uvicorn_config(app: Starlette, settings: Settings, *, host: str, port: int) -> Any:
    """uvicorn's configuration with the server's connection deadlines (header, keep-alive)."""
    import uvicorn

    from reviewbot.server.protocol import with_header_timeout

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=15,
        server_header=False,
        http=with_header_timeout(settings.header_timeout),
        # uvicorn hands it to loop.call_later: a float is fine
        timeout_keep_alive=settings.keepalive_timeout,  # type: ignore[arg-type]
    )


def run_server(
    settings: Settings,
    *,
    host: str,
    port: int,
    threads: int,
    make_runner: Callable[[Metrics], JobRunner] | None,
) -> None:
    """Serve until SIGINT/SIGTERM: the app, plus ``threads`` embedded workers when > 0."""
    import uvicorn

    metrics = Metrics()
    queue = JobQueue(settings)
    pool = None
    if threads > 0 and make_runner is not None:
        pool = WorkerPool(
            queue, JobHandler(queue, make_runner(metrics), metrics), threads=threads, embedded=True
        )
    app = create_app(settings, queue, metrics, pool)
    # Start-up objects (modules, config) never die: keep them out of the collector's scans so
    # a full collection under load stays short.
    gc.collect()
    gc.freeze()
    uvicorn.Server(uvicorn_config(app, settings, host=host, port=port)).run()


def create_app(
    settings: Settings,
    queue: JobQueue,
    metrics: Metrics,
    pool: WorkerPool | None = None,
    *,
    probe: ProbeClient = probe_client,
) -> Starlette:
    """``probe``: the readiness probe's HTTP client (see :data:`ProbeClient`)."""
    web = WebhookApp(settings, queue, metrics, pool, probe=probe)
    return Starlette(
        routes=[
            Route("/webhook", web.webhook, methods=["POST"]),
            Route("/healthz", web.healthz, methods=["GET"]),
            Route("/readyz", web.readyz, methods=["GET"]),
            Route("/metrics", web.metrics_endpoint, methods=["GET"]),
        ],
        lifespan=web.lifespan,
    )
