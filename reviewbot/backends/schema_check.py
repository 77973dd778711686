"""Checking a parsed answer against its JSON schema (``prompts/*.schema.json``).

Structured output makes servers follow the schema, but not every server or form does
(``llm.structured_output = none``, llama.cpp grammars, older vLLM), so every answer is
checked here before it counts. Only the subset of JSON Schema the shipped schemas use is
understood: ``type`` (one or a list), ``anyOf``, ``enum``, ``required``, ``properties``,
``additionalProperties: false``, ``items``, ``maxItems``, ``maxLength`` and ``minimum``;
a schema keyword outside it is an internal error, not silently ignored. Messages name the
place (``answer.findings[2].line``) and never echo more than a few characters of a value.
"""

from __future__ import annotations

from typing import Any

from reviewbot.errors import InternalError

_KNOWN = frozenset(
    {
        "type",
        "anyOf",
        "enum",
        "required",
        "properties",
        "additionalProperties",
        "items",
        "maxItems",
        "maxLength",
        "minimum",
        "title",
        "description",
    }
)
_TYPE_NAMES = {
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
    type(None): "null",
}


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(
        value,
        {"string": str, "array": list, "object": dict, "boolean": bool, "null": type(None)}[kind],
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def problem(
    value: Any, schema: dict[str, Any], where: str = "answer", *, entries: bool = True
) -> str | None:
    """The first way ``value`` breaks ``schema``, or None when it conforms.

    With ``entries=False`` the entries of arrays (and ``maxItems``) are not checked: the
    caller checks them one at a time, keeping the good ones and counting the others.
    """
    unknown = set(schema) - _KNOWN
    if unknown:
        raise InternalError(f"answer schema uses unsupported keywords {sorted(unknown)}")
    options = schema.get("anyOf")
    if options is not None:  # the first option's complaint when none fits
        complaints = [problem(value, o, where, entries=entries) for o in options]
        if all(complaints):
            return complaints[0]
    kinds = schema.get("type")
    if kinds is not None:
        allowed = [kinds] if isinstance(kinds, str) else list(kinds)
        if not any(_is(value, k) for k in allowed):
            got = _TYPE_NAMES.get(type(value), type(value).__name__)
            return f"{where} is {got}, not {' or '.join(allowed)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where} {_short(value)} is not one of {', '.join(map(str, schema['enum']))}"
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        return f"{where} is longer than {schema['maxLength']} characters"
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and "minimum" in schema
        and value < schema["minimum"]
    ):
        return f"{where} {_short(value)} is below {schema['minimum']}"
    if isinstance(value, dict):
        return _object_problem(value, schema, where, entries)
    if isinstance(value, list) and entries:
        if len(value) > schema.get("maxItems", len(value)):
            return f"{where} has more than {schema['maxItems']} entries"
        items = schema.get("items")
        if isinstance(items, dict):
            for i, entry in enumerate(value):
                found = problem(entry, items, f"{where}[{i}]")
                if found:
                    return found
    return None


def _object_problem(
    value: dict[Any, Any], schema: dict[str, Any], where: str, entries: bool
) -> str | None:
    props: dict[str, Any] = schema.get("properties", {})
    for key in schema.get("required", ()):
        if key not in value:
            return f"{where} has no {key!r}"
    extra_ok = schema.get("additionalProperties", True)
    if not isinstance(extra_ok, bool):
        raise InternalError("answer schema: only additionalProperties true/false is supported")
    if not extra_ok:
        extra = [k for k in value if k not in props]
        if extra:
            return f"{where} has an unexpected key {_short(extra[0])}"
    for key, sub in props.items():
        if key in value:
            found = problem(value[key], sub, f"{where}.{key}", entries=entries)
            if found:
                return found
    return None


def shape_problem(value: Any, schema: dict[str, Any]) -> str | None:
    """:func:`problem` for a whole answer, its array entries left to the caller."""
    return problem(value, schema, entries=False)
