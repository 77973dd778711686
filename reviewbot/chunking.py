"""Pack hunks, with their code context, into chunks under a token budget.

Invariants (property-tested): every changed line of a reviewable file is in exactly one
chunk or listed in the coverage record; no chunk's rendered text exceeds the budget; a hunk
is split only when it alone, without context, exceeds the budget. Neighbouring hunks whose
context would overlap share one item, so no source line is sent twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reviewbot.chunk_item import ChunkItem, LineSizes, added_rows
from reviewbot.context.extract import CodeContext, Definition, SourceFile, context_for
from reviewbot.coverage import Skipped
from reviewbot.diff.model import DiffLine, LineKind
from reviewbot.token_estimate import estimate_tokens, tokens_for_size

TokenCounter = Callable[[str], int]
TOO_LONG = "line too long for the token budget"
# re-exported: callers take items from here and count the way chunks are packed
__all__ = ["ChunkItem", "estimate_tokens"]


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    items: tuple[ChunkItem, ...]
    tokens: int

    def render(self) -> str:
        return "\n\n".join(item.text for item in self.items)

    def anchorable(self) -> dict[str, frozenset[int]]:
        out: dict[str, set[int]] = {}
        for item in self.items:
            out.setdefault(item.path, set()).update(item.right_lines())
        return {k: frozenset(v) for k, v in out.items()}


@dataclass(frozen=True, slots=True)
class FileWork:
    """A reviewable file: its diff hunks and (when available) its head source."""

    path: str
    hunks: Sequence[Sequence[DiffLine]]
    source: SourceFile | None
    language: str | None
    show_source: bool = True
    """False when ``source`` was pieced together from the diff: its lines outside the hunks
    are unknown, so only definitions are taken from it, never context lines."""
    sizes: LineSizes = field(init=False, compare=False, repr=False)
    """The line sizes its items share (measured only when the static count asks)."""

    def __post_init__(self) -> None:
        shown = self.source if self.show_source else None
        object.__setattr__(self, "sizes", LineSizes(shown, self.hunks))


def _span(lines: Sequence[DiffLine], hunk: Sequence[DiffLine] = ()) -> tuple[int, int]:
    """New-file lines ``lines`` cover. Lines that are all removed have none: a piece of a
    split hunk then takes the new-file line where it sits in ``hunk``."""
    news = [ln.new_lineno for ln in lines if ln.new_lineno is not None]
    if news:
        return min(news), max(news)
    if lines and hunk:
        return (_new_position(lines[0], hunk),) * 2
    olds = [ln.old_lineno for ln in lines if ln.old_lineno is not None]
    start = max(1, min(olds)) if olds else 1
    return start, start


def _new_position(first: DiffLine, hunk: Sequence[DiffLine]) -> int:
    """The new-file line next to ``first`` (a removed line of ``hunk``): the last line
    before it that the new file has, else the first one after it."""
    at = next(i for i, ln in enumerate(hunk) if ln is first)
    before = (ln.new_lineno for ln in reversed(hunk[:at]) if ln.new_lineno is not None)
    after = (ln.new_lineno for ln in hunk[at:] if ln.new_lineno is not None)
    return next(before, None) or next(after, None) or max(1, first.old_lineno or 1)


def hunk_spans(hunks: Sequence[Sequence[DiffLine]]) -> list[tuple[int, int]]:
    """The line span each hunk's item asks :meth:`SourceFile.definitions_at` about."""
    return [_span(h) for h in hunks]


