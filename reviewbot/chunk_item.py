"""One chunk item: the diff lines of a hunk (or of joined hunks, or a piece of one) with
their code context, rendered into a fenced block, and the size of that block.

The static backend counts tokens with :func:`reviewbot.token_estimate.estimate_tokens`,
which depends only on a text's UTF-8 bytes and line feeds; :meth:`ChunkItem.size` gives
both from the item's lines (:class:`LineSizes`) without rendering, so a static review
renders no item. A model backend renders each item once, on first use of its text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import methodcaller

from reviewbot.context.extract import CodeContext, SourceFile
from reviewbot.diff.model import DiffLine, LineKind
from reviewbot.prompts_render import NONCE_BYTES, fenced, neutralise, neutralised_lines, render


@dataclass(frozen=True, slots=True)
class ChunkItem:
    path: str
    language: str | None
    hunk_index: int
    """Index of the (first) hunk in the file."""
    lines: tuple[DiffLine, ...]
    """The diff lines of this hunk, of consecutive hunks, or of one piece of a split hunk."""
    context: CodeContext
    source_lines: tuple[str, ...]
    """New-file lines ``context.start_line..context.end_line`` (empty when unknown)."""
    segments: tuple[int, ...] = ()
    """Lengths of the hunks ``lines`` joins, in order (empty: one hunk or piece)."""
    hunk: tuple[DiffLine, ...] = ()
    """For one piece of a split hunk: the whole hunk. Its lines that the piece's context
    shows are marked as they are in the diff (``+`` for added), and a finding may sit on
    them: GitHub accepts any line of the hunk."""
    hunk_added: frozenset[int] | None = field(default=None, compare=False, repr=False)
    """New-file numbers of ``hunk``'s added lines, when the caller has them: every piece of
    a split hunk shares one set instead of scanning the whole hunk again (quadratic)."""
    sizes: LineSizes | None = field(default=None, compare=False, repr=False)
    """The file's line sizes, so :meth:`size` need not render (None: it renders)."""
    _text: str | None = field(default=None, init=False, compare=False, repr=False)
    _size: tuple[int, int] | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def text(self) -> str:
        """The rendered, fenced item: rendered once, on first use, with a random nonce (the
        static backend never asks: it needs only :meth:`size`)."""
        if self._text is None:
            object.__setattr__(self, "_text", self._render())
        assert self._text is not None
        return self._text

    def size(self) -> tuple[int, int]:
        """UTF-8 bytes and line feeds of :attr:`text`, all :func:`estimate_tokens` depends
        on; from the file's line sizes when they are exact, without rendering."""
        if self._size is None:
            if self._text is None and self.sizes is not None and self.sizes.exact():
                size = _rendered_size(self, self.sizes)
            else:
                size = len(self.text.encode("utf-8", "surrogateescape")), self.text.count("\n")
            object.__setattr__(self, "_size", size)
        assert self._size is not None
        return self._size

    def changed_lines(self) -> int:
        return sum(1 for ln in self.lines if ln.kind is not LineKind.CONTEXT)

    def right_lines(self) -> frozenset[int]:
        """New-file line numbers a finding may be anchored to in this item."""
        own = frozenset(
            ln.new_lineno
            for ln in self.lines
            if ln.kind is not LineKind.REMOVED and ln.new_lineno is not None
        )
        if not (self.hunk and self.source_lines):
            return own
        lo, hi = self.context.start_line, self.context.start_line + len(self.source_lines) - 1
        return own | {
            ln.new_lineno
            for ln in self.hunk
            if ln.kind is not LineKind.REMOVED
            and ln.new_lineno is not None
            and lo <= ln.new_lineno <= hi
        }

    def hunk_line_sets(self) -> list[frozenset[int]]:
        """:meth:`right_lines` per hunk: a multi-line finding must stay inside one."""
        if self.hunk:
            return [self.right_lines()]
        out, pos = [], 0
        for size in self.segments or (len(self.lines),):
            out.append(
                frozenset(
                    ln.new_lineno
                    for ln in self.lines[pos : pos + size]
                    if ln.kind is not LineKind.REMOVED and ln.new_lineno is not None
                )
            )
            pos += size
        return out

    def render(self) -> str:
        return self.text

    def _render(self) -> str:
        return fenced(_TEMPLATE, _values(self, "\n".join(_code_rows(self))))


_TEMPLATE = "item.txt"
"""An item's fenced template: ``$code`` once, ``$nonce`` on its marker lines."""


def _values(item: ChunkItem, code: str) -> dict[str, str]:
    symbol = f" in `{item.context.symbol}`" if item.context.symbol else ""
    return {"path": item.path, "language": item.language or "text", "symbol": symbol, "code": code}


def added_rows(lines: Sequence[DiffLine]) -> frozenset[int]:
    """New-file numbers of the added lines among ``lines``."""
    return frozenset(
        ln.new_lineno for ln in lines if ln.kind is LineKind.ADDED and ln.new_lineno is not None
    )


def _code_rows(item: ChunkItem) -> list[str]:
    """Diff lines with new-file line numbers; source lines fill the context before, after
    and between the hunks of the item."""
    src, start = item.source_lines, item.context.start_line
    width = _width(item)
    blank = " " * width
    added = item.hunk_added if item.hunk_added is not None else added_rows(item.hunk)

    def context_row(k: int) -> str:
        return f"{'+' if k in added else ' '} {str(k).rjust(width)} | {src[k - start]}"

    def diff_row(ln: DiffLine) -> str:
        if ln.kind is LineKind.REMOVED or ln.new_lineno is None:
            return f"- {blank} | {ln.text}"
        mark = "+" if ln.kind is LineKind.ADDED else " "
        return f"{mark} {str(ln.new_lineno).rjust(width)} | {ln.text}"

    rows: list[str] = []
    for part in _row_plan(item):
        if isinstance(part, range):
            rows.extend(context_row(k) for k in part)
        else:
            rows.extend(diff_row(ln) for ln in item.lines[part])
    return rows


