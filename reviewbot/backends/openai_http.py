"""The ``vllm`` and ``openai`` backends: an OpenAI-compatible server over HTTP.

``vllm`` is the production path (vLLM's OpenAI-compatible server); ``openai`` is any other
server speaking the same API (llama.cpp's server, llama-cpp-python, Ollama, TGI, a hosted
API). They differ only in defaults: the structured-output form (see
:mod:`reviewbot.backends.structured`) and which tokenize endpoints are probed (see
:mod:`reviewbot.backends.tokens`).

``open()`` reads ``/v1/models`` once: the configured model must be served (the error lists
what is), and vLLM's ``max_model_len`` sets the token budget. ``complete()`` sends every
request through a thread pool over one pooled ``httpx.Client``; it never raises for one
failed request. ``vllm`` keeps ``llm.concurrency`` requests in flight, so continuous
batching stays full. ``openai`` servers often answer one request at a time (llama-cpp-python)
or have a few slots (llama.cpp's server, whose ``/props`` says how many): there an
:class:`~reviewbot.backends.gate.AdaptiveGate` starts at the known slot count (else 1) and
follows the answers' latency up to ``llm.concurrency``, so requests do not wait out their
read timeout in the server's queue. A read timeout of a request that was sent while others
were in flight is retried once, alone behind the lowered limit.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import httpx

from reviewbot.backends.answers import Choice, build_result
from reviewbot.backends.base import BackendInfo, LLMRequest, LLMResult, ProgressCallback
from reviewbot.backends.gate import AdaptiveGate
from reviewbot.backends.http_client import (
    HttpFailure,
    HttpSettings,
    Requester,
    decode_json,
    make_client,
)
from reviewbot.backends.structured import build_body, choose_api, structured_form
from reviewbot.backends.tokens import TokenCounter, probe
from reviewbot.config import Config
from reviewbot.deadline import BUDGET_REASON, past, past_deadline
from reviewbot.errors import BackendError, ConfigError

MIN_ANSWER_TOKENS = 64
"""A request whose prompt leaves fewer answer tokens than this in the context is not sent."""
TEMPLATE_MARGIN = 32
"""Tokens a chat template adds around the system and user messages (role markers)."""


def _root(base: str) -> str:
    return base[: -len("/v1")] if base.endswith("/v1") else base


class OpenAICompatibleBackend:
    """See the module docstring. ``flavor`` is ``vllm`` or ``openai``."""

    def __init__(
        self,
        config: Config,
        flavor: str,
        *,
        client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        llm = config.llm
        if not llm.url:
            raise ConfigError(
                f"the {flavor} backend needs the server's URL",
                hint="set llm.url in .reviewbot.yml, REVIEWBOT_LLM_URL or --llm-url "
                "(e.g. http://localhost:8000/v1)",
            )
        self.name = flavor
        self.config = config
        self.base = llm.url.rstrip("/")
        self.root = _root(self.base)
        self.settings = HttpSettings(
            llm.connect_timeout, llm.read_timeout, llm.retries, llm.concurrency, llm.api_key
        )
        self._own_client = client is None
        self.client = client if client is not None else make_client(self.settings, transport)
        self.requester = Requester(self.client, self.settings, sleep=sleep, rng=rng)
        self.clock = clock
        self.form = structured_form(flavor, llm.structured_output)
        self.info: BackendInfo | None = None
        self.api = "chat"
        self._counter: TokenCounter | None = None
        self._open_lock = threading.Lock()
        self.gate: AdaptiveGate | None = None
        """None for vLLM (a fixed ``llm.concurrency`` in flight)."""

    # -- open ------------------------------------------------------------------------------

    def open(self) -> BackendInfo:
        with self._open_lock:
            if self.info is None:
                self.info = self._open()
            return self.info

    def _open(self) -> BackendInfo:
        url = f"{self.base}/models"
        result = self.requester.request("GET", url, retry_connect=False)
        if isinstance(result, HttpFailure):
            raise BackendError(result.reason, hint=self._down_hint(result))
        try:
            data = decode_json(result)
        except ValueError as exc:
            raise BackendError(
                f"{url} did not answer like an OpenAI-compatible server: {exc}",
                hint="llm.url must be the API base, ending in /v1",
            ) from exc
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise BackendError(
                f"{url} did not list models (no 'data' array)",
                hint="llm.url must be the API base, ending in /v1",
            )
        served = {str(e["id"]): e for e in entries if isinstance(e, dict) and "id" in e}
        model = self.config.llm.model
        if model is None:
            if len(served) != 1:
                raise BackendError(
                    f"no model configured and the server at {self.base} serves "
                    f"{len(served)}: {', '.join(sorted(served)) or 'none'}",
                    hint="set llm.model, REVIEWBOT_MODEL or --model",
                )
            model = next(iter(served))
        if model not in served:
            raise BackendError(
                f"model {model!r} is not served at {self.base}; it serves: "
                f"{', '.join(sorted(served)) or 'no model'}",
                hint="set llm.model / --model to one of those names (vLLM: --served-model-name)",
            )
        max_len = served[model].get("max_model_len")
        if not isinstance(max_len, int) or isinstance(max_len, bool) or max_len <= 0:
            max_len = None
        if self.name == "openai":
            n_ctx, slots = self._llama_cpp_props()
            max_len = max_len or n_ctx
            self.gate = AdaptiveGate(self.settings.concurrency, slots)
        self.api = choose_api(self.config.llm.api, model)
        self._counter = probe(self.requester, self.root, model, self.name)
        return BackendInfo(self.name, model, max_len)

    def _down_hint(self, failure: HttpFailure) -> str:
        if failure.connection:
            return (
                "start the server (e.g. `vllm serve MODEL --port 8000`) or fix llm.url / "
                "--llm-url; reviewbot falls back to static checks unless llm.require_model"
            )
        if failure.status in (401, 403):
            return "set llm.api_key or REVIEWBOT_LLM_API_KEY to the server's API key"
        if failure.status == 404:
            return "llm.url must be the API base, ending in /v1"
        return "check the server's log"

    def _llama_cpp_props(self) -> tuple[int | None, int | None]:
        """llama.cpp's server reports its context size and slot count in /props; others
        have no such page."""
        result = self.requester.request("GET", f"{self.root}/props", retries=0)
        if not isinstance(result, httpx.Response):
            return None, None
        try:
            data = result.json()
        except ValueError:
            return None, None
        if not isinstance(data, dict):
            return None, None
        settings = data.get("default_generation_settings")
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        slots = data.get("total_slots")
        return (_positive(n_ctx), _positive(slots))

    # -- tokens ----------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        if self._counter is None:
            self.open()
        assert self._counter is not None
        return self._counter(text)

    @property
    def token_source(self) -> str:
        return self._counter.source if self._counter else "unknown"

    # -- complete --------------------------------------------------------------------------

    def complete(
        self, requests: Sequence[LLMRequest], progress: ProgressCallback | None = None
    ) -> list[LLMResult]:
        if not requests:
            return []
        self.open()
        results: list[LLMResult | None] = [None] * len(requests)
        workers = max(1, min(self.settings.concurrency, len(requests)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reviewbot-llm") as pool:
            futures = {pool.submit(self._one, r): i for i, r in enumerate(requests)}
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # a bug must not lose the other answers
                    results[i] = LLMResult(
                        requests[i].key, error=f"internal error: {type(exc).__name__}: {exc}"
                    )
                if progress is not None:
                    progress(1)
        return [r for r in results if r is not None]

    def _one(self, request: LLMRequest) -> LLMResult:
        assert self.info is not None and self.info.model is not None
        if past(request):
            return LLMResult(request.key, error=BUDGET_REASON)
        t0 = self.clock()
        max_tokens = request.max_tokens or self.config.llm.max_tokens
        notes: list[str] = []
        if self.info.max_model_len:
            prompt = (
                self.count_tokens(request.system)
                + self.count_tokens(request.user)
                + TEMPLATE_MARGIN
            )
            room = self.info.max_model_len - prompt
            if room < MIN_ANSWER_TOKENS:
                return LLMResult(
                    request.key,
                    error=(
                        f"prompt of about {prompt} tokens does not fit the model's context of "
                        f"{self.info.max_model_len} tokens; not sent"
                    ),
                )
            if room < max_tokens:
                notes.append(f"max_tokens lowered from {max_tokens} to {room} to fit the context")
                max_tokens = room
        body = build_body(
            request,
            self.config.llm,
            api=self.api,
            model=self.info.model,
            form=self.form,
            max_tokens=max_tokens,
        )
        path = "/chat/completions" if self.api == "chat" else "/completions"
        result = self._send(self.base + path, body, request.deadline)
        if isinstance(result, HttpFailure):
            reason = result.reason
            if result.attempts > 1:
                reason += f" (after {result.attempts} attempts)"
            return LLMResult(request.key, error=reason, seconds=self.clock() - t0)
        try:
            data = decode_json(result)
            choices = _choices(data, self.api)
        except ValueError as exc:
            return LLMResult(request.key, error=str(exc), seconds=self.clock() - t0)
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return build_result(
            request.key,
            choices,
            requested=self.config.llm.samples,
            prompt_tokens=_int(usage.get("prompt_tokens")),
            completion_tokens=_int(usage.get("completion_tokens")),
            seconds=self.clock() - t0,
            server_seconds=_server_seconds(data),
            notes=notes,
        )

    def _send(
        self, url: str, body: Any, body_deadline: float | None = None
    ) -> httpx.Response | HttpFailure:
        """POST through the gate; a read timeout after waiting in the server's queue (others
        were in flight) is retried once, under the limit the timeout lowered."""
        gate = self.gate
        if gate is None:
            return self.requester.request("POST", url, body)
        for attempt in range(2):
            ahead = gate.acquire()
            if past_deadline(body_deadline):
                gate.release(None)
                return HttpFailure(BUDGET_REASON)
            t0 = self.clock()
            result = self.requester.request("POST", url, body)
            failed = isinstance(result, HttpFailure)
            timed_out = isinstance(result, HttpFailure) and result.read_timeout
            gate.release(None if failed else self.clock() - t0, timed_out=timed_out)
            if not (timed_out and ahead > 0 and attempt == 0):
                return result
        return result

    def close(self) -> None:
        if self._own_client:
            self.client.close()


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _choices(data: Any, api: str) -> list[Choice]:
    """The answers in index order; ValueError when the body is not a completion."""
    raw = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise ValueError("server answer has no 'choices' list")
    out: list[tuple[int, Choice]] = []
    for pos, ch in enumerate(raw):
        if not isinstance(ch, dict):
            continue
        if api == "chat":
            msg = ch.get("message")
            text = msg.get("content") if isinstance(msg, dict) else None
        else:
            text = ch.get("text")
        index = ch.get("index")
        reason = ch.get("finish_reason")
        out.append(
            (
                index if isinstance(index, int) else pos,
                Choice(
                    text if isinstance(text, str) else "",
                    reason if isinstance(reason, str) else None,
                ),
            )
        )
    return [c for _, c in sorted(out, key=lambda t: t[0])]


def _server_seconds(data: dict[str, Any]) -> float | None:
    """Generation time the server reports: llama.cpp's ``timings`` (milliseconds)."""
    timings = data.get("timings")
    if not isinstance(timings, dict):
        return None
    total = 0.0
    found = False
    for key in ("prompt_ms", "predicted_ms"):
        value = timings.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            total += float(value)
            found = True
    return total / 1000.0 if found else None


def make_vllm(config: Config, **injected: Any) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(config, "vllm", **injected)


def make_openai(config: Config, **injected: Any) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(config, "openai", **injected)
