"""Hunk bodies read straight from the diff's lines, once unidiff has checked the structure.

unidiff's full parse builds a ``Line`` object per diff line with two regular expressions
each, and :mod:`reviewbot.diff.parse` then copies every one into a
:class:`~reviewbot.diff.model.DiffLine`: on a large change that was most of the parse.
unidiff's ``metadata_only`` parse runs the same state machine (file headers, hunk headers,
line counts, the same errors) without building lines. :func:`walk_hunks` then reads each
hunk's lines from the raw text, consuming exactly the lines unidiff's hunk loop consumes
and classifying them as its full parse does, so the model is the one the full parse gives
(``tests/test_diff_parts.py`` checks it on real, malformed and fuzzed diffs). Where the walk
and unidiff disagree on where the hunks are, it returns None and the caller parses that
part in full.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from unidiff.constants import RE_HUNK_EMPTY_BODY_LINE, RE_HUNK_HEADER, RE_NO_NEWLINE_MARKER
from unidiff.patch import Hunk as UHunk
from unidiff.patch import PatchSet

from reviewbot.diff.model import DiffLine, Hunk, LineKind

_ADDED, _REMOVED, _CONTEXT = LineKind.ADDED, LineKind.REMOVED, LineKind.CONTEXT
_make = tuple.__new__
"""Builds a :class:`DiffLine` from its six fields without the keyword handling."""


class _Disagree(Exception):
    """The walk does not see the hunks unidiff saw."""


def _counts(m: re.Match[str]) -> tuple[int, int, int, int]:
    g = m.groups()
    return (
        int(g[0]),
        int(g[1]) if g[1] is not None else 1,
        int(g[2]),
        int(g[3]) if g[3] is not None else 1,
    )


def _line(kind: LineKind, value: str, old: int | None, new: int | None) -> DiffLine:
    if value[-1:] == "\n":
        value = value[:-1]
    if value[-1:] == "\r":
        return DiffLine(kind, value[:-1], old, new, True)
    return DiffLine(kind, value, old, new, False)


def no_eol(ln: DiffLine) -> DiffLine:
    """``ln`` marked as the file's last line without a line end (a ``\\`` line)."""
    return ln._replace(no_newline_at_eof=True)


def _hunk_lines(part: Sequence[str], i: int, uh: UHunk) -> tuple[list[DiffLine], int]:
    """The lines of the hunk whose body starts at index ``i``, and the index after them.

    The loop is unidiff's: a line is consumed, then the hunk ends when both counts are
    met (so a hunk counting no lines still consumes one). (It builds the lines as tuples
    directly: this loop runs once per line of the change.)"""
    old, new = uh.source_start, uh.target_start
    old_end, new_end = old + uh.source_length, new + uh.target_length
    out: list[DiffLine] = []
    append = out.append
    n = len(part)
    while i < n:
        line = part[i]
        i += 1
        tag = line[:1]
        if tag == "+" or tag == "-" or tag == " ":
            value = line[1:-1] if line[-1:] == "\n" else line[1:]
            crlf = value[-1:] == "\r"
            if crlf:
                value = value[:-1]
            if tag == "+":
                append(_make(DiffLine, (_ADDED, value, None, new, crlf, False)))
                new += 1
            elif tag == "-":
                append(_make(DiffLine, (_REMOVED, value, old, None, crlf, False)))
                old += 1
            else:
                append(_make(DiffLine, (_CONTEXT, value, old, new, crlf, False)))
                old += 1
                new += 1
        elif tag == "\\":
            if out:
                out[-1] = no_eol(out[-1])
        else:  # a bare line end: an empty context line, valued as unidiff values it
            m = RE_HUNK_EMPTY_BODY_LINE.match(line)
            if m is None or m.group("line_type"):
                raise _Disagree
            append(_line(_CONTEXT, m.group("value"), old, new))
            old += 1
            new += 1
        if old > old_end or new > new_end:
            raise _Disagree
        if old == old_end and new == new_end:
            break
    return out, i


def walk_hunks(part: Sequence[str], patch: PatchSet) -> list[tuple[Hunk, ...]] | None:
    """The hunks of each file of ``patch`` (``part`` parsed with ``metadata_only``), their
    lines read from ``part``; None when the walk does not find the hunks unidiff found."""
    want = [h for pf in patch for h in pf]
    got: list[Hunk] = []
    i, n = 0, len(part)
    try:
        while i < n:
            line = part[i]
            i += 1
            if line.startswith("@@"):
                if len(got) == len(want):
                    return None
                uh = want[len(got)]
                m = RE_HUNK_HEADER.match(line)
                if m is None or _counts(m) != (
                    uh.source_start,
                    uh.source_length,
                    uh.target_start,
                    uh.target_length,
                ):
                    return None
                lines, i = _hunk_lines(part, i, uh)
                got.append(
                    Hunk(
                        old_start=uh.source_start,
                        old_count=uh.source_length,
                        new_start=uh.target_start,
                        new_count=uh.target_length,
                        section=(uh.section_header or "").strip(),
                        lines=tuple(lines),
                    )
                )
            elif got and RE_NO_NEWLINE_MARKER.match(line):
                # unidiff's main loop gives it to the last hunk (it has checked that the
                # current file has one: that is the latest hunk)
                last = got[-1]
                if last.lines:
                    got[-1] = replace(last, lines=(*last.lines[:-1], no_eol(last.lines[-1])))
    except _Disagree:
        return None
    if len(got) != len(want):
        return None
    out: list[tuple[Hunk, ...]] = []
    k = 0
    for pf in patch:
        out.append(tuple(got[k : k + len(pf)]))
        k += len(pf)
    return out
