"""Helpers and case tables shared by the static-rule tests.

Each table maps a rule id to code that must trigger it (POSITIVE) or must not (NEGATIVE;
many of these are near misses: the safe variant of the same code).
"""

from __future__ import annotations

import textwrap

from reviewbot.context.extract import SourceFile
from reviewbot.static import analyze
from reviewbot.static.base import StaticHit

Case = tuple[str, str] | tuple[str, str, str]
"""A table row: (rule id, code) or (rule id, file path, code); the path is ``app.py`` when
not given (a path matters for rules that read the file's role: settings, tests)."""


def run(code: str, path: str = "app.py", changed: set[int] | None = None) -> list[StaticHit]:
    src = SourceFile.from_bytes(path, textwrap.dedent(code).lstrip("\n").encode())
    lines = frozenset(changed) if changed is not None else frozenset(range(1, len(src.lines) + 1))
    return analyze(src, lines)


def rule_ids(code: str, path: str = "app.py", changed: set[int] | None = None) -> set[str]:
    return {h.rule_id for h in run(code, path, changed)}
