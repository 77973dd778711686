"""Scoring: which changes were caught, which fixes were flagged, per label and overall.

For every case:

- **hit**: reviewing the change that introduces the vulnerability produced a security
  finding whose lines touch one of the labelled vulnerable lines;
- **false positive**: reviewing the change that fixes it produced a security finding whose
  lines touch one of the lines the fix added.

recall = hits / cases, false-positive rate = false positives / cases, and precision =
hits / (hits + false positives): of the labelled changes reviewbot raised a security finding
on, the share that really introduced the vulnerability.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reviewbot.evaluation.dataset import EvalCase
from reviewbot.findings import Category, Finding


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    case: EvalCase
    hit_by: tuple[str, ...]
    """Sources (rule ids or model:<name>) of security findings on vulnerable lines."""
    flagged_fix_by: tuple[str, ...]
    """Sources of security findings on fix lines."""
    findings_introduce: int = 0
    """Security findings anywhere in the introducing change."""
    findings_fix: int = 0
    errors: tuple[str, ...] = ()
    categories: tuple[tuple[str, int, int], ...] = ()
    """(category, findings in the introducing change, findings in the fixing change)."""
    """Model errors or skipped files noted by the engine."""

    @property
    def hit(self) -> bool:
        return bool(self.hit_by)

    @property
    def false_positive(self) -> bool:
        return bool(self.flagged_fix_by)


def _touching(findings: Iterable[Finding], path: str, lines: frozenset[int]) -> tuple[str, ...]:
    out = {
        f.source
        for f in findings
        if f.category is Category.SECURITY
        and f.path == path
        and any(n in lines for n in range(f.line, f.end_line + 1))
    }
    return tuple(sorted(out))


def score_case(
    case: EvalCase, introduce: Sequence[Finding], fix: Sequence[Finding], errors: Sequence[str] = ()
) -> CaseOutcome:
    def security(fs: Sequence[Finding]) -> int:
        return sum(1 for f in fs if f.category is Category.SECURITY)

    cats = tuple(
        (c.value, sum(f.category is c for f in introduce), sum(f.category is c for f in fix))
        for c in Category
    )
    return CaseOutcome(
        case,
        _touching(introduce, case.path, case.vulnerable_lines),
        _touching(fix, case.path, case.fix_lines),
        security(introduce),
        security(fix),
        tuple(errors),
        cats,
    )


@dataclass(slots=True)
class Tally:
    cases: int = 0
    hits: int = 0
    false_positives: int = 0

    def add(self, o: CaseOutcome) -> None:
        self.cases += 1
        self.hits += o.hit
        self.false_positives += o.false_positive

    @property
    def recall(self) -> float:
        return self.hits / self.cases if self.cases else 0.0

    @property
    def fp_rate(self) -> float:
        return self.false_positives / self.cases if self.cases else 0.0

    @property
    def precision(self) -> float | None:
        flagged = self.hits + self.false_positives
        return self.hits / flagged if flagged else None

    def as_dict(self) -> dict[str, object]:
        p = self.precision
        return {
            "cases": self.cases,
            "hits": self.hits,
            "false_positives": self.false_positives,
            "recall": round(self.recall, 4),
            "fp_rate": round(self.fp_rate, 4),
            "precision": None if p is None else round(p, 4),
        }


@dataclass(slots=True)
class Report:
    outcomes: list[CaseOutcome]
    overall: Tally = field(default_factory=Tally)
    by_label: dict[str, Tally] = field(default_factory=dict)
    by_source: dict[str, tuple[int, int]] = field(default_factory=dict)
    """source -> (cases it hit, fixes it flagged)."""
    by_category: dict[str, tuple[int, int]] = field(default_factory=dict)
    """finding category -> (findings in introducing changes, findings in fixing changes)."""

    @classmethod
    def of(cls, outcomes: Sequence[CaseOutcome]) -> Report:
        r = cls(list(outcomes))
        sources: dict[str, list[int]] = {}
        for o in outcomes:
            r.overall.add(o)
            r.by_label.setdefault(o.case.label, Tally()).add(o)
            for s in o.hit_by:
                sources.setdefault(s, [0, 0])[0] += 1
            for s in o.flagged_fix_by:
                sources.setdefault(s, [0, 0])[1] += 1
            for cat, n_intro, n_fix in o.categories:
                got = r.by_category.get(cat, (0, 0))
                r.by_category[cat] = (got[0] + n_intro, got[1] + n_fix)
        r.by_label = dict(sorted(r.by_label.items()))
        r.by_source = {k: (v[0], v[1]) for k, v in sorted(sources.items())}
        r.by_category = {k: v for k, v in r.by_category.items() if v != (0, 0)}
        return r
