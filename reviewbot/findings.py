"""The one immutable result model: a finding at a place in the diff.

Shaped like reviewdog's Diagnostic: message, location, severity, category, source and an
optional suggested replacement. JSON, SARIF, markdown and GitHub comments are all
serializations of :class:`Finding`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Category(StrEnum):
    BUG = "bug"
    SECURITY = "security"
    PERFORMANCE = "performance"
    STYLE = "style"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}


class Side(StrEnum):
    """Which side of the diff a line belongs to, as GitHub names it."""

    RIGHT = "RIGHT"  # added or context line, numbered in the new file
    LEFT = "LEFT"  # removed line, numbered in the old file


@dataclass(frozen=True, slots=True)
class Finding:
    """One review finding anchored at lines of the diff."""

    path: str
    """File path in the new tree (old path for findings on deleted files)."""
    line: int
    """First line of the finding (1-based, new-file numbering on RIGHT, old on LEFT)."""
    end_line: int
    """Last line (== line for single-line findings); always in the same hunk as ``line``."""
    side: Side
    category: Category
    severity: Severity
    title: str
    message: str
    source: str
    """Who said it: a static rule id such as ``py.sql-injection`` or ``model:<name>``."""
    fingerprint: str
    """Stable identity: survives line shifts and rewording (see :func:`fingerprint`)."""
    confidence: float = 1.0
    suggestion: str | None = None
    """Replacement code for lines ``line..end_line`` (a GitHub suggestion block)."""
    rule_id: str | None = None
    cwe: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    def with_severity(self, severity: Severity) -> Finding:
        return replace(self, severity=severity)


_WS = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+")


def normalise_code(code: str) -> str:
    """Code with all whitespace runs collapsed, so re-indentation does not change identity."""
    return _WS.sub(" ", code).strip()


def normalise_title(title: str) -> str:
    return " ".join(_WORD.findall(title.lower()))


def fingerprint(
    path: str, anchored_code: str, category: Category, rule_or_title: str, occurrence: int = 0
) -> str:
    """Hash of path, normalised anchored code, category and rule id (or normalised title).

    Line numbers are deliberately not part of it: a finding keeps its identity when code
    above it is inserted or removed. Model findings pass their rule id when they have one,
    else their title, normalised to lower-case words. ``occurrence`` tells identical code
    apart: the same line twice in a file is two findings (the first occurrence, 0, hashes
    as before, so a re-run still knows the comments it posted on unique lines).
    """
    parts = [path, normalise_code(anchored_code), category.value, normalise_title(rule_or_title)]
    if occurrence:
        parts.append(f"#{occurrence}")
    key = "\x1f".join(parts)
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]