def _make_item(
    fw: FileWork,
    index: int,
    lines: Sequence[DiffLine],
    window: int,
    max_lines: int,
    hunk: Sequence[DiffLine] = (),
    hunk_added: frozenset[int] | None = None,
) -> ChunkItem:
    """The item for ``lines``: a whole hunk, or (``hunk`` given) one piece of it."""
    start, end = _span(lines, hunk)
    ctx = context_for(fw.source, start, end, window=window, max_lines=max_lines)
    src = (
        tuple(fw.source.lines[ctx.start_line - 1 : ctx.end_line])
        if fw.source is not None and fw.show_source
        else ()
    )
    if not src:
        ctx = CodeContext(start, end, ctx.definitions, False)
    return ChunkItem(
        fw.path,
        fw.language,
        index,
        tuple(lines),
        ctx,
        src,
        hunk=tuple(hunk),
        hunk_added=hunk_added if hunk else None,
        sizes=fw.sizes,
    )


def _bare(item: ChunkItem) -> ChunkItem:
    """The item without surrounding context lines (only the diff lines)."""
    start, end = _span(item.lines, item.hunk)
    ctx = CodeContext(start, end, item.context.definitions, False)
    return ChunkItem(
        item.path,
        item.language,
        item.hunk_index,
        item.lines,
        ctx,
        (),
        item.segments,
        item.hunk,
        item.hunk_added,
        item.sizes,
    )


def _joined(fw: FileWork, group: Sequence[ChunkItem]) -> ChunkItem:
    """One item for consecutive whole hunks (their context ranges overlap or touch)."""
    assert fw.source is not None
    start = min(i.context.start_line for i in group)
    end = max(i.context.end_line for i in group)
    keys = [{(d.kind, d.start_line, d.end_line) for d in i.context.definitions} for i in group]
    common: tuple[Definition, ...] = tuple(
        d
        for d in group[0].context.definitions
        if all((d.kind, d.start_line, d.end_line) in k for k in keys[1:])
    )
    whole = bool(common) and (common[0].start_line, common[0].end_line) == (start, end)
    lines = tuple(ln for i in group for ln in i.lines)
    return ChunkItem(
        fw.path,
        fw.language,
        group[0].hunk_index,
        lines,
        CodeContext(start, end, common, whole),
        tuple(fw.source.lines[start - 1 : end]),
        tuple(len(i.lines) for i in group),
        sizes=fw.sizes,
    )


def _cost(item: ChunkItem, count: TokenCounter) -> int:
    """``count(item.text)``; for :func:`estimate_tokens`, from the item's size alone (the
    static backend then never renders an item)."""
    return tokens_for_size(*item.size()) if count is estimate_tokens else count(item.text)


def _joined_cost(items: Sequence[ChunkItem], count: TokenCounter) -> int:
    """``count`` of the items' texts joined by blank lines, as :meth:`Chunk.render` does."""
    if count is not estimate_tokens:
        return count("\n\n".join(item.text for item in items))
    sizes = [item.size() for item in items]
    gaps = 2 * max(len(items) - 1, 0)
    return tokens_for_size(sum(b for b, _ in sizes) + gaps, sum(n for _, n in sizes) + gaps)


def _join_runs(
    fw: FileWork, run: list[tuple[ChunkItem, int]], budget: int, count: TokenCounter
) -> list[tuple[ChunkItem, int]]:
    """Join a run of overlapping whole items into as few items as fit (halving on failure)."""
    if len(run) <= 1:
        return list(run)
    joined = _joined(fw, [i for i, _ in run])
    cost = _cost(joined, count)
    if cost <= budget:
        return [(joined, cost)]
    mid = len(run) // 2
    return _join_runs(fw, run[:mid], budget, count) + _join_runs(fw, run[mid:], budget, count)


