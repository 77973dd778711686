"""What a static rule reports; the engine turns hits into :class:`~reviewbot.findings.Finding`."""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.findings import Category, Severity


@dataclass(frozen=True, slots=True)
class StaticHit:
    rule_id: str
    """Stable id, e.g. ``py.sql-injection``."""
    line: int
    end_line: int
    category: Category
    severity: Severity
    title: str
    message: str
    suggestion: str | None = None
    cwe: str | None = None
    confidence: float = 0.9
