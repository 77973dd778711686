"""Filtering the findings of every source: categories, severity, the filter mode (ranges
narrowed to their hunk, see :mod:`reviewbot.placement`), dedupe by fingerprint and across
tools; every finding removed is counted by reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.config import Config, FilterMode
from reviewbot.diff.model import Diff
from reviewbot.findings import Finding
from reviewbot.imports.model import ImportBatch
from reviewbot.imports.place import drop_cross_tool, is_imported
from reviewbot.placement import HunkIndex


@dataclass(frozen=True, slots=True)
class Filtered:
    findings: list[Finding]
    """What remains, ordered by path and line."""
    dropped: dict[str, int]
    """Findings removed, by reason."""


def filter_findings(findings: Sequence[Finding], diff: Diff, config: Config) -> Filtered:
    dropped: dict[str, int] = {}
    by_path = diff.by_path()
    indexes: dict[str, HunkIndex] = {}

    def drop(f: Finding, reason: str) -> None:
        # Imported linter results are counted apart: "every finding of the import that
        # does not touch the diff is dropped with a count".
        reason = f"imported, {reason}" if is_imported(f) else reason
        dropped[reason] = dropped.get(reason, 0) + 1

    kept: dict[str, Finding] = {}
    mode = config.filter_mode
    for f in findings:
        if f.category not in config.categories:
            drop(f, "category not enabled")
            continue
        if f.severity.rank < config.min_severity.rank:
            drop(f, "below min_severity")
            continue
        fd = by_path.get(f.path)
        if fd is None:
            if mode is not FilterMode.NOFILTER:
                drop(f, "not in diff")
                continue
        else:
            index = indexes.get(fd.path)
            if index is None:
                index = indexes[fd.path] = HunkIndex(fd)
            if mode is FilterMode.ADDED and not index.touches_changed(f.line, f.end_line, f.side):
                drop(f, "not on an added line")
                continue
            f = index.clamp(f, changed_only=mode is FilterMode.ADDED)
            if mode is FilterMode.DIFF_CONTEXT and not index.accepts_range(
                f.line, f.end_line, f.side
            ):
                drop(f, "outside the diff")
                continue
        old = kept.get(f.fingerprint)
        if old is not None:
            drop(f, "duplicate")
            if f.severity.rank <= old.severity.rank and not (
                old.source.startswith("model:") and not f.source.startswith("model:")
            ):
                continue
        kept[f.fingerprint] = f

    unique = drop_cross_tool(
        list(kept.values()), lambda dup: drop(dup, "duplicate of another tool's finding")
    )
    return Filtered(
        sorted(unique, key=lambda f: (f.path, f.line, f.end_line, f.category, f.title)), dropped
    )


def import_note(
    batches: Sequence[ImportBatch],
    found: Sequence[Finding],
    final: Sequence[Finding],
    dropped: dict[str, int],
) -> str:
    """One line on what the imported linter results became (in every report)."""
    files = ", ".join(f"{b.label} ({b.format})" for b in batches)
    kept = sum(1 for f in final if is_imported(f))
    gone = {
        why.removeprefix("imported, "): n
        for why, n in sorted(dropped.items())
        if why.startswith("imported, ")
    }
    left_out: dict[str, int] = {}
    for b in batches:
        for why, n in b.skipped.items():
            left_out[why] = left_out.get(why, 0) + n
    line = f"imported {len(found)} linter results from {files}: {kept} kept"
    if gone:
        line += (
            f", {sum(gone.values())} dropped ("
            + ", ".join(f"{n} {why}" for why, n in gone.items())
            + ")"
        )
    if left_out:
        line += (
            f"; {sum(left_out.values())} unreadable ("
            + ", ".join(f"{n} {why}" for why, n in sorted(left_out.items()))
            + ")"
        )
    return line