def _hunk_items(
    fw: FileWork,
    hi: int,
    hunk: Sequence[DiffLine],
    budget: int,
    count: TokenCounter,
    window: int,
    max_lines: int,
    skipped: list[Skipped],
) -> tuple[list[tuple[ChunkItem, int]], bool]:
    """Items for one hunk, and whether it stayed whole with its context."""
    out: list[tuple[ChunkItem, int]] = []
    pending: list[Sequence[DiffLine]] = [hunk]
    added: frozenset[int] | None = None
    while pending:
        lines = pending.pop()
        piece_of = hunk if len(lines) < len(hunk) else ()
        if piece_of and added is None:
            added = added_rows(hunk)
        item = _make_item(fw, hi, lines, window, max_lines, piece_of, added)
        cost = _cost(item, count)
        if cost <= budget:
            out.append((item, cost))
            continue
        bare = _bare(item)
        bare_cost = _cost(bare, count)
        if bare_cost <= budget:
            out.append((bare, bare_cost))
            continue
        if len(lines) > 1:
            mid = len(lines) // 2
            pending += [lines[mid:], lines[:mid]]  # a stack: the first half next
            continue
        changed = sum(1 for ln in lines if ln.kind is not LineKind.CONTEXT)
        if changed:
            where = lines[0].new_lineno or lines[0].old_lineno
            skipped.append(Skipped(fw.path, TOO_LONG, changed, f"line {where}"))
    whole = (
        len(out) == 1
        and out[0][0].lines == tuple(hunk)
        and (bool(out[0][0].source_lines) or fw.source is None or not fw.show_source)
    )
    return out, whole


def build_items(
    files: Sequence[FileWork],
    budget: int,
    count: TokenCounter,
    *,
    window: int = 20,
    max_lines: int = 120,
) -> tuple[list[tuple[ChunkItem, int]], list[Skipped]]:
    """Items (with their token cost) that each fit ``budget``; hunks too large are split,
    consecutive whole hunks whose context overlaps are joined while the result fits."""
    items: list[tuple[ChunkItem, int]] = []
    skipped: list[Skipped] = []
    for fw in files:
        items.extend(_file_items(fw, budget, count, window, max_lines, skipped))
    return items, skipped


def _file_items(
    fw: FileWork,
    budget: int,
    count: TokenCounter,
    window: int,
    max_lines: int,
    skipped: list[Skipped],
) -> list[tuple[ChunkItem, int]]:
    can_join = fw.source is not None and fw.show_source
    out: list[tuple[ChunkItem, int]] = []
    run: list[tuple[ChunkItem, int]] = []  # consecutive whole items, contexts overlapping
    run_end = 0  # last context line of the run
    for hi, hunk in enumerate(fw.hunks):
        hunk_items, whole = _hunk_items(fw, hi, hunk, budget, count, window, max_lines, skipped)
        item = hunk_items[0][0] if hunk_items else None
        if item is None or not (can_join and whole and item.source_lines):
            out.extend(_join_runs(fw, run, budget, count) + hunk_items)
            run = []
            continue
        if run and item.context.start_line > run_end + 1:
            out.extend(_join_runs(fw, run, budget, count))
            run = []
        run.append(hunk_items[0])
        run_end = max(run_end, item.context.end_line) if len(run) > 1 else item.context.end_line
    out.extend(_join_runs(fw, run, budget, count))
    return out


def pack(
    items: Sequence[tuple[ChunkItem, int]],
    budget: int,
    count: TokenCounter,
    separator_cost: int = 4,
) -> list[Chunk]:
    """First-fit in diff order (keeps a file's hunks together, chunks near the budget), then
    each chunk's rendered text is counted; one over the budget is split in two."""
    groups: list[list[tuple[ChunkItem, int]]] = []
    current: list[tuple[ChunkItem, int]] = []
    used = 0
    for item, cost in items:
        extra = cost + (separator_cost if current else 0)
        if current and used + extra > budget:
            groups.append(current)
            current, used, extra = [], 0, cost
        current.append((item, cost))
        used += extra
    if current:
        groups.append(current)
    chunks: list[Chunk] = []
    groups.reverse()  # a stack, the next group last: popping the front would be quadratic
    while groups:
        group = groups.pop()
        chunk_items = tuple(i for i, _ in group)
        tokens = _joined_cost(chunk_items, count)
        if tokens > budget and len(group) > 1:
            mid = len(group) // 2
            groups += [group[mid:], group[:mid]]
            continue
        chunks.append(Chunk(len(chunks), chunk_items, tokens))
    return chunks
