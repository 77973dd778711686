"""What a review produces: findings, test suggestions, coverage and timings."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from reviewbot.coverage import Coverage
from reviewbot.diff.model import Diff
from reviewbot.findings import Finding

STRONG_ISOLATION = "namespaces"
"""How ``TestSuggestion.isolation`` starts when the sandbox had Linux namespaces; anything
else is the weaker mode (rlimits and a scrubbed environment only)."""


class CheckLevel(IntEnum):
    """How far a suggested test got through the checks (higher is better)."""

    UNCHECKED = 0
    PARSED = 1
    """Parses, imports only allowed modules, targets a function that exists."""
    COLLECTED = 2
    """``pytest --collect-only`` collects it against the head version."""
    RAN = 3
    """It was run (see ``outcome`` for pass/fail)."""


@dataclass(frozen=True, slots=True)
class TestSuggestion:
    __test__ = False  # not a pytest test class

    path: str
    """Suggested test file path, e.g. tests/test_cart.py."""
    target: str
    """Qualified name of the function under test, e.g. cart.Cart.total."""
    code: str
    level: CheckLevel
    outcome: str
    """collected | passes | fails | rejected | skeleton ... (human-readable)."""
    source: str
    """'skeleton' or 'model:<name>'."""
    reason: str = ""
    """Why it stopped at ``level`` (empty when it went all the way)."""
    source_path: str = ""
    """The changed file the target lives in."""
    line: int | None = None
    """Line of the target's definition in the new file."""
    static_only: bool = False
    """Checked without executing anything (untrusted code): level 1 is the top level."""
    isolation: str = ""
    """How the sandbox that collected or ran it was isolated (e.g. "namespaces
    (user+pid+net+mount); at most 64 processes"); empty when it never reached the sandbox."""

    @property
    def shown(self) -> bool:
        """Only checked suggestions are shown as good: collected by pytest, or, where nothing
        may be executed, passed every static check."""
        top = CheckLevel.PARSED if self.static_only else CheckLevel.COLLECTED
        return self.level >= top and self.outcome != "rejected"


@dataclass(frozen=True, slots=True)
class SuggestOutcome:
    """What the test-suggestion stage returns: the suggestions, and a line per model request
    that failed (they also go into the coverage notes and on stderr)."""

    tests: tuple[TestSuggestion, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewResult:
    findings: tuple[Finding, ...]
    """After filtering and dedupe, ordered by path and line."""
    coverage: Coverage
    diff: Diff
    tests: tuple[TestSuggestion, ...] = ()
    dropped: dict[str, int] = field(default_factory=dict)
    """Count of findings removed, by reason (off-chunk, filter mode, severity, duplicate)."""
    timings: dict[str, float] = field(default_factory=dict)
    backend: str = "static"
    model: str | None = None
    model_error: str | None = None
    """Set when the model could not be used and the review fell back to static checks."""
    label: str = ""
    head_sha: str | None = None
    stopped: str | None = None
    """Set when the review's time_budget ran out: what was left undone (also a note)."""
    problems: tuple[str, ...] = ()
    """Model requests that failed while others answered (some chunks, the test writer):
    each is also a coverage note; the local commands print each on stderr."""

    def dropped_summary(self) -> str:
        """One line naming every finding removed and why ("" when none was)."""
        if not self.dropped:
            return ""
        total = sum(self.dropped.values())
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items()))
        return f"{total} finding{'s' if total != 1 else ''} dropped: {reasons}"

    @property
    def test_isolation(self) -> str | None:
        """The weakest sandbox isolation any suggested test was executed under; None when
        none was executed."""
        used = sorted({t.isolation for t in self.tests if t.isolation})
        weak = [u for u in used if not u.startswith(STRONG_ISOLATION)]
        return (weak or used)[0] if used else None

    @property
    def weak_test_isolation(self) -> bool:
        """Suggested tests ran without namespace isolation (callers say so on stderr)."""
        iso = self.test_isolation
        return iso is not None and not iso.startswith(STRONG_ISOLATION)
