"""The plan step of :func:`reviewbot.github.pipeline.run_pipeline`: every write decided
(:func:`reviewbot.github.plan.make_plan`), the check run's verdict and the summary's facts,
before any write is made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.config import Config
from reviewbot.findings import Finding, Severity
from reviewbot.github.plan import ExistingComment, Plan, make_plan
from reviewbot.github.read_step import Reading
from reviewbot.github.summary import SummaryFacts, carried_lines
from reviewbot.result import ReviewResult


@dataclass(frozen=True, slots=True)
class Decision:
    """Every write decided before any is made (:func:`reviewbot.github.plan.make_plan`)."""

    plan: Plan
    failed: bool
    by_severity: dict[str, int]
    by_category: dict[str, int]
    facts: SummaryFacts


def decide(reading: Reading, result: ReviewResult) -> Decision:
    scope, state = reading.scope, reading.state
    plan = make_plan(
        result.findings,
        result.diff,
        state.comments,
        cap=reading.config.max_comments,
        reviewed_paths=scope.paths,
    )
    failed = _failed(reading.config, result.findings, plan.kept_earlier)
    sev, cat = _counts(result.findings)
    facts = SummaryFacts(
        reading.data.head_sha,
        posted=len(plan.inline),
        already=len(plan.existing),
        deleted=len(plan.stale),
        kept_earlier=len(plan.kept_earlier),
        incremental_since=scope.since,
        reviewed_files=len(result.diff.files),
        carried=carried_lines(state.summaries[0].body, scope.paths)
        if scope.since and state.summaries
        else (),
    )
    return Decision(plan, failed, sev, cat, facts)


def _counts(findings: Sequence[Finding]) -> tuple[dict[str, int], dict[str, int]]:
    sev: dict[str, int] = {}
    cat: dict[str, int] = {}
    for f in findings:
        sev[f.severity.value] = sev.get(f.severity.value, 0) + 1
        cat[f.category.value] = cat.get(f.category.value, 0) + 1
    return sev, cat


def _failed(config: Config, findings: Sequence[Finding], kept: Sequence[ExistingComment]) -> bool:
    """The check run fails on this run's findings and on earlier comments still standing."""
    known = {s.value: s for s in Severity}
    return config.fail_on.fails(
        [f.severity for f in findings] + [known[c.severity] for c in kept if c.severity in known]
    )
