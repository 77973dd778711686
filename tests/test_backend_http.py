"""The vllm/openai HTTP backend against the fake vLLM server (real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reviewbot.backends.base import LLMRequest
from reviewbot.backends.openai_http import OpenAICompatibleBackend, make_openai, make_vllm
from reviewbot.config import Config, load_config
from reviewbot.errors import BackendError
from reviewbot.prompts_render import load_schema
from tests.fakes.vllm_server import FakeRequest, FakeVLLM, Reply, finding, scripted

SCHEMA = load_schema("findings.schema.json")
CHAT_MODEL = "Qwen/Qwen2.5-Coder-7B-Instruct"
GOOD = {"findings": [finding("a.py", 2)]}


def config(srv: FakeVLLM, **extra: Any) -> Config:
    return load_config(env={}, overrides={"llm.url": srv.url, "llm.model": srv.model, **extra})


def requests(n: int, user: str = "review this") -> list[LLMRequest]:
    return [LLMRequest(f"chunk-{i}", "SYSTEM PROMPT", f"{user} {i}", SCHEMA) for i in range(n)]


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def backend(
    srv: FakeVLLM, sleeps: Sleeps | None = None, flavor: str = "vllm", **extra: Any
) -> OpenAICompatibleBackend:
    b = (make_vllm if flavor == "vllm" else make_openai)(
        config(srv, **extra), sleep=sleeps if sleeps is not None else Sleeps()
    )
    return b


@pytest.fixture
def chat_srv() -> Iterator[FakeVLLM]:
    with FakeVLLM(lambda req: GOOD, model=CHAT_MODEL) as srv:
        yield srv


def test_open_reads_models_once_and_uses_server_tokenizer(chat_srv: FakeVLLM) -> None:
    b = backend(chat_srv)
    info = b.open()
    assert (info.name, info.model, info.max_model_len) == ("vllm", CHAT_MODEL, 4096)
    assert b.open() is info
    assert b.token_source == "vllm /tokenize"
    n = b.count_tokens("def f(x): return x")
    assert n == 8  # the fake tokenizer: def f ( x ) : return x (no special tokens)
    calls = chat_srv.tokenize_calls
    assert b.count_tokens("def f(x): return x") == n and chat_srv.tokenize_calls == calls
    b.close()


def test_unknown_model_lists_served_models() -> None:
    with FakeVLLM(model="served/one", extra_models=["served/two"]) as srv:
        b = make_vllm(load_config(env={}, overrides={"llm.url": srv.url, "llm.model": "nope"}))
        with pytest.raises(BackendError) as exc:
            b.open()
        assert exc.value.message == (
            f"model 'nope' is not served at {srv.url}; it serves: served/one, served/two"
        )
        assert exc.value.hint is not None and "--served-model-name" in exc.value.hint


def test_single_served_model_is_used_when_none_configured() -> None:
    with FakeVLLM(model="only/model") as srv:
        b = make_vllm(load_config(env={}, overrides={"llm.url": srv.url}))
        assert b.open().model == "only/model"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_server_down_is_one_clear_line(sleeps: Sleeps) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    b = make_vllm(load_config(env={}, overrides={"llm.url": url, "llm.model": "m"}), sleep=sleeps)
    with pytest.raises(BackendError) as exc:
        b.open()
    assert exc.value.message == f"no LLM server at {url}/models (connection refused)"
    assert "\n" not in exc.value.message
    assert sleeps == []  # first contact: a refused connection is not retried (hooks stay fast)


def test_connection_errors_during_review_are_retried(sleeps: Sleeps) -> None:
    from reviewbot.backends.http_client import HttpFailure

    url = f"http://127.0.0.1:{free_port()}/v1"
    b = make_vllm(load_config(env={}, overrides={"llm.url": url, "llm.model": "m"}), sleep=sleeps)
    result = b.requester.request("GET", f"{url}/models")
    assert isinstance(result, HttpFailure) and result.connection
    assert len(sleeps) == 3 and all(0 <= s <= 8 for s in sleeps)  # retried with backoff


def test_without_tokenize_endpoint_counts_are_estimated() -> None:
    with FakeVLLM(model=CHAT_MODEL, tokenize=False) as srv:
        b = backend(srv)
        b.open()
        assert b.token_source == "estimate"
        assert b.count_tokens("x" * 300) == 101


def test_chat_request_shape_for_vllm(chat_srv: FakeVLLM) -> None:
    b = backend(chat_srv)
    [res] = b.complete(requests(1))
    assert res.error is None and res.samples == (GOOD,)
    assert res.prompt_tokens > 0 and res.completion_tokens > 0
    body = chat_srv.requests[0].body
    assert body["messages"] == [
        {"role": "system", "content": "SYSTEM PROMPT"},
        {"role": "user", "content": "review this 0"},
    ]
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0.1, 1234, 1024)
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reviewbot_answer", "schema": SCHEMA, "strict": True},
    }
    assert body["stop"] == ["\n\n\n\n"] and "n" not in body


def test_codellama_gets_raw_prompt_on_completions() -> None:
    with FakeVLLM(lambda req: GOOD) as srv:  # default model: codellama/CodeLlama-7b-Instruct-hf
        [res] = backend(srv).complete(requests(1))
        assert res.samples == (GOOD,)
        req = srv.requests[0]
        assert req.path == "/v1/completions"
        assert req.body["prompt"].startswith("[INST] <<SYS>>\nSYSTEM PROMPT\n<</SYS>>\n\n")
        assert req.body["prompt"].endswith("review this 0 [/INST]")
        assert req.body["stop"] == ["\n\n\n\n", "[INST]", "</s>"]


def test_every_request_shares_the_system_prefix(chat_srv: FakeVLLM) -> None:
    backend(chat_srv).complete(requests(5))
    systems = {r.body["messages"][0]["content"] for r in chat_srv.requests}
    assert systems == {"SYSTEM PROMPT"} and len(chat_srv.requests) == 5


def test_all_requests_are_in_flight_together_up_to_the_limit() -> None:
    with FakeVLLM(lambda req: Reply(json.dumps(GOOD), delay=0.4), model=CHAT_MODEL) as srv:
        b = backend(srv)
        b.open()
        done: list[int] = []
        t0 = time.perf_counter()
        results = b.complete(requests(32), done.append)
        wall = time.perf_counter() - t0
        assert srv.max_in_flight == 16  # llm.concurrency default
        assert [r.key for r in results] == [f"chunk-{i}" for i in range(32)]
        assert all(r.samples == (GOOD,) for r in results)
        assert sum(done) == 32
        assert wall < 32 * 0.4 / 4  # sequential would take 12.8 s; two waves take ~0.8 s
    with FakeVLLM(lambda req: Reply(json.dumps(GOOD), delay=0.2), model=CHAT_MODEL) as srv:
        backend(srv, **{"llm.concurrency": 5}).complete(requests(12))
        assert srv.max_in_flight == 5


def test_429_honours_retry_after(sleeps: Sleeps) -> None:
    responder = scripted(
        [Reply.error(429, "too many requests", retry_after=2.5)], then=lambda req: GOOD
    )
    with FakeVLLM(responder, model=CHAT_MODEL) as srv:
        [res] = backend(srv, sleeps).complete(requests(1))
        assert res.samples == (GOOD,) and res.error is None
        assert sleeps == [2.5]
        assert [r.status for r in srv.requests] == [429, 200]


def test_5xx_is_retried_with_backoff_then_reported(sleeps: Sleeps) -> None:
    with FakeVLLM(lambda req: Reply.error(500, "CUDA out of memory"), model=CHAT_MODEL) as srv:
        [res] = backend(srv, sleeps).complete(requests(1))
        assert res.samples == ()
        assert res.error == (
            f"HTTP 500 from {srv.url}/chat/completions: CUDA out of memory (after 4 attempts)"
        )
        assert len(srv.requests) == 4 and len(sleeps) == 3
        assert all(0 <= s <= cap for s, cap in zip(sleeps, (0.5, 1.0, 2.0), strict=True))


def test_5xx_then_success(sleeps: Sleeps) -> None:
    responder = scripted(
        [Reply.error(503, "warming up"), Reply.error(502, "gateway")], then=lambda req: GOOD
    )
    with FakeVLLM(responder, model=CHAT_MODEL) as srv:
        [res] = backend(srv, sleeps).complete(requests(1))
        assert res.samples == (GOOD,) and len(sleeps) == 2


def test_4xx_is_not_retried_and_carries_vllm_message(sleeps: Sleeps) -> None:
    with FakeVLLM(lambda req: GOOD, model=CHAT_MODEL) as srv:
        [res] = backend(srv, sleeps, **{"llm.structured_output": "guided_json"}).complete(
            requests(1)
        )
        assert res.error is not None
        assert res.error.startswith(f"HTTP 400 from {srv.url}/chat/completions: ")
        assert "removed guided-decoding field(s) ['guided_json']" in res.error
        assert len(srv.requests) == 1 and sleeps == []


def test_guided_json_for_old_vllm_when_configured() -> None:
    with FakeVLLM(lambda req: GOOD, model=CHAT_MODEL, legacy_guided_json=True) as srv:
        [res] = backend(srv, **{"llm.structured_output": "guided_json"}).complete(requests(1))
        assert res.samples == (GOOD,)
        assert srv.requests[0].body["guided_json"] == SCHEMA
        assert "response_format" not in srv.requests[0].body


def test_read_timeout_is_reported_and_not_retried(sleeps: Sleeps) -> None:
    with FakeVLLM(lambda req: Reply(json.dumps(GOOD), delay=3.0), model=CHAT_MODEL) as srv:
        b = backend(srv, sleeps, **{"llm.read_timeout": 0.3})
        t0 = time.perf_counter()
        [res] = b.complete(requests(1))
        assert time.perf_counter() - t0 < 2.5
        assert res.error == "no answer within 0.3 s (llm.read_timeout)"
        assert len(srv.requests) == 1 and sleeps == []


def test_body_that_is_not_json() -> None:
    with FakeVLLM(lambda req: Reply(raw=b"<html>proxy error</html>"), model=CHAT_MODEL) as srv:
        [res] = backend(srv).complete(requests(1))
        assert res.error is not None and res.error.startswith("server sent a body that is not JSON")
        assert "<html>proxy error</html>" in res.error


def test_malformed_and_truncated_answers() -> None:
    truncated = json.dumps({"findings": [finding("a.py", 2), finding("a.py", 3)]})[:-40]
    responder = scripted(["{findings: [oops]}", Reply(truncated, finish_reason="length")])
    with FakeVLLM(responder, model=CHAT_MODEL) as srv:
        b = backend(srv, **{"llm.concurrency": 1})
        bad, cut = b.complete(requests(2))
        assert bad.samples == () and bad.error is not None
        assert "not valid JSON even after one repair" in bad.error
        assert cut.error is None and cut.samples == ({"findings": [finding("a.py", 2)]},)
        assert cut.notes == ("answer cut off at max_tokens; kept 1 complete entries",)


def test_samples_use_n_in_one_request() -> None:
    answers = [json.dumps({"findings": [finding("a.py", i)]}) for i in (1, 2, 3)]
    with FakeVLLM(lambda req: Reply(answers), model=CHAT_MODEL) as srv:
        [res] = backend(srv, **{"llm.samples": 3, "llm.consensus": 2}).complete(requests(1))
        assert len(srv.requests) == 1 and srv.requests[0].body["n"] == 3
        assert [s["findings"][0]["line"] for s in res.samples] == [1, 2, 3]


def test_prompt_that_cannot_fit_is_not_sent() -> None:
    with FakeVLLM(lambda req: GOOD, model=CHAT_MODEL, max_model_len=200) as srv:
        b = backend(srv)
        [res] = b.complete(requests(1, user="word " * 300))
        assert res.error is not None and "does not fit the model's context of 200" in res.error
        assert srv.requests == []
        [ok] = b.complete(requests(1, user="word " * 60))
        assert ok.samples == (GOOD,)
        sent = srv.requests[0].body["max_tokens"]
        assert sent < 200 and any("max_tokens lowered" in n for n in ok.notes)


def test_server_timings_and_api_key() -> None:
    reply = Reply(json.dumps(GOOD), timings={"prompt_ms": 120.0, "predicted_ms": 380.0})
    with FakeVLLM(lambda req: reply, model=CHAT_MODEL, api_key="sekret") as srv:
        b = make_vllm(config(srv, **{"llm.api_key": "sekret"}))
        [res] = b.complete(requests(1))
        assert res.server_seconds == pytest.approx(0.5)
        assert srv.requests[0].headers["authorization"] == "Bearer sekret"
    with FakeVLLM(model=CHAT_MODEL, api_key="sekret") as srv:
        with pytest.raises(BackendError) as exc:
            make_vllm(config(srv)).open()
        assert exc.value.message == f"HTTP 401 from {srv.url}/models: Unauthorized"
        assert exc.value.hint is not None and "llm.api_key" in exc.value.hint


def test_server_dying_mid_review_fails_each_request_not_the_run(sleeps: Sleeps) -> None:
    srv = FakeVLLM(model=CHAT_MODEL).start()
    b = backend(srv, sleeps)
    b.open()
    srv.stop()
    results = b.complete(requests(3))
    assert all(r.error and r.error.startswith("no LLM server at") for r in results)
    assert all("after 4 attempts" in (r.error or "") for r in results)


def test_openai_flavor_sends_json_object_schema(chat_srv: FakeVLLM) -> None:
    # vLLM ignores a schema inside json_object; the fake rejects it, which shows the form.
    seen: list[FakeRequest] = []
    b = backend(chat_srv, flavor="openai")
    assert b.open().name == "openai"
    [res] = b.complete(requests(1))
    seen = chat_srv.requests
    assert seen[0].body["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert res.error is not None and "fields vLLM ignores: ['schema']" in res.error


def test_complete_is_thread_safe_across_calls(chat_srv: FakeVLLM) -> None:
    b = backend(chat_srv)
    out: list[int] = []
    threads = [
        threading.Thread(target=lambda: out.append(len(b.complete(requests(4))))) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == [4, 4, 4] and len(chat_srv.completions()) == 12


@pytest.mark.parametrize("shape", ["nested", "flat"])
def test_error_bodies_of_old_and_new_vllm_read_the_same(shape: str, sleeps: Sleeps) -> None:
    with FakeVLLM(
        lambda req: Reply.error(503, "Service   is\nwarming up"),
        model=CHAT_MODEL,
        error_shape=shape,
    ) as srv:
        [res] = backend(srv, sleeps, **{"llm.retries": 0}).complete(requests(1))
        assert res.error == f"HTTP 503 from {srv.url}/chat/completions: Service is warming up"
