"""The diff model every stage reads: files, hunks, lines and the anchors GitHub accepts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from reviewbot.findings import Side


class LineKind(StrEnum):
    ADDED = "+"
    REMOVED = "-"
    CONTEXT = " "


class FileStatus(StrEnum):
    ADDED = "added"
    DELETED = "deleted"
    MODIFIED = "modified"
    RENAMED = "renamed"
    COPIED = "copied"


class DiffLine(NamedTuple):
    """One line of a hunk. A named tuple, not a dataclass: a large change has hundreds of
    thousands, and a tuple is built in a fifth of the time a frozen dataclass takes."""

    kind: LineKind
    text: str
    """Line content without the diff marker and without the line terminator (a CR of a
    CRLF line is kept out of ``text`` and recorded in ``crlf``)."""
    old_lineno: int | None
    new_lineno: int | None
    crlf: bool = False
    no_newline_at_eof: bool = False

    @property
    def side(self) -> Side:
        return Side.LEFT if self.kind is LineKind.REMOVED else Side.RIGHT

    @property
    def anchor_line(self) -> int:
        """The ``line`` GitHub expects for this diff line on :attr:`side`."""
        n = self.old_lineno if self.kind is LineKind.REMOVED else self.new_lineno
        assert n is not None
        return n


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_count: int
    new_start: int
    new_count: int
    section: str
    """Text after the second ``@@`` (git's function-name hint), may be empty."""
    lines: tuple[DiffLine, ...]

    @property
    def new_end(self) -> int:
        return self.new_start + max(self.new_count, 1) - 1

    def added(self) -> Iterator[DiffLine]:
        return (ln for ln in self.lines if ln.kind is LineKind.ADDED)

    def changed(self) -> Iterator[DiffLine]:
        return (ln for ln in self.lines if ln.kind is not LineKind.CONTEXT)

    def contains(self, line: int, side: Side) -> bool:
        """True when ``line`` on ``side`` is a line of this hunk (GitHub accepts it)."""
        for ln in self.lines:
            if side is Side.RIGHT and ln.kind is not LineKind.REMOVED and ln.new_lineno == line:
                return True
            if side is Side.LEFT and ln.kind is not LineKind.ADDED and ln.old_lineno == line:
                return True
        return False


@dataclass(frozen=True, slots=True)
class FileDiff:
    old_path: str | None
    """None for added files."""
    new_path: str | None
    """None for deleted files."""
    status: FileStatus
    hunks: tuple[Hunk, ...] = ()
    is_binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    similarity: int | None = None
    invalid_utf8: bool = False
    """Some bytes of this file's patch were not UTF-8 (kept with surrogateescape)."""
    new_blob: str | None = None
    """The new side's whole blob id from the ``index`` line (``git diff --full-index``);
    None when the line is absent, abbreviated or all zeros."""

    @property
    def path(self) -> str:
        p = self.new_path if self.new_path is not None else self.old_path
        assert p is not None
        return p

    @property
    def mode_changed(self) -> bool:
        return (
            self.old_mode is not None
            and self.new_mode is not None
            and (self.old_mode != self.new_mode)
        )

    def added_count(self) -> int:
        return sum(1 for h in self.hunks for _ in h.added())

    def changed_count(self) -> int:
        return sum(1 for h in self.hunks for _ in h.changed())

    def anchors(self) -> list[tuple[str, int, Side]]:
        """``(path, line, side)`` of every changed line, as GitHub's review-comment API takes
        them: RIGHT with the new-file number for added lines, LEFT with the old-file number
        for removed lines; ``path`` is the new path (the old one for deleted files)."""
        return [(self.path, ln.anchor_line, ln.side) for h in self.hunks for ln in h.changed()]

    def hunk_for(self, line: int, side: Side) -> Hunk | None:
        for h in self.hunks:
            if h.contains(line, side):
                return h
        return None

    def accepts_range(self, start: int, end: int, side: Side) -> bool:
        """True when GitHub accepts a comment on ``start..end`` on ``side`` (one hunk)."""
        h = self.hunk_for(start, side)
        return h is not None and (start == end or (end > start and h.contains(end, side)))


@dataclass(frozen=True, slots=True)
class Diff:
    files: tuple[FileDiff, ...]

    def by_path(self) -> dict[str, FileDiff]:
        return {f.path: f for f in self.files}

    def changed_lines(self) -> int:
        return sum(f.changed_count() for f in self.files)
