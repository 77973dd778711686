"""What vLLM's OpenAI-compatible server accepts, as the fake server checks it.

Field lists follow vLLM's ``ChatCompletionRequest``, ``CompletionRequest`` and
``TokenizeCompletionRequest`` (0.6 .. 0.32: OpenAI's fields plus vLLM's sampling extras).
Types are checked the way pydantic would, and problems are reported in vLLM 0.32's words
(``1 validation error:\n  {'type': ..., 'loc': 'body.temperature', 'msg': ...}``, seen from
a real vLLM 0.32 CPU server). The fake is stricter than vLLM on purpose: vLLM *ignores*
unknown fields with a log warning (that is how ``guided_json`` is dropped silently by 0.32:
"Request contains the removed guided-decoding field(s) ['guided_json'], which are ignored;
output will NOT be constrained"), the fake answers 400 so a test sees the mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], str | None]


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def t_str(v: Any) -> str | None:
    return None if isinstance(v, str) else "Input should be a valid string"


def t_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "Input should be a valid boolean"


def t_int(v: Any) -> str | None:
    return None if _is_int(v) else "Input should be a valid integer"


def t_num(v: Any) -> str | None:
    return None if _is_num(v) else "Input should be a valid number"


def t_dict(v: Any) -> str | None:
    return None if isinstance(v, dict) else "Input should be a valid dictionary"


def t_opt(check: Check) -> Check:
    return lambda v: None if v is None else check(v)


def t_min(check: Check, low: float) -> Check:
    def inner(v: Any) -> str | None:
        err = check(v)
        if err is None and v < low:
            return f"Input should be greater than or equal to {low:g}"
        return err

    return inner


def t_stop(v: Any) -> str | None:
    if v is None or isinstance(v, str):
        return None
    if isinstance(v, list) and all(isinstance(s, str) for s in v):
        return None
    return "Input should be a valid string or a valid list of strings"


def t_str_list_or_str(v: Any) -> str | None:
    if isinstance(v, str):
        return None
    if isinstance(v, list) and v and all(isinstance(s, str) for s in v):
        return None
    if isinstance(v, list) and v and all(_is_int(s) for s in v):
        return None
    return "Input should be a valid string, list of strings or list of token ids"


def t_messages(v: Any) -> str | None:
    if not isinstance(v, list) or not v:
        return "Input should be a non-empty list of messages"
    for m in v:
        if not isinstance(m, dict):
            return "Each message should be a valid dictionary"
        if m.get("role") not in ("system", "user", "assistant", "tool", "developer"):
            return f"Unknown message role {m.get('role')!r}"
        extra = set(m) - {"role", "content", "name", "tool_calls", "tool_call_id"}
        if extra:
            return f"Extra inputs are not permitted in a message: {sorted(extra)}"
        content = m.get("content")
        if not (content is None or isinstance(content, str | list)):
            return "Message content should be a string or a list of parts"
    return None


_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def t_response_format(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "Input should be a valid dictionary"
    kind = v.get("type")
    if kind not in ("text", "json_object", "json_schema", "structural_tag"):
        return (
            "Input should be 'text', 'json_object', 'json_schema' or 'structural_tag' "
            f"(got {kind!r})"
        )
    extra = set(v) - {"type", "json_schema"}
    if extra:
        return (
            f"response_format has fields vLLM ignores: {sorted(extra)} (vLLM wants "
            "{'type': 'json_schema', 'json_schema': {'name', 'schema', 'strict'}})"
        )
    if kind == "json_schema":
        js = v.get("json_schema")
        if not isinstance(js, dict):
            return "response_format.json_schema should be a valid dictionary"
        extra = set(js) - {"name", "description", "schema", "strict"}
        if extra:
            return f"Extra inputs are not permitted in json_schema: {sorted(extra)}"
        if not isinstance(js.get("name"), str) or not _NAME.match(js["name"]):
            return "json_schema.name should match ^[a-zA-Z0-9_-]{1,64}$"
        if not isinstance(js.get("schema"), dict):
            return "json_schema.schema should be a JSON schema object"
        if "strict" in js and not isinstance(js["strict"], bool):
            return "json_schema.strict should be a valid boolean"
    return None


_COMMON: dict[str, Check] = {
    "model": t_opt(t_str),
    "frequency_penalty": t_opt(t_num),
    "presence_penalty": t_opt(t_num),
    "logit_bias": t_opt(t_dict),
    "max_tokens": t_opt(t_min(t_int, 1)),
    "n": t_opt(t_min(t_int, 1)),
    "seed": t_opt(t_int),
    "stop": t_stop,
    "stream": t_opt(t_bool),
    "stream_options": t_opt(t_dict),
    "temperature": t_opt(t_min(t_num, 0)),
    "top_p": t_opt(t_num),
    "user": t_opt(t_str),
    "response_format": t_opt(t_response_format),
    # vLLM sampling extras
    "best_of": t_opt(t_int),
    "use_beam_search": t_bool,
    "top_k": t_opt(t_int),
    "min_p": t_opt(t_num),
    "repetition_penalty": t_opt(t_num),
    "length_penalty": t_num,
    "stop_token_ids": t_opt(lambda v: None if isinstance(v, list) else "should be a list"),
    "include_stop_str_in_output": t_bool,
    "ignore_eos": t_bool,
    "min_tokens": t_int,
    "skip_special_tokens": t_bool,
    "spaces_between_special_tokens": t_bool,
    "truncate_prompt_tokens": t_opt(t_int),
    "prompt_logprobs": t_opt(t_int),
    "add_special_tokens": t_bool,
    "structured_outputs": t_opt(t_dict),
    "priority": t_int,
    "request_id": t_str,
    "cache_salt": t_opt(t_str),
    "vllm_xargs": t_opt(t_dict),
}

CHAT_FIELDS: dict[str, Check] = {
    **_COMMON,
    "messages": t_messages,
    "logprobs": t_opt(t_bool),
    "top_logprobs": t_opt(t_int),
    "max_completion_tokens": t_opt(t_int),
    "tools": t_opt(lambda v: None if isinstance(v, list) else "should be a list"),
    "tool_choice": lambda v: None,
    "parallel_tool_calls": t_opt(t_bool),
    "echo": t_bool,
    "add_generation_prompt": t_bool,
    "continue_final_message": t_bool,
    "chat_template": t_opt(t_str),
    "chat_template_kwargs": t_opt(t_dict),
}

COMPLETION_FIELDS: dict[str, Check] = {
    **_COMMON,
    "prompt": t_str_list_or_str,
    "echo": t_opt(t_bool),
    "logprobs": t_opt(t_int),
    "suffix": t_opt(t_str),
}

TOKENIZE_FIELDS: dict[str, Check] = {
    "model": t_opt(t_str),
    "prompt": t_str,
    "add_special_tokens": t_bool,
    "return_token_strs": t_opt(t_bool),
}

LEGACY_GUIDED: dict[str, Check] = {
    "guided_json": lambda v: None if isinstance(v, dict | str) else "should be a schema",
    "guided_regex": t_opt(t_str),
    "guided_choice": t_opt(lambda v: None if isinstance(v, list) else "should be a list"),
    "guided_grammar": t_opt(t_str),
}

REQUIRED = {"chat": ("messages",), "completions": ("prompt",), "tokenize": ("prompt",)}


def _problem(kind: str, loc: str, msg: str, value: Any = None) -> tuple[str, str]:
    detail = {"type": kind, "loc": loc, "msg": msg, "input": value}
    return f"1 validation error:\n  {detail!r}", loc


def validate(body: Any, kind: str, legacy_guided: bool = False) -> tuple[str, str] | None:
    """(message, param) in vLLM 0.32's words for the first problem in ``body``, or None."""
    if not isinstance(body, dict):
        return _problem(
            "model_attributes_type",
            "body",
            "Input should be a valid dictionary or object to extract fields from",
        )
    fields = {"chat": CHAT_FIELDS, "completions": COMPLETION_FIELDS, "tokenize": TOKENIZE_FIELDS}[
        kind
    ]
    if legacy_guided and kind != "tokenize":
        fields = {**fields, **LEGACY_GUIDED}
    for name in REQUIRED[kind]:
        if name not in body:
            return _problem("missing", f"body.{name}", "Field required")
    for name, value in body.items():
        check = fields.get(name)
        if check is None:
            if name in LEGACY_GUIDED:
                return (
                    f"Request contains the removed guided-decoding field(s) ['{name}'], "
                    "which vLLM 0.32 ignores; output would NOT be constrained. Use "
                    "`structured_outputs` (or `response_format`) instead.",
                    f"body.{name}",
                )
            return _problem(
                "extra_forbidden",
                f"body.{name}",
                "Extra inputs are not permitted (vLLM ignores them)",
                value,
            )
        err = check(value)
        if err:
            return _problem("value_error", f"body.{name}", err, value)
    return None
