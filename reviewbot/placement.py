"""Where a finding may sit: inside one hunk, where GitHub accepts a comment on it.

A rule reports the lines of the syntax node it matched: a call that starts 40 lines above
the change and ends 200 lines below it, a class whose body the change touched. GitHub
takes a multi-line comment only when both ends lie in one hunk, and the summary is a poor
place for a finding that sits on a changed line. So every finding (static, ruff, imported
or model) whose range leaves its hunk is narrowed to the part of the range inside the
first hunk where it meets what the filter mode keeps: the changed lines for ``added``, any
hunk line otherwise. Its suggestion is dropped, since it was written to replace the whole
original range. A finding that meets no hunk is returned as it is (``file`` and
``nofilter`` keep those; they go to the summary).

:class:`HunkIndex` answers these questions for one file in constant time per line, so
filtering many findings on a file with thousands of hunks stays linear.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from reviewbot.diff.model import FileDiff, LineKind
from reviewbot.findings import Finding, Side


class HunkIndex:
    """Per side: which hunk each line belongs to, and which lines the diff changed."""

    __slots__ = ("_hunk", "_changed")

    def __init__(self, fd: FileDiff) -> None:
        self._hunk: dict[Side, dict[int, int]] = {Side.RIGHT: {}, Side.LEFT: {}}
        self._changed: dict[Side, set[int]] = {Side.RIGHT: set(), Side.LEFT: set()}
        right, left = self._hunk[Side.RIGHT], self._hunk[Side.LEFT]
        for i, h in enumerate(fd.hunks):
            for ln in h.lines:
                if ln.kind is not LineKind.REMOVED and ln.new_lineno is not None:
                    right.setdefault(ln.new_lineno, i)
                    if ln.kind is LineKind.ADDED:
                        self._changed[Side.RIGHT].add(ln.new_lineno)
                if ln.kind is not LineKind.ADDED and ln.old_lineno is not None:
                    left.setdefault(ln.old_lineno, i)
                    if ln.kind is LineKind.REMOVED:
                        self._changed[Side.LEFT].add(ln.old_lineno)

    def accepts_range(self, start: int, end: int, side: Side) -> bool:
        """Same answer as :meth:`FileDiff.accepts_range`."""
        lines = self._hunk[side]
        h = lines.get(start)
        return h is not None and (start == end or (end > start and lines.get(end) == h))

    def touches_changed(self, start: int, end: int, side: Side) -> bool:
        return bool(_within(self._changed[side], start, end))

    def clamp(self, f: Finding, changed_only: bool) -> Finding:
        """``f`` narrowed to one hunk (see the module docstring)."""
        if self.accepts_range(f.line, f.end_line, f.side):
            return f
        lines = self._hunk[f.side]
        wanted = self._changed[f.side] if changed_only else lines.keys()
        inside = _within(wanted, f.line, f.end_line)
        if not inside:
            return f
        first = min(inside, key=lambda n: (lines[n], n))
        # the changed lines of one hunk need not be contiguous, but the hunk's lines between
        # them are, and GitHub accepts any range of them
        same = [n for n in inside if lines[n] == lines[first]]
        return replace(f, line=min(same), end_line=max(same), suggestion=None)


def _within(lines: Collection[int], start: int, end: int) -> list[int]:
    """The members of ``lines`` in ``start..end``, walking whichever is smaller."""
    if end - start + 1 <= len(lines):
        return [n for n in range(start, end + 1) if n in lines]
    return [n for n in lines if start <= n <= end]
