"""What a finding is anchored to: the code of its lines, and which copy of that code it is.

Two identical lines in one file (``return None`` twice) are told apart by how many times
the same code occurs above the anchor, so a fingerprint stays stable when lines shift and
distinct findings on identical lines are not merged. Used for model, static, ruff and
imported findings alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from reviewbot.context.extract import SourceFile
from reviewbot.diff.model import FileDiff
from reviewbot.findings import Side, normalise_code


def anchor_identity(
    src: SourceFile | None, fd: FileDiff, line: int, end: int, side: Side
) -> tuple[str, int]:
    """The code a finding is anchored to, and how many times the same code (whitespace
    aside) occurs above it in the file (the head file, or the diff's lines on the old side):
    what tells a finding on one of two identical lines from the other."""
    texts: Sequence[str]
    haystack: bytes | None = None
    if side is Side.RIGHT and src is not None and src.data != b"":
        texts, haystack = src.lines, src.data
        first, size = line - 1, max(0, min(end, len(texts)) - line + 1)
    else:
        pairs = sorted(
            {
                (n, ln.text)
                for h in fd.hunks
                for ln in h.lines
                if (n := ln.old_lineno if side is Side.LEFT else ln.new_lineno) is not None
            }
        )
        texts = [t for _, t in pairs]
        where = [i for i, (n, _) in enumerate(pairs) if line <= n <= end]
        first, size = (where[0], len(where)) if where else (0, 0)
    if size == 0:
        return "", 0
    code = "\n".join(texts[first : first + size])
    return code, _earlier_copies(texts, first, size, haystack)


def _earlier_copies(texts: Sequence[str], first: int, size: int, haystack: bytes | None) -> int:
    head = texts[first].strip()
    if not head:
        return 0
    if haystack is not None and haystack.count(head.encode("utf-8", "surrogateescape")) < 2:
        return 0  # the usual case, found in C: the line is unique
    want = normalise_code("\n".join(texts[first : first + size]))
    return sum(
        1
        for i in range(first)
        if texts[i].strip() == head and normalise_code("\n".join(texts[i : i + size])) == want
    )
