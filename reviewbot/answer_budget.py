"""The findings schema sized to the answer budget.

A small model that fills every string to its ``maxLength`` can write one finding of about
2,200 characters. With ``llm.max_tokens`` at 800, that entry alone does not fit, and the
answer is cut off before its first complete finding: the chunk fails. So the free-text
bounds (``message``, ``suggestion``) shrink until one maximal entry fits in
:data:`ENTRY_SHARE` of the answer, counted at :data:`CHARS_PER_TOKEN` (a pessimistic rate:
code and English run at 3-4 characters per token, repetitive or symbol-heavy text lower).
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

_BASE = load_schema("findings.schema.json")


def findings_schema(max_tokens: int) -> dict[str, Any]:
    """``findings.schema.json`` with ``message`` and ``suggestion`` bounds that let one
    maximal finding fit in ``max_tokens`` (unchanged when it already fits)."""
    schema = copy.deepcopy(_BASE)
    props: dict[str, Any] = schema["properties"]["findings"]["items"]["properties"]
    fixed = props["path"]["maxLength"] + props["title"]["maxLength"]
    message = props["message"]["maxLength"]
    text = _string_option(props["suggestion"])
    suggestion = text["maxLength"]
    room = int((max_tokens * ENTRY_SHARE - ENTRY_OVERHEAD_TOKENS) * CHARS_PER_TOKEN) - fixed
    if room >= message + suggestion:
        return schema
    scale = max(room, 0) / (message + suggestion)
    props["message"]["maxLength"] = max(MIN_MESSAGE, int(message * scale))
    bound = int(suggestion * scale)
    if bound < MIN_SUGGESTION:
        props["suggestion"] = {"type": "null"}
    else:
        text["maxLength"] = bound
    return schema


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
