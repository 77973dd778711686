"""Preparing the reviewed files: each changed file with its head source, and the types the
test-suggestion stage gets from the engine.

A head file that is unavailable, or is not the version the diff describes, is rebuilt from
the diff's new-side lines (``synthesized``): line numbers stay true, context outside the
hunks is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reviewbot.backends.base import Backend
from reviewbot.config import Config
from reviewbot.context.extract import SourceFile
from reviewbot.coverage import Skipped
from reviewbot.deadline import BUDGET_REASON, NO_DEADLINE, Deadline
from reviewbot.diff.model import Diff, FileDiff, LineKind
from reviewbot.progress import Progress
from reviewbot.result import SuggestOutcome
from reviewbot.selection import head_skip_reason, skip_reason
from reviewbot.sources import FileReader


@dataclass(frozen=True, slots=True)
class PreparedFile:
    diff: FileDiff
    source: SourceFile | None
    """Head content; synthesized from the diff when the real file is unavailable."""
    synthesized: bool


@dataclass(frozen=True, slots=True)
class SuggestContext:
    """What the test-suggestion stage gets from the engine."""

    diff: Diff
    files: Sequence[PreparedFile]
    reader: FileReader
    config: Config
    backend: Backend | None
    """None when no model is usable (skeletons only)."""
    model: str | None
    progress: Progress
    max_model_len: int | None = None
    """The served model's context length, when the server reports it (prompt budget)."""


Suggester = Callable[[SuggestContext], SuggestOutcome]


def synthesize_source(fd: FileDiff) -> SourceFile:
    """A stand-in head file built from the diff's new-side lines (blank elsewhere).

    For added files this is the whole file; for modified files the tree is partial but
    tree-sitter recovers well enough for line-local checks.
    """
    numbered = {
        ln.new_lineno: ln.text
        for h in fd.hunks
        for ln in h.lines
        if ln.kind is not LineKind.REMOVED and ln.new_lineno is not None
    }
    last = max(numbered, default=0)
    text = "\n".join(numbered.get(i, "") for i in range(1, last + 1)) + "\n"
    return SourceFile.from_bytes(fd.path, text.encode("utf-8", "surrogateescape"))


def prepare_files(
    diff: Diff, reader: FileReader, config: Config, deadline: Deadline = NO_DEADLINE
) -> tuple[list[PreparedFile], list[Skipped]]:
    """Every reviewable file with its head source; the others (and, once ``deadline`` has
    passed, the rest) as Skipped with the reason."""
    prepared: list[PreparedFile] = []
    skipped: list[Skipped] = []
    # Why each file is skipped, from its path and header (its head content comes later).
    reasons = [skip_reason(fd, config.include, config.exclude) for fd in diff.files]
    prefetch = getattr(reader, "prefetch", None)
    if prefetch is not None:  # one git process for all head files, not one per file
        wanted = [fd for fd, why in zip(diff.files, reasons, strict=True) if why is None]
        prefetch(
            [fd.path for fd in wanted],
            {fd.path: fd.new_blob for fd in wanted if fd.new_blob is not None},
        )
    for fd, reason in zip(diff.files, reasons, strict=True):
        if deadline.expired():
            skipped.append(Skipped(fd.path, BUDGET_REASON, fd.changed_count()))
            continue
        head: bytes | None = None
        if reason is None:
            head = reader.read(fd.path)
            if head is not None:
                reason = head_skip_reason(head)
        if reason is not None:
            skipped.append(Skipped(fd.path, reason, fd.changed_count()))
            continue
        src = SourceFile.from_bytes(fd.path, head) if head is not None else None
        if src is not None and _agrees(fd, src):
            prepared.append(PreparedFile(fd, src, False))
        else:
            # Unavailable, or not the version the diff describes (a --patch reviewed in a
            # different checkout, a file edited after `git diff`): line numbers would lie.
            prepared.append(PreparedFile(fd, synthesize_source(fd), True))
    return prepared, skipped


def _agrees(fd: FileDiff, src: SourceFile) -> bool:
    """True when ``src`` has the diff's new-side text at the diff's new-side line numbers."""
    lines = src.lines
    n = len(lines)
    for h in fd.hunks:
        for ln in h.lines:
            no = ln.new_lineno
            if (
                no is not None
                and ln.kind is not LineKind.REMOVED
                and (no > n or lines[no - 1] != ln.text)
            ):
                return False
    return True
