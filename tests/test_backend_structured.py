"""Request shapes per server, and the HTTP helpers' reading of error bodies and Retry-After."""

from __future__ import annotations

import email.utils
import random

import httpx
import pytest

from reviewbot.backends.base import LLMRequest
from reviewbot.backends.http_client import backoff, error_message, retry_after
from reviewbot.backends.structured import (
    build_body,
    choose_api,
    schema_name,
    structured_fields,
    structured_form,
)
from reviewbot.config import LLMConfig

SCHEMA = {"type": "object", "properties": {"findings": {"type": "array", "maxItems": 2}}}


def test_structured_form_defaults_per_backend_and_config_overrides() -> None:
    assert structured_form("vllm", "auto") == "json_schema"
    assert structured_form("openai", "auto") == "json_object"
    assert structured_form("vllm", "guided_json") == "guided_json"
    assert structured_form("openai", "none") == "none"


def test_structured_fields_for_each_form() -> None:
    assert structured_fields("json_schema", {**SCHEMA, "title": "Review findings!"}) == {
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "Review_findings",
                "schema": {**SCHEMA, "title": "Review findings!"},
                "strict": True,
            },
        }
    }
    assert structured_fields("json_object", SCHEMA) == {
        "response_format": {"type": "json_object", "schema": SCHEMA}
    }
    assert structured_fields("guided_json", SCHEMA) == {"guided_json": SCHEMA}
    assert structured_fields("none", SCHEMA) == {}
    assert schema_name({}) == "reviewbot_answer"


@pytest.mark.parametrize(
    ("configured", "model", "api"),
    [
        ("auto", "codellama/CodeLlama-7b-Instruct-hf", "completions"),
        ("auto", "TheBloke/CodeLlama-13B-Instruct-AWQ", "completions"),
        ("auto", "Qwen/Qwen2.5-Coder-7B-Instruct", "chat"),
        ("auto", None, "chat"),
        ("chat", "codellama/CodeLlama-7b-Instruct-hf", "chat"),
        ("completions", "anything", "completions"),
    ],
)
def test_choose_api(configured: str, model: str | None, api: str) -> None:
    assert choose_api(configured, model) == api


def test_body_for_llama_cpp_chat_with_samples_and_no_constraint() -> None:
    req = LLMRequest("k", "sys", "usr", SCHEMA, max_tokens=300)
    body = build_body(
        req,
        LLMConfig(samples=3, consensus=2, seed=7, temperature=0.2),
        api="chat",
        model="m",
        form="none",
    )
    assert body == {
        "model": "m",
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "usr"}],
        "temperature": 0.2,
        "seed": 7,
        "max_tokens": 300,
        "n": 3,
    }


def _response(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "http://x/v1/models"), **kwargs)


def test_error_message_reads_every_known_error_shape() -> None:
    flat = {
        "object": "error",
        "message": "The model `x` does not exist.",
        "type": "NotFoundError",
        "param": None,
        "code": 404,
    }
    assert error_message(_response(404, json=flat)) == "The model `x` does not exist."
    nested = {"error": {"message": "bad\n  field", "type": "BadRequestError", "code": 400}}
    assert error_message(_response(400, json=nested)) == "bad field"
    assert error_message(_response(401, json={"error": "Unauthorized"})) == "Unauthorized"
    assert error_message(_response(404, json={"detail": "Not Found"})) == "Not Found"
    assert error_message(_response(502, text="")) == "Bad Gateway"
    long = error_message(_response(500, text="x" * 1000))
    assert len(long) == 300 and long.endswith("...")


def test_retry_after_seconds_date_and_cap() -> None:
    assert retry_after(_response(429, headers={"Retry-After": "3"})) == 3.0
    assert retry_after(_response(429, headers={"Retry-After": "9999"})) == 60.0
    when = email.utils.formatdate(1_000_030, usegmt=True)
    assert (
        retry_after(_response(429, headers={"Retry-After": when}), now=lambda: 1_000_000.0) == 30.0
    )
    assert retry_after(_response(429)) is None
    assert retry_after(_response(429, headers={"Retry-After": "soon"})) is None


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    rng = random.Random(1)
    for attempt, cap in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        draws = [backoff(attempt, rng) for _ in range(200)]
        assert all(0 <= d <= cap for d in draws)
        assert max(draws) > cap * 0.8  # jitter spreads over the whole window
