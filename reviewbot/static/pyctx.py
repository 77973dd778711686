"""What a Python rule sees: the file, the changed lines, and where to anchor a finding.

Anchoring policy (the "change touches code" rule): a data-flow finding is reported at the
sink, or at the expression that builds the dangerous string, when the change touches it.
When it does not, the finding is reported at the first changed assignment that carries the
unsanitised value into the sink (for example a change that drops ``escape()`` from
``content = escape(await self.content)`` while ``return markdown(content)`` stays as it
was). Nothing is reported when the change touches neither.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewbot.context.extract import SourceFile
from reviewbot.static.pynodes import end_line, function_definitions, line
from reviewbot.static.taint import Level, Scope, Sink

if TYPE_CHECKING:
    from tree_sitter import Node


@dataclass(frozen=True, slots=True)
class Anchor:
    line: int
    end: int
    note: str
    """Empty at the sink; else says where the value goes, e.g. " (reaches os.system at line 9)"."""


@dataclass(slots=True)
class Ctx:
    src: SourceFile
    changed: frozenset[int]
    module: Scope
    _sorted: list[int] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    """File-wide facts a rule computes once (e.g. the names of async defs)."""

    def __post_init__(self) -> None:
        self._sorted = sorted(self.changed)

    def functions(self) -> list[Node]:
        """Every function definition of the file, in document order (computed once)."""
        found: list[Node] | None = self.cache.get("functions")
        if found is None:
            tree = self.src.tree
            found = self.cache["functions"] = (
                function_definitions(tree.root_node) if tree is not None else []
            )
        return found

    def touched_functions(self) -> list[Node]:
        """The function definitions whose lines include a changed line, in document order.

        A ranged query per run of changed lines (widened by a line each way, then checked
        with :meth:`touched`) instead of visiting every function of the file."""
        tree = self.src.tree
        if tree is None or not self._sorted:
            return []
        rows: list[tuple[int, int]] = []
        for ln in self._sorted:
            if rows and ln - 1 <= rows[-1][1]:
                rows[-1] = (rows[-1][0], ln + 1)
            else:
                rows.append((max(ln - 2, 0), ln + 1))
        return [fn for fn in function_definitions(tree.root_node, rows) if self.touched(fn)]

    def touched(self, node: Node) -> bool:
        srt = self._sorted
        i = bisect_left(srt, node.start_point[0] + 1)
        return i < len(srt) and srt[i] <= node.end_point[0] + 1

    def touched_lines(self, lo: int, hi: int) -> bool:
        i = bisect_left(self._sorted, lo)
        return i < len(self._sorted) and self._sorted[i] <= hi

    def anchor(
        self,
        sink_node: Node,
        scope: Scope,
        carriers: list[Node],
        sink: Sink,
        threshold: Level,
        what: str,
        span: tuple[int, int] | None = None,
    ) -> Anchor | None:
        """Where to report a flow into ``sink_node`` (see the module docstring).

        ``span`` narrows a long sink (a 100-line HTML template) to the lines that matter
        when the change touches them."""
        if span is not None and self.touched_lines(*span):
            return Anchor(span[0], span[1], "")
        if self.touched(sink_node):
            return Anchor(line(sink_node), end_line(sink_node), "")
        for expr in carriers:
            for stmt in scope.defs_carrying(expr, sink, threshold):
                if self.touched(stmt):
                    return Anchor(
                        line(stmt),
                        end_line(stmt),
                        f" (the value reaches {what} at line {line(sink_node)})",
                    )
        return None
