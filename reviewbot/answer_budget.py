"""Answer schemas sized to the answer budget and to what the server's grammar engine takes.

A small model that fills every string to its ``maxLength`` can write one finding of about
2,200 characters. With ``llm.max_tokens`` at 800, that entry alone does not fit, and the
answer is cut off before its first complete finding: the chunk fails. So the free-text
bounds (``message``, ``suggestion``) shrink until one maximal entry fits in
:data:`ENTRY_SHARE` of the answer, counted at :data:`CHARS_PER_TOKEN` (a pessimistic rate:
code and English run at 3-4 characters per token, repetitive or symbol-heavy text lower).

Every ``maxLength`` is also capped at :data:`GRAMMAR_SAFE_STRING` for servers other than vLLM:
llama.cpp's JSON-schema converter (the llama-cpp-python server and the ``local`` backend)
nests one grammar rule per character of a bounded string, and past about 1,000 the server
dies while parsing the grammar (measured with llama-cpp-python 0.3.36: 900 is answered,
1,100 kills the process). vLLM's grammar engine has no such limit.
"""

from __future__ import annotations

import copy
from typing import Any

from reviewbot.prompts_render import load_schema

CHARS_PER_TOKEN = 2.5
ENTRY_SHARE = 0.8
"""Share of ``max_tokens`` one maximal finding may take (the rest: braces, a second entry)."""
ENTRY_OVERHEAD_TOKENS = 60
"""Keys, quotes, numbers and enum values of one finding."""
MIN_MESSAGE = 80
"""The message is never bounded below this; a suggestion below :data:`MIN_SUGGESTION` is
left out of the schema (``null`` only)."""
MIN_SUGGESTION = 80

GRAMMAR_SAFE_STRING = 900
UNCAPPED_BACKENDS = frozenset({"vllm", "vllm-offline"})

_BASE = load_schema("findings.schema.json")
_TESTS = load_schema("tests.schema.json")


def string_cap(backend: str) -> int | None:
    """The most a schema string may be bounded to for ``backend`` (None: no cap)."""
    return None if backend in UNCAPPED_BACKENDS else GRAMMAR_SAFE_STRING


def capped(schema: Any, cap: int | None) -> Any:
    """A copy of ``schema`` with every ``maxLength`` at most ``cap``."""
    if isinstance(schema, list):
        return [capped(s, cap) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: capped(v, cap) for k, v in schema.items()}
    if cap is not None and isinstance(out.get("maxLength"), int):
        out["maxLength"] = min(out["maxLength"], cap)
    return out


def suggestions_schema(cap: int | None = None) -> dict[str, Any]:
    """``tests.schema.json`` with its strings capped at ``cap``."""
    result: dict[str, Any] = capped(_TESTS, cap)
    return result


def findings_schema(max_tokens: int, cap: int | None = None) -> dict[str, Any]:
    """``findings.schema.json`` with ``message`` and ``suggestion`` bounds that let one
    maximal finding fit in ``max_tokens`` (unchanged when it already fits), every string
    capped at ``cap``."""
    schema = copy.deepcopy(_BASE)
    props: dict[str, Any] = schema["properties"]["findings"]["items"]["properties"]
    fixed = props["path"]["maxLength"] + props["title"]["maxLength"]
    message = props["message"]["maxLength"]
    text = _string_option(props["suggestion"])
    suggestion = text["maxLength"]
    room = int((max_tokens * ENTRY_SHARE - ENTRY_OVERHEAD_TOKENS) * CHARS_PER_TOKEN) - fixed
    if room >= message + suggestion:
        result: dict[str, Any] = capped(schema, cap)
        return result
    scale = max(room, 0) / (message + suggestion)
    props["message"]["maxLength"] = max(MIN_MESSAGE, int(message * scale))
    bound = int(suggestion * scale)
    if bound < MIN_SUGGESTION:
        props["suggestion"] = {"type": "null"}
    else:
        text["maxLength"] = bound
    result = capped(schema, cap)
    return result


def _string_option(schema: dict[str, Any]) -> dict[str, Any]:
    """The string branch of ``{"anyOf": [{"type": "string", ...}, {"type": "null"}]}``.

    (A ``"type": ["string", "null"]`` union would be shorter, but llama.cpp's Python grammar
    converter drops ``maxLength`` from it: the string would be unbounded.)"""
    options = schema.get("anyOf", [schema])
    return next(o for o in options if o.get("type") == "string")


def entry_chars(schema: dict[str, Any]) -> int:
    """The most characters of free text one finding of ``schema`` can hold."""
    props = schema["properties"]["findings"]["items"]["properties"]
    total = sum(int(props[k]["maxLength"]) for k in ("path", "title", "message"))
    if props["suggestion"].get("type") == "null":
        return total
    return total + int(_string_option(props["suggestion"])["maxLength"])
