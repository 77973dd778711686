"""Servers that answer one request at a time (llama-cpp-python) or have a few slots.

Sending ``llm.concurrency`` requests at once to such a server queues them there, and each
one's read timeout runs while it waits. The ``openai`` backend's adaptive gate keeps the
requests in flight near what the server serves in parallel; ``vllm`` (which batches) keeps
the configured number. Real HTTP against the fake server on 127.0.0.1.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from reviewbot.backends.base import LLMRequest
from reviewbot.backends.gate import AdaptiveGate
from reviewbot.backends.openai_http import make_openai, make_vllm
from reviewbot.config import load_config
from reviewbot.prompts_render import load_schema
from tests.fakes.vllm_server import FakeRequest, FakeVLLM, finding

SERVICE_S = 0.25


def one_slot() -> FakeVLLM:
    """A server that works on one request at a time; the others wait in its queue."""
    lock = threading.Lock()

    def respond(req: FakeRequest) -> dict[str, Any]:
        with lock:
            time.sleep(SERVICE_S)
        return {"findings": [finding("a.py", 1)]}

    return FakeVLLM(respond)


def _requests(n: int) -> list[LLMRequest]:
    schema = load_schema("findings.schema.json")
    return [LLMRequest(f"chunk-{i}", "SYSTEM", f"review {i}", schema) for i in range(n)]


def _run(flavor: str, srv: FakeVLLM, n: int) -> list[str | None]:
    config = load_config(
        env={},
        overrides={
            "llm.url": srv.url,
            "llm.model": srv.model,
            "llm.concurrency": 16,
            "llm.read_timeout": 2.0,
            "llm.retries": 0,
            "llm.structured_output": "json_schema",
        },
    )
    backend = (make_openai if flavor == "openai" else make_vllm)(config)
    try:
        backend.open()
        return [r.error for r in backend.complete(_requests(n))]
    finally:
        backend.close()


def test_a_one_slot_server_answers_every_request_through_the_gate() -> None:
    with one_slot() as srv:
        errors = _run("openai", srv, 14)
        assert errors == [None] * 14
        assert srv.max_in_flight <= 3  # never the 16 that would wait out their timeouts


def test_without_the_gate_the_same_server_times_requests_out() -> None:
    # the control: 14 sent at once, the last ones wait 14 x 0.25 s > 2 s in the queue
    with one_slot() as srv:
        errors = _run("vllm", srv, 14)
        assert srv.max_in_flight == 14
        assert any(e and "no answer within 2 s" in e for e in errors)


def test_the_slot_count_llama_cpp_reports_is_the_starting_limit() -> None:
    props = {"default_generation_settings": {"n_ctx": 2048}, "total_slots": 4}
    with FakeVLLM(max_model_len=0, props=props) as srv:
        config = load_config(
            env={}, overrides={"llm.url": srv.url, "llm.model": srv.model, "llm.concurrency": 16}
        )
        backend = make_openai(config)
        info = backend.open()
        assert info.max_model_len == 2048
        assert backend.gate is not None and backend.gate.limit == 4
        backend.close()


def test_gate_climbs_against_a_batching_server_and_halves_on_queueing() -> None:
    gate = AdaptiveGate(8)
    assert gate.limit == 1
    for _ in range(40):  # answers as fast as the fastest: one more after each `limit` of them
        gate.acquire()
        gate.release(1.0)
    assert gate.limit == 8 and gate.peak == 8
    gate.acquire()
    gate.release(2.5)  # waited behind others
    assert gate.limit == 4
    gate.acquire()
    gate.release(None, timed_out=True)
    assert gate.limit == 2
    gate.acquire()
    gate.release(1.6)  # between FAST and SLOW: no change
    assert gate.limit == 2


def test_read_timeout_has_an_environment_variable() -> None:
    assert load_config(env={"REVIEWBOT_READ_TIMEOUT": "42.5"}).llm.read_timeout == 42.5
