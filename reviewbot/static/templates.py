"""Jinja / Django templates: output marked safe or autoescaping switched off (CWE-79).

Templates have no tree-sitter grammar here, so this is a line check on the changed lines.
"""

from __future__ import annotations

import re

from reviewbot.context.extract import SourceFile
from reviewbot.static.base import StaticHit
from reviewbot.static.rules import RULES

TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".djhtml", ".jinja.html")
_SAFE = re.compile(r"\{\{[^}]*?\|\s*safe\b[^}]*\}\}")
_CONST_SAFE = re.compile(r"\{\{\s*(['\"])[^'\"]*\1\s*\|\s*safe\s*\}\}")
_AUTOESCAPE_OFF = re.compile(r"\{%-?\s*autoescape\s+(?:off|false)\s*-?%\}", re.IGNORECASE)


def is_template(path: str) -> bool:
    return path.lower().endswith(TEMPLATE_SUFFIXES)


def analyze(src: SourceFile, changed: frozenset[int]) -> list[StaticHit]:
    rule = RULES["tpl.safe-filter"]
    hits: list[StaticHit] = []
    for n in sorted(changed):
        if n > len(src.lines):
            break
        text = src.lines[n - 1]
        if _AUTOESCAPE_OFF.search(text):
            hits.append(
                rule.hit(
                    n,
                    n,
                    "autoescaping turned off",
                    "Inside this block every {{ value }} is inserted as raw HTML; one value from a "
                    "user is enough for XSS. Keep autoescaping on and mark only vetted HTML safe.",
                )
            )
        for m in _SAFE.finditer(text):
            if _CONST_SAFE.fullmatch(m.group(0)):
                continue
            hits.append(
                rule.hit(
                    n,
                    n,
                    "`|safe` disables escaping",
                    f"`{m.group(0).strip()}` inserts the value as raw HTML. If any part of it can "
                    "come from a user this is XSS; sanitise it (bleach / nh3) before marking it "
                    "safe, or drop |safe.",
                    confidence=0.7,
                )
            )
            break
    return hits
