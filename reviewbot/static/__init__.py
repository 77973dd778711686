"""Deterministic checks on tree-sitter syntax trees, run where the change touches code.

``analyze`` dispatches by language to the rule modules; each rule reports
:class:`StaticHit` only on changed lines (the caller passes them). The rule catalogue is
:data:`reviewbot.static.rules.RULES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from reviewbot.context.extract import SourceFile
from reviewbot.context.languages import grammar
from reviewbot.static.base import StaticHit

Analyzer = Callable[[SourceFile, frozenset[int]], list[StaticHit]]


def _analyzers() -> dict[str, Analyzer]:
    from reviewbot.static import javascript, python

    return {
        "python": python.analyze,
        "javascript": javascript.analyze,
        "typescript": javascript.analyze,
        "tsx": javascript.analyze,
    }


def preload(languages: Iterable[str] = ()) -> None:
    """Import the rule modules (and load the grammars of ``languages``) now. A process
    about to fork calls this, so its children inherit them instead of each importing them
    again (some 0.15 s of CPU apiece)."""
    _analyzers()
    for name in languages:
        grammar(name)


def analyze(
    src: SourceFile, changed: frozenset[int], disabled: frozenset[str] = frozenset()
) -> list[StaticHit]:
    """Hits on ``changed`` lines (1-based new-file numbers) of ``src``."""
    if not changed:
        return []
    fn: Analyzer | None
    if src.language is None:
        from reviewbot.static import templates

        fn = templates.analyze if templates.is_template(src.path) else None
    else:
        fn = _analyzers().get(src.language) if src.tree is not None else None
    if fn is None:
        return []
    hits = fn(src, changed)
    return [h for h in hits if h.rule_id not in disabled and touches(h, changed)]


def touches(hit: StaticHit, changed: frozenset[int]) -> bool:
    return any(n in changed for n in range(hit.line, hit.end_line + 1))


__all__ = ["StaticHit", "analyze", "preload", "touches"]
