"""Request shapes for OpenAI-compatible servers: API choice, structured output, sampling.

Structured output is asked for differently by each server, and the wrong form fails
silently or loudly:

============  =====================================================================
form          request field                                         servers
============  =====================================================================
json_schema   ``response_format: {"type": "json_schema",            vLLM 0.6+ (0.32 needs it),
              "json_schema": {"name", "schema", "strict"}}``        OpenAI, Ollama
json_object   ``response_format: {"type": "json_object",            llama.cpp server and
              "schema": {...}}``                                    llama-cpp-python
guided_json   ``guided_json: {...}``                                vLLM before 0.10 only
none          nothing (the prompt still asks for JSON)
============  =====================================================================

vLLM 0.32 silently ignores ``guided_json`` and llama.cpp's server answers HTTP 500 to the
``json_schema`` form, so the default is per backend (``vllm`` -> json_schema, ``openai`` ->
json_object) and ``llm.structured_output`` overrides it.

The system prompt goes first and is identical for every chunk of a review, so a server with
prefix caching (vLLM's ``--enable-prefix-caching``, on by default in V1) computes it once.
"""

from __future__ import annotations

import re
from typing import Any

from reviewbot.backends.base import LLMRequest
from reviewbot.config import LLMApi, LLMConfig, StructuredOutput
from reviewbot.prompts_render import codellama_prompt

FORMS = ("json_schema", "json_object", "guided_json", "none")

STOP_JSON = ("\n\n\n\n",)
"""JSON strings cannot hold raw newlines, so four in a row only happen when a model loops
on whitespace between tokens (a known failure of grammar-constrained decoding)."""
STOP_CODELLAMA = ("[INST]", "</s>")
"""A raw-prompt model that starts a new turn has finished its answer."""

_NAME_OK = re.compile(r"[^A-Za-z0-9_-]+")


def structured_form(flavor: str, configured: StructuredOutput) -> StructuredOutput:
    """The structured-output form to send: the configured one, or the backend's default."""
    if configured != StructuredOutput.AUTO:
        return configured
    return StructuredOutput.JSON_SCHEMA if flavor == "vllm" else StructuredOutput.JSON_OBJECT


def choose_api(configured: LLMApi, model: str | None) -> LLMApi:
    """chat or completions: ``auto`` sends CodeLlama models the raw CodeLlama prompt."""
    if configured != LLMApi.AUTO:
        return configured
    return LLMApi.COMPLETIONS if model and "codellama" in model.lower() else LLMApi.CHAT


def schema_name(schema: dict[str, Any]) -> str:
    """A name OpenAI's json_schema form accepts (``^[A-Za-z0-9_-]{1,64}$``)."""
    raw = str(schema.get("title") or "reviewbot_answer")
    return (_NAME_OK.sub("_", raw).strip("_") or "reviewbot_answer")[:64]


def structured_fields(form: str, schema: dict[str, Any]) -> dict[str, Any]:
    if form == "json_schema":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": schema_name(schema), "schema": schema, "strict": True},
            }
        }
    if form == "json_object":
        return {"response_format": {"type": "json_object", "schema": schema}}
    if form == "guided_json":
        return {"guided_json": schema}
    return {}


def raw_prompt(system: str, user: str) -> str:
    """The CodeLlama-Instruct prompt, ending right after ``[/INST]`` as the model was tuned."""
    return codellama_prompt(system, user).rstrip()


def build_body(
    request: LLMRequest,
    llm: LLMConfig,
    *,
    api: str,
    model: str,
    form: str,
    max_tokens: int | None = None,
) -> dict[str, Any]:
    """The JSON body of one /v1/chat/completions or /v1/completions request."""
    body: dict[str, Any] = {"model": model}
    stop = list(STOP_JSON) if form != "none" else []
    if api == "chat":
        body["messages"] = [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ]
    else:
        body["prompt"] = raw_prompt(request.system, request.user)
        stop.extend(STOP_CODELLAMA)
    body["temperature"] = llm.temperature
    body["seed"] = llm.seed
    body["max_tokens"] = max_tokens or request.max_tokens or llm.max_tokens
    if llm.samples > 1:
        body["n"] = llm.samples
    if stop:
        body["stop"] = stop
    body.update(structured_fields(form, request.schema))
    return body
