"""load_schema hands out copies: one caller's edit never reaches another's schema."""

from __future__ import annotations

from reviewbot.prompts_render import load_schema


def test_each_call_returns_an_independent_copy() -> None:
    first = load_schema("findings.schema.json")
    first["properties"] = {}
    first.clear()
    second = load_schema("findings.schema.json")
    assert second and "properties" in second and second["properties"]