def _width(item: ChunkItem) -> int:
    """Digits of the largest line number the item shows (every number is padded to it)."""
    news = [ln.new_lineno for ln in item.lines if ln.new_lineno is not None]
    return len(str(max(item.context.end_line, *news) if news else item.context.end_line))


def _row_plan(item: ChunkItem) -> Iterator[slice | range]:
    """The rows of the item's code in order: runs of its diff lines (a slice of
    ``item.lines``) and of new-file lines shown from the source (a range of line numbers:
    context before, between and after the hunks)."""
    ctx, lines = item.context, item.lines
    start, stop = ctx.start_line, ctx.start_line + len(item.source_lines)  # [start, stop)
    shown = start - 1  # last new-file line emitted (only meaningful with source lines)
    run = 0  # first diff line not yet emitted
    for i, ln in enumerate(lines if item.source_lines else ()):
        n = ln.new_lineno
        if n is not None and n > shown and ln.kind is not LineKind.REMOVED:
            first, last = max(shown + 1, start), min(n, stop)
            if last > first:  # unchanged lines between hunks, or leading context
                if i > run:
                    yield slice(run, i)
                run = i
                yield range(first, last)
            shown = n
    if len(lines) > run:
        yield slice(run, len(lines))
    if item.source_lines and ctx.end_line > shown:
        first, last = max(shown + 1, start), min(ctx.end_line + 1, stop)
        if last > first:
            yield range(first, last)


_ENCODE = methodcaller("encode", "utf-8", "surrogateescape")
"""``str.encode`` as token_estimate does it (a C call: mapped over every line of a file)."""


def _utf8_len(text: str) -> int:
    return len(_ENCODE(text))


class LineSizes:
    """One file's line sizes, shared by its items and computed on first use: prefix sums
    of the UTF-8 bytes of its source lines as :func:`neutralise` leaves them, and the bytes
    it changes diff lines, so an item's size (what the static backend's token count depends
    on) is the sum of its rows' sizes, without rendering.

    The fenced code is the rows with each line neutralised on its own: a control token
    spans neither a line feed nor a row's ``+ 12 | `` prefix (it starts with ``<`` or
    ``[``). When that is not certain (:func:`neutralised_lines`), :meth:`exact` is False and
    items are rendered. Source lines hold no line feed (:attr:`SourceFile.lines` splits at
    them), and neutralise adds none."""

    __slots__ = ("_file", "_headers", "_prefix", "rewrites_diff")

    def __init__(self, source: SourceFile | None, hunks: Sequence[Sequence[DiffLine]]) -> None:
        self._file: tuple[SourceFile | None, Sequence[Sequence[DiffLine]]] | None = (source, hunks)
        self._prefix: list[int] | None = None
        self.rewrites_diff = False
        """Does neutralise change some diff line (then an item's diff text is measured
        neutralised)?"""
        self._headers: dict[str | None, tuple[int, int]] = {}

    def exact(self) -> bool:
        if self._file is not None:
            (source, hunks), self._file = self._file, None  # holds no file once measured
            lines = source.lines if source is not None else []
            texts = [ln.text for h in hunks for ln in h]
            fixed, fixed_texts = neutralised_lines(lines), neutralised_lines(texts)
            if fixed is not None and fixed_texts is not None:
                shown = [fixed.get(i, line) for i, line in enumerate(lines)] if fixed else lines
                self._prefix = list(accumulate(map(len, map(_ENCODE, shown)), initial=0))
                self.rewrites_diff = bool(fixed_texts)
        return self._prefix is not None

    def header(self, item: ChunkItem) -> tuple[int, int]:
        """Size of the item's fenced block with empty code (any nonce: every nonce has one
        length); the same for the file's items of one symbol."""
        if item.context.symbol not in self._headers:
            values = {k: neutralise(v) for k, v in _values(item, "").items()}
            text = render(_TEMPLATE, nonce="0" * (2 * NONCE_BYTES), **values)
            self._headers[item.context.symbol] = _utf8_len(text), text.count("\n")
        return self._headers[item.context.symbol]

    def source_bytes(self, first: int, stop: int) -> int:
        """UTF-8 bytes of source lines ``first`` to ``stop - 1`` (1-based)."""
        assert self._prefix is not None
        return self._prefix[stop - 1] - self._prefix[first - 1]


def _rendered_size(item: ChunkItem, sizes: LineSizes) -> tuple[int, int]:
    """:meth:`ChunkItem.size` from the rows (exact when ``sizes.exact()``): the fenced
    block with empty code plus the code's rows, each ``width + 5`` bytes of marker, number
    and bar before its text, one line feed apart."""
    header_bytes, header_newlines = sizes.header(item)
    diff_text = "\n".join([ln.text for ln in item.lines])  # the diff lines' texts, in bulk
    if sizes.rewrites_diff:  # as its lines one by one (no token spans a line feed)
        diff_text = neutralise(diff_text)
    rows = len(item.lines)
    nbytes = _utf8_len(diff_text) - max(rows - 1, 0)
    newlines = diff_text.count("\n") - max(rows - 1, 0)
    for part in _row_plan(item):
        if isinstance(part, range):
            rows += len(part)
            nbytes += sizes.source_bytes(part.start, part.stop)
    gaps = max(rows - 1, 0)
    return (
        header_bytes + nbytes + rows * (_width(item) + 5) + gaps,
        header_newlines + newlines + gaps,
    )
