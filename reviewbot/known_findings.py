"""The "already reported" section of a review prompt: the static and imported findings on a
chunk's lines, so the model does not spend its answer repeating them.

The section is appended to the chunk's code only while the prompt stays within the chunk's
token budget (rows are dropped from the end until it fits), so it never pushes a prompt past
the limits the chunker guaranteed. Titles and rule ids come from the change (a linter quotes
the code), so the rows are fenced and neutralised like the code itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from reviewbot.chunking import Chunk, TokenCounter
from reviewbot.findings import Finding, Side
from reviewbot.prompts_render import fenced

MAX_ROWS = 20
"""Known findings listed per chunk at most."""
ROW_TITLE_CHARS = 120


def known_rows(chunk: Chunk, findings: Sequence[Finding]) -> list[str]:
    """One line per finding on lines the chunk shows (new-file numbering), in file order."""
    lines = chunk.anchorable()
    rows: list[str] = []
    for f in sorted(findings, key=lambda f: (f.path, f.line, f.end_line, f.source)):
        shown = lines.get(f.path)
        if f.side is not Side.RIGHT or not shown or f.source.startswith("model:"):
            continue
        if not any(n in shown for n in range(f.line, f.end_line + 1)):
            continue
        where = f"{f.line}" if f.line == f.end_line else f"{f.line}-{f.end_line}"
        title = f.title if len(f.title) <= ROW_TITLE_CHARS else f.title[:ROW_TITLE_CHARS]
        rows.append(f"{f.path}:{where} [{f.rule_id or f.source}] {f.category.value}: {title}")
        if len(rows) == MAX_ROWS:
            break
    return rows


def known_section(
    chunk: Chunk, findings: Sequence[Finding], budget: int, count: TokenCounter
) -> str:
    """The section to append to ``chunk``'s code ("" when none fits or none applies)."""
    rows = known_rows(chunk, findings)
    while rows:
        text = fenced("known_findings.txt", {"known": "\n".join(rows)})
        if chunk.tokens + count(text) <= budget:
            return text
        rows.pop()
    return ""
