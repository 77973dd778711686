"""The coverage record: what was reviewed, and what was skipped and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: str
    lines: int
    """Changed lines not reviewed for this reason."""
    detail: str = ""
    """For partially skipped files: which lines (e.g. 'lines 40-41')."""


@dataclass(frozen=True, slots=True)
class Coverage:
    files_total: int
    files_reviewed: int
    lines_total: int
    lines_in_chunks: int
    """Changed lines reviewed: those in the chunks built for the model, or, when no model
    is asked (static checks only), those of the files the static checks ran on."""
    skipped: tuple[Skipped, ...] = ()
    chunks_total: int = 0
    chunks_model_reviewed: int = 0
    chunk_failures: tuple[tuple[int, str], ...] = ()
    """(chunk index, reason) for chunks the model could not review."""
    model: str | None = None
    """The model that reviewed, None for static-only reviews."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        parts = [
            f"reviewed {self.files_reviewed} of {self.files_total} files "
            f"({self.lines_in_chunks} of {self.lines_total} changed lines)"
        ]
        if self.model:
            parts.append(
                f"model {self.model} reviewed {self.chunks_model_reviewed} of "
                f"{self.chunks_total} chunks"
            )
        elif self.files_reviewed:
            parts.append("static checks only")
        if self.skipped:
            by_reason: dict[str, int] = {}
            for s in self.skipped:
                by_reason[s.reason] = by_reason.get(s.reason, 0) + 1
            parts.append("skipped: " + ", ".join(f"{n} {r}" for r, n in sorted(by_reason.items())))
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "files_total": self.files_total,
            "files_reviewed": self.files_reviewed,
            "lines_total": self.lines_total,
            "lines_reviewed": self.lines_in_chunks,
            "chunks_total": self.chunks_total,
            "chunks_model_reviewed": self.chunks_model_reviewed,
            "model": self.model,
            "skipped": [
                {"path": s.path, "reason": s.reason, "lines": s.lines, "detail": s.detail}
                for s in self.skipped
            ],
            "chunk_failures": [{"chunk": i, "reason": r} for i, r in self.chunk_failures],
            "notes": list(self.notes),
        }
