"""Pack hunks, with their code context, into chunks under a token budget.

Invariants (property-tested): every changed line of a reviewable file is in exactly one
chunk or listed in the coverage record; no chunk's rendered text exceeds the budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from reviewbot.context.extract import CodeContext, SourceFile, context_for
from reviewbot.coverage import Skipped
from reviewbot.diff.model import DiffLine, LineKind
from reviewbot.prompts_render import nonce_for, render

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """Conservative token estimate: one token per 3 UTF-8 bytes, plus one per line.

    Llama-family tokenizers average 3.5-4 bytes per token on source code, so this
    over-counts; used when the server has no /tokenize endpoint.
    """
    return len(text.encode("utf-8", "surrogateescape")) // 3 + text.count("\n") + 1


@dataclass(frozen=True, slots=True)
class ChunkItem:
    path: str
    language: str | None
    hunk_index: int
    lines: tuple[DiffLine, ...]
    """The diff lines of this hunk (or of one piece of a split hunk)."""
    context: CodeContext
    source_lines: tuple[str, ...]
    """New-file lines ``context.start_line..context.end_line`` (empty when unknown)."""
    text: str = field(init=False, compare=False, repr=False)
    """The rendered item (computed once, at construction)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", self._render())

    def changed_lines(self) -> int:
        return sum(1 for ln in self.lines if ln.kind is not LineKind.CONTEXT)

    def right_lines(self) -> frozenset[int]:
        """New-file line numbers a finding may be anchored to in this item."""
        return frozenset(ln.new_lineno for ln in self.lines
                         if ln.kind is not LineKind.REMOVED and ln.new_lineno is not None)

    def render(self) -> str:
        return self.text

    def _render(self) -> str:
        code = "\n".join(_code_rows(self))
        symbol = f" in `{self.context.symbol}`" if self.context.symbol else ""
        return render("item.txt", nonce=nonce_for(code + self.path), path=self.path,
                      language=self.language or "text", symbol=symbol, code=code)


def _code_rows(item: ChunkItem) -> list[str]:
    """Changed code with new-file line numbers, between the context lines around it."""
    hunk_new = [ln.new_lineno for ln in item.lines if ln.new_lineno is not None]
    first = min(hunk_new) if hunk_new else None
    last = max(hunk_new) if hunk_new else None
    ctx = item.context
    width = len(str(max(ctx.end_line, last or 0)))
    src = item.source_lines
    start = ctx.start_line
    rows: list[str] = []
    if src and first is not None:
        rows.extend(f"  {n:>{width}} | {src[n - start]}"
                    for n in range(start, min(first, start + len(src))))
    blank = " " * width
    for ln in item.lines:
        if ln.kind is LineKind.REMOVED:
            rows.append(f"- {blank} | {ln.text}")
        else:
            mark = "+" if ln.kind is LineKind.ADDED else " "
            rows.append(f"{mark} {ln.new_lineno:>{width}} | {ln.text}")
    if src and last is not None:
        rows.extend(f"  {n:>{width}} | {src[n - start]}"
                    for n in range(max(last + 1, start), min(ctx.end_line + 1, start + len(src))))
    return rows


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    items: tuple[ChunkItem, ...]
    tokens: int

    def render(self) -> str:
        return "\n\n".join(item.render() for item in self.items)

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


def _make_item(fw: FileWork, index: int, lines: Sequence[DiffLine], window: int,
               max_lines: int) -> ChunkItem:
    news = [ln.new_lineno for ln in lines if ln.new_lineno is not None]
    olds = [ln.old_lineno for ln in lines if ln.old_lineno is not None]
    start = min(news) if news else max(1, min(olds) if olds else 1)
    end = max(news) if news else start
    ctx = context_for(fw.source, start, end, window=window, max_lines=max_lines)
    src = tuple(fw.source.lines[ctx.start_line - 1 : ctx.end_line]) if fw.source else ()
    return ChunkItem(fw.path, fw.language, index, tuple(lines), ctx, src)


def _bare(item: ChunkItem) -> ChunkItem:
    """The item without surrounding context lines (only the diff lines)."""
    news = [ln.new_lineno for ln in item.lines if ln.new_lineno is not None] or [1]
    ctx = CodeContext(min(news), max(news), item.context.definitions, False)
    return ChunkItem(item.path, item.language, item.hunk_index, item.lines, ctx, ())


def build_items(
    files: Sequence[FileWork],
    budget: int,
    count: TokenCounter,
    *,
    window: int = 20,
    max_lines: int = 120,
) -> tuple[list[tuple[ChunkItem, int]], list[Skipped]]:
    """Items (with their token cost) that each fit ``budget``; hunks too large are split."""
    items: list[tuple[ChunkItem, int]] = []
    skipped: list[Skipped] = []
    for fw in files:
        for hi, hunk in enumerate(fw.hunks):
            pending: list[Sequence[DiffLine]] = [hunk]
            while pending:
                lines = pending.pop(0)
                item = _make_item(fw, hi, lines, window, max_lines)
                cost = count(item.render())
                if cost > budget:
                    bare = _bare(item)
                    bare_cost = count(bare.render())
                    if bare_cost <= budget:
                        items.append((bare, bare_cost))
                        continue
                    if len(lines) > 1:
                        mid = len(lines) // 2
                        pending[:0] = [lines[:mid], lines[mid:]]
                        continue
                    changed = sum(1 for ln in lines if ln.kind is not LineKind.CONTEXT)
                    if changed:
                        ln = lines[0]
                        where = ln.new_lineno or ln.old_lineno
                        skipped.append(Skipped(fw.path, "line too long for the token budget",
                                               changed, f"line {where}"))
                    continue
                items.append((item, cost))
    return items, skipped


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
    while groups:
        group = groups.pop(0)
        chunk_items = tuple(i for i, _ in group)
        text = "\n\n".join(i.text for i in chunk_items)
        tokens = count(text)
        if tokens > budget and len(group) > 1:
            mid = len(group) // 2
            groups[:0] = [group[:mid], group[mid:]]
            continue
        chunks.append(Chunk(len(chunks), chunk_items, tokens))
    return chunks
